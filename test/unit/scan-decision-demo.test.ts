/**
 * Scan decisions (packages/identifiers, ADR 040) against the demo plant's formats at EIN, where the
 * serial ("S" + 8 digits), lot (9 upper-case letters or digits) and tote ("C" + 8 digits) formats
 * truly overlap (app/seed/demo-plant.ts formatsFor). The rule-set document is the demo plant's EIN
 * rules in force after version 2 (SUB-1005 serialized), projected by hand into the schema-2 shape;
 * the strings and the expected decisions are picked by hand from the seed's rules and routings:
 *
 *   FIN-1005 step 10 @ EIN-WC10: SUB-1005 (serial, EIN-SER), ASM-1005 (lot, EIN-LOT), PKG-1005 (verify, no format), CON-1005 (none)
 *   SUB-1005 step 10 @ EIN-WC30: MCH-1010 (verify, EIN-LOT; alternate MCH-1011), RES-1005 (identify, EIN-LOT + EIN-CTR; alternate RES-1006)
 *   ASM-1001 step 10 @ EIN-WC20: SUB-1008 (serial; alternate MCH-1030, lot), MCH-1001 (verify, EIN-LOT)
 *   MCH-1001 step 10 @ EIN-WC40: RAW-1001 (lot in containers, GS1-LGTIN + GS1-SSCC, GTIN 00871234000131)
 */
import { describe, expect, it } from "vitest";
import { compileScanner, type ScanRule, type ScanRuleSet } from "../../packages/identifiers/src/scan-decision";
import { generateDemoPlant } from "../../app/seed/demo-plant";

const SITE = "EIN";
const DIGEST = `sha256:${"ab".repeat(32)}`;

function einDocument(): ScanRuleSet {
  const demo = generateDemoPlant();
  const inForce = new Map<string, (typeof demo.versions)[number]["rules"][number]>();
  for (const version of demo.versions) for (const r of version.rules) if (r.site === SITE) inForce.set(r.partNumber, r);
  const material = new Map(demo.materials.map((m) => [m.partNumber, m]));
  const rules: ScanRule[] = [...inForce.values()].map((r) => ({
    id: `${SITE}/${r.partNumber}`,
    partNumber: r.partNumber,
    gtin: material.get(r.partNumber)?.gtin ?? null,
    trackingMode: r.trackingMode,
    containerTracking: r.containerTracking,
    consumptionScan: r.consumptionScan,
    identifierFormats: r.identifierFormatCodes,
    riskClass: material.get(r.partNumber)?.riskClass ?? "low",
    allowedAlternates: demo.bomLines
      .filter((b) => b.site === SITE && b.parent === r.partNumber && b.alternates.length > 0)
      .map((b) => ({ component: b.component, alternates: b.alternates })),
    routing: demo.routings
      .filter((x) => x.site === SITE && x.partNumber === r.partNumber)
      .map((x) => ({
        step: x.step,
        workCentre: x.workCentre,
        consumes: x.consumes.map((c) => ({
          component: c.partNumber,
          consumptionScan: c.consumptionScan,
          id: `${SITE}/${r.partNumber}/${x.step}/${c.partNumber}`,
        })),
      })),
  }));
  const identifierFormats = Object.fromEntries(
    demo.formats.filter((f) => f.site === null || f.site === SITE).map((f) => [f.code, { name: f.name, identifies: f.identifies, definition: f.definition }]),
  );
  return { site: SITE, version: 2, identifierFormats, rules };
}

const scanner = compileScanner(einDocument(), DIGEST);
const fin1005 = { parent: "FIN-1005", step: 10 };
const sub1005 = { parent: "SUB-1005", step: 10 };

describe("scan decisions on the demo plant's EIN formats", () => {
  it("every step's pattern formats compile into one DFA", () => {
    expect(scanner.matchers.length).toBeGreaterThan(100);
    expect(scanner.matchers.every((m) => m.mode === "dfa")).toBe(true);
  });

  it("a SUB-1005 serial where ASM-1005's lots are also scanned: ambiguous (S + 8 digits is also a lot)", () => {
    const d = scanner.decide({ ...fin1005, expected: "SUB-1005", scanned: "S00001005" });
    expect(d.outcome).toBe("ambiguous");
    expect(d.reason.message).toBe("S00001005 reads as lot of ASM-1005 (EIN-LOT) and as serial of SUB-1005 (EIN-SER)");
    expect(d.required).toEqual({ consumptionScan: "identify", trackingMode: "serial", level: "serial", accepts: ["serial"] });
    expect(d.decidedBy).toEqual({ ruleId: "EIN/SUB-1005", requirementId: "EIN/FIN-1005/10/SUB-1005", ruleSetVersion: 2, digest: DIGEST });
  });

  it("a legacy SUB-1005 lot (before version 2): no longer SUB-1005's format — it reads as ASM-1005's lot", () => {
    const d = scanner.decide({ ...fin1005, expected: "SUB-1005", scanned: "L25A00001" });
    expect([d.outcome, d.reason]).toEqual(["refuse", { code: "wrong-material", message: "reads as lot of ASM-1005 (EIN-LOT), not SUB-1005" }]);
  });

  it("SUB-1005 at the wrong step, and at a step that does not exist", () => {
    expect(scanner.decide({ parent: "FIN-1005", step: 20, expected: "SUB-1005", scanned: "S00001005" }).reason.code).toBe("not-consumed-here");
    expect(scanner.decide({ parent: "FIN-1005", step: 40, expected: "SUB-1005", scanned: "S00001005" }).reason.code).toBe("unknown-step");
  });

  it("by work centre: EIN-WC10 holds FIN-1005's steps 10 and 20; the one consuming SUB-1005 decides", () => {
    const d = scanner.decide({ parent: "FIN-1005", workCentre: "EIN-WC10", expected: "SUB-1005", scanned: "S00001005" });
    expect([d.step, d.decidedBy.requirementId]).toEqual([10, "EIN/FIN-1005/10/SUB-1005"]);
    expect(scanner.decide({ parent: "FIN-1005", workCentre: "EIN-WC50", expected: "SUB-1005", scanned: "S00001005" }).reason.code).toBe("not-consumed-here");
  });

  it("PKG-1005 must be verified but lists no format; CON-1005 needs no scan", () => {
    expect(scanner.decide({ ...fin1005, expected: "PKG-1005", scanned: "S00001005" }).reason.code).toBe("no-format");
    expect(scanner.decide({ ...fin1005, expected: "CON-1005", scanned: "S00001005" }).outcome).toBe("not-required");
  });

  it("an EIN tote where resin is consumed: ambiguous (C + 8 digits is also a lot)", () => {
    const d = scanner.decide({ ...sub1005, expected: "RES-1005", scanned: "C00000001" });
    expect(d.outcome).toBe("ambiguous");
    expect(d.readings.map((r) => [r.kind, r.format, r.materials])).toEqual([
      ["container", "EIN-CTR", ["RES-1005", "RES-1006"]],
      ["lot", "EIN-LOT", ["MCH-1010", "MCH-1011", "RES-1005", "RES-1006"]],
    ]);
  });

  it("a resin lot that is not tote-shaped: accepted as RES-1005's lot (the shared lot format names the BOM line's material)", () => {
    const d = scanner.decide({ ...sub1005, expected: "RES-1005", scanned: "R25A00001" });
    expect([d.outcome, d.reading?.format, d.decidedBy.requirementId]).toEqual(["accept", "EIN-LOT", "EIN/SUB-1005/10/RES-1005"]);
  });

  it("the same tote at the kitting step of FIN-1005: no resin there, it reads as ASM-1005's lot", () => {
    const d = scanner.decide({ ...fin1005, expected: "ASM-1005", scanned: "C00000001" });
    expect([d.outcome, d.reason.code, d.reading?.materials]).toEqual(["accept", "accepted", ["ASM-1005"]]);
  });

  it("the coarser alternate MCH-1030 (lot) for SUB-1008 (serial) at ASM-1001: incompatible, refused", () => {
    const d = scanner.decide({ parent: "ASM-1001", step: 10, expected: "SUB-1008", scanned: "M25A00001" });
    expect([d.outcome, d.reason.code, d.substitutedBy, d.alternates]).toEqual([
      "refuse",
      "alternate-incompatible",
      "MCH-1030",
      [{ partNumber: "MCH-1030", trackingMode: "lot", compatible: false }],
    ]);
  });

  it("RAW-1001 by GS1: GTIN + lot and SSCC accepted (with and without symbology identifier); RAW-1002's GTIN refused", () => {
    const raw = { parent: "MCH-1001", step: 10, expected: "RAW-1001" };
    const lot = scanner.decide({ ...raw, scanned: "010087123400013110A1234", symbologyId: "]C1" });
    expect([lot.outcome, lot.reading?.kind, lot.reading?.format, lot.reading?.value, lot.reading?.gtin]).toEqual([
      "accept",
      "lot",
      "GS1-LGTIN",
      "A1234",
      "00871234000131",
    ]);
    expect(scanner.decide({ ...raw, scanned: "010087123400013110A1234" }).outcome).toBe("accept");
    const sscc = scanner.decide({ ...raw, scanned: "00008712340000000018", symbologyId: "]C1" });
    expect([sscc.outcome, sscc.reading?.kind, sscc.reading?.value]).toEqual(["accept", "container", "008712340000000018"]);
    const other = scanner.decide({ ...raw, scanned: "010087123400014810A1234", symbologyId: "]C1" });
    expect([other.outcome, other.reason.message]).toEqual(["refuse", "GTIN 00871234000148 is RAW-1002's, not RAW-1001's"]);
  });
});
