/**
 * The look-alike decision (packages/identifiers, ADR 013) on the demo plant's formats and label
 * templates. Kept out of the package: the package imports nothing of the portal, tests included.
 */
import { describe, expect, it } from "vitest";
import { lookAlikesAmong, type NamedFormat } from "../../packages/identifiers/src/look-alike";
import { generateDemoPlant } from "../../app/seed/demo-plant";

describe("formats used together in the demo plant", () => {
  const demo = generateDemoPlant();
  const named = (code: string): NamedFormat => {
    const f = demo.formats.find((x) => x.code === code)!;
    return { code: f.code, identifies: f.identifies, definition: f.definition };
  };

  it("the demo plant's WC30-SHOP label template at EIN: serial and tote look like lots", () => {
    const template = demo.labelTemplates.find(
      (t) => t.site === demo.hardCases.overlappingFormats.site && t.code === demo.hardCases.overlappingFormats.labelTemplate,
    )!;
    const report = lookAlikesAmong(template.formats.map(named));
    expect(report.selfAmbiguous).toEqual([]);
    expect(report.pairs.map((p) => [p.formats, p.example.data, p.kinds, p.confusion])).toEqual([
      [["EIN-CTR", "EIN-LOT"], "C00000000", ["container", "lot"], true],
      [["EIN-LOT", "EIN-SER"], "S00000000", ["lot", "serial"], true],
    ]);
    expect(report.pairs.map((p) => p.formats)).toContainEqual([...demo.hardCases.overlappingFormats.formats].sort());
  });

  it("the demo plant's other sites: their WC30-SHOP formats do not look alike", () => {
    for (const site of demo.sites.filter((s) => s.code !== "EIN")) {
      const template = demo.labelTemplates.find((t) => t.site === site.code && t.code === "WC30-SHOP")!;
      const report = lookAlikesAmong(template.formats.map(named));
      expect(report, site.code).toEqual({ selfAmbiguous: [], pairs: [], unusable: [], undecided: [] });
    }
  });

  it("the demo plant's GS1 formats: the lot format is self-ambiguous and reads as the serial format", () => {
    const report = lookAlikesAmong(["GS1-SSCC", "GS1-SGTIN", "GS1-LGTIN"].map(named));
    expect(report.selfAmbiguous.map((s) => [s.format, s.kinds])).toEqual([["GS1-LGTIN", ["lot", "serial"]]]);
    expect(report.pairs.map((p) => p.formats)).toEqual([["GS1-LGTIN", "GS1-SGTIN"]]);
  });

  it("all demo formats at EIN together (site patterns and GS1): only the known look-alikes", () => {
    const codes = demo.formats.filter((f) => f.site === null || f.site === "EIN").map((f) => f.code);
    const report = lookAlikesAmong(codes.map(named));
    expect(report.pairs.map((p) => p.formats.join(" ~ "))).toEqual(["EIN-CTR ~ EIN-LOT", "EIN-LOT ~ EIN-SER", "GS1-LGTIN ~ GS1-SGTIN"]);
    expect(report.undecided).toEqual([]);
  });
});
