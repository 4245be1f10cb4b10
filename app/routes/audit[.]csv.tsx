import type { LoaderFunctionArgs } from "@remix-run/node";
import { auditCsvStream, currentDataPoint, parseAuditSearch } from "~/queries/audit.server";
import { recordAuditExport } from "~/services/audit-export.server";
import { requirePermission } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";

/**
 * GET /audit.csv — the audit trail (with the screen's filters) as a CSV file, for inspection
 * copies (21 CFR 11.10(b)). Streamed page by page; named by the data point it stops at, so two
 * exports of the same data point are the same file.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "export", "AuditTrail");
  const { filters, problems } = parseAuditSearch(new URL(request.url).searchParams);
  // The screen drops a bad filter and says so; a file cannot say so, and a silently wider export
  // would pass for the filtered one. The page's own link carries only filters that parsed.
  if (problems.length > 0) {
    return new Response(`The export was not made. Correct or remove these filters:\n${problems.map((p) => `${p.message}.\n`).join("")}`, {
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  const db = await getDb();
  const dataPoint = await currentDataPoint(db);
  // Who took an inspection copy of which records is itself recorded (after the copy's data point,
  // so the copy stays the same file for the same data point).
  await recordAuditExport(db, signedIn, dataPoint, filters);
  return new Response(auditCsvStream(db, { filters, dataPoint }), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="c981-audit-${dataPoint}.csv"`,
      // An export reflects one user's access at one moment: never from a shared cache.
      "Cache-Control": "private, no-store",
      "X-C981-Data-Point": String(dataPoint),
    },
  });
}
