/**
 * The large plant (`npm run db:seed -- --scale large`): the demo plant with all its hard cases,
 * plus a synthetic five-tier genealogy at EIN of 1,000,000 trace items and about 3,000,000 edges,
 * generated inside PostgreSQL (set-based INSERT … SELECT over generate_series — a bulk load with no
 * rows crossing the wire), deterministic (parents chosen by a multiplicative hash), and audited by
 * one summarizing row. Tiers: raw lots → machined lots → serialized subassemblies → assembly lots
 * → finished serials; every item below the first consumes 3 or 4 items of the tier before it.
 */
import { sql } from "drizzle-orm";
import { appendAudit } from "../services/audit.server";
import type { Database } from "../utils/db.server";
import type { KeyRing } from "../utils/signing.server";
import { seedDemoPlant } from "./seed.server";

export interface Tier {
  name: string;
  family: string;
  prefix: string;
  kind: "serial" | "lot";
  size: number;
  quantity: number;
  unit: string;
  status: string;
}

/** One million items; the subassembly tier gives each of its 20 materials 10,000 items. */
export const LARGE_TIERS: Tier[] = [
  { name: "raw lots", family: "RAW", prefix: "GR", kind: "lot", size: 100_000, quantity: 500, unit: "KG", status: "consumed" },
  { name: "machined lots", family: "MCH", prefix: "GM", kind: "lot", size: 200_000, quantity: 200, unit: "EA", status: "consumed" },
  { name: "subassembly serials", family: "SUB", prefix: "GS", kind: "serial", size: 200_000, quantity: 1, unit: "EA", status: "consumed" },
  { name: "assembly lots", family: "ASM", prefix: "GA", kind: "lot", size: 100_000, quantity: 50, unit: "EA", status: "consumed" },
  { name: "finished serials", family: "FIN", prefix: "GF", kind: "serial", size: 400_000, quantity: 1, unit: "EA", status: "shipped" },
];

export interface LargeSeedSummary {
  traceItems: number;
  genealogyEdges: number;
  tiers: { name: string; items: number; edges: number; seconds: number }[];
  seconds: number;
}

export async function seedLargePlant(
  database: Pick<Database, "db" | "client">,
  keyRing: KeyRing,
  options: { scale?: number; log?: (line: string) => void } = {},
): Promise<LargeSeedSummary> {
  const log = options.log ?? (() => {});
  const scale = options.scale ?? 1;
  const started = performance.now();
  log("large plant: loading the demo plant (hard cases) first…");
  await seedDemoPlant(database.db, keyRing);
  const summary: LargeSeedSummary = { traceItems: 0, genealogyEdges: 0, tiers: [], seconds: 0 };
  await database.db.transaction(async (tx) => {
    const [ein] = (await tx.execute<{ id: number }>(sql`select id from sites where code = 'EIN'`)) as unknown as { id: number }[];
    let previous: { min: number; size: number } | null = null;
    const from = Date.parse("2024-09-01T00:00:00.000Z");
    const span = Date.parse("2026-10-01T00:00:00.000Z") - from;
    for (const [t, tier] of LARGE_TIERS.entries()) {
      const tierStarted = performance.now();
      const size = Math.max(1, Math.round(tier.size * scale));
      const [materialIds] = (await tx.execute<{ ids: number[] }>(
        sql`select array_agg(m.id order by m.part_number) as ids from materials m join material_families f on f.id = m.family_id where f.code = ${tier.family}`,
      )) as unknown as { ids: number[] }[];
      const ids = materialIds!.ids;
      // Interleaved materials (item g belongs to material g mod n), so one material's items spread
      // over the whole tier, as production of many materials does over time.
      // Spread over two years, tier by tier (numbers inlined: they are ours, not input).
      const when = sql.raw(`to_timestamp((${from + t * 86_400_000}::float8 + (g::float8 / ${size}) * ${span}::float8) / 1000.0)`);
      const status =
        tier.status === "shipped"
          ? sql`case when g % 10 = 0 then 'stock'::trace_item_status else 'shipped'::trace_item_status end`
          : sql`${tier.status}::trace_item_status`;
      const [range] = (await tx.execute<{ min: string; max: string; n: string }>(sql`
        with inserted as (
          insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
          select ${tier.kind}::trace_item_kind, ${tier.prefix} || lpad(g::text, 8, '0'), (${`{${ids.join(",")}}`}::int[])[1 + g % ${sql.raw(String(ids.length))}], ${ein!.id},
                 ${tier.quantity}, ${tier.unit}, ${status},
                 ${when}, 'seed'
          from generate_series(0, ${size - 1}) g
          order by g
          returning id
        ) select min(id)::text as min, max(id)::text as max, count(*)::text as n from inserted`)) as unknown as { min: string; max: string; n: string }[];
      const min = Number(range!.min);
      if (Number(range!.max) - min + 1 !== size) throw new Error(`the ${tier.name} did not get contiguous ids; load the large plant into an idle database`);
      let edges = 0;
      if (previous) {
        const prev = previous;
        const [inserted] = (await tx.execute<{ n: string }>(sql`
          with inserted as (
            insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
            select ${`${tier.prefix}-`} || g, 'consume', ${sql.raw(String(prev.min))}::bigint + ((g::bigint * 2654435761 + k * 40503 + k * k * 7919) % ${sql.raw(String(prev.size))}), ${sql.raw(String(min))}::bigint + g,
                   1, ${tier.unit}, ${ein!.id}, ${when}, 'seed'
            from generate_series(0, ${size - 1}) g
            cross join lateral generate_series(0, case when g % 3 = 0 then 3 else 2 end) k
            returning 1
          ) select count(*)::text as n from inserted`)) as unknown as { n: string }[];
        edges = Number(inserted!.n);
      }
      previous = { min, size };
      summary.traceItems += size;
      summary.genealogyEdges += edges;
      const seconds = (performance.now() - tierStarted) / 1000;
      summary.tiers.push({ name: tier.name, items: size, edges, seconds: Number(seconds.toFixed(1)) });
      log(
        `large plant: tier ${t + 1}/${LARGE_TIERS.length} ${tier.name}: ${size.toLocaleString("en")} items, ${edges.toLocaleString("en")} edges in ${seconds.toFixed(1)} s (total ${summary.traceItems.toLocaleString("en")} items, ${summary.genealogyEdges.toLocaleString("en")} edges)`,
      );
    }
    summary.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
    await appendAudit(tx, {
      actor: "system:large-seed",
      action: "seed.large_plant",
      entityType: "plant",
      entityId: "large",
      after: {
        traceItems: summary.traceItems,
        genealogyEdges: summary.genealogyEdges,
        tiers: summary.tiers.map(({ name, items, edges }) => ({ name, items, edges })),
      },
      reason: "npm run db:seed -- --scale large: synthetic five-tier genealogy at EIN on top of the demo plant",
    });
  });
  log("large plant: analysing tables for the query planner…");
  await database.client`analyze trace_items`;
  await database.client`analyze genealogy_edges`;
  summary.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  log(`large plant: done in ${summary.seconds} s`);
  return summary;
}
