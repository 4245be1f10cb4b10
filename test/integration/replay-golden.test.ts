/**
 * Golden test of the replay of the last 90 days (ADR 041) through the database: a small hand-built
 * plant, a change request, an analysis run and stored — and every count of its replay counted by
 * hand from the genealogy written here.
 *
 * Site RPL. Formats: R-SER (serial, "S" + 4 digits), R-LOT (lot, 5 upper-case letters or digits —
 * "S0007" reads as both), R-CTR (container, "C" + 4 digits).
 * Rules in force: R-P serial [R-SER] identify; R-Q, R-C, R-A, R-R lot [R-LOT] verify.
 * BOM: R-P ← R-C (line 10, alternate R-A). Routing: R-P step 10 at WC-A consumes R-C (verify), step
 * 20 at WC-B nothing; R-Q step 10 at WC-Q consumes R-C (identify); R-C step 10 at WC-C consumes R-R.
 * Label templates: SHOP at WC-A prints R-LOT; SITE (site-wide) prints R-CTR; QLBL at WC-Q prints R-SER.
 * The change request: R-C lot → serial [R-SER], consumption scan identify.
 * Days are counted back from today (UTC): "day k" is k days before today, events at 08:00–11:00.
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createChangeRequest, type Person } from "../../app/services/change-requests.server";
import { storedAnalysis } from "../../app/queries/impact-analysis-currency.server";
import { runImpactAnalysis } from "../../app/services/impact-analysis.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createUser } from "../../app/services/users.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const at = (daysAgo: number, hour: number) => new Date(today - daysAgo * DAY + hour * 3_600_000).toISOString();
const day = (daysAgo: number) => new Date(today - daysAgo * DAY).toISOString().slice(0, 10);

let database: Database;
let engineer: Person;

async function buildPlant() {
  const sql = database.client;
  const keyRing = await testKeyRing(database.db);
  const [site] = await sql`insert into sites (code, name, time_zone) values ('RPL', 'Replay plant', 'UTC') returning id`;
  const siteId = site!.id as number;
  const [family] = await sql`insert into material_families (code, name) values ('RPLF', 'Replay materials') returning id`;
  const m: Record<string, number> = {};
  for (const pn of ["R-P", "R-Q", "R-C", "R-A", "R-R"])
    m[pn] = (
      await sql`insert into materials (part_number, description, unit_of_measure, risk_class, regulatory_flags, family_id) values (${pn}, ${pn}, 'EA', 'medium', ${[]}, ${family!.id}) returning id`
    )[0]!.id as number;
  const format = (code: string, identifies: string, segments: unknown[]) =>
    sql`insert into identifier_formats (code, name, identifies, site_id, definition) values (${code}, ${code}, ${identifies}, ${siteId}, ${JSON.stringify({ kind: "pattern", segments })}::jsonb)`;
  await format("R-SER", "serial", [{ literal: "S" }, { class: "digit", min: 4, max: 4 }]);
  await format("R-LOT", "lot", [{ class: "upperAlnum", min: 5, max: 5 }]);
  await format("R-CTR", "container", [{ literal: "C" }, { class: "digit", min: 4, max: 4 }]);
  const rule = (materialId: number, trackingMode: "serial" | "lot", formats: string[], consumptionScan: "verify" | "identify") => ({
    materialId,
    trackingMode,
    containerTracking: false,
    identifierFormatCodes: formats,
    consumptionScan,
  });
  await createRuleSetVersion(
    database.db,
    {
      siteId,
      effectiveFrom: new Date("2025-01-01T00:00:00.000Z"),
      backdate: true,
      actor: "test",
      reason: "replay plant version 1",
      validDays: 366,
      changes: [
        rule(m["R-P"]!, "serial", ["R-SER"], "identify"),
        rule(m["R-Q"]!, "lot", ["R-LOT"], "verify"),
        rule(m["R-C"]!, "lot", ["R-LOT"], "verify"),
        rule(m["R-A"]!, "lot", ["R-LOT"], "verify"),
        rule(m["R-R"]!, "lot", ["R-LOT"], "verify"),
      ],
    },
    keyRing,
  );
  const [line] =
    await sql`insert into bom_lines (site_id, parent_material_id, component_material_id, line_no, quantity, unit) values (${siteId}, ${m["R-P"]!}, ${m["R-C"]!}, 10, 1, 'EA') returning id`;
  await sql`insert into bom_line_alternates (bom_line_id, material_id, priority) values (${line!.id}, ${m["R-A"]!}, 1)`;
  const step = async (parent: string, stepNo: number, workCentre: string, consumes: [string, string][]) => {
    const [op] =
      await sql`insert into routing_operations (site_id, material_id, step, work_centre, description) values (${siteId}, ${m[parent]!}, ${stepNo}, ${workCentre}, 'replay step') returning id`;
    for (const [pn, scan] of consumes)
      await sql`insert into routing_operation_materials (operation_id, material_id, consumption_scan) values (${op!.id}, ${m[pn]!}, ${scan})`;
  };
  await step("R-P", 10, "WC-A", [["R-C", "verify"]]);
  await step("R-P", 20, "WC-B", []);
  await step("R-Q", 10, "WC-Q", [["R-C", "identify"]]);
  await step("R-C", 10, "WC-C", [["R-R", "verify"]]);
  const template = async (code: string, workCentre: string | null, formats: string[]) => {
    const [t] = await sql`insert into label_templates (site_id, code, name, work_centre) values (${siteId}, ${code}, ${code}, ${workCentre}) returning id`;
    for (const f of formats)
      await sql`insert into label_template_formats (label_template_id, identifier_format_id) select ${t!.id}, id from identifier_formats where code = ${f}`;
  };
  await template("SHOP", "WC-A", ["R-LOT"]);
  await template("SITE", null, ["R-CTR"]);
  await template("QLBL", "WC-Q", ["R-SER"]);

  const ids: Record<string, number> = {};
  const item = async (identifier: string, pn: string, kind: string, quantity = 1) => {
    const [row] = await sql`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values (${kind}, ${identifier}, ${m[pn]!}, ${siteId}, ${quantity}, 'EA', 'stock', ${at(120, 6)}, 'seed') returning id`;
    ids[identifier] = row!.id as number;
  };
  for (const [id, pn, kind] of [
    ["LOT01", "R-C", "lot"],
    ["S0007", "R-C", "lot"],
    ["LOT03", "R-C", "lot"],
    ["P0001", "R-P", "serial"],
    ["P0002", "R-P", "serial"],
    ["P0003", "R-P", "serial"],
    ["Q0001", "R-Q", "lot"],
    ["ALT01", "R-A", "lot"],
    ["LOT04", "R-C", "lot"],
    ["LOT4A", "R-C", "lot"],
    ["LOT4B", "R-C", "lot"],
    ["LOT4C", "R-C", "lot"],
    ["RAW01", "R-R", "lot"],
    ["LOT06", "R-C", "lot"],
    ["C0001", "R-C", "container"],
  ] as const)
    await item(id, pn, kind);
  const edge = (eventRef: string, kind: string, input: string, output: string, occurredAt: string) =>
    sql`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
        values (${eventRef}, ${kind}, ${ids[input]!}, ${ids[output]!}, 1, 'EA', ${siteId}, ${occurredAt}, 'seed')`;
  // Day 3: R-C lot LOT01 into R-P at step 10 (WC-A) — a serial scan no label there gives: UNSCANNABLE.
  await edge("EV-1", "consume", "LOT01", "P0001", at(3, 8));
  // Day 3: R-C lot S0007 into R-P — UNSCANNABLE, and AMBIGUOUS: R-C's R-SER (serial) and R-A's R-LOT (lot).
  await edge("EV-2", "consume", "S0007", "P0002", at(3, 9));
  // Day 2: R-C lot LOT03 into R-Q at WC-Q: QLBL prints R-SER there — scannable; one reading only.
  await edge("EV-3", "consume", "LOT03", "Q0001", at(2, 8));
  // Day 2: R-A (lot) substitutes for R-C (serial after the change) into R-P: SUBSTITUTION_REFUSED.
  await edge("EV-4", "consume", "ALT01", "P0003", at(2, 9));
  // Day 2: a split of an R-C lot — INEXPRESSIBLE serial-tracked (one event, two edges).
  await edge("EV-SPLIT", "split", "LOT04", "LOT4A", at(2, 10));
  await edge("EV-SPLIT", "split", "LOT04", "LOT4B", at(2, 10));
  // Day 2: a rework and a repack into a container — both expressible serial-tracked.
  await edge("EV-REWORK", "rework", "LOT06", "LOT06", at(2, 11));
  await edge("EV-REPACK", "repack", "LOT4A", "C0001", at(2, 11));
  // Day 100: outside the 90-day window.
  await edge("EV-OLD", "consume", "LOT01", "P0001", at(100, 8));
  // Day 4: R-R into the R-C lot LOT01 — an R-C item made in the window.
  await edge("EV-MAKE", "consume", "RAW01", "LOT01", at(4, 8));
  // Day 1: a merge of two R-C lots — INEXPRESSIBLE (one event).
  await edge("EV-MERGE", "merge", "LOT4A", "LOT4C", at(1, 8));
  await edge("EV-MERGE", "merge", "LOT4B", "LOT4C", at(1, 8));
}

beforeAll(async () => {
  database = await createTestDatabase();
  await createUser(
    database.db,
    "test",
    { username: "r.engineer", displayName: "R Engineer", password: "replay-password-1", grants: [{ role: "engineer", site: null }], reason: "test" },
    "fixture",
  );
  const [row] = await database.client`select id from users where username = 'r.engineer'`;
  engineer = { id: row!.id as number, username: "r.engineer", displayName: "R Engineer" };
  await buildPlant();
}, 120_000);

describe("replay of the last 90 days, stored beside the analysis", () => {
  it("counts each category by hand, per day, and stores the replay with its own hash and duration", async () => {
    const { number } = await createChangeRequest(database.db, engineer, {
      title: "serialize R-C",
      justification: "replay golden test",
      riskAssessment: "replay golden test",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "R-C",
          sites: ["RPL"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["R-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    const run = await runImpactAnalysis(database.db, { username: "r.engineer" }, number);
    const stored = await storedAnalysis(database.db, number);
    const replay = stored!.replay!;
    expect(replay).not.toBeNull();
    expect(run.replaySha256).toBe(replay.sha256);
    expect(createHash("sha256").update(replay.canonical).digest("hex")).toBe(replay.sha256);
    expect(replay.durationMs).toBeGreaterThanOrEqual(0);
    // The analysis's own report does not carry the replay (its hash is unchanged by it).
    expect(stored!.canonical).not.toContain("c981.replay");

    const report = replay.report;
    expect(report.totals).toEqual({ UNSCANNABLE: 2, AMBIGUOUS: 1, SUBSTITUTION_REFUSED: 1, INEXPRESSIBLE: 2 });
    const [change] = report.changes;
    expect(change).toMatchObject({ partNumber: "R-C", site: "RPL", from: "lot", to: "serial" });
    // Consumptions of R-C in the window: EV-1, EV-2, EV-3 (EV-OLD outside). Made: LOT01 (EV-MAKE). Structural: split, rework, repack, merge. Substitutions: EV-4.
    expect(change!.replayed).toEqual({ consumptions: 3, itemsMade: 1, structuralEvents: 4, substitutions: 1 });
    expect(change!.categories.UNSCANNABLE.byReason).toEqual({ serial: 2 });
    expect(change!.categories.UNSCANNABLE.sample.map((s) => s.split(":")[0])).toEqual([`${day(3)} EV-1`, `${day(3)} EV-2`]);
    expect(change!.categories.AMBIGUOUS.sample).toEqual([`${day(3)} EV-2: S0007 at R-P step 10 (WC-A) reads as R-A:lot and R-C:serial`]);
    expect(change!.categories.SUBSTITUTION_REFUSED.byReason).toEqual({ "lot for serial": 1 });
    expect(change!.categories.INEXPRESSIBLE.byReason).toEqual({ merge: 1, split: 1 });
    expect(change!.days).toEqual([
      [day(3), 2, 1, 0, 0],
      [day(2), 0, 0, 1, 1],
      [day(1), 0, 0, 0, 1],
    ]);
    // The chart's series: every day of the window, the same counts on those days, zero elsewhere.
    expect(report.days.length).toBeGreaterThanOrEqual(90);
    const nonZero = report.days.filter((d) => Object.values(d.counts).some((n) => n > 0)).map((d) => d.day);
    expect(nonZero).toEqual([day(3), day(2), day(1)]);

    // Stored as the analysis's audit row says, and signatures can bind it (the column exists, immutable by trigger).
    const [audit] =
      await database.client`select after from audit_trail where action = 'impact_analysis.run' and entity_id = ${number} order by seq desc limit 1`;
    expect((audit!.after as { replay: { sha256: string } }).replay.sha256).toBe(replay.sha256);
  });
});
