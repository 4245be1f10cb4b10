import { describe, expect, it } from "vitest";
import { formatsForMode, formatsOfSites, lookAlikeWarnings, prefillRule } from "./format-choice";
import type { CharClass, PatternSegment } from "../../packages/identifiers/src/identifier-format";
import { lookAlikesFor, type NamedFormat } from "../../packages/identifiers/src/look-alike";

const lit = (literal: string): PatternSegment => ({ literal });
const run = (charClass: CharClass, min: number, max = min): PatternSegment => ({ class: charClass, min, max });
const pattern = (code: string, identifies: NamedFormat["identifies"], ...segments: PatternSegment[]): NamedFormat => ({
  code,
  identifies,
  definition: { kind: "pattern", segments },
});

describe("formatsOfSites", () => {
  const formats = [
    { code: "GS1-SGTIN", site: null },
    { code: "EIN-SER", site: "EIN" },
    { code: "CLT-SER", site: "CLT" },
  ];
  it("offers the global formats and the chosen site's own", () => {
    expect(formatsOfSites(formats, ["EIN"]).map((f) => f.code)).toEqual(["GS1-SGTIN", "EIN-SER"]);
  });
  it("offers only global formats for a rule at two sites (a site's pattern is unknown at the other)", () => {
    expect(formatsOfSites(formats, ["EIN", "CLT"]).map((f) => f.code)).toEqual(["GS1-SGTIN"]);
  });
  it("offers everything before a site is chosen", () => {
    expect(formatsOfSites(formats, [])).toHaveLength(3);
  });
});

describe("formatsForMode", () => {
  const usable = [
    { code: "GS1-SGTIN", identifies: "serial" as const, site: null, uses: 1 },
    { code: "X-SER", identifies: "serial" as const, site: "X", uses: 4 },
    { code: "X-SER2", identifies: "serial" as const, site: "X", uses: 4 },
    { code: "X-LOT", identifies: "lot" as const, site: "X", uses: 0 },
    { code: "GS1-LGTIN", identifies: "lot" as const, site: null, uses: 0 },
    { code: "X-CTR", identifies: "container" as const, site: "X", uses: 2 },
  ];
  it("lot → serial keeps the lot format and adds the serial format most used at the site (tie: by code)", () => {
    expect(formatsForMode({ current: ["X-LOT"], mode: "serial", containerTracking: false, usable })).toEqual(["X-LOT", "X-SER"]);
  });
  it("serial → lot drops the serial format and adds a lot format: the site's own pattern before a GS1 one when neither is used", () => {
    expect(formatsForMode({ current: ["X-SER"], mode: "lot", containerTracking: false, usable })).toEqual(["X-LOT"]);
  });
  it("→ none keeps only the container format when containers stay tracked", () => {
    expect(formatsForMode({ current: ["X-SER", "X-CTR"], mode: "none", containerTracking: true, usable })).toEqual(["X-CTR"]);
    expect(formatsForMode({ current: ["X-SER", "X-CTR"], mode: "none", containerTracking: false, usable })).toEqual([]);
  });
  it("from no rule at all (legacy), starts from the site's usual formats", () => {
    expect(formatsForMode({ current: [], mode: "lot", containerTracking: true, usable })).toEqual(["X-CTR", "X-LOT"]);
  });
  it("drops a code the site does not offer", () => {
    expect(formatsForMode({ current: ["Y-LOT", "X-LOT"], mode: "lot", containerTracking: false, usable })).toEqual(["X-LOT"]);
  });
});

describe("lookAlikeWarnings", () => {
  // Hand-made: a serial "S" + 8 digits and a lot of 9 upper-case letters or digits. "S00000000"
  // is both (S is a letter, the rest digits); a container "C" + 8 digits is not a serial (C ≠ S).
  const SER = pattern("A-SER", "serial", lit("S"), run("digit", 8));
  const LOT = pattern("A-LOT", "lot", run("upperAlnum", 9));
  const CTR = pattern("A-CTR", "container", lit("C"), run("digit", 8));
  const SER2 = pattern("A-SER2", "serial", lit("S"), run("digit", 4, 8));

  it("says which chosen format reads as what, with the string, when one string reads as two kinds", () => {
    const warnings = lookAlikeWarnings(lookAlikesFor(["A-SER"], [SER, LOT, CTR]));
    expect(warnings).toEqual(["A-LOT and A-SER can print the same string, S00000000: read as lot (A-LOT) or as serial (A-SER)."]);
  });
  it("is silent when the chosen formats look like nothing else used there", () => {
    expect(lookAlikeWarnings(lookAlikesFor(["A-SER"], [SER, CTR]))).toEqual([]);
  });
  it("leaves out two formats of the same kind (a serial read as a serial is no confusion)", () => {
    expect(lookAlikeWarnings(lookAlikesFor(["A-SER"], [SER, SER2]))).toEqual([]);
  });
});

describe("prefillRule", () => {
  const usable = [
    { code: "X-SER", identifies: "serial" as const, site: "X", uses: 2 },
    { code: "X-LOT", identifies: "lot" as const, site: "X", uses: 3 },
  ];
  const lotRule = { trackingMode: "lot" as const, containerTracking: false, identifierFormatCodes: ["X-LOT"], consumptionScan: "identify" };
  it("without a mode, starts from the rule in force as it is", () => {
    expect(prefillRule({ inForce: lotRule, mode: null, usable })).toEqual(lotRule);
    expect(prefillRule({ inForce: null, mode: null, usable })).toBeNull();
  });
  it("with a mode (Reconciliation), fills the formats the mode needs", () => {
    expect(prefillRule({ inForce: lotRule, mode: "serial", usable })).toEqual({
      ...lotRule,
      trackingMode: "serial",
      identifierFormatCodes: ["X-LOT", "X-SER"],
    });
  });
  it("untracking a material scanned by identifier turns the scan into a material check", () => {
    expect(prefillRule({ inForce: lotRule, mode: "none", usable })).toEqual({
      ...lotRule,
      trackingMode: "none",
      identifierFormatCodes: [],
      consumptionScan: "verify",
    });
  });
  it("with no rule in force, names the formats and leaves the scan to the author", () => {
    expect(prefillRule({ inForce: null, mode: "lot", usable })).toEqual({
      trackingMode: "lot",
      containerTracking: false,
      identifierFormatCodes: ["X-LOT"],
      consumptionScan: null,
    });
  });
});
