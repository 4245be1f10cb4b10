import { REGULATORY_FLAGS, RISK_CLASSES } from "~/domain/material";
import { CONSUMPTION_SCANS, TRACKING_MODES } from "~/domain/tracking-rule";
import type { ChangeRequestContent } from "~/schemas/change-request";
import { CheckboxField, SelectInput } from "../form-fields";
import { ErrorList, Field } from "../forms";
import type { ChangeRequestFormOptions, Kind, KindErrors } from "./shared";

/*
 * The inputs of each kind of change on a change row. The other kinds' fields are disabled (not
 * submitted) and hidden, keeping what was typed.
 */

interface KindProps {
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

/** A tracking rule for a material or a whole family, at sites. */
export function TrackingFields({ index: i, kind, initial, options, e }: KindProps) {
  const tracking = initial?.kind === "tracking" ? initial : undefined;
  const formatCodes = options.formats.map((f) => f.code);
  const familyOptions = options.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }));
  return (
    <fieldset className="change-kind" disabled={kind !== "tracking"} hidden={kind !== "tracking"}>
      <legend className="visually-hidden">Tracking rule</legend>
      <div className="form-grid">
        <Field
          label="Material (part number)"
          name={`changes[${i}].material`}
          id={`cr-change-${i}-material`}
          type="text"
          list="cr-material-options"
          autoComplete="off"
          maxLength={64}
          defaultValue={tracking?.material ?? ""}
          errors={e("material", "tracking")}
          hint="or a family, not both"
        />
        <SelectInput
          label="Family (all its materials)"
          name={`changes[${i}].family`}
          id={`cr-change-${i}-family`}
          options={[{ value: "", label: "— no family —" }, ...familyOptions]}
          defaultValue={tracking?.family ?? ""}
          errors={e("family", "tracking")}
        />
      </div>
      <SiteChoices index={i} prefix="site" sites={options.sites} checked={tracking?.sites} errors={e("sites", "tracking")} />
      <div className="form-grid">
        <SelectInput
          label="Tracking mode"
          name={`changes[${i}].trackingMode`}
          id={`cr-change-${i}-mode`}
          options={[{ value: "", label: "Choose…" }, ...TRACKING_MODES.map((m) => ({ value: m, label: m }))]}
          defaultValue={tracking?.trackingMode ?? ""}
          errors={e("trackingMode", "tracking")}
        />
        <SelectInput
          label="Scan at consumption"
          name={`changes[${i}].consumptionScan`}
          id={`cr-change-${i}-scan`}
          options={[{ value: "", label: "Choose…" }, ...CONSUMPTION_SCANS.map((m) => ({ value: m, label: m }))]}
          defaultValue={tracking?.consumptionScan ?? ""}
          errors={e("consumptionScan", "tracking")}
          hint="none: backflush · verify: the material · identify: the serial, lot or container"
        />
      </div>
      <Field
        label="Identifier format codes"
        name={`changes[${i}].identifierFormatCodes`}
        id={`cr-change-${i}-formats`}
        type="text"
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={600}
        defaultValue={tracking?.identifierFormatCodes.join(", ") ?? ""}
        errors={e("identifierFormatCodes", "tracking")}
        hint={`Comma separated, e.g. ${formatCodes.slice(0, 3).join(", ")} — see the list of codes above`}
      />
      <CheckboxField
        label="Track containers (totes, pallets)"
        name={`changes[${i}].containerTracking`}
        id={`cr-change-${i}-containers`}
        defaultChecked={tracking?.containerTracking ?? false}
        errors={e("containerTracking", "tracking")}
      />
    </fieldset>
  );
}

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

/** The site checkboxes of a change at sites (a repeated name: `changes[N].sites`). */
function SiteChoices({
  index: i,
  prefix,
  sites,
  checked,
  errors,
}: {
  index: number;
  /** Keeps the ids of each kind's checkboxes apart. */
  prefix: string;
  sites: ChangeRequestFormOptions["sites"];
  checked: readonly string[] | undefined;
  errors: string[] | undefined;
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
              defaultChecked={checked?.includes(site.code) ?? false}
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
