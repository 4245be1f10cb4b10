import type { LoaderFunctionArgs } from "@remix-run/node";
import { changeRequestHead } from "~/queries/change-requests.server";
import { exportLatestAnalysis } from "~/services/impact-analysis-export.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { notFound, PLAIN_TEXT, toTextResponse } from "~/utils/errors.server";
import { analysisCsv } from "~/queries/impact-analysis.server";

/**
 * GET /change-requests/:number/analysis.csv — the latest impact analysis, one row per finding, for
 * a spreadsheet. It names the analysis's SHA-256 on every row; the JSON export is the signed form.
 * Who took a copy is audited.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  // The page's read guard: 404 for a change request the user cannot see (or without an analysis).
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const head = await changeRequestHead(db, params.number ?? "");
  if (!head) throw notFound("Not found", { headers: PLAIN_TEXT });
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: head.siteIds });
  const { number, analysis } = await exportLatestAnalysis(db, signedIn, head.number, "csv").catch((error: unknown) => {
    throw toTextResponse(error);
  });
  return new Response(analysisCsv(analysis.report, analysis.sha256), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="c981-${number}-impact-analysis-${analysis.sha256.slice(0, 12)}.csv"`,
      "Cache-Control": "private, no-store",
      "X-C981-Analysis-Id": String(analysis.id),
      "X-C981-Analysis-SHA256": analysis.sha256,
    },
  });
}
