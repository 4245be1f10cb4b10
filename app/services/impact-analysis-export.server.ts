import { changeRequestHead } from "../queries/change-requests.server";
import { actorName, requirePermission, requireRecord } from "../utils/auth.server";
import { getDb } from "../utils/db.server";
import { appendAudit } from "./audit.server";
import { storedAnalysis } from "../queries/impact-analysis-currency.server";

const notFound = (text = "Not found") => new Response(text, { status: 404, statusText: "Not Found", headers: { "Content-Type": "text/plain; charset=utf-8" } });

/**
 * An export of a change request's latest impact analysis: the page's read guard (404 for a change
 * request the user cannot see, or without an analysis), then an audit row naming who took which
 * analysis in which format. The JSON and CSV routes differ only in the body they build from it.
 */
export async function exportLatestAnalysis(request: Request, number: string, format: "json" | "csv") {
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const head = await changeRequestHead(db, number);
  if (!head) throw notFound();
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: head.siteIds });
  const analysis = await storedAnalysis(db, head.number);
  if (!analysis) throw notFound(`No impact analysis of ${head.number} has been run yet.`);
  await db.transaction((tx) =>
    appendAudit(tx, {
      actor: actorName(signedIn),
      action: "impact_analysis.export",
      entityType: "change_request",
      entityId: head.number,
      after: { analysisId: analysis.id, sha256: analysis.sha256, format },
    }),
  );
  return { number: head.number, analysis };
}
