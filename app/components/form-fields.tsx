import type { ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes, InputHTMLAttributes } from "react";
import { ErrorList } from "./forms";

/**
 * Form controls beyond forms.tsx's text Field, wired the same way: a label for every control, and
 * its hint and errors joined to it by aria-describedby so a screen reader reads them with it.
 */

function fieldId(name: string, id: string | undefined): string {
  return id ?? `field-${name.replace(/[^a-zA-Z0-9]+/g, "-")}`;
}

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  const list = ids.filter(Boolean);
  return list.length ? list.join(" ") : undefined;
}

export interface Option {
  value: string;
  label: string;
}

export function SelectInput({
  label,
  name,
  options,
  errors,
  hint,
  id,
  ...select
}: { label: ReactNode; name: string; options: readonly Option[]; errors?: string[]; hint?: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const inputId = fieldId(name, id);
  const hasErrors = Boolean(errors?.length);
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <select
        id={inputId}
        name={name}
        aria-invalid={hasErrors ? true : undefined}
        aria-describedby={describedBy(hint ? `${inputId}-hint` : undefined, hasErrors && `${inputId}-error`)}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint ? (
        <small id={`${inputId}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      <ErrorList id={`${inputId}-error`} errors={errors} />
    </div>
  );
}

export function TextAreaField({
  label,
  name,
  errors,
  hint,
  id,
  ...textarea
}: { label: ReactNode; name: string; errors?: string[]; hint?: ReactNode } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const inputId = fieldId(name, id);
  const hasErrors = Boolean(errors?.length);
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <textarea
        id={inputId}
        name={name}
        aria-invalid={hasErrors ? true : undefined}
        aria-describedby={describedBy(hint ? `${inputId}-hint` : undefined, hasErrors && `${inputId}-error`)}
        {...textarea}
      />
      {hint ? (
        <small id={`${inputId}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      <ErrorList id={`${inputId}-error`} errors={errors} />
    </div>
  );
}

export function CheckboxField({
  label,
  name,
  errors,
  id,
  ...input
}: { label: ReactNode; name: string; errors?: string[] } & Omit<InputHTMLAttributes<HTMLInputElement>, "type">) {
  const inputId = fieldId(name, id);
  const hasErrors = Boolean(errors?.length);
  return (
    <div className="field field-checkbox">
      <span className="checkbox-line">
        <input
          type="checkbox"
          id={inputId}
          name={name}
          aria-invalid={hasErrors ? true : undefined}
          aria-describedby={hasErrors ? `${inputId}-error` : undefined}
          {...input}
        />
        <label htmlFor={inputId}>{label}</label>
      </span>
      <ErrorList id={`${inputId}-error`} errors={errors} />
    </div>
  );
}

/** A notice after a change was made (Post/Redirect/Get), announced politely. */
export function StatusMessage({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="notice notice-good" role="status">
      {children}
    </p>
  );
}
