/**
 * The raw-scan fast path (parse.ts, `parseAiData`) against its oracle, the full enumeration of every
 * cut (`parseAiDataExhaustively`): on generated AI data — GS1 keys and attributes that make
 * look-alikes (variable-length fields holding digits that start AIs, (9x) internal AIs, (3xxx)
 * measures, fields with and without FNC1 separators) — both give the same result, value for value.
 */
import { describe, expect, it } from "vitest";
import { GS, gs1Dictionary } from "./index";
import { hasOnlyTheConformantCut, parseAiDataExhaustively, parseScan } from "./parse";

function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return body + String((10 - (sum % 10)) % 10);
}

const SEED = Number(process.env.C981_FAST_PATH_SEED ?? 20261208);
const CASES = 8_000;

function generate(next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(next() * 10))).join("");
  const text = (n: number) => Array.from({ length: n }, () => pick([..."0123456789ABCLSX-/"])).join("");
  const elements: Record<string, () => string> = {
    "01": () => withCheckDigit(`0${digits(12)}`),
    "00": () => withCheckDigit(digits(17)),
    "02": () => withCheckDigit(`0${digits(12)}`),
    "10": () => (next() < 0.5 ? `L${digits(1 + Math.floor(next() * 7))}` : text(1 + Math.floor(next() * 12))),
    "21": () => (next() < 0.5 ? `S${digits(1 + Math.floor(next() * 8))}` : digits(1 + Math.floor(next() * 14))),
    "17": () => `2${digits(1)}${pick(["01", "06", "12", "13"])}${pick(["00", "15", "31", "32"])}`,
    "11": () => `2${digits(1)}0${1 + Math.floor(next() * 9)}1${Math.floor(next() * 9)}`,
    "3103": () => digits(6),
    "37": () => digits(1 + Math.floor(next() * 8)),
    "91": () => text(1 + Math.floor(next() * 10)),
    "99": () => digits(1 + Math.floor(next() * 6)),
    "240": () => text(1 + Math.floor(next() * 10)),
    "8003": () => `0${withCheckDigit(digits(12))}${next() < 0.5 ? "" : text(1 + Math.floor(next() * 6))}`,
    "400": () => text(1 + Math.floor(next() * 10)),
  };
  const ais = Object.keys(elements);
  const count = 1 + Math.floor(next() * 4);
  let data = "";
  for (let i = 0; i < count; i++) {
    const ai = pick(ais);
    data += ai + elements[ai]!();
    // A separator after a field most of the time, missing sometimes, doubled or trailing rarely.
    if (i < count - 1) {
      const r = next();
      if (r < 0.6) data += GS;
      else if (r < 0.62) data += GS + GS;
    } else if (next() < 0.03) data += GS;
  }
  if (next() < 0.05) data = data.slice(0, Math.floor(next() * data.length));
  if (next() < 0.03) data = GS + data;
  return data;
}

describe("raw GS1 scans: the fast path equals the full enumeration", () => {
  it(`on ${CASES.toLocaleString("en")} generated strings (seed ${SEED})`, () => {
    const next = random(SEED);
    const statuses = { valid: 0, ambiguous: 0, invalid: 0 };
    let fast = 0;
    for (let i = 0; i < CASES; i++) {
      const data = generate(next);
      for (const options of [{ maxReadings: 64 }, {}]) {
        const fastResult = parseScan(gs1Dictionary, data, options);
        const oracle = parseAiDataExhaustively(gs1Dictionary, data.startsWith(GS) ? data : data, options);
        // The oracle's input is the same data: the results must agree in every member.
        expect({ case: i, seed: SEED, data, result: fastResult }).toEqual({ case: i, seed: SEED, data, result: oracle });
      }
      const result = parseScan(gs1Dictionary, data, { maxReadings: 64 });
      statuses[result.status]++;
      if (hasOnlyTheConformantCut(gs1Dictionary, data.startsWith(GS) ? data.slice(1) : data)) fast++;
    }
    // The generator reaches every outcome, and the fast path is taken often but not always.
    expect(statuses.valid).toBeGreaterThan(CASES / 10);
    expect(statuses.ambiguous).toBeGreaterThan(CASES / 40);
    expect(statuses.invalid).toBeGreaterThan(CASES / 20);
    expect(fast).toBeGreaterThan(CASES / 10);
    expect(fast).toBeLessThan(CASES * 0.9);
  }, 180_000);

  it("hand-picked cases: a lot holding (95), a serial holding (12) too short to read, an SSCC alone", () => {
    expect(hasOnlyTheConformantCut(gs1Dictionary, "010087123400028510L10954")).toBe(false);
    expect(parseScan(gs1Dictionary, "]C1010087123400028510L10954").status).toBe("ambiguous");
    expect(hasOnlyTheConformantCut(gs1Dictionary, "0109506000134352" + "21S123456")).toBe(true);
    expect(parseScan(gs1Dictionary, "010950600013435221S123456")).toEqual(parseAiDataExhaustively(gs1Dictionary, "010950600013435221S123456"));
    expect(hasOnlyTheConformantCut(gs1Dictionary, "00008712340077681516")).toBe(true);
  });
});
