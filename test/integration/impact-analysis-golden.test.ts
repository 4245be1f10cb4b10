/**
 * Golden tests of the impact analysis: a small hand-built plant whose genealogy holds each hard
 * case once — a serialized subassembly in a lot-tracked assembly, a split then a merge, a repack
 * into containers, a rework where the same serial is input and output, a site still in its legacy
 * period (no version yet), a cycle and a dangling reference in the data — and the exact findings
 * each change request must produce. CI runs this file on the embedded server and on PostgreSQL 15.
 *
 * The expected finished-good figures (REACH, PRECISION_LOSS) are derived by hand from the
 * definition in ADR 010, not from the engine's output: the BOMs make G-FIN the only top
 * tier at GLD (GL2 has no BOM), so the finished goods are the G-FIN serials F000001 and F000002 —
 * F000001 shipped on the pallet P000001 (a G-FIN container: not a finished good, walked through),
 * F000002 in stock. Before a review fixed it, the engine counted "nothing flows out" instead, which the
 * pallet would have hidden F000001 from, and a G-FIN change counted none of its own units.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createChangeRequest, type Person } from "../../app/services/change-requests.server";
import { storedAnalysis } from "../../app/queries/impact-analysis-currency.server";
import { computeImpactAnalysis, runImpactAnalysis } from "../../app/services/impact-analysis.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { createUser } from "../../app/services/users.server";
import type { Finding } from "../../app/domain/impact-analysis";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let engineer: Person;

/** Builds the golden plant (fixtures by SQL; versions through the one version function). */
async function buildPlant() {
  const sql = database.client;
  const keyRing = await testKeyRing(database.db);
  const [gld] = await sql`insert into sites (code, name, time_zone) values ('GLD', 'Golden plant', 'Europe/Amsterdam') returning id`;
  const [gl2] = await sql`insert into sites (code, name, time_zone) values ('GL2', 'Golden plant 2 (legacy)', 'Europe/Amsterdam') returning id`;
  const [family] = await sql`insert into material_families (code, name) values ('GOLD', 'Golden materials') returning id`;
  const material = async (partNumber: string, riskClass: string, flags: string[]) =>
    (
      await sql`insert into materials (part_number, description, unit_of_measure, risk_class, regulatory_flags, family_id) values (${partNumber}, ${`${partNumber} (golden)`}, 'EA', ${riskClass}, ${flags}, ${family!.id}) returning id`
    )[0]!.id as number;
  const m = {
    FIN: await material("G-FIN", "high", ["udi"]),
    ASM: await material("G-ASM", "medium", []),
    SUB: await material("G-SUB", "medium", ["critical_to_safety"]),
    ALT: await material("G-ALT", "medium", []),
    RAW: await material("G-RAW", "low", []),
    PKG: await material("G-PKG", "low", []),
  };
  const format = (code: string, identifies: string, literal: string) =>
    sql`insert into identifier_formats (code, name, identifies, site_id, definition) values (${code}, ${code}, ${identifies}, ${gld!.id}, ${JSON.stringify({ kind: "pattern", segments: [{ literal }, { class: "digit", min: 6, max: 6 }] })}::jsonb)`;
  await format("G-SER", "serial", "S");
  await format("G-LOT", "lot", "L");
  await format("G-CTR", "container", "C");
  // A tote format that looks like the serial and lot formats (7 upper-case letters or digits): the look-alike case.
  await sql`insert into identifier_formats (code, name, identifies, site_id, definition) values ('G-TOTE', 'G-TOTE', 'container', ${gld!.id}, ${JSON.stringify({ kind: "pattern", segments: [{ class: "upperAlnum", min: 7, max: 7 }] })}::jsonb)`;
  await sql`insert into identifier_formats (code, name, identifies, site_id, definition) values ('G2-LOT', 'G2-LOT', 'lot', ${gl2!.id}, ${JSON.stringify({ kind: "pattern", segments: [{ literal: "LEG" }, { class: "digit", min: 3, max: 3 }] })}::jsonb)`;
  const rule = (
    materialId: number,
    trackingMode: "serial" | "lot" | "none",
    formats: string[],
    consumptionScan: "none" | "verify" | "identify",
    containerTracking = false,
  ) => ({
    materialId,
    trackingMode,
    containerTracking,
    identifierFormatCodes: formats,
    consumptionScan,
  });
  await createRuleSetVersion(
    database.db,
    {
      siteId: gld!.id as number,
      effectiveFrom: new Date("2025-01-01T00:00:00.000Z"),
      backdate: true,
      actor: "test",
      reason: "golden plant version 1",
      validDays: 366,
      changes: [
        rule(m.FIN, "serial", ["G-SER"], "identify"),
        rule(m.ASM, "lot", ["G-LOT"], "verify"),
        rule(m.SUB, "serial", ["G-SER"], "identify"),
        rule(m.ALT, "lot", ["G-LOT"], "verify"),
        rule(m.RAW, "lot", ["G-LOT"], "verify"),
        rule(m.PKG, "lot", ["G-LOT", "G-CTR"], "verify", true),
      ],
    },
    keyRing,
  );
  // BOMs: FIN ← ASM; ASM ← SUB (alternate ALT); SUB ← RAW.
  const bom = async (parent: number, component: number, lineNo: number, alternates: number[] = []) => {
    const [line] =
      await sql`insert into bom_lines (site_id, parent_material_id, component_material_id, line_no, quantity, unit) values (${gld!.id}, ${parent}, ${component}, ${lineNo}, 1, 'EA') returning id`;
    for (const [i, alt] of alternates.entries())
      await sql`insert into bom_line_alternates (bom_line_id, material_id, priority) values (${line!.id}, ${alt}, ${i + 1})`;
  };
  await bom(m.FIN, m.ASM, 10);
  await bom(m.ASM, m.SUB, 10, [m.ALT]);
  await bom(m.SUB, m.RAW, 10);
  // Routings: the scan each step requires.
  const step = async (parent: number, stepNo: number, workCentre: string, consumes: [number, string][]) => {
    const [op] =
      await sql`insert into routing_operations (site_id, material_id, step, work_centre, description) values (${gld!.id}, ${parent}, ${stepNo}, ${workCentre}, 'golden step') returning id`;
    for (const [materialId, scan] of consumes)
      await sql`insert into routing_operation_materials (operation_id, material_id, consumption_scan) values (${op!.id}, ${materialId}, ${scan})`;
  };
  await step(m.FIN, 10, "G-WC1", [[m.ASM, "verify"]]);
  await step(m.ASM, 10, "G-WC2", [[m.SUB, "identify"]]);
  await step(m.SUB, 10, "G-WC3", [[m.RAW, "verify"]]);
  const [template] = await sql`insert into label_templates (site_id, code, name, work_centre) values (${gld!.id}, 'G-SHOP', 'Shop label', null) returning id`;
  for (const code of ["G-SER", "G-LOT"])
    await sql`insert into label_template_formats (label_template_id, identifier_format_id) select ${template!.id}, id from identifier_formats where code = ${code}`;
  await sql`insert into work_orders (number, site_id, material_id, quantity, unit, status, opened_at) values ('WO-G-ASM-OPEN', ${gld!.id}, ${m.ASM}, 5, 'EA', 'open', now() - interval '1 day')`;
  await sql`insert into external_master_records (system, external_key, material_id, site_id, tracking_flag, tracking_mode, payload, imported_at, source_digest)
            values ('erp', 'G-SUB', ${m.SUB}, ${gld!.id}, 'SERNP=ZSER', 'serial', '{}', now(), 'golden'),
                   ('plm', 'G-ASM', ${m.ASM}, null, 'traceability=SERIALIZED', 'serial', '{}', now(), 'golden')`;
  await createRuntimeClient(database.db, "test", { name: "g-line-1", sites: ["GLD"], reason: "golden" });

  // Genealogy (times within the 30 days before the data point, so volumes count them).
  const ids: Record<string, number> = {};
  const item = async (identifier: string, materialId: number, kind: string, quantity: number, status: string, site = gld!.id, daysAgo = 5) => {
    const [row] = await sql`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values (${kind}, ${identifier}, ${materialId}, ${site}, ${quantity}, 'EA', ${status}, now() - make_interval(days => ${daysAgo}), 'seed') returning id`;
    ids[identifier] = row!.id as number;
  };
  const edge = (eventRef: string, kind: string, input: string, output: string, quantity: number, daysAgo = 4) =>
    sql`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
        values (${eventRef}, ${kind}, ${ids[input]!}, ${ids[output]!}, ${quantity}, 'EA', ${gld!.id}, now() - make_interval(days => ${daysAgo}), 'seed')`;
  // Raw lots: R1 split into R1A/R1B; R1B merged with R2 into RM; R3 consumed into nothing (dangling).
  for (const [id, qty] of [
    ["R1", 100],
    ["R1A", 50],
    ["R1B", 50],
    ["R2", 50],
    ["RM", 100],
    ["R3", 20],
  ] as const)
    await item(id, m.RAW, "lot", qty, "consumed");
  await edge("E-SPLIT", "split", "R1", "R1A", 50);
  await edge("E-SPLIT", "split", "R1", "R1B", 50);
  await edge("E-MERGE", "merge", "R1B", "RM", 50);
  await edge("E-MERGE", "merge", "R2", "RM", 50);
  // A cycle in imported data: X1 → X2 → X1.
  await item("X1", m.RAW, "lot", 10, "stock");
  await item("X2", m.RAW, "lot", 10, "stock");
  await edge("E-X1", "consume", "X1", "X2", 5);
  await edge("E-X2", "consume", "X2", "X1", 5);
  // Serialized subassemblies from raw lots; both into one lot-tracked assembly (the genealogy break).
  await item("S000001", m.SUB, "serial", 1, "consumed");
  await item("S000002", m.SUB, "serial", 1, "consumed");
  await edge("E-SUB-1", "consume", "R1A", "S000001", 10);
  await edge("E-SUB-2", "consume", "RM", "S000002", 10);
  await item("L000001", m.ASM, "lot", 2, "consumed");
  await edge("E-ASM-1", "consume", "S000001", "L000001", 1, 3);
  await edge("E-ASM-1", "consume", "S000002", "L000001", 1, 3);
  // Two finished serials from the assembly lot; one reworked (input = output).
  await item("F000001", m.FIN, "serial", 1, "shipped");
  await item("F000002", m.FIN, "serial", 1, "stock");
  await edge("E-FIN-1", "consume", "L000001", "F000001", 1, 2);
  await edge("E-FIN-2", "consume", "L000001", "F000002", 1, 2);
  await edge("E-REWORK", "rework", "F000001", "F000001", 1, 1);
  // The shipped serial went out on a pallet (a container of the finished material, as at a real plant).
  await item("P000001", m.FIN, "container", 1, "shipped");
  await edge("E-PALLET", "aggregate", "F000001", "P000001", 1, 1);
  // Packaging repacked into containers.
  await item("L000009", m.PKG, "lot", 100, "consumed");
  await item("C000001", m.PKG, "container", 50, "stock");
  await item("C000002", m.PKG, "container", 50, "stock");
  await edge("E-REPACK", "repack", "L000009", "C000001", 50);
  await edge("E-REPACK", "repack", "L000009", "C000002", 50);
  // The legacy site: raw lots with no version in force.
  await item("LEG001", m.RAW, "lot", 10, "stock", gl2!.id);
}

beforeAll(async () => {
  database = await createTestDatabase();
  await createUser(
    database.db,
    "test",
    { username: "g.engineer", displayName: "G Engineer", password: "golden-password-1", grants: [{ role: "engineer", site: null }], reason: "test" },
    "fixture",
  );
  const [row] = await database.client`select id from users where username = 'g.engineer'`;
  engineer = { id: row!.id as number, username: "g.engineer", displayName: "G Engineer" };
  await buildPlant();
}, 120_000);

const propose = async (change: Record<string, unknown>) =>
  (
    await createChangeRequest(database.db, engineer, {
      title: "golden change",
      justification: "golden impact analysis test",
      riskAssessment: "golden impact analysis test",
      legacyDataPlan: "grandfather",
      changes: [{ kind: "tracking", containerTracking: false, ...change }],
    })
  ).number;

/** A finding reduced to what the golden expectations pin: code, severity, count, counts, sample. */
const brief = (f: Finding) => ({ code: f.code, severity: f.severity, count: f.count, ...(f.counts ? { counts: f.counts } : {}), sample: f.sample });

async function analyse(change: Record<string, unknown>) {
  const number = await propose(change);
  const { report } = await computeImpactAnalysis(database.db, number);
  expect(report.changes).toHaveLength(1);
  return { number, report, change: report.changes[0]!, findings: report.changes[0]!.findings.map(brief), general: report.findings.map(brief) };
}

describe("golden impact analyses", () => {
  it("downgrading the serialized subassembly to lot: precision lost on regulated finished units, labels, scans, ERP", async () => {
    const { change, findings, general } = await analyse({
      material: "G-SUB",
      sites: ["GLD"],
      trackingMode: "lot",
      identifierFormatCodes: ["G-LOT"],
      consumptionScan: "verify",
    });
    expect(change).toMatchObject({ partNumber: "G-SUB", site: "GLD", from: "serial", to: "lot", effect: "downgrade" });
    expect(findings).toEqual([
      {
        code: "ITEMS_BY_STATUS",
        severity: "info",
        count: 2,
        counts: { wip: 0, stock: 0, consumed: 2, shipped: 0, scrapped: 0, "kind:serial": 2 },
        sample: ["S000001", "S000002"],
      },
      { code: "OPEN_WORK_ORDERS", severity: "warning", count: 1, counts: { producing: 0, consuming: 1 }, sample: ["WO-G-ASM-OPEN"] },
      {
        code: "PRECISION_LOSS",
        severity: "critical",
        count: 2,
        counts: { finishedUnits: 2, "status:stock": 1, "status:shipped": 1, regulated: 2, sources: 2, precisionAfter: "lot" },
        sample: ["F000001", "F000002"],
      },
      // Reached: S000001, S000002 → L000001 → F000001, F000002 → P000001 (6 items, 3 tiers); finished: the two G-FIN serials, through the assembly lot (lot-level).
      {
        code: "REACH",
        severity: "info",
        count: 2,
        counts: { "site:GLD": 2, "status:stock": 1, "status:shipped": 1, precisionUnit: 0, precisionLot: 2, itemsReached: 6, tiers: 3 },
        sample: ["F000001", "F000002"],
      },
      {
        code: "LABELS",
        severity: "warning",
        count: 1,
        counts: { templatesPrintingDroppedFormats: 1, formatsWithoutTemplate: 0, labelsPerDayBefore: "0.1", labelsPerDayAfter: "0.1" },
        sample: ["GLD/G-SHOP"],
      },
      {
        code: "SCAN_STEPS",
        severity: "warning",
        count: 1,
        counts: { stepsKeepingScan: 0, scansPerDayBefore: "0.1", scansPerDayAfter: "0.0" },
        sample: ["GLD G-ASM step 10 (G-WC2): identify → verify"],
      },
      { code: "ERP_PLM_DISAGREEMENT", severity: "warning", count: 1, sample: ["ERP G-SUB@GLD: SERNP=ZSER (serial)"] },
    ]);
    expect(general).toEqual([{ code: "DISTRIBUTION", severity: "info", count: 1, counts: { "site:GLD": 1 }, sample: ["g-line-1@GLD (v–)"] }]);
  });

  it("the assembly to untracked: the serialized subassembly in it breaks genealogy, by BOM and by record", async () => {
    const { findings } = await analyse({ material: "G-ASM", sites: ["GLD"], trackingMode: "none", identifierFormatCodes: [], consumptionScan: "none" });
    const codes = findings.map((f) => f.code);
    expect(codes).toEqual([
      "ITEMS_BY_STATUS",
      "OPEN_WORK_ORDERS",
      "PRECISION_LOSS",
      "CANDIDATE_LINKS",
      "GENEALOGY_BREAK_BOM",
      "GENEALOGY_BREAK_ACTUAL",
      "PARENT_FINER_THAN_COMPONENT",
      "REACH",
      "LABELS",
      "SCAN_STEPS",
      "ERP_PLM_DISAGREEMENT",
    ]);
    const by = Object.fromEntries(findings.map((f) => [f.code, f]));
    expect(by.PRECISION_LOSS).toEqual({
      code: "PRECISION_LOSS",
      severity: "critical",
      count: 2,
      counts: { finishedUnits: 2, "status:stock": 1, "status:shipped": 1, regulated: 2, sources: 1, precisionAfter: "none" },
      sample: ["F000001", "F000002"],
    });
    expect(by.GENEALOGY_BREAK_BOM).toEqual({ code: "GENEALOGY_BREAK_BOM", severity: "critical", count: 1, sample: ["GLD G-ASM ← G-SUB (serial into none)"] });
    expect(by.GENEALOGY_BREAK_ACTUAL).toEqual({
      code: "GENEALOGY_BREAK_ACTUAL",
      severity: "critical",
      count: 2,
      sample: ["S000001 → L000001", "S000002 → L000001"],
    });
    expect(by.OPEN_WORK_ORDERS).toMatchObject({ count: 1, counts: { producing: 1, consuming: 0 } });
    // The finished serials consumed the assembly lot: candidate sets, never invented unit links.
    expect(by.CANDIDATE_LINKS).toEqual({
      code: "CANDIDATE_LINKS",
      severity: "info",
      count: 2,
      counts: { parents: 2, withSeveralCandidates: 0, precisionUnit: 0, precisionLot: 2 },
      sample: ["F000001", "F000002"],
    });
    expect(by.PARENT_FINER_THAN_COMPONENT).toEqual({
      code: "PARENT_FINER_THAN_COMPONENT",
      severity: "warning",
      count: 1,
      sample: ["GLD G-FIN ← G-ASM (serial parent, untracked medium-risk component)"],
    });
    expect(by.ERP_PLM_DISAGREEMENT).toEqual({
      code: "ERP_PLM_DISAGREEMENT",
      severity: "warning",
      count: 1,
      sample: ["PLM G-ASM: traceability=SERIALIZED (serial)"],
    });
  });

  it("serializing the raw material: lots stay lot-level history, candidate sets for serial parents, split and merge inexpressible, the cycle and the dangling lot found", async () => {
    const { findings, general, report } = await analyse({
      material: "G-RAW",
      sites: ["GLD"],
      trackingMode: "serial",
      identifierFormatCodes: ["G-SER"],
      consumptionScan: "identify",
    });
    const by = Object.fromEntries(findings.map((f) => [f.code, f]));
    expect(by.MIXED_HISTORY).toEqual({
      code: "MIXED_HISTORY",
      severity: "warning",
      count: 8,
      counts: { lots: 8, toReidentifyOrGrandfather: 2, unitsInOpenLots: "20", historical: 6 },
      sample: ["X1", "X2"],
    });
    expect(by.CANDIDATE_LINKS).toEqual({
      code: "CANDIDATE_LINKS",
      severity: "info",
      count: 2,
      counts: { parents: 2, withSeveralCandidates: 0, precisionUnit: 0, precisionLot: 2 },
      sample: ["S000001", "S000002"],
    });
    const candidates = report.changes[0]!.findings.find((f) => f.code === "CANDIDATE_LINKS")!.detail!.candidateSets;
    expect(candidates).toEqual([
      { parent: "S000001", parentMaterial: "G-SUB", precision: "lot", candidates: [{ lot: "R1A", quantity: "10.000000", unit: "EA" }] },
      { parent: "S000002", parentMaterial: "G-SUB", precision: "lot", candidates: [{ lot: "RM", quantity: "10.000000", unit: "EA" }] },
    ]);
    expect(by.INEXPRESSIBLE_EVENTS).toEqual({
      code: "INEXPRESSIBLE_EVENTS",
      severity: "warning",
      count: 2,
      counts: { merge: 1, split: 1 },
      sample: ["E-MERGE", "E-SPLIT"],
    });
    expect(by.REACH).toMatchObject({ count: 2, sample: ["F000001", "F000002"], counts: { "site:GLD": 2, precisionLot: 2, precisionUnit: 0 } });
    expect(by.GENEALOGY_BREAK_BOM).toBeUndefined();
    expect(general).toEqual([
      { code: "DISTRIBUTION", severity: "info", count: 1, counts: { "site:GLD": 1 }, sample: ["g-line-1@GLD (v–)"] },
      { code: "CYCLE", severity: "critical", count: 1, sample: ["X1 → X2"] },
      { code: "DANGLING_REFERENCE", severity: "warning", count: 1, sample: ["R3 (G-RAW) is consumed but flowed into nothing recorded"] },
    ]);
  });

  it("the finished serial to lot: its rework cannot be expressed; a container repack to untracked cannot either", async () => {
    const fin = await analyse({ material: "G-FIN", sites: ["GLD"], trackingMode: "lot", identifierFormatCodes: ["G-LOT"], consumptionScan: "verify" });
    expect(fin.findings.find((f) => f.code === "INEXPRESSIBLE_EVENTS")).toEqual({
      code: "INEXPRESSIBLE_EVENTS",
      severity: "warning",
      count: 1,
      counts: { rework: 1 },
      sample: ["E-REWORK"],
    });
    // Finished units themselves: the units are the finished goods (the walk's starting items count), and they are regulated.
    expect(fin.findings.find((f) => f.code === "PRECISION_LOSS")).toEqual({
      code: "PRECISION_LOSS",
      severity: "critical",
      count: 2,
      counts: { finishedUnits: 2, "status:stock": 1, "status:shipped": 1, regulated: 2, sources: 2, precisionAfter: "lot" },
      sample: ["F000001", "F000002"],
    });
    // Own items: F000001, F000002 and the G-FIN pallet P000001, all at tier 0 (F000001 → P000001
    // finds it reached already); the pallet is no finished good, the serials are, unit-level.
    expect(fin.findings.find((f) => f.code === "REACH")).toEqual({
      code: "REACH",
      severity: "info",
      count: 2,
      counts: { "site:GLD": 2, "status:stock": 1, "status:shipped": 1, precisionUnit: 2, precisionLot: 0, itemsReached: 3, tiers: 0 },
      sample: ["F000001", "F000002"],
    });
    const pkg = await analyse({ material: "G-PKG", sites: ["GLD"], trackingMode: "none", identifierFormatCodes: [], consumptionScan: "none" });
    expect(pkg.findings.find((f) => f.code === "INEXPRESSIBLE_EVENTS")).toEqual({
      code: "INEXPRESSIBLE_EVENTS",
      severity: "warning",
      count: 1,
      counts: { repack: 1 },
      sample: ["E-REPACK"],
    });
    // Packaging is in no BOM: its lot and totes (all own items, tier 0) reach no finished good.
    expect(pkg.findings.find((f) => f.code === "REACH")).toMatchObject({ count: 0, counts: { precisionUnit: 0, precisionLot: 0, itemsReached: 3, tiers: 0 } });
    const kept = await analyse({
      material: "G-PKG",
      sites: ["GLD"],
      trackingMode: "none",
      containerTracking: true,
      identifierFormatCodes: ["G-CTR"],
      consumptionScan: "none",
    });
    expect(kept.findings.find((f) => f.code === "INEXPRESSIBLE_EVENTS")).toBeUndefined();
  });

  it("an alternate coarser than its primary after the change", async () => {
    const { findings } = await analyse({ material: "G-ALT", sites: ["GLD"], trackingMode: "none", identifierFormatCodes: [], consumptionScan: "none" });
    expect(findings.find((f) => f.code === "COARSER_ALTERNATE")).toEqual({
      code: "COARSER_ALTERNATE",
      severity: "warning",
      count: 1,
      sample: ["GLD G-ASM: G-ALT (none) for G-SUB (serial)"],
    });
    expect(findings.find((f) => f.code === "PARENT_FINER_THAN_COMPONENT")).toEqual({
      code: "PARENT_FINER_THAN_COMPONENT",
      severity: "warning",
      count: 1,
      sample: ["GLD G-ASM ← G-ALT (lot parent, untracked medium-risk component)"],
    });
  });

  it("a tote format that reads like the serial and lot formats printed at the site: LOOK_ALIKE_FORMATS, critical, with examples", async () => {
    const { report, findings } = await analyse({
      material: "G-PKG",
      sites: ["GLD"],
      trackingMode: "lot",
      containerTracking: true,
      identifierFormatCodes: ["G-LOT", "G-TOTE"],
      consumptionScan: "verify",
    });
    expect(findings.find((f) => f.code === "LOOK_ALIKE_FORMATS")).toEqual({
      code: "LOOK_ALIKE_FORMATS",
      severity: "critical",
      count: 2,
      counts: { confusions: 2, introduced: 2, kept: 0, undecided: 0 },
      sample: ["G-LOT ~ G-TOTE: L000000 (container, lot)", "G-SER ~ G-TOTE: S000000 (container, serial)"],
    });
    const detail = report.changes[0]!.findings.find((f) => f.code === "LOOK_ALIKE_FORMATS")!.detail!;
    expect(detail).toMatchObject({ formats: ["G-LOT", "G-TOTE"], usedWith: ["G-LOT", "G-SER", "G-TOTE"], templates: ["G-SHOP"] });
    // The formats it had before (G-LOT, G-CTR) do not look alike: no finding when nothing changes there.
    const kept = await analyse({
      material: "G-PKG",
      sites: ["GLD"],
      trackingMode: "lot",
      containerTracking: true,
      identifierFormatCodes: ["G-LOT", "G-CTR"],
      consumptionScan: "identify",
    });
    expect(kept.findings.find((f) => f.code === "LOOK_ALIKE_FORMATS")).toBeUndefined();
  });

  it("a site in its legacy period (no version yet): the history has no rule and no identity to rely on", async () => {
    const { change, findings } = await analyse({
      material: "G-RAW",
      sites: ["GL2"],
      trackingMode: "lot",
      identifierFormatCodes: ["G2-LOT"],
      consumptionScan: "verify",
    });
    expect(change.from).toBe("legacy");
    expect(findings.find((f) => f.code === "UNTRACKED_HISTORY")).toMatchObject({ severity: "warning", count: 1, sample: ["LEG001"] });
  });

  it("is deterministic and stored with its hash; the same data point gives byte-identical output", async () => {
    const number = await propose({ material: "G-RAW", sites: ["GLD"], trackingMode: "serial", identifierFormatCodes: ["G-SER"], consumptionScan: "identify" });
    const first = await computeImpactAnalysis(database.db, number);
    const second = await computeImpactAnalysis(database.db, number);
    expect(second.canonical).toBe(first.canonical);
    expect(second.sha256).toBe(first.sha256);
    const stored = await runImpactAnalysis(database.db, { username: "g.engineer" }, number);
    const read = await storedAnalysis(database.db, number);
    expect(read!.sha256).toBe(stored.sha256);
    // Storing appended an audit row, so the stored analysis names a later data point than the dry runs.
    expect(read!.report.dataPoint.auditSeq).toBeGreaterThanOrEqual(first.report.dataPoint.auditSeq);
    expect(JSON.stringify(read!.report.changes)).toBe(JSON.stringify((JSON.parse(first.canonical) as typeof first.report).changes));
  });
});

describe("the genealogy index gives the very same analysis as the recursive query", () => {
  it("for every golden change request, byte for byte", async () => {
    const numbers = (await database.client`select number from change_requests order by number`).map((r) => r.number as string);
    expect(numbers.length).toBeGreaterThan(5);
    for (const number of numbers) {
      const viaIndex = await computeImpactAnalysis(database.db, number, { genealogy: "index" });
      const viaQuery = await computeImpactAnalysis(database.db, number, { genealogy: "query" });
      expect(viaIndex.canonical, number).toBe(viaQuery.canonical);
    }
  });

  it("catches up when genealogy is written after it was built", async () => {
    const number = await propose({ material: "G-SUB", sites: ["GLD"], trackingMode: "lot", identifierFormatCodes: ["G-LOT"], consumptionScan: "verify" });
    const before = await computeImpactAnalysis(database.db, number);
    // A new finished unit from the assembly lot: the reach grows by one, the index must see it.
    const [fin] = await database.client`select id from materials where part_number = 'G-FIN'`;
    const [gld] = await database.client`select id from sites where code = 'GLD'`;
    const [added] = await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values ('serial', 'F000003', ${fin!.id}, ${gld!.id}, 1, 'EA', 'stock', now() - interval '1 day', 'seed') returning id`;
    await database.client`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
      select 'E-FIN-3', 'consume', id, ${added!.id}, 1, 'EA', ${gld!.id}, now() - interval '1 day', 'seed' from trace_items where identifier = 'L000001'`;
    const after = await computeImpactAnalysis(database.db, number);
    const reach = (r: typeof before) => r.report.changes[0]!.findings.find((f) => f.code === "REACH")!;
    expect(reach(after).count).toBe(reach(before).count + 1);
    expect(reach(after).sample).toContain("F000003");
    expect(after.canonical).toBe((await computeImpactAnalysis(database.db, number, { genealogy: "query" })).canonical);
  });
});
