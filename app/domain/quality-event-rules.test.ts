import { describe, expect, it } from "vitest";
import { QUALITY_DISPOSITIONS, QUALITY_EVENT_STATUSES } from "./quality-event";
import { initialStatusProblem, qualityEventNumber, referenceProblems, ruleAtRaiseText, statusChange, statusesFrom } from "./quality-event-rules";

describe("status changes", () => {
  it("allows exactly open→contained, open→closed, contained→closed and staying put until closed (table, pair by pair)", () => {
    // Written by hand from ADR 034: the expected verdict for every pair, with a decided disposition.
    const allowed = new Set(["open→open", "open→contained", "open→closed", "contained→contained", "contained→closed"]);
    for (const from of QUALITY_EVENT_STATUSES) {
      for (const to of QUALITY_EVENT_STATUSES) {
        expect(statusChange(from, to, "scrap").ok, `${from}→${to}`).toBe(allowed.has(`${from}→${to}`));
      }
    }
  });

  it("refuses to close without a disposition, whatever the status it comes from", () => {
    expect(statusChange("open", "closed", "pending")).toEqual({ ok: false, message: "closing needs a disposition (not pending)" });
    expect(statusChange("contained", "closed", "pending").ok).toBe(false);
    for (const d of QUALITY_DISPOSITIONS.filter((d) => d !== "pending")) expect(statusChange("contained", "closed", d).ok).toBe(true);
  });

  it("keeps a closed event closed, even for a disposition change", () => {
    const change = statusChange("closed", "closed", "rework");
    expect(change.ok).toBe(false);
    expect(!change.ok && change.message).toMatch(/closed/);
    expect(statusesFrom("closed")).toEqual([]);
    expect(statusesFrom("open")).toEqual(["open", "contained", "closed"]);
    expect(statusesFrom("contained")).toEqual(["contained", "closed"]);
  });

  it("raises a closed event only with a disposition", () => {
    expect(initialStatusProblem("closed", "pending")).not.toBeNull();
    expect(initialStatusProblem("closed", "scrap")).toBeNull();
    expect(initialStatusProblem("open", "pending")).toBeNull();
  });
});

describe("references", () => {
  it("needs at least one", () => {
    expect(referenceProblems([])).toEqual({ references: ["Name at least one serial, lot, container or material"] });
  });

  it("accepts a serial and a lot with their material, a container by SSCC and a material by part number", () => {
    expect(
      referenceProblems([
        { kind: "serial", material: "SUB-1005", identifier: "S00000001" },
        { kind: "lot", material: "MCH-1001", identifier: "L25A00001" },
        { kind: "container", identifier: "108712340010000018" },
        { kind: "material", material: "RES-1001" },
      ]),
    ).toEqual({});
  });

  it("names the field of each reference that lacks what its kind needs", () => {
    const problems = referenceProblems([
      { kind: "serial", identifier: "S1" },
      { kind: "lot", material: "MCH-1001" },
      { kind: "container", material: "FIN-1001", identifier: "1087" },
      { kind: "material", material: "", identifier: "X" },
    ]);
    expect(Object.keys(problems).sort()).toEqual([
      "references.0.material",
      "references.1.identifier",
      "references.2.material",
      "references.3.identifier",
      "references.3.material",
    ]);
    expect(problems["references.0.material"]![0]).toMatch(/^Reference 1:/);
  });

  it("refuses a reference named twice (a serial of the same material, a container whatever material is written) and names both", () => {
    const problems = referenceProblems([
      { kind: "serial", material: "SUB-1005", identifier: "S1" },
      { kind: "serial", material: "SUB-1006", identifier: "S1" },
      { kind: "serial", material: "SUB-1005", identifier: " S1 " },
      { kind: "container", identifier: "1087" },
      { kind: "container", identifier: "1087" },
    ]);
    expect(problems["references.2"]).toEqual(["Reference 3 repeats reference 1"]);
    expect(problems["references.4"]).toEqual(["Reference 5 repeats reference 4"]);
    expect(problems["references.1"]).toBeUndefined();
  });
});

describe("the rule at raise, in words", () => {
  it("reads legacy, unruled and ruled as the event page shows them", () => {
    expect(ruleAtRaiseText({ state: "legacy" }, "EIN")).toBe("legacy — before EIN's first rule set");
    expect(ruleAtRaiseText({ state: "ruled", version: 2, trackingMode: "serial" }, "EIN")).toBe("EIN v2: serial");
    expect(ruleAtRaiseText({ state: "unruled", version: 1 }, "CLT")).toBe("CLT v1: no rule for the material");
  });

  it("numbers events QE-0001 onwards", () => {
    expect(qualityEventNumber(1)).toBe("QE-0001");
    expect(qualityEventNumber(12345)).toBe("QE-12345");
  });
});
