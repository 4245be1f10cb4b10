import type { ChangeRequestContent } from "~/schemas/change-request";
import { SelectInput } from "../form-fields";
import { ErrorList, type FieldErrors } from "../forms";
import type { ProposalContext } from "~/domain/format-choice";
import { AlternatesFields, AttributeFields, NewMaterialFields, RequirementFields } from "./change-kinds";
import { TrackingFields } from "./tracking-fields";
import { isKind, KIND_FIELDS, KIND_OPTIONS, type ChangeRequestFormOptions, type Kind } from "./shared";

/** The proposed changes: a fixed number of rows, each of one kind. */
export function ProposedChanges({
  options,
  initial,
  errors,
  changeCount,
  kinds,
  onKind,
  contexts,
}: {
  options: ChangeRequestFormOptions;
  initial: ChangeRequestContent | null;
  errors: FieldErrors;
  /** Per row, what the server rendered beside a tracking change as the form opened. */
  contexts: readonly (ProposalContext | null)[];
  changeCount: number;
  kinds: readonly Kind[];
  onKind: (index: number, kind: Kind) => void;
}) {
  return (
    <section aria-labelledby="cr-changes-heading" className="card form-card">
      <h2 id="cr-changes-heading">Proposed changes</h2>
      <p className="muted small">
        Up to {changeCount} changes; rows left empty are ignored. A tracking change names a material or a whole family (expanded into one change per material
        when submitted). Attribute changes apply at every site. A BOM line&apos;s alternates are set per site; a new material gets its tracking rules from
        tracking changes in the same request.
      </p>
      <ErrorList id="cr-changes-error" errors={errors.changes} />
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
          onKind={(kind) => onKind(i, kind)}
          initial={initial?.changes[i]}
          options={options}
          errors={errors}
          context={contexts[i] ?? null}
        />
      ))}
    </section>
  );
}

function ChangeRow({
  index: i,
  kind,
  onKind,
  initial,
  options,
  errors,
  context,
}: {
  index: number;
  kind: Kind;
  onKind: (kind: Kind) => void;
  initial: ChangeRequestContent["changes"][number] | undefined;
  options: ChangeRequestFormOptions;
  errors: FieldErrors;
  context: ProposalContext | null;
}) {
  /** The errors of a field of this row, shown only on the inputs of the selected kind (names are shared between kinds). */
  const e = (field: string, of: Kind) => (of === kind ? errors[`changes.${i}.${field}`] : undefined);
  const active = KIND_FIELDS[kind];
  const rowErrors = Object.entries(errors).flatMap(([key, messages]) => {
    const match = new RegExp(`^changes\\.${i}(?:\\.([^.]+))?`).exec(key);
    if (!match) return [];
    return match[1] && active.includes(match[1]) ? [] : (messages ?? []);
  });
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
      <TrackingFields index={i} kind={kind} initial={initial} options={options} e={e} context={context} />
      <AttributeFields index={i} kind={kind} initial={initial} options={options} e={e} />
      <AlternatesFields index={i} kind={kind} initial={initial} options={options} e={e} />
      <NewMaterialFields index={i} kind={kind} initial={initial} options={options} e={e} />
      <RequirementFields index={i} kind={kind} initial={initial} options={options} e={e} />
    </fieldset>
  );
}
