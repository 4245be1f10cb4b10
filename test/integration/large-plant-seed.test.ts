/**
 * The large/huge plant's bulk load (ADR 046) at 1 % of the large plant: what it loads, checked by
 * plain SQL against hand-counted figures and against a second database holding the demo plant
 * alone (what the bulk load adds on top of it): tier sizes, edges per tier and kind, every edge's
 * items present, the indexes and foreign keys back as they were, the change counter counted by the
 * tables' own triggers, one audit row, sequences past the loaded ids — and the pallets that make
 * the finished-good definition matter, with the explorer's recall against the finished-goods oracle.
 *
 * Hand count at scale 0.01: raw 1,000 · machined 2,000 · subassembly 2,000 · assembly 1,000 ·
 * finished 4,000 (every tenth, 400, in stock; 3,600 shipped) · pallets 3,600 / 24 = 150 → 10,150
 * items. Consume edges: 3 per item plus one for every third (g = 0, 3, …): machined 6,000 + 667,
 * subassembly 6,667, assembly 3,000 + 334; finished 2 per serial plus one for every second:
 * 8,000 + 2,000 = 10,000 → 26,668; aggregate edges 3,600 → 30,268 edges.
 */
import type postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { recallFrom } from "../../app/queries/genealogy.server";
import { seedLargePlant } from "../../app/seed/large-plant.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import { createTestDatabase } from "../setup/database";
import { finishedFromItems, recallMismatches } from "../setup/finished-goods-oracle";
import { testKeyRing } from "../setup/keys";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;
let seeded: TestDatabase;
let demo: TestDatabase;
const lines: string[] = [];

// Synthetic rows by their identifiers and event references (the demo plant has none such: checked below).
const TIER_OF_ITEM = `case when t.kind = 'container' and t.identifier like '3087123409%' then 'pallets' when t.identifier ~ '^G[RMSAF][0-9]{8}$' then left(t.identifier, 2) end`;
const TIER_OF_EDGE = `case when e.event_ref ~ '^G[MSAFP]-[0-9]+$' then split_part(e.event_ref, '-', 1) end`;

beforeAll(async () => {
  [seeded, demo] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await Promise.all([
    seedLargePlant(seeded, await testKeyRing(seeded.db), { scale: 0.01, log: (line) => lines.push(line), progressEveryMs: 0 }),
    seedDemoPlant(demo.db, await testKeyRing(demo.db)),
  ]);
}, 180_000);

const rowsOf = async <T>(sql: postgres.Sql, text: string) => (await sql.unsafe(text)) as unknown as T[];
const countOf = async (sql: postgres.Sql, text: string) => (await rowsOf<{ n: number }>(sql, text))[0]!.n;
const countsBy = async (sql: postgres.Sql, text: string) => Object.fromEntries((await rowsOf<{ key: string; n: number }>(sql, text)).map((r) => [r.key, r.n]));

describe("the large plant's bulk load at 1 %", () => {
  it("loads the five tiers and the pallets, each of the size the plan gives", async () => {
    const query = `select coalesce(${TIER_OF_ITEM}, 'demo') || '|' || t.kind || '|' || f.code || '|' || t.status as key, count(*)::int as n
      from trace_items t join materials m on m.id = t.material_id join material_families f on f.id = m.family_id group by 1`;
    const all = await countsBy(seeded.owner, query);
    const synthetic = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith("demo|")));
    expect(synthetic).toEqual({
      "GR|lot|RAW|consumed": 1000,
      "GM|lot|MCH|consumed": 2000,
      "GS|serial|SUB|consumed": 2000,
      "GA|lot|ASM|consumed": 1000,
      "GF|serial|FIN|shipped": 3600,
      "GF|serial|FIN|stock": 400,
      "pallets|container|FIN|shipped": 150,
    });
    // The demo plant beside them is the demo plant alone, and has no row that looks synthetic.
    const demoOnly = await countsBy(demo.owner, query);
    expect(Object.keys(demoOnly).every((k) => k.startsWith("demo|"))).toBe(true);
    expect(Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith("demo|")))).toEqual(demoOnly);
    const items = "select count(*)::int as n from trace_items";
    expect((await countOf(seeded.owner, items)) - (await countOf(demo.owner, items))).toBe(10_150);
  });

  it("loads each tier's consume edges from the tier before, and one aggregate edge per shipped finished serial", async () => {
    const query = `select coalesce(${TIER_OF_EDGE}, 'demo') || '|' || e.kind || '|' || coalesce(fi.code, '?') || '>' || coalesce(fo.code, '?') as key, count(*)::int as n
      from genealogy_edges e
      left join trace_items i on i.id = e.input_item_id left join materials mi on mi.id = i.material_id left join material_families fi on fi.id = mi.family_id
      left join trace_items o on o.id = e.output_item_id left join materials mo on mo.id = o.material_id left join material_families fo on fo.id = mo.family_id
      group by 1`;
    const all = await countsBy(seeded.owner, query);
    expect(Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith("demo|")))).toEqual({
      "GM|consume|RAW>MCH": 6667,
      "GS|consume|MCH>SUB": 6667,
      "GA|consume|SUB>ASM": 3334,
      "GF|consume|ASM>FIN": 10_000,
      "GP|aggregate|FIN>FIN": 3600,
    });
    const demoOnly = await countsBy(demo.owner, query);
    expect(Object.keys(demoOnly).every((k) => k.startsWith("demo|"))).toBe(true);
    expect(Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith("demo|")))).toEqual(demoOnly);
    // Every synthetic edge joins two synthetic items of the tiers it names (consume: tier before → tier; aggregate: serial → pallet).
    const [wrong] = await rowsOf<{ n: number }>(
      seeded.owner,
      `select count(*)::int as n from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
       where ${TIER_OF_EDGE} is not null
         and (${TIER_OF_ITEM.replaceAll("t.", "o.")}) is distinct from case split_part(e.event_ref, '-', 1) when 'GP' then 'pallets' else split_part(e.event_ref, '-', 1) end`,
    );
    expect(wrong!.n).toBe(0);
  });

  it("leaves no edge without its items, and puts the indexes and foreign keys back as they were", async () => {
    const [dangling] = await rowsOf<{ n: number }>(
      seeded.owner,
      `select count(*)::int as n from genealogy_edges e
       where not exists (select 1 from trace_items i where i.id = e.input_item_id) or not exists (select 1 from trace_items o where o.id = e.output_item_id)`,
    );
    expect(dangling!.n).toBe(0);
    const schemaOf = async (sql: postgres.Sql) => ({
      indexes: (
        await rowsOf<{ d: string }>(sql, `select indexdef as d from pg_indexes where tablename in ('trace_items', 'genealogy_edges') order by indexname`)
      ).map((r) => r.d),
      constraints: (
        await rowsOf<{ d: string }>(
          sql,
          `select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' validated=' || convalidated as d from pg_constraint
           where conrelid in ('trace_items'::regclass, 'genealogy_edges'::regclass) or confrelid in ('trace_items'::regclass, 'genealogy_edges'::regclass) order by 1`,
        )
      ).map((r) => r.d),
      triggers: (
        await rowsOf<{ d: string }>(
          sql,
          `select tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text as d from pg_trigger where tgrelid in ('trace_items'::regclass, 'genealogy_edges'::regclass) and not tgisinternal order by 1`,
        )
      ).map((r) => r.d),
    });
    const after = await schemaOf(seeded.owner);
    expect(after).toEqual(await schemaOf(demo.owner));
    expect(after.indexes.length).toBeGreaterThanOrEqual(9);
    expect(after.constraints.filter((c) => c.includes("FOREIGN KEY")).length).toBeGreaterThanOrEqual(6);
    expect(lines.some((l) => /indexes and \d+ foreign keys set aside/.test(l))).toBe(true);
  });

  it("counts the load in the change counter as the tables' statement triggers do (one per COPY), with one audit row and the chain intact", async () => {
    const [s] = await rowsOf<{ changes: string }>(seeded.owner, "select changes::text from genealogy_state");
    const [d] = await rowsOf<{ changes: string }>(demo.owner, "select changes::text from genealogy_state");
    expect(Number(s!.changes) - Number(d!.changes)).toBe(2);
    const audit = await rowsOf<{ action: string; after: { traceItems: number; genealogyEdges: number; pallets: { items: number } } }>(
      seeded.owner,
      "select action, after from audit_trail where action like 'seed.%' order by seq",
    );
    expect(audit.map((a) => a.action)).toEqual(["seed.demo_plant", "seed.large_plant"]);
    expect(audit[1]!.after).toMatchObject({ traceItems: 10_150, genealogyEdges: 30_268, pallets: { items: 150 } });
    const rows = "select count(*)::int as n from audit_trail";
    expect((await countOf(seeded.owner, rows)) - (await countOf(demo.owner, rows))).toBe(1);
    expect((await verifyAuditChain(seeded.db)).firstBreak).toBeUndefined();
  });

  it("exercises the finished-good definition: pallets of a top-tier material that are no finished goods, finished serials with an edge out", async () => {
    // Top tier at EIN by plain SQL (ADR 010): the parent of a BOM line there, neither component nor alternate of any.
    const [row] = await rowsOf<{ pallets_top: number; on_pallet: number; in_stock_leaf: number; pallet_sizes: number[] }>(
      seeded.owner,
      `with top_tier as (
         select distinct b.parent_material_id as material_id, b.site_id from bom_lines b
         where not exists (select 1 from bom_lines c where c.site_id = b.site_id and c.component_material_id = b.parent_material_id)
           and not exists (select 1 from bom_line_alternates a join bom_lines l on l.id = a.bom_line_id where l.site_id = b.site_id and a.material_id = b.parent_material_id)),
       pallets as (select t.* from trace_items t where t.kind = 'container' and t.identifier like '3087123409%')
       select (select count(*)::int from pallets p join top_tier tt on tt.material_id = p.material_id and tt.site_id = p.site_id) as pallets_top,
              (select count(distinct e.input_item_id)::int from genealogy_edges e join pallets p on p.id = e.output_item_id where e.kind = 'aggregate') as on_pallet,
              (select count(*)::int from trace_items t where t.identifier ~ '^GF[0-9]{8}$' and t.status = 'stock'
                 and not exists (select 1 from genealogy_edges e where e.input_item_id = t.id)) as in_stock_leaf,
              (select array_agg(distinct n order by n) from (select count(*)::int as n from genealogy_edges e join pallets p on p.id = e.output_item_id group by p.id) s) as pallet_sizes`,
    );
    expect(row).toEqual({ pallets_top: 150, on_pallet: 3600, in_stock_leaf: 400, pallet_sizes: [24] });
    // The explorer's recall against the oracle's SQL: raw lots, a subassembly serial, a shipped and a stocked finished serial, a pallet.
    const ids = (
      await rowsOf<{ id: string }>(
        seeded.owner,
        `(select id::text from trace_items where identifier in ('GR00000000', 'GR00000417', 'GR00000999', 'GS00000123', 'GF00000001', 'GF00000010'))
         union all (select id::text from trace_items where identifier like '3087123409%' order by id limit 1)`,
      )
    ).map((r) => Number(r.id));
    expect(ids).toHaveLength(7);
    const oracle = await finishedFromItems(seeded.owner, ids);
    const [shipped, stocked, pallet] = ids.slice(4);
    // A shipped serial on a pallet is a finished good (it reaches itself and nothing finished beyond); a pallet reaches none.
    expect(oracle.get(shipped!)).toEqual([shipped]);
    expect(oracle.get(stocked!)).toEqual([stocked]);
    expect(oracle.get(pallet!)).toEqual([]);
    expect(oracle.get(ids[0]!)!.length).toBeGreaterThan(10);
    expect(await recallMismatches((itemId) => recallFrom(seeded.db, { itemId, sites: null }), oracle)).toEqual([]);
  }, 60_000);

  it("reports progress: rows, rows per second and the time left", () => {
    expect(lines.some((l) => /[\d,]+ \/ [\d,]+ rows \([\d.]+ %\), [\d,]+ rows\/s, ETA /.test(l))).toBe(true);
    expect(lines.some((l) => /done in [\d.]+ s/.test(l))).toBe(true);
  });

  it("(last: it writes) moves the id sequences past the loaded rows: the next item and edge get the next ids", async () => {
    const [row] = await rowsOf<{ item: string; max_item: string; edge: string; max_edge: string }>(
      seeded.owner,
      `with m as (select (select max(id) from trace_items) as max_item, (select max(id) from genealogy_edges) as max_edge),
       i as (insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
             select 'lot', 'AFTER-SEED', material_id, site_id, 1, 'EA', 'stock', now(), 'api' from trace_items order by id limit 1 returning id),
       e as (insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
             select 'AFTER-SEED', 'consume', g.input_item_id, g.output_item_id, 1, 'EA', g.site_id, now(), 'api' from genealogy_edges g order by id limit 1 returning id)
       select (select id from i)::text as item, m.max_item::text as max_item, (select id from e)::text as edge, m.max_edge::text as max_edge from m`,
    );
    expect(Number(row!.item)).toBe(Number(row!.max_item) + 1);
    expect(Number(row!.edge)).toBe(Number(row!.max_edge) + 1);
  });
});
