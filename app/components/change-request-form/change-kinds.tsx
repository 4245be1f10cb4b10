import { REGULATORY_FLAGS, RISK_CLASSES } from "~/domain/material";
import type { ChangeRequestContent } from "~/schemas/change-request";
import { CheckboxField, SelectInput, TextAreaField } from "../form-fields";
import { CONSUMPTION_SCANS, TRACKING_MODES } from "~/domain/tracking-rule";
import { ErrorList, Field } from "../forms";
import type { ChangeRequestFormOptions, Kind, KindErrors } from "./shared";

/*
 * The inputs of each kind of change on a change row. The other kinds' fields are disabled (not
 * submitted) and hidden, keeping what was typed.
 */

export interface KindProps {
  index: number;
  /** The row's selected kind. */
  kind: Kind;
  initial: ChangeRequestContent["changes"][number] | undefined;
  options: ChangeRequestFormOptions;
  e: KindErrors;
}

/** The regulatory-flags select: "" leaves them unchanged, "none" clears them, else a comma-separated set. */
const FLAG_CHOICES = [
  { value: "", label: "unchanged" },
  { value: "none", label: "none (remove all)" },
  { value: "udi", label: "udi" },
  { value: "critical_to_safety", label: "critical_to_safety" },
  { value: "critical_to_safety,udi", label: "udi + critical_to_safety" },
];

/** A material's governed attributes (all sites). */
export function AttributeFields({ index: i, kind, initial, options, e }: KindProps) {
  const attributes = initial?.kind === "attributes" ? initial : undefined;
  const familyOptions = options.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }));
  return (
    <fieldset className="change-kind" disabled={kind !== "attributes"} hidden={kind !== "attributes"}>
      <legend className="visually-hidden">Material attributes</legend>
      <div className="form-grid">
        <Field
          label="Material (part number)"
          name={`changes[${i}].material`}
          id={`cr-change-${i}-attr-material`}
          type="text"
          list="cr-material-options"
          autoComplete="off"
          maxLength={64}
          defaultValue={attributes?.material ?? ""}
          errors={e("material", "attributes")}
        />
        <SelectInput
          label="Risk class"
          name={`changes[${i}].riskClass`}
          id={`cr-change-${i}-risk`}
          options={[{ value: "", label: "unchanged" }, ...RISK_CLASSES.map((r) => ({ value: r, label: r }))]}
          defaultValue={attributes?.riskClass ?? ""}
          errors={e("riskClass", "attributes")}
        />
        <SelectInput
          label="Regulatory flags"
          name={`changes[${i}].regulatoryFlags`}
          id={`cr-change-${i}-flags`}
          options={FLAG_CHOICES}
          defaultValue={attributes?.regulatoryFlags ? (attributes.regulatoryFlags.length ? [...attributes.regulatoryFlags].sort().join(",") : "none") : ""}
          errors={e("regulatoryFlags", "attributes")}
        />
        <SelectInput
          label="Move to family"
          name={`changes[${i}].family`}
          id={`cr-change-${i}-attr-family`}
          options={[{ value: "", label: "unchanged" }, ...familyOptions]}
          defaultValue={attributes?.family ?? ""}
          errors={e("family", "attributes")}
        />
        <Field
          label="GTIN"
          name={`changes[${i}].gtin`}
          id={`cr-change-${i}-gtin`}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          maxLength={14}
          defaultValue={attributes?.gtin ?? ""}
          errors={e("gtin", "attributes")}
          hint="GTIN-14: 14 digits; empty: unchanged"
        />
      </div>
    </fieldset>
  );
}

/** A BOM line's approved alternates, at sites. */
export function AlternatesFields({ index: i, kind, initial, options, e }: KindProps) {
  const alternates = initial?.kind === "alternates" ? initial : undefined;
  return (
    <fieldset className="change-kind" disabled={kind !== "alternates"} hidden={kind !== "alternates"}>
      <legend className="visually-hidden">BOM line alternates</legend>
      <div className="form-grid">
        <Field
          label="Parent material (part number)"
          name={`changes[${i}].material`}
          id={`cr-change-${i}-alt-material`}
          type="text"
          list="cr-material-options"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={64}
          defaultValue={alternates?.material ?? ""}
          errors={e("material", "alternates")}
          hint="the BOM's parent"
        />
        <Field
          label="Primary component"
          name={`changes[${i}].component`}
          id={`cr-change-${i}-alt-component`}
          type="text"
          list="cr-material-options"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={64}
          defaultValue={alternates?.component ?? ""}
          errors={e("component", "alternates")}
          hint="the line's component"
        />
      </div>
      <SiteChoices index={i} prefix="alt-site" sites={options.sites} checked={alternates?.sites} errors={e("sites", "alternates")} />
      <Field
        label="Alternates"
        name={`changes[${i}].alternates`}
        id={`cr-change-${i}-alt-alternates`}
        type="text"
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={1400}
        defaultValue={alternates?.alternates.join(", ") ?? ""}
        errors={e("alternates", "alternates")}
        hint="Comma separated part numbers, in order of preference; leave empty to remove all; an alternate tracked more coarsely than the primary needs a regulatory reviewer"
      />
    </fieldset>
  );
}

/** A new material master. */
export function NewMaterialFields({ index: i, kind, initial, options, e }: KindProps) {
  const created = initial?.kind === "new_material" ? initial : undefined;
  const familyOptions = options.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }));
  return (
    <fieldset className="change-kind" disabled={kind !== "new_material"} hidden={kind !== "new_material"}>
      <legend className="visually-hidden">New material</legend>
      <div className="form-grid">
        <Field
          label="Part number"
          name={`changes[${i}].partNumber`}
          id={`cr-change-${i}-new-part`}
          type="text"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={40}
          defaultValue={created?.partNumber ?? ""}
          errors={e("partNumber", "new_material")}
          hint="2–40 characters: letters, digits, dot, dash, underscore"
        />
        <Field
          label="Description"
          name={`changes[${i}].description`}
          id={`cr-change-${i}-new-description`}
          type="text"
          autoComplete="off"
          maxLength={200}
          defaultValue={created?.description ?? ""}
          errors={e("description", "new_material")}
        />
        <Field
          label="Unit of measure"
          name={`changes[${i}].unitOfMeasure`}
          id={`cr-change-${i}-new-uom`}
          type="text"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={10}
          placeholder="EA"
          defaultValue={created?.unitOfMeasure ?? ""}
          errors={e("unitOfMeasure", "new_material")}
          hint="e.g. EA, KG"
        />
        <SelectInput
          label="Family"
          name={`changes[${i}].family`}
          id={`cr-change-${i}-new-family`}
          options={[{ value: "", label: "Choose…" }, ...familyOptions]}
          defaultValue={created?.family ?? ""}
          errors={e("family", "new_material")}
        />
        <SelectInput
          label="Risk class"
          name={`changes[${i}].riskClass`}
          id={`cr-change-${i}-new-risk`}
          options={[{ value: "", label: "Choose…" }, ...RISK_CLASSES.map((r) => ({ value: r, label: r }))]}
          defaultValue={created?.riskClass ?? ""}
          errors={e("riskClass", "new_material")}
        />
        <Field
          label="GTIN"
          name={`changes[${i}].gtin`}
          id={`cr-change-${i}-new-gtin`}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          maxLength={14}
          defaultValue={created?.gtin ?? ""}
          errors={e("gtin", "new_material")}
          hint="GTIN-14: 14 digits; optional"
        />
      </div>
      <fieldset className="site-choices" aria-describedby={e("regulatoryFlags", "new_material")?.length ? `cr-change-${i}-new-flags-error` : undefined}>
        <legend>Regulatory flags</legend>
        <ul className="inline-list">
          {REGULATORY_FLAGS.map((flag) => (
            <li key={flag} className="checkbox-line">
              <input
                type="checkbox"
                name={`changes[${i}].regulatoryFlags`}
                id={`cr-change-${i}-new-flag-${flag}`}
                value={flag}
                defaultChecked={created?.regulatoryFlags.includes(flag) ?? false}
                aria-invalid={e("regulatoryFlags", "new_material")?.length ? true : undefined}
              />
              <label htmlFor={`cr-change-${i}-new-flag-${flag}`}>{flag}</label>
            </li>
          ))}
        </ul>
        <ErrorList id={`cr-change-${i}-new-flags-error`} errors={e("regulatoryFlags", "new_material")} />
      </fieldset>
    </fieldset>
  );
}

/** The site checkboxes of a change at sites (a repeated name: `changes[N].sites`); controlled when `onToggle` is given. */
export function SiteChoices({
  index: i,
  prefix,
  sites,
  checked,
  errors,
  onToggle,
}: {
  index: number;
  /** Keeps the ids of each kind's checkboxes apart. */
  prefix: string;
  sites: ChangeRequestFormOptions["sites"];
  checked: readonly string[] | undefined;
  errors: string[] | undefined;
  onToggle?: (code: string, on: boolean) => void;
}) {
  const errorId = `cr-change-${i}-${prefix}s-error`;
  return (
    <fieldset className="site-choices" aria-describedby={errors?.length ? errorId : undefined}>
      <legend>Sites</legend>
      <ul className="inline-list">
        {sites.map((site) => (
          <li key={site.code} className="checkbox-line">
            <input
              type="checkbox"
              name={`changes[${i}].sites`}
              id={`cr-change-${i}-${prefix}-${site.code}`}
              value={site.code}
              {...(onToggle
                ? { checked: checked?.includes(site.code) ?? false, onChange: (event) => onToggle(site.code, event.currentTarget.checked) }
                : { defaultChecked: checked?.includes(site.code) ?? false })}
              aria-invalid={errors?.length ? true : undefined}
            />
            <label htmlFor={`cr-change-${i}-${prefix}-${site.code}`}>
              <abbr title={site.name}>{site.code}</abbr>
            </label>
          </li>
        ))}
      </ul>
      <ErrorList id={errorId} errors={errors} />
    </fieldset>
  );
}

/** Required traceability for a material, a family or a risk class + regulated flag (plant-wide, ADR 035). */
export function RequirementFields({ index: i, kind, initial, options, e }: KindProps) {
  const requirement = initial?.kind === "traceability_requirement" ? initial : undefined;
  const target = requirement?.target;
  const off = kind !== "traceability_requirement";
  const err = (field: string) => e(field, "traceability_requirement");
  return (
    <fieldset className="change-kind" disabled={off} hidden={off}>
      <legend className="visually-hidden">Required traceability</legend>
      <div className="form-grid">
        <SelectInput
          label="Applies to"
          name={`changes[${i}].scope`}
          id={`cr-change-${i}-req-scope`}
          options={[
            { value: "", label: "choose" },
            { value: "material", label: "a material" },
            { value: "family", label: "a family" },
            { value: "risk_class", label: "a risk class (+ regulated or not)" },
          ]}
          defaultValue={target?.scope ?? ""}
          errors={err("scope")}
        />
        <Field
          label="Material (part number)"
          name={`changes[${i}].material`}
          id={`cr-change-${i}-req-material`}
          type="text"
          list="cr-material-options"
          autoComplete="off"
          maxLength={64}
          defaultValue={target?.scope === "material" ? target.partNumber : ""}
          errors={err("material")}
          hint="when it applies to a material"
        />
        <SelectInput
          label="Family"
          name={`changes[${i}].family`}
          id={`cr-change-${i}-req-family`}
          options={[{ value: "", label: "—" }, ...options.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }))]}
          defaultValue={target?.scope === "family" ? target.family : ""}
          errors={err("family")}
          hint="when it applies to a family"
        />
        <SelectInput
          label="Risk class"
          name={`changes[${i}].riskClass`}
          id={`cr-change-${i}-req-risk`}
          options={[{ value: "", label: "—" }, ...RISK_CLASSES.map((r) => ({ value: r, label: r }))]}
          defaultValue={target?.scope === "risk_class" ? target.riskClass : ""}
          errors={err("riskClass")}
          hint="when it applies to a risk class"
        />
        <CheckboxField
          label="Regulated (any regulatory flag)"
          name={`changes[${i}].regulated`}
          id={`cr-change-${i}-req-regulated`}
          defaultChecked={target?.scope === "risk_class" ? target.regulated : false}
          errors={err("regulated")}
        />
        <SelectInput
          label="Minimum tracking"
          name={`changes[${i}].minimumTracking`}
          id={`cr-change-${i}-req-tracking`}
          options={[{ value: "", label: "choose" }, ...TRACKING_MODES.map((m) => ({ value: m, label: m }))]}
          defaultValue={requirement?.minimumTracking ?? ""}
          errors={err("minimumTracking")}
        />
        <SelectInput
          label="Scan required at consumption"
          name={`changes[${i}].requiredScan`}
          id={`cr-change-${i}-req-scan`}
          options={[{ value: "", label: "choose" }, ...CONSUMPTION_SCANS.map((s) => ({ value: s, label: s }))]}
          defaultValue={requirement?.requiredScan ?? ""}
          errors={err("requiredScan")}
        />
        <CheckboxField
          label="Container tracking required"
          name={`changes[${i}].containerRequired`}
          id={`cr-change-${i}-req-container`}
          defaultChecked={requirement?.containerRequired ?? false}
          errors={err("containerRequired")}
        />
      </div>
      <TextAreaField
        label="Rationale the quality system states"
        name={`changes[${i}].justification`}
        id={`cr-change-${i}-req-justification`}
        rows={3}
        maxLength={5000}
        defaultValue={requirement?.justification ?? ""}
        errors={err("justification")}
      />
      <TextAreaField
        label="References"
        name={`changes[${i}].references`}
        id={`cr-change-${i}-req-references`}
        rows={2}
        maxLength={6000}
        defaultValue={requirement?.references.join("\n") ?? ""}
        errors={err("references")}
        hint="risk assessment ids, standard clauses: one a line"
      />
    </fieldset>
  );
}
