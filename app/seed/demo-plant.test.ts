import { describe, expect, it } from "vitest";
import { createRng, gs1CheckDigit, generateDemoPlant } from "./demo-plant";
import { matchesPattern } from "../domain/identifier-format";

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
    for (const t of ein.filter((t) => t.kind === "serial" && t.partNumber.startsWith("SUB-"))) expect(matchesPattern(serialFormat.segments, t.identifier)).toBe(true);
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
