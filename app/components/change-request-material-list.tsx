import { Link } from "@remix-run/react";
import type { ChangeRequestStatus } from "~/domain/change-request-lifecycle";
import type { TrackingRuleContent } from "~/domain/tracking-rule";
import { ChangeRequestStatusBadge } from "./change-request-status";
import { DataTable } from "./data-table";
import { TrackingBadge } from "./tracking-badge";
import { UtcTime } from "./time";

export interface MaterialChangeRequestRow {
  site: string;
  number: string;
  title: string;
  status: ChangeRequestStatus;
  updatedAt: Date | string;
  rule: TrackingRuleContent;
  viaFamily: string | null;
  /** For a released request: the rule-set version whose rule for this material is the one it proposed. */
  setVersion: number | null;
}

export interface MaterialAttributeChangeRow {
  number: string;
  title: string;
  status: ChangeRequestStatus;
  updatedAt: Date | string;
  /** The attribute change (empty: none). */
  change: Record<string, unknown>;
  /** The alternates proposed for BOM lines of which the material is the parent, per site. */
  alternates?: readonly { site: string; component: string; alternates: readonly string[] }[];
  /** The change request creates the material. */
  creates?: boolean;
}

/** The change requests proposing a tracking rule for this material at one site, newest first. */
export function ChangeRequestsAtSite({ id, siteCode, rows }: { id: string; siteCode: string; rows: readonly MaterialChangeRequestRow[] }) {
  if (rows.length === 0) return <p className="muted small">No change request has proposed a rule for this material at {siteCode}.</p>;
  return (
    <DataTable id={id} caption={`Change requests at ${siteCode}`} captionDetail="which change request proposed — and, once released, set — each rule">
      <thead>
        <tr>
          <th scope="col">Change request</th>
          <th scope="col">Status</th>
          <th scope="col">Proposed rule</th>
          <th scope="col">Set the rule of</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.number}>
            <th scope="row">
              <Link to={`/change-requests/${row.number}`}>{row.number}</Link> <span className="muted">{row.title}</span>
            </th>
            <td>
              <ChangeRequestStatusBadge status={row.status} />
            </td>
            <td>
              <TrackingBadge mode={row.rule.trackingMode} /> {row.rule.identifierFormatCodes.join(", ") || "no formats"}; scan {row.rule.consumptionScan}
              {row.rule.containerTracking ? "; containers" : ""}
              {row.viaFamily ? <span className="muted"> (family {row.viaFamily})</span> : null}
            </td>
            <td>
              {row.setVersion !== null ? (
                <Link to={`/rule-sets/${siteCode}/${row.setVersion}`}>v{row.setVersion}</Link>
              ) : (
                <span className="muted">{row.status === "released" || row.status === "partly_released" ? "not matched" : "not released"}</span>
              )}
            </td>
            <td>
              <UtcTime value={row.updatedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

const show = (v: unknown) => (v === null || v === undefined ? null : Array.isArray(v) ? v.join(", ") || "none" : String(v));

const ATTRIBUTE_LABELS: Record<string, string> = { riskClass: "risk class", regulatoryFlags: "regulatory flags", family: "family", gtin: "GTIN" };

/** What a change request proposes for the material's master data, one line each. */
function proposals(row: MaterialAttributeChangeRow): string[] {
  const lines: string[] = [];
  if (row.creates) lines.push("creates this material");
  const attributes = Object.entries(row.change)
    .filter(([, v]) => show(v) !== null)
    .map(([k, v]) => `${ATTRIBUTE_LABELS[k] ?? k}: ${show(v)}`);
  if (attributes.length) lines.push(attributes.join("; "));
  for (const line of row.alternates ?? []) {
    lines.push(`at ${line.site}: alternates for ${line.component}: ${line.alternates.length ? line.alternates.join(", ") : "none (all removed)"}`);
  }
  return lines;
}

/**
 * Change requests changing this material's master data: its governed attributes (they apply at
 * every site), the alternates of its BOM lines (at the sites named), or creating it.
 */
export function AttributeChangeRequests({ rows }: { rows: readonly MaterialAttributeChangeRow[] }) {
  if (rows.length === 0) return null;
  return (
    <DataTable
      id="attribute-change-requests"
      caption="Change requests to the master data"
      captionDetail="attributes apply at every site; BOM line alternates at the sites named"
    >
      <thead>
        <tr>
          <th scope="col">Change request</th>
          <th scope="col">Status</th>
          <th scope="col">Proposed</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const lines = proposals(row);
          return (
            <tr key={row.number}>
              <th scope="row">
                <Link to={`/change-requests/${row.number}`}>{row.number}</Link> <span className="muted">{row.title}</span>
              </th>
              <td>
                <ChangeRequestStatusBadge status={row.status} />
              </td>
              <td className="wrap">
                {lines.length > 1 ? (
                  <ul className="proposal-lines">
                    {lines.map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                ) : (
                  lines[0]
                )}
              </td>
              <td>
                <UtcTime value={row.updatedAt} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </DataTable>
  );
}
