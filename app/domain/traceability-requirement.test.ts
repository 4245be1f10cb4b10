import { describe, expect, it } from "vitest";
import { type TraceabilityRequirement, requirementLowering, requirementsAfter } from "./traceability-requirement";

const base = { justification: "why", references: [] as string[] };
const lowRegulated: TraceabilityRequirement = {
  scope: "risk_class",
  riskClass: "low",
  regulated: true,
  minimumTracking: "lot",
  containerRequired: false,
  requiredScan: "verify",
  ...base,
};
const sub: TraceabilityRequirement = {
  scope: "material",
  partNumber: "SUB-1005",
  minimumTracking: "serial",
  containerRequired: false,
  requiredScan: "identify",
  ...base,
};

describe("requirementsAfter", () => {
  it("replaces the target's requirement, keeps the others in order, appends a new target", () => {
    const changes = [
      {
        target: { scope: "material" as const, partNumber: "SUB-1005" },
        minimumTracking: "lot" as const,
        containerRequired: false,
        requiredScan: "verify" as const,
        justification: "j",
        references: ["R1"],
      },
      {
        target: { scope: "family" as const, family: "resin" },
        minimumTracking: "none" as const,
        containerRequired: false,
        requiredScan: "none" as const,
        justification: "k",
        references: [],
      },
    ];
    const after = requirementsAfter([lowRegulated, sub], changes);
    // Hand-written: lowRegulated unchanged, SUB-1005 now lot/verify, resin family appended.
    expect(after).toEqual([
      lowRegulated,
      {
        scope: "material",
        partNumber: "SUB-1005",
        minimumTracking: "lot",
        containerRequired: false,
        requiredScan: "verify",
        justification: "j",
        references: ["R1"],
      },
      { scope: "family", family: "resin", minimumTracking: "none", containerRequired: false, requiredScan: "none", justification: "k", references: [] },
    ]);
  });
});

describe("requirementLowering", () => {
  it("a weaker own requirement lowers it; a new weaker family requirement lowers its materials' default", () => {
    const subjects = [
      { partNumber: "SUB-1005", family: "resin", riskClass: "low" as const, regulated: true },
      { partNumber: "SUB-2000", family: "resin", riskClass: "low" as const, regulated: true },
      { partNumber: "SUB-3000", family: "metal", riskClass: "low" as const, regulated: true },
    ];
    const own = requirementLowering([lowRegulated, sub], subjects, {
      target: { scope: "material", partNumber: "SUB-1005" },
      minimumTracking: "lot",
      containerRequired: false,
      requiredScan: "identify",
      ...base,
    });
    expect(own).toEqual({ own: true, materials: ["SUB-1005"] });
    const family = requirementLowering([lowRegulated, sub], subjects, {
      target: { scope: "family", family: "resin" },
      minimumTracking: "none",
      containerRequired: false,
      requiredScan: "none",
      ...base,
    });
    // SUB-1005 keeps its own requirement; SUB-2000 falls from lot/verify to none; SUB-3000 is not in the family.
    expect(family).toEqual({ own: false, materials: ["SUB-2000"] });
  });
});
