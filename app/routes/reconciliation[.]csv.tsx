import type { LoaderFunctionArgs } from "@remix-run/node";
import { reconciliationCsv, reconciliationReport } from "~/queries/reconciliation.server";
import { requirePermission } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";

/** GET /reconciliation.csv — the reconciliation report as CSV (columns: docs/decisions/015). */
export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "ExternalMaster");
  const report = await reconciliationReport(await getDb());
  return new Response(reconciliationCsv(report), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="c981-reconciliation.csv"`,
      "Cache-Control": "private, no-store",
    },
  });
}
