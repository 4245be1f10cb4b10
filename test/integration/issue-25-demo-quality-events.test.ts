import { beforeAll, describe, expect, it } from "vitest";
import { qualityEventReach, recallFrom } from "../../app/queries/genealogy.server";
import { materialTraceability } from "../../app/queries/material-traceability.server";
import { computeImpactAnalysis } from "../../app/services/impact-analysis.server";
import { createChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

/*
 * Issue 25's first "done when": the demo plant's quality events show on the explorer, the recall and
 * the analysis of a change that touches them. Every expectation is a plain SQL query written here
 * (the forward reach as a recursive query over genealogy_edges), never the engine's own output.
 */

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let emil: Signer;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  emil = await signedInPerson(database, "e.e", ["engineer"], "issue-25-demo-password");
}, 120_000);

/** Open events (not closed) referencing the item or an item whose forward reach contains it. */
async function openEventsReaching(itemId: number): Promise<string[]> {
  const rows = await database.client`
    with recursive upstream(id) as (
      select ${itemId}::bigint
      union
      select e.input_item_id from genealogy_edges e join upstream u on e.output_item_id = u.id
      where e.superseded_at is null and e.input_item_id <> e.output_item_id
    )
    select distinct q.number from quality_events q join quality_event_references r on r.quality_event_id = q.id
    where q.status <> 'closed' and r.trace_item_id in (select id from upstream) order by q.number`;
  return rows.map((r) => r.number as string);
}

describe("the demo plant's quality events (issue 25)", () => {
  it("has one of each kind, on serials, lots and both, one closed, one on a legacy lot and one on SUB-1005 serials after its change to serial tracking", async () => {
    const kinds = await database.client`select kind, count(*)::int as n from quality_events group by kind order by kind`;
    expect(kinds.map((k) => k.kind).sort()).toEqual(["complaint", "concession", "nonconformance", "rework_order"]);
    const refKinds = await database.client`
      select q.number, array_agg(distinct r.kind::text order by r.kind::text) as kinds from quality_events q
      join quality_event_references r on r.quality_event_id = q.id group by q.number`;
    const sets = refKinds.map((r) => (r.kinds as string[]).join("+"));
    expect(sets).toContain("serial");
    expect(sets).toContain("lot");
    expect(sets).toContain("lot+serial");
    expect((await database.client`select count(*)::int as n from quality_events where status = 'closed'`)[0]!.n).toBeGreaterThanOrEqual(1);
    // A legacy lot: made before its site's first rule-set version, and recorded as legacy.
    const legacy = await database.client`
      select q.number from quality_events q join quality_event_references r on r.quality_event_id = q.id
      join trace_items t on t.id = r.trace_item_id
      where r.kind = 'lot' and r.rule_state = 'legacy'
        and t.created_at < (select min(v.effective_from) from rule_set_versions v where v.site_id = t.site_id)`;
    expect(legacy.length).toBeGreaterThanOrEqual(1);
    // SUB-1005 serials at EIN made under the version that serialized it, recorded with that rule.
    const sub1005 = await database.client`
      select q.number, r.rule_set_version, r.tracking_mode_at_raise from quality_events q
      join quality_event_references r on r.quality_event_id = q.id join trace_items t on t.id = r.trace_item_id
      join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = 'SUB-1005' and s.code = 'EIN' and r.kind = 'serial'`;
    expect(sub1005.length).toBeGreaterThanOrEqual(1);
    expect(sub1005.every((r) => r.tracking_mode_at_raise === "serial" && r.rule_set_version >= 2)).toBe(true);
  });

  it("walks at most the item cap of referenced items (lowest ids first) and says the marks are truncated past it", async () => {
    const referenced = await database.client<{ id: number }[]>`
      select distinct r.trace_item_id::int as id from quality_events q join quality_event_references r on r.quality_event_id = q.id
      where q.status <> 'closed' and r.trace_item_id is not null order by id`;
    expect(referenced.length).toBeGreaterThan(1);
    const all = await qualityEventReach(database.db, { sites: null });
    expect(all.truncated).toBe(false);
    const capped = await qualityEventReach(database.db, { sites: null, itemCap: 1 });
    expect(capped.truncated).toBe(true);
    // Direct references are still marked; only items reached from the first (lowest id) referenced item carry reach marks.
    const reachedVia = new Set<number>();
    const items = await database.client<{ id: number }[]>`select id::int as id from trace_items`;
    for (const { id } of items) for (const mark of capped.onItem(id)) if (mark.via) reachedVia.add(mark.via.id);
    expect([...reachedVia].every((id) => id === referenced[0]!.id)).toBe(true);
    for (const { id } of referenced) expect(capped.onItem(id).some((m) => m.relation === "referenced")).toBe(true);
  });

  it("are marked in the explorer on the items they reference and on the items those reach", async () => {
    const reach = await qualityEventReach(database.db, { sites: null });
    const referenced = await database.client`
      select distinct r.trace_item_id::int as id, q.number from quality_events q join quality_event_references r on r.quality_event_id = q.id
      where q.status <> 'closed' and r.trace_item_id is not null`;
    expect(referenced.length).toBeGreaterThan(0);
    for (const { id, number } of referenced) {
      expect(reach.onItem(id).find((e) => e.number === number)?.relation).toBe("referenced");
    }
    // A finished good downstream of the legacy lot carries the lot's event, as the SQL reach says.
    const [legacyRef] = await database.client`
      select r.trace_item_id::int as id, q.number from quality_events q join quality_event_references r on r.quality_event_id = q.id
      where r.kind = 'lot' and r.rule_state = 'legacy' and q.status <> 'closed' limit 1`;
    const recall = (await recallFrom(database.db, { itemId: legacyRef!.id, sites: null, qualityEvents: true }))!;
    expect(recall.rows.length).toBeGreaterThan(0);
    for (const row of recall.rows) {
      const oracle = await openEventsReaching(row.id);
      expect(oracle).toContain(legacyRef!.number);
      expect(row.qualityEvents.map((e) => e.number).sort()).toEqual(oracle);
    }
  });

  it("are listed in the analysis of a change that touches them (OPEN_QUALITY_EVENTS), as many as the SQL oracle finds", async () => {
    const { number } = await createChangeRequest(database.db, emil, {
      title: "Track SUB-1005 at EIN in totes as well",
      justification: "Drives travel in totes between WC30 and final assembly.",
      riskAssessment: "Low: an upgrade, serials unchanged.",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "SUB-1005",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: true,
          identifierFormatCodes: ["EIN-SER", "EIN-CTR"],
          consumptionScan: "identify",
        },
      ],
    });
    const [row] = await database.client`select row_version from change_requests where number = ${number}`;
    await submitChangeRequest(database.db, emil, number, row!.row_version);
    const { report } = await computeImpactAnalysis(database.db, number);
    const finding = report.changes.flatMap((c) => c.findings).find((f) => f.code === "OPEN_QUALITY_EVENTS");
    // Oracle: open events referencing SUB-1005 itself at EIN, one of its items there, or an item downstream of them.
    const oracle = await database.client`
      with recursive own as (
        select t.id from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
        where m.part_number = 'SUB-1005' and s.code = 'EIN' and t.kind <> 'container'
      ), downstream(id) as (
        select id from own
        union
        select e.output_item_id from genealogy_edges e join downstream d on e.input_item_id = d.id
        where e.superseded_at is null and e.input_item_id <> e.output_item_id
      )
      select distinct q.number from quality_events q join quality_event_references r on r.quality_event_id = q.id
      join materials m on m.id = r.material_id join sites s on s.id = r.site_id
      where q.status <> 'closed' and (r.trace_item_id in (select id from downstream) or (r.kind = 'material' and m.part_number = 'SUB-1005' and s.code = 'EIN'))
      order by q.number`;
    expect(oracle.length).toBeGreaterThan(0);
    expect(finding).toBeDefined();
    expect(finding!.count).toBe(oracle.length);
    const oracleNumbers = oracle.map((r) => r.number as string);
    expect(finding!.sample!.length).toBeGreaterThan(0);
    for (const n of finding!.sample!) expect(oracleNumbers).toContain(n);
  });

  it("the material page's required traceability: SUB-1005 is required serial by its own requirement and meets it at every site (hand-checked)", async () => {
    const data = (await materialTraceability(database.db, { partNumber: "SUB-1005", sites: null, at: new Date() }))!;
    // Read from app/seed/demo-plant.ts by hand: SUB-1005 is serialized at every site (EIN since version 2).
    expect(data.perSite.map((p) => [p.site, p.row.requirement?.scope, p.row.requirement?.minimumTracking, p.row.status])).toEqual([
      ["CLT", "material", "serial", "meets"],
      ["EIN", "material", "serial", "meets"],
      ["PEN", "material", "serial", "meets"],
    ]);
    // The history: SUB-1005's own requirement and the defaults of its risk class (medium, not regulated), no family requirement for SUB.
    expect(
      data.history
        .map((r) => (r.scope === "material" ? `material:${r.partNumber}` : r.scope === "family" ? `family:${r.family}` : `risk:${r.riskClass}:${r.regulated}`))
        .sort(),
    ).toEqual(["material:SUB-1005", "risk:medium:false"]);
  });

  it("refuses a downgrade of a regulated material (SUB-1012: high risk, critical to safety, required serial) below its requirement without a deviation, and accepts it with one", async () => {
    const change = {
      kind: "tracking",
      material: "SUB-1012",
      sites: ["EIN"],
      trackingMode: "lot",
      containerTracking: false,
      identifierFormatCodes: ["EIN-LOT"],
      consumptionScan: "verify",
    };
    const draft = (deviations?: unknown[]) =>
      createChangeRequest(database.db, emil, {
        title: "Lot-track SUB-1012 at EIN",
        justification: "Serial printer down at WC30.",
        riskAssessment: "High: a regulated part loses unit-level trace.",
        legacyDataPlan: "grandfather",
        changes: [change],
        ...(deviations ? { deviations } : {}),
      }).then((r) => r.number);
    const statusOf = async (n: string) => (await database.client`select status, row_version from change_requests where number = ${n}`)[0]!;
    const plain = await draft();
    const refused = await submitChangeRequest(database.db, emil, plain, (await statusOf(plain)).row_version).catch(
      (e: unknown) => e as { status: number; fields: Record<string, string[]> },
    );
    expect(refused).toMatchObject({ status: 400 });
    expect(Object.keys((refused as { fields: Record<string, string[]> }).fields)).toContain("changes.0.trackingMode");
    expect((await statusOf(plain)).status).toBe("draft");
    const withDeviation = await draft([
      {
        material: "SUB-1012",
        site: "EIN",
        reason: "Serial printer at WC30 out of service until the spare part arrives.",
        riskAssessmentRef: "RA-2026-040",
        compensatingControls: "Lot size capped at 20 drives; each drive's lot written on the pump's DHR.",
        expiresOn: "2099-01-31",
      },
    ]);
    await submitChangeRequest(database.db, emil, withDeviation, (await statusOf(withDeviation)).row_version);
    expect((await statusOf(withDeviation)).status).toBe("in_review");
  });
});
