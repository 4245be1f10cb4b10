import { describe, expect, it } from "vitest";
import { allApprovalsGiven, requiredApprovals, separationOfDutiesProblem, type ChangeFacts } from "./approval";

const change = (c: Partial<ChangeFacts>): ChangeFacts => ({ partNumber: "SUB-1", trackingEffect: "upgrade", riskClass: "medium", ...c });

describe("the approval policy", () => {
  it("asks a quality reviewer for every change", () => {
    expect(requiredApprovals([change({})]).map((r) => r.role)).toEqual(["quality_reviewer"]);
    expect(requiredApprovals([change({ trackingEffect: "same", riskClass: "low" })]).map((r) => r.role)).toEqual(["quality_reviewer"]);
  });

  it("adds a regulatory reviewer for a downgrade or a high-risk material, naming why", () => {
    const downgrade = requiredApprovals([change({ partNumber: "MCH-1", trackingEffect: "downgrade" })]);
    expect(downgrade.map((r) => r.role)).toEqual(["quality_reviewer", "regulatory_reviewer"]);
    expect(downgrade[1]!.reasons).toEqual(["MCH-1: a downgrade (serial→lot, serial→none, lot→none) loses traceability"]);
    const highRisk = requiredApprovals([change({ partNumber: "FIN-1", riskClass: "high" }), change({ partNumber: "RAW-1" })]);
    expect(highRisk[1]).toEqual({ role: "regulatory_reviewer", reasons: ["FIN-1: a material of the highest risk class"] });
  });

  it("enforces separation of duties, with no exemption", () => {
    const required = requiredApprovals([change({ trackingEffect: "downgrade" })]);
    const base = { authorId: 1, required, given: [] as { signerId: number; role: "quality_reviewer" | "regulatory_reviewer" }[] };
    expect(separationOfDutiesProblem({ ...base, signerId: 1, role: "quality_reviewer", signerRoles: ["quality_reviewer", "admin"] })).toMatch(/author/);
    expect(separationOfDutiesProblem({ ...base, signerId: 2, role: "quality_reviewer", signerRoles: ["engineer", "admin"] })).toMatch(/do not hold/);
    expect(separationOfDutiesProblem({ ...base, signerId: 2, role: "quality_reviewer", signerRoles: ["quality_reviewer"] })).toBeNull();
    const given = [{ signerId: 2, role: "quality_reviewer" as const }];
    expect(
      separationOfDutiesProblem({ ...base, given, signerId: 2, role: "regulatory_reviewer", signerRoles: ["quality_reviewer", "regulatory_reviewer"] }),
    ).toMatch(/two required roles/);
    expect(separationOfDutiesProblem({ ...base, given, signerId: 3, role: "quality_reviewer", signerRoles: ["quality_reviewer"] })).toMatch(
      /already been given/,
    );
    expect(separationOfDutiesProblem({ ...base, given, signerId: 3, role: "regulatory_reviewer", signerRoles: ["regulatory_reviewer"] })).toBeNull();
    expect(allApprovalsGiven(required, given)).toBe(false);
    expect(allApprovalsGiven(required, [...given, { signerId: 3, role: "regulatory_reviewer" }])).toBe(true);
    const qualityOnly = requiredApprovals([change({})]);
    expect(
      separationOfDutiesProblem({
        authorId: 1,
        required: qualityOnly,
        given: [],
        signerId: 3,
        role: "regulatory_reviewer",
        signerRoles: ["regulatory_reviewer"],
      }),
    ).toMatch(/does not need/);
  });
});
