import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { csvRecord } from "~/queries/audit.server";
import { RECALL_EXPORT_NODE_CAP, recallFrom } from "~/queries/genealogy.server";
import { traceItemSite } from "~/queries/trace-items.server";
import { openQualityEventsCell, recordRecallExport } from "~/services/recall-export.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord, siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

const paramsSchema = z.object({
  itemId: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/)
    .transform(Number),
});
const RECALL_CSV_COLUMNS = [
  "recalled_from",
  "recalled_from_part_number",
  "recalled_from_site",
  "item_id",
  "identifier",
  "kind",
  "part_number",
  "site",
  "status",
  "tier",
  "recall",
  "trace_precision",
  "made_at",
  "tracking_mode_then",
  "rule_set_version_then",
  // ADR 037: appended last, so readers of the earlier columns by position keep working.
  "open_quality_events",
] as const;

/** File-name safe: identifiers are typed by people and imported from anywhere. */
const fileSafe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64);

/**
 * GET /genealogy/:itemId/recall.csv — every finished item the item may have gone into, certain or
 * candidate, at the sites the reader can see. Who took which recall list is itself recorded in the
 * audit trail (with the file's digest), in its own transaction before the file is handed out. A
 * recall that reaches more items than the export limit is refused, never cut short: a partial
 * recall list would pass for a complete one.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "TraceItem");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const found = await traceItemSite(db, { itemId: parsed.data.itemId });
  if (!found) throw notFound();
  requireRecord(signedIn, "read", "TraceItem", { siteId: found.siteId });
  const recall = await recallFrom(db, { itemId: parsed.data.itemId, sites: siteFilter(signedIn), qualityEvents: true });
  if (!recall) throw notFound();
  if (recall.truncated) {
    return new Response(
      `The recall was not exported: the forward trace reaches more than ${RECALL_EXPORT_NODE_CAP} items. Export it from an item further downstream, or ask an administrator to raise the limit.\n`,
      { status: 413, headers: { "Content-Type": "text/plain; charset=utf-8" } },
    );
  }
  const { start } = recall;
  const body =
    csvRecord(RECALL_CSV_COLUMNS) +
    recall.rows
      .map((r) =>
        csvRecord([
          start.identifier,
          start.partNumber,
          start.siteCode,
          r.id,
          r.identifier,
          r.kind,
          r.partNumber,
          r.siteCode,
          r.status,
          r.tier,
          r.certainty,
          r.precision,
          r.eventAt.toISOString(),
          r.rule.state === "ruled" ? r.rule.trackingMode : r.rule.state,
          r.rule.state === "legacy" ? "legacy" : String(r.rule.version),
          openQualityEventsCell(r.qualityEvents),
        ]),
      )
      .join("");
  const { seq } = await recordRecallExport(db, signedIn, recall, body);
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="c981-recall-${fileSafe(start.identifier)}-${seq}.csv"`,
      // A recall list reflects one user's access at one moment: never from a shared cache.
      "Cache-Control": "private, no-store",
      "X-C981-Audit-Seq": String(seq),
      "X-C981-Withheld": String(recall.withheld),
    },
  });
}
