import type { LoaderFunctionArgs } from "@remix-run/node";
import { exportLatestAnalysis } from "~/services/impact-analysis-export.server";
import { analysisCsv } from "~/queries/impact-analysis.server";

/**
 * GET /change-requests/:number/analysis.csv — the latest impact analysis, one row per finding, for
 * a spreadsheet. It names the analysis's SHA-256 on every row; the JSON export is the signed form.
 * Who took a copy is audited.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { number, analysis } = await exportLatestAnalysis(request, params.number ?? "", "csv");
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
