import { useState } from "react";
import { Form, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { CONSUMPTION_SCANS, TRACKING_MODES } from "~/domain/tracking-rule";
import {
  changeRequestContentSchema,
  LEGACY_DATA_PLAN_LABELS,
  LEGACY_DATA_PLANS,
  type ChangeRequestContent,
  type ProposedChange,
} from "~/schemas/change-request";
import { CheckboxField, SelectInput, TextAreaField } from "./form-fields";
import { withFormFields } from "~/utils/form-data";
import { ErrorList, Field, FormError, useSchemaForm, type FieldErrors } from "./forms";

/** Rows on the form; more are kept when an edited request already has more. */
export const CHANGE_ROWS = 3;
export const TASK_ROWS = 3;

type Kind = ProposedChange["kind"];
/** The form's inputs of each kind of change (the names under `changes[N]`). */
const KIND_FIELDS: Record<Kind, readonly string[]> = {
  tracking: ["material", "family", "sites", "trackingMode", "containerTracking", "identifierFormatCodes", "consumptionScan"],
  attributes: ["material", "riskClass", "regulatoryFlags", "family", "gtin"],
  alternates: ["material", "component", "sites", "alternates"],
  new_material: ["partNumber", "description", "unitOfMeasure", "family", "riskClass", "regulatoryFlags", "gtin"],
};
const KIND_OPTIONS: readonly { value: Kind; label: string }[] = [
  { value: "tracking", label: "Tracking rule (at sites)" },
  { value: "attributes", label: "Material attributes (all sites)" },
  { value: "alternates", label: "BOM line alternates (at sites)" },
  { value: "new_material", label: "New material" },
];
function isKind(value: unknown): value is Kind {
  return typeof value === "string" && Object.hasOwn(KIND_FIELDS, value);
}
const REGULATORY_FLAGS = ["udi", "critical_to_safety"] as const;
const RISK_CLASSES = ["low", "medium", "high"] as const;

type Row = Record<string, unknown>;
const isRow = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);
const blank = (v: unknown) => v === undefined || v === null || v === "" || (Array.isArray(v) && v.every((x) => x === ""));
/**
 * A change row with nothing but its kind filled in is ignored, whatever the kind: none of the
 * form's inputs has a default (selects start at "", checkboxes unchecked, so not submitted), and
 * the other kinds' inputs are disabled, so not submitted either. An alternates row naming a BOM
 * line but no alternates is not empty: it removes them all.
 */
const isEmptyChangeRow = (row: unknown) => !isRow(row) || Object.entries(row).every(([key, value]) => key === "kind" || blank(value));
const isEmptyTaskRow = (row: unknown) => !isRow(row) || (blank(row.description) && blank(row.evidenceUrl));

/** The regulatory-flags select: "" leaves them unchanged, "none" clears them, else a comma-separated set. */
const FLAG_CHOICES = [
  { value: "", label: "unchanged" },
  { value: "none", label: "none (remove all)" },
  { value: "udi", label: "udi" },
  { value: "critical_to_safety", label: "critical_to_safety" },
  { value: "critical_to_safety,udi", label: "udi + critical_to_safety" },
];

function attributeRowInput(row: Row): Row {
  const { regulatoryFlags, ...rest } = row;
  if (typeof regulatoryFlags !== "string" || regulatoryFlags === "") return rest;
  return { ...rest, regulatoryFlags: regulatoryFlags === "none" ? [] : regulatoryFlags.split(",") };
}

/**
 * changeRequestContentSchema for a form with a fixed number of change and task rows, in the
 * browser and in the action alike: empty rows are dropped before parsing, and a problem is
 * reported at the row's own index on the form (`changes.2.sites`), not its index among the filled
 * rows. The output keeps the mapping, so the service's field errors can be mapped back too.
 */
export const changeRequestFormSchema = withFormFields(z.unknown().transform((input, ctx) => {
  const raw = isRow(input) ? input : {};
  const changeInput = Array.isArray(raw.changes) ? (raw.changes as unknown[]) : [];
  const taskInput = Array.isArray(raw.revalidationTasks) ? (raw.revalidationTasks as unknown[]) : [];
  const changeRows = changeInput.flatMap((row, index) => (isEmptyChangeRow(row) ? [] : [index]));
  const taskRows = taskInput.flatMap((row, index) => (isEmptyTaskRow(row) ? [] : [index]));
  const parsed = changeRequestContentSchema.safeParse({
    ...raw,
    changes: changeRows.map((i) => {
      const row = changeInput[i] as Row;
      return row.kind === "attributes" ? attributeRowInput(row) : row;
    }),
    revalidationTasks: taskRows.map((i) => taskInput[i]),
  });
  if (parsed.success) return { content: parsed.data, changeRows, taskRows };
  for (const issue of parsed.error.issues) {
    ctx.addIssue({ code: "custom", message: issue.message, path: formPath(issue.path, changeRows, taskRows) });
  }
  return z.NEVER;
}), changeRequestContentSchema.extend({ rowVersion: z.unknown() }));

function formPath(path: readonly PropertyKey[], changeRows: readonly number[], taskRows: readonly number[]): (string | number)[] {
  const out = path.map((p) => (typeof p === "symbol" ? String(p) : p));
  const index = typeof out[1] === "number" ? out[1] : typeof out[1] === "string" && /^\d+$/.test(out[1]) ? Number(out[1]) : null;
  if (index !== null && out[0] === "changes") out[1] = changeRows[index] ?? index;
  if (index !== null && out[0] === "revalidationTasks") out[1] = taskRows[index] ?? index;
  return out;
}

/** The service's field errors (keys like `changes.0.sites`, indexes among the filled rows) at the form's rows. */
export function formErrorsOf(fields: Record<string, string[]>, changeRows: readonly number[], taskRows: readonly number[]): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, messages] of Object.entries(fields)) {
    const mapped = formPath(key.split("."), changeRows, taskRows).join(".");
    out[mapped] = [...(out[mapped] ?? []), ...messages];
  }
  return out;
}

/**
 * The proposed changes at sites the user may not propose changes at, as errors on the rows naming
 * them (an attribute change applies at every site, so it needs a role at all of them; a tracking or
 * alternates change, at its sites; a new material touches no site by itself). The action shows
 * these on the form; requireEverySite then refuses on the server whatever slipped through.
 */
export function sitePermissionProblems(
  changes: ChangeRequestContent["changes"],
  sites: { byChange: readonly (readonly number[])[]; codeOf: Readonly<Record<number, string>> },
  changeRows: readonly number[],
  allowedAt: (siteId: number) => boolean,
): FieldErrors {
  const problems: FieldErrors = {};
  sites.byChange.forEach((siteIds, i) => {
    const refused = siteIds.filter((siteId) => !allowedAt(siteId));
    if (refused.length === 0) return;
    const row = changeRows[i] ?? i;
    if (changes[i]?.kind === "attributes") {
      problems[`changes.${row}.material`] = ["Attribute changes apply at every site: you may propose them only with a role at all sites"];
    } else {
      problems[`changes.${row}.sites`] = [`You may not propose changes at ${refused.map((id) => sites.codeOf[id] ?? id).join(", ")}`];
    }
  });
  return problems;
}

export interface ChangeRequestFormOptions {
  sites: readonly { code: string; name: string }[];
  families: readonly { code: string; name: string }[];
  materials: readonly { partNumber: string; description: string; riskClass: string }[];
  formats: readonly { code: string; name: string; identifies: string; site: string | null }[];
}

const TOP_FIELDS = ["title", "justification", "riskAssessment", "legacyDataPlan", "legacyDataNotes", "proposedEffectiveFrom", "revalidationRequired", "revalidationTasks", "changes", "resolvesDisagreements", "form"];

/** Errors the form has no place for (an unexpected key) are shown at its top rather than lost. */
function unplacedErrors(errors: FieldErrors): string[] {
  return Object.entries(errors).flatMap(([key, messages]) => {
    if (TOP_FIELDS.includes(key)) return [];
    if (/^resolvesDisagreements\.\d+$/.test(key)) return [];
    if (/^changes\.\d+(\.|$)/.test(key) || /^revalidationTasks\.\d+\.(description|evidenceUrl)$/.test(key)) return [];
    return messages ?? [];
  });
}

const changeOf = (content: ChangeRequestContent | null, i: number) => content?.changes[i];

function toLocalInput(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16) : "";
}

export function ChangeRequestForm({
  options,
  initial,
  serverErrors,
  submitLabel,
  rowVersion,
}: {
  options: ChangeRequestFormOptions;
  /** The content being edited; null for a new request. */
  initial: ChangeRequestContent | null;
  serverErrors: FieldErrors | undefined;
  submitLabel: string;
  rowVersion?: number;
}) {
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(changeRequestFormSchema, serverErrors);
  const changeCount = Math.max(CHANGE_ROWS, initial?.changes.length ?? 0);
  const taskCount = Math.max(TASK_ROWS, initial?.revalidationTasks.length ?? 0);
  const [kinds, setKinds] = useState<Kind[]>(() => Array.from({ length: changeCount }, (_, i) => changeOf(initial, i)?.kind ?? "tracking"));
  const top = [...(errors.form ?? []), ...unplacedErrors(errors)];
  return (
    <Form method="post" onSubmit={onSubmit} noValidate className="cr-form" aria-describedby={top.length ? "cr-form-error" : undefined}>
      <div id="cr-form-error">
        <FormError errors={top.length ? top : undefined} />
      </div>
      {rowVersion !== undefined ? <input type="hidden" name="rowVersion" value={rowVersion} /> : null}

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
          errors={Object.entries(errors).flatMap(([key, messages]) => (key === "resolvesDisagreements" || key.startsWith("resolvesDisagreements.") ? (messages ?? []) : []))}
          hint="Keys from the reconciliation report (PART@SITE, e.g. ASM-1003@EIN), comma-separated; each must be one this request changes."
        />
      </section>

      <section aria-labelledby="cr-revalidation-heading" className="card form-card">
        <h2 id="cr-revalidation-heading">Revalidation</h2>
        <CheckboxField
          label="Revalidation required"
          name="revalidationRequired"
          id="cr-revalidation-required"
          defaultChecked={initial?.revalidationRequired ?? false}
          errors={errors.revalidationRequired}
        />
        <fieldset className="grant-rows">
          <legend>Revalidation tasks</legend>
          <p className="muted small">One task per row; empty rows are ignored. Evidence is linked when the task is closed.</p>
          <ErrorList id="cr-tasks-error" errors={errors.revalidationTasks} />
          {Array.from({ length: taskCount }, (_, i) => {
            const task = initial?.revalidationTasks[i];
            return (
              <div className="grant-row" key={i}>
                <Field
                  label={`Task ${i + 1}`}
                  name={`revalidationTasks[${i}].description`}
                  id={`cr-task-${i}-description`}
                  type="text"
                  maxLength={500}
                  defaultValue={task?.description ?? ""}
                  errors={errors[`revalidationTasks.${i}.description`]}
                />
                <Field
                  label={`Evidence link for task ${i + 1}`}
                  name={`revalidationTasks[${i}].evidenceUrl`}
                  id={`cr-task-${i}-evidence`}
                  type="url"
                  maxLength={2000}
                  placeholder="https://…"
                  defaultValue={task?.evidenceUrl ?? ""}
                  errors={errors[`revalidationTasks.${i}.evidenceUrl`]}
                />
              </div>
            );
          })}
        </fieldset>
      </section>

      <section aria-labelledby="cr-changes-heading" className="card form-card">
        <h2 id="cr-changes-heading">Proposed changes</h2>
        <p className="muted small">
          Up to {changeCount} changes; rows left empty are ignored. A tracking change names a material or a whole family (expanded into one change per
          material when submitted). Attribute changes apply at every site. A BOM line&apos;s alternates are set per site; a new material gets its tracking
          rules from tracking changes in the same request.
        </p>
        <ErrorList id="cr-changes-error" errors={errors.changes} />
        <FormatList formats={options.formats} />
        <datalist id="cr-material-options">
          {options.materials.map((m) => (
            <option key={m.partNumber} value={m.partNumber}>
              {m.description} ({m.riskClass} risk)
            </option>
          ))}
        </datalist>
        {Array.from({ length: changeCount }, (_, i) => (
          <ChangeRow
            key={i}
            index={i}
            kind={kinds[i] ?? "tracking"}
            onKind={(kind) => setKinds((all) => all.map((k, j) => (j === i ? kind : k)))}
            initial={changeOf(initial, i)}
            options={options}
            errors={errors}
          />
        ))}
      </section>

      <button type="submit" disabled={navigation.state === "submitting"}>
        {submitLabel}
      </button>
    </Form>
  );
}

function FormatList({ formats }: { formats: ChangeRequestFormOptions["formats"] }) {
  return (
    <details className="format-list">
      <summary>Identifier format codes you can use</summary>
      <table className="data-table compact">
        <caption className="visually-hidden">Identifier formats</caption>
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Identifies</th>
            <th scope="col">Site</th>
            <th scope="col">Format</th>
          </tr>
        </thead>
        <tbody>
          {formats.map((f) => (
            <tr key={f.code}>
              <th scope="row">
                <code>{f.code}</code>
              </th>
              <td>{f.identifies}</td>
              <td>{f.site ?? "any site"}</td>
              <td className="wrap">{f.name}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function ChangeRow({
  index: i,
  kind,
  onKind,
  initial,
  options,
  errors,
}: {
  index: number;
  kind: Kind;
  onKind: (kind: Kind) => void;
  initial: ChangeRequestContent["changes"][number] | undefined;
  options: ChangeRequestFormOptions;
  errors: FieldErrors;
}) {
  /** The errors of a field of this row, shown only on the inputs of the selected kind (names are shared between kinds). */
  const e = (field: string, of: Kind) => (of === kind ? errors[`changes.${i}.${field}`] : undefined);
  const active = KIND_FIELDS[kind];
  const rowErrors = Object.entries(errors).flatMap(([key, messages]) => {
    const match = new RegExp(`^changes\\.${i}(?:\\.([^.]+))?`).exec(key);
    if (!match) return [];
    return match[1] && active.includes(match[1]) ? [] : (messages ?? []);
  });
  const tracking = initial?.kind === "tracking" ? initial : undefined;
  const attributes = initial?.kind === "attributes" ? initial : undefined;
  const alternates = initial?.kind === "alternates" ? initial : undefined;
  const created = initial?.kind === "new_material" ? initial : undefined;
  const formatCodes = options.formats.map((f) => f.code);
  const familyOptions = options.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }));
  return (
    <fieldset className="change-row" aria-describedby={rowErrors.length ? `cr-change-${i}-error` : undefined}>
      <legend>Change {i + 1}</legend>
      <ErrorList id={`cr-change-${i}-error`} errors={rowErrors.length ? rowErrors : undefined} />
      <SelectInput
        label="Kind of change"
        name={`changes[${i}].kind`}
        id={`cr-change-${i}-kind`}
        options={KIND_OPTIONS}
        value={kind}
        onChange={(event) => {
          const value = event.currentTarget.value;
          onKind(isKind(value) ? value : "tracking");
        }}
      />
      {/* The other kinds' fields are disabled (not submitted) and hidden, keeping what was typed. */}
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
