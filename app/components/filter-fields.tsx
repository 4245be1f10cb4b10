import type { ReactNode } from "react";

/** A labelled text (or date-and-time) input for a GET filter form. */
export function TextField({
  name,
  label,
  defaultValue,
  type = "search",
  hint,
  maxLength,
  step,
}: {
  name: string;
  label: string;
  defaultValue: string;
  type?: "search" | "text" | "datetime-local";
  hint?: ReactNode;
  maxLength?: number;
  step?: string;
}) {
  const id = `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} defaultValue={defaultValue} maxLength={maxLength} step={step} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** A labelled select whose first option ("" = any) clears the filter. */
export function SelectField({
  name,
  label,
  defaultValue,
  options,
  anyLabel = "Any",
  hint,
}: {
  name: string;
  label: string;
  defaultValue: string;
  options: readonly { value: string; label: string }[];
  anyLabel?: string;
  hint?: ReactNode;
}) {
  const id = `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={defaultValue} aria-describedby={hint ? `${id}-hint` : undefined}>
        <option value="">{anyLabel}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}
