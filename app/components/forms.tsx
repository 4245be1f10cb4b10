import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";
import type { z } from "zod";

export type FieldErrors = Record<string, string[] | undefined>;

/**
 * FormData → plain object. Names like `grants[0].role` build arrays of objects, so one zod
 * schema parses the same form in the browser and on the server.
 */
export function formToObject(formData: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of formData.entries()) {
    if (typeof value !== "string") continue;
    const path = name.split(/[.[\]]+/).filter(Boolean);
    let node: Record<string, unknown> | unknown[] = out;
    path.forEach((key, i) => {
      const last = i === path.length - 1;
      const nextIsIndex = /^\d+$/.test(path[i + 1] ?? "");
      const container = node as Record<string, unknown>;
      // A repeated name (checkboxes, multi-selects) collects its values into an array.
      if (last) container[key] = key in container ? [container[key], value].flat() : value;
      else node = (container[key] ??= nextIsIndex ? [] : {}) as Record<string, unknown> | unknown[];
    });
  }
  return out;
}

export type ParsedForm<T> = { ok: true; data: T } | { ok: false; fieldErrors: FieldErrors };

export function parseForm<S extends z.ZodType>(schema: S, formData: FormData): ParsedForm<z.infer<S>> {
  // PostgreSQL text cannot hold NUL: name the field instead of failing in the database.
  const withNul = [...formData.entries()].filter(([, v]) => typeof v === "string" && v.includes("\u0000")).map(([k]) => k);
  if (withNul.length) return { ok: false, fieldErrors: Object.fromEntries(withNul.map((k) => [k.replace(/\[(\d+)\]/g, ".$1"), ["Contains a NUL character"]])) };
  const parsed = schema.safeParse(formToObject(formData));
  if (parsed.success) return { ok: true, data: parsed.data };
  const fieldErrors: FieldErrors = {};
  for (const issue of parsed.error.issues) (fieldErrors[issue.path.join(".") || "form"] ??= []).push(issue.message);
  return { ok: false, fieldErrors };
}

/**
 * Validates in the browser with the same schema the server uses, before submitting; the server's
 * errors (returned by the action) show in the same places.
 */
export function useSchemaForm<S extends z.ZodType>(schema: S, serverErrors: FieldErrors | undefined) {
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  const [submittedServerErrors, setSubmittedServerErrors] = useState(serverErrors);
  if (serverErrors !== submittedServerErrors) {
    setSubmittedServerErrors(serverErrors);
    setClientErrors(null);
  }
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    const result = parseForm(schema, new FormData(event.currentTarget));
    if (!result.ok) {
      event.preventDefault();
      setClientErrors(result.fieldErrors);
    } else {
      setClientErrors(null);
    }
  };
  return { onSubmit, errors: clientErrors ?? serverErrors ?? {} };
}

export function ErrorList({ id, errors }: { id: string; errors: string[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <ul id={id} className="field-error" role="list">
      {errors.map((e) => (
        <li key={e}>{e}</li>
      ))}
    </ul>
  );
}

export function Field({
  label,
  name,
  errors,
  hint,
  ...input
}: { label: ReactNode; name: string; errors?: string[]; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const id = input.id ?? `field-${name.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint ? <span className="muted">{hint}</span> : null}
      <input id={id} name={name} aria-invalid={errors?.length ? true : undefined} aria-describedby={errors?.length ? errorId : undefined} {...input} />
      <ErrorList id={errorId} errors={errors} />
    </div>
  );
}

export function FormError({ errors }: { errors: string[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <div className="form-error" role="alert">
      {errors.join(" ")}
    </div>
  );
}
