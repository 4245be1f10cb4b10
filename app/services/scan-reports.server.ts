/**
 * Stores a runtime client's batch of scan decisions (issue 26 item 2, ADR 042) in one transaction:
 * the batch row (unique per client and batch id), its counts and its refusal samples. A batch id
 * the client sent before stores nothing (`duplicate`); the same id with other content is a conflict.
 * Telemetry, not an audited change: like runtime status reports (ADR 026), the rows are the record,
 * append-only by trigger and by privilege.
 */
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { scanReportBatches, scanReportCounts, scanReportRefusals } from "../../db/schema";
import { type KnownRouting, knownRouting, stepKey } from "../queries/scan-routing.server";
import type { ScanReportBody } from "../schemas/scan-report";
import type { Db } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";

export type ScanReportOutcome = { result: "stored"; decisions: number } | { result: "duplicate"; decisions: number };

const hashOf = (report: ScanReportBody) => createHash("sha256").update(JSON.stringify(report)).digest("hex");

/** How far back an hour bucket may be (a station offline for a month still reports), and how far ahead (clock skew). */
export const SCAN_REPORT_WINDOW = { pastDays: 35, aheadHours: 1 } as const;

/** At most this many rows off the routing are named in a refusal. */
const MAX_LISTED = 50;

/**
 * The rows naming what the site's rule sets (any schema-version-2 version, ADR 042 Amendment 2) do
 * not have, as `counts.N.parent` / `counts.N.step` / `refusals.N.ruleSetVersion`. A row whose reason
 * says the station asked about something the rule set lacks is checked only as far as it can hold:
 * `unknown-parent` names neither a known parent nor step; `unknown-step` and `unknown-work-centre`
 * name a known parent and a step it does not have.
 */
export function offRouting(report: ScanReportBody, known: KnownRouting): { count: number; fields: Record<string, string[]> } {
  const fields: Record<string, string[]> = {};
  let count = 0;
  const off = (field: string, problem: string) => {
    if (++count <= MAX_LISTED) fields[field] = [problem];
  };
  const check = (where: string, row: { parent: string; step: number | null; reason: string }) => {
    if (row.reason === "unknown-parent") return;
    if (!known.parents.has(row.parent)) return off(`${where}.parent`, `${row.parent} has no rule in this site's rule sets`);
    if (row.reason === "unknown-step" || row.reason === "unknown-work-centre" || row.step === null) return;
    if (!known.steps.has(stepKey(row.parent, row.step))) off(`${where}.step`, `${row.parent} has no step ${row.step} in this site's rule sets`);
  };
  report.counts.forEach((c, i) => check(`counts.${i}`, c));
  report.refusals.forEach((r, i) => {
    if (!known.versions.has(r.ruleSetVersion)) off(`refusals.${i}.ruleSetVersion`, `this site has no version ${r.ruleSetVersion} with scan data`);
    else check(`refusals.${i}`, r);
  });
  return { count, fields };
}

export async function recordScanReport(
  db: Db,
  params: { runtimeClientId: number; siteId: number; report: ScanReportBody; now?: Date },
): Promise<ScanReportOutcome> {
  const { runtimeClientId, siteId, report } = params;
  // Buckets far in the past or the future are refused (the tables keep every row: an attacker's
  // timestamps would otherwise stay on the screen and in the tables for good).
  const now = (params.now ?? new Date()).getTime();
  const fields: Record<string, string[]> = {};
  report.counts.forEach((c, i) => {
    const at = Date.parse(c.bucket);
    if (at < now - SCAN_REPORT_WINDOW.pastDays * 86_400_000 || at > now + SCAN_REPORT_WINDOW.aheadHours * 3_600_000)
      fields[`counts.${i}.bucket`] = [`an hour within the last ${SCAN_REPORT_WINDOW.pastDays} days (not ${c.bucket})`];
  });
  if (Object.keys(fields).length) throw new DomainError("invalid", "The scan report has hours outside the accepted window", fields);
  // Every row names a parent and step of this site's routing (in some version): a token for two
  // sites cannot file one site's steps under the other; nothing is stored otherwise.
  const off = offRouting(report, await knownRouting(db, siteId));
  if (off.count > 0)
    throw new DomainError(
      "unprocessable",
      `${off.count} row${off.count === 1 ? "" : "s"} of the scan report name${off.count === 1 ? "s" : ""} a parent, step or version this site's rule sets do not have${off.count > MAX_LISTED ? ` (the first ${MAX_LISTED} listed)` : ""}; nothing was stored`,
      off.fields,
    );
  const hash = hashOf(report);
  const decisions = report.counts.reduce((n, c) => n + c.count, 0);
  return db.transaction(async (tx) => {
    const [batch] = await tx
      .insert(scanReportBatches)
      .values({ batchId: report.batchId, runtimeClientId, siteId, receivedAt: sql`now()`, decisions, refusalsOmitted: report.refusalsOmitted, hash })
      .onConflictDoNothing({ target: [scanReportBatches.runtimeClientId, scanReportBatches.batchId] })
      .returning({ id: scanReportBatches.id });
    if (!batch) {
      const [before] = await tx
        .select({ hash: scanReportBatches.hash, decisions: scanReportBatches.decisions, siteId: scanReportBatches.siteId })
        .from(scanReportBatches)
        .where(and(eq(scanReportBatches.runtimeClientId, runtimeClientId), eq(scanReportBatches.batchId, report.batchId)));
      if (!before || before.hash !== hash || before.siteId !== siteId)
        throw new DomainError("conflict", `Batch ${report.batchId} was reported before with other content.`, {
          batchId: ["this batch id was stored with other content"],
        });
      return { result: "duplicate", decisions: before.decisions };
    }
    await tx.insert(scanReportCounts).values(
      report.counts.map((c) => ({
        batchRef: batch.id,
        runtimeClientId,
        siteId,
        bucket: new Date(c.bucket),
        parent: c.parent,
        step: c.step,
        expected: c.expected,
        outcome: c.outcome,
        reason: c.reason,
        count: c.count,
      })),
    );
    if (report.refusals.length > 0)
      await tx.insert(scanReportRefusals).values(
        report.refusals.map((r) => ({
          batchRef: batch.id,
          runtimeClientId,
          siteId,
          scannedAt: new Date(r.at),
          parent: r.parent,
          step: r.step,
          expected: r.expected,
          outcome: r.outcome,
          reason: r.reason,
          ruleId: r.ruleId,
          ruleSetVersion: r.ruleSetVersion,
          scannedHash: r.scannedHash,
          scanned: r.scanned ?? null,
        })),
      );
    return { result: "stored", decisions };
  });
}
