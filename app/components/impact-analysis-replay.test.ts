import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { ReplayReport } from "~/domain/replay/report";
import { ReplaySection } from "./impact-analysis-replay";

const counts = (u: number, a: number, s: number, i: number) => ({ UNSCANNABLE: u, AMBIGUOUS: a, SUBSTITUTION_REFUSED: s, INEXPRESSIBLE: i });
const report: ReplayReport = {
  type: "c981.replay",
  schemaVersion: 1,
  changeRequest: { number: "CR-1", revision: 1, contentHash: "0".repeat(64) },
  dataPoint: { auditSeq: 1, at: "2026-03-31T12:00:00.000Z" },
  window: { from: "2026-03-29T12:00:00.000Z", to: "2026-03-31T12:00:00.000Z", days: 90 },
  totals: counts(2, 1, 0, 1),
  days: [
    { day: "2026-03-29", counts: counts(0, 0, 0, 0) },
    { day: "2026-03-30", counts: counts(2, 1, 0, 0) },
    { day: "2026-03-31", counts: counts(0, 0, 0, 1) },
  ],
  changes: [
    {
      partNumber: "C",
      site: "T",
      from: "lot",
      to: "serial",
      replayed: { consumptions: 3, itemsMade: 1, structuralEvents: 1, substitutions: 0 },
      categories: {
        UNSCANNABLE: { total: 2, byReason: { serial: 2 }, sample: ["2026-03-30 EV-1: a", "2026-03-30 EV-2: b"] },
        AMBIGUOUS: { total: 1, byReason: { "lot+serial": 1 }, sample: ["2026-03-30 EV-2: S0007 reads as A:lot and C:serial"] },
        SUBSTITUTION_REFUSED: { total: 0, byReason: {}, sample: [] },
        INEXPRESSIBLE: { total: 1, byReason: { split: 1 }, sample: ["2026-03-31 EV-S: split"] },
      },
      days: [
        ["2026-03-30", 2, 1, 0, 0],
        ["2026-03-31", 0, 0, 0, 1],
      ],
    },
  ],
};

describe("replay section", () => {
  it("labels the chart, gives its numbers as a table of the days with cases, and shows counts and samples without style attributes", () => {
    const html = renderToStaticMarkup(createElement(ReplaySection, { replay: { sha256: "a".repeat(64), durationMs: 12, report } }));
    expect(html).toContain("Replay of the last 90 days");
    expect(html).toContain('role="img"');
    expect(html).toContain('aria-describedby="analysis-replay-chart-desc"');
    expect(html).not.toContain("style=");
    // The table: a header row and the two days with cases (not 2026-03-29).
    expect(html).toContain('<th scope="row">2026-03-30</th><td>2</td><td>1</td><td>0</td><td>0</td>');
    expect(html).toContain('<th scope="row">2026-03-31</th><td>0</td><td>0</td><td>0</td><td>1</td>');
    expect(html).not.toContain('<th scope="row">2026-03-29</th>');
    expect(html).toContain("S0007 reads as A:lot and C:serial");
    expect(html).toContain("serial: 2");
  });

  it("says so when an analysis was stored before replays existed, and when nothing happened", () => {
    expect(renderToStaticMarkup(createElement(ReplaySection, { replay: null }))).toContain("stored before replays existed");
    const empty = { ...report, totals: counts(0, 0, 0, 0), days: report.days.map((d) => ({ ...d, counts: counts(0, 0, 0, 0) })) };
    const html = renderToStaticMarkup(createElement(ReplaySection, { replay: { sha256: "a".repeat(64), durationMs: 1, report: empty } }));
    expect(html).toContain("No case in the 90 days");
    expect(html).not.toContain('role="img"');
  });
});
