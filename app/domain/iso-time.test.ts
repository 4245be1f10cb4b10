import { describe, expect, it } from "vitest";
import { isoTime } from "./iso-time";

describe("isoTime", () => {
  it("prints exactly what toISOString prints", () => {
    const edges = [
      0,
      1,
      999,
      1000,
      59_999,
      86_399_999,
      86_400_000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2026, 9, 31, 12, 0, 0, 5),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    let seed = 42;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const samples = [...edges, ...Array.from({ length: 20_000 }, () => Math.floor(random() * Date.UTC(2100, 0, 1)))];
    for (const ms of samples) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it("falls back to toISOString outside its range, and throws where it throws", () => {
    for (const ms of [-1, -86_400_001, Date.UTC(10000, 0, 1), 1.5]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
