/**
 * Formatting shared by server render and hydration: fixed locale and UTC only, so the HTML the
 * server sends and what the browser renders are the same text.
 */

/** ISO 8601 in UTC with milliseconds, e.g. 2024-03-01T06:00:00.000Z. */
export function formatUtc(value: Date | string): string {
  const date = typeof value === "string" ? new Date(value) : value;
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

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
