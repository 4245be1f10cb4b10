/**
 * Per-site partitioning of the genealogy, tried on one table (ADR 047): on the demo plant (three
 * sites), a copy of genealogy_edges LIST-partitioned by site_id (scripts/bench-replica/partition.ts)
 * holds per partition exactly the rows plain SQL counts per site, a per-site query is planned on one
 * partition only, and the impact analysis's recursive reach finds the same items over the copy as
 * over the original — and as a breadth-first search written here over the plain edge rows.
 */
import type postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import {
  createPartitionedEdges,
  executedTables,
  PARTITIONED,
  reachStatement,
  reachWithinSiteStatement,
  scannedTables,
} from "../../scripts/bench-replica/partition";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let owner: postgres.Sql;
let sites: { id: number; code: string }[];

beforeAll(async () => {
  const database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  owner = database.owner;
  sites = await owner<{ id: number; code: string }[]>`select id, code from sites order by id`;
  await createPartitionedEdges(owner);
}, 120_000);

/** The reach as the analysis defines it, by hand: own items, everything downstream, and the own items' direct inputs. */
async function reachByHand(partNumber: string, site: string): Promise<number[]> {
  const own = (
    await owner`select ti.id::int as id from trace_items ti join materials m on m.id = ti.material_id join sites s on s.id = ti.site_id
      where m.part_number = ${partNumber} and s.code = ${site}`
  ).map((r) => r.id as number);
  const edges = await owner`select input_item_id::int as input, output_item_id::int as output from genealogy_edges where superseded_at is null`;
  const out = new Map<number, number[]>();
  const into = new Map<number, number[]>();
  for (const e of edges) {
    out.set(e.input, [...(out.get(e.input) ?? []), e.output]);
    into.set(e.output, [...(into.get(e.output) ?? []), e.input]);
  }
  const seen = new Set(own);
  const queue = [...own];
  while (queue.length) for (const next of out.get(queue.shift()!) ?? []) if (!seen.has(next)) seen.add(next), queue.push(next);
  for (const id of own) for (const input of into.get(id) ?? []) seen.add(input);
  return [...seen].sort((a, b) => a - b);
}

describe("genealogy_edges partitioned by site", () => {
  it("holds in each site's partition the rows plain SQL counts for that site, and nothing in the default partition", async () => {
    const plain = await owner`select site_id, count(*)::int as n from genealogy_edges group by site_id order by site_id`;
    expect(plain.length).toBeGreaterThan(1);
    for (const site of sites) {
      const [inPartition] = await owner.unsafe(`select count(*)::int as n from only ${PARTITIONED}_s${site.id}`);
      expect({ site: site.code, n: inPartition!.n }).toEqual({ site: site.code, n: plain.find((r) => r.site_id === site.id)?.n ?? 0 });
    }
    const [rest] = await owner.unsafe(`select count(*)::int as n from only ${PARTITIONED}_default`);
    expect(rest!.n).toBe(0);
    const [all] = await owner.unsafe(`select (select count(*) from ${PARTITIONED})::int as parted, (select count(*) from genealogy_edges)::int as plain`);
    expect(all!.parted).toBe(all!.plain);
  });

  it("plans a per-site query on that site's partition only", async () => {
    for (const site of sites) {
      expect(await scannedTables(owner, `select count(*) from ${PARTITIONED} where site_id = ${site.id} and input_item_id > 0`)).toEqual([
        `${PARTITIONED}_s${site.id}`,
      ]);
    }
    expect(await scannedTables(owner, `select count(*) from ${PARTITIONED}`)).toHaveLength(sites.length + 1);
  });

  for (const [material, site] of [
    ["SUB-1003", "EIN"],
    ["RAW-1001", "EIN"],
    ["MCH-1002", "CLT"],
  ] as const) {
    it(`gives the impact analysis's recursive reach of ${material} at ${site} the same items as the original table and a search by hand`, async () => {
      const ids = async (edges: string) => {
        const statement = reachStatement(edges, material, site).replace(/select count\(\*\)::int as n.*$/s, "select id::int as id from wanted order by id");
        return (await owner.unsafe<{ id: number }[]>(statement)).map((r) => r.id);
      };
      const expected = await reachByHand(material, site);
      expect(expected.length).toBeGreaterThan(10);
      expect(await ids(PARTITIONED)).toEqual(expected);
      expect(await ids("genealogy_edges")).toEqual(expected);
    });

    it(`with the site in the recursive join, reaches the same items from ${material} at ${site} probing only ${site}'s partition`, async () => {
      // The demo plant's edges stay at their event's site (plain SQL, the precondition of this form).
      const [crossing] =
        await owner`select count(*)::int as n from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
        where i.site_id <> e.site_id or o.site_id <> e.site_id`;
      expect(crossing!.n).toBe(0);
      const statement = reachWithinSiteStatement(PARTITIONED, material, site);
      const found = (
        await owner.unsafe<{ id: number }[]>(statement.replace(/select count\(\*\)::int as n.*$/s, "select id::int as id from wanted order by id"))
      ).map((r) => r.id);
      expect(found).toEqual(await reachByHand(material, site));
      const siteId = sites.find((s) => s.code === site)!.id;
      const executed = await executedTables(owner, statement.replace(/select count\(\*\)::int as n.*$/s, "select count(*) from wanted"));
      expect(executed.filter((t) => t.startsWith(PARTITIONED))).toEqual([`${PARTITIONED}_s${siteId}`]);
    });
  }
});
