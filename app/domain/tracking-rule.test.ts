import { describe, expect, it } from "vitest";
import { checkRuleConsistency, compareTracking, resolveRuleInForce, type Identifies, type RuleInterval } from "./tracking-rule";

const d = (iso: string) => new Date(iso);
const versions = [
  { version: 1, effectiveFrom: d("2025-01-01T00:00:00Z") },
  { version: 2, effectiveFrom: d("2025-06-01T00:00:00Z") },
  { version: 3, effectiveFrom: d("2025-06-01T00:00:00Z") },
  { version: 4, effectiveFrom: d("2027-01-01T00:00:00Z") },
];
const base = { containerTracking: false, identifierFormatCodes: [], consumptionScan: "identify" } as const;
const rules: RuleInterval[] = [
  { ...base, identifierFormatCodes: [], trackingMode: "lot", version: 1, effectiveFrom: d("2025-01-01T00:00:00Z"), effectiveTo: d("2025-06-01T00:00:00Z") },
  { ...base, identifierFormatCodes: [], trackingMode: "serial", version: 3, effectiveFrom: d("2025-06-01T00:00:00Z"), effectiveTo: d("2027-01-01T00:00:00Z") },
  { ...base, identifierFormatCodes: [], trackingMode: "none", version: 4, effectiveFrom: d("2027-01-01T00:00:00Z"), effectiveTo: null },
];

describe("resolveRuleInForce", () => {
  it("is legacy before the first version, and names that version", () => {
    expect(resolveRuleInForce(versions, rules, d("2024-12-31T23:59:59.999Z"))).toEqual({ state: "legacy", firstVersion: versions[0] });
    expect(resolveRuleInForce([], [], d("2030-01-01T00:00:00Z"))).toEqual({ state: "legacy", firstVersion: null });
  });

  it("takes the highest version with effectiveFrom ≤ T, and the rule of the highest version up to it", () => {
    expect(resolveRuleInForce(versions, rules, d("2025-01-01T00:00:00Z"))).toMatchObject({
      state: "ruled",
      version: { version: 1 },
      rule: { trackingMode: "lot" },
    });
    // Two versions at one instant: the higher wins.
    expect(resolveRuleInForce(versions, rules, d("2025-06-01T00:00:00Z"))).toMatchObject({ version: { version: 3 }, rule: { trackingMode: "serial" } });
    // A scheduled version is not in force before its time.
    expect(resolveRuleInForce(versions, rules, d("2026-12-31T23:59:59.999Z"))).toMatchObject({ version: { version: 3 }, rule: { trackingMode: "serial" } });
    expect(resolveRuleInForce(versions, rules, d("2027-01-01T00:00:00Z"))).toMatchObject({ version: { version: 4 }, rule: { trackingMode: "none" } });
  });

  it("is unruled when a version is in force but the material has no rule yet", () => {
    expect(resolveRuleInForce(versions, rules.slice(1), d("2025-02-01T00:00:00Z"))).toEqual({ state: "unruled", version: versions[0] });
  });

  it("does not depend on input order", () => {
    const a = resolveRuleInForce([...versions].reverse(), [...rules].reverse(), d("2025-07-01T00:00:00Z"));
    expect(a).toEqual(resolveRuleInForce(versions, rules, d("2025-07-01T00:00:00Z")));
  });
});

describe("compareTracking", () => {
  it("orders serial > lot > none", () => {
    expect(compareTracking("lot", "serial")).toBe("upgrade");
    expect(compareTracking("none", "lot")).toBe("upgrade");
    expect(compareTracking("serial", "none")).toBe("downgrade");
    expect(compareTracking("lot", "lot")).toBe("same");
  });
});

describe("checkRuleConsistency", () => {
  const formats = new Map<string, Identifies>([
    ["SER", "serial"],
    ["LOT", "lot"],
    ["CTR", "container"],
  ]);
  it("accepts consistent rules", () => {
    expect(
      checkRuleConsistency({ trackingMode: "serial", containerTracking: true, identifierFormatCodes: ["SER", "CTR"], consumptionScan: "identify" }, formats),
    ).toEqual([]);
    expect(checkRuleConsistency({ trackingMode: "none", containerTracking: false, identifierFormatCodes: [], consumptionScan: "none" }, formats)).toEqual([]);
  });
  it("names the field of each contradiction", () => {
    const problems = checkRuleConsistency(
      { trackingMode: "none", containerTracking: false, identifierFormatCodes: ["SER", "CTR", "SER", "X"], consumptionScan: "identify" },
      formats,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: "identifierFormatCodes", message: "unknown identifier format X" },
        { field: "identifierFormatCodes", message: "an identifier format is listed twice" },
        { field: "identifierFormatCodes", message: "a none rule cannot print serial identifiers" },
        { field: "containerTracking", message: "a container format is listed but container tracking is off" },
        { field: "consumptionScan", message: "nothing to identify: the material is untracked and not in containers" },
      ]),
    );
    expect(checkRuleConsistency({ trackingMode: "lot", containerTracking: false, identifierFormatCodes: [], consumptionScan: "verify" }, formats)).toEqual([
      { field: "identifierFormatCodes", message: "lot tracking needs an identifier format for lots" },
    ]);
  });
});
