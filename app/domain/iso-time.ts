/**
 * `Date.prototype.toISOString` for epoch milliseconds, several times faster when many times fall
 * on few days (an analysis prints the creation time of tens of thousands of items): the date part
 * is formatted once per day, the time of day by table lookups. The same string for every input —
 * outside years 0000–9999, or for a non-integer or non-finite value, it is `toISOString` itself.
 */
const DAY = 86_400_000;
const LAST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const days = new Map<number, string>();

export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY);
  let date = days.get(day);
  if (date === undefined) {
    if (days.size >= 100_000) days.clear();
    days.set(day, (date = new Date(day * DAY).toISOString().slice(0, 11)));
  }
  let rest = ms - day * DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${date}${TWO[hours]}:${TWO[minutes]}:${TWO[seconds]}.${THREE[rest - seconds * 1000]}Z`;
}
