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
  change: Record<string, unknown>;
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
          <th scope="col">Updated (UTC)</th>
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

/** Change requests changing this material's governed attributes (they apply at every site). */
export function AttributeChangeRequests({ rows }: { rows: readonly MaterialAttributeChangeRow[] }) {
  if (rows.length === 0) return null;
  return (
    <DataTable id="attribute-change-requests" caption="Change requests to the attributes" captionDetail="apply at every site">
      <thead>
        <tr>
          <th scope="col">Change request</th>
          <th scope="col">Status</th>
          <th scope="col">Proposed</th>
          <th scope="col">Updated (UTC)</th>
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
            <td className="wrap">
              {Object.entries(row.change)
                .filter(([, v]) => show(v) !== null)
                .map(([k, v]) => `${k}: ${show(v)}`)
                .join("; ")}
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
