/**
 * Evidence for the finished-goods figures (ADR 010) on the generated plant (the large plant's generator at 10 % scale: the demo
 * plant plus a five-tier synthetic genealogy of 100,000 items at EIN): REACH and PRECISION_LOSS
 * count the finished goods the oracle's plain recursive SQL (test/setup/finished-goods-oracle.ts,
 * no engine code) finds, for every material × site, through the genealogy index; and the explorer's
 * recall agrees with the oracle for a seeded sample of 500 trace items.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { AnalysisReport } from "../../app/domain/impact-analysis";
import { recallFrom } from "../../app/queries/genealogy.server";
import { seedLargePlant } from "../../app/seed/large-plant.server";
import { createChangeRequest, type Person } from "../../app/services/change-requests.server";
import { computeImpactAnalysis } from "../../app/services/impact-analysis.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { finishedByPair, finishedFromItems, recallMismatches, type PairCounts } from "../setup/finished-goods-oracle";
import { testKeyRing } from "../setup/keys";

let database: Database;
let report: AnalysisReport;
let oracleAll: PairCounts;
let oracleTracked: PairCounts;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedLargePlant(database, await testKeyRing(database.db), { scale: 0.1 });
  const [row] = await database.client`select id, username, display_name from users where username = 'emil.engineer'`;
  const engineer: Person = { id: row!.id as number, username: row!.username as string, displayName: row!.display_name as string };
  const sites = (await database.client<{ code: string }[]>`select code from sites order by code`).map((r) => r.code);
  // Products' families: the logistics unit's (migration 0024) is no product, no request names it (ADR 014).
  const families = (await database.client<{ code: string }[]>`select code from material_families where code <> 'C981-SYSTEM' order by code`).map((r) => r.code);
  // Every material at every site to untracked: REACH for all, PRECISION_LOSS for every tracked one.
  const { number } = await createChangeRequest(database.db, engineer, {
    title: "every material to untracked",
    justification: "oracle test: every material × site of the generated plant in one analysis",
    riskAssessment: "none: a test change request, never submitted",
    legacyDataPlan: "grandfather",
    changes: families.map((family) => ({
      kind: "tracking",
      family,
      sites,
      trackingMode: "none",
      containerTracking: false,
      identifierFormatCodes: [],
      consumptionScan: "none",
    })),
  });
  // The oracle's queries run in the database while the analysis computes (two cores, two jobs).
  [report, oracleAll, oracleTracked] = await Promise.all([
    computeImpactAnalysis(database.db, number).then((r) => r.report),
    finishedByPair(database.client, "all"),
    finishedByPair(database.client, "tracked"),
  ]);
}, 240_000);

const countOf = (change: AnalysisReport["changes"][number], code: string) => change.findings.find((f) => f.code === code)?.count;

describe("finished goods on the generated plant: the analysis against the oracle's SQL", () => {
  it("REACH counts, for every material × site, the finished goods its own items reach", async () => {
    const [row] = await database.client<
      { n: number }[]
    >`select (select count(*) from materials where system_role is null)::int * (select count(*) from sites)::int as n`;
    expect(report.changes).toHaveLength(row!.n);
    const oracle = oracleAll;
    const engine = new Map(report.changes.map((c) => [`${c.partNumber}|${c.site}`, countOf(c, "REACH")]));
    expect(engine).toEqual(new Map([...engine.keys()].map((k) => [k, oracle.get(k) ?? 0])));
    // The generated tiers reach thousands of finished serials (shipped ones, on no pallet, and the tenth in stock).
    expect(Math.max(...[...engine.values()].map((n) => n ?? 0))).toBeGreaterThan(10_000);
  }, 60_000);

  it("PRECISION_LOSS counts, for every tracked material × site, the finished goods its tracked items reach", async () => {
    const oracle = oracleTracked;
    const rules = await database.client<{ key: string }[]>`
      select m.part_number || '|' || s.code as key from tracking_rules r join materials m on m.id = r.material_id join sites s on s.id = r.site_id
      where r.effective_to is null and r.tracking_mode::text in ('serial', 'lot')`;
    const tracked = new Set(rules.map((r) => r.key));
    const engine = new Map(
      report.changes.flatMap((c) => (countOf(c, "PRECISION_LOSS") === undefined ? [] : [[`${c.partNumber}|${c.site}`, countOf(c, "PRECISION_LOSS")] as const])),
    );
    expect(new Set(engine.keys())).toEqual(tracked);
    expect(engine).toEqual(new Map([...tracked].map((k) => [k, oracle.get(k) ?? 0])));
  }, 60_000);

  it("the explorer's recall lists exactly the oracle's finished goods, for a seeded sample of 500 trace items", async () => {
    // Seeded: the 500 items whose id hashes smallest with a fixed salt (the same sample every run).
    const ids = (await database.client<{ id: string }[]>`select id::text from trace_items order by md5(id::text || ':issue-17'), id limit 500`).map((r) =>
      Number(r.id),
    );
    const oracle = await finishedFromItems(database.client, ids);
    expect([...oracle.values()].filter((f) => f.length > 0).length).toBeGreaterThan(250);
    expect(await recallMismatches((itemId) => recallFrom(database.db, { itemId, sites: null }), oracle)).toEqual([]);
  }, 120_000);
});
