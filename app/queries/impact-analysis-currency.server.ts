/**
 * Whether an impact analysis may be signed with (ADR 010): the digest of what it depends on besides
 * genealogy, the stored analyses and their currency. Reads only: the analysis itself is computed
 * and stored by app/services/impact-analysis.server.ts, which reads its basis digest through
 * basisDigestWith here, so the digest it stores and the one compared here are the same function.
 */
import { createHash } from "node:crypto";
import { desc, eq, sql, type SQL } from "drizzle-orm";
import { changeRequests, impactAnalyses } from "../../db/schema";
import { canonicalize } from "../domain/canonical-json";
import type { ExpandedChange, ExpandedTrackingChange } from "../domain/change-request";
import { ANALYSIS_MAX_AGE_HOURS, type AnalysisReport } from "../domain/impact-analysis";
import type { ReplayReport } from "../domain/replay/report";
import { analysisReadsMoved, type AnalysisReadValues } from "../domain/request-base";
import type { DbOrTx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { loadBaseWorld } from "./request-bases.server";

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

type Row = Record<string, unknown>;
async function rows<T extends Row>(db: DbOrTx, query: SQL): Promise<T[]> {
  return (await db.execute<T>(query)) as unknown as T[];
}

/** Runs one read of a snapshot. */
export type Reader = <T extends Row>(query: SQL) => Promise<T[]>;

const trackingChangesOf = (expanded: readonly ExpandedChange[]) => expanded.filter((c): c is ExpandedTrackingChange => c.kind === "tracking");

/** The materials a change request touches, and its sites. */
export function scopeOf(expanded: readonly ExpandedChange[]) {
  const tracking = trackingChangesOf(expanded);
  return {
    tracking,
    partNumbers: [...new Set(tracking.map((c) => c.partNumber))].sort(),
    sites: [...new Set(tracking.map((c) => c.site))].sort(),
  };
}

/**
 * What an analysis depends on besides genealogy: the rules, BOM lines and master data of the
 * touched materials and their BOM neighbours at the touched sites. Its digest changes exactly when
 * one of them does (that makes an analysis stale). Not the site's latest version number: a release
 * of rules the analysis never read leaves it current (ADR 010).
 */
export async function analysisBasisDigest(db: DbOrTx, expanded: readonly ExpandedChange[]): Promise<string> {
  return basisDigestWith((query) => rows(db, query), expanded);
}

export async function basisDigestWith(read: Reader, expanded: readonly ExpandedChange[]): Promise<string> {
  const { partNumbers, sites } = scopeOf(expanded);
  if (partNumbers.length === 0) return sha256Hex(canonicalize({ empty: true }));
  const pn = sql`array[${sql.join(
    partNumbers.map((p) => sql`${p}`),
    sql`, `,
  )}]::text[]`;
  const st = sql`array[${sql.join(
    sites.map((s) => sql`${s}`),
    sql`, `,
  )}]::text[]`;
  const [basis] = await read<{ basis: string }>(
    sql`
    with touched as (select id from materials where part_number = any(${pn})),
    site_ids as (select id, code from sites where code = any(${st})),
    lines as (
      select bl.id, s.code as site, p.part_number as parent, c.part_number as component, bl.line_no, bl.quantity::text as quantity, bl.unit,
        coalesce((select json_agg(json_build_array(m.part_number, a.priority) order by a.priority, m.part_number)
                  from bom_line_alternates a join materials m on m.id = a.material_id where a.bom_line_id = bl.id), '[]'::json) as alternates
      from bom_lines bl join site_ids s on s.id = bl.site_id
      join materials p on p.id = bl.parent_material_id join materials c on c.id = bl.component_material_id
      where bl.parent_material_id in (select id from touched) or bl.component_material_id in (select id from touched)
         or exists (select 1 from bom_line_alternates a where a.bom_line_id = bl.id and a.material_id in (select id from touched))
    ),
    neighbours as (
      select id from touched
      union select m.id from lines l join materials m on m.part_number in (l.parent, l.component)
      union select a.material_id from lines l join bom_line_alternates a on a.bom_line_id = l.id
    )
    select json_build_object(
      'lines', coalesce((select json_agg(json_build_array(site, parent, component, line_no, quantity, unit, alternates) order by site, parent, line_no, component) from lines), '[]'::json),
      'materials', coalesce((select json_agg(json_build_array(m.part_number, m.risk_class, m.regulatory_flags, f.code, m.gtin, m.unit_of_measure) order by m.part_number)
                    from materials m join material_families f on f.id = m.family_id where m.id in (select id from neighbours)), '[]'::json),
      'rules', coalesce((select json_agg(json_build_array(m.part_number, s.code, r.tracking_mode, r.container_tracking, r.identifier_format_codes, r.consumption_scan, r.rule_set_version_id) order by m.part_number, s.code)
                    from tracking_rules r join materials m on m.id = r.material_id join site_ids s on s.id = r.site_id
                    where r.effective_to is null and r.material_id in (select id from neighbours)), '[]'::json)
    )::text as basis`,
  );
  // Open quality events on the touched materials at the touched sites — on one of their items or on
  // the material itself — with status, severity and row version (ADR 037): raising, containing,
  // re-grading or closing one makes the analysis stale. Only present when there are some, so the
  // digest of a request without such events is what it was before quality events existed. Events
  // that only reach the change through genealogy further downstream are, like genealogy itself,
  // bounded by the analysis's 24-hour age.
  const [quality] = await read<{ events: string | null }>(
    sql`select json_agg(json_build_array(e.number, e.kind, e.severity, e.status, e.row_version) order by e.number)::text as events
      from quality_events e
      where e.status <> 'closed' and exists (
        select 1 from quality_event_references r join materials m on m.id = r.material_id join sites s on s.id = r.site_id
        where r.quality_event_id = e.id and m.part_number = any(${pn}) and s.code = any(${st}))`,
  );
  const parsed = JSON.parse(basis!.basis) as Record<string, unknown>;
  if (quality?.events) parsed.qualityEvents = JSON.parse(quality.events);
  return sha256Hex(canonicalize(parsed));
}

/** A change request's row, as the analysis and its currency read it; not found is an error. */
export async function changeRequestRow(db: DbOrTx, number: string) {
  const [cr] = await db
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      revision: changeRequests.revision,
      contentHash: changeRequests.contentHash,
      expandedChanges: changeRequests.expandedChanges,
      status: changeRequests.status,
    })
    .from(changeRequests)
    .where(eq(changeRequests.number, number));
  if (!cr) throw new DomainError("not_found", `change request ${number} does not exist`);
  return { ...cr, expandedChanges: cr.expandedChanges as ExpandedChange[] };
}

export interface StoredAnalysis {
  id: number;
  sha256: string;
  dataPoint: number;
  createdAt: Date;
  summary: AnalysisReport["summary"];
  /** The SHA-256 of the replay stored with it (ADR 041); null for analyses stored before replays. */
  replaySha256: string | null;
}

export type AnalysisCurrency = { current: true; analysis: StoredAnalysis } | { current: false; reason: string; analysis: StoredAnalysis | null };

/** Whether the latest analysis may be signed with: same content, same basis, younger than 24 h. */
export async function analysisCurrency(db: DbOrTx, number: string, now?: Date): Promise<AnalysisCurrency> {
  const cr = await changeRequestRow(db, number);
  const [latest] = await db
    .select({
      id: impactAnalyses.id,
      sha256: impactAnalyses.sha256,
      dataPoint: impactAnalyses.dataPoint,
      createdAt: impactAnalyses.createdAt,
      summary: impactAnalyses.summary,
      contentHash: impactAnalyses.contentHash,
      basisDigest: impactAnalyses.basisDigest,
      reads: impactAnalyses.reads,
      replaySha256: impactAnalyses.replaySha256,
    })
    .from(impactAnalyses)
    .where(eq(impactAnalyses.changeRequestId, cr.id))
    .orderBy(desc(impactAnalyses.id))
    .limit(1);
  if (!latest) return { current: false, reason: "No impact analysis has been run for it yet.", analysis: null };
  const analysis: StoredAnalysis = {
    id: latest.id,
    sha256: latest.sha256,
    dataPoint: latest.dataPoint,
    createdAt: latest.createdAt,
    summary: latest.summary as AnalysisReport["summary"],
    replaySha256: latest.replaySha256,
  };
  if (latest.contentHash !== cr.contentHash) return { current: false, reason: "The change request changed since its last analysis.", analysis };
  const dbNow = now ?? (await rows<{ now: Date }>(db, sql`select now() as now`))[0]!.now;
  if (new Date(dbNow).getTime() - latest.createdAt.getTime() > ANALYSIS_MAX_AGE_HOURS * 3_600_000) {
    return { current: false, reason: `The last analysis is older than ${ANALYSIS_MAX_AGE_HOURS} hours.`, analysis };
  }
  if ((await analysisBasisDigest(db, cr.expandedChanges)) !== latest.basisDigest) {
    return { current: false, reason: "Rules, BOMs or master data it touches changed since its last analysis.", analysis };
  }
  // What it read further out (finished goods' master data and top tier, genealogy neighbours' rules).
  const moved = latest.reads ? analysisReadsMoved(cr.expandedChanges, latest.reads as AnalysisReadValues, await loadBaseWorld(db)) : [];
  if (moved.length) return { current: false, reason: `What it read changed since its last analysis: ${moved.join("; ")}.`, analysis };
  return { current: true, analysis };
}

/** The stored report of an analysis (for screens and exports). */
export async function storedAnalysis(
  db: DbOrTx,
  number: string,
  analysisId?: number,
): Promise<{
  id: number;
  sha256: string;
  createdAt: Date;
  createdBy: string;
  durationMs: number;
  report: AnalysisReport;
  canonical: string;
  replay: StoredReplay | null;
} | null> {
  const cr = await changeRequestRow(db, number);
  const [row] = await db
    .select({
      id: impactAnalyses.id,
      sha256: impactAnalyses.sha256,
      createdAt: impactAnalyses.createdAt,
      createdBy: impactAnalyses.createdBy,
      durationMs: impactAnalyses.durationMs,
      report: impactAnalyses.report,
      replay: impactAnalyses.replay,
      replaySha256: impactAnalyses.replaySha256,
      replayDurationMs: impactAnalyses.replayDurationMs,
    })
    .from(impactAnalyses)
    .where(
      analysisId === undefined
        ? eq(impactAnalyses.changeRequestId, cr.id)
        : sql`${impactAnalyses.changeRequestId} = ${cr.id} and ${impactAnalyses.id} = ${analysisId}`,
    )
    .orderBy(desc(impactAnalyses.id))
    .limit(1);
  if (!row) return null;
  const { replay, replaySha256, replayDurationMs, ...rest } = row;
  return { ...rest, canonical: row.report, report: JSON.parse(row.report) as AnalysisReport, replay: storedReplayOf(replay, replaySha256, replayDurationMs) };
}

/** The replay stored beside an analysis (ADR 041): its report, the stored bytes' SHA-256 and its own duration. */
export interface StoredReplay {
  sha256: string;
  durationMs: number;
  report: ReplayReport;
  canonical: string;
}

export function storedReplayOf(text: string | null, sha256: string | null, durationMs: number | null): StoredReplay | null {
  return text === null || sha256 === null ? null : { sha256, durationMs: durationMs ?? 0, report: JSON.parse(text) as ReplayReport, canonical: text };
}
