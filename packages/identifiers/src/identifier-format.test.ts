import { describe, expect, it } from "vitest";
import { formatsOverlap } from "./format-overlap";
import {
  describeFormat,
  identifierFormatSchema,
  matchesPattern,
  patternOverlap,
  patternSegmentSchema,
  type CharClass,
  type IdentifierFormat,
  type PatternSegment,
} from "./identifier-format.js";

const lit = (literal: string): PatternSegment => ({ literal });
const run = (charClass: CharClass, min: number, max = min): PatternSegment => ({ class: charClass, min, max });

const lotPattern = [lit("LOT-"), run("digit", 6), run("upperAlnum", 1, 3)];

// Independent oracle: the same pattern as a JavaScript RegExp.
const classRegex: Record<CharClass, string> = {
  digit: "[0-9]",
  upper: "[A-Z]",
  lower: "[a-z]",
  alpha: "[A-Za-z]",
  alnum: "[A-Za-z0-9]",
  upperAlnum: "[A-Z0-9]",
  hex: "[0-9A-F]",
};
function toRegExp(pattern: PatternSegment[]): RegExp {
  const escapeLiteral = (literal: string) => literal.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  const body = pattern.map((s) => ("literal" in s ? escapeLiteral(s.literal) : `${classRegex[s.class]}{${s.min},${s.max}}`));
  return new RegExp(`^${body.join("")}$`);
}

// mulberry32: a tiny seeded generator so failures reproduce.
function seededRandom(seed: number) {
  return (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

function issuesOf(input: unknown) {
  const result = identifierFormatSchema.safeParse(input);
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) ?? [];
}

describe("identifierFormatSchema", () => {
  it("accepts GS1 and pattern formats", () => {
    const formats: IdentifierFormat[] = [
      { kind: "gs1", ais: ["01", "21"] },
      { kind: "gs1", ais: ["00"] },
      { kind: "pattern", segments: lotPattern },
    ];
    for (const format of formats) expect(identifierFormatSchema.parse(format)).toEqual(format);
  });

  it("names the offending AI", () => {
    expect(issuesOf({ kind: "gs1", ais: ["01", "2x"] })).toEqual([{ path: "ais.1", message: "GS1 Application Identifier must be 2-4 digits" }]);
    expect(issuesOf({ kind: "gs1", ais: [] })[0]?.path).toBe("ais");
    expect(issuesOf({ kind: "gs1", ais: ["01", "01"] })[0]).toEqual({
      path: "ais",
      message: "GS1 Application Identifiers must not repeat",
    });
  });

  it("names the offending segment field", () => {
    const segments = (segment: unknown) => ({ kind: "pattern", segments: [lit("A"), segment] });
    expect(issuesOf(segments({ class: "digit", min: 4, max: 3 }))).toEqual([{ path: "segments.1.max", message: "max must be greater than or equal to min" }]);
    expect(issuesOf(segments({ class: "digit", min: 0, max: 3 }))[0]?.path).toBe("segments.1.min");
    expect(issuesOf(segments({ class: "digit", min: 1, max: 49 }))[0]?.path).toBe("segments.1.max");
    expect(issuesOf(segments({ class: "digit", min: 1.5, max: 2 }))[0]?.path).toBe("segments.1.min");
    expect(issuesOf(segments({ literal: "LOT NO" }))[0]?.path).toBe("segments.1.literal");
    expect(issuesOf(segments({ literal: "" }))[0]?.path).toBe("segments.1.literal");
    expect(issuesOf(segments({ literal: "x".repeat(33) }))[0]?.path).toBe("segments.1.literal");
    expect(issuesOf(segments({ class: "octal", min: 1, max: 1 }))[0]?.path).toBe("segments.1.class");
  });

  it("rejects patterns that are too long or have too many segments", () => {
    const tooLong = issuesOf({ kind: "pattern", segments: [run("digit", 48), run("upper", 48), lit("X")] });
    expect(tooLong).toEqual([{ path: "segments", message: "Pattern allows up to 97 characters; the limit is 96" }]);
    expect(issuesOf({ kind: "pattern", segments: Array.from({ length: 17 }, () => lit("A")) })[0]?.path).toBe("segments");
    expect(issuesOf({ kind: "pattern", segments: [] })[0]?.path).toBe("segments");
  });

  it("rejects unknown kinds and stray fields", () => {
    expect(issuesOf({ kind: "regex", source: ".*" })[0]?.path).toBe("kind");
    expect(issuesOf({ kind: "gs1", ais: ["01"], pattern: "x" })[0]?.path).toBe("");
  });

  it("exposes the segment schema on its own", () => {
    expect(patternSegmentSchema.safeParse({ literal: "-" }).success).toBe(true);
    expect(patternSegmentSchema.safeParse({ class: "hex", min: 2, max: 2 }).success).toBe(true);
    expect(patternSegmentSchema.safeParse({ literal: "-", min: 1 }).success).toBe(false);
  });
});

describe("describeFormat", () => {
  it("renders GS1 AIs and patterns", () => {
    expect(describeFormat({ kind: "gs1", ais: ["01", "21"] })).toBe("GS1 (01)+(21)");
    expect(describeFormat({ kind: "pattern", segments: lotPattern })).toBe('"LOT-" + 6 digit + 1-3 upperAlnum');
  });
});

describe("matchesPattern", () => {
  it("matches fixed and variable-length runs exactly", () => {
    expect(matchesPattern(lotPattern, "LOT-123456A")).toBe(true);
    expect(matchesPattern(lotPattern, "LOT-123456AB9")).toBe(true);
    expect(matchesPattern(lotPattern, "LOT-123456")).toBe(false);
    expect(matchesPattern(lotPattern, "LOT-123456ABCD")).toBe(false);
    expect(matchesPattern(lotPattern, "LOT-12345AB")).toBe(false);
    expect(matchesPattern(lotPattern, "lot-123456A")).toBe(false);
    expect(matchesPattern(lotPattern, " LOT-123456A")).toBe(false);
    expect(matchesPattern(lotPattern, "LOT-123456a")).toBe(false);
  });

  it("backtracks between adjacent runs that share characters", () => {
    // The digit run may end anywhere in 2..4; only the split leaving 2-3 digits for the hex run works.
    const pattern = [run("digit", 2, 4), run("hex", 2, 3)];
    expect(matchesPattern(pattern, "1234")).toBe(true);
    expect(matchesPattern(pattern, "1234567")).toBe(true);
    expect(matchesPattern(pattern, "12345678")).toBe(false);
    expect(matchesPattern(pattern, "12AB")).toBe(true);
    expect(matchesPattern(pattern, "123")).toBe(false);
  });

  it("respects each character class", () => {
    const cases: [CharClass, string, string][] = [
      ["digit", "09", "0A"],
      ["upper", "AZ", "Az"],
      ["lower", "az", "aZ"],
      ["alpha", "aZ", "a1"],
      ["alnum", "a1Z", "a-1"],
      ["upperAlnum", "A1Z", "a1Z"],
      ["hex", "09AF", "09AG"],
    ];
    for (const [charClass, good, bad] of cases) {
      expect(matchesPattern([run(charClass, good.length)], good), `${charClass} ${good}`).toBe(true);
      expect(matchesPattern([run(charClass, bad.length)], bad), `${charClass} ${bad}`).toBe(false);
    }
    expect(matchesPattern([run("hex", 2)], "af")).toBe(false);
  });

  it("agrees with an equivalent RegExp on random strings", () => {
    const pattern = [run("alpha", 1, 3), lit("-"), run("hex", 2, 4), run("digit", 1, 2), lit("-")];
    const regex = toRegExp(pattern);
    const chars = "aZ-0F9G";
    const random = seededRandom(7);
    for (let trial = 0; trial < 3000; trial++) {
      let s = "";
      for (let length = random(12); length > 0; length--) s += chars[random(chars.length)];
      expect(matchesPattern(pattern, s), s).toBe(regex.test(s));
    }
  });
});

describe("patternOverlap", () => {
  function expectWitness(a: PatternSegment[], b: PatternSegment[], witness: string) {
    const result = patternOverlap(a, b);
    expect(result).toEqual({ overlaps: true, witness });
    expect(matchesPattern(a, witness)).toBe(true);
    expect(matchesPattern(b, witness)).toBe(true);
    expect(patternOverlap(b, a)).toEqual(result);
  }

  it("finds a shortest witness matching both patterns", () => {
    expectWitness(lotPattern, [lit("LOT-"), run("alnum", 7, 9)], "LOT-0000000");
  });

  it("finds a witness where a literal meets a class run", () => {
    expectWitness([lit("S"), run("digit", 8)], [run("upperAlnum", 9)], "S00000000");
  });

  it("finds a witness where runs of different classes must agree on a split", () => {
    // Only hex letters satisfy both `upper` and `hex`, so the smallest is "A", not "0".
    expectWitness([run("digit", 1, 3), run("upper", 2)], [run("hex", 3, 5)], "0AA");
  });

  it("reports disjoint literal prefixes", () => {
    expect(patternOverlap([lit("LOT-"), run("digit", 6)], [lit("SN-"), run("digit", 7)])).toEqual({ overlaps: false });
  });

  it("reports disjoint lengths", () => {
    expect(patternOverlap([run("alnum", 1, 5)], [run("alnum", 6, 10)])).toEqual({ overlaps: false });
    expect(patternOverlap([lit("X"), run("digit", 8)], [run("upperAlnum", 10, 12)])).toEqual({ overlaps: false });
  });

  it("reports disjoint character classes", () => {
    expect(patternOverlap([run("digit", 8)], [run("upper", 8)])).toEqual({ overlaps: false });
    expect(patternOverlap([run("lower", 4)], [run("hex", 4)])).toEqual({ overlaps: false });
  });

  it("reports no overlap when a literal falls outside the other class", () => {
    expect(patternOverlap([lit("S-"), run("digit", 7)], [run("upperAlnum", 9)])).toEqual({ overlaps: false });
  });

  it("stays fast for maximum-size patterns", () => {
    const wide: PatternSegment[] = [run("alnum", 1, 48), run("alnum", 1, 48)];
    const segmented: PatternSegment[] = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? run("upperAlnum", 1, 6) : run("hex", 1, 6)));
    const started = performance.now();
    const overlap = patternOverlap(wide, segmented);
    // A lowercase tail no segment can produce forces the full product to be explored.
    const disjoint = patternOverlap([...segmented.slice(0, 15), run("lower", 1, 6)], [run("upperAlnum", 1, 48), run("upper", 1, 48)]);
    const elapsed = performance.now() - started;
    expect(overlap).toEqual({ overlaps: true, witness: "0".repeat(16) });
    expect(disjoint).toEqual({ overlaps: false });
    expect(elapsed).toBeLessThan(1000);
  });

  it("agrees with brute-force enumeration on small random patterns", () => {
    // Every class intersection and every literal used here has its smallest member in this
    // alphabet, so the true lexicographically-first shortest witness is enumerable from it.
    const alphabet = ["-", "0", "7", "A", "G", "a", "x"];
    const classes: CharClass[] = ["digit", "upper", "lower", "alpha", "alnum", "upperAlnum", "hex"];
    const literalChars = ["-", "7", "A", "x"];
    const random = seededRandom(981);
    const randomPattern = (): PatternSegment[] => {
      const segments: PatternSegment[] = [];
      for (let count = 1 + random(3); count > 0; count--) {
        if (random(3) === 0) segments.push(lit(literalChars[random(literalChars.length)]!));
        else {
          const min = 1 + random(2);
          segments.push(run(classes[random(classes.length)]!, min, min + random(2)));
        }
      }
      return segments;
    };
    const stringsUpTo = (length: number): string[] => {
      const byLength: string[][] = [[""]];
      for (let n = 1; n <= length; n++) byLength.push(byLength[n - 1]!.flatMap((prefix) => alphabet.map((c) => prefix + c)));
      return byLength.flat();
    };
    const candidates = stringsUpTo(5);
    const maxLength = (p: PatternSegment[]) => p.reduce((n, s) => n + ("literal" in s ? s.literal.length : s.max), 0);

    let overlapping = 0;
    for (let trial = 0; trial < 1000; trial++) {
      const a = randomPattern();
      const b = randomPattern();
      if (Math.max(maxLength(a), maxLength(b)) > 5) continue;
      const [regexA, regexB] = [toRegExp(a), toRegExp(b)];
      // Candidates are ordered by length, then lexicographically (alphabet is in code-unit order).
      const expected = candidates.find((s) => regexA.test(s) && regexB.test(s));
      const result = patternOverlap(a, b);
      const label = JSON.stringify({ a, b });
      if (expected === undefined) expect(result, label).toEqual({ overlaps: false });
      else {
        overlapping++;
        expect(result, label).toEqual({ overlaps: true, witness: expected });
      }
    }
    // Guards against the generator degenerating into only one outcome.
    expect(overlapping).toBeGreaterThan(50);
  });
});

describe("formatsOverlap", () => {
  it("decides pattern pairs", () => {
    expect(formatsOverlap({ kind: "pattern", segments: [lit("S"), run("digit", 8)] }, { kind: "pattern", segments: [run("upperAlnum", 9)] })).toEqual({
      overlaps: true,
      witness: "S00000000",
    });
  });

  it("decides pairs involving GS1 with a witness (look-alike.ts)", () => {
    const sgtin: IdentifierFormat = { kind: "gs1", ais: ["01", "21"] };
    const lgtin: IdentifierFormat = { kind: "gs1", ais: ["01", "10"] };
    expect(formatsOverlap(sgtin, { kind: "pattern", segments: lotPattern })).toEqual({ overlaps: false });
    expect(formatsOverlap({ kind: "pattern", segments: [run("digit", 16, 20)] }, sgtin)).toEqual({ overlaps: true, witness: "0109506000134352211" });
    expect(formatsOverlap(sgtin, sgtin)).toEqual({ overlaps: true, witness: "010950600013435221SER1" });
    expect(formatsOverlap(lgtin, sgtin)).toEqual({ overlaps: true, witness: "010950600013435210LOT121S" });
  });
});
