import { Link } from "@remix-run/react";
import { Badge, type BadgeTone } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { UtcTime } from "~/components/time";
import { QUALITY_EVENT_KIND_LABELS } from "~/domain/quality-event";
import {
  JUSTIFICATION_STATUS_LABELS,
  JUSTIFICATION_STATUSES,
  type JustificationReport,
  type JustificationRow,
  type JustificationStatus,
} from "~/domain/traceability-justification";

const STATUS_TONE: Record<JustificationStatus, BadgeTone> = {
  meets: "good",
  below_with_deviation: "warn",
  below_without_deviation: "bad",
  no_rule: "warn",
  no_requirement: "bad",
};

export function JustificationStatusBadge({ status }: { status: JustificationStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{JUSTIFICATION_STATUS_LABELS[status]}</Badge>;
}

/** The summary counts: materials, per status, open deviations (expired among them) and open quality events. */
export function JustificationSummary({ summary }: { summary: JustificationReport["summary"] }) {
  return (
    <dl className="properties" aria-label="Summary">
      <div>
        <dt>Materials</dt>
        <dd>{summary.materials}</dd>
      </div>
      {JUSTIFICATION_STATUSES.map((s) => (
        <div key={s}>
          <dt>{JUSTIFICATION_STATUS_LABELS[s]}</dt>
          <dd>{summary.byStatus[s]}</dd>
        </div>
      ))}
      <div>
        <dt>Open deviations</dt>
        <dd>
          {summary.openDeviations}
          {summary.expiredDeviations ? <span className="error-text"> ({summary.expiredDeviations} expired)</span> : null}
        </dd>
      </div>
      <div>
        <dt>Open quality events relying on these materials</dt>
        <dd>{summary.openQualityEvents}</dd>
      </div>
    </dl>
  );
}

function SetBy({ row, links }: { row: JustificationRow; links: boolean }) {
  if (!row.requirement) return <span className="muted">—</span>;
  return (
    <ul className="plain-list">
      {row.setBy.map((s) => (
        <li key={`${s.effectiveFrom}-${s.changeRequest ?? "initial"}`}>
          {s.changeRequest ? links ? <Link to={`/change-requests/${s.changeRequest}`}>{s.changeRequest}</Link> : s.changeRequest : "initial policy"}{" "}
          <span className="muted small">
            from <UtcTime value={s.effectiveFrom} />
            {s.effectiveTo ? (
              <>
                {" "}
                to <UtcTime value={s.effectiveTo} />
              </>
            ) : null}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Every row of the report: the screen (with links) and the printable record (without) show the same table. */
export function JustificationTable({ rows, links, caption }: { rows: readonly JustificationRow[]; links: boolean; caption: string }) {
  return (
    <DataTable id="traceability-justification" caption={caption} captionDetail={`${rows.length} material(s)`}>
      <thead>
        <tr>
          <th scope="col">Material</th>
          <th scope="col">Required</th>
          <th scope="col">Justification</th>
          <th scope="col">Set by</th>
          <th scope="col">In force at the site</th>
          <th scope="col">Status</th>
          <th scope="col">Open deviations</th>
          <th scope="col">Open quality events</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={8}>No material has this status.</EmptyRow> : null}
        {rows.map((row) => (
          <tr key={row.partNumber}>
            <th scope="row" className="wrap">
              {links ? <Link to={`/materials/${encodeURIComponent(row.partNumber)}`}>{row.partNumber}</Link> : row.partNumber}
              <div className="muted small">{row.description}</div>
              <div className="muted small">
                {row.family} · risk {row.riskClass}
                {row.regulatoryFlags.length ? ` · ${row.regulatoryFlags.join(", ")}` : " · not regulated"}
              </div>
            </th>
            <td className="wrap">
              {row.requirement ? (
                <>
                  <Badge tone={row.requirement.minimumTracking}>{row.requirement.minimumTracking}</Badge>
                  <div className="small">
                    {row.requirement.containerRequired ? "containers required" : "no containers required"}; scan {row.requirement.requiredScan}
                  </div>
                  <div className="muted small">stated for {row.requirement.target}</div>
                </>
              ) : (
                <span className="muted">none stated</span>
              )}
            </td>
            <td className="wrap">
              {row.requirement ? (
                <>
                  {row.requirement.justification}
                  <div className="muted small">References: {row.requirement.references.join("; ") || "none"}</div>
                </>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td className="wrap">
              <SetBy row={row} links={links} />
            </td>
            <td className="wrap">
              {row.rule.state === "ruled" ? <Badge tone={row.rule.trackingMode}>{row.rule.trackingMode}</Badge> : null}
              <div className="small">{row.ruleText}</div>
            </td>
            <td className="wrap">
              <JustificationStatusBadge status={row.status} />
              {row.shortfalls.length ? (
                <ul className="plain-list small">
                  {row.shortfalls.map((s) => (
                    <li key={s}>{s}</li>
                  ))}
                </ul>
              ) : null}
            </td>
            <td className="wrap">
              {row.deviations.length === 0 ? <span className="muted">—</span> : null}
              {row.deviations.map((d, i) => (
                <div key={`${d.changeRequest}-${i}`} className="small">
                  {links ? <Link to={`/change-requests/${d.changeRequest}`}>{d.changeRequest}</Link> : d.changeRequest}: {d.reason}
                  <div className="muted">
                    Risk assessment {d.riskAssessmentRef}; compensating controls: {d.compensatingControls}
                  </div>
                  <div>
                    {d.expiresOn ? `expires ${d.expiresOn}` : "no expiry"}
                    {d.expired ? (
                      <>
                        {" "}
                        <Badge tone="bad">expired</Badge>
                      </>
                    ) : null}
                  </div>
                </div>
              ))}
            </td>
            <td className="wrap">
              {row.qualityEvents.length === 0 ? <span className="muted">—</span> : null}
              {row.qualityEvents.map((e) => (
                <div key={e.number} className="small">
                  {e.number} {QUALITY_EVENT_KIND_LABELS[e.kind]} · {e.severity} · {e.status}
                </div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
