import { Fragment, type ReactNode } from "react";
import { Link } from "@remix-run/react";
import type { DiffRow, ExpandedAlternatesChange, ExpandedChange, ExpandedNewMaterial } from "~/domain/change-request";
import { FIELD_LABELS } from "~/domain/change-request-fields";
import type { TrackingRuleContent } from "~/domain/tracking-rule";
import { describeRequirement, describeTarget, targetKey } from "~/domain/traceability-requirement";
import { DataTable, EmptyRow } from "./data-table";

/** How diff rows name the fields of a rule or material: the domain's map (shared by the change-request and release views). */
export { FIELD_LABELS };

/** structuredDiff's row for a material the change request creates (it has no page before release). */
const NEW_MATERIAL_FIELD = "new material";

/** The structured per-material diff: site, material, field, from → to (unchanged fields left out). */
export function StructuredDiff({
  rows,
  id = "cr-diff",
  basis = "current",
  discussion,
}: {
  rows: readonly DiffRow[];
  id?: string;
  basis?: "current" | "signed";
  /** The comment threads on each row (ADR 030): a cell beside it and the threads in a row after it. */
  discussion?: { cell: (row: DiffRow) => ReactNode; after: (row: DiffRow, colSpan: number) => ReactNode };
}) {
  const columns = discussion ? 6 : 5;
  const created = new Set(rows.filter((row) => row.field === NEW_MATERIAL_FIELD).map((row) => row.partNumber));
  return (
    <DataTable
      id={id}
      caption="Changes, field by field"
      captionDetail={basis === "signed" ? "compared with the signed base (the rules it was written against)" : "compared with the rules in force now"}
    >
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">Material</th>
          <th scope="col">Field</th>
          <th scope="col">From</th>
          <th scope="col">
            <span aria-hidden="true">→ </span>To
          </th>
          {discussion ? <th scope="col">Discussion</th> : null}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <EmptyRow colSpan={columns}>
            {basis === "signed" ? "Nothing changes: the proposal equals its signed base." : "Nothing would change: the proposal equals the rules in force."}
          </EmptyRow>
        ) : null}
        {rows.map((row, i) => (
          <Fragment key={i}>
            <tr>
              <td>{row.site ?? <span className="muted">all sites</span>}</td>
              <th scope="row">
                {created.has(row.partNumber) ? (
                  <>
                    {row.partNumber} <span className="muted small">(new)</span>
                  </>
                ) : (
                  <Link to={`/materials/${encodeURIComponent(row.partNumber)}`}>{row.partNumber}</Link>
                )}
              </th>
              <td>{FIELD_LABELS[row.field] ?? row.field}</td>
              <td className="diff-from">{row.from}</td>
              <td className="diff-to">{row.to}</td>
              {discussion ? <td className="diff-discussion">{discussion.cell(row)}</td> : null}
            </tr>
            {discussion ? discussion.after(row, columns) : null}
          </Fragment>
        ))}
      </tbody>
    </DataTable>
  );
}

/** A unified diff, lines marked by class (no inline styles: CSP). */
export function TextDiff({
  text,
  label = "Unified diff of the rules, base and proposed",
  empty = <p className="muted">No tracking rules change, so there is no rule text to compare.</p>,
}: {
  text: string;
  label?: string;
  empty?: ReactNode;
}) {
  if (!text.trim()) return <>{empty}</>;
  const lines = text.replace(/\n$/, "").split("\n");
  return (
    // biome-ignore lint/a11y/useSemanticElements: the <pre> is the scrollable, focusable region itself; a wrapping <section> would split the name from what scrolls
    <pre className="code-block tall text-diff" role="region" tabIndex={0} aria-label={label}>
      <code>
        {lines.map((line, i) => {
          const kind =
            line.startsWith("+++") || line.startsWith("---") || line.startsWith("Index:") || line.startsWith("====")
              ? "diff-file"
              : line.startsWith("@@")
                ? "diff-hunk"
                : line.startsWith("+")
                  ? "diff-add"
                  : line.startsWith("-")
                    ? "diff-del"
                    : undefined;
          return (
            <span key={i} className={kind}>
              {line}
              {"\n"}
            </span>
          );
        })}
      </code>
    </pre>
  );
}

const formats = (rule: TrackingRuleContent) => (rule.identifierFormatCodes.length ? rule.identifierFormatCodes.join(", ") : "none");

/** "ASM-1002 at EIN: alternates for SUB-1009: MCH-1029, MCH-1030" (in order of preference). */
export function describeAlternates(c: ExpandedAlternatesChange): string {
  return `${c.partNumber} at ${c.site}: alternates for ${c.component}: ${c.alternates.length ? c.alternates.join(", ") : "none (all removed)"}`;
}

/** "New material SUB-2001: Pump drive (EA, family SUB, risk high, GTIN …, flags udi)". */
export function describeNewMaterial(c: ExpandedNewMaterial): string {
  const details = [
    c.unitOfMeasure,
    `family ${c.family}`,
    `risk ${c.riskClass}`,
    c.gtin ? `GTIN ${c.gtin}` : null,
    c.regulatoryFlags.length ? `flags ${c.regulatoryFlags.join(", ")}` : null,
  ];
  return `New material ${c.partNumber}: ${c.description} (${details.filter(Boolean).join(", ")})`;
}

/** The per-material changes the request stands for (families expanded), for the record. */
export function ExpandedChanges({
  changes,
  current,
  basis = "current",
}: {
  changes: readonly ExpandedChange[];
  current: readonly { partNumber: string; site: string; rule: TrackingRuleContent | null }[];
  basis?: "current" | "signed";
}) {
  const tracking = changes.filter((c) => c.kind === "tracking");
  const attributes = changes.filter((c) => c.kind === "attributes");
  const alternates = changes.filter((c) => c.kind === "alternates");
  const created = changes.filter((c) => c.kind === "new_material");
  const requirements = changes.filter((c) => c.kind === "traceability_requirement");
  const createdParts = new Set(created.map((c) => c.partNumber));
  return (
    <>
      <DataTable id="cr-expanded-tracking" caption="Tracking rules, per material and site" captionDetail={`${tracking.length} in all`}>
        <thead>
          <tr>
            <th scope="col">Material</th>
            <th scope="col">Site</th>
            <th scope="col">{basis === "signed" ? "Rule in the signed base" : "Rule in force now"}</th>
            <th scope="col">Proposed mode</th>
            <th scope="col">Containers</th>
            <th scope="col">Identifier formats</th>
            <th scope="col">Scan</th>
            <th scope="col">Via family</th>
          </tr>
        </thead>
        <tbody>
          {tracking.length === 0 ? <EmptyRow colSpan={8}>No tracking rule changes.</EmptyRow> : null}
          {tracking.map((c) => {
            const was = current.find((x) => x.partNumber === c.partNumber && x.site === c.site)?.rule ?? null;
            return (
              <tr key={`${c.partNumber}|${c.site}`}>
                <th scope="row">{c.partNumber}</th>
                <td>{c.site}</td>
                <td>
                  {was ? (
                    `${was.trackingMode}; ${formats(was)}; scan ${was.consumptionScan}`
                  ) : (
                    <span className="muted">{createdParts.has(c.partNumber) ? "no rule (new material)" : "no rule"}</span>
                  )}
                </td>
                <td>{c.rule.trackingMode}</td>
                <td>{c.rule.containerTracking ? "yes" : "no"}</td>
                <td>{formats(c.rule)}</td>
                <td>{c.rule.consumptionScan}</td>
                <td>{c.viaFamily ?? <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </DataTable>
      {attributes.length > 0 ? (
        <DataTable id="cr-expanded-attributes" caption="Material attributes (all sites)">
          <thead>
            <tr>
              <th scope="col">Material</th>
              <th scope="col">Risk class</th>
              <th scope="col">Regulatory flags</th>
              <th scope="col">Family</th>
              <th scope="col">GTIN</th>
            </tr>
          </thead>
          <tbody>
            {attributes.map((c) => (
              <tr key={c.partNumber}>
                <th scope="row">{c.partNumber}</th>
                <td>{c.riskClass ?? <span className="muted">unchanged</span>}</td>
                <td>{c.regulatoryFlags ? c.regulatoryFlags.join(", ") || "none" : <span className="muted">unchanged</span>}</td>
                <td>{c.family ?? <span className="muted">unchanged</span>}</td>
                <td>{c.gtin ?? <span className="muted">unchanged</span>}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ) : null}
      {created.length > 0 ? (
        <section aria-labelledby="cr-expanded-new-materials" className="cr-expanded-list">
          <h3 id="cr-expanded-new-materials">New materials</h3>
          <ul>
            {created.map((c) => (
              <li key={c.partNumber}>{describeNewMaterial(c)}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {requirements.length > 0 ? (
        <DataTable id="cr-expanded-requirements" caption="Required traceability (plant-wide)">
          <thead>
            <tr>
              <th scope="col">Applies to</th>
              <th scope="col">Requirement in force</th>
              <th scope="col">Proposed requirement</th>
              <th scope="col">Justification and references</th>
              <th scope="col">Lowers</th>
            </tr>
          </thead>
          <tbody>
            {requirements.map((c) => (
              <tr key={targetKey(c.target)}>
                <th scope="row">{describeTarget(c.target)}</th>
                <td>{c.before ? describeRequirement(c.before) : <span className="muted">none stated</span>}</td>
                <td>{describeRequirement(c)}</td>
                <td>
                  {c.justification}
                  {c.references.length ? <span className="muted"> ({c.references.join("; ")})</span> : null}
                </td>
                <td>
                  {c.lowers.own || c.lowers.materials.length ? (
                    [c.lowers.own ? "its own requirement" : null, c.lowers.materials.length ? c.lowers.materials.join(", ") : null].filter(Boolean).join("; ")
                  ) : (
                    <span className="muted">nothing</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ) : null}
      {alternates.length > 0 ? (
        <section aria-labelledby="cr-expanded-alternates" className="cr-expanded-list">
          <h3 id="cr-expanded-alternates">BOM line alternates, per site</h3>
          <p className="muted small">In order of preference.</p>
          <ul>
            {alternates.map((c) => (
              <li key={`${c.partNumber}|${c.component}|${c.site}`}>{describeAlternates(c)}</li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
