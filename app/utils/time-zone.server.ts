import { canonicalTimeZone, TIME_ZONE_COOKIE } from "../domain/time-zone";

/** The reader's time zone from the request's cookie, by the runtime's name for it, when it knows one; else UTC. */
export function timeZoneOf(request: Request): string {
  const header = request.headers.get("Cookie") ?? "";
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at < 0 || pair.slice(0, at).trim() !== TIME_ZONE_COOKIE) continue;
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      return "UTC";
    }
    return canonicalTimeZone(value) ?? "UTC";
  }
  return "UTC";
}
