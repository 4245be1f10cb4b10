import { useState } from "react";
import { Form, useNavigation } from "@remix-run/react";
import type { ProposalContext } from "~/domain/format-choice";
import type { ChangeRequestContent } from "~/schemas/change-request";
import { CHANGE_ROWS, changeRequestFormSchema, TASK_ROWS } from "~/schemas/change-request-form";
import { FormError, useSchemaForm, type FieldErrors } from "../forms";
import { ProposedChanges } from "./proposed-changes";
import { Deviations } from "./deviations";
import { Revalidation } from "./revalidation";
import type { ChangeRequestFormOptions, Kind } from "./shared";
import { WhatAndWhy } from "./what-and-why";

export type { ChangeRequestFormOptions } from "./shared";

const TOP_FIELDS = [
  "title",
  "justification",
  "riskAssessment",
  "legacyDataPlan",
  "legacyDataNotes",
  "proposedEffectiveFrom",
  "revalidationRequired",
  "revalidationTasks",
  "changes",
  "resolvesDisagreements",
  "deviations",
  "form",
];

/** Errors the form has no place for (an unexpected key) are shown at its top rather than lost. */
function unplacedErrors(errors: FieldErrors): string[] {
  return Object.entries(errors).flatMap(([key, messages]) => {
    if (TOP_FIELDS.includes(key)) return [];
    if (/^resolvesDisagreements\.\d+$/.test(key)) return [];
    if (/^deviations\.\d+\.(material|site|reason|riskAssessmentRef|compensatingControls|expiresOn)$/.test(key)) return [];
    if (/^changes\.\d+(\.|$)/.test(key) || /^revalidationTasks\.\d+\.(description|evidenceUrl)$/.test(key)) return [];
    return messages ?? [];
  });
}

/**
 * The change-request form (new and edit), validated in the browser with the schema the action
 * parses with (app/schemas/change-request-form.ts).
 */
export function ChangeRequestForm({
  options,
  initial,
  serverErrors,
  submitLabel,
  rowVersion,
  contexts = [],
}: {
  options: ChangeRequestFormOptions;
  /** The content being edited; null for a new request. */
  initial: ChangeRequestContent | null;
  /** Per change row, the rule in force and look-alikes the server found as the form opened (tracking changes of a material). */
  contexts?: readonly (ProposalContext | null)[];
  serverErrors: FieldErrors | undefined;
  submitLabel: string;
  rowVersion?: number;
}) {
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(changeRequestFormSchema, serverErrors);
  const changeCount = Math.max(CHANGE_ROWS, initial?.changes.length ?? 0);
  const taskCount = Math.max(TASK_ROWS, initial?.revalidationTasks.length ?? 0);
  const [kinds, setKinds] = useState<Kind[]>(() => Array.from({ length: changeCount }, (_, i) => initial?.changes[i]?.kind ?? "tracking"));
  const top = [...(errors.form ?? []), ...unplacedErrors(errors)];
  return (
    <Form method="post" onSubmit={onSubmit} noValidate className="cr-form" aria-describedby={top.length ? "cr-form-error" : undefined}>
      <div id="cr-form-error">
        <FormError errors={top.length ? top : undefined} />
      </div>
      {rowVersion !== undefined ? <input type="hidden" name="rowVersion" value={rowVersion} /> : null}

      <WhatAndWhy initial={initial} errors={errors} />

      <Revalidation initial={initial} errors={errors} taskCount={taskCount} />

      <ProposedChanges
        options={options}
        initial={initial}
        errors={errors}
        changeCount={changeCount}
        kinds={kinds}
        contexts={contexts}
        onKind={(i, kind) => setKinds((all) => all.map((k, j) => (j === i ? kind : k)))}
      />

      <Deviations options={options} initial={initial} errors={errors} rowCount={Math.max(1, initial?.deviations?.length ?? 0)} />

      <button type="submit" disabled={navigation.state === "submitting"}>
        {submitLabel}
      </button>
    </Form>
  );
}
