import type { Db } from "../utils/db.server";
import { actorName, type SignedIn } from "../utils/auth.server";
import { DomainError } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { storedAnalysis } from "../queries/impact-analysis-currency.server";

/**
 * An export of a change request's latest impact analysis, with an audit row naming who took which
 * analysis in which format: a write (the audit row), so a service. The route has found the change
 * request and checked that the user may read it (policies); the JSON and CSV routes differ only in
 * the body they build from the result.
 */
export async function exportLatestAnalysis(db: Db, signedIn: SignedIn, number: string, format: "json" | "csv") {
  const analysis = await storedAnalysis(db, number);
  if (!analysis) throw new DomainError("not_found", `No impact analysis of ${number} has been run yet.`);
  await db.transaction((tx) =>
    appendAudit(tx, {
      actor: actorName(signedIn),
      action: "impact_analysis.export",
      entityType: "change_request",
      entityId: number,
      after: { analysisId: analysis.id, sha256: analysis.sha256, format },
    }),
  );
  return { number, analysis };
}
