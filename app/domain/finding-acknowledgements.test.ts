import { describe, expect, it } from "vitest";
import { FINDING_CODES, type AnalysisReport, type Finding } from "./impact-analysis";
import { acknowledgementProblems, findingKey, findingsToAcknowledge } from "./impact-analysis/acknowledgements";
import { FINDING_TITLES, findingTitle } from "./impact-analysis/finding-titles";

describe("finding titles", () => {
  it("gives every finding code a title and a one-line explanation", () => {
    for (const code of Object.keys(FINDING_CODES)) {
      const t = FINDING_TITLES[code as keyof typeof FINDING_CODES];
      expect(t, code).toBeDefined();
      expect(t.title.trim().length, code).toBeGreaterThan(3);
      // Short: a title, not a sentence.
      expect(t.title.length, code).toBeLessThanOrEqual(45);
      expect(t.explanation.trim().length, code).toBeGreaterThan(20);
      expect(t.explanation, code).not.toMatch(/\n/);
      // Says what to check.
      expect(t.explanation, code).toMatch(/check/i);
    }
    // No title for a code that does not exist.
    expect(Object.keys(FINDING_TITLES).sort()).toEqual(Object.keys(FINDING_CODES).sort());
  });

  it("shows an unknown code as itself", () => {
    expect(findingTitle("SOMETHING_NEW")).toEqual({ title: "SOMETHING_NEW", explanation: "" });
    expect(findingTitle("MIXED_HISTORY").title).toBe(FINDING_TITLES.MIXED_HISTORY.title);
  });
});

const finding = (code: Finding["code"], severity: Finding["severity"], count = 1): Finding => ({ code, severity, message: code, count, sample: [`${code}-1`] });
// A hand-made report: 2 critical and 1 warning among the changes, 1 warning and 1 info general.
const report = {
  changes: [
    {
      partNumber: "P-1",
      site: "S1",
      from: "lot",
      to: "serial",
      effect: "upgrade",
      findings: [finding("MIXED_HISTORY", "warning", 4), finding("GENEALOGY_BREAK_BOM", "critical", 2), finding("ITEMS_BY_STATUS", "info")],
    },
    { partNumber: "P-1", site: "S2", from: "lot", to: "serial", effect: "upgrade", findings: [finding("GENEALOGY_BREAK_BOM", "critical", 1)] },
  ],
  findings: [finding("DISTRIBUTION", "info"), finding("CYCLE", "warning")],
} as unknown as AnalysisReport;

describe("findings to acknowledge", () => {
  it("lists the critical and warning findings, keyed by code and change", () => {
    expect(findingsToAcknowledge(report).map((f) => [f.key, f.severity, f.count])).toEqual([
      ["MIXED_HISTORY:P-1@S1", "warning", 4],
      ["GENEALOGY_BREAK_BOM:P-1@S1", "critical", 2],
      ["GENEALOGY_BREAK_BOM:P-1@S2", "critical", 1],
      ["CYCLE", "warning", 1],
    ]);
    expect(findingKey("CYCLE", null)).toBe("CYCLE");
  });

  it("names what is missing and what names no finding", () => {
    const r = acknowledgementProblems(report, ["MIXED_HISTORY:P-1@S1", "GENEALOGY_BREAK_BOM:P-1@S1", "ITEMS_BY_STATUS:P-1@S1", "NOPE"]);
    expect(r.missing.map((f) => f.key)).toEqual(["GENEALOGY_BREAK_BOM:P-1@S2", "CYCLE"]);
    // An info finding needs no acknowledgement and cannot be given one.
    expect(r.unknown).toEqual(["ITEMS_BY_STATUS:P-1@S1", "NOPE"]);
    expect(r.acknowledged.map((f) => f.key)).toEqual(["MIXED_HISTORY:P-1@S1", "GENEALOGY_BREAK_BOM:P-1@S1"]);
  });
});
