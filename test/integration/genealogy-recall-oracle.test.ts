/**
 * ADR 010: the explorer's recall (and so its CSV export, which prints the same rows) lists exactly
 * the finished goods the oracle's plain recursive SQL finds (test/setup/finished-goods-oracle.ts),
 * on the demo plant. A recall walks the full trace (rules, precision, layout) and costs ~12 ms of
 * CPU, so the default run takes, for every material × site, four of its items (seeded, the same
 * every run) and every ASM-1003 item at EIN (the case a review found) — about a thousand recalls; with
 * C981_ORACLE_ALL_ITEMS=1 it takes every trace item (6,871, ~80 s on two idle cores).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { recallFrom } from "../../app/queries/genealogy.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { finishedFromItems, recallMismatches } from "../setup/finished-goods-oracle";
import { testKeyRing } from "../setup/keys";

let database: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
}, 120_000);

describe("the explorer's recall against the oracle on the demo plant", () => {
  const everyItem = process.env.C981_ORACLE_ALL_ITEMS === "1";
  it(
    `lists exactly the oracle's finished goods from ${everyItem ? "every trace item" : "four items of every material × site and every ASM-1003 item at EIN"}`,
    async () => {
      const rows = await database.client<{ id: string }[]>`
      select id::text from (
        select t.id, t.material_id, t.site_id, row_number() over (partition by t.material_id, t.site_id order by md5(t.id::text || ':issue-17'), t.id) as n
        from trace_items t
      ) x
      where ${everyItem} or n <= 4
         or (material_id, site_id) = (select m.id, s.id from materials m, sites s where m.part_number = 'ASM-1003' and s.code = 'EIN')
      order by id`;
      const ids = rows.map((r) => Number(r.id));
      const [pairs] = await database.client<{ n: number }[]>`select count(distinct (material_id, site_id))::int as n from trace_items`;
      const [covered] = await database.client<
        { n: number }[]
      >`select count(distinct (material_id, site_id))::int as n from trace_items where id = any(${ids.map(String)}::bigint[])`;
      expect(covered!.n).toBe(pairs!.n);
      const oracle = await finishedFromItems(database.client, ids);
      expect(await recallMismatches((itemId) => recallFrom(database.db, { itemId, sites: null }), oracle)).toEqual([]);
      // Not an empty comparison: most items reach finished goods, and pallets hold devices.
      expect([...oracle.values()].filter((f) => f.length > 0).length).toBeGreaterThan(everyItem ? 1000 : 200);
    },
    everyItem ? 600_000 : 120_000,
  );

  it("recalls dozens of finished devices, shipped ones on pallets included, from the ASM-1003 lots at EIN", async () => {
    const lots = await database.client<{ id: string }[]>`
      select t.id::text from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = 'ASM-1003' and s.code = 'EIN' and t.kind = 'lot' order by t.id`;
    const oracle = await finishedFromItems(
      database.client,
      lots.map((l) => Number(l.id)),
    );
    const all = new Set([...oracle.values()].flat());
    expect(all.size).toBeGreaterThan(24);
    const [shipped] = await database.client<
      { n: number }[]
    >`select count(*)::int as n from trace_items where id = any(${[...all].map(String)}::bigint[]) and status = 'shipped'`;
    expect(shipped!.n).toBeGreaterThan(0);
  });
});
