import { beforeAll, describe, expect, it } from "vitest";
import { patternOverlap, matchesPattern, type PatternSegment } from "../../packages/identifiers/src/identifier-format";
import { granularity, type TrackingMode } from "../../app/domain/tracking-rule";
import { ruleInForce } from "../../app/queries/tracking-rules.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import { DEMO_VERSION_DATES, generateDemoPlant } from "../../app/seed/demo-plant";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import type { KeyRing } from "../../app/utils/signing.server";

let keyRing: KeyRing;

let database: Database;
const plant = generateDemoPlant();
const hard = plant.hardCases;

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
}, 120_000);

const q = <T extends Record<string, unknown>>(text: TemplateStringsArray, ...values: unknown[]) => database.client<T[]>(text, ...(values as never[]));

async function item(identifier: string, site = "EIN") {
  const [row] = await q<{ id: string; kind: string; status: string; part_number: string; quantity: string }>`
    select t.id, t.kind, t.status, m.part_number, t.quantity from trace_items t
    join materials m on m.id = t.material_id join sites s on s.id = t.site_id
    where t.identifier = ${identifier} and s.code = ${site}`;
  if (!row) throw new Error(`no trace item ${identifier} at ${site}`);
  return row;
}

async function edgesFrom(identifier: string) {
  return q<{ kind: string; output: string; quantity: string }>`
    select e.kind, o.identifier as output, e.quantity::text from genealogy_edges e
    join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
    where i.identifier = ${identifier} order by o.identifier`;
}

async function ruleAt(partNumber: string, site: string, at: Date) {
  const [m] = await q<{ id: number }>`select id from materials where part_number = ${partNumber}`;
  const [s] = await q<{ id: number }>`select id from sites where code = ${site}`;
  return ruleInForce(database.db, { materialId: m!.id, siteId: s!.id, at });
}

describe("the demo plant", () => {
  it("has the size the issue asks for", async () => {
    const [counts] = await q<Record<string, number>>`select
      (select count(*)::int from sites) as sites,
      (select count(*)::int from materials where system_role is null) as materials,
      (select count(*)::int from trace_items) as items,
      (select count(*)::int from work_orders where status = 'open') as open_orders,
      (select count(*)::int from work_orders where status = 'closed') as closed_orders,
      (select count(*)::int from label_templates) as labels,
      (select count(*)::int from bom_line_alternates) as alternates,
      (select count(*)::int from routing_operations) as operations`;
    expect(counts!.sites).toBe(3);
    expect(counts!.materials).toBeGreaterThanOrEqual(140);
    expect(counts!.materials).toBeLessThanOrEqual(170);
    expect(counts!.items).toBeGreaterThanOrEqual(5000);
    expect(counts!.open_orders).toBeGreaterThan(0);
    expect(counts!.closed_orders).toBeGreaterThan(0);
    expect(counts!.labels).toBeGreaterThan(0);
    expect(counts!.alternates).toBeGreaterThan(0);
    expect(counts!.operations).toBeGreaterThan(0);
    // The plant's products and their families; the system family of the logistics unit comes from
    // migration 0024, not from the seed (ADR 014).
    const families = await q<{ code: string }>`select code from material_families where code <> 'C981-SYSTEM' order by code`;
    expect(families.map((f) => f.code)).toEqual(["ASM", "CON", "EPC", "FIN", "MCH", "PKG", "RAW", "RES", "SUB"]);
  });

  it("has every genealogy event kind and every trace item status", async () => {
    const kinds = await q<{ kind: string }>`select distinct kind::text from genealogy_edges order by 1`;
    expect(kinds.map((k) => k.kind)).toEqual(["aggregate", "consume", "merge", "repack", "rework", "scrap", "split"]);
    const statuses = await q<{ status: string }>`select distinct status::text from trace_items order by 1`;
    expect(statuses.map((s) => s.status)).toEqual(["consumed", "scrapped", "shipped", "stock", "wip"]);
  });

  it("has genealogy at least 4 tiers deep: raw lot → machined lot → subassembly → assembly → device", async () => {
    const [row] = await q<{ depth: number }>`
      with recursive down(id, depth) as (
        select t.id, 1 from trace_items t join materials m on m.id = t.material_id
        join material_families f on f.id = m.family_id where f.code = 'RAW'
        union
        select e.output_item_id, d.depth + 1 from down d join genealogy_edges e on e.input_item_id = d.id
        where e.kind = 'consume' and d.depth < 8
      ) select max(depth)::int as depth from down`;
    expect(row!.depth).toBeGreaterThanOrEqual(4);
  });

  it("consumes a serialized subassembly into a non-serialized (lot) assembly", async () => {
    const rows = await q<{ n: number }>`
      select count(*)::int as n from genealogy_edges e
      join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
      where i.kind = 'serial' and o.kind = 'lot' and e.kind = 'consume'`;
    expect(rows[0]!.n).toBeGreaterThan(0);
    const rule = await ruleAt(hard.serialConsumedIntoLotAssembly.assembly, hard.serialConsumedIntoLotAssembly.site, new Date());
    expect(rule).toMatchObject({ state: "ruled", rule: { trackingMode: "lot" } });
  });

  it("has an approved alternate whose tracking is coarser than the primary's", async () => {
    const rows = await q<{ parent: string; primary: string; alternate: string; site: string }>`
      select p.part_number as parent, c.part_number as primary, a.part_number as alternate, s.code as site
      from bom_line_alternates x join bom_lines l on l.id = x.bom_line_id
      join materials p on p.id = l.parent_material_id join materials c on c.id = l.component_material_id
      join materials a on a.id = x.material_id join sites s on s.id = l.site_id`;
    const now = new Date();
    let coarser = 0;
    for (const row of rows.filter((r) => r.site === "EIN")) {
      const primary = await ruleAt(row.primary, row.site, now);
      const alternate = await ruleAt(row.alternate, row.site, now);
      if (primary.state === "ruled" && alternate.state === "ruled" && granularity(alternate.rule.trackingMode) < granularity(primary.rule.trackingMode))
        coarser++;
    }
    expect(coarser).toBeGreaterThanOrEqual(1);
    expect(rows).toContainEqual(expect.objectContaining({ parent: hard.coarserAlternate.parent, alternate: hard.coarserAlternate.alternate }));
  });

  it("prints serial, lot and container label formats that truly overlap at one work centre", async () => {
    const formats = await q<{ code: string; identifies: string; definition: { kind: string; segments?: PatternSegment[] } }>`
      select f.code, f.identifies::text, f.definition from label_templates t
      join sites s on s.id = t.site_id join label_template_formats lf on lf.label_template_id = t.id
      join identifier_formats f on f.id = lf.identifier_format_id
      where s.code = ${hard.overlappingFormats.site} and t.code = ${hard.overlappingFormats.labelTemplate}`;
    expect(new Set(formats.map((f) => f.identifies))).toEqual(new Set(["serial", "lot", "container"]));
    const serial = formats.find((f) => f.identifies === "serial")!.definition.segments!;
    const lot = formats.find((f) => f.identifies === "lot")!.definition.segments!;
    const container = formats.find((f) => f.identifies === "container")!.definition.segments!;
    const serialVsLot = patternOverlap(serial, lot);
    expect(serialVsLot.overlaps).toBe(true);
    if (serialVsLot.overlaps) expect(matchesPattern(serial, serialVsLot.witness) && matchesPattern(lot, serialVsLot.witness)).toBe(true);
    expect(patternOverlap(container, lot).overlaps).toBe(true);
    // A real serial of the plant reads as a lot too.
    const [realSerial] = await q<{ identifier: string }>`select identifier from trace_items t join sites s on s.id = t.site_id
      where s.code = 'EIN' and t.kind = 'serial' and t.identifier like 'S%' limit 1`;
    expect(matchesPattern(serial, realSerial!.identifier)).toBe(true);
    expect(matchesPattern(lot, realSerial!.identifier)).toBe(true);
  });

  it("has materials for every GTIN used in the EPCIS example documents", async () => {
    const rows = await q<{ gtin: string }>`select gtin from materials where gtin = any(${hard.epcisGtins})`;
    expect(rows.map((r) => r.gtin).sort()).toEqual([...hard.epcisGtins].sort());
    expect(hard.epcisGtins).toContain("10614141073464"); // urn:epc:id:sgtin:0614141.107346.2018
  });

  it("splits a lot, merges two lots, repacks bulk into containers, reworks a serial, scraps part of a lot", async () => {
    expect((await edgesFrom(hard.lotSplit.source)).map((e) => [e.kind, e.output])).toEqual(hard.lotSplit.children.map((c) => ["split", c]));
    for (const source of hard.lotMerge.sources) {
      expect((await edgesFrom(source)).map((e) => [e.kind, e.output])).toEqual([["merge", hard.lotMerge.merged]]);
    }
    const repacked = await edgesFrom(hard.repack.bulkLot);
    expect(repacked.map((e) => e.kind)).toEqual(hard.repack.containers.map(() => "repack"));
    for (const c of hard.repack.containers) expect((await item(c)).kind).toBe("container");

    const serial = await item(hard.reworkedSerial.serial);
    const [loop] = await q<{ n: number }>`select count(*)::int as n from genealogy_edges
      where kind = 'rework' and input_item_id = ${serial.id} and output_item_id = ${serial.id}`;
    expect(loop!.n).toBe(1);
    const [replacement] = await q<{ n: number }>`select count(*)::int as n from genealogy_edges e
      join genealogy_edges r on r.event_ref = e.event_ref and r.kind = 'rework'
      where e.kind = 'consume' and e.output_item_id = ${serial.id}`;
    expect(replacement!.n).toBe(1);

    const scrap = await edgesFrom(hard.partlyScrappedLot.lot);
    expect(scrap).toEqual([{ kind: "scrap", output: hard.partlyScrappedLot.scrapped, quantity: "40.000000" }]);
    expect((await item(hard.partlyScrappedLot.lot)).status).toBe("stock");
    expect((await item(hard.partlyScrappedLot.scrapped)).status).toBe("scrapped");
  });

  it("holds genealogy from before the first rule-set version (legacy)", async () => {
    const [row] = await q<{ n: number }>`select count(*)::int as n from trace_items t
      where t.created_at < (select min(effective_from) from rule_set_versions v where v.site_id = t.site_id)`;
    expect(row!.n).toBeGreaterThan(100);
    const [edge] = await q<{ n: number }>`select count(*)::int as n from genealogy_edges e
      where e.occurred_at < (select min(effective_from) from rule_set_versions v where v.site_id = e.site_id)`;
    expect(edge!.n).toBeGreaterThan(100);
  });

  it("answers the rule in force for any material, site and time, legacy included", async () => {
    const [v1, v2] = DEMO_VERSION_DATES;
    const before = new Date(v1.getTime() - 1);
    const { partNumber, site } = hard.upgradedLotToSerial;
    expect(await ruleAt(partNumber, site, before)).toMatchObject({ state: "legacy", firstVersion: { version: 1 } });
    expect(await ruleAt(partNumber, site, v1)).toMatchObject({ state: "ruled", version: { version: 1 }, rule: { trackingMode: "lot" } });
    expect(await ruleAt(partNumber, site, new Date(v2.getTime() - 1))).toMatchObject({ state: "ruled", rule: { trackingMode: "lot" } });
    expect(await ruleAt(partNumber, site, v2)).toMatchObject({ state: "ruled", version: { version: 2 }, rule: { trackingMode: "serial" } });
    // The same material at another site was never lot-tracked.
    expect(await ruleAt(partNumber, "CLT", v1)).toMatchObject({ state: "ruled", rule: { trackingMode: "serial" } });
    // An EPCIS trading item has no rule in version 1, one from version 2.
    expect(await ruleAt("EPC-1001", "PEN", v1)).toMatchObject({ state: "unruled", version: { version: 1 } });
    expect(await ruleAt("EPC-1001", "PEN", v2)).toMatchObject({ state: "ruled", rule: { trackingMode: "lot" } });

    // Every material at every site agrees with the generator, at a time in each period.
    const materials = await q<{ part_number: string }>`select part_number from materials`;
    for (const { part_number } of materials.slice(0, 40)) {
      for (const s of ["EIN", "CLT", "PEN"]) {
        expect((await ruleAt(part_number, s, before)).state).toBe("legacy");
        const expected = (version: number): TrackingMode | undefined =>
          [...plant.versions.slice(0, version)]
            .reverse()
            .flatMap((v) => v.rules)
            .find((r) => r.partNumber === part_number && r.site === s)?.trackingMode;
        const atV1 = await ruleAt(part_number, s, v1);
        const atV2 = await ruleAt(part_number, s, v2);
        expect(atV1.state === "ruled" ? atV1.rule.trackingMode : undefined).toBe(expected(1));
        expect(atV2.state === "ruled" ? atV2.rule.trackingMode : undefined).toBe(expected(2));
      }
    }
    // The mixed historical state: legacy lots of SUB-1005 at EIN next to serials made after version 2.
    const kinds = await q<{ kind: string }>`select distinct t.kind::text from trace_items t join materials m on m.id = t.material_id
      join sites s on s.id = t.site_id where m.part_number = ${partNumber} and s.code = ${site} order by 1`;
    expect(kinds.map((k) => k.kind)).toEqual(["lot", "serial"]);
  });

  it("holds ERP and PLM records with deliberate disagreements", async () => {
    const rows = await q<{ system: string; external_key: string; site: string | null }>`
      select x.system::text, x.external_key, s.code as site from external_master_records x
      left join sites s on s.id = x.site_id
      left join tracking_rules r on r.material_id = x.material_id and r.site_id = coalesce(x.site_id, (select id from sites where code = 'EIN'))
        and r.effective_to is null
      where x.material_id is null or r.tracking_mode is distinct from x.tracking_mode
      order by 1, 2`;
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.map((r) => `${r.system}:${r.external_key}`).sort()).toEqual(hard.erpPlmDisagreements.map((d) => `${d.system}:${d.externalKey}`).sort());
    const [systems] = await q<{ erp: number; plm: number }>`select count(*) filter (where system = 'erp')::int as erp,
      count(*) filter (where system = 'plm')::int as plm from external_master_records`;
    expect(systems!.erp).toBeGreaterThan(300);
    expect(systems!.plm).toBeGreaterThan(100);
  });

  it("has one user per role and an intact audit trail with one summarizing seed row", async () => {
    const roles = await q<{ role: string }>`select distinct role::text from user_roles order by 1`;
    expect(roles.map((r) => r.role)).toEqual(["admin", "engineer", "quality_reviewer", "regulatory_reviewer", "release_manager", "viewer"]);
    const actions = await q<{ action: string; n: number }>`select action, count(*)::int as n from audit_trail group by action order by action`;
    expect(actions).toEqual([
      // The demo quality events (ADR 034): five raised through the service, one of them closed.
      { action: "quality_event.raise", n: 5 },
      { action: "quality_event.status", n: 1 },
      { action: "rule_set_version.create", n: 6 },
      { action: "seed.demo_plant", n: 1 },
      { action: "signing_key.create", n: 1 },
    ]);
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
  });

  it("is deterministic: the same seed gives the same plant", () => {
    const again = generateDemoPlant();
    expect(JSON.stringify(again)).toBe(JSON.stringify(plant));
    expect(JSON.stringify(generateDemoPlant(7).traceItems.slice(0, 50))).not.toBe(JSON.stringify(plant.traceItems.slice(0, 50)));
  });
});
