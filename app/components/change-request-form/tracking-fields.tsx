import { useState } from "react";
import { useFetcher } from "@remix-run/react";
import { formatsOfSites, lookAlikeWarnings, type ProposalContext, type ProposalSiteContext } from "~/domain/format-choice";
import { CONSUMPTION_SCANS, TRACKING_MODES } from "~/domain/tracking-rule";
import { proposalContextSearch } from "~/schemas/change-request-form";
import { Badge } from "../badge";
import { CheckboxField, SelectInput } from "../form-fields";
import { ErrorList, Field } from "../forms";
import { TrackingBadge } from "../tracking-badge";
import { UtcTime } from "../time";
import { SiteChoices, type KindProps } from "./change-kinds";
import type { ChangeRequestFormOptions } from "./shared";

/** The resource route the form asks (app/routes/change-requests.new_.context.tsx). */
const CONTEXT_ROUTE = "/change-requests/new/context";

interface TrackingProps extends KindProps {
  /** What the server rendered beside this row as the form opened (a prefilled or edited change). */
  context: ProposalContext | null;
}

/**
 * A tracking rule for a material or a whole family, at sites. For a material, the rule in force at
 * each chosen site is shown beside the inputs, and the identifier formats are chosen from the
 * sites' list with the look-alikes they make there said under the list; both follow the inputs
 * (a fetcher on the context route) and are rendered by the server when the form opens prefilled.
 */
export function TrackingFields({ index: i, kind, initial, options, e, context }: TrackingProps) {
  const tracking = initial?.kind === "tracking" ? initial : undefined;
  const familyOptions = options.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }));
  const [material, setMaterial] = useState(tracking?.material ?? "");
  const [sites, setSites] = useState<string[]>(() => [...(tracking?.sites ?? [])]);
  const [formats, setFormats] = useState<string[]>(() => [...(tracking?.identifierFormatCodes ?? [])]);
  const fetcher = useFetcher<{ error: string | null; context: ProposalContext | null }>({ key: `cr-change-${i}-context` });
  const knownMaterial = (v: string) => options.materials.some((m) => m.partNumber === v.trim().toUpperCase());
  const refresh = (next: { material: string; sites: string[]; formats: string[] }) => {
    if (next.material.trim() === "" || knownMaterial(next.material)) {
      fetcher.load(`${CONTEXT_ROUTE}?${proposalContextSearch({ ...next, material: next.material.trim().toUpperCase() })}`);
    }
  };
  const shown = fetcher.data?.context ?? (fetcher.data ? null : context);
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
          value={material}
          onChange={(event) => {
            const value = event.currentTarget.value;
            setMaterial(value);
            // Asked once the value names a material (picked from the list or typed out), not per keystroke.
            if (value.trim() === "" || knownMaterial(value)) refresh({ material: value, sites, formats });
          }}
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
      <SiteChoices
        index={i}
        prefix="site"
        sites={options.sites}
        checked={sites}
        errors={e("sites", "tracking")}
        onToggle={(code, on) => {
          const next = on ? [...new Set([...sites, code])] : sites.filter((s) => s !== code);
          setSites(next);
          refresh({ material, sites: next, formats });
        }}
      />
      <RuleInForce index={i} context={shown} busy={fetcher.state === "loading"} error={fetcher.data?.error ?? null} />
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
      <FormatPicker
        index={i}
        options={options}
        sites={sites}
        chosen={formats}
        errors={e("identifierFormatCodes", "tracking")}
        onToggle={(code, on) => {
          const next = on ? [...new Set([...formats, code])] : formats.filter((f) => f !== code);
          setFormats(next);
          refresh({ material, sites, formats: next });
        }}
        context={shown}
        busy={fetcher.state === "loading"}
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

/** The rule in force for the row's material at each chosen site, with its rule-set version and since when. */
function RuleInForce({ index: i, context, busy, error }: { index: number; context: ProposalContext | null; busy: boolean; error: string | null }) {
  const id = `cr-change-${i}-in-force`;
  return (
    <div className="rule-in-force" aria-busy={busy} aria-live="polite">
      {error ? <p className="field-error">{error}</p> : null}
      {context === null ? (
        <p className="muted small">Name a material and choose a site to see the rule in force there.</p>
      ) : context.note ? (
        <p className="muted small">{context.note}</p>
      ) : (
        <table className="data-table compact" id={id}>
          <caption>
            Rule in force for {context.material?.partNumber} <span className="muted">{context.material?.description}</span>
          </caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Tracking</th>
              <th scope="col">Consumption scan</th>
              <th scope="col">Identifier formats</th>
              <th scope="col">Containers</th>
              <th scope="col">Rule-set version</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {context.sites.map((s) => (
              <RuleInForceRow key={s.site} site={s} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function RuleInForceRow({ site: s }: { site: ProposalSiteContext }) {
  const f = s.inForce;
  const siteCell = (
    <th scope="row">
      <abbr title={s.siteName}>{s.site}</abbr>
    </th>
  );
  if (f.state !== "ruled") {
    return (
      <tr className="row-legacy">
        {siteCell}
        <td colSpan={4}>
          <Badge>legacy: no rule</Badge>{" "}
          <span className="muted small">
            {f.state === "unruled"
              ? `version ${f.version.version} has no rule for this material`
              : f.firstVersion
                ? `no rule-set version in force yet (version ${f.firstVersion.version} takes effect later)`
                : "the site has no rule-set version yet"}
          </span>
        </td>
        <td>{f.state === "unruled" ? `version ${f.version.version}` : <span className="muted">none</span>}</td>
        <td>{f.state === "unruled" ? <UtcTime value={f.version.effectiveFrom} /> : <span className="muted">—</span>}</td>
      </tr>
    );
  }
  return (
    <tr>
      {siteCell}
      <td>
        <TrackingBadge mode={f.rule.trackingMode} />
      </td>
      <td>{f.rule.consumptionScan}</td>
      <td>{f.rule.identifierFormatCodes.length ? f.rule.identifierFormatCodes.join(", ") : <span className="muted">none</span>}</td>
      <td>{f.rule.containerTracking ? "tracked" : "not tracked"}</td>
      <td>
        version {f.version.version}
        {f.rule.version !== f.version.version ? <span className="muted small"> (rule from version {f.rule.version})</span> : null}
      </td>
      <td>
        <UtcTime value={f.rule.effectiveFrom} />
      </td>
    </tr>
  );
}

/**
 * The identifier formats, chosen from the list the chosen sites offer (GS1 formats at any site,
 * a site's patterns at that site); a chosen format outside it stays listed so it can be unchecked.
 * The look-alike warning sits under it.
 */
function FormatPicker({
  index: i,
  options,
  sites,
  chosen,
  errors,
  onToggle,
  context,
  busy,
}: {
  index: number;
  options: ChangeRequestFormOptions;
  sites: readonly string[];
  chosen: readonly string[];
  errors: string[] | undefined;
  onToggle: (code: string, on: boolean) => void;
  context: ProposalContext | null;
  busy: boolean;
}) {
  const offered = new Set(formatsOfSites(options.formats, sites).map((f) => f.code));
  const listed = options.formats.filter((f) => offered.has(f.code) || chosen.includes(f.code));
  const errorId = `cr-change-${i}-formats-error`;
  const hintId = `cr-change-${i}-formats-hint`;
  return (
    <fieldset className="format-picker" aria-describedby={[hintId, errors?.length ? errorId : ""].filter(Boolean).join(" ")}>
      <legend>Identifier formats</legend>
      <p id={hintId} className="muted small">
        {sites.length === 0
          ? "Every format you may use; choose a site to see only its own."
          : `The formats a rule at ${sites.join(", ")} may print: GS1 formats at any site, a site's own patterns there.`}
      </p>
      <table className="data-table compact">
        <caption className="visually-hidden">Identifier formats to choose from</caption>
        <thead>
          <tr>
            <th scope="col">Use</th>
            <th scope="col">Code</th>
            <th scope="col">Name</th>
            <th scope="col">Identifies</th>
            <th scope="col">Pattern</th>
            <th scope="col">Site</th>
          </tr>
        </thead>
        <tbody>
          {listed.map((f) => {
            const id = `cr-change-${i}-format-${f.code}`;
            return (
              <tr key={f.code} className={offered.has(f.code) ? undefined : "row-mismatch"}>
                <td>
                  <input
                    type="checkbox"
                    name={`changes[${i}].identifierFormatCodes`}
                    id={id}
                    value={f.code}
                    checked={chosen.includes(f.code)}
                    onChange={(event) => onToggle(f.code, event.currentTarget.checked)}
                    aria-invalid={errors?.length ? true : undefined}
                  />
                </td>
                <th scope="row">
                  <label htmlFor={id}>
                    <code>{f.code}</code>
                  </label>
                </th>
                <td className="wrap">{f.name}</td>
                <td>{f.identifies}</td>
                <td className="wrap">
                  <code>{f.pattern}</code>
                </td>
                <td>{f.site ?? "any site"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {listed.some((f) => !offered.has(f.code)) ? <p className="small">Highlighted: chosen, but not offered at every chosen site.</p> : null}
      <ErrorList id={errorId} errors={errors} />
      <LookAlikeWarning index={i} context={context} busy={busy} />
    </fieldset>
  );
}

/** Look-alikes of the chosen formats among the formats used at each chosen site (ADR 013), in words. */
function LookAlikeWarning({ index: i, context, busy }: { index: number; context: ProposalContext | null; busy: boolean }) {
  const atSites = (context?.sites ?? []).filter((s) => s.chosen.length > 0).map((s) => ({ site: s, warnings: lookAlikeWarnings(s.lookAlikes) }));
  const warned = atSites.filter((s) => s.warnings.length > 0);
  return (
    <div id={`cr-change-${i}-look-alikes`} role="status" aria-busy={busy} className="look-alike-inline">
      {warned.map(({ site, warnings }) => (
        <div key={site.site} className="notice notice-warn">
          <p>
            <Badge tone="bad">look-alike</Badge> At {site.site}, with the formats used there
            {site.templates.length ? ` (label templates ${site.templates.join(", ")})` : ""}, one printed string can be read as more than one kind:
          </p>
          <ul>
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      ))}
      {atSites.length > 0 && warned.length === 0 ? (
        <p className="muted small">
          No look-alikes: the chosen formats read as one kind each among those used at {atSites.map((s) => s.site.site).join(", ")}.
        </p>
      ) : null}
    </div>
  );
}
