import type { LoaderFunctionArgs } from "@remix-run/node";
import { tarArchive } from "~/domain/tar";
import { anchorExport } from "~/queries/audit-anchors.server";
import { requirePermission } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";

/**
 * GET /audit/anchors.tar — the signed audit anchors with the public keys and the openssl
 * commands (README.txt, verify.sh), for an auditor to keep outside the portal (ADR 019). The same
 * files as `npm run c981 -- audit:anchors --out DIR`.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "export", "AuditTrail");
  const exported = await anchorExport(await getDb());
  const tar = tarArchive(
    exported.files.map((f) => ({ path: `c981-audit-anchors/${f.path}`, content: f.content, mode: f.path.endsWith(".sh") ? 0o755 : 0o644 })),
    new Date(),
  );
  return new Response(tar, {
    headers: {
      "Content-Type": "application/x-tar",
      "Content-Disposition": `attachment; filename="c981-audit-anchors-${exported.anchors}.tar"`,
      "Cache-Control": "private, no-store",
    },
  });
}
