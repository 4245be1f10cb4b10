import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GS1_SYNTAX_DICTIONARY_TEXT } from "./data/dictionary";
import { renderDictionaryModule } from "./generate-dictionary";
import { gs1Dictionary } from "./index";
import { LINTERS } from "./linters";
import { aiMatchesPattern, parseSyntaxDictionary } from "./syntax-dictionary";

const entry = (ai: string) => {
  const e = gs1Dictionary.entries.get(ai);
  if (!e) throw new Error(`AI ${ai} missing`);
  return e;
};

describe("vendored dictionary data", () => {
  it("the generated module is the vendored text, unmodified", () => {
    const dataDir = new URL("./data/", import.meta.url);
    const text = readFileSync(fileURLToPath(new URL("gs1-syntax-dictionary.txt", dataDir)), "utf8");
    expect(GS1_SYNTAX_DICTIONARY_TEXT).toBe(text);
    expect(readFileSync(fileURLToPath(new URL("dictionary.ts", dataDir)), "utf8")).toBe(renderDictionaryModule(text));
  });

  it("ships with its licence and source note", () => {
    const dataDir = new URL("./data/", import.meta.url);
    expect(readFileSync(fileURLToPath(new URL("LICENSE-gs1-syntax-dictionary.txt", dataDir)), "utf8")).toContain("Apache License");
    expect(readFileSync(fileURLToPath(new URL("README.md", dataDir)), "utf8")).toContain("ff2eb4b");
  });
});

describe("parseSyntaxDictionary on the vendored dictionary", () => {
  it("expands AI ranges into single AIs (3100-3105, 91-99)", () => {
    for (const ai of ["3100", "3105", "3695", "3900", "3909", "91", "99"]) expect(gs1Dictionary.entries.has(ai)).toBe(true);
    for (const ai of ["3106", "3109", "3696", "90A"]) expect(gs1Dictionary.entries.has(ai)).toBe(false);
    expect(entry("3103").title).toBe("NET WEIGHT (kg)");
    expect(gs1Dictionary.aiLengths).toEqual([2, 3, 4]);
  });

  it("reads flags, components with linters, ex and dlpkey alternatives (AI 01)", () => {
    const gtin = entry("01");
    expect(gtin.flags).toBe("*?");
    expect(gtin.predefinedLength).toBe(true);
    expect(gtin.dlDataAttribute).toBe(true);
    expect(gtin.components).toEqual([{ type: "N", min: 14, max: 14, optional: false, linters: ["csum", "gcppos2"] }]);
    expect(gtin.excludes).toEqual(["255", "37"]);
    expect(gtin.requires).toEqual([]);
    expect(gtin.dlPrimaryKey).toEqual([["22", "10", "21"], ["235"]]);
    expect(gtin.title).toBe("GTIN");
    expect(gtin.specification).toBe("N14,csum,gcppos2");
  });

  it("reads variable lengths, req alternatives and AND-groups", () => {
    const serial = entry("21");
    expect(serial.flags).toBe("");
    expect(serial.predefinedLength).toBe(false);
    expect(serial.dlDataAttribute).toBe(false);
    expect(serial.components).toEqual([{ type: "X", min: 1, max: 20, optional: false, linters: [] }]);
    expect(serial.requires).toEqual([[["01"], ["03"], ["8006"]]]);
    expect(serial.excludes).toEqual(["235"]);
    expect(entry("250").requires).toEqual([
      [
        ["01", "21"],
        ["03", "21"],
        ["8006", "21"],
      ],
    ]);
    expect(entry("8041").requires).toEqual([[["01", "21", "8040"]]]);
    expect(entry("3920").requires).toEqual([
      [
        ["01", "30"],
        ["01", "31nn"],
        ["01", "32nn"],
        ["01", "35nn"],
        ["01", "36nn"],
      ],
    ]);
  });

  it("reads optional components and multi-component specifications", () => {
    const gdti = entry("253");
    expect(gdti.components).toEqual([
      { type: "N", min: 13, max: 13, optional: false, linters: ["csum", "gcppos1"] },
      { type: "X", min: 1, max: 17, optional: true, linters: [] },
    ]);
    expect([gdti.minLength, gdti.maxLength]).toEqual([13, 30]);
    expect(gdti.dlPrimaryKey).toEqual([[]]);
    const country = entry("423");
    expect(country.components.map((c) => [c.optional, c.linters])).toEqual([
      [false, ["iso3166"]],
      [true, ["iso3166"]],
      [true, ["iso3166"]],
      [true, ["iso3166"]],
      [true, ["iso3166"]],
    ]);
    expect([country.minLength, country.maxLength]).toEqual([3, 15]);
    expect(entry("8008").components.map((c) => c.linters[0])).toEqual(["yymmdd", "hh", "mi", "ss"]);
    expect(entry("8010").components[0]!.type).toBe("Y");
    expect(entry("8030").components[0]!.type).toBe("Z");
  });

  it("derives the pre-defined length table of the General Specifications from the '*' flag", () => {
    const predefined = [...gs1Dictionary.entries.values()].filter((e) => e.predefinedLength);
    const byPrefix = new Map<string, Set<number>>();
    for (const e of predefined) {
      const prefix = e.ai.slice(0, 2);
      const lengths = byPrefix.get(prefix) ?? new Set<number>();
      lengths.add(e.ai.length + e.maxLength);
      byPrefix.set(prefix, lengths);
    }
    // GS1 General Specifications, "Element strings with pre-defined length using GS1 Application
    // Identifiers": first two digits → total length of AI + data (04, 14, 18, 19 are reserved and
    // have no AIs in the dictionary).
    expect(Object.fromEntries([...byPrefix].map(([k, v]) => [k, [...v]]))).toEqual({
      "00": [20],
      "01": [16],
      "02": [16],
      "03": [16],
      "11": [8],
      "12": [8],
      "13": [8],
      "15": [8],
      "16": [8],
      "17": [8],
      "20": [4],
      "31": [10],
      "32": [10],
      "33": [10],
      "34": [10],
      "35": [10],
      "36": [10],
      "41": [16],
    });
    // and nothing outside that table is marked pre-defined
    expect(entry("7001").predefinedLength).toBe(false); // fixed N13, but FNC1 still required
    expect(entry("8040").predefinedLength).toBe(false);
  });

  it("lists the Digital Link primary keys with their qualifier sequences", () => {
    const keys = Object.fromEntries([...gs1Dictionary.entries.values()].filter((e) => e.dlPrimaryKey).map((e) => [e.ai, e.dlPrimaryKey]));
    expect(keys).toEqual({
      "00": [[]],
      "01": [["22", "10", "21"], ["235"]],
      "253": [[]],
      "255": [[]],
      "401": [[]],
      "402": [[]],
      "414": [["254"], ["7040"]],
      "415": [["8020"]],
      "417": [["7040"]],
      "8003": [[]],
      "8004": [["7040"]],
      "8006": [["22", "10", "21"]],
      "8010": [["8011"]],
      "8013": [[]],
      "8017": [["8019"]],
      "8018": [["8019"]],
    });
  });

  it("has an implementation for every linter the dictionary names", () => {
    const named = new Set([...gs1Dictionary.entries.values()].flatMap((e) => e.components.flatMap((c) => c.linters)));
    expect([...named].filter((name) => !Object.hasOwn(LINTERS, name))).toEqual([]);
  });

  it("matches AI patterns with n as any digit", () => {
    expect(aiMatchesPattern("3101", "310n")).toBe(true);
    expect(aiMatchesPattern("3111", "310n")).toBe(false);
    expect(aiMatchesPattern("3512", "35nn")).toBe(true);
    expect(aiMatchesPattern("351", "35nn")).toBe(false);
    expect(aiMatchesPattern("01", "01")).toBe(true);
  });
});

describe("parseSyntaxDictionary is strict", () => {
  const parse = (text: string) => () => parseSyntaxDictionary(text);
  it("accepts a minimal well-formed dictionary", () => {
    const d = parseSyntaxDictionary("# comment\n\n10  ?  X..20  req=01  # BATCH/LOT\n01 *? N14,csum dlpkey=10 # GTIN\n");
    expect([...d.entries.keys()]).toEqual(["10", "01"]);
    expect(d.aiAt("0112345", 0)?.ai).toBe("01");
    expect(d.aiAt("xx10ABC", 2)?.ai).toBe("10");
    expect(d.aiAt("23ABC", 0)).toBeUndefined();
  });
  it("rejects an unknown attribute", () => expect(parse("10 ? X..20 foo=1 # X")).toThrow(/line 1: unknown attribute "foo=1"/));
  it("rejects a line without specification", () => expect(parse("10 ? req=01 # X")).toThrow(/no specification components/));
  it("rejects a variable-length component that is not last", () => expect(parse("10 X..20 N2 # X")).toThrow(/only the final component/));
  it("rejects a mandatory component after an optional one", () => expect(parse("10 N2 [N2] N2 # X")).toThrow(/mandatory component follows an optional/));
  it("rejects a pre-defined length AI of variable length", () => expect(parse("10 * X..20 # X")).toThrow(/pre-defined length AI must have a fixed length/));
  it("rejects a duplicate AI", () => expect(parse("10 X..20 # A\n10 X..20 # B")).toThrow(/line 2: AI 10 defined twice/));
  it("rejects a backwards AI range", () => expect(parse("3105-3100 N6 # X")).toThrow(/bad AI range/));
  it("rejects unbalanced brackets", () => expect(parse("10 N2 [N2 # X")).toThrow(/line 1/));
  it("rejects AIs that are prefixes of others", () => expect(parse("10 X..20 # A\n101 X..20 # B")).toThrow(/AI 10 is a prefix of AI 101/));
});
