import { describe, expect, it } from "vitest";
import { describeRuleAtSite, justificationStatus } from "./traceability-justification";
import type { RequirementContent } from "./traceability-requirement";

const lotContainerIdentify: RequirementContent = {
  minimumTracking: "lot",
  containerRequired: true,
  requiredScan: "identify",
  justification: "x",
  references: [],
};

describe("justificationStatus", () => {
  it("meets when the rule is at or above every part of the requirement", () => {
    const rule = { state: "ruled", version: 2, trackingMode: "serial", containerTracking: true, consumptionScan: "identify" } as const;
    expect(justificationStatus(lotContainerIdentify, rule, 0)).toEqual({ status: "meets", shortfalls: [] });
  });

  it("is below without a deviation, naming each shortfall", () => {
    const rule = { state: "ruled", version: 1, trackingMode: "none", containerTracking: false, consumptionScan: "verify" } as const;
    expect(justificationStatus(lotContainerIdentify, rule, 0)).toEqual({
      status: "below_without_deviation",
      shortfalls: [
        "tracked by none, the requirement is at least lot",
        "not container-tracked, the requirement is container tracking",
        "consumption scan verify, the requirement is at least identify",
      ],
    });
  });

  it("is below with a deviation when one is open", () => {
    const rule = { state: "ruled", version: 3, trackingMode: "lot", containerTracking: false, consumptionScan: "identify" } as const;
    expect(justificationStatus(lotContainerIdentify, rule, 1).status).toBe("below_with_deviation");
  });

  it("has no rule when the site is legacy or the material unruled, and no requirement before anything else", () => {
    expect(justificationStatus(lotContainerIdentify, { state: "legacy" }, 0).status).toBe("no_rule");
    expect(justificationStatus(lotContainerIdentify, { state: "unruled", version: 4 }, 0).status).toBe("no_rule");
    expect(justificationStatus(null, { state: "legacy" }, 0).status).toBe("no_requirement");
    expect(
      justificationStatus(null, { state: "ruled", version: 1, trackingMode: "serial", containerTracking: true, consumptionScan: "identify" }, 0).status,
    ).toBe("no_requirement");
  });
});

describe("describeRuleAtSite", () => {
  it("reads as a line", () => {
    expect(describeRuleAtSite({ state: "ruled", version: 2, trackingMode: "lot", containerTracking: true, consumptionScan: "identify" })).toBe(
      "lot, containers, scan identify (v2)",
    );
    expect(describeRuleAtSite({ state: "unruled", version: 3 })).toBe("unruled in version 3");
  });
});
