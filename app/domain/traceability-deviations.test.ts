import { describe, expect, it } from "vitest";
import { belowRequirement, belowRequirementBeforeOrAfter, deviationProblems, indexTrackingChanges } from "./traceability-deviations";
import type { TraceabilityRequirement } from "./traceability-requirement";

const REQ: TraceabilityRequirement[] = [
  {
    scope: "material",
    partNumber: "P-1",
    minimumTracking: "serial",
    containerRequired: false,
    requiredScan: "identify",
    justification: "j",
    references: ["RA-1"],
  },
  { scope: "family", family: "RAW", minimumTracking: "lot", containerRequired: true, requiredScan: "identify", justification: "j", references: [] },
];
const subjects = new Map([
  ["P-1", { partNumber: "P-1", family: "SUB", riskClass: "high" as const, regulated: true }],
  ["R-1", { partNumber: "R-1", family: "RAW", riskClass: "low" as const, regulated: false }],
  ["X-1", { partNumber: "X-1", family: "SUB", riskClass: "low" as const, regulated: false }],
]);
const rule = (trackingMode: "serial" | "lot" | "none", containerTracking = false, consumptionScan: "none" | "verify" | "identify" = "identify") => ({
  trackingMode,
  containerTracking,
  consumptionScan,
});
const dev = (material: string, site: string, expiresOn: string | null = null) => ({
  material,
  site,
  reason: "r",
  riskAssessmentRef: "RA",
  compensatingControls: "c",
  expiresOn,
});

describe("downgrades below the requirement (hand cases)", () => {
  const changes = [
    { index: 0, partNumber: "P-1", site: "EIN", rule: rule("lot") },
    { index: 1, partNumber: "R-1", site: "CLT", rule: rule("lot", false, "verify") },
    { index: 2, partNumber: "X-1", site: "EIN", rule: rule("none", false, "none") },
  ];
  const below = belowRequirement(changes, subjects, REQ);

  it("finds each change below its governing requirement (none stated: never below)", () => {
    expect(below.map((b) => [b.partNumber, b.shortfalls.map((s) => s.field)])).toEqual([
      ["P-1", ["trackingMode"]],
      ["R-1", ["containerTracking", "consumptionScan"]],
    ]);
  });

  it("refuses a change below without a deviation, naming the field and the requirement", () => {
    expect(deviationProblems({ below, deviations: [dev("R-1", "CLT")], today: "2026-12-07" })).toEqual({
      "changes.0.trackingMode": ["P-1 at EIN: tracked by lot, the requirement is at least serial (RA-1) — add a deviation or keep serial"],
    });
  });

  it("refuses a deviation that is not needed, twice named, or already expired", () => {
    expect(
      deviationProblems({
        below,
        deviations: [dev("P-1", "EIN", "2026-12-06"), dev("R-1", "CLT"), dev("X-1", "EIN"), dev("R-1", "CLT", "2026-12-07")],
        today: "2026-12-07",
      }),
    ).toEqual({
      "deviations.0.expiresOn": ["Choose today (2026-12-07) or a later day"],
      "deviations.2.material": [
        "X-1 at EIN meets its required traceability with this request (or the request does not change its tracking there): no deviation is needed",
      ],
      "deviations.3.material": ["R-1 at CLT already has a deviation (deviation 2)"],
    });
  });

  it("maps expanded changes to the proposed change they came from (family + site)", () => {
    const rl = { trackingMode: "lot" as const, containerTracking: false, identifierFormatCodes: [], consumptionScan: "identify" as const };
    const proposed = [
      { kind: "tracking" as const, material: "P-1", sites: ["EIN"], ...rl },
      { kind: "tracking" as const, family: "RAW", sites: ["CLT", "EIN"], ...rl },
    ];
    const expanded = [
      { kind: "tracking" as const, partNumber: "P-1", site: "EIN", rule: rl, viaFamily: null },
      { kind: "tracking" as const, partNumber: "R-1", site: "CLT", rule: rl, viaFamily: "RAW" },
    ];
    expect(indexTrackingChanges(proposed, expanded).map((c) => c.index)).toEqual([0, 1]);
  });
});

describe("the stricter of the material before and after the request (review of issue 25)", () => {
  // A risk-class default: high-risk regulated materials are serial; high-risk unregulated ones lot.
  const byRisk: TraceabilityRequirement[] = [
    {
      scope: "risk_class",
      riskClass: "high",
      regulated: true,
      minimumTracking: "serial",
      containerRequired: false,
      requiredScan: "identify",
      justification: "j",
      references: ["RA-H"],
    },
    {
      scope: "risk_class",
      riskClass: "high",
      regulated: false,
      minimumTracking: "lot",
      containerRequired: false,
      requiredScan: "identify",
      justification: "j",
      references: [],
    },
  ];
  const before = new Map([["S-1", { partNumber: "S-1", family: "SUB", riskClass: "high" as const, regulated: true }]]);
  const after = new Map([["S-1", { partNumber: "S-1", family: "SUB", riskClass: "high" as const, regulated: false }]]);
  const toLot = [{ index: 0, partNumber: "S-1", site: "EIN", rule: rule("lot") }];

  it("judges a downgrade that also removes the regulated flag against the requirement before (serial): below", () => {
    expect(belowRequirement(toLot, after, byRisk)).toEqual([]);
    const below = belowRequirementBeforeOrAfter(toLot, before, after, byRisk);
    expect(below.map((b) => [b.partNumber, b.site, b.requirement.minimumTracking, b.shortfalls.map((s) => s.field)])).toEqual([
      ["S-1", "EIN", "serial", ["trackingMode"]],
    ]);
  });

  it("judges a change that makes the material stricter against the requirement after", () => {
    const below = belowRequirementBeforeOrAfter(toLot, after, before, byRisk);
    expect(below.map((b) => b.requirement.minimumTracking)).toEqual(["serial"]);
  });

  it("finds nothing when the rule meets both", () => {
    expect(belowRequirementBeforeOrAfter([{ index: 0, partNumber: "S-1", site: "EIN", rule: rule("serial") }], before, after, byRisk)).toEqual([]);
  });
});
