/**
 * The impact analysis of a change request on its page: which data it read, whether it may still be
 * signed with, the findings by severity — each expandable to its counts, sample identifiers and
 * structured detail — and charts where a picture reads faster than a table. What is shown is the
 * stored report (the bytes whose SHA-256 a reviewer signs with), never a recomputation.
 */
import { ITEM_STATUSES } from "~/domain/genealogy-graph/graph";
import { Form, useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";
import { findingTitle } from "~/domain/impact-analysis/finding-titles";
import { FINDING_CODES, type AnalysisReport, type ChangeAnalysis, type Finding, type Severity } from "~/domain/impact-analysis/report";
import { findingAnchor } from "~/domain/comment-threads";
import { Badge, type BadgeTone } from "./badge";
import { FindingDiscussion } from "./comment-threads";
import { DataTable, EmptyRow } from "./data-table";
import { Digest } from "./digest";
import { formatCount, formatQuantity } from "./format";
import { FormError } from "./forms";
import { TierChart, tierRows, VolumeChart, type VolumeRow } from "./impact-analysis-charts";
import { UtcTime } from "./time";
import { ReplaySection, type ReplaySectionView } from "./impact-analysis-replay";

export interface ImpactAnalysisSectionView {
  latest: {
    id: number;
    sha256: string;
    createdAt: Date | string;
    createdBy: string;
    durationMs: number;
    report: AnalysisReport;
    /** The replay stored beside it (ADR 041); null for analyses stored before replays. */
    replay?: ReplaySectionView | null;
  } | null;
  current: boolean;
  staleReason: string | null;
  /** Decided: the analysis its signatures bound (never "stale"). */
  asSigned?: { sha256: string } | null;
}

const SEVERITY_TONE: Record<Severity, BadgeTone> = { critical: "bad", warning: "warn", info: "info" };
const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
const EFFECT_LABELS: Record<ChangeAnalysis["effect"], string> = {
  upgrade: "finer (upgrade)",
  downgrade: "coarser (downgrade)",
  same: "same granularity",
  new: "first rule",
};
const MODE_LABELS: Record<string, string> = { serial: "serial", lot: "lot", none: "untracked", legacy: "legacy (no rule set yet)", unruled: "no rule" };

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <Badge tone={SEVERITY_TONE[severity]}>{severity}</Badge>;
}

/** Stable element ids from identifiers that may hold any character. */
const idPart = (text: string) => text.replace(/[^A-Za-z0-9_-]+/g, "-");

export function ImpactAnalysisSection({
  number,
  view,
  canRun,
  runErrors,
}: {
  number: string;
  view: ImpactAnalysisSectionView;
  /** The run button is offered (engineers and reviewers of every site, while it can still be signed). */
  canRun: boolean;
  runErrors: string[] | undefined;
}) {
  const navigation = useNavigation();
  const running = navigation.state === "submitting" && navigation.formData?.get("intent") === "analyse";
  const { latest } = view;
  return (
    <section aria-labelledby="impact-analysis-heading" className="card impact-analysis" id="impact-analysis">
      <h2 id="impact-analysis-heading">Impact analysis</h2>
      <p className="muted small">
        What the change does to the existing genealogy, labels, scans, ERP/PLM records and runtime clients, read from one consistent snapshot. Reviewers sign
        together with the SHA-256 of the latest analysis; it must be current: younger than 24 hours, and neither the change request nor the rules, BOMs or
        master data it touches changed since.
      </p>
      {canRun ? (
        <Form method="post" className="inline-form analysis-run">
          <input type="hidden" name="intent" value="analyse" />
          <FormError errors={runErrors} />
          <button type="submit" disabled={navigation.state === "submitting"} aria-describedby="analysis-run-hint">
            {running ? "Running impact analysis…" : latest ? "Run a fresh impact analysis" : "Run impact analysis"}
          </button>{" "}
          <span id="analysis-run-hint" className="muted small">
            Each run is kept; the latest is the one signed with.
          </span>
        </Form>
      ) : null}
      {latest === null ? (
        <p className="analysis-none">
          No impact analysis has been run for {number} yet.{" "}
          {canRun ? "Run one: it is required before the change request can be signed." : "Its author or a reviewer runs one before it is signed."}
        </p>
      ) : (
        <AnalysisReportView number={number} latest={latest} current={view.current} staleReason={view.staleReason} asSigned={view.asSigned ?? null} />
      )}
    </section>
  );
}

function AnalysisReportView({
  number,
  latest,
  current,
  staleReason,
  asSigned,
}: {
  number: string;
  latest: NonNullable<ImpactAnalysisSectionView["latest"]>;
  current: boolean;
  staleReason: string | null;
  asSigned: { sha256: string } | null;
}) {
  const { report } = latest;
  const versions = Object.entries(report.ruleSetVersions);
  const volumeRows = report.changes.flatMap((c) => volumeRowsOf(c));
  return (
    <>
      {asSigned ? (
        <div className="notice notice-good analysis-currency" role="status">
          <p>
            <strong>As signed:</strong> the reviewers signed with this analysis, SHA-256 <Digest value={asSigned.sha256} />. It stays the record of what they
            saw.
          </p>
        </div>
      ) : current ? (
        <div className="notice notice-good analysis-currency" role="status">
          <p>
            <strong>Current:</strong> reviewers sign with this analysis.
          </p>
        </div>
      ) : (
        <div className="notice notice-warn analysis-currency" role="status">
          <p>
            <strong>Stale:</strong> {staleReason} A fresh analysis is required before the next signature.
          </p>
        </div>
      )}
      <dl className="properties analysis-facts">
        <div>
          <dt>Data point</dt>
          <dd>
            audit entry #{report.dataPoint.auditSeq} at <UtcTime value={report.dataPoint.at} />
          </dd>
        </div>
        <div>
          <dt>Rule-set versions read</dt>
          <dd>{versions.length ? versions.map(([site, v]) => `${site} ${v === null ? "none" : `v${v}`}`).join(", ") : <span className="muted">none</span>}</dd>
        </div>
        <div>
          <dt>Revision analysed</dt>
          <dd>{report.changeRequest.revision}</dd>
        </div>
        <div>
          <dt>Run by</dt>
          <dd>
            <code>{latest.createdBy}</code> at <UtcTime value={latest.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatCount(latest.durationMs)} ms</dd>
        </div>
        <div>
          <dt>Volume window</dt>
          <dd>{report.window.days} days before the data point</dd>
        </div>
        <div className="wide">
          <dt>Analysis SHA-256</dt>
          <dd>
            <Digest value={latest.sha256} full />
          </dd>
        </div>
      </dl>
      <p className="analysis-exports">
        Export:{" "}
        <a href={`/change-requests/${number}/analysis.json`} download>
          JSON (the signed bytes)
        </a>{" "}
        ·{" "}
        <a href={`/change-requests/${number}/analysis.csv`} download>
          CSV (one row per finding)
        </a>
      </p>

      <h3 id="analysis-summary-heading">Summary</h3>
      <ul className="severity-summary" aria-labelledby="analysis-summary-heading">
        {(["critical", "warning", "info"] as const).map((s) => (
          <li key={s}>
            <Badge tone={SEVERITY_TONE[s]}>
              {formatCount(report.summary[s])} {s}
            </Badge>
          </li>
        ))}
      </ul>
      {volumeRows.length > 0 && volumeRows.every((r) => !(Number(r.before) > 0) && !(Number(r.after) > 0)) ? (
        <p className="muted small" id="analysis-volume-empty">
          No labels were printed and no scans made for the changed materials in the {report.window.days} days before the data point: no volume to chart.
        </p>
      ) : volumeRows.length > 0 ? (
        <VolumeChart id="analysis-volume-chart" rows={volumeRows} windowDays={report.window.days} />
      ) : (
        <p className="muted small">No label or scan volume changes.</p>
      )}

      {report.changes.map((change) => (
        <ChangeFindings key={`${change.partNumber}|${change.site}`} change={change} />
      ))}

      <section aria-labelledby="analysis-general-heading" className="analysis-change">
        <h3 id="analysis-general-heading">Across the change request</h3>
        <FindingList findings={report.findings} idPrefix="general" scope={null} />
      </section>

      <ReplaySection replay={latest.replay ?? null} />
    </>
  );
}

function volumeRowsOf(change: ChangeAnalysis): VolumeRow[] {
  const label = `${change.partNumber} at ${change.site}`;
  const rows: VolumeRow[] = [];
  const labels = change.findings.find((f) => f.code === "LABELS");
  if (labels?.counts)
    rows.push({
      change: label,
      measure: "Labels per day",
      before: String(labels.counts.labelsPerDayBefore ?? "0"),
      after: String(labels.counts.labelsPerDayAfter ?? "0"),
    });
  const scans = change.findings.find((f) => f.code === "SCAN_STEPS");
  if (scans?.counts)
    rows.push({
      change: label,
      measure: "Scans per day",
      before: String(scans.counts.scansPerDayBefore ?? "0"),
      after: String(scans.counts.scansPerDayAfter ?? "0"),
    });
  return rows;
}

function ChangeFindings({ change }: { change: ChangeAnalysis }) {
  const key = idPart(`${change.partNumber}-${change.site}`);
  const headingId = `analysis-change-${key}`;
  const byTier = change.findings.find((f) => f.code === "REACH")?.detail?.byTier as Record<string, Record<string, number>> | undefined;
  return (
    <section aria-labelledby={headingId} className="analysis-change">
      <h3 id={headingId}>
        {change.partNumber} at {change.site}: {MODE_LABELS[change.from] ?? change.from} → {MODE_LABELS[change.to] ?? change.to}{" "}
        <span className="muted">({EFFECT_LABELS[change.effect]})</span>
      </h3>
      <FindingList findings={change.findings} idPrefix={key} scope={change} />
      {byTier && Object.keys(byTier).length > 0 ? (
        <TierChart id={`analysis-tier-chart-${key}`} subject={`${change.partNumber} at ${change.site}`} byTier={byTier} />
      ) : null}
    </section>
  );
}

function FindingList({
  findings,
  idPrefix,
  scope,
}: {
  findings: readonly Finding[];
  idPrefix: string;
  /** The proposed change the findings belong to (null: across the request), for comments anchored on them. */
  scope: { partNumber: string; site: string } | null;
}) {
  if (findings.length === 0) return <p className="muted">No findings.</p>;
  // Most severe first; the report's own order within a severity.
  const sorted = findings.map((f, i) => ({ f, i })).sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i);
  return (
    <ul className="finding-list">
      {sorted.map(({ f }) => (
        <li key={f.code}>
          <FindingDetails finding={f} id={`finding-${idPrefix}-${f.code}`} />
          <FindingDiscussion anchor={findingAnchor(f.code, scope)} />
        </li>
      ))}
    </ul>
  );
}

/** "labelsPerDayBefore" → "labels per day before"; "kind:serial" → "serial items"; "site:EIN" → "at EIN". */
export function countLabel(key: string): string {
  const colon = key.indexOf(":");
  const prefix = colon >= 0 ? key.slice(0, colon) : null;
  const rest = colon >= 0 ? key.slice(colon + 1) : key;
  if (prefix === "kind") return `${rest} items`;
  if (prefix === "site") return `at ${rest}`;
  return rest.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

function FindingDetails({ finding, id }: { finding: Finding; id: string }) {
  const counts = Object.entries(finding.counts ?? {});
  return (
    <details className={`finding finding-${finding.severity}`} id={id}>
      <summary>
        <SeverityBadge severity={finding.severity} /> <strong className="finding-title">{findingTitle(finding.code).title}</strong>{" "}
        <code className="finding-code">{finding.code}</code> <span className="finding-message">{finding.message}</span>
      </summary>
      <div className="finding-body">
        <p className="finding-explanation small">{findingTitle(finding.code).explanation}</p>
        <p className="muted small">{FINDING_CODES[finding.code] ?? finding.code}</p>
        <dl className="finding-counts">
          <div>
            <dt>Count</dt>
            <dd>{formatCount(finding.count)}</dd>
          </div>
          {counts.map(([k, v]) => (
            <div key={k}>
              <dt>{countLabel(k)}</dt>
              <dd>{typeof v === "number" ? formatCount(v) : v}</dd>
            </div>
          ))}
        </dl>
        {finding.sample.length > 0 ? (
          <>
            <p className="small finding-sample-heading">
              Sample ({finding.sample.length} shown, sorted{finding.sample.length >= 20 ? "; the counts are complete" : ""}):
            </p>
            <ul className="finding-sample">
              {finding.sample.map((s) => (
                <li key={s}>
                  <code>{s}</code>
                </li>
              ))}
            </ul>
          </>
        ) : null}
        <FindingDetail finding={finding} id={id} />
      </div>
    </details>
  );
}

interface CandidateSet {
  parent: string;
  parentMaterial: string;
  precision: string;
  candidates: { lot: string; quantity: string; unit: string }[];
}
interface LabelTemplate {
  code: string;
  name: string;
  workCentre: string | null;
  formats: string[];
}

interface LookAlikeEntry {
  formats: string[];
  status: "introduced" | "kept";
  confusion: boolean;
  kinds: string[];
  example: string;
  readsAs: { format: string; kind: string }[];
  readings: { elementString: string; kind: string; standard: boolean }[];
}

const asArray = <T,>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** The structured detail a finding carries, as tables. */
function FindingDetail({ finding, id }: { finding: Finding; id: string }): ReactNode {
  const detail = finding.detail;
  if (!detail) return null;
  switch (finding.code) {
    case "CANDIDATE_LINKS": {
      const sets = asArray<CandidateSet>(detail.candidateSets);
      return (
        <DataTable
          id={`${id}-sets`}
          caption="Candidate sets"
          captionDetail={`serialized parents and the lots they may contain${sets.length < finding.count ? ` (first ${sets.length} of ${finding.count})` : ""}`}
        >
          <thead>
            <tr>
              <th scope="col">Parent serial</th>
              <th scope="col">Parent material</th>
              <th scope="col">Candidate lots (quantity)</th>
              <th scope="col">Trace precision</th>
            </tr>
          </thead>
          <tbody>
            {sets.length === 0 ? <EmptyRow colSpan={4} /> : null}
            {sets.map((s) => (
              <tr key={s.parent}>
                <th scope="row">
                  <code>{s.parent}</code>
                </th>
                <td>{s.parentMaterial}</td>
                <td>
                  {s.candidates.map((c, i) => (
                    <span key={c.lot}>
                      {i > 0 ? ", " : null}
                      <code>{c.lot}</code> ({formatQuantity(c.quantity)} {c.unit})
                    </span>
                  ))}
                </td>
                <td>{s.precision}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      );
    }
    case "LOOK_ALIKE_FORMATS": {
      const entries = asArray<LookAlikeEntry>(detail.lookAlikes);
      return (
        <>
          <p className="small">
            Formats of the rule: {asArray<string>(detail.formats).join(", ")}; used with: {asArray<string>(detail.usedWith).join(", ")}
            {asArray<string>(detail.templates).length ? ` (label templates ${asArray<string>(detail.templates).join(", ")})` : ""}.
          </p>
          <DataTable id={`${id}-look-alikes`} caption="Look-alike formats" captionDetail="each with a string that reads as more than one of them">
            <thead>
              <tr>
                <th scope="col">Formats</th>
                <th scope="col">Example string</th>
                <th scope="col">Reads as</th>
                <th scope="col">Confusion</th>
                <th scope="col">This change</th>
              </tr>
            </thead>
            <tbody>
              {entries.length === 0 ? <EmptyRow colSpan={5} /> : null}
              {entries.map((e) => (
                <tr key={e.formats.join("|")}>
                  <th scope="row">{e.formats.join(" and ")}</th>
                  <td>
                    <code>{e.example}</code>
                  </td>
                  <td>
                    <ul className="plain-list">
                      {e.readsAs.map((r) => (
                        <li key={r.format}>
                          {r.format} → {r.kind}
                        </li>
                      ))}
                      {e.readings.map((r) => (
                        <li key={r.elementString}>
                          GS1 {r.elementString} → {r.kind}
                          {r.standard ? "" : " (separator missing)"}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>{e.confusion ? `yes: ${e.kinds.filter((k) => k !== "other").join(" vs ")}` : "no: same kind"}</td>
                  <td>{e.status}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        </>
      );
    }
    case "LABELS": {
      const templates = asArray<LabelTemplate>(detail.templates);
      return (
        <>
          <p className="small">
            Identifier formats: {asArray<string>(detail.formatsBefore).join(", ") || "none"} → {asArray<string>(detail.formatsAfter).join(", ") || "none"}
          </p>
          <DataTable id={`${id}-templates`} caption="Label templates that must change">
            <thead>
              <tr>
                <th scope="col">Template</th>
                <th scope="col">Name</th>
                <th scope="col">Work centre</th>
                <th scope="col">Formats</th>
              </tr>
            </thead>
            <tbody>
              {templates.length === 0 ? <EmptyRow colSpan={4}>None.</EmptyRow> : null}
              {templates.map((t) => (
                <tr key={t.code}>
                  <th scope="row">
                    <code>{t.code}</code>
                  </th>
                  <td>{t.name}</td>
                  <td>{t.workCentre ?? <span className="muted">site-wide</span>}</td>
                  <td>{t.formats.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        </>
      );
    }
    case "REACH": {
      const rows = tierRows((detail.byTier ?? {}) as Record<string, Record<string, number>>);
      const statuses = ITEM_STATUSES;
      return (
        <DataTable id={`${id}-tiers`} caption="Affected items per tier" captionDetail="tier 0: the material's own items; then what they went into">
          <thead>
            <tr>
              <th scope="col">Tier</th>
              {statuses.map((s) => (
                <th scope="col" key={s}>
                  {s}
                </th>
              ))}
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? <EmptyRow colSpan={statuses.length + 2} /> : null}
            {rows.map((r) => (
              <tr key={r.tier}>
                <th scope="row">{r.tier}</th>
                {statuses.map((s) => (
                  <td key={s}>{formatCount(r.counts[s] ?? 0)}</td>
                ))}
                <td>{formatCount(r.total)}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      );
    }
    case "DISTRIBUTION": {
      const sites = asArray<{ site: string; versionInForce: number | null }>(detail.sites);
      return (
        <p className="small">
          Version in force: {sites.map((s) => `${s.site} ${s.versionInForce === null ? "none" : `v${s.versionInForce}`}`).join(", ") || "none"}
        </p>
      );
    }
    default:
      // A detail this screen does not know yet is still shown, as the report has it.
      return <pre className="code-block">{JSON.stringify(detail, null, 2)}</pre>;
  }
}
