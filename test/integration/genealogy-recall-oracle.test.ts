/**
 * Issue 17: the explorer's recall (and so its CSV export, which prints the same rows) lists exactly
 * the finished goods the oracle's plain recursive SQL finds (test/setup/finished-goods-oracle.ts),
 * from every trace item of the demo plant — every own item of every material × site.
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
  it("lists exactly the oracle's finished goods from every trace item", async () => {
    const ids = (await database.client<{ id: string }[]>`select id::text from trace_items order by id`).map((r) => Number(r.id));
    expect(ids.length).toBeGreaterThan(5000);
    const oracle = await finishedFromItems(database.client, ids);
    expect(await recallMismatches((itemId) => recallFrom(database.db, { itemId, sites: null }), oracle)).toEqual([]);
    // Not an empty comparison: most items reach finished goods, and pallets hold devices.
    expect([...oracle.values()].filter((f) => f.length > 0).length).toBeGreaterThan(1000);
  }, 150_000);

  it("recalls dozens of finished devices, shipped ones on pallets included, from the ASM-1003 lots at EIN", async () => {
    const lots = await database.client<{ id: string }[]>`
      select t.id::text from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = 'ASM-1003' and s.code = 'EIN' and t.kind = 'lot' order by t.id`;
    const oracle = await finishedFromItems(database.client, lots.map((l) => Number(l.id)));
    const all = new Set([...oracle.values()].flat());
    expect(all.size).toBeGreaterThan(24);
    const [shipped] = await database.client<{ n: number }[]>`select count(*)::int as n from trace_items where id = any(${[...all].map(String)}::bigint[]) and status = 'shipped'`;
    expect(shipped!.n).toBeGreaterThan(0);
  });
});
