import { describe, expect, it } from "vitest";
import { checkComponentType, gs1CheckCharacterPair, gs1CheckDigit, runLinter, type ReferenceLists } from "./linters";

const lint = (name: string, data: string, lists: ReferenceLists = {}) => runLinter(name, data, lists);
const passes = (name: string, data: string, lists: ReferenceLists = {}) => expect(lint(name, data, lists).status, `${name}(${data})`).toBe("pass");
const detail = (name: string, data: string, lists: ReferenceLists = {}) => {
  const result = lint(name, data, lists);
  expect(result.status, `${name}(${data})`).toBe("fail");
  return result.status === "fail" ? result.detail : "";
};

describe("component types: N, X (CSET 82), Y (CSET 39), Z (CSET 64)", () => {
  it("N accepts digits only", () => {
    expect(checkComponentType("N", "0123456789").status).toBe("pass");
    const result = checkComponentType("N", "12A4");
    expect(result).toEqual({ status: "fail", rule: "charset", detail: "character 'A' at position 3 is not a digit" });
  });

  it("X is CSET 82: every one of the 82 characters passes, including % and quotes", () => {
    const cset82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    expect(cset82).toHaveLength(82);
    expect(checkComponentType("X", cset82).status).toBe("pass");
  });

  it("X rejects what CSET 82 leaves out, naming the character and position", () => {
    for (const c of [" ", "#", "$", "@", "[", "\\", "]", "^", "`", "{", "|", "}", "~"]) {
      const result = checkComponentType("X", `AB${c}`);
      expect(result.status, JSON.stringify(c)).toBe("fail");
    }
    expect(checkComponentType("X", "AB#")).toMatchObject({ detail: "character '#' at position 3 is not in CSET 82" });
    expect(checkComponentType("X", "A B")).toMatchObject({ detail: "character U+0020 at position 2 is not in CSET 82" });
    expect(checkComponentType("X", "A\u001dB")).toMatchObject({ detail: "character U+001D at position 2 is not in CSET 82" });
    expect(checkComponentType("X", "Aé")).toMatchObject({ detail: "character U+00E9 at position 2 is not in CSET 82" });
  });

  it("Y is CSET 39: # - / digits and upper case only", () => {
    expect(checkComponentType("Y", "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ").status).toBe("pass");
    expect(checkComponentType("Y", "ABCd")).toMatchObject({ detail: "character 'd' at position 4 is not in CSET 39" });
    expect(checkComponentType("Y", "AB.C")).toMatchObject({ detail: "character '.' at position 3 is not in CSET 39" });
  });

  it("Z is CSET 64 (base64url) with GS1's padding rule", () => {
    // GS1 reference linter lint_cset64.c vectors
    for (const ok of ["1", "12", "123", "12=", "1==", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789-_"]) {
      expect(checkComponentType("Z", ok).status, ok).toBe("pass");
    }
    for (const bad of ["===", "123=", "12==", "1===", "1234=", "12===", "="]) {
      expect(checkComponentType("Z", bad), bad).toMatchObject({ status: "fail", rule: "charset" });
    }
    expect(checkComponentType("Z", "AB+C")).toMatchObject({ detail: "character '+' at position 3 is not in CSET 64" });
    expect(checkComponentType("Z", "AB/C")).toMatchObject({ detail: "character '/' at position 3 is not in CSET 64" });
  });
});

describe("csum: GS1 mod-10 check digit", () => {
  it("computes the check digit of GS1's example keys", () => {
    expect(gs1CheckDigit("0950600013435")).toBe("2"); // GTIN 09506000134352
    expect(gs1CheckDigit("0061414112345")).toBe("2"); // GTIN 00614141123452
    expect(gs1CheckDigit("10614141234567890")).toBe("8"); // SSCC 106141412345678908
    expect(gs1CheckDigit("061414100000")).toBe("5"); // GLN 0614141000005
    expect(gs1CheckDigit("9638507")).toBe("4"); // GTIN-8 96385074
  });

  it("passes valid keys of every length the dictionary uses", () => {
    for (const key of ["96385074", "614141000005", "0614141000005", "09506000134352", "06141411234567890", "106141412345678908"]) passes("csum", key);
  });

  it("names the expected and the actual check digit", () => {
    expect(detail("csum", "09506000134353")).toBe("check digit should be 2, got 3");
    expect(detail("csum", "106141412345678900")).toBe("check digit should be 8, got 0");
    expect(lint("csum", "09506000134353")).toMatchObject({ rule: "check-digit" });
  });
});

describe("csumalpha: GS1 alphanumeric check character pair", () => {
  // Vectors from GS1's reference linter (lint_csumalpha.c); the first is the GMN example of the General Specifications.
  const good = [
    "1987654Ad4X4bL5ttr2310c2K",
    "12345678901234567890123NT",
    "12345_ABCDEFGHIJKLMCP",
    "12345_NOPQRSTUVWXYZDN",
    "12345_abcdefghijklmN3",
    "12345_nopqrstuvwxyzP2",
    "12345_!\"%&'()*+,-./LC",
    "12345_0123456789:;<=>?62",
    "7907665Bm8v2AB",
    "97850l6KZm0yCD",
    "225803106GSpEF",
    "149512464PM+GH",
    "00000!HV",
    "99999zzzzzzzzzzzzzzzzzzT2",
    "22",
    "!22",
  ];
  it.each(good)("accepts %s", (data) => passes("csumalpha", data));

  it("rejects wrong pairs, naming the expected pair", () => {
    expect(detail("csumalpha", "1987654Ad4X4bL5ttr2310cXK")).toBe("check character pair should be 2K, got XK");
    expect(detail("csumalpha", "1987654Ad4X4bL5ttr2310c2X")).toBe("check character pair should be 2K, got 2X");
    expect(detail("csumalpha", "33")).toBe("check character pair should be 22, got 33");
    expect(gs1CheckCharacterPair("1987654Ad4X4bL5ttr2310c")).toBe("2K");
  });

  it("rejects check characters outside CSET 32 and data outside CSET 82", () => {
    expect(detail("csumalpha", "12345678901234567890123 T")).toBe("check character U+0020 at position 24 is not in CSET 32");
    expect(detail("csumalpha", "1234567890123456789012310")).toBe("check character '1' at position 24 is not in CSET 32");
    expect(detail("csumalpha", " 2345678901234567890123NT")).toBe("character U+0020 at position 1 is not in CSET 82");
    expect(detail("csumalpha", "2")).toBe("1 character is too short for a check character pair");
  });
});

describe("dates", () => {
  it("yymmdd accepts real dates, leap days in years divisible by 4", () => {
    for (const d of ["000606", "250606", "990606", "200131", "200229", "240229", "000229", "960229", "201231", "210228"]) passes("yymmdd", d);
  });

  it("yymmdd names the bad month or day", () => {
    expect(detail("yymmdd", "201310")).toBe("201310 is not a valid date (month 13)");
    expect(detail("yymmdd", "200010")).toBe("200010 is not a valid date (month 00)");
    expect(detail("yymmdd", "200132")).toBe("200132 is not a valid date (day 32 of month 01)");
    expect(detail("yymmdd", "200431")).toBe("200431 is not a valid date (day 31 of month 04)");
    expect(detail("yymmdd", "210229")).toBe("210229 is not a valid date (day 29 of month 02)");
    expect(detail("yymmdd", "240230")).toBe("240230 is not a valid date (day 30 of month 02)");
    expect(detail("yymmdd", "200600")).toBe("200600 is not a valid date (day 00)");
    expect(detail("yymmdd", "20061")).toBe("20061 is not a date in YYMMDD format");
    expect(lint("yymmdd", "201310")).toMatchObject({ rule: "date" });
  });

  it("yymmd0 also allows day 00 (unspecified day), nothing else", () => {
    passes("yymmd0", "200600");
    passes("yymmd0", "261200");
    passes("yymmd0", "261231");
    expect(detail("yymmd0", "261332")).toBe("261332 is not a valid date (month 13)");
    expect(detail("yymmd0", "260230")).toBe("260230 is not a valid date (day 30 of month 02)");
    expect(detail("yymmd0", "260229")).toBe("260229 is not a valid date (day 29 of month 02)");
    expect(detail("yymmd0", "000000")).toBe("000000 is not a valid date (month 00)");
  });

  it("yyyymmdd uses the full Gregorian leap-year rule", () => {
    passes("yyyymmdd", "20000229");
    passes("yyyymmdd", "20240229");
    passes("yyyymmdd", "19991231");
    expect(detail("yyyymmdd", "19000229")).toBe("19000229 is not a valid date (day 29 of month 02)");
    expect(detail("yyyymmdd", "21000229")).toBe("21000229 is not a valid date (day 29 of month 02)");
    expect(detail("yyyymmdd", "20241301")).toBe("20241301 is not a valid date (month 13)");
    expect(detail("yyyymmdd", "20240100")).toBe("20240100 is not a valid date (day 00)");
    passes("yyyymmd0", "20240100");
  });

  it("yymmddhh checks the date and the hour", () => {
    passes("yymmddhh", "26123123");
    expect(detail("yymmddhh", "26123124")).toBe("24 is not a valid time (hour 24)");
    expect(detail("yymmddhh", "26133123")).toBe("261331 is not a valid date (month 13)");
  });
});

describe("times", () => {
  it("hhmi: hours 00-23, minutes 00-59", () => {
    for (const t of ["0000", "2359", "1200", "0959"]) passes("hhmi", t);
    expect(detail("hhmi", "2400")).toBe("2400 is not a valid time (hour 24)");
    expect(detail("hhmi", "1260")).toBe("1260 is not a valid time (minute 60)");
    expect(lint("hhmi", "2400")).toMatchObject({ rule: "time" });
    expect(detail("hhmm", "2400")).toBe("2400 is not a valid time (hour 24)"); // older dictionaries' name
  });

  it("hh, mi, ss", () => {
    passes("hh", "23");
    passes("mi", "59");
    passes("ss", "00");
    expect(detail("hh", "24")).toBe("24 is not a valid time (hour 24)");
    expect(detail("mi", "60")).toBe("60 is not a valid time (minute 60)");
    expect(detail("ss", "61")).toBe("61 is not a valid time (second 61)");
  });
});

describe("content linters", () => {
  it("nonzero, zero, yesno, winding, hyphen, hasnondigit, nozeroprefix, iso5218", () => {
    passes("nonzero", "0001");
    expect(detail("nonzero", "0000")).toBe("0000 must not be zero");
    passes("zero", "0");
    expect(detail("zero", "1")).toBe("1 must be 0");
    passes("yesno", "0");
    passes("yesno", "1");
    expect(detail("yesno", "2")).toBe("2 must be 0 (no) or 1 (yes)");
    for (const w of ["0", "1", "9"]) passes("winding", w);
    expect(detail("winding", "2")).toBe("2 is not a winding direction (0, 1 or 9)");
    passes("hyphen", "-");
    expect(detail("hyphen", "+")).toBe("+ may only contain '-'");
    passes("hasnondigit", "1234A");
    expect(detail("hasnondigit", "12345")).toBe("12345 must contain at least one non-digit character");
    passes("nozeroprefix", "1230");
    expect(detail("nozeroprefix", "0123")).toBe("0123 must not start with 0");
    expect(detail("nozeroprefix", "0")).toBe("0 must not start with 0");
    for (const s of ["0", "1", "2", "9"]) passes("iso5218", s);
    expect(detail("iso5218", "3")).toBe("3 is not an ISO/IEC 5218 code (0, 1, 2 or 9)");
  });

  it("importeridx: one character of - 0-9 A-Z _ a-z", () => {
    for (const c of ["-", "0", "9", "A", "Z", "_", "a", "z"]) passes("importeridx", c);
    for (const c of ["!", ".", "/", "AA", ""]) expect(lint("importeridx", c).status, c).toBe("fail");
  });

  it("mediatype: 01-10 and 80-99", () => {
    for (const m of ["01", "10", "80", "99"]) passes("mediatype", m);
    for (const m of ["00", "11", "79", "1", "AA"]) expect(lint("mediatype", m).status, m).toBe("fail");
  });

  it("latitude and longitude", () => {
    passes("latitude", "1800000000");
    passes("longitude", "3600000000");
    expect(detail("latitude", "1800000001")).toBe("latitude 1800000001 exceeds 1800000000");
    expect(detail("longitude", "3600000001")).toBe("longitude 3600000001 exceeds 3600000000");
  });

  it("pieceoftotal (reference vectors)", () => {
    for (const p of ["11", "13", "99", "0101", "0203", "9899", "001003", "999999"]) passes("pieceoftotal", p);
    expect(detail("pieceoftotal", "01")).toBe("piece number 0 must not be zero");
    expect(detail("pieceoftotal", "10")).toBe("total 0 must not be zero");
    expect(detail("pieceoftotal", "0908")).toBe("piece number 09 exceeds total 08");
    expect(detail("pieceoftotal", "111")).toBe("111 is not a piece number and total of equal width");
  });

  it("posinseqslash (reference vectors)", () => {
    for (const p of ["1/1", "2/3", "9/10", "100/100", "998/999"]) passes("posinseqslash", p);
    for (const p of ["", "/", "1", "1/", "/1", "1//2", "x/y"]) expect(detail("posinseqslash", p)).toBe(`${p} is not in <position>/<end> format`);
    expect(detail("posinseqslash", "01/2")).toBe("01/2: position and end must not be zero or start with 0");
    expect(detail("posinseqslash", "10/9")).toBe("10/9: position 10 exceeds end 9");
  });

  it("pcenc: every % starts a two-digit hex escape", () => {
    for (const p of ["", "ABC", "%00", "%ff", "ABC%20XYZ"]) passes("pcenc", p);
    expect(detail("pcenc", "ABC%fg")).toBe('invalid percent-encoding "%fg" at position 4');
    expect(detail("pcenc", "ABC%g")).toBe('invalid percent-encoding "%g" at position 4');
  });

  it("iban: ISO 13616 mod-97 check and an ISO 3166 alpha-2 country code", () => {
    // reference linter vectors
    for (const iban of [
      "FR7630006000011234567890189",
      "DE91100000000123456789",
      "GB98MIDL07009312345678",
      "BE71096123456769",
      "LC14BOSL123456789012345678901234",
    ]) {
      expect(lint("iban", iban), iban).toEqual({ status: "pass" });
    }
    // lint_iban.c: XX is no country, so the IBAN fails although its check digits are right.
    expect(detail("iban", "XX361234567890")).toBe("IBAN country code XX is not an ISO 3166 alpha-2 code");
    expect(detail("iban", "BE71096123456760")).toBe("IBAN check digits 71 are incorrect");
    expect(detail("iban", "BE71")).toBe("IBAN BE71 is too short");
    expect(detail("iban", "LC14BOSLxx3456789012345678901230")).toBe("IBAN character 'x' at position 9 is not 0-9 or A-Z");
    const lists = { iso3166Alpha2: new Set(["FR"]) };
    expect(detail("iban", "BE71096123456769", lists)).toBe("IBAN country code BE is not an ISO 3166 alpha-2 code");
  });
});

describe("list linters use the shipped lists; a list given replaces the shipped one", () => {
  it("ISO 3166, ISO 4217 and package types are checked against the shipped lists", () => {
    // Codes from ISO 3166-1 (Netherlands 528 / NL, Belgium 056), ISO 4217 (euro 978) and UN/ECE Rec. 21 (BX box).
    expect(lint("iso3166", "528")).toEqual({ status: "pass" });
    expect(detail("iso3166", "000")).toBe("000 is not an ISO 3166 numeric country code");
    passes("iso3166alpha2", "NL");
    expect(detail("iso3166alpha2", "UK")).toBe("UK is not an ISO 3166 alpha-2 country code");
    passes("iso4217", "978");
    expect(detail("iso4217", "001")).toBe("001 is not an ISO 4217 numeric currency code");
    passes("packagetype", "BX");
    expect(detail("packagetype", "B0")).toBe("B0 is not an UN/ECE Recommendation 21 (GS1 PackageTypeCode) package type code");
    passes("iso3166list", "528056");
  });

  it("with a list given, that list decides", () => {
    const lists: ReferenceLists = {
      iso3166Numeric: new Set(["528", "056"]),
      iso3166Alpha2: new Set(["NL"]),
      iso4217Numeric: new Set(["978"]),
      packageTypes: new Set(["BX"]),
    };
    passes("iso3166", "528", lists);
    expect(detail("iso3166", "999", lists)).toBe("999 is not an ISO 3166 numeric country code");
    passes("iso3166alpha2", "NL", lists);
    expect(detail("iso3166alpha2", "XX", lists)).toBe("XX is not an ISO 3166 alpha-2 country code");
    passes("iso4217", "978", lists);
    expect(detail("iso4217", "000", lists)).toBe("000 is not an ISO 4217 numeric currency code");
    passes("packagetype", "BX", lists);
    passes("iso3166list", "528056", lists);
    expect(detail("iso3166list", "528057", lists)).toBe("057 is not an ISO 3166 numeric country code");
  });

  it("iso3166999 accepts 999 (unknown country) besides the ISO codes", () => {
    passes("iso3166999", "999");
    passes("iso3166999", "528");
    expect(detail("iso3166999", "998")).toBe("998 is not an ISO 3166 numeric country code (or 999)");
  });

  it("the GS1 Company Prefix check is structural; the allocation lookup is reported as not done", () => {
    expect(lint("gcppos2", "09506000134352")).toEqual({ status: "pass", partial: "GS1 Company Prefix allocation not checked (no GCP directory at hand)" });
    expect(detail("gcppos1", "061A")).toBe("061A does not start with a GS1 Company Prefix (4 digits at position 1)");
    expect(detail("gcppos1", "061")).toBe("too short to contain a GS1 Company Prefix");
    expect(detail("gcppos2", "0ABC41")).toBe("0ABC41 does not start with a GS1 Company Prefix (4 digits at position 2)");
  });

  it("coupon linters and linters unknown to this module are not performed", () => {
    expect(lint("couponcode", "0")).toEqual({ status: "not-performed", reason: "the North American coupon code check (couponcode) is not implemented" });
    expect(lint("couponposoffer", "0").status).toBe("not-performed");
    expect(lint("somefuturelinter", "0")).toEqual({ status: "not-performed", reason: 'linter "somefuturelinter" is not implemented' });
    expect(lint("constructor", "0").status).toBe("not-performed");
  });
});
