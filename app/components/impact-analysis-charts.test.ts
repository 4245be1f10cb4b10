import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { countLabel } from "./impact-analysis";
import { niceScale, TierChart, tierRows, VolumeChart } from "./impact-analysis-charts";

describe("impact analysis charts", () => {
  it("round an axis up to 1, 2, 2.5 or 5 times a power of ten, and give an empty one a unit scale", () => {
    expect(niceScale(50)).toEqual({ max: 60, step: 20 });
    expect(niceScale(7)).toEqual({ max: 8, step: 2 });
    expect(niceScale(1.5)).toEqual({ max: 1.5, step: 0.5 });
    expect(niceScale(100)).toEqual({ max: 100, step: 25 });
    expect(niceScale(0)).toEqual({ max: 1, step: 0.25 });
    expect(niceScale(Number.NaN)).toEqual({ max: 1, step: 0.25 });
  });

  it("order tiers numerically (10 after 2) with their totals", () => {
    expect(tierRows({ "10": { shipped: 1 }, "2": { stock: 2, wip: 1 }, "0": { consumed: 5 } })).toEqual([
      { tier: 0, counts: { consumed: 5 }, total: 5 },
      { tier: 2, counts: { stock: 2, wip: 1 }, total: 3 },
      { tier: 10, counts: { shipped: 1 }, total: 1 },
    ]);
  });

  it("draw with classes and presentation attributes only (the CSP allows no style attribute) and carry the numbers as a table", () => {
    const tiers = renderToStaticMarkup(
      createElement(TierChart, { id: "t", subject: "SUB-1008 at EIN", byTier: { "0": { consumed: 50 }, "1": { stock: 10, shipped: 16 } } }),
    );
    const volume = renderToStaticMarkup(
      createElement(VolumeChart, { id: "v", windowDays: 30, rows: [{ change: "SUB-1008 at EIN", measure: "Labels per day", before: "1.5", after: "0.2" }] }),
    );
    for (const html of [tiers, volume]) {
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).toMatch(/<figure[^>]*aria-labelledby="[tv]-caption"/);
      expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-labelledby="[tv]-caption"/);
      expect(html).toContain('<table class="visually-hidden">');
    }
    expect(tiers).toContain("<title>tier 1: 16 shipped</title>");
    expect(tiers).toContain("<td>16</td>");
    // The longer bar is the larger value: 1.5 labels a day before, 0.2 after, on a 0–1.5 axis.
    const widths = [...volume.matchAll(/<rect class="bar-(before|after)" x="210" y="\d+" width="([\d.]+)" height="14"/g)].map((m) => [m[1], Number(m[2])]);
    expect(widths).toEqual([
      ["before", 360],
      ["after", 48],
    ]);
  });

  it("name the counts of a finding in words", () => {
    expect(countLabel("labelsPerDayBefore")).toBe("labels per day before");
    expect(countLabel("kind:serial")).toBe("serial items");
    expect(countLabel("site:EIN")).toBe("at EIN");
    expect(countLabel("wip")).toBe("wip");
  });
});
