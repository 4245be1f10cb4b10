import { describe, expect, it } from "vitest";
import { cachedTimeZoneCount, formatInTimeZone } from "../domain/time-zone";
import { timeZoneOf } from "./time-zone.server";

const withCookie = (cookie?: string) => new Request("http://portal.test/", cookie === undefined ? {} : { headers: { Cookie: cookie } });

describe("the reader's time zone from the c981_tz cookie (ADR 031)", () => {
  it("reads a known IANA zone among other cookies", () => {
    expect(timeZoneOf(withCookie("__session=abc; c981_tz=Europe%2FBerlin; other=1"))).toBe("Europe/Berlin");
    expect(timeZoneOf(withCookie("c981_tz=America/New_York"))).toBe("America/New_York");
  });

  it("falls back to UTC without the cookie, for an unknown zone, hostile text or broken encoding", () => {
    expect(timeZoneOf(withCookie())).toBe("UTC");
    expect(timeZoneOf(withCookie("c981_tz=Mars%2FOlympus"))).toBe("UTC");
    expect(timeZoneOf(withCookie("c981_tz=%3Cscript%3E"))).toBe("UTC");
    expect(timeZoneOf(withCookie("c981_tz=%E0%A4%A"))).toBe("UTC");
    expect(timeZoneOf(withCookie("x_c981_tz=Europe%2FBerlin"))).toBe("UTC");
  });

  it("answers any spelling of a zone with the runtime's name, so a client's spellings never grow the cache", () => {
    expect(timeZoneOf(withCookie("c981_tz=eUrOpE%2FbErLiN"))).toBe("Europe/Berlin");
    expect(timeZoneOf(withCookie("c981_tz=utc"))).toBe("UTC");
    const at = new Date("2026-12-07T18:05:09.123Z");
    expect(formatInTimeZone(at, "Europe/Berlin")).toBe("2026-12-07 19:05:09 UTC+1");
    const cached = cachedTimeZoneCount();
    // 2^13 spellings of "Europe/Berlin" (every letter in either case): hand-built, not from the code.
    const letters = [..."europeberlin"];
    for (let mask = 0; mask < 2 ** letters.length; mask += 7) {
      const spelled = letters.map((c, i) => ((mask >> i) & 1 ? c.toUpperCase() : c));
      const zone = `${spelled.slice(0, 6).join("")}/${spelled.slice(6).join("")}`;
      expect(formatInTimeZone(at, timeZoneOf(withCookie(`c981_tz=${encodeURIComponent(zone)}`)))).toBe("2026-12-07 19:05:09 UTC+1");
      expect(formatInTimeZone(at, zone)).toBe("2026-12-07 19:05:09 UTC+1");
    }
    expect(cachedTimeZoneCount()).toBe(cached);
  });
});
