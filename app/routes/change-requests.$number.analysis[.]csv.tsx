import type { LoaderFunctionArgs } from "@remix-run/node";
import { analysisCsv } from "~/queries/impact-analysis.server";
import { changeRequestHead } from "~/queries/change-requests.server";
import { appendAudit } from "~/services/audit.server";
import { storedAnalysis } from "~/services/impact-analysis.server";
import { actorName, requirePermission, requireRecord } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

const notFound = (text = "Not found") => new Response(text, { status: 404, statusText: "Not Found", headers: { "Content-Type": "text/plain; charset=utf-8" } });

/**
 * GET /change-requests/:number/analysis.csv — the latest impact analysis, one row per finding, for
 * a spreadsheet. It names the analysis's SHA-256 on every row; the JSON export is the signed form.
 * Who took a copy is audited.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const head = await changeRequestHead(db, params.number ?? "");
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
      after: { analysisId: analysis.id, sha256: analysis.sha256, format: "csv" },
    }),
  );
  return new Response(analysisCsv(analysis.report, analysis.sha256), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="c981-${head.number}-impact-analysis-${analysis.sha256.slice(0, 12)}.csv"`,
      "Cache-Control": "private, no-store",
      "X-C981-Analysis-Id": String(analysis.id),
      "X-C981-Analysis-SHA256": analysis.sha256,
    },
  });
}
