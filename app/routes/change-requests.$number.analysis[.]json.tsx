import type { LoaderFunctionArgs } from "@remix-run/node";
import { reprDigest } from "~/queries/impact-analysis.server";
import { changeRequestHead } from "~/queries/change-requests.server";
import { appendAudit } from "~/services/audit.server";
import { storedAnalysis } from "~/services/impact-analysis.server";
import { actorName, requirePermission, requireRecord } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

const notFound = (text = "Not found") => new Response(text, { status: 404, statusText: "Not Found", headers: { "Content-Type": "text/plain; charset=utf-8" } });

/**
 * GET /change-requests/:number/analysis.json — the latest impact analysis exactly as stored: the
 * RFC 8785 canonical bytes whose SHA-256 reviewers sign with (also sent as Repr-Digest, RFC 9530),
 * so a downloaded copy can be checked against a signature. Who took a copy is audited.
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
      after: { analysisId: analysis.id, sha256: analysis.sha256, format: "json" },
    }),
  );
  return new Response(analysis.canonical, {
    headers: {
      "Content-Type": "application/json",
      "Content-Disposition": `attachment; filename="c981-${head.number}-impact-analysis-${analysis.sha256.slice(0, 12)}.json"`,
      "Repr-Digest": reprDigest(analysis.sha256),
      ETag: `"${analysis.sha256}"`,
      // An export reflects one user's access at one moment: never from a shared cache.
      "Cache-Control": "private, no-store",
      "X-C981-Analysis-Id": String(analysis.id),
    },
  });
}
