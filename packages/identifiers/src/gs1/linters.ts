/**
 * Character sets and the "linters" named in the GS1 syntax dictionary.
 *
 * Behaviour follows GS1's reference linters (gs1/gs1-syntax-dictionary,
 * `src/lint_*.c`) and the GS1 General Specifications. The ISO 3166, ISO 4217
 * and package type lists ship with the module (`data/reference-lists.ts`, from
 * GS1's reference linters), so those checks are always performed; a caller may
 * pass a newer list in `ReferenceLists`. A linter whose reference is not at
 * hand (the GS1 Company Prefix allocation, the coupon rules) reports "not
 * performed" — it never passes silently. See ADR 012.
 */
import { ISO_3166_ALPHA2, ISO_3166_NUMERIC, ISO_4217_NUMERIC, PACKAGE_TYPES } from "./data/reference-lists";
import type { ComponentType } from "./syntax-dictionary";

export type Gs1Rule =
  | "syntax"
  | "unknown-ai"
  | "length"
  | "charset"
  | "check-digit"
  | "check-pair"
  | "date"
  | "time"
  | "format"
  | "requires"
  | "excludes"
  | "repeated"
  | "digsig-serial"
  | "separator"
  | "dl-primary-key"
  | "dl-qualifier"
  | "dl-attribute";

export type LintResult =
  | { status: "pass" /** Part of the check could not be done; says which. */; partial?: string }
  | { status: "fail"; rule: Gs1Rule; detail: string }
  | { status: "not-performed"; reason: string };

/**
 * Reference lists a caller may supply in place of the shipped ones (`BUILT_IN_REFERENCE_LISTS`),
 * e.g. a newer ISO 3166 release. A list given replaces the shipped list of that kind.
 */
export interface ReferenceLists {
  /** ISO 3166-1 numeric country codes, three digits ("528"). */
  iso3166Numeric?: ReadonlySet<string>;
  /** ISO 3166-1 alpha-2 country codes ("NL"). */
  iso3166Alpha2?: ReadonlySet<string>;
  /** ISO 4217 numeric currency codes, three digits ("978"). */
  iso4217Numeric?: ReadonlySet<string>;
  /** UN/ECE Recommendation 21 package type codes ("BX"), as used by AI (7041). */
  packageTypes?: ReadonlySet<string>;
}

export type Linter = (data: string, lists: ReferenceLists) => LintResult;

/** The lists shipped in `data/reference-lists.ts` (GS1's reference linters; see its README). */
export const BUILT_IN_REFERENCE_LISTS: Readonly<Required<ReferenceLists>> = {
  iso3166Numeric: new Set(ISO_3166_NUMERIC),
  iso3166Alpha2: new Set(ISO_3166_ALPHA2),
  iso4217Numeric: new Set(ISO_4217_NUMERIC),
  packageTypes: new Set(PACKAGE_TYPES),
};

const PASS: LintResult = { status: "pass" };
const fail = (rule: Gs1Rule, detail: string): LintResult => ({ status: "fail", rule, detail });

// ---------------------------------------------------------------------------
// Character sets (GS1 General Specifications, "GS1 AI encodable character set 82 / 39 / 64")
// ---------------------------------------------------------------------------

/** CSET 82: `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`. Notably absent: space # $ @ [ \ ] ^ ` { | } ~. */
export const CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
/** CSET 39: `#-/0-9A-Z`. */
export const CSET39 = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** CSET 64: file-safe / URI-safe base64 (RFC 4648 §5), with `=` padding handled separately. */
export const CSET64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** CSET 32, the check characters of `csumalpha`, ordered by value. */
const CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

const CSET82_SET = new Set(CSET82);
const CSET39_SET = new Set(CSET39);
const CSET64_SET = new Set(CSET64);

/** A character as shown in a message: printable ASCII quoted, anything else as U+XXXX. */
export function showChar(c: string): string {
  const code = c.codePointAt(0)!;
  return code >= 0x21 && code <= 0x7e ? `'${c}'` : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

const charAt = (data: string, index: number) => showChar(String.fromCodePoint(data.codePointAt(index)!));

const isDigits = (s: string) => /^[0-9]*$/.test(s);

function firstNotIn(data: string, set: ReadonlySet<string>): number {
  let i = 0;
  for (const c of data) {
    if (!set.has(c)) return i;
    i += c.length;
  }
  return -1;
}

function cset64(data: string): LintResult {
  let pads = 0;
  while (pads < data.length && data[data.length - 1 - pads] === "=") pads++;
  // GS1's reference: at most two pad characters, and padded data is a multiple of three long.
  if (pads > 2 || (pads > 0 && data.length % 3 !== 0)) {
    return fail("charset", `invalid CSET 64 padding (${pads} '=' in ${data.length} characters)`);
  }
  const bad = firstNotIn(data.slice(0, data.length - pads), CSET64_SET);
  return bad < 0 ? PASS : fail("charset", `character ${charAt(data, bad)} at position ${bad + 1} is not in CSET 64`);
}

/** Checks a component's data against its type (N, X, Y or Z). */
export function checkComponentType(type: ComponentType, data: string): LintResult {
  switch (type) {
    case "N": {
      const bad = data.search(/[^0-9]/);
      return bad < 0 ? PASS : fail("charset", `character ${charAt(data, bad)} at position ${bad + 1} is not a digit`);
    }
    case "X": {
      const bad = firstNotIn(data, CSET82_SET);
      return bad < 0 ? PASS : fail("charset", `character ${charAt(data, bad)} at position ${bad + 1} is not in CSET 82`);
    }
    case "Y": {
      const bad = firstNotIn(data, CSET39_SET);
      return bad < 0 ? PASS : fail("charset", `character ${charAt(data, bad)} at position ${bad + 1} is not in CSET 39`);
    }
    case "Z":
      return cset64(data);
  }
}

// ---------------------------------------------------------------------------
// Check digits
// ---------------------------------------------------------------------------

/** The GS1 mod-10 check digit for `body` (the digits before the check digit). */
export function gs1CheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) sum += (body.charCodeAt(i) - 48) * weight;
  return String((10 - (sum % 10)) % 10);
}

const csum: Linter = (data) => {
  if (!isDigits(data) || data.length < 1) return fail("charset", `check digit needs digits, got "${data}"`);
  const expected = gs1CheckDigit(data.slice(0, -1));
  const actual = data.slice(-1);
  return expected === actual ? PASS : fail("check-digit", `check digit should be ${expected}, got ${actual}`);
};

const CSUMALPHA_PRIMES = (() => {
  const primes: number[] = [];
  for (let n = 2; primes.length < 97; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  return primes;
})();

/** The GS1 alphanumeric check character pair for `body` (CSET 82 data), or null if `body` is too long. */
export function gs1CheckCharacterPair(body: string): string | null {
  if (body.length > CSUMALPHA_PRIMES.length) return null;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    sum += CSET82.indexOf(body[i]!) * CSUMALPHA_PRIMES[body.length - 1 - i]!;
  }
  sum %= 1021;
  return CSET32[sum >> 5]! + CSET32[sum & 31]!;
}

const csumalpha: Linter = (data) => {
  if (data.length < 2) return fail("check-pair", `${data.length} character${data.length === 1 ? "" : "s"} is too short for a check character pair`);
  const body = data.slice(0, -2);
  const bad = firstNotIn(body, CSET82_SET);
  if (bad >= 0) return fail("charset", `character ${showChar(body[bad]!)} at position ${bad + 1} is not in CSET 82`);
  const pair = data.slice(-2);
  for (const [k, c] of [...pair].entries()) {
    if (!CSET32.includes(c)) return fail("check-pair", `check character ${showChar(c)} at position ${data.length - 1 + k} is not in CSET 32`);
  }
  const expected = gs1CheckCharacterPair(body);
  if (expected === null) return { status: "not-performed", reason: `check character pair over more than ${CSUMALPHA_PRIMES.length} characters is not defined` };
  return expected === pair ? PASS : fail("check-pair", `check character pair should be ${expected}, got ${pair}`);
};

// ---------------------------------------------------------------------------
// Dates and times
// ---------------------------------------------------------------------------

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * `YYMMDD` / `YYYYMMDD`. Two-digit years: GS1 resolves the century with a
 * sliding window around the current year; for validity only February 29 of
 * YY = 00 depends on it, and every year the window gives for 00 until 2050
 * (2000) is a leap year, so YY % 4 === 0 decides without reading the clock.
 */
function dateLinter(digits: 6 | 8, allowDayZero: boolean): Linter {
  const shape = digits === 6 ? "YYMMDD" : "YYYYMMDD";
  return (data) => {
    if (data.length !== digits || !isDigits(data)) return fail("date", `${data} is not a date in ${shape} format`);
    const yearDigits = data.slice(0, digits - 4);
    const year = digits === 6 ? 2000 + Number(yearDigits) : Number(yearDigits);
    const month = Number(data.slice(digits - 4, digits - 2));
    const dayText = data.slice(digits - 2);
    const day = Number(dayText);
    if (month < 1 || month > 12) return fail("date", `${data} is not a valid date (month ${data.slice(digits - 4, digits - 2)})`);
    if (day === 0) return allowDayZero ? PASS : fail("date", `${data} is not a valid date (day 00)`);
    if (day > daysInMonth(year, month)) return fail("date", `${data} is not a valid date (day ${dayText} of month ${data.slice(digits - 4, digits - 2)})`);
    return PASS;
  };
}

function rangeLinter(label: string, max: number, rule: Gs1Rule): Linter {
  return (data) => {
    if (data.length !== 2 || !isDigits(data)) return fail(rule, `${data} is not a two-digit ${label}`);
    return Number(data) <= max ? PASS : fail(rule, `${data} is not a valid time (${label} ${data})`);
  };
}

const hhmi: Linter = (data) => {
  if (data.length !== 4 || !isDigits(data)) return fail("time", `${data} is not a time in HHMI format`);
  if (Number(data.slice(0, 2)) > 23) return fail("time", `${data} is not a valid time (hour ${data.slice(0, 2)})`);
  if (Number(data.slice(2)) > 59) return fail("time", `${data} is not a valid time (minute ${data.slice(2)})`);
  return PASS;
};

const yymmddhh: Linter = (data, lists) => {
  if (data.length !== 8) return fail("date", `${data} is not a date and hour in YYMMDDHH format`);
  const date = dateLinter(6, false)(data.slice(0, 6), lists);
  if (date.status !== "pass") return date;
  return rangeLinter("hour", 23, "time")(data.slice(6), lists);
};

// ---------------------------------------------------------------------------
// Other content linters
// ---------------------------------------------------------------------------

const nonzero: Linter = (data) => (/^0*$/.test(data) ? fail("format", `${data} must not be zero`) : PASS);
const zero: Linter = (data) => (data === "0" ? PASS : fail("format", `${data} must be 0`));
const yesno: Linter = (data) => (data === "0" || data === "1" ? PASS : fail("format", `${data} must be 0 (no) or 1 (yes)`));
const winding: Linter = (data) => (["0", "1", "9"].includes(data) ? PASS : fail("format", `${data} is not a winding direction (0, 1 or 9)`));
const hyphen: Linter = (data) => (/^-*$/.test(data) ? PASS : fail("format", `${data} may only contain '-'`));
const hasnondigit: Linter = (data) => (isDigits(data) ? fail("format", `${data} must contain at least one non-digit character`) : PASS);
const nozeroprefix: Linter = (data) => (data.startsWith("0") ? fail("format", `${data} must not start with 0`) : PASS);
const iso5218: Linter = (data) => (["0", "1", "2", "9"].includes(data) ? PASS : fail("format", `${data} is not an ISO/IEC 5218 code (0, 1, 2 or 9)`));

const importeridx: Linter = (data) => (/^[-0-9A-Za-z_]$/.test(data) ? PASS : fail("format", `${data} is not a valid importer index (one of - 0-9 A-Z _ a-z)`));

const mediatype: Linter = (data) => {
  const n = /^\d\d$/.test(data) ? Number(data) : -1;
  return (n >= 1 && n <= 10) || (n >= 80 && n <= 99) ? PASS : fail("format", `${data} is not an AIDC media type (01-10, 80-99)`);
};

function coordinate(label: string, max: string): Linter {
  return (data) => {
    if (data.length !== 10 || !isDigits(data)) return fail("format", `${label} ${data} must be 10 digits`);
    return data <= max ? PASS : fail("format", `${label} ${data} exceeds ${max}`);
  };
}

const pieceoftotal: Linter = (data) => {
  if (data.length === 0 || data.length % 2 !== 0 || !isDigits(data)) {
    return fail("format", `${data} is not a piece number and total of equal width`);
  }
  const piece = data.slice(0, data.length / 2);
  const total = data.slice(data.length / 2);
  if (/^0+$/.test(piece)) return fail("format", `piece number ${piece} must not be zero`);
  if (/^0+$/.test(total)) return fail("format", `total ${total} must not be zero`);
  return piece <= total ? PASS : fail("format", `piece number ${piece} exceeds total ${total}`);
};

const posinseqslash: Linter = (data) => {
  const match = /^(\d+)\/(\d+)$/.exec(data);
  if (!match) return fail("format", `${data} is not in <position>/<end> format`);
  const [, pos, end] = match as unknown as [string, string, string];
  if (pos.startsWith("0") || end.startsWith("0")) return fail("format", `${data}: position and end must not be zero or start with 0`);
  return BigInt(pos) <= BigInt(end) ? PASS : fail("format", `${data}: position ${pos} exceeds end ${end}`);
};

const pcenc: Linter = (data) => {
  for (let i = data.indexOf("%"); i >= 0; i = data.indexOf("%", i + 3)) {
    if (!/^%[0-9A-Fa-f]{2}$/.test(data.slice(i, i + 3))) {
      return fail("format", `invalid percent-encoding "${data.slice(i, i + 3)}" at position ${i + 1}`);
    }
  }
  return PASS;
};

function listLinter(label: string, pick: (lists: ReferenceLists) => ReadonlySet<string> | undefined, allow: readonly string[] = []): Linter {
  return (data, lists) => {
    if (allow.includes(data)) return PASS;
    const list = pick(lists) ?? pick(BUILT_IN_REFERENCE_LISTS)!;
    return list.has(data) ? PASS : fail("format", `${data} is not an ${label}`);
  };
}

const iso3166 = listLinter("ISO 3166 numeric country code", (l) => l.iso3166Numeric);
const iso3166999 = listLinter("ISO 3166 numeric country code (or 999)", (l) => l.iso3166Numeric, ["999"]);
const iso3166alpha2 = listLinter("ISO 3166 alpha-2 country code", (l) => l.iso3166Alpha2);
const iso4217 = listLinter("ISO 4217 numeric currency code", (l) => l.iso4217Numeric);
const packagetype = listLinter("UN/ECE Recommendation 21 (GS1 PackageTypeCode) package type code", (l) => l.packageTypes);

const iso3166list: Linter = (data, lists) => {
  if (data.length === 0 || data.length % 3 !== 0 || !isDigits(data)) return fail("format", `${data} is not a list of three-digit country codes`);
  for (let i = 0; i < data.length; i += 3) {
    const result = iso3166(data.slice(i, i + 3), lists);
    if (result.status !== "pass") return result;
  }
  return PASS;
};

const iban: Linter = (data, lists) => {
  if (data.length <= 10) return fail("format", `IBAN ${data} is too short`);
  const bad = data.search(/[^0-9A-Z]/);
  if (bad >= 0) return fail("format", `IBAN character ${showChar(data[bad]!)} at position ${bad + 1} is not 0-9 or A-Z`);
  const country = data.slice(0, 2);
  const countries = lists.iso3166Alpha2 ?? BUILT_IN_REFERENCE_LISTS.iso3166Alpha2;
  if (!countries.has(country)) return fail("format", `IBAN country code ${country} is not an ISO 3166 alpha-2 code`);
  // ISO 13616 / ISO 7064 MOD 97-10: move the first four characters to the end, letters A=10..Z=35.
  let remainder = 0;
  for (const c of data.slice(4) + data.slice(0, 4)) {
    const v = parseInt(c, 36);
    remainder = (v < 10 ? remainder * 10 + v : remainder * 100 + v) % 97;
  }
  if (remainder !== 1) return fail("check-digit", `IBAN check digits ${data.slice(2, 4)} are incorrect`);
  return PASS;
};

/** GS1's reference checks that a GS1 Company Prefix could start at `offset`: at least four digits. */
function gcpLinter(offset: number): Linter {
  return (data) => {
    const prefix = data.slice(offset, offset + 4);
    if (prefix.length < 4) return fail("format", `too short to contain a GS1 Company Prefix`);
    if (!isDigits(prefix)) return fail("format", `${data} does not start with a GS1 Company Prefix (4 digits at position ${offset + 1})`);
    return { status: "pass", partial: "GS1 Company Prefix allocation not checked (no GCP directory at hand)" };
  };
}

const notImplemented =
  (what: string): Linter =>
  () => ({ status: "not-performed", reason: `${what} is not implemented` });

export const LINTERS: Readonly<Record<string, Linter>> = {
  csum,
  csumalpha,
  yymmdd: dateLinter(6, false),
  yymmd0: dateLinter(6, true),
  yyyymmdd: dateLinter(8, false),
  yyyymmd0: dateLinter(8, true),
  yymmddhh,
  hhmi,
  hhmm: hhmi, // the older dictionaries' name for hhmi
  hh: rangeLinter("hour", 23, "time"),
  mi: rangeLinter("minute", 59, "time"),
  ss: rangeLinter("second", 59, "time"),
  nonzero,
  zero,
  yesno,
  winding,
  hyphen,
  hasnondigit,
  nozeroprefix,
  iso5218,
  importeridx,
  mediatype,
  latitude: coordinate("latitude", "1800000000"),
  longitude: coordinate("longitude", "3600000000"),
  pieceoftotal,
  posinseqslash,
  pcenc,
  iban,
  iso3166,
  iso3166999,
  iso3166alpha2,
  iso3166list,
  iso4217,
  packagetype,
  gcppos1: gcpLinter(0),
  gcppos2: gcpLinter(1),
  key: gcpLinter(0), // the older dictionaries' name for gcppos1
  cset82: (data) => checkComponentType("X", data),
  cset39: (data) => checkComponentType("Y", data),
  cset64,
  csetnumeric: (data) => checkComponentType("N", data),
  couponcode: notImplemented("the North American coupon code check (couponcode)"),
  couponposoffer: notImplemented("the positive offer file coupon check (couponposoffer)"),
};

export function runLinter(name: string, data: string, lists: ReferenceLists): LintResult {
  const linter = Object.hasOwn(LINTERS, name) ? LINTERS[name] : undefined;
  if (!linter) return { status: "not-performed", reason: `linter "${name}" is not implemented` };
  return linter(data, lists);
}
