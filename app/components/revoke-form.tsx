import { Form, useNavigation } from "@remix-run/react";
import type { z } from "zod";
import { Field, FormError, useSchemaForm, type FieldErrors } from "./forms";

/**
 * A one-line form that revokes something named by hidden fields (a role grant, a runtime client),
 * with the reason the audit trail records. The errors of the hidden fields show at its top.
 */
export function RevokeForm<S extends z.ZodType>({
  schema,
  serverErrors,
  index,
  label,
  fields,
  buttonClassName,
}: {
  /** The intent's schema, the one the action parses (with `intent: "revoke"` and `reason`). */
  schema: S;
  serverErrors: FieldErrors | undefined;
  /** The row's index: keeps the reason inputs' ids apart. */
  index: number;
  /** What is revoked, as the form's name says it ("Revoke <label>"). */
  label: string;
  /** The hidden fields naming what is revoked, in order (after `intent`). */
  fields: readonly (readonly [name: string, value: string])[];
  buttonClassName: string;
}) {
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(schema, serverErrors);
  return (
    <Form method="post" onSubmit={onSubmit} noValidate className="inline-form" aria-label={`Revoke ${label}`}>
      <input type="hidden" name="intent" value="revoke" />
      {fields.map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <FormError errors={[...(errors.form ?? []), ...fields.flatMap(([name]) => errors[name] ?? [])]} />
      <Field
        label={<span className="visually-hidden">Reason for revoking {label}</span>}
        name="reason"
        id={`revoke-${index}-reason`}
        type="text"
        placeholder="Reason"
        maxLength={500}
        required
        errors={errors.reason}
      />
      <button type="submit" className={buttonClassName} disabled={navigation.state === "submitting"}>
        Revoke
      </button>
    </Form>
  );
}
