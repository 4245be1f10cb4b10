/**
 * Read models of impact analyses for the change-request page and its exports. The report itself
 * is the stored RFC 8785 text (never recomputed here): what a reviewer sees, downloads and signs
 * with is the same bytes, named by the same SHA-256.
 */
import { and, desc, eq, isNotNull, isNull } from "drizzle-orm";
import { changeRequests, impactAnalyses, signatures } from "../../db/schema";
import type { AnalysisReport } from "../domain/impact-analysis";
import { analysisCurrency, storedAnalysis, storedReplayOf, type StoredReplay } from "./impact-analysis-currency.server";
import type { Db, DbOrTx } from "../utils/db.server";
import { csvRecord } from "./audit.server";

export interface ImpactAnalysisView {
  /** The latest analysis of the change request, or null when none has been run. */
  latest: { id: number; sha256: string; createdAt: Date; createdBy: string; durationMs: number; report: AnalysisReport; replay: ReplayView | null } | null;
  /** Whether it may be signed with now (ADR 010); when not, why. */
  current: boolean;
  staleReason: string | null;
  /**
   * Once the request is decided (approved, released, …) its analysis is no longer "current" or
   * "stale": it is the one the signatures bound. The hash they signed with.
   */
  asSigned: { sha256: string } | null;
}

/** The replay as the page shows it: its report, hash and time (the stored bytes stay in the database). */
export type ReplayView = Omit<StoredReplay, "canonical">;
const replayView = (replay: StoredReplay | null): ReplayView | null =>
  replay ? { sha256: replay.sha256, durationMs: replay.durationMs, report: replay.report } : null;

/** Statuses after review: the analysis is what was signed, not something to refresh. */
const DECIDED = new Set(["approved", "partly_released", "released", "rejected"]);

/**
 * The latest analysis and whether it is current, read in one snapshot so that the two agree
 * (a run landing between two reads would otherwise pair one analysis with another's currency).
 */
export async function impactAnalysisView(db: Db, number: string): Promise<ImpactAnalysisView> {
  return db.transaction(
    async (tx) => {
      const latest = await storedAnalysis(tx, number);
      const [cr] = await tx.select({ id: changeRequests.id, status: changeRequests.status }).from(changeRequests).where(eq(changeRequests.number, number));
      if (cr && DECIDED.has(cr.status)) {
        const [signed] = await tx
          .select({ analysisHash: signatures.analysisHash })
          .from(signatures)
          .where(and(eq(signatures.changeRequestId, cr.id), isNull(signatures.voidedAt), isNotNull(signatures.analysisHash)))
          .orderBy(desc(signatures.signedAt), desc(signatures.id))
          .limit(1);
        const shown = signed?.analysisHash ? ((await storedAnalysisByHash(tx, cr.id, signed.analysisHash)) ?? latest) : latest;
        return {
          latest: shown
            ? {
                id: shown.id,
                sha256: shown.sha256,
                createdAt: shown.createdAt,
                createdBy: shown.createdBy,
                durationMs: shown.durationMs,
                report: shown.report,
                replay: replayView(shown.replay),
              }
            : null,
          current: false,
          staleReason: null,
          asSigned: signed?.analysisHash ? { sha256: signed.analysisHash } : null,
        };
      }
      const currency = await analysisCurrency(tx, number);
      return {
        latest: latest
          ? {
              id: latest.id,
              sha256: latest.sha256,
              createdAt: latest.createdAt,
              createdBy: latest.createdBy,
              durationMs: latest.durationMs,
              report: latest.report,
              replay: replayView(latest.replay),
            }
          : null,
        current: currency.current && latest !== null && currency.analysis.id === latest.id,
        staleReason: currency.current ? null : currency.reason,
        asSigned: null,
      };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

/** The stored analysis of a change request with this SHA-256 (the one its signatures name). */
async function storedAnalysisByHash(db: DbOrTx, changeRequestId: number, sha256: string) {
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
    .where(and(eq(impactAnalyses.changeRequestId, changeRequestId), eq(impactAnalyses.sha256, sha256)))
    .orderBy(desc(impactAnalyses.id))
    .limit(1);
  if (!row) return null;
  const { replay, replaySha256, replayDurationMs, ...rest } = row;
  return { ...rest, report: JSON.parse(row.report) as AnalysisReport, replay: storedReplayOf(replay, replaySha256, replayDurationMs) };
}

export const ANALYSIS_CSV_COLUMNS = [
  "change_request",
  "analysis_sha256",
  "data_point",
  "data_point_at",
  "part_number",
  "site",
  "from",
  "to",
  "code",
  "severity",
  "message",
  "count",
  "sample",
] as const;

/**
 * One row per finding (RFC 4180, CRLF, formula-guarded cells as in the audit export): the findings
 * of each proposed change with its part number, site and modes, then the general findings with
 * those columns empty. The sample's identifiers are joined with spaces.
 */
export function analysisCsv(report: AnalysisReport, sha256: string): string {
  const common = [report.changeRequest.number, sha256, report.dataPoint.auditSeq, report.dataPoint.at] as const;
  const lines = [csvRecord(ANALYSIS_CSV_COLUMNS)];
  for (const change of report.changes) {
    for (const f of change.findings) {
      lines.push(csvRecord([...common, change.partNumber, change.site, change.from, change.to, f.code, f.severity, f.message, f.count, f.sample.join(" ")]));
    }
  }
  for (const f of report.findings) {
    lines.push(csvRecord([...common, null, null, null, null, f.code, f.severity, f.message, f.count, f.sample.join(" ")]));
  }
  return lines.join("");
}

/** `sha-256=:<base64>:` (RFC 9530 Repr-Digest) of a hex SHA-256. */
export function reprDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, "hex").toString("base64")}:`;
}
