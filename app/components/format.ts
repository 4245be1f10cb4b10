/**
 * Formatting shared by server render and hydration: a fixed locale and a time zone both sides are
 * given (the reader's, from the root loader — ADR 031), so the HTML the server sends and what the
 * browser renders are the same text. Only numeric date parts come from Intl: zone abbreviations
 * differ between ICU builds (Node's and the browser's), offsets do not.
 */

const toDate = (value: Date | string) => (typeof value === "string" ? new Date(value) : value);

/** ISO 8601 in UTC with milliseconds, e.g. 2024-03-01T06:00:00.000Z. */
export function formatUtc(value: Date | string): string {
  const date = toDate(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

export { formatInTimeZone, formatOffset, isTimeZone } from "../domain/time-zone";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** A numeric(18,6) as stored ("12.500000") without its trailing zeros ("12.5"). */
export function formatQuantity(value: string): string {
  if (!value.includes(".")) return value;
  return value.replace(/\.?0+$/, "");
}

/** The first 12 hex digits: enough to tell digests apart on a screen, never to verify one. */
export function shortDigest(digest: string): string {
  return digest.slice(0, 12);
}
