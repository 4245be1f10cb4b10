import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { compileRuleSet, compileRuleSetVersions, type CompileInput } from "./rule-set";

const input: CompileInput = {
  site: "EIN",
  version: 2,
  effectiveFrom: new Date("2025-09-01T00:00:00Z"),
  issuedAt: new Date("2026-11-25T10:00:00.123Z"),
  expiresAt: new Date("2026-12-25T10:00:00.123Z"),
  kind: "release",
  changeRequests: ["CR-0002", "CR-0001"],
  signingKeys: ["k".repeat(43)],
  previousDigest: "a".repeat(64),
  rules: [
    {
      partNumber: "SUB-1",
      gtin: null,
      trackingMode: "serial",
      containerTracking: false,
      consumptionScan: "identify",
      identifierFormats: ["SER"],
      riskClass: "high",
      allowedAlternates: [],
    },
    {
      partNumber: "ASM-1",
      gtin: "00000000000017",
      trackingMode: "lot",
      containerTracking: true,
      consumptionScan: "identify",
      identifierFormats: ["SSCC", "LOT"],
      riskClass: "medium",
      allowedAlternates: [
        { component: "X-2", alternates: ["X-3"] },
        { component: "X-1", alternates: [] },
      ],
    },
  ],
  formats: new Map([
    ["SER", { name: "serial", identifies: "serial", definition: { kind: "pattern", segments: [{ literal: "S" }, { class: "digit", min: 8, max: 8 }] } }],
    ["LOT", { name: "lot", identifies: "lot", definition: { kind: "gs1", ais: ["01", "10"] } }],
    ["SSCC", { name: "sscc", identifies: "container", definition: { kind: "gs1", ais: ["00"] } }],
    ["UNUSED", { name: "unused", identifies: "lot", definition: { kind: "gs1", ais: ["01", "10"] } }],
  ]),
};

describe("compileRuleSet", () => {
  it("is canonical and deterministic: same rules in any order give the same bytes and digest", () => {
    const a = compileRuleSet(input);
    const b = compileRuleSet({ ...input, rules: [...input.rules].reverse() });
    expect(b.canonical).toBe(a.canonical);
    expect(a.digest).toBe(createHash("sha256").update(a.canonical).digest("hex"));
    expect(a.canonical.startsWith('{"changeRequests":["CR-0001","CR-0002"],"effectiveFrom":"2025-09-01T00:00:00.000Z","expiresAt":')).toBe(true);
    expect(a.document.rules[0]!.allowedAlternates.map((l) => l.component)).toEqual(["X-1", "X-2"]);
    expect(a.document.rules.map((r) => r.partNumber)).toEqual(["ASM-1", "SUB-1"]);
    expect(a.document.rules[0]!.identifierFormats).toEqual(["LOT", "SSCC"]);
    expect(Object.keys(a.document.identifierFormats).sort()).toEqual(["LOT", "SER", "SSCC"]);
  });

  it("changes its digest when anything in it changes", () => {
    const a = compileRuleSet(input);
    expect(compileRuleSet({ ...input, previousDigest: null }).digest).not.toBe(a.digest);
    expect(compileRuleSet({ ...input, rules: input.rules.slice(1) }).digest).not.toBe(a.digest);
  });

  it("refuses two rules for one material and unknown formats", () => {
    expect(() => compileRuleSet({ ...input, rules: [input.rules[0]!, input.rules[0]!] })).toThrow(/two rules for SUB-1/);
    expect(() => compileRuleSet({ ...input, rules: [{ ...input.rules[0]!, identifierFormats: ["NOPE"] }] })).toThrow(/unknown identifier format NOPE/);
  });
});

describe("compileRuleSetVersions (ADR 039)", () => {
  const routing = new Map([
    [
      "ASM-1",
      [
        { step: 20, workCentre: "EIN-WC2", consumes: [] },
        {
          step: 10,
          workCentre: "EIN-WC1",
          consumes: [
            { component: "X-2", consumptionScan: "verify" as const },
            { component: "SUB-1", consumptionScan: "identify" as const },
          ],
        },
      ],
    ],
  ]);

  it("gives the v1 form exactly compileRuleSet's bytes, and the v2 form rule ids and routing, steps and components ordered", () => {
    const { v1, v2 } = compileRuleSetVersions({ ...input, previousDigestV2: "b".repeat(64), routing });
    expect(v1.canonical).toBe(compileRuleSet(input).canonical);
    expect(v2.document.schemaVersion).toBe(2);
    expect(v2.document.previousDigest).toBe(`sha256:${"b".repeat(64)}`);
    expect(v2.digest).toBe(createHash("sha256").update(v2.canonical).digest("hex"));
    expect(v2.document.rules.map((r) => [r.id, r.routing])).toEqual([
      [
        "EIN/ASM-1",
        [
          {
            step: 10,
            workCentre: "EIN-WC1",
            consumes: [
              { component: "SUB-1", consumptionScan: "identify", id: "EIN/ASM-1/10/SUB-1" },
              { component: "X-2", consumptionScan: "verify", id: "EIN/ASM-1/10/X-2" },
            ],
          },
          { step: 20, workCentre: "EIN-WC2", consumes: [] },
        ],
      ],
      ["EIN/SUB-1", []],
    ]);
  });

  it("refuses a routing with one step twice", () => {
    const twice = new Map([
      [
        "SUB-1",
        [
          { step: 10, workCentre: "A", consumes: [] },
          { step: 10, workCentre: "B", consumes: [] },
        ],
      ],
    ]);
    expect(() => compileRuleSetVersions({ ...input, previousDigestV2: null, routing: twice })).toThrow(/step 10 twice/);
  });
});
