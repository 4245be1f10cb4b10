import { describe, expect, it } from "vitest";
import { ruleTimeline } from "./rule-timeline";
import { resolveRuleInForce, type RuleInterval, type VersionPoint } from "./tracking-rule";

const d = (iso: string) => new Date(iso);
const versions: VersionPoint[] = [
  { version: 1, effectiveFrom: d("2025-01-01T00:00:00Z") },
  { version: 2, effectiveFrom: d("2025-06-01T00:00:00Z") },
  { version: 3, effectiveFrom: d("2025-09-01T00:00:00Z") },
  { version: 4, effectiveFrom: d("2027-01-01T00:00:00Z") },
];
const base = { containerTracking: false, identifierFormatCodes: [], consumptionScan: "identify" } as const;
const rule = (version: number, trackingMode: RuleInterval["trackingMode"], from: string, to: string | null): RuleInterval => ({
  ...base,
  identifierFormatCodes: [],
  trackingMode,
  version,
  effectiveFrom: d(from),
  effectiveTo: to === null ? null : d(to),
});
const rules = [
  rule(1, "lot", "2025-01-01T00:00:00Z", "2025-09-01T00:00:00Z"),
  rule(3, "serial", "2025-09-01T00:00:00Z", "2027-01-01T00:00:00Z"),
  rule(4, "none", "2027-01-01T00:00:00Z", null),
];

/** The timeline as the material page computes it: the rule in force first, then the rows. */
function timeline(vs: readonly VersionPoint[], rs: readonly RuleInterval[], at: Date) {
  return ruleTimeline(vs, rs, resolveRuleInForce(vs, rs, at), at);
}
const shape = (rows: ReturnType<typeof timeline>) =>
  rows.map((r) => (r.kind === "rule" ? `rule v${r.rule.version} ${r.rule.trackingMode}: ${r.status}` : `${r.kind}: ${r.status}`));

describe("ruleTimeline", () => {
  it("is only the legacy period, in force, at a site without versions", () => {
    expect(timeline([], [], d("2026-01-01T00:00:00Z"))).toEqual([{ kind: "legacy", to: null, firstVersion: null, status: "in force" }]);
  });

  it("starts with the legacy period up to the first version, then each rule oldest first", () => {
    const rows = timeline(versions, rules, d("2026-01-01T00:00:00Z"));
    expect(rows[0]).toEqual({ kind: "legacy", to: versions[0]!.effectiveFrom, firstVersion: 1, status: "past" });
    expect(shape(rows)).toEqual(["legacy: past", "rule v1 lot: past", "rule v3 serial: in force", "rule v4 none: scheduled"]);
  });

  it("marks the legacy period in force before the first version, and every rule scheduled", () => {
    expect(shape(timeline(versions, rules, d("2024-12-31T23:59:59.999Z")))).toEqual([
      "legacy: in force",
      "rule v1 lot: scheduled",
      "rule v3 serial: scheduled",
      "rule v4 none: scheduled",
    ]);
  });

  it("follows the rule in force at the instant a version takes effect", () => {
    expect(shape(timeline(versions, rules, d("2025-09-01T00:00:00Z")))).toEqual([
      "legacy: past",
      "rule v1 lot: past",
      "rule v3 serial: in force",
      "rule v4 none: scheduled",
    ]);
    // Version 2 introduced no rule for the material: version 1's still governs.
    expect(shape(timeline(versions, rules, d("2025-07-01T00:00:00Z")))).toEqual([
      "legacy: past",
      "rule v1 lot: in force",
      "rule v3 serial: scheduled",
      "rule v4 none: scheduled",
    ]);
  });

  it("shows the unruled stretch between the first version and the material's first rule", () => {
    const later = rules.slice(1);
    const rows = timeline(versions, later, d("2025-07-01T00:00:00Z"));
    expect(rows[1]).toEqual({
      kind: "unruled",
      fromVersion: 1,
      toVersion: 2,
      from: versions[0]!.effectiveFrom,
      to: versions[2]!.effectiveFrom,
      status: "in force",
    });
    expect(shape(rows)).toEqual(["legacy: past", "unruled: in force", "rule v3 serial: scheduled", "rule v4 none: scheduled"]);
    expect(shape(timeline(versions, later, d("2024-06-01T00:00:00Z")))[1]).toBe("unruled: scheduled");
    expect(shape(timeline(versions, later, d("2026-06-01T00:00:00Z")))[1]).toBe("unruled: past");
  });

  it("leaves the unruled stretch open when the material has no rule at all", () => {
    expect(timeline(versions, [], d("2026-01-01T00:00:00Z"))).toEqual([
      { kind: "legacy", to: versions[0]!.effectiveFrom, firstVersion: 1, status: "past" },
      { kind: "unruled", fromVersion: 1, toVersion: null, from: versions[0]!.effectiveFrom, to: null, status: "in force" },
    ]);
  });

  it("does not depend on input order", () => {
    const at = d("2026-01-01T00:00:00Z");
    expect(timeline([...versions].reverse(), [...rules].reverse(), at)).toEqual(timeline(versions, rules, at));
  });
});
