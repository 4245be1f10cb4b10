/**
 * ADR 006: a request's base covers what its signed impact analysis read — the
 * master data of finished goods reached further up the BOM, the site's top tier, genealogy
 * neighbours' rules — not only its materials' BOM neighbourhood. Requests released in one batch
 * are checked against each other, and the request's own master-data changes hide nothing before
 * its first release. Expectations come from plain SQL here, never from the engine.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { staleSites } from "../../app/queries/change-request-context.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { changeRequestDetail } from "../../app/queries/change-requests.server";
import { releaseBoard } from "../../app/queries/releases.server";
import { storedAnalysis } from "../../app/queries/impact-analysis-currency.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import type { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { signedInPerson } from "../setup/people";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;
const PASSWORD = "analysis-reads-test-password";
const people: Record<string, Signer> = {};
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const status = async (number: string) => (await database.client`select status from change_requests where number = ${number}`)[0]!.status as string;
const liveSignatures = async (number: string) =>
  (
    await database.client`select count(*)::int as n from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number} and s.voided_at is null`
  )[0]!.n as number;

/** Created, submitted, analysed and signed by the quality reviewer (and the regulatory one when the policy asks). */
async function approved(title: string, changes: unknown[]): Promise<string> {
  const { number } = await createChangeRequest(database.db, people.emil!, {
    title,
    justification: "Test of what a request's base covers.",
    riskAssessment: "Low: test data.",
    legacyDataPlan: "grandfather",
    changes,
  });
  await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
  const { analysisHash, acknowledged } = await reviewed(database.db, number);
  let signed = await signChangeRequest(database.db, people.quinn!, number, {
    meaning: "approved",
    role: "quality_reviewer",
    username: "q.q",
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    analysisHash,
    acknowledged,
  });
  if (signed.ok && signed.status === "in_review") {
    signed = await signChangeRequest(database.db, people.rita!, number, {
      meaning: "approved",
      role: "regulatory_reviewer",
      username: "r.r",
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      analysisHash,
      acknowledged,
    });
  }
  if (!signed.ok || signed.status !== "approved") throw new Error(`${number} not approved: ${JSON.stringify(signed)}`);
  return number;
}

const release = (site: string, numbers: string[]) =>
  releaseChangeRequests(database.db, keyRing, people.remy!, {
    site,
    changeRequests: numbers,
    username: people.remy!.username,
    password: PASSWORD,
    waiver: WAIVER,
  });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as DomainError,
  );
const untrack = (material: string, site: string) => ({
  kind: "tracking",
  material,
  sites: [site],
  trackingMode: "none",
  containerTracking: false,
  identifierFormatCodes: [],
  consumptionScan: "none",
});

/** Plain SQL: the finished goods (non-container items of a top-tier material of their site) reached from a material's lots at a site, by material. */
async function finishedFromLots(partNumber: string, site: string): Promise<Map<string, number>> {
  const rows = await database.client`
    with recursive top_tier as (
      select distinct b.parent_material_id as material_id, b.site_id from bom_lines b
      where not exists (select 1 from bom_lines c where c.site_id = b.site_id and c.component_material_id = b.parent_material_id)
        and not exists (select 1 from bom_line_alternates a join bom_lines l on l.id = a.bom_line_id where l.site_id = b.site_id and a.material_id = b.parent_material_id)
    ), reach(id) as (
      select t.id from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = ${partNumber} and s.code = ${site} and t.kind::text = 'lot'
      union
      select e.output_item_id from genealogy_edges e join reach r on r.id = e.input_item_id
      where e.superseded_at is null and e.input_item_id <> e.output_item_id and e.kind::text in ('consume', 'split', 'merge', 'repack', 'aggregate')
    )
    select m.part_number, count(*)::int as n from reach r join trace_items t on t.id = r.id join materials m on m.id = t.material_id
    where t.kind::text <> 'container' and exists (select 1 from top_tier tt where tt.material_id = t.material_id and tt.site_id = t.site_id)
    group by m.part_number`;
  return new Map(rows.map((r) => [r.part_number as string, r.n as number]));
}

/** Plain SQL: BOM lines at the site holding both materials (as parent, component or alternate). */
async function bomLinked(a: string, b: string, site: string): Promise<number> {
  const [row] = await database.client`
    select count(*)::int as n from bom_lines bl join sites s on s.id = bl.site_id and s.code = ${site}
    where array(select m.part_number from materials m where m.id in (bl.parent_material_id, bl.component_material_id)
                union select m.part_number from bom_line_alternates a join materials m on m.id = a.material_id where a.bom_line_id = bl.id)
          @> array[${a}, ${b}]::text[]`;
  return row!.n as number;
}

const regulatoryFlagsOf = async (partNumber: string) =>
  ((await database.client`select regulatory_flags from materials where part_number = ${partNumber}`)[0]!.regulatory_flags as string[]).sort();
const toggled = (flags: string[]) => (flags.includes("critical_to_safety") ? ["udi"] : ["udi", "critical_to_safety"]);

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "e.e", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "q.q", ["quality_reviewer"], PASSWORD);
  people.rita = await signedInPerson(database, "r.r", ["regulatory_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "r.m", ["release_manager"], PASSWORD);
}, 120_000);

describe("a request's base covers what its signed analysis read", () => {
  it("a release changing the regulatory flags of a finished good the analysis counted up the BOM makes it stale, naming it; an unrelated release leaves it current", async () => {
    // MCH-1007's lots at EIN reach FIN-1007 devices two tiers up; no EIN BOM line links the two.
    const finished = await finishedFromLots("MCH-1007", "EIN");
    expect(finished.get("FIN-1007") ?? 0).toBeGreaterThan(0);
    expect(await bomLinked("MCH-1007", "FIN-1007", "EIN")).toBe(0);
    // A finished material the lots never reach, for the unrelated release.
    const [unrelated] =
      await database.client`select part_number from materials where part_number like 'FIN-%' and part_number <> all(${[...finished.keys()]}::text[]) order by part_number limit 1`;
    const other = unrelated!.part_number as string;

    const request = await approved("Stop tracking MCH-1007 at EIN", [untrack("MCH-1007", "EIN")]);
    // The analysis counted them: PRECISION_LOSS's regulated finished units equal the oracle (every FIN is UDI-flagged).
    const [regulated] =
      await database.client`select count(*)::int as n from materials where part_number = any(${[...finished.keys()]}::text[]) and regulatory_flags && array['udi', 'critical_to_safety']`;
    expect(regulated!.n).toBe(finished.size);
    const loss = (await storedAnalysis(database.db, request))!.report.changes[0]!.findings.find((f) => f.code === "PRECISION_LOSS")!;
    expect(loss.counts).toMatchObject({
      finishedUnits: [...finished.values()].reduce((a, b) => a + b, 0),
      regulated: [...finished.values()].reduce((a, b) => a + b, 0),
    });

    const elsewhere = await approved(`Flag ${other} critical to safety`, [
      { kind: "attributes", material: other, regulatoryFlags: toggled(await regulatoryFlagsOf(other)) },
    ]);
    expect(await release("EIN", [elsewhere])).toMatchObject({ ok: true });
    expect(await staleSites(database.db, (await database.client`select id from change_requests where number = ${request}`)[0]!.id as number)).toEqual([]);

    const flags = await approved("Flag FIN-1007 differently", [
      { kind: "attributes", material: "FIN-1007", regulatoryFlags: toggled(await regulatoryFlagsOf("FIN-1007")) },
    ]);
    // The release page says so before anyone signs.
    const ein = (await releaseBoard(database.db, { siteIds: null, viewerId: 0, at: new Date() })).find((s) => s.site.code === "EIN")!;
    expect(ein.candidates.find((c) => c.number === flags)!.wouldMakeStale).toEqual([
      { number: request, status: "approved", stale: [{ site: "EIN", moved: ["the master data of FIN-1007 (read by its impact analysis)"] }] },
    ]);
    expect(await release("EIN", [flags])).toMatchObject({ ok: true });
    const refused = await refusal(release("EIN", [request]));
    expect(refused?.status).toBe(409);
    expect(refused?.message).toMatch(/stale at EIN: .*the master data of FIN-1007 \(read by its impact analysis\)/);
    expect(await status(request)).toBe("approved");
    expect(await liveSignatures(request)).toBe(2);
  });

  it("a batch where one request changes what another's analysis read is refused, naming both; released one at a time the second is stale", async () => {
    const finished = await finishedFromLots("MCH-1007", "PEN");
    expect(finished.get("FIN-1002") ?? 0).toBeGreaterThan(0);
    expect(await bomLinked("MCH-1007", "FIN-1002", "PEN")).toBe(0);
    const reader = await approved("Stop tracking MCH-1007 at PEN", [untrack("MCH-1007", "PEN")]);
    const writer = await approved("Flag FIN-1002 differently", [
      { kind: "attributes", material: "FIN-1002", regulatoryFlags: toggled(await regulatoryFlagsOf("FIN-1002")) },
    ]);
    const refused = await refusal(release("PEN", [reader, writer]));
    expect(refused?.status).toBe(400);
    expect(refused?.fields?.changeRequests).toEqual([
      expect.stringMatching(new RegExp(`^${writer} changes what ${reader} read \\(the master data of FIN-1002 \\(read by its impact analysis\\)\\)`)),
    ]);
    expect(await status(reader)).toBe("approved");
    expect(await status(writer)).toBe("approved");
    expect(await release("PEN", [writer])).toMatchObject({ ok: true });
    expect((await refusal(release("PEN", [reader])))?.status).toBe(409);
  });

  it("a decided request shows the approvals its signed base needed, not those of today's rules", async () => {
    // A medium-risk, unregulated, lot-tracked material at EIN that no request targets: its upgrade needs the quality reviewer alone.
    const [row] = await database.client`
      select m.part_number from materials m join tracking_rules r on r.material_id = m.id and r.effective_to is null join sites s on s.id = r.site_id and s.code = 'EIN'
      where m.risk_class = 'medium' and m.regulatory_flags = '{}' and r.tracking_mode = 'lot'
        and not exists (select 1 from change_request_targets t where t.material_id = m.id)
      order by m.part_number limit 1`;
    const part = row!.part_number as string;
    const upgrade = await approved(`Serialize ${part} at EIN`, [
      {
        kind: "tracking",
        material: part,
        sites: ["EIN"],
        trackingMode: "serial",
        containerTracking: false,
        identifierFormatCodes: ["EIN-SER"],
        consumptionScan: "identify",
      },
    ]);
    expect(await release("EIN", [upgrade])).toMatchObject({ ok: true });
    const high = await approved(`${part} is high risk`, [{ kind: "attributes", material: part, riskClass: "high" }]);
    expect(await release("EIN", [high])).toMatchObject({ ok: true });
    expect((await database.client`select risk_class::text as risk from materials where part_number = ${part}`)[0]!.risk).toBe("high");
    const detail = await changeRequestDetail(database.db, upgrade, { historyLimit: 10 });
    expect(detail!.approvals.map((a) => ({ role: a.role, givenBy: a.givenBy.length }))).toEqual([{ role: "quality_reviewer", givenBy: 1 }]);
  });

  it("before its first release, a concurrent request changing the same attribute makes the request stale", async () => {
    const [row] = await database.client`select risk_class::text as risk from materials where part_number = 'FIN-1010'`;
    const [mine, theirs] = (["low", "medium", "high"] as const).filter((r) => r !== row!.risk);
    const request = await approved("FIN-1010 risk, mine", [{ kind: "attributes", material: "FIN-1010", riskClass: mine }]);
    const concurrent = await approved("FIN-1010 risk, theirs", [{ kind: "attributes", material: "FIN-1010", riskClass: theirs }]);
    expect(await release("EIN", [concurrent])).toMatchObject({ ok: true });
    const refused = await refusal(release("EIN", [request]));
    expect(refused?.status).toBe(409);
    expect(refused?.message).toMatch(/the master data of FIN-1010/);
  });
});
