import type { ChangeRequestContent } from "~/schemas/change-request";
import { SelectInput, TextAreaField } from "../form-fields";
import { ErrorList, Field, type FieldErrors } from "../forms";
import type { ChangeRequestFormOptions } from "./shared";

/**
 * Deviations from required traceability (ADR 036): one row per material and site this request leaves
 * below its requirement; empty rows are ignored. Part of the signed content; a regulatory reviewer's
 * approval attests them. Submit says which rows are needed (or not needed).
 */
export function Deviations({
  options,
  initial,
  errors,
  rowCount,
}: {
  options: ChangeRequestFormOptions;
  initial: ChangeRequestContent | null;
  errors: FieldErrors;
  rowCount: number;
}) {
  return (
    <section aria-labelledby="cr-deviations-heading" className="card form-card">
      <h2 id="cr-deviations-heading">Deviation from required traceability</h2>
      <p className="muted small">
        Only when a tracking change leaves a material at a site below its required traceability (the material page shows it). One row per material and site;
        empty rows are ignored. A regulatory reviewer approves it and attests the deviation.
      </p>
      <ErrorList id="cr-deviations-error" errors={errors.deviations} />
      {Array.from({ length: rowCount }, (_, i) => {
        const d = initial?.deviations?.[i];
        return (
          <fieldset className="grant-rows" key={i}>
            <legend>Deviation {i + 1}</legend>
            <div className="form-grid">
              <SelectInput
                label="Material below its requirement"
                name={`deviations[${i}].material`}
                id={`cr-deviation-${i}-material`}
                options={[{ value: "", label: "—" }, ...options.materials.map((m) => ({ value: m.partNumber, label: `${m.partNumber} — ${m.description}` }))]}
                defaultValue={d?.material ?? ""}
                errors={errors[`deviations.${i}.material`]}
              />
              <SelectInput
                label="At site"
                name={`deviations[${i}].site`}
                id={`cr-deviation-${i}-site`}
                options={[{ value: "", label: "—" }, ...options.sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))]}
                defaultValue={d?.site ?? ""}
                errors={errors[`deviations.${i}.site`]}
              />
              <Field
                label="Risk assessment reference"
                name={`deviations[${i}].riskAssessmentRef`}
                id={`cr-deviation-${i}-risk`}
                type="text"
                maxLength={200}
                placeholder="RA-2026-014"
                defaultValue={d?.riskAssessmentRef ?? ""}
                errors={errors[`deviations.${i}.riskAssessmentRef`]}
              />
              <Field
                label="Last day (temporary deviation)"
                name={`deviations[${i}].expiresOn`}
                id={`cr-deviation-${i}-expires`}
                type="date"
                defaultValue={d?.expiresOn ?? ""}
                errors={errors[`deviations.${i}.expiresOn`]}
                hint="Empty: until a later change request restores the requirement"
              />
            </div>
            <TextAreaField
              label="Reason"
              name={`deviations[${i}].reason`}
              id={`cr-deviation-${i}-reason`}
              rows={2}
              maxLength={5000}
              defaultValue={d?.reason ?? ""}
              errors={errors[`deviations.${i}.reason`]}
            />
            <TextAreaField
              label="Compensating controls"
              name={`deviations[${i}].compensatingControls`}
              id={`cr-deviation-${i}-controls`}
              rows={2}
              maxLength={5000}
              defaultValue={d?.compensatingControls ?? ""}
              errors={errors[`deviations.${i}.compensatingControls`]}
            />
          </fieldset>
        );
      })}
    </section>
  );
}
