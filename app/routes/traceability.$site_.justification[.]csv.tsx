import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { justificationCsv, justificationSite, traceabilityJustification } from "~/queries/traceability-justification.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

const paramsSchema = z.object({ site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/) });

/** GET /traceability/:site/justification.csv — the site's traceability justification report, every row (columns: ADR 035). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const site = await justificationSite(db, { siteCode: parsed.data.site, sites: siteFilter(signedIn) });
  if (!site) throw notFound();
  requireRecord(signedIn, "read", "RuleSetVersion", { siteId: site.id });
  requireRecord(signedIn, "read", "QualityEvent", { siteId: site.id });
  const report = await traceabilityJustification(db, { siteCode: site.code, at: await databaseNow(db) });
  if (!report) throw notFound();
  return new Response(justificationCsv(report), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="c981-traceability-justification-${site.code}.csv"`,
      "Cache-Control": "private, no-store",
    },
  });
}
