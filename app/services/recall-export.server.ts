import { createHash } from "node:crypto";
import type { QualityEventOnItem, RecallResult } from "../queries/genealogy.server";
import { actorName, type SignedIn } from "../utils/auth.server";
import type { Db } from "../utils/db.server";
import { appendAudit } from "./audit.server";

/**
 * Who took which recall list is itself recorded in the audit trail (with the file's digest), in its
 * own transaction before the file is handed out: a write, so a service. The route has read the
 * recall (a query) and built the file; the returned seq names the file.
 */
export async function recordRecallExport(db: Db, signedIn: SignedIn, recall: RecallResult, body: string): Promise<{ seq: number }> {
  const { start } = recall;
  const digest = createHash("sha256").update(body).digest("hex");
  const { seq } = await db.transaction((tx) =>
    appendAudit(tx, {
      actor: actorName(signedIn),
      action: "genealogy.recall_export",
      entityType: "trace_item",
      entityId: String(start.id),
      after: {
        identifier: start.identifier,
        partNumber: start.partNumber,
        site: start.siteCode,
        finishedItems: recall.rows.length,
        certain: recall.certain,
        candidate: recall.candidate,
        bySite: recall.bySite,
        withheld: recall.withheld,
        sha256: digest,
      },
    }),
  );
  return { seq };
}

/**
 * "QE-0003 nonconformance major; QE-0007 complaint critical (reached, candidate)": each open event
 * that references the finished item or reaches it from an item upstream — referenced ones first,
 * then certain, then candidate, by number (the order of genealogy.server.ts qualityEventReach).
 */
export function openQualityEventsCell(events: readonly QualityEventOnItem[]): string {
  return events.map((e) => `${e.number} ${e.kind} ${e.severity}${e.relation === "referenced" ? "" : ` (reached, ${e.relation})`}`).join("; ");
}
