import type { LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { proposalContext } from "~/queries/proposal-context.server";
import { proposalContextQuerySchema } from "~/schemas/change-request-form";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";

/**
 * GET /change-requests/new/context?material=…&site=…&format=… — a resource route the
 * change-request form loads (useFetcher) while a tracking change is written: the rule in force for
 * the material at each chosen site and the look-alikes of the chosen formats there. The same
 * query renders it on the server when the form opens prefilled, so it works without JavaScript.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "ChangeRequest");
  const search = new URL(request.url).searchParams;
  const query = proposalContextQuerySchema.safeParse({
    material: search.get("material") ?? undefined,
    site: search.getAll("site"),
    format: search.getAll("format"),
  });
  if (!query.success) return data({ error: query.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "), context: null }, { status: 400 });
  const db = await getDb();
  const context = await proposalContext(db, {
    partNumber: query.data.material,
    sites: query.data.site,
    formats: query.data.format,
    at: await databaseNow(db),
    visible: siteFilter(signedIn),
  });
  return data({ error: null, context }, { headers: { "Cache-Control": "private, no-store" } });
}
