import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";
import type { z } from "zod";
import { fieldErrorsFromIssues, type FieldErrors } from "../utils/field-errors";
import { displayName, formToObject, FormShapeError, unknownField } from "../utils/form-data";

export type { FieldErrors } from "../utils/field-errors";

export { formToObject } from "../utils/form-data";

export type ParsedForm<T> = { ok: true; data: T } | { ok: false; fieldErrors: FieldErrors };

/**
 * One form through one zod schema, in the browser and on the server. Field names that could reach
 * a prototype, that the schema does not know or that contradict each other are refused like any
 * other invalid field (the actions answer 400), before zod reads a value (ADR 016).
 */
export function parseForm<S extends z.ZodType>(schema: S, formData: FormData): ParsedForm<z.infer<S>> {
  const entries = [...formData.entries()];
  let input: Record<string, unknown>;
  try {
    input = formToObject(entries);
    const unknown = unknownField(
      schema,
      entries.map(([name]) => name),
    );
    if (unknown !== null)
      return { ok: false, fieldErrors: { form: [`The form has a field this page does not take: "${displayName(unknown)}". Reload the page and try again.`] } };
  } catch (error) {
    if (error instanceof FormShapeError) return { ok: false, fieldErrors: { form: [error.message] } };
    throw error;
  }
  // PostgreSQL text cannot hold NUL: name the field instead of failing in the database.
  const withNul = entries.filter(([, v]) => typeof v === "string" && v.includes("\u0000")).map(([k]) => k);
  if (withNul.length) return { ok: false, fieldErrors: Object.fromEntries(withNul.map((k) => [k.replace(/\[(\d+)\]/g, ".$1"), ["Contains a NUL character"]])) };
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, fieldErrors: fieldErrorsFromIssues(parsed.error.issues) };
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
    // biome-ignore lint/a11y/noRedundantRoles: list-style none makes Safari drop the list role
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
