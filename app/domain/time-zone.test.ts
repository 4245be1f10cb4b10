import { describe, expect, it } from "vitest";
import { formatInTimeZone, formatOffset, isTimeZone } from "./time-zone";

describe("times in the reader's time zone (ADR 031)", () => {
  it("drops milliseconds and names the offset; UTC stays UTC", () => {
    expect(formatInTimeZone("2026-12-07T17:05:09.123Z", "UTC")).toBe("2026-12-07 17:05:09 UTC");
    expect(formatInTimeZone(new Date("2026-12-07T17:05:09.999Z"), "Etc/UTC")).toBe("2026-12-07 17:05:09 UTC");
  });

  it("shows the wall clock of the zone, with its offset on that date (hand-checked against tz tables)", () => {
    // Berlin: CET (+1) in winter, CEST (+2) in summer.
    expect(formatInTimeZone("2026-12-07T17:05:09Z", "Europe/Berlin")).toBe("2026-12-07 18:05:09 UTC+1");
    expect(formatInTimeZone("2026-07-01T17:05:09Z", "Europe/Berlin")).toBe("2026-07-01 19:05:09 UTC+2");
    // New York crosses midnight backwards: EST (-5).
    expect(formatInTimeZone("2026-12-08T02:30:00Z", "America/New_York")).toBe("2026-12-07 21:30:00 UTC-5");
    // Half-hour offset: India +5:30; quarter-hour: Nepal +5:45.
    expect(formatInTimeZone("2026-12-07T20:00:00Z", "Asia/Kolkata")).toBe("2026-12-08 01:30:00 UTC+5:30");
    expect(formatInTimeZone("2026-12-07T00:00:00Z", "Asia/Kathmandu")).toBe("2026-12-07 05:45:00 UTC+5:45");
    // Midnight is 00, never 24 (hourCycle h23).
    expect(formatInTimeZone("2026-12-07T23:00:00Z", "Europe/Berlin")).toBe("2026-12-08 00:00:00 UTC+1");
  });

  it("falls back to UTC for an unknown or hostile zone", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("<script>")).toBe(false);
    expect(isTimeZone("")).toBe(false);
    expect(formatInTimeZone("2026-12-07T17:05:09Z", "Mars/Olympus")).toBe("2026-12-07 17:05:09 UTC");
  });

  it("formats offsets and keeps the ISO form for machines", () => {
    expect(formatOffset(0)).toBe("UTC");
    expect(formatOffset(-210)).toBe("UTC-3:30");
    expect(formatOffset(60)).toBe("UTC+1");
    expect(formatInTimeZone("not a time", "UTC")).toBe("not a time");
  });
});
