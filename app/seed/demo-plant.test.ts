import { describe, expect, it } from "vitest";
import { createRng, gs1CheckDigit, generateDemoPlant, demoShiftDaysFor, DEMO_END, DEMO_SEED } from "./demo-plant";
import { matchesPattern } from "../../packages/identifiers/src/identifier-format";

describe("the demo plant generator", () => {
  it("computes GS1 check digits", () => {
    expect(gs1CheckDigit("0061414112345")).toBe("2"); // GTIN 00614141123452 (GS1 General Specifications example)
    expect(gs1CheckDigit("1061414107346")).toBe("4");
  });

  it("draws the same numbers from the same seed", () => {
    const a = createRng(1);
    const b = createRng(1);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });

  it("labels site-pattern items with identifiers their formats accept", () => {
    const plant = generateDemoPlant();
    const format = (code: string) => plant.formats.find((f) => f.code === code)!.definition;
    const ein = plant.traceItems.filter((t) => t.site === "EIN");
    const serialFormat = format("EIN-SER");
    const lotFormat = format("EIN-LOT");
    if (serialFormat.kind !== "pattern" || lotFormat.kind !== "pattern") throw new Error("EIN formats are patterns");
    for (const t of ein.filter((t) => t.kind === "serial" && t.partNumber.startsWith("SUB-")))
      expect(matchesPattern(serialFormat.segments, t.identifier)).toBe(true);
    for (const t of ein.filter((t) => t.kind === "lot")) expect(matchesPattern(lotFormat.segments, t.identifier)).toBe(true);
    const clt = format("CLT-LOT");
    if (clt.kind !== "pattern") throw new Error("CLT-LOT is a pattern");
    for (const t of plant.traceItems.filter((t) => t.site === "CLT" && t.kind === "lot")) expect(matchesPattern(clt.segments, t.identifier)).toBe(true);
  });

  it("never lets an input be made after the item it went into", () => {
    const plant = generateDemoPlant();
    for (const e of plant.edges) {
      expect(plant.traceItems[e.input]!.createdAt.getTime()).toBeLessThanOrEqual(e.occurredAt.getTime());
      expect(plant.traceItems[e.input]!.site).toBe(e.site);
    }
  });
});

describe("the demo plant moved to the day it is first started", () => {
  it("ends the day before: 2026-12-06 → 35 days after 2026-10-31 (hand-counted: 30 to Nov 30, 5 more)", () => {
    expect(demoShiftDaysFor(new Date("2026-12-06T23:15:00Z"))).toBe(35);
    expect(demoShiftDaysFor(new Date("2026-11-01T00:00:00Z"))).toBe(0);
    expect(demoShiftDaysFor(new Date("2026-10-01T12:00:00Z"))).toBe(-31);
  });

  it("moves every date by whole days and nothing else", () => {
    const asWritten = generateDemoPlant(DEMO_SEED);
    const moved = generateDemoPlant(DEMO_SEED, { shiftDays: 35 });
    const day = 86_400_000;
    expect(moved.traceItems.map((t) => t.identifier)).toEqual(asWritten.traceItems.map((t) => t.identifier));
    expect(moved.traceItems.every((t, i) => t.createdAt.getTime() - asWritten.traceItems[i]!.createdAt.getTime() === 35 * day)).toBe(true);
    expect(moved.edges.every((e, i) => e.occurredAt.getTime() - asWritten.edges[i]!.occurredAt.getTime() === 35 * day)).toBe(true);
    expect(moved.workOrders.every((w, i) => w.openedAt.getTime() - asWritten.workOrders[i]!.openedAt.getTime() === 35 * day)).toBe(true);
    expect(moved.versions.map((v) => v.effectiveFrom.toISOString())).toEqual(["2025-02-05T00:00:00.000Z", "2025-10-06T00:00:00.000Z"]);
    expect(Math.max(...moved.traceItems.map((t) => t.createdAt.getTime()))).toBeLessThanOrEqual(DEMO_END.getTime() + 35 * day);
    // The module's shared constants are not touched.
    expect(generateDemoPlant(DEMO_SEED).versions[0]!.effectiveFrom.toISOString()).toBe("2025-01-01T00:00:00.000Z");
  });
});
