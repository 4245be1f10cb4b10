import type { LoaderFunctionArgs } from "@remix-run/node";
import { changeRequestHead } from "~/queries/change-requests.server";
import { exportLatestAnalysis } from "~/services/impact-analysis-export.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { notFound, PLAIN_TEXT, toTextResponse } from "~/utils/errors.server";
import { reprDigest } from "~/queries/impact-analysis.server";

/**
 * GET /change-requests/:number/analysis.json — the latest impact analysis exactly as stored: the
 * RFC 8785 canonical bytes whose SHA-256 reviewers sign with (also sent as Repr-Digest, RFC 9530),
 * so a downloaded copy can be checked against a signature. Who took a copy is audited.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  // The page's read guard: 404 for a change request the user cannot see (or without an analysis).
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const head = await changeRequestHead(db, params.number ?? "");
  if (!head) throw notFound("Not found", { headers: PLAIN_TEXT });
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: head.siteIds });
  const { number, analysis } = await exportLatestAnalysis(db, signedIn, head.number, "json").catch((error: unknown) => {
    throw toTextResponse(error);
  });
  return new Response(analysis.canonical, {
    headers: {
      "Content-Type": "application/json",
      "Content-Disposition": `attachment; filename="c981-${number}-impact-analysis-${analysis.sha256.slice(0, 12)}.json"`,
      "Repr-Digest": reprDigest(analysis.sha256),
      ETag: `"${analysis.sha256}"`,
      // An export reflects one user's access at one moment: never from a shared cache.
      "Cache-Control": "private, no-store",
      "X-C981-Analysis-Id": String(analysis.id),
    },
  });
}
