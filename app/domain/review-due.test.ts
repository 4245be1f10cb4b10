import { describe, expect, it } from "vitest";
import { addWorkingDays, defaultReviewDue, isCalendarDate, isOverdue, latestReviewDue, todayIn, utcDate } from "./review-due";

describe("review due dates (ADR 031)", () => {
  it("counts working days Monday to Friday, skipping weekends", () => {
    // 2026-12-07 is a Monday (hand-checked on a calendar).
    expect(addWorkingDays("2026-12-07", 0)).toBe("2026-12-07");
    expect(addWorkingDays("2026-12-07", 2)).toBe("2026-12-09");
    expect(addWorkingDays("2026-12-07", 5)).toBe("2026-12-14");
    // Thursday + 2 → Monday; Friday + 1 → Monday.
    expect(addWorkingDays("2026-12-10", 2)).toBe("2026-12-14");
    expect(addWorkingDays("2026-12-11", 1)).toBe("2026-12-14");
    // Saturday and Sunday count from the next Monday.
    expect(addWorkingDays("2026-12-12", 1)).toBe("2026-12-14");
    expect(addWorkingDays("2026-12-13", 5)).toBe("2026-12-18");
    // Across a month and a year end.
    expect(addWorkingDays("2026-12-30", 5)).toBe("2027-01-06");
  });

  it("defaults to 5 working days, 2 when a regulatory reviewer is needed", () => {
    expect(defaultReviewDue("2026-12-07", false)).toBe("2026-12-14");
    expect(defaultReviewDue("2026-12-07", true)).toBe("2026-12-09");
  });

  it("marks overdue only after the due day", () => {
    expect(isOverdue("2026-12-07", "2026-12-07")).toBe(false);
    expect(isOverdue("2026-12-07", "2026-12-08")).toBe(true);
    expect(isOverdue(null, "2026-12-08")).toBe(false);
  });

  it("accepts real calendar dates only", () => {
    expect(isCalendarDate("2026-02-28")).toBe(true);
    expect(isCalendarDate("2026-02-30")).toBe(false);
    expect(isCalendarDate("2026-2-3")).toBe(false);
    expect(() => addWorkingDays("2026-13-01", 1)).toThrow(RangeError);
    expect(utcDate(new Date("2026-12-07T23:59:59.999Z"))).toBe("2026-12-07");
  });
});

describe("the latest due date accepted", () => {
  it("is 365 calendar days after today, across a leap day (hand-counted)", () => {
    expect(latestReviewDue("2026-12-07")).toBe("2027-12-07");
    // 2027-03-01 + 365 days: March 2027 … February 2028 has 366 days with 29 February 2028.
    expect(latestReviewDue("2027-03-01")).toBe("2028-02-29");
  });
});

describe("today is the reader's calendar date (their time zone), not UTC's", () => {
  it("in UTC-8 at 17:00 local it is still today, while UTC is already on the next day", () => {
    // 2026-12-07 17:00 in Los Angeles (PST, UTC-8 in December) = 2026-12-08 01:00 UTC (17 + 8 = 25 h).
    const at = new Date("2026-12-08T01:00:00Z");
    expect(utcDate(at)).toBe("2026-12-08");
    expect(todayIn(at, "America/Los_Angeles")).toBe("2026-12-07");
    expect(todayIn(at, "Etc/GMT+8")).toBe("2026-12-07"); // a fixed UTC-8 (POSIX sign: + is west)
    // The reader's own today is accepted and not overdue; the default counts from it (Mon + 5 → Mon).
    expect(isOverdue("2026-12-07", todayIn(at, "America/Los_Angeles"))).toBe(false);
    expect(isOverdue("2026-12-07", utcDate(at))).toBe(true);
    expect(defaultReviewDue(todayIn(at, "America/Los_Angeles"), false)).toBe("2026-12-14");
    // 23:59:59 local on the 7th is 07:59:59 UTC on the 8th; 00:00 local on the 8th is 08:00 UTC.
    expect(todayIn(new Date("2026-12-08T07:59:59Z"), "America/Los_Angeles")).toBe("2026-12-07");
    expect(todayIn(new Date("2026-12-08T08:00:00Z"), "America/Los_Angeles")).toBe("2026-12-08");
  });

  it("in UTC+14 the day starts at 10:00 UTC of the day before", () => {
    // Kiritimati is UTC+14 all year: 2026-12-07 10:00 UTC = 2026-12-08 00:00 local.
    expect(todayIn(new Date("2026-12-07T09:59:59Z"), "Pacific/Kiritimati")).toBe("2026-12-07");
    expect(todayIn(new Date("2026-12-07T10:00:00Z"), "Pacific/Kiritimati")).toBe("2026-12-08");
    // Across the year end: 2026-12-31 10:00 UTC is New Year's Day there.
    expect(todayIn(new Date("2026-12-31T10:00:00Z"), "Pacific/Kiritimati")).toBe("2027-01-01");
    expect(latestReviewDue(todayIn(new Date("2026-12-31T10:00:00Z"), "Pacific/Kiritimati"))).toBe("2028-01-01");
  });

  it("takes the zone in any letter case, and counts an unknown zone as UTC", () => {
    const at = new Date("2026-12-08T01:00:00Z");
    expect(todayIn(at, "america/los_angeles")).toBe("2026-12-07");
    expect(todayIn(at, "UTC")).toBe("2026-12-08");
    expect(todayIn(at, "Mars/Olympus_Mons")).toBe("2026-12-08");
    expect(todayIn(at, "")).toBe("2026-12-08");
  });
});
