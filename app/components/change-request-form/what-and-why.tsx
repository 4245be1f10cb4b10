import type { ChangeRequestContent } from "~/schemas/change-request";
import { LEGACY_DATA_PLAN_LABELS, LEGACY_DATA_PLANS } from "~/schemas/change-request";
import { TextAreaField } from "../form-fields";
import { ErrorList, Field, type FieldErrors } from "../forms";

function toLocalInput(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16) : "";
}

/** The request itself: title, justification, risk, legacy data, effective time, the disagreements it resolves. */
export function WhatAndWhy({ initial, errors }: { initial: ChangeRequestContent | null; errors: FieldErrors }) {
  return (
    <section aria-labelledby="cr-what-heading" className="card form-card">
      <h2 id="cr-what-heading">What and why</h2>
      <Field label="Title" name="title" id="cr-title" required minLength={5} maxLength={200} defaultValue={initial?.title ?? ""} errors={errors.title} />
      <TextAreaField
        label="Justification"
        name="justification"
        id="cr-justification"
        rows={3}
        required
        maxLength={10_000}
        defaultValue={initial?.justification ?? ""}
        errors={errors.justification}
        hint="Why the tracking must change (at least 10 characters)"
      />
      <TextAreaField
        label="Risk assessment"
        name="riskAssessment"
        id="cr-risk"
        rows={3}
        required
        maxLength={10_000}
        defaultValue={initial?.riskAssessment ?? ""}
        errors={errors.riskAssessment}
      />
      <fieldset className="radio-group" aria-describedby={errors.legacyDataPlan?.length ? "cr-legacy-error" : undefined}>
        <legend>Legacy-data plan</legend>
        <p className="muted small">What happens to lots and serials that already exist.</p>
        {LEGACY_DATA_PLANS.map((plan) => (
          <span className="checkbox-line" key={plan}>
            <input
              type="radio"
              name="legacyDataPlan"
              id={`cr-legacy-${plan}`}
              value={plan}
              defaultChecked={initial?.legacyDataPlan === plan}
              aria-invalid={errors.legacyDataPlan?.length ? true : undefined}
            />
            <label htmlFor={`cr-legacy-${plan}`}>{LEGACY_DATA_PLAN_LABELS[plan]}</label>
          </span>
        ))}
        <ErrorList id="cr-legacy-error" errors={errors.legacyDataPlan} />
      </fieldset>
      <TextAreaField
        label="Notes on legacy data"
        name="legacyDataNotes"
        id="cr-legacy-notes"
        rows={2}
        maxLength={5_000}
        defaultValue={initial?.legacyDataNotes ?? ""}
        errors={errors.legacyDataNotes}
      />
      <Field
        label="Proposed effective date and time (UTC)"
        name="proposedEffectiveFrom"
        id="cr-effective"
        type="datetime-local"
        defaultValue={toLocalInput(initial?.proposedEffectiveFrom)}
        errors={errors.proposedEffectiveFrom}
        hint="In UTC. Empty: when released."
      />
      <Field
        label="Disagreements it resolves"
        name="resolvesDisagreements"
        id="cr-resolves"
        type="text"
        maxLength={2000}
        autoCapitalize="characters"
        spellCheck={false}
        defaultValue={initial?.resolvesDisagreements?.join(", ") ?? ""}
        errors={Object.entries(errors).flatMap(([key, messages]) =>
          key === "resolvesDisagreements" || key.startsWith("resolvesDisagreements.") ? (messages ?? []) : [],
        )}
        hint="Keys from the reconciliation report (PART@SITE, e.g. ASM-1003@EIN), comma-separated; each must be one this request changes."
      />
    </section>
  );
}
