/**
 * ADR 044: the genealogy index follows the genealogy by its change log. On the demo plant, random
 * sequences of imports (new items and edges, bulk statements), supersessions, status changes,
 * releases (a lot's items wip → stock in one statement), multi-statement and rolled-back
 * transactions: after every step the index caught up from the previous one equals, byte for byte
 * (canonical serialisation), an index rebuilt from the database — and carries exactly the counter
 * of the snapshot it was caught up in. The seed is in every failure message.
 */
import type postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalGenealogy } from "../../app/domain/genealogy-graph";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { catchUpGenealogyIndex, type GenealogyIndex, GenealogyIndexHolder, loadGenealogyIndex } from "../../app/services/genealogy-index.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let materials: number[];
let sites: number[];
const DIGEST = "cd".repeat(32);
const EDGE_KINDS = ["consume", "split", "merge", "repack", "rework", "scrap", "aggregate"] as const;
const STATUSES = ["wip", "stock", "consumed", "shipped", "scrapped"] as const;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  materials = (await database.client`select id from materials order by id`).map((r) => Number(r.id));
  sites = (await database.client`select id from sites order by id`).map((r) => Number(r.id));
}, 180_000);

/** mulberry32: small and seeded, so a failing sequence can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const counter = async (sql: postgres.Sql | postgres.TransactionSql) => Number((await sql`select changes::text as c from genealogy_state where id = 1`)[0]!.c);

/** One write step of the sequence (each a statement or a transaction, as imports and screens write). */
async function step(random: () => number, seed: number, n: number): Promise<string> {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const sql = database.client;
  const someItems = async (count: number) =>
    (await sql`select id from trace_items order by md5(id::text || ${`${seed}-${n}`}) limit ${count}`).map((r) => Number(r.id));
  const importRows = async (tx: postgres.Sql | postgres.TransactionSql) => {
    const k = 1 + Math.floor(random() * 30);
    const kinds = Array.from({ length: k }, () => pick(["serial", "lot", "container"] as const));
    const fresh = (
      await tx`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
        select k::trace_item_kind, 'T' || ${seed} || '-' || ${n} || '-' || o, m, s, case when k = 'serial' then 1 else o + 0.5 end, 'EA',
          st::trace_item_status, timestamptz '2026-01-01' + o * interval '1 minute', 'import', ${DIGEST}, 'i-' || ${seed} || '-' || ${n} || '-' || o
        from unnest(${kinds}::text[], ${kinds.map(() => pick(materials))}::int[], ${kinds.map(() => pick(sites))}::int[], ${kinds.map(() => pick(STATUSES))}::text[])
          with ordinality as x(k, m, s, st, o)
        returning id`
    ).map((r) => Number(r.id));
    const pool = [...fresh, ...(await someItems(40))];
    const e = Math.floor(random() * 40);
    const inputs: number[] = [];
    const outputs: number[] = [];
    const kindsOf: string[] = [];
    for (let i = 0; i < e; i++) {
      const kind = pick(EDGE_KINDS);
      const input = pick(pool);
      inputs.push(input);
      outputs.push(kind === "rework" ? input : pick(pool.filter((p) => p !== input)));
      kindsOf.push(kind);
    }
    if (e > 0)
      await tx`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind, provenance_file_digest, provenance_event_id)
        select 'E-' || ${seed} || '-' || ${n}, k::genealogy_kind, i, o, 1, 'EA', ${pick(sites)}, timestamptz '2026-02-01' + x.n * interval '1 second', 'import', ${DIGEST}, 'e-' || ${seed} || '-' || ${n} || '-' || x.n
        from unnest(${kindsOf}::text[], ${inputs}::bigint[], ${outputs}::bigint[]) with ordinality as x(k, i, o, n)`;
    return `import ${k} items, ${e} edges`;
  };
  const op = pick(["import", "import", "supersede", "status", "release", "transaction", "rolled-back"] as const);
  switch (op) {
    case "import":
      return importRows(sql);
    case "supersede": {
      const ids = (
        await sql`select id from genealogy_edges where superseded_at is null order by md5(id::text || ${`${seed}-${n}`}) limit ${1 + Math.floor(random() * 8)}`
      ).map((r) => Number(r.id));
      await sql`update genealogy_edges set superseded_at = now() where id = any(${ids}::bigint[])`;
      return `supersede ${ids.length} edges`;
    }
    case "status": {
      const ids = await someItems(1 + Math.floor(random() * 10));
      await sql`update trace_items set status = ${pick(STATUSES)}::trace_item_status, quantity = case when kind = 'serial' then 1 else quantity + 1 end where id = any(${ids}::bigint[])`;
      return `status of ${ids.length} items`;
    }
    case "release": {
      const material = pick(materials);
      const [r] =
        await sql`with released as (update trace_items set status = 'stock' where material_id = ${material} and status = 'wip' returning id) select count(*)::int as n from released`;
      return `release ${r!.n} items of material ${material}`;
    }
    case "transaction":
      return sql.begin(async (tx) => {
        const what = await importRows(tx);
        await tx`update genealogy_edges set superseded_at = now() where id = (select max(id) from genealogy_edges where superseded_at is null)`;
        return `transaction: ${what}, then supersede the newest edge`;
      });
    case "rolled-back":
      await sql
        .begin(async (tx) => {
          await importRows(tx);
          throw new Error("rolled back on purpose");
        })
        .catch((error: Error) => {
          if (error.message !== "rolled back on purpose") throw error;
        });
      return "a rolled-back import";
  }
}

describe("incremental genealogy index (ADR 044)", () => {
  it("catch-up equals a full rebuild after every step of random change sequences", async () => {
    for (const seed of [7, 1103, 20_261_208]) {
      const random = rng(seed);
      let index: GenealogyIndex = await loadGenealogyIndex(database.client);
      for (let n = 0; n < 12; n++) {
        const what = await step(random, seed, n);
        const label = `seed ${seed}, step ${n} (${what})`;
        const caught = await database.client.begin("isolation level repeatable read read only", async (tx) => {
          const c = await counter(tx);
          const next = await catchUpGenealogyIndex(tx, index);
          expect(next, `${label}: the log could not say`).not.toBeNull();
          expect(next!.changes, label).toBe(c);
          return next!;
        });
        const rebuilt = await loadGenealogyIndex(database.client);
        expect(caught.changes, label).toBe(rebuilt.changes);
        expect(caught.dataPoint, label).toBe(rebuilt.dataPoint);
        expect(caught.items, label).toBe(rebuilt.items);
        expect(caught.edges, label).toBe(rebuilt.edges);
        expect(canonicalGenealogy(caught.graph), label).toBe(canonicalGenealogy(rebuilt.graph));
        index = caught;
      }
    }
  }, 240_000);

  it("the holder brings its index to exactly the count of the asking snapshot, not beyond", async () => {
    const holder = new GenealogyIndexHolder(database.client);
    const before = await holder.refresh();
    await database.client`update trace_items set status = 'shipped' where id = (select min(id) from trace_items)`;
    // A snapshot taken now (count C1), then another write commits (C2 > C1) before the index is asked for C1.
    let c1 = 0;
    let c2 = 0;
    const atC1 = await database.client.begin("isolation level repeatable read read only", async (tx) => {
      c1 = await counter(tx);
      await database.client`update trace_items set status = 'scrapped' where id = (select max(id) from trace_items)`;
      c2 = await counter(database.client);
      return holder.at(c1, tx);
    });
    expect(c1).toBeGreaterThan(before.changes);
    expect(c2).toBe(c1 + 1);
    expect(atC1.changes).toBe(c1);
    const [newest] = await database.client`select id from trace_items order by id desc limit 1`;
    // The scrap committed after the snapshot is not in the index of that snapshot.
    expect(atC1.graph.statusOf(Number(newest!.id))).not.toBe("scrapped");
    // An older snapshot than the index: refused (the analysis takes a newer snapshot), as for a rebuild.
    await expect(holder.at(before.changes)).rejects.toThrow(/newer/);
    const now = await holder.refresh();
    expect(now.changes).toBe(c2);
    expect(now.graph.statusOf(Number(newest!.id))).toBe("scrapped");
    expect(canonicalGenealogy(now.graph)).toBe(canonicalGenealogy((await loadGenealogyIndex(database.client)).graph));
  }, 120_000);

  it("a log pruned below the index, or a deletion, falls back to a full rebuild", async () => {
    const holder = new GenealogyIndexHolder(database.client);
    const held = await holder.refresh();
    await database.client`update trace_items set status = 'stock' where id = (select min(id) from trace_items)`;
    await database.client`update genealogy_edges set superseded_at = now() where id = (select min(id) from genealogy_edges where superseded_at is null)`;
    // Pruned: the statement right after the held index's count is gone.
    await database.owner`delete from genealogy_changes where seq = ${held.changes + 1}`;
    expect(await catchUpGenealogyIndex(database.client, held)).toBeNull();
    const rebuilt = await holder.refresh();
    expect(rebuilt.changes).toBe(await counter(database.client));
    expect(canonicalGenealogy(rebuilt.graph)).toBe(canonicalGenealogy((await loadGenealogyIndex(database.client)).graph));
    // A deletion: the log names it, the index cannot take it in place.
    await database.client`delete from genealogy_edges where id = (select max(id) from genealogy_edges)`;
    const [logged] = await database.client`select op, cardinality(ids)::int as n from genealogy_changes order by seq desc limit 1`;
    expect(logged).toEqual({ op: "delete", n: 1 });
    expect(await catchUpGenealogyIndex(database.client, rebuilt)).toBeNull();
    const again = await holder.refresh();
    expect(canonicalGenealogy(again.graph)).toBe(canonicalGenealogy((await loadGenealogyIndex(database.client)).graph));
  }, 120_000);

  it("a bulk statement is one log row holding every id it wrote", async () => {
    const before = await counter(database.client);
    await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
      select 'lot', 'BULK-' || g, ${materials[0]!}, ${sites[0]!}, 5, 'EA', 'stock', now(), 'import', ${DIGEST}, 'bulk-' || g from generate_series(1, 5000) g`;
    expect(await counter(database.client)).toBe(before + 1);
    const rows = await database.client`select seq::int, relation, op, cardinality(ids)::int as n from genealogy_changes where seq > ${before}`;
    expect(rows).toEqual([{ seq: before + 1, relation: "trace_items", op: "insert", n: 5000 }]);
    const [same] = await database.client`select count(*)::int as n from trace_items t, genealogy_changes c where c.seq = ${before + 1} and t.id = any(c.ids)`;
    expect(same!.n).toBe(5000);
  });
});
