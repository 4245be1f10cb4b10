/**
 * When a change request's review should be done (ADR 031). The author picks the date at submit;
 * the form offers a default by how much is at stake: a request that needs a regulatory reviewer
 * (a downgrade, or a material of the highest risk class — policies/approval.ts) gets
 * URGENT_WORKING_DAYS, any other STANDARD_WORKING_DAYS. Working days are Monday to Friday; there
 * is no holiday calendar. Dates are calendar dates (YYYY-MM-DD); "today" — the earliest due date a
 * submit accepts, the day the default and the latest date count from, the day after which a review
 * is overdue — is the reader's own calendar date in their time zone (todayIn), not UTC's: at
 * 17:00 in UTC-8 it is already tomorrow in UTC. Pure: no I/O.
 */

import { canonicalTimeZone, formatInTimeZone } from "./time-zone";

export const STANDARD_WORKING_DAYS = 5;
export const URGENT_WORKING_DAYS = 2;
/**
 * The latest due date accepted: this many calendar days after today. A due date years away (the
 * form took 9999-12-31) would keep a review from ever showing overdue on the reviewer's dashboard.
 */
export const LATEST_DUE_CALENDAR_DAYS = 365;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC calendar date of an instant, YYYY-MM-DD. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The calendar date of an instant in this IANA time zone, YYYY-MM-DD: the reader's "today". A zone
 * the runtime does not know counts as UTC (as the reader's times do: time-zone.ts).
 */
export function todayIn(at: Date, timeZone: string): string {
  const zone = canonicalTimeZone(timeZone);
  if (zone === null || Number.isNaN(at.getTime())) return utcDate(at);
  // "YYYY-MM-DD hh:mm:ss UTC±h": the date part, from Intl's numeric parts only.
  return formatInTimeZone(at, zone).slice(0, 10);
}

function parse(date: string): Date {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (utcDate(d) !== date) throw new RangeError(`not a calendar date: ${date}`);
  return d;
}

/** Whether the text is a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(date: string): boolean {
  try {
    parse(date);
    return true;
  } catch {
    return false;
  }
}

/** `days` working days (Mon–Fri) after `from`; a weekend `from` counts from the next Monday. */
export function addWorkingDays(from: string, days: number): string {
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`working days must be a whole number ≥ 0: ${days}`);
  const d = parse(from);
  let left = days;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    const weekday = d.getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  return utcDate(d);
}

/** The latest due date a review submitted on `today` may be given (LATEST_DUE_CALENDAR_DAYS later). */
export function latestReviewDue(today: string): string {
  const d = parse(today);
  d.setUTCDate(d.getUTCDate() + LATEST_DUE_CALENDAR_DAYS);
  return utcDate(d);
}

/** The default due date of a review submitted on `submittedOn` (the author's date: todayIn). */
export function defaultReviewDue(submittedOn: string, needsRegulatoryReview: boolean): string {
  return addWorkingDays(submittedOn, needsRegulatoryReview ? URGENT_WORKING_DAYS : STANDARD_WORKING_DAYS);
}

/** Overdue: the due date has passed (the due day itself is still in time). */
export function isOverdue(dueOn: string | null, today: string): boolean {
  return dueOn !== null && dueOn < today;
}
