import { describe, expect, it } from "vitest";
import { GS, parseGs1Scan } from "./gs1";
import { compilePatternSet, matchesPattern, type CharClass, type PatternSegment } from "./identifier-format";
import { compileScanner, type ScanRule, type ScanRuleSet } from "./scan-decision";

const lit = (literal: string): PatternSegment => ({ literal });
const run = (charClass: CharClass, min: number, max = min): PatternSegment => ({ class: charClass, min, max });

/**
 * A small hand-built rule set (schema version 2) at site TST. ASM-1 is made in three steps:
 *   10 @ WC10: RAW-1 (lot, in totes; identify), CON-1 (no scan)
 *   20 @ WC20: SUB-1 (serial; identify), PCB-1 (serial, GS1 (01)+(21); identify)
 *   30 @ WC30: LBL-1 (verify, but its rule lists no format)
 * Alternates: SUB-1 → SUB-2 (lot-tracked: cannot give a serial); RAW-1 → RAW-2 (lot: compatible).
 * Look-alike: every TOTE string ("T" + 7 digits) is also a LOT string (8 upper-case letters or digits).
 * SUB-1 also lists a legacy lot format (SL- + 5 digits), as the demo plant's SUB-1005 had lots before
 * it was serialized. PCB-2 has another GTIN and lists the same GS1 format; it is consumed nowhere.
 */
const GTIN_PCB1 = "09506000134352";
const GTIN_PCB2 = "09506000134376";
const GTIN_UNKNOWN = "09506000999999";
const DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const rule = (partNumber: string, fields: Partial<ScanRule>): ScanRule => ({
  id: `TST/${partNumber}`,
  partNumber,
  gtin: null,
  trackingMode: "lot",
  containerTracking: false,
  consumptionScan: "identify",
  identifierFormats: [],
  riskClass: "medium",
  allowedAlternates: [],
  routing: [],
  ...fields,
});

const document: ScanRuleSet = {
  site: "TST",
  version: 3,
  identifierFormats: {
    SER: { name: "serial: SN- + 6 digits", identifies: "serial", definition: { kind: "pattern", segments: [lit("SN-"), run("digit", 6)] } },
    "SUB-LEGACY": { name: "legacy lot: SL- + 5 digits", identifies: "lot", definition: { kind: "pattern", segments: [lit("SL-"), run("digit", 5)] } },
    LOT: { name: "lot: 8 upper-case letters or digits", identifies: "lot", definition: { kind: "pattern", segments: [run("upperAlnum", 8)] } },
    TOTE: { name: "tote: T + 7 digits", identifies: "container", definition: { kind: "pattern", segments: [lit("T"), run("digit", 7)] } },
    "ALT-LOT": { name: "alternate lot: AL- + 5 digits", identifies: "lot", definition: { kind: "pattern", segments: [lit("AL-"), run("digit", 5)] } },
    "R2-LOT": { name: "RAW-2 lot: R2- + 4 digits", identifies: "lot", definition: { kind: "pattern", segments: [lit("R2-"), run("digit", 4)] } },
    SGTIN: { name: "GS1 GTIN + serial", identifies: "serial", definition: { kind: "gs1", ais: ["01", "21"] } },
  },
  rules: [
    rule("ASM-1", {
      trackingMode: "lot",
      identifierFormats: ["LOT"],
      allowedAlternates: [
        { component: "SUB-1", alternates: ["SUB-2"] },
        { component: "RAW-1", alternates: ["RAW-2"] },
      ],
      routing: [
        {
          step: 10,
          workCentre: "WC10",
          consumes: [
            { component: "RAW-1", consumptionScan: "identify", id: "TST/ASM-1/10/RAW-1" },
            { component: "CON-1", consumptionScan: "none", id: "TST/ASM-1/10/CON-1" },
          ],
        },
        {
          step: 20,
          workCentre: "WC20",
          consumes: [
            { component: "SUB-1", consumptionScan: "identify", id: "TST/ASM-1/20/SUB-1" },
            { component: "PCB-1", consumptionScan: "identify", id: "TST/ASM-1/20/PCB-1" },
          ],
        },
        { step: 30, workCentre: "WC30", consumes: [{ component: "LBL-1", consumptionScan: "verify", id: "TST/ASM-1/30/LBL-1" }] },
      ],
    }),
    rule("SUB-1", { trackingMode: "serial", identifierFormats: ["SER", "SUB-LEGACY"] }),
    rule("SUB-2", { trackingMode: "lot", identifierFormats: ["ALT-LOT"] }),
    rule("RAW-1", { trackingMode: "lot", containerTracking: true, identifierFormats: ["LOT", "TOTE"] }),
    rule("RAW-2", { trackingMode: "lot", identifierFormats: ["R2-LOT"] }),
    rule("PCB-1", { trackingMode: "serial", gtin: GTIN_PCB1, identifierFormats: ["SGTIN"] }),
    rule("PCB-2", { trackingMode: "serial", gtin: GTIN_PCB2, identifierFormats: ["SGTIN"] }),
    rule("CON-1", { trackingMode: "none", consumptionScan: "none" }),
    rule("LBL-1", { trackingMode: "none", consumptionScan: "verify" }),
  ],
};

const scanner = compileScanner(document, DIGEST);
const at20 = { parent: "ASM-1", step: 20 };
const at10 = { parent: "ASM-1", step: 10 };
const by = (ruleId: string | null, requirementId: string | null) => ({ ruleId, requirementId, ruleSetVersion: 3, digest: DIGEST });

const SUB1_REQUIRED = { consumptionScan: "identify", trackingMode: "serial", level: "serial", accepts: ["serial"] };
const SUB1_ALTERNATES = [{ partNumber: "SUB-2", trackingMode: "lot", compatible: false }];
const RAW1_REQUIRED = { consumptionScan: "identify", trackingMode: "lot", level: "lot", accepts: ["lot", "container"] };

describe("compileScanner: right and wrong step", () => {
  it("refuses to compile without a sha256 digest", () => {
    expect(() => compileScanner(document, "md5:00")).toThrow(/digest/);
  });

  it("a SUB-1 serial at step 20: accepted, with the rule and requirement that decided", () => {
    const serial = { kind: "serial", syntax: "pattern", format: "SER", materials: ["SUB-1"], value: "SN-000123" };
    expect(scanner.decide({ ...at20, expected: "SUB-1", scanned: "SN-000123" })).toEqual({
      outcome: "accept",
      reason: { code: "accepted", message: "reads as serial of SUB-1 (SER), as step 20 (WC20) requires" },
      readings: [serial],
      reading: serial,
      required: SUB1_REQUIRED,
      alternates: SUB1_ALTERNATES,
      step: 20,
      decidedBy: by("TST/SUB-1", "TST/ASM-1/20/SUB-1"),
    });
  });

  it("the same by work centre instead of step", () => {
    const d = scanner.decide({ parent: "ASM-1", workCentre: "WC20", expected: "SUB-1", scanned: "SN-000123" });
    expect([d.outcome, d.step, d.decidedBy.requirementId]).toEqual(["accept", 20, "TST/ASM-1/20/SUB-1"]);
  });

  it("SUB-1 at step 10 (consumed at 20): refused, not consumed there", () => {
    const d = scanner.decide({ ...at10, expected: "SUB-1", scanned: "SN-000123" });
    expect([d.outcome, d.reason]).toEqual(["refuse", { code: "not-consumed-here", message: "SUB-1 is not consumed at step 10 (WC10) of ASM-1" }]);
    expect(d.required).toBeNull();
    expect(d.decidedBy).toEqual(by("TST/ASM-1", null));
  });

  it("unknown step, work centre, parent; a step at another work centre", () => {
    expect(scanner.decide({ parent: "ASM-1", step: 40, expected: "SUB-1", scanned: "SN-000123" }).reason).toEqual({
      code: "unknown-step",
      message: "ASM-1 has no step 40 at TST",
    });
    expect(scanner.decide({ parent: "ASM-1", workCentre: "WC99", expected: "SUB-1", scanned: "SN-000123" }).reason.code).toBe("unknown-work-centre");
    expect(scanner.decide({ parent: "ASM-1", step: 20, workCentre: "WC10", expected: "SUB-1", scanned: "SN-000123" }).reason.code).toBe("unknown-step");
    const unknown = scanner.decide({ parent: "ASM-9", step: 20, expected: "SUB-1", scanned: "SN-000123" });
    expect([unknown.outcome, unknown.reason.code, unknown.decidedBy]).toEqual(["refuse", "unknown-parent", by(null, null)]);
  });

  it("a string that reads as no format in use at the step", () => {
    const d = scanner.decide({ ...at20, expected: "SUB-1", scanned: "SN-12345" });
    expect([d.outcome, d.reason.code, d.readings]).toEqual(["refuse", "no-reading", []]);
  });

  it("a SUB-1 serial offered for PCB-1: the wrong material", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: "SN-000123" });
    expect([d.outcome, d.reason]).toEqual(["refuse", { code: "wrong-material", message: "reads as serial of SUB-1 (SER), not PCB-1" }]);
  });

  it("a legacy SUB-1 lot label where a serial is required: the wrong level", () => {
    const d = scanner.decide({ ...at20, expected: "SUB-1", scanned: "SL-00042" });
    expect([d.outcome, d.reason]).toEqual(["refuse", { code: "wrong-level", message: "reads as lot of SUB-1 (SUB-LEGACY); step 20 (WC20) requires serial" }]);
    expect(d.reading).toEqual({ kind: "lot", syntax: "pattern", format: "SUB-LEGACY", materials: ["SUB-1"], value: "SL-00042" });
  });
});

describe("compileScanner: lots, containers and look-alikes", () => {
  it("a RAW-1 lot: accepted; the requirement admits lot or container (container tracking)", () => {
    const d = scanner.decide({ ...at10, expected: "RAW-1", scanned: "AB12CD34" });
    expect([d.outcome, d.reading, d.required, d.decidedBy]).toEqual([
      "accept",
      { kind: "lot", syntax: "pattern", format: "LOT", materials: ["RAW-1"], value: "AB12CD34" },
      RAW1_REQUIRED,
      by("TST/RAW-1", "TST/ASM-1/10/RAW-1"),
    ]);
  });

  it("a tote string also reads as a lot: ambiguous, with both readings", () => {
    const d = scanner.decide({ ...at10, expected: "RAW-1", scanned: "T0000001" });
    expect(d.outcome).toBe("ambiguous");
    expect(d.reason).toEqual({ code: "ambiguous", message: "T0000001 reads as lot of RAW-1 (LOT) and as container of RAW-1 (TOTE)" });
    expect(d.readings).toEqual([
      { kind: "lot", syntax: "pattern", format: "LOT", materials: ["RAW-1"], value: "T0000001" },
      { kind: "container", syntax: "pattern", format: "TOTE", materials: ["RAW-1"], value: "T0000001" },
    ]);
    expect(d.reading).toBeNull();
  });

  it("no scan required for CON-1: not-required, whatever is scanned", () => {
    const d = scanner.decide({ ...at10, expected: "CON-1", scanned: "AB12CD34" });
    expect([d.outcome, d.reason.code, d.required, d.decidedBy]).toEqual([
      "not-required",
      "not-required",
      { consumptionScan: "none", trackingMode: "none", level: null, accepts: [] },
      by("TST/CON-1", "TST/ASM-1/10/CON-1"),
    ]);
  });

  it("a verify scan of a material whose rule lists no format: refused, said so", () => {
    const d = scanner.decide({ parent: "ASM-1", step: 30, expected: "LBL-1", scanned: "anything" });
    expect([d.outcome, d.reason.code]).toEqual(["refuse", "no-format"]);
  });
});

describe("compileScanner: alternates", () => {
  it("a lot of SUB-2 (lot-tracked) for SUB-1 (serial): an incompatible alternate, refused", () => {
    const d = scanner.decide({ ...at20, expected: "SUB-1", scanned: "AL-00007" });
    expect([d.outcome, d.reason.code, d.substitutedBy, d.alternates, d.decidedBy]).toEqual([
      "refuse",
      "alternate-incompatible",
      "SUB-2",
      SUB1_ALTERNATES,
      by("TST/SUB-2", "TST/ASM-1/20/SUB-1"),
    ]);
  });

  it("a lot of RAW-2 for RAW-1 (both lot): a compatible alternate, accepted as a substitution", () => {
    const d = scanner.decide({ ...at10, expected: "RAW-1", scanned: "R2-0001" });
    expect([d.outcome, d.reason.code, d.substitutedBy, d.alternates, d.reading?.materials]).toEqual([
      "accept",
      "accepted-alternate",
      "RAW-2",
      [{ partNumber: "RAW-2", trackingMode: "lot", compatible: true }],
      ["RAW-2"],
    ]);
    expect(d.decidedBy).toEqual(by("TST/RAW-2", "TST/ASM-1/10/RAW-1"));
  });
});

describe("compileScanner: GS1", () => {
  const elements = [
    { ai: "01", value: GTIN_PCB1 },
    { ai: "21", value: "SER1" },
  ];
  const pcb1 = {
    kind: "serial",
    syntax: "gs1",
    format: "SGTIN",
    materials: ["PCB-1"],
    value: "SER1",
    elementString: `(01)${GTIN_PCB1}(21)SER1`,
    ais: elements,
    gtin: GTIN_PCB1,
    standard: true,
  };

  it("raw data without a symbology identifier reads as GS1: accepted", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: `01${GTIN_PCB1}21SER1` });
    expect([d.outcome, d.readings, d.decidedBy]).toEqual(["accept", [pcb1], by("TST/PCB-1", "TST/ASM-1/20/PCB-1")]);
  });

  it("with the GS1 DataMatrix or GS1-128 symbology identifier: the same", () => {
    expect(scanner.decide({ ...at20, expected: "PCB-1", scanned: `01${GTIN_PCB1}21SER1`, symbologyId: "]d2" }).reading).toEqual(pcb1);
    expect(scanner.decide({ ...at20, expected: "PCB-1", scanned: `01${GTIN_PCB1}21SER1`, symbologyId: "]C1" }).outcome).toBe("accept");
  });

  it("bracketed and Digital Link forms read too", () => {
    expect(scanner.decide({ ...at20, expected: "PCB-1", scanned: `(01)${GTIN_PCB1}(21)SER1` }).reading).toEqual(pcb1);
    expect(scanner.decide({ ...at20, expected: "PCB-1", scanned: `https://id.gs1.org/01/${GTIN_PCB1}/21/SER1` }).reading).toEqual(pcb1);
  });

  it("a GTIN of another material (PCB-2) is refused, naming it", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: `01${GTIN_PCB2}21SER1`, symbologyId: "]d2" });
    expect([d.outcome, d.reason]).toEqual(["refuse", { code: "gtin-other-material", message: `GTIN ${GTIN_PCB2} is PCB-2's, not PCB-1's` }]);
    expect(d.reading).toMatchObject({ format: "SGTIN", materials: [], gtin: GTIN_PCB2, gtinOf: "PCB-2" });
  });

  it("an EAN-13 (]E0) carries a GTIN only: read as GS1 (01) that no format in use holds, PCB-1's by its GTIN", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: GTIN_PCB1.slice(1), symbologyId: "]E0" });
    expect([d.outcome, d.reason.code, d.readings.map((r) => [r.kind, r.format, r.gtin, r.gtinOf])]).toEqual([
      "refuse",
      "format-not-in-rule",
      [["gs1", null, GTIN_PCB1, "PCB-1"]],
    ]);
  });

  it("a GTIN of no material is refused", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: `01${GTIN_UNKNOWN}21SER1`, symbologyId: "]d2" });
    expect([d.outcome, d.reason.code]).toEqual(["refuse", "gtin-unknown"]);
  });

  it("PCB-1's GTIN with a lot (01)+(10): no format of its rule reads it", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: `01${GTIN_PCB1}10L1`, symbologyId: "]C1" });
    expect([d.outcome, d.reason.code, d.readings.map((r) => [r.kind, r.format, r.gtinOf])]).toEqual(["refuse", "format-not-in-rule", [["gs1", null, "PCB-1"]]]);
  });

  it("a GS1 symbology identifier with invalid data: refused with the parser's reason", () => {
    const d = scanner.decide({ ...at20, expected: "PCB-1", scanned: "0109506000134353" + "21SER1", symbologyId: "]C1" });
    expect([d.outcome, d.reason.code]).toEqual(["refuse", "invalid-gs1"]);
  });

  it("a GS1 symbology identifier means GS1 only: a pattern string under ]C1 is not read as the pattern", () => {
    const d = scanner.decide({ ...at20, expected: "SUB-1", scanned: "SN-000123", symbologyId: "]C1" });
    expect([d.outcome, d.reason.code]).toEqual(["refuse", "invalid-gs1"]);
    // A non-GS1 symbology (Code 128 without FNC1) reads site patterns as usual.
    expect(scanner.decide({ ...at20, expected: "SUB-1", scanned: "SN-000123", symbologyId: "]C0" }).outcome).toBe("accept");
  });

  it("bracketed GS1 text that is not valid is refused with the parser's reason, as under ]C1; a web address that is no Digital Link reads as nothing", () => {
    // GTIN_PCB1 with a wrong check digit (…352 is right).
    const wrong = scanner.decide({ ...at20, expected: "PCB-1", scanned: "(01)09506000134353(21)SER1" });
    expect([wrong.outcome, wrong.reason.code, wrong.readings]).toEqual(["refuse", "invalid-gs1", []]);
    expect(wrong.reason.message).toMatch(/check digit/);
    // The same data under ]C1: the same refusal, the same reason.
    const c1 = scanner.decide({ ...at20, expected: "PCB-1", scanned: "0109506000134353" + "21SER1", symbologyId: "]C1" });
    expect([c1.outcome, c1.reason]).toEqual([wrong.outcome, wrong.reason]);
    expect(scanner.decide({ ...at20, expected: "PCB-1", scanned: "(99" }).reason.code).toBe("invalid-gs1");
    // The valid form is still read.
    expect(scanner.decide({ ...at20, expected: "PCB-1", scanned: `(01)${GTIN_PCB1}(21)SER1` }).reason.code).toBe("accepted");
    const web = scanner.decide({ ...at20, expected: "PCB-1", scanned: "https://example.com/about" });
    expect([web.outcome, web.reason.code]).toEqual(["refuse", "no-reading"]);
  });

  it("bracketed text a site pattern reads is that pattern's reading, not invalid GS1", () => {
    const withParens = compileScanner(
      {
        site: "TST",
        version: 1,
        identifierFormats: {
          BOX: { name: "box: (B) + 4 digits", identifies: "container", definition: { kind: "pattern", segments: [lit("(B)"), run("digit", 4)] } },
        },
        rules: [
          rule("BOX-1", { trackingMode: "none", containerTracking: true, identifierFormats: ["BOX"] }),
          rule("KIT-1", {
            routing: [{ step: 10, workCentre: "WC10", consumes: [{ component: "BOX-1", consumptionScan: "identify", id: "TST/KIT-1/10/BOX-1" }] }],
          }),
        ],
      },
      DIGEST,
    );
    const d = withParens.decide({ parent: "KIT-1", step: 10, expected: "BOX-1", scanned: "(B)1234" });
    expect([d.outcome, d.reason.code, d.reading?.format]).toEqual(["accept", "accepted", "BOX"]);
  });

  it("GS1 lot and serial formats on one material: a string holding (10) and (21) reads as both (ADR 013's GS1 look-alike)", () => {
    const gs1Only = compileScanner(
      {
        site: "TST",
        version: 1,
        identifierFormats: {
          SGTIN: document.identifierFormats.SGTIN!,
          LGTIN: { name: "GS1 GTIN + lot", identifies: "lot", definition: { kind: "gs1", ais: ["01", "10"] } },
        },
        rules: [
          rule("DEV-1", { trackingMode: "serial", gtin: GTIN_PCB1, identifierFormats: ["SGTIN", "LGTIN"] }),
          rule("KIT-1", {
            routing: [{ step: 10, workCentre: "WC10", consumes: [{ component: "DEV-1", consumptionScan: "identify", id: "TST/KIT-1/10/DEV-1" }] }],
          }),
        ],
      },
      DIGEST,
    );
    const decide = (scanned: string, symbologyId?: string) => gs1Only.decide({ parent: "KIT-1", step: 10, expected: "DEV-1", scanned, symbologyId });
    // No GS after the lot: a conformant decoder reads one lot "LOT121SER1"; a missing GS gives lot LOT1 + serial SER1.
    const raw = decide(`01${GTIN_PCB1}10LOT121SER1`);
    expect(raw.outcome).toBe("ambiguous");
    // Readings in the parser's order, each with the formats holding it (by code).
    expect(raw.readings.map((r) => [r.format, r.kind, r.value, r.standard])).toEqual([
      ["LGTIN", "lot", "LOT121SER1", true],
      ["LGTIN", "lot", "LOT1", false],
      ["SGTIN", "serial", "SER1", false],
    ]);
    // With the GS the data holds both (10) and (21): it reads as both formats, still two kinds.
    expect(decide(`01${GTIN_PCB1}10LOT1${GS}21SER1`, "]d2").outcome).toBe("ambiguous");
    // GTIN + serial alone reads one way: accepted as DEV-1's serial.
    expect(decide(`01${GTIN_PCB1}21SER1`, "]d2").reason).toEqual({ code: "accepted", message: "reads as serial of DEV-1 (SGTIN), as step 10 (WC10) requires" });
    // GTIN + lot alone: DEV-1's lot label, but DEV-1 is serial-tracked.
    expect(decide(`01${GTIN_PCB1}10LOT1`, "]d2").reason.code).toBe("wrong-level");
  });
});

describe("compilePatternSet", () => {
  const patterns = [
    [lit("S"), run("digit", 8)],
    [run("upperAlnum", 9)],
    [lit("C"), run("digit", 8)],
    [run("alpha", 1, 3), lit("-"), run("hex", 2, 4), run("digit", 1, 2)],
  ];

  it("answers, per pattern, what matchesPattern answers (hand-picked strings)", () => {
    const set = compilePatternSet(patterns);
    expect(set.mode).toBe("dfa");
    expect(set.match("S00000000")).toEqual([0, 1]);
    expect(set.match("C12345678")).toEqual([1, 2]);
    expect(set.match("ABCDEFGHI")).toEqual([1]);
    expect(set.match("ab-AF12")).toEqual([3]);
    expect(set.match("S0000000")).toEqual([]);
    expect(set.match("")).toEqual([]);
    expect(set.match("S0000000é")).toEqual([]);
  });

  it("patterns whose runs multiply the DFA's states: the bounded fallback gives the same answers", () => {
    const wide = [
      [run("alnum", 1, 48), run("digit", 1, 48)],
      [run("digit", 1, 48), run("alnum", 1, 48)],
      [run("hex", 1, 48), run("upper", 1, 48)],
    ];
    const set = compilePatternSet(wide);
    expect(set.mode).toBe("nfa");
    expect(set.match("AB12")).toEqual([0]);
    expect(set.match("12AB")).toEqual([1, 2]);
    expect(set.match("1A2B3")).toEqual([0, 1]);
    expect(set.match("-")).toEqual([]);
  });

  it("agrees with matchesPattern on random strings over the patterns' alphabet", () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = "SC0123456789ABCDEFab-";
    const set = compilePatternSet(patterns);
    for (let k = 0; k < 3000; k++) {
      const s = Array.from({ length: 1 + next(10) }, () => alphabet[next(alphabet.length)]).join("");
      const expected = patterns.flatMap((p, i) => (matchesPattern(p, s) ? [i] : []));
      expect(set.match(s), s).toEqual(expected);
    }
  });
});

describe("data that cuts in too many ways (a fresh review's hostile string)", () => {
  // 476 digits: (01)…(10)111…(21) repeated — every place a variable field may end early reads on.
  const hostile = `${`0100871234000131${"10"}${"1".repeat(18)}21`.repeat(12)}${"0".repeat(20)}`;

  it("the enumeration stops at its work limit and says the data was not read", () => {
    const result = parseGs1Scan(`]C1${hostile}`, { maxReadings: 64 });
    expect(result.status).toBe("invalid");
    if (result.status === "invalid") expect(result.errors[0]!.message).toMatch(/more than 64 ways .* not read/);
  });

  it("is refused: raw with ]C1 as invalid GS1, bare as no reading", () => {
    const raw = scanner.decide({ ...at20, expected: "PCB-1", scanned: hostile, symbologyId: "]C1" });
    expect([raw.outcome, raw.reason.code]).toEqual(["refuse", "invalid-gs1"]);
    const bare = scanner.decide({ ...at20, expected: "PCB-1", scanned: hostile });
    expect([bare.outcome, bare.reason.code]).toEqual(["refuse", "no-reading"]);
  });
});
