/**
 * Read models of impact analyses for the change-request page and its exports. The report itself
 * is the stored RFC 8785 text (never recomputed here): what a reviewer sees, downloads and signs
 * with is the same bytes, named by the same SHA-256.
 */
import type { AnalysisReport } from "../domain/impact-analysis";
import { analysisCurrency, storedAnalysis } from "../services/impact-analysis.server";
import type { Db } from "../utils/db.server";
import { csvRecord } from "./audit.server";

export interface ImpactAnalysisView {
  /** The latest analysis of the change request, or null when none has been run. */
  latest: { id: number; sha256: string; createdAt: Date; createdBy: string; durationMs: number; report: AnalysisReport } | null;
  /** Whether it may be signed with now (ADR 009); when not, why. */
  current: boolean;
  staleReason: string | null;
}

/**
 * The latest analysis and whether it is current, read in one snapshot so that the two agree
 * (a run landing between two reads would otherwise pair one analysis with another's currency).
 */
export async function impactAnalysisView(db: Db, number: string): Promise<ImpactAnalysisView> {
  return db.transaction(
    async (tx) => {
      const latest = await storedAnalysis(tx, number);
      const currency = await analysisCurrency(tx, number);
      return {
        latest: latest ? { id: latest.id, sha256: latest.sha256, createdAt: latest.createdAt, createdBy: latest.createdBy, durationMs: latest.durationMs, report: latest.report } : null,
        current: currency.current && latest !== null && currency.analysis.id === latest.id,
        staleReason: currency.current ? null : currency.reason,
      };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
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
