/**
 * Times in the reader's time zone (ADR 031), the same text on the server and in the browser: only
 * numeric date parts come from Intl — zone abbreviations differ between ICU builds (Node's and the
 * browser's), offsets do not. Pure: no I/O.
 */

/** The cookie the browser's one-line script sets to its IANA time zone (root.tsx). */
export const TIME_ZONE_COOKIE = "c981_tz";

const toDate = (value: Date | string) => (typeof value === "string" ? new Date(value) : value);

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * The runtime's own name of this IANA time zone ("europe/berlin" → "Europe/Berlin"), or null when
 * it knows none by that name. Intl accepts any letter case and old aliases: keyed by what a cookie
 * says, a cache would grow with every spelling a client sends; keyed by this name it holds at most
 * one entry per zone the runtime knows.
 */
export function canonicalTimeZone(value: string): string | null {
  if (zoneFormats.has(value)) return value;
  if (value.length === 0 || value.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(value)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Whether the runtime knows this IANA time zone (a cookie's value is checked before use). */
export function isTimeZone(value: string): boolean {
  return canonicalTimeZone(value) !== null;
}

/** How many zones have a cached format (bounded by the zones the runtime knows). */
export const cachedTimeZoneCount = () => zoneFormats.size;

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    zoneFormats.set(timeZone, format);
  }
  return format;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "UTC", "UTC+1", "UTC-3:30" for an offset in minutes east of UTC. */
export function formatOffset(minutes: number): string {
  if (minutes === 0) return "UTC";
  const sign = minutes > 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  const hours = Math.floor(abs / 60);
  const rest = abs % 60;
  return `UTC${sign}${hours}${rest ? `:${pad(rest)}` : ""}`;
}

/**
 * A point in time in `timeZone`, to the second, with the offset it had there:
 * "2026-12-07 18:05:09 UTC+1" (milliseconds dropped; the ISO string is in the element's title).
 * An unknown zone falls back to UTC.
 */
export function formatInTimeZone(value: Date | string, timeZone: string): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const zone = canonicalTimeZone(timeZone) ?? "UTC";
  const parts: Record<string, number> = {};
  for (const part of zoneFormat(zone).formatToParts(date)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const offset = Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
  return `${String(year).padStart(4, "0")}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)} ${formatOffset(offset)}`;
}
