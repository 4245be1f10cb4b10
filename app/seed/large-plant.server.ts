/**
 * The large plant (`npm run db:seed -- --scale large`) and the huge plant (`--scale huge`, ten
 * times larger): the demo plant with all its hard cases, plus a synthetic five-tier genealogy at
 * EIN (large-plant-rows.ts: about 1M trace items and 3M edges per unit of scale, finished serials
 * on SSCC pallets), audited by one summarizing row.
 *
 * A bulk load (ADR 046): in one transaction, the two genealogy tables lose their secondary indexes
 * and foreign keys, the rows arrive by COPY (generated in chunks while PostgreSQL parses the ones
 * before: bounded memory at any scale), then the indexes are built and the foreign keys added back
 * — which checks every edge's items and every reference in one join each. The tables' own triggers
 * stay enabled: the genealogy change counter's are per statement (migration 0011), so each COPY
 * counts once, exactly as the triggers count it; a trigger that would fire per row (or collect
 * the rows in a transition table) is named in the log, and still fires — correct, slower.
 */
import { once } from "node:events";
import { sql } from "drizzle-orm";
import { appendAudit } from "../services/audit.server";
import { connect, type Database, rawTransaction, type Tx } from "../utils/db.server";
import type { KeyRing } from "../utils/signing.server";
import { type CopyChunk, EDGE_COLUMNS, edgeRows, ITEM_COLUMNS, itemRows, type LargePlantPlan, planLargePlant } from "./large-plant-rows";
import { seedDemoPlant } from "./seed.server";

export { LARGE_TIERS, type Tier } from "./large-plant-rows";

/** The scales `db:seed --scale` knows: the large plant and ten times it. */
export const PLANT_SCALES = { large: 1, huge: 10 } as const;

export interface LargeSeedSummary {
  scale: number;
  traceItems: number;
  genealogyEdges: number;
  tiers: { name: string; items: number; edges: number }[];
  pallets: { items: number; edges: number };
  /** Seconds per phase: the demo plant, the COPY of the rows, the indexes and keys, the statistics. */
  phases: { demo: number; load: number; indexes: number; analyze: number };
  seconds: number;
}

const GENEALOGY_TABLES = ["trace_items", "genealogy_edges"] as const;
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const secondsSince = (t: number) => (performance.now() - t) / 1000;
const duration = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s` : `${s.toFixed(0)} s`);

interface Rebuild {
  /** Foreign keys on (or into) the genealogy tables: [table, name, definition]. */
  foreignKeys: { table: string; name: string; definition: string }[];
  /** Secondary indexes (not backing a constraint): [name, CREATE INDEX statement]. */
  indexes: { name: string; definition: string }[];
}

export async function seedLargePlant(
  database: Pick<Database, "db" | "client" | "url" | "ownerUrl">,
  keyRing: KeyRing,
  options: { scale?: number; log?: (line: string) => void; progressEveryMs?: number } = {},
): Promise<LargeSeedSummary> {
  const log = options.log ?? (() => {});
  const scale = options.scale ?? 1;
  const label = scale === PLANT_SCALES.huge ? "huge plant" : "large plant";
  const started = performance.now();
  log(`${label}: loading the demo plant (hard cases) first…`);
  await seedDemoPlant(database.db, keyRing);
  const phases = { demo: secondsSince(started), load: 0, indexes: 0, analyze: 0 };

  // Indexes, keys and sequences are the tables' owner's: the migration credential (ADR 018).
  const owner = connect(database.ownerUrl ?? database.url, { max: 1 });
  try {
    let plan: LargePlantPlan | undefined;
    await owner.db.transaction(async (tx) => {
      const raw = rawTransaction(tx);
      // No reader sees the tables half-loaded; the ids below are ours alone until commit.
      await tx.execute(sql`lock table trace_items, genealogy_edges in access exclusive mode`);
      await tx.execute(sql`set local maintenance_work_mem = '512MB'`);
      await tx.execute(sql`set local work_mem = '256MB'`);

      const [ids] = (await tx.execute<{ item: string; edge: string }>(
        sql`select (select coalesce(max(id), 0) + 1 from trace_items)::text as item, (select coalesce(max(id), 0) + 1 from genealogy_edges)::text as edge`,
      )) as unknown as { item: string; edge: string }[];
      plan = planLargePlant(scale, Number(ids!.item), Number(ids!.edge));
      const context = await rowContext(tx, plan);
      await reportPerRowTriggers(tx, log, label);

      const rebuild = await dropIndexesAndKeys(tx, log, label);
      const total = plan.items + plan.edges;
      log(
        `${label}: ${fmt(plan.items)} items (${fmt(plan.pallets.items)} of them pallets) and ${fmt(plan.edges)} edges at scale ${scale}: ${fmt(total)} rows by COPY${
          rebuild ? ", the indexes built after" : " into the indexed tables (the connection does not own them)"
        }`,
      );
      const loadStarted = performance.now();
      const progress = progressReporter(label, total, options.progressEveryMs ?? 5000, log);
      await copyRows(raw, `copy trace_items (${ITEM_COLUMNS}) from stdin`, itemRows(plan, context), progress);
      await copyRows(raw, `copy genealogy_edges (${EDGE_COLUMNS}) from stdin`, edgeRows(plan, context), progress);
      progress.done();
      phases.load = secondsSince(loadStarted);

      const indexesStarted = performance.now();
      if (rebuild) await restoreIndexesAndKeys(tx, rebuild, log, label);
      // The rows carry their ids (COPY writes identity columns as given): the sequences move past them.
      for (const table of GENEALOGY_TABLES) {
        await tx.execute(sql`select setval(pg_get_serial_sequence(${table}, 'id'), (select max(id) from ${sql.identifier(table)}))`);
      }
      phases.indexes = secondsSince(indexesStarted);

      await appendAudit(tx, {
        actor: "system:large-seed",
        action: "seed.large_plant",
        entityType: "plant",
        entityId: scale === PLANT_SCALES.huge ? "huge" : "large",
        after: {
          scale,
          traceItems: plan.items,
          genealogyEdges: plan.edges,
          tiers: plan.tiers.map((t) => ({ name: t.name, items: t.items, edges: t.edges })),
          pallets: { items: plan.pallets.items, edges: plan.pallets.edges },
        },
        reason: `npm run db:seed -- --scale ${scale === PLANT_SCALES.huge ? "huge" : "large"}: synthetic five-tier genealogy at EIN, finished serials on pallets, on top of the demo plant (bulk load: one summarizing audit row)`,
      });
    });
    log(`${label}: analysing tables for the query planner…`);
    const analyzeStarted = performance.now();
    for (const table of GENEALOGY_TABLES) await owner.client.unsafe(`analyze ${table}`);
    phases.analyze = secondsSince(analyzeStarted);
    const done = plan!;
    const summary: LargeSeedSummary = {
      scale,
      traceItems: done.items,
      genealogyEdges: done.edges,
      tiers: done.tiers.map((t) => ({ name: t.name, items: t.items, edges: t.edges })),
      pallets: { items: done.pallets.items, edges: done.pallets.edges },
      phases: {
        demo: Number(phases.demo.toFixed(1)),
        load: Number(phases.load.toFixed(1)),
        indexes: Number(phases.indexes.toFixed(1)),
        analyze: Number(phases.analyze.toFixed(1)),
      },
      seconds: Number(secondsSince(started).toFixed(1)),
    };
    log(
      `${label}: done in ${summary.seconds} s (demo plant ${summary.phases.demo} s, rows ${summary.phases.load} s, indexes and keys ${summary.phases.indexes} s, statistics ${summary.phases.analyze} s)`,
    );
    return summary;
  } finally {
    await owner.close();
  }
}

async function rowContext(tx: Tx, plan: LargePlantPlan) {
  const [ein] = (await tx.execute<{ id: number }>(sql`select id from sites where code = 'EIN'`)) as unknown as { id: number }[];
  if (!ein) throw new Error("the demo plant has no site EIN");
  const families = plan.tiers.map((t) => t.family);
  const rows = (await tx.execute<{ code: string; ids: number[] }>(
    sql`select f.code, array_agg(m.id order by m.part_number) as ids from materials m join material_families f on f.id = m.family_id
        where f.code = any(${`{${families.join(",")}}`}::text[]) group by f.code`,
  )) as unknown as { code: string; ids: number[] }[];
  return { siteId: ein.id, materialIds: Object.fromEntries(rows.map((r) => [r.code, r.ids])) };
}

/** Names the genealogy tables' triggers that fire per row or collect the rows: they run for every row of the load. */
async function reportPerRowTriggers(tx: Tx, log: (line: string) => void, label: string) {
  const rows = (await tx.execute<{ name: string }>(sql`
    select c.relname || '.' || t.tgname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
    where c.relname in ('trace_items', 'genealogy_edges') and c.relnamespace = current_schema()::regnamespace
      and not t.tgisinternal and t.tgenabled <> 'D'
      and ((t.tgtype & 1) = 1 or t.tgoldtable is not null or t.tgnewtable is not null)
    order by 1`)) as unknown as { name: string }[];
  if (rows.length) log(`${label}: note: ${rows.map((r) => r.name).join(", ")} fire per row or collect the rows; they run for every row of the load`);
}

/**
 * Drops the genealogy tables' secondary indexes and the foreign keys on them, remembering their
 * definitions to restore them; null (nothing dropped) when this connection does not own both
 * tables. Primary keys stay: other tables' keys point at them, and their appends are cheap.
 */
async function dropIndexesAndKeys(tx: Tx, log: (line: string) => void, label: string): Promise<Rebuild | null> {
  const [owns] = (await tx.execute<{ owns: boolean }>(sql`
    select bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) as owns from pg_class c
    where c.relname in ('trace_items', 'genealogy_edges') and c.relnamespace = current_schema()::regnamespace`)) as unknown as { owns: boolean }[];
  if (!owns?.owns) {
    log(`${label}: this connection does not own the genealogy tables: no index is dropped`);
    return null;
  }
  const foreignKeys = (await tx.execute<{ table: string; name: string; definition: string }>(sql`
    select c.conrelid::regclass::text as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
    from pg_constraint c
    where c.contype = 'f' and c.conrelid in ('trace_items'::regclass, 'genealogy_edges'::regclass)
    order by c.conrelid::regclass::text, c.conname`)) as unknown as Rebuild["foreignKeys"];
  const indexes = (await tx.execute<{ name: string; definition: string }>(sql`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid in ('trace_items'::regclass, 'genealogy_edges'::regclass)
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
    order by i.indrelid::regclass::text, i.indexrelid::regclass::text`)) as unknown as Rebuild["indexes"];
  for (const key of foreignKeys) await tx.execute(sql`alter table ${sql.identifier(key.table)} drop constraint ${sql.identifier(key.name)}`);
  for (const index of indexes) await tx.execute(sql`drop index ${sql.identifier(index.name)}`);
  log(`${label}: ${indexes.length} indexes and ${foreignKeys.length} foreign keys set aside for the load (${indexes.map((i) => i.name).join(", ")})`);
  return { foreignKeys, indexes };
}

async function restoreIndexesAndKeys(tx: Tx, rebuild: Rebuild, log: (line: string) => void, label: string) {
  const steps = [
    ...rebuild.indexes.map((index) => ({ what: `index ${index.name}`, statement: index.definition })),
    // Adding a key back checks every row against it (one join): an edge whose item is missing fails the seed.
    ...rebuild.foreignKeys.map((key) => ({
      what: `foreign key ${key.name}`,
      statement: `ALTER TABLE ${quoteIdent(key.table)} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition}`,
    })),
  ];
  for (const [i, step] of steps.entries()) {
    const stepStarted = performance.now();
    await tx.execute(sql.raw(step.statement));
    log(`${label}: ${i + 1}/${steps.length} ${step.what} in ${secondsSince(stepStarted).toFixed(1)} s`);
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Sends COPY text chunks as they are generated, waiting whenever the connection is behind. */
async function copyRows(raw: ReturnType<typeof rawTransaction>, statement: string, chunks: Iterable<CopyChunk>, progress: Progress) {
  const copy = await raw.unsafe(statement).writable();
  const finished = once(copy, "finish");
  finished.catch(() => {}); // awaited below; an early COPY error must not go unhandled meanwhile
  for (const chunk of chunks) {
    if (!copy.write(chunk.bytes)) await Promise.race([once(copy, "drain"), finished]);
    progress.add(chunk.rows, chunk.tier);
  }
  copy.end();
  await finished;
}

interface Progress {
  add(rows: number, tier: string): void;
  done(): void;
}

/** Progress lines every `everyMs`: rows, rows per second, the estimated time left of the load. */
function progressReporter(label: string, total: number, everyMs: number, log: (line: string) => void): Progress {
  const started = performance.now();
  let rows = 0;
  let last = started;
  let peakRss = process.memoryUsage.rss();
  return {
    add(n, tier) {
      rows += n;
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      const seconds = (now - started) / 1000;
      const rate = rows / seconds;
      log(
        `${label}: ${fmt(rows)} / ${fmt(total)} rows (${((rows / total) * 100).toFixed(1)} %), ${fmt(rate)} rows/s, ETA ${duration((total - rows) / rate)} (${tier}; node RSS ${fmt(rss / 1e6)} MB)`,
      );
    },
    done() {
      const seconds = (performance.now() - started) / 1000;
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      log(`${label}: ${fmt(rows)} rows in ${seconds.toFixed(1)} s (${fmt(rows / seconds)} rows/s; node RSS at most ${fmt(peakRss / 1e6)} MB)`);
    },
  };
}
