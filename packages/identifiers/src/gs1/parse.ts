/**
 * Reading GS1 data in its three written forms:
 *
 * - bracketed element strings, `(01)09506000134352(10)ABC123` (a literal `(`
 *   in a value is written `\(`);
 * - raw scans, the bytes a scanner sends: an optional symbology identifier
 *   (`]C1`, `]e0`, `]d2`, `]Q3`, `]J1`; `]E0`/`]E4` for EAN-13/EAN-8; a plain
 *   `]Q1`/`]d1` code carrying a Digital Link URI) and AI data with FNC1 sent as
 *   GS (U+001D);
 * - GS1 Digital Link URIs, `https://id.gs1.org/01/09506000134352/10/ABC123?17=261231`.
 *
 * Raw scans are the only form without explicit field boundaries. An AI of
 * pre-defined length (flag `*` in the dictionary) needs no separator; any
 * other field runs to the next GS or the end of the data. When a field is not
 * terminated where it should be, the same bytes can read more than one valid
 * way; we enumerate every valid reading and answer `ambiguous` rather than
 * pick one.
 */
import { classifyElements, type Gs1Classification, type IdentifierKind } from "./classify";
import type { ReferenceLists } from "./linters";
import type { AiEntry, Gs1SyntaxDictionary } from "./syntax-dictionary";
import { validateElements, validateValue, type Gs1Element, type Gs1Issue, type Gs1NotPerformed } from "./validate";

/** ASCII group separator: how scanners transmit FNC1 used as a field separator. */
export const GS = "\u001d";

export type Gs1Syntax = "bracketed" | "scan" | "digital-link";

export interface Gs1ReadElement extends Gs1Element {
  title: string;
}

export interface Gs1Reading {
  elements: Gs1ReadElement[];
  /** The reading as a bracketed element string, e.g. `(01)09506000134352(10)ABC123`. */
  elementString: string;
  classification: Gs1Classification;
  /** Dictionary checks not performed (or only partly) for this reading. */
  notPerformed: Gs1NotPerformed[];
  /**
   * Raw scans: whether a conformant GS1 decoder reads the data this way (every
   * field not of pre-defined length runs to a GS or the end). Always true for
   * bracketed input and Digital Link URIs.
   */
  standard: boolean;
}

export interface DigitalLinkParts {
  /** Scheme, domain and any path before the primary key, e.g. `https://id.gs1.org`. */
  stem: string;
  primaryKey: string;
  /** Key qualifier AIs in path order. */
  qualifiers: string[];
  /** Data attribute AIs from the query string, in order. */
  attributes: string[];
  /** Query parameters that are not AIs (e.g. `linkType`): kept, not validated. */
  otherParameters: [string, string][];
}

interface ResultBase {
  input: string;
  syntax: Gs1Syntax;
  /** The symbology identifier of a raw scan (`]d2`), or null. */
  symbology: string | null;
}

export type Gs1Result =
  | (ResultBase & { status: "valid"; reading: Gs1Reading; digitalLink?: DigitalLinkParts })
  | (ResultBase & { status: "invalid"; errors: Gs1Issue[]; elements: Gs1ReadElement[]; digitalLink?: DigitalLinkParts })
  | (ResultBase & {
      status: "ambiguous";
      /** Every valid reading (the conformant decoder's reading first, when it is valid). */
      readings: Gs1Reading[];
      /** The distinct kinds the readings identify; more than one is the look-alike hazard. */
      kinds: IdentifierKind[];
      /** True when more readings exist than `maxReadings`. */
      truncated: boolean;
      message: string;
    });

export interface Gs1ParseOptions {
  /** Country, currency and package-type lists replacing the shipped ones (e.g. a newer ISO 3166 release). */
  referenceLists?: ReferenceLists;
  /** Upper bound on the raw-scan readings enumerated and returned (default 16, at least 2). */
  maxReadings?: number;
  /**
   * Raw scans: read only as a conformant decoder does (each field not of pre-defined length runs
   * to the next GS or the end) instead of also looking for readings a missing GS would give.
   * Default false. Only for a caller that knows its scanners transmit every FNC1 as GS and its
   * label formats are free of look-alikes; with it, `(10)LOT121SER1` scanned raw is one lot.
   */
  trustSeparators?: boolean;
  /**
   * Digital Link URIs: read a GTIN-8, -12 or -13 given for AI (01) as the GTIN-14 with leading
   * zeros. Default false: GS1 deprecates zero-suppressed GTINs in Digital Link URIs and GS1's
   * engine reads them only when asked (`setPermitZeroSuppressedGTINinDLuris`), so by default such
   * a URI is invalid (AI (01) needs 14 digits). Callers reading partners' or legacy URIs may turn
   * it on; see ADR 012 for which do.
   */
  expandShortGtin?: boolean;
}

const DEFAULT_MAX_READINGS = 16;

/**
 * The most work (cuts tried plus elements copied into readings) the enumeration of a raw scan's
 * readings does before it stops and says the data was not read in full (`truncated`): far above
 * any real label (tens to hundreds), far below what a hostile string of hundreds of digits costs.
 */
export const MAX_ENUMERATION_WORK = 2_000;

/** Writes elements as a bracketed element string, escaping `(` in values. */
export function toElementString(elements: readonly Gs1Element[]): string {
  return elements.map(({ ai, value }) => `(${ai})${value.replaceAll("(", "\\(")}`).join("");
}

function readElements(dictionary: Gs1SyntaxDictionary, elements: readonly Gs1Element[]): Gs1ReadElement[] {
  return elements.map(({ ai, value }) => ({ ai, value, title: dictionary.entries.get(ai)?.title ?? "" }));
}

function makeReading(dictionary: Gs1SyntaxDictionary, elements: readonly Gs1Element[], notPerformed: Gs1NotPerformed[], standard: boolean): Gs1Reading {
  return {
    elements: readElements(dictionary, elements),
    elementString: toElementString(elements),
    classification: classifyElements(elements),
    notPerformed,
    standard,
  };
}

/** Validates explicitly delimited elements (bracketed or Digital Link) and builds the result. */
function finish(
  dictionary: Gs1SyntaxDictionary,
  base: ResultBase,
  elements: readonly Gs1Element[],
  structuralErrors: Gs1Issue[],
  options: Gs1ParseOptions,
  digitalLink?: DigitalLinkParts,
): Gs1Result {
  const validation = validateElements(dictionary, elements, options.referenceLists);
  const errors = [...structuralErrors, ...validation.errors];
  const extra = digitalLink ? { digitalLink } : {};
  if (errors.length > 0) return { ...base, status: "invalid", errors, elements: readElements(dictionary, elements), ...extra };
  return {
    ...base,
    status: "valid",
    reading: makeReading(dictionary, elements, validation.notPerformed, true),
    ...extra,
  };
}

const syntaxError = (message: string, ai: string | null = null): Gs1Issue => ({ ai, rule: "syntax", message });

function invalid(base: ResultBase, errors: Gs1Issue[], elements: Gs1ReadElement[] = []): Gs1Result {
  return { ...base, status: "invalid", errors, elements };
}

// ---------------------------------------------------------------------------
// Bracketed element strings
// ---------------------------------------------------------------------------

export function parseBracketed(dictionary: Gs1SyntaxDictionary, input: string, options: Gs1ParseOptions = {}): Gs1Result {
  const base: ResultBase = { input, syntax: "bracketed", symbology: null };
  if (!input.startsWith("(")) return invalid(base, [syntaxError("a bracketed element string starts with '(' and an AI")]);
  const elements: Gs1Element[] = [];
  let i = 0;
  while (i < input.length) {
    const close = input.indexOf(")", i);
    const ai = close < 0 ? "" : input.slice(i + 1, close);
    if (!/^\d{2,4}$/.test(ai)) {
      return invalid(base, [syntaxError(`expected an AI of 2 to 4 digits in brackets at position ${i + 1}`)], readElements(dictionary, elements));
    }
    i = close + 1;
    let value = "";
    while (i < input.length && input[i] !== "(") {
      if (input[i] === "\\" && input[i + 1] === "(") {
        value += "(";
        i += 2;
      } else {
        value += input[i];
        i += 1;
      }
    }
    elements.push({ ai, value });
  }
  return finish(dictionary, base, elements, [], options);
}

// ---------------------------------------------------------------------------
// Raw scans
// ---------------------------------------------------------------------------

const AI_SYMBOLOGIES: Readonly<Record<string, string>> = {
  "]C1": "GS1-128",
  "]e0": "GS1 DataBar / composite",
  "]d2": "GS1 DataMatrix",
  "]Q3": "GS1 QR Code",
  "]J1": "GS1 DotCode",
};

/** Plain (non-GS1-mode) 2D codes: they carry GS1 data only as a Digital Link URI. */
const URI_SYMBOLOGIES: Readonly<Record<string, string>> = {
  "]d1": "Data Matrix",
  "]Q1": "QR Code",
  "]J0": "DotCode",
};

interface Piece extends Gs1Element {
  /** True when this field ends without a separator although its length is not pre-defined. */
  split: boolean;
}

interface StandardParse {
  pieces: Piece[];
  errors: Gs1Issue[];
}

/** What a conformant decoder does: fields not of pre-defined length run to the next GS or the end. */
function standardParse(dictionary: Gs1SyntaxDictionary, data: string): StandardParse {
  const pieces: Piece[] = [];
  const errors: Gs1Issue[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === GS) {
      errors.push(syntaxError(`empty field: two separators in a row at position ${pos + 1} of the data`));
      pos += 1;
      continue;
    }
    const entry = dictionary.aiAt(data, pos);
    if (!entry) {
      const around = JSON.stringify(data.slice(pos, pos + 6).replaceAll(GS, "<GS>"));
      errors.push({ ai: null, rule: "unknown-ai", message: `no GS1 AI at position ${pos + 1} of the data (${around})` });
      break;
    }
    const start = pos + entry.ai.length;
    const gs = data.indexOf(GS, start);
    const end = gs < 0 ? data.length : gs;
    if (entry.predefinedLength) {
      const length = Math.min(entry.maxLength, end - start);
      pieces.push({ ai: entry.ai, value: data.slice(start, start + length), split: false });
      pos = start + length;
      if (data[pos] === GS) pos += 1; // a redundant separator after a pre-defined length field is tolerated
    } else {
      pieces.push({ ai: entry.ai, value: data.slice(start, end), split: false });
      pos = end === data.length ? end : end + 1;
    }
  }
  return { pieces, errors };
}

/**
 * Every way to cut `data` into elements whose values are individually valid,
 * allowing a field that is not of pre-defined length to end early (a missing
 * separator). Memoised on position; at most `cap` readings per position.
 */
function enumerateReadings(dictionary: Gs1SyntaxDictionary, data: string, cap: number, lists: ReferenceLists): { readings: Piece[][]; truncated: boolean } {
  const memo = new Map<number, Piece[][]>();
  const valueOk = new Map<string, boolean>();
  let truncated = false;
  // Work done (cuts tried, elements copied into readings): bounded, so that a long string of digits that cuts
  // in very many ways cannot hold the process (a 476-digit string took ~30 ms a scan without it).
  let work = 0;
  const ok = (entry: AiEntry, value: string) => {
    const key = `${entry.ai}\u0000${value}`;
    let result = valueOk.get(key);
    if (result === undefined) {
      result = validateValue(entry, value, lists).errors.length === 0;
      valueOk.set(key, result);
    }
    return result;
  };
  const from = (pos: number): Piece[][] => {
    if (pos === data.length) return [[]];
    const cached = memo.get(pos);
    if (cached) return cached;
    if (work >= MAX_ENUMERATION_WORK) {
      truncated = true;
      return [];
    }
    const out: Piece[][] = [];
    const entry = dictionary.aiAt(data, pos);
    if (entry) {
      const start = pos + entry.ai.length;
      const gs = data.indexOf(GS, start);
      const end = gs < 0 ? data.length : gs;
      const available = end - start;
      const lengths: number[] = [];
      if (entry.predefinedLength) lengths.push(entry.maxLength);
      else for (let length = 1; length <= Math.min(available, entry.maxLength); length++) lengths.push(length);
      for (const length of lengths) {
        if (work >= MAX_ENUMERATION_WORK) {
          truncated = true;
          break;
        }
        if (length > available) continue;
        work++;
        const after = start + length;
        // Cutting here needs an AI right after the cut (otherwise nothing reads on): checked before
        // the value, which costs more.
        if (after < end && !dictionary.aiAt(data, after)) continue;
        const value = data.slice(start, start + length);
        if (!ok(entry, value)) continue;
        const next = after === end ? Math.min(end + 1, data.length) : after;
        for (const rest of from(next)) {
          if (out.length >= cap || work >= MAX_ENUMERATION_WORK) {
            truncated = true;
            break;
          }
          work += rest.length + 1;
          out.push([{ ai: entry.ai, value, split: !entry.predefinedLength && after < end }, ...rest]);
        }
      }
    }
    memo.set(pos, out);
    return out;
  };
  return { readings: from(0), truncated };
}

/**
 * Whether some field of the conformant cut that is not of pre-defined length could end early with
 * the data after the cut still reading on (what `enumerateReadings` looks for): true as soon as an
 * AI starts inside such a field and its shortest possible value fits before the field's end. It
 * may say true where the full enumeration then finds nothing (values are not checked here); it
 * never says false where the enumeration would find a second cut.
 */
function mayEndEarly(dictionary: Gs1SyntaxDictionary, data: string, pieces: readonly Piece[]): boolean {
  let start = 0;
  for (const piece of pieces) {
    const entry = dictionary.entries.get(piece.ai);
    if (!entry) return true;
    const valueStart = start + piece.ai.length;
    const end = valueStart + piece.value.length;
    if (!entry.predefinedLength) {
      for (let p = valueStart + 1; p < end && p - valueStart <= entry.maxLength; p++) {
        const next = dictionary.aiAt(data, p);
        if (!next) continue;
        const available = end - (p + next.ai.length);
        if (available >= (next.predefinedLength ? next.maxLength : Math.max(1, next.minLength))) return true;
      }
    }
    start = end < data.length && data.charCodeAt(end) === 0x1d ? end + 1 : end;
  }
  return false;
}

const readingKey = (pieces: readonly Gs1Element[]) => pieces.map((p) => `${p.ai}\u0000${p.value}`).join("\u0001");

function parseAiData(dictionary: Gs1SyntaxDictionary, base: ResultBase, data: string, options: Gs1ParseOptions, fast = true): Gs1Result {
  if (data.startsWith(GS)) data = data.slice(1); // FNC1 in first position, as some scanners send it
  if (data === "") return invalid(base, [syntaxError("no AI data after the symbology identifier")]);
  const lists = options.referenceLists ?? {};
  const standard = standardParse(dictionary, data);
  if (options.trustSeparators) {
    if (standard.errors.length > 0) {
      const errors = [...standard.errors];
      for (const piece of standard.pieces) {
        const entry = dictionary.entries.get(piece.ai);
        if (entry) errors.push(...validateValue(entry, piece.value, lists).errors);
      }
      return invalid(base, errors, readElements(dictionary, standard.pieces));
    }
    return finish(
      dictionary,
      base,
      standard.pieces.map(({ ai, value }) => ({ ai, value })),
      [],
      options,
    );
  }

  // Fast path: when no field that is not of pre-defined length could end early (no AI that could
  // follow fits in the rest of it), the enumeration below can find no reading but the conformant
  // one, so a valid conformant reading is the whole answer. Anything else takes the full path, which
  // also words the errors. Equivalence with the full path: parse-fast-path.test.ts.
  if (fast && standard.errors.length === 0 && !mayEndEarly(dictionary, data, standard.pieces)) {
    const validation = validateElements(dictionary, standard.pieces, lists);
    if (validation.errors.length === 0) {
      return {
        ...base,
        status: "valid",
        reading: makeReading(
          dictionary,
          standard.pieces.map(({ ai, value }) => ({ ai, value })),
          validation.notPerformed,
          true,
        ),
      };
    }
  }

  const standardKey = standard.errors.length === 0 ? readingKey(standard.pieces) : null;
  // At least two, or an ambiguity could never be shown.
  const cap = Math.max(2, options.maxReadings ?? DEFAULT_MAX_READINGS);
  const { readings, truncated } = enumerateReadings(dictionary, data, cap, lists);
  const valid: { pieces: Piece[]; notPerformed: Gs1NotPerformed[]; standard: boolean }[] = [];
  const seen = new Set<string>();
  // The enumeration may be cut short before it reaches the conformant reading; always consider it.
  const candidates = standardKey === null ? readings : [standard.pieces, ...readings];
  for (const pieces of candidates) {
    const key = readingKey(pieces);
    if (seen.has(key)) continue;
    seen.add(key);
    const validation = validateElements(dictionary, pieces, lists);
    if (validation.errors.length === 0) valid.push({ pieces, notPerformed: validation.notPerformed, standard: key === standardKey });
  }
  // The conformant reading first, then in enumeration order (the sort is stable).
  valid.sort((a, b) => Number(b.standard) - Number(a.standard));

  const toReading = (r: (typeof valid)[number]) =>
    makeReading(
      dictionary,
      r.pieces.map(({ ai, value }) => ({ ai, value })),
      r.notPerformed,
      r.standard,
    );

  const conformantErrors = (): Gs1Issue[] => {
    const errors = [...standard.errors];
    if (standard.errors.length === 0) {
      errors.push(...validateElements(dictionary, standard.pieces, lists).errors);
    } else {
      // The data could not be cut into elements; report what the elements read so far say on their own.
      for (const piece of standard.pieces) {
        const entry = dictionary.entries.get(piece.ai);
        if (entry) errors.push(...validateValue(entry, piece.value, lists).errors);
      }
    }
    return errors;
  };
  const standardElements = readElements(dictionary, standard.pieces);

  if (valid.length <= 1 && truncated) {
    return invalid(
      base,
      [
        {
          ai: null,
          rule: "separator",
          message: `the data can be cut into elements in more than ${cap} ways and at most one of those found is valid; not read`,
        },
      ],
      standardElements,
    );
  }
  if (valid.length === 0) return invalid(base, conformantErrors(), standardElements);
  if (valid.length === 1) {
    const only = valid[0]!;
    if (only.standard) return { ...base, status: "valid", reading: toReading(only) };
    // The only valid reading needs a separator the data lacks. Accepting it would mean reading the
    // label differently from every conformant decoder, so it is an error that shows the reading.
    const early = only.pieces.find((p) => p.split)!;
    return invalid(
      base,
      [
        {
          ai: early.ai,
          rule: "separator",
          message: `AI (${early.ai}): no FNC1 separator after ${JSON.stringify(early.value)}, and (${early.ai}) is not of pre-defined length; the data reads validly only as ${toElementString(only.pieces)}`,
        },
        ...conformantErrors(),
      ],
      standardElements,
    );
  }

  const all = valid.slice(0, cap).map(toReading);
  const kinds = [...new Set(all.map((r) => r.classification.kind))];
  // Name the field where the readings first part ways.
  const first = valid[0]!.pieces;
  let index = 0;
  while (index < first.length - 1 && valid.every((r) => r.pieces[index]?.ai === first[index]!.ai && r.pieces[index]?.value === first[index]!.value)) {
    index++;
  }
  const ai = first[index]!.ai;
  const message =
    `AI (${ai}): a field that is not of pre-defined length is followed by more data without a separator; ` +
    `the data reads ${truncated ? "at least " : ""}${all.length} valid ways: ${all.map((r) => r.elementString).join(" | ")}` +
    (kinds.length > 1 ? ` (as ${kinds.join(" or ")})` : "") +
    (all.some((r) => r.standard)
      ? ""
      : standard.errors.length === 0
        ? `; a conformant decoder reads ${toElementString(standard.pieces)}, which is invalid: ${conformantErrors()
            .map((e) => e.message)
            .join("; ")}`
        : `; a conformant decoder cannot read it: ${conformantErrors()
            .map((e) => e.message)
            .join("; ")}`);
  return { ...base, status: "ambiguous", readings: all, kinds, truncated, message };
}

/** Whether raw AI data takes the fast path (a conformant cut no field of which may end early); for tests. */
export function hasOnlyTheConformantCut(dictionary: Gs1SyntaxDictionary, data: string): boolean {
  const standard = standardParse(dictionary, data);
  return standard.errors.length === 0 && !mayEndEarly(dictionary, data, standard.pieces);
}

/**
 * Raw AI data read by the full enumeration only, without the fast path: the oracle the fast path
 * is tested against (parse-fast-path.test.ts). Not part of the package's interface.
 */
export function parseAiDataExhaustively(dictionary: Gs1SyntaxDictionary, data: string, options: Gs1ParseOptions = {}): Gs1Result {
  return parseAiData(dictionary, { input: data, syntax: "scan", symbology: null }, data, options, false);
}

export function parseScan(dictionary: Gs1SyntaxDictionary, input: string, options: Gs1ParseOptions = {}): Gs1Result {
  if (input.startsWith("]")) {
    const id = input.slice(0, 3);
    const rest = input.slice(3);
    const base: ResultBase = { input, syntax: "scan", symbology: id };
    if (Object.hasOwn(AI_SYMBOLOGIES, id)) return parseAiData(dictionary, base, rest, options);
    if (Object.hasOwn(URI_SYMBOLOGIES, id)) {
      if (/^https?:\/\//i.test(rest)) return parseDigitalLink(dictionary, rest, options, id, input);
      return invalid(base, [syntaxError(`symbology ${id} (${URI_SYMBOLOGIES[id]}) carries neither GS1 AI data nor a Digital Link URI`)]);
    }
    if (id === "]E0" || id === "]E4") {
      // EAN-13 (or UPC-A as 13 digits) and EAN-8 carry a bare GTIN: read it as AI (01).
      const digits = id === "]E0" ? 13 : 8;
      if (!new RegExp(`^\\d{${digits}}$`).test(rest)) {
        return invalid(base, [syntaxError(`symbology ${id} carries a GTIN of ${digits} digits, got ${JSON.stringify(rest)}`, "01")]);
      }
      return finish(dictionary, base, [{ ai: "01", value: rest.padStart(14, "0") }], [], options);
    }
    return invalid(base, [syntaxError(`symbology identifier ${id} does not carry GS1 data`)]);
  }
  if (/^https?:\/\//i.test(input)) return parseDigitalLink(dictionary, input, options);
  return parseAiData(dictionary, { input, syntax: "scan", symbology: null }, input, options);
}

// ---------------------------------------------------------------------------
// GS1 Digital Link URIs
// ---------------------------------------------------------------------------

/** The characters GS1's engine admits anywhere in a URI (dl.c `uriCharacters`); RFC 3986 §2. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

/**
 * Schemes accepted: `http`/`https` (GS1 DL URI Syntax, ABNF `scheme`) in lower case or, for QR
 * alphanumeric mode, all upper case; a mixed-case scheme is refused, as GS1's engine does (dl.c,
 * `gs1_parseDLuri`, and its test "Mixed-case scheme forbidden"). See ADR 012.
 */
const SCHEMES = new Set(["http", "https", "HTTP", "HTTPS"]);

/** RFC 3986 §2.1: `%` is followed by two hex digits. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

type Decoded = { value: string } | { problem: "malformed" | "not-utf8" };

/**
 * Decodes percent-escapes. RFC 3986 §2.1 makes any `%` HEXDIG HEXDIG an octet; an escape that is
 * not of that form is `malformed`, and octets that are not UTF-8 are `not-utf8` (C-981 returns
 * text, so it needs a character encoding; see ADR 012).
 */
function percentDecode(text: string): Decoded {
  if (BAD_PERCENT.test(text)) return { problem: "malformed" };
  try {
    return { value: decodeURIComponent(text) };
  } catch {
    return { problem: "not-utf8" };
  }
}

/**
 * A query string value: `+` stands for a space (application/x-www-form-urlencoded), then
 * percent-escapes are decoded — as GS1's engine does for query components only (dl.c
 * `URIunescape(…, is_query_component)`; its test "\"+\" means \" \"" in the query). In the path `+`
 * is a plus sign.
 */
function queryDecode(text: string): Decoded {
  return percentDecode(text.replaceAll("+", " "));
}

const DEC_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
const H16 = /^[0-9A-Fa-f]{1,4}$/;

/** RFC 3986 §3.2.2 `IPv6address` (no zone identifier). */
function isIpv6Address(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  /** 16-bit units of a group list; an IPv4 address (two units) only last. Null if malformed. */
  const units = (list: readonly string[], ipv4Last: boolean): number | null => {
    let n = 0;
    for (const [i, g] of list.entries()) {
      if (H16.test(g)) n += 1;
      else if (ipv4Last && i === list.length - 1 && IPV4.test(g)) n += 2;
      else return null;
    }
    return n;
  };
  if (halves.length === 1) return units(groups(text), true) === 8;
  const head = units(groups(halves[0]!), false);
  const tail = units(groups(halves[1]!), true);
  return head !== null && tail !== null && head + tail <= 7;
}

/**
 * Checks the authority against GS1 DL URI Syntax's `hostname = host [":" port]` (RFC 3986 §3.2.2,
 * §3.2.3; no user information) and GS1's engine, which refuses `_~!$&'()*+,;=%` in a domain (dl.c
 * `isBadDomainChar`): a host is a name of letters, digits, `-` and `.`, or an IP literal in
 * brackets (IPv6 or IPvFuture; an IPv6 zone identifier, RFC 6874, is refused as in GS1's engine
 * tests). Returns a message, or null when the authority is acceptable.
 */
function authorityProblem(authority: string): string | null {
  if (authority === "") return "the URI has no domain after the scheme";
  if (authority.includes("@")) return `the URI authority ${JSON.stringify(authority)} carries user information ('@'), which a Digital Link URI must not`;
  let host: string;
  let port: string | null;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return `the IP literal in ${JSON.stringify(authority)} has no closing ']'`;
    host = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return `unexpected ${JSON.stringify(after)} after the IP literal ${host}`;
    port = after === "" ? null : after.slice(1);
    const literal = host.slice(1, -1);
    if (literal.includes("%")) return `the host ${host} carries an IPv6 zone identifier, which a Digital Link URI must not (RFC 3986 §3.2.2)`;
    const future = /^[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-.:]+$/.test(literal);
    if (!future && !isIpv6Address(literal)) return `the host ${host} is not a valid IPv6 address (RFC 3986 §3.2.2)`;
  } else {
    const colon = authority.indexOf(":");
    host = colon < 0 ? authority : authority.slice(0, colon);
    port = colon < 0 ? null : authority.slice(colon + 1);
    if (host === "") return "the URI has no domain after the scheme";
    const bad = [...host].find((c) => !/[A-Za-z0-9.-]/.test(c));
    if (bad !== undefined) return `the domain ${JSON.stringify(host)} contains ${JSON.stringify(bad)}, which is not allowed in a host name`;
  }
  if (port !== null && !/^\d*$/.test(port)) return `the port ${JSON.stringify(port)} is not a number`;
  return null;
}

function describeSequences(sequences: readonly (readonly string[])[]): string {
  return sequences.map((seq) => (seq.length > 1 ? `${seq.map((q) => `(${q})`).join(", ")} in that order` : `(${seq[0]})`)).join(", or ");
}

/** True when `qualifiers` take strictly increasing positions in one `dlpkey` sequence. */
function isQualifierPath(sequences: readonly (readonly string[])[], qualifiers: readonly string[]): boolean {
  if (qualifiers.length === 0) return true;
  return sequences.some((seq) => {
    let at = -1;
    for (const q of qualifiers) {
      const next = seq.indexOf(q, at + 1);
      if (next < 0) return false;
      at = next;
    }
    return true;
  });
}

/**
 * GS1's engine (dl.c, after "Trial the AI at each non-initial position of the path info"): a data
 * attribute belongs in the path when inserting it among the path's key qualifiers gives a valid
 * key-qualifier path. So the qualifiers already in the path choose the `dlpkey` sequence:
 * `/01/…/235/…?10=…` is fine, `/01/…?10=…` is not.
 */
function belongsInPath(sequences: readonly (readonly string[])[], qualifiers: readonly string[], ai: string): boolean {
  for (let j = 0; j <= qualifiers.length; j++) {
    if (isQualifierPath(sequences, [...qualifiers.slice(0, j), ai, ...qualifiers.slice(j)])) return true;
  }
  return false;
}

/** Checks the path's key qualifiers against the primary key's `dlpkey` sequences. */
function checkQualifiers(primaryKey: string, sequences: readonly (readonly string[])[], qualifiers: readonly string[]): Gs1Issue | null {
  if (qualifiers.length === 0) return null;
  const allowed = new Set(sequences.flat());
  const rule = "dl-qualifier" as const;
  if (allowed.size === 0) {
    return {
      ai: qualifiers[0]!,
      rule,
      message: `AI (${qualifiers[0]}) cannot follow (${primaryKey}) in a Digital Link path: (${primaryKey}) takes no key qualifiers`,
    };
  }
  for (const q of qualifiers) {
    if (!allowed.has(q)) {
      return {
        ai: q,
        rule,
        message: `AI (${q}) is not a key qualifier of (${primaryKey}); the path after (${primaryKey}) may only hold ${describeSequences(sequences)}`,
      };
    }
  }
  // Valid when the qualifiers are in order in any one alternative; what follows only explains why not.
  if (isQualifierPath(sequences, qualifiers)) return null;
  const sequence = sequences.find((seq) => qualifiers.every((q) => seq.includes(q)));
  if (!sequence) {
    const a = qualifiers[0]!;
    const b = qualifiers.find((q) => !sequences.some((seq) => seq.includes(a) && seq.includes(q)))!;
    return {
      ai: b,
      rule,
      message: `AI (${b}) cannot be combined with (${a}) as key qualifiers of (${primaryKey}); use ${describeSequences(sequences)}`,
    };
  }
  for (let j = 1; j < qualifiers.length; j++) {
    const previous = qualifiers[j - 1]!;
    const current = qualifiers[j]!;
    if (current === previous || qualifiers.indexOf(current) < j) {
      return { ai: current, rule, message: `AI (${current}) appears more than once in the Digital Link path` };
    }
    if (sequence.indexOf(current) < sequence.indexOf(previous)) {
      return {
        ai: current,
        rule,
        message: `AI (${current}) is out of order: key qualifiers of (${primaryKey}) follow the order ${sequence.map((q) => `(${q})`).join(", ")}, so (${current}) cannot come after (${previous})`,
      };
    }
  }
  return null;
}

export function parseDigitalLink(
  dictionary: Gs1SyntaxDictionary,
  uri: string,
  options: Gs1ParseOptions = {},
  symbology: string | null = null,
  input: string = uri,
): Gs1Result {
  const base: ResultBase = { input, syntax: "digital-link", symbology };
  if (!URI_CHARACTERS.test(uri)) {
    const bad = [...uri].find((c) => !URI_CHARACTERS.test(c))!;
    return invalid(base, [syntaxError(`the URI contains ${JSON.stringify(bad)}, which is not allowed in a URI`)]);
  }
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(uri);
  const scheme = schemeMatch?.[1] ?? "";
  if (!schemeMatch || !SCHEMES.has(scheme)) {
    const message = /^https?$/i.test(scheme)
      ? `the scheme ${JSON.stringify(scheme)} mixes upper and lower case; a Digital Link URI starts with http://, https://, HTTP:// or HTTPS://`
      : "a Digital Link URI is http:// or https://, a domain and a path";
    return invalid(base, [syntaxError(message)]);
  }
  const rest = uri.slice(schemeMatch[0].length);
  const hash = rest.indexOf("#");
  const beforeFragment = hash < 0 ? rest : rest.slice(0, hash);
  const fragment = hash < 0 ? "" : rest.slice(hash + 1);
  const mark = beforeFragment.indexOf("?");
  const hierarchy = mark < 0 ? beforeFragment : beforeFragment.slice(0, mark);
  const query = mark < 0 ? "" : beforeFragment.slice(mark + 1);
  const slash = hierarchy.indexOf("/");
  const host = slash < 0 ? hierarchy : hierarchy.slice(0, slash);
  const path = slash < 0 ? "" : hierarchy.slice(slash);
  const hostProblem = authorityProblem(host);
  if (hostProblem) return invalid(base, [syntaxError(hostProblem)]);
  if (path === "") return invalid(base, [syntaxError("a Digital Link URI is http:// or https://, a domain and a path")]);
  // RFC 3986 §3.3-3.5: path, query and fragment are pchar, '/' and (query, fragment) '?'; '[' and
  // ']' only delimit an IP literal, and a second '#' has no place.
  for (const [part, text] of [
    ["path", path],
    ["query string", query],
    ["fragment", fragment],
  ] as const) {
    const bad = [...text].find((c) => c === "[" || c === "]" || c === "#");
    if (bad !== undefined)
      return invalid(base, [syntaxError(`the URI ${part} contains ${JSON.stringify(bad)}, which is not allowed there (RFC 3986 §3.3-3.5)`)]);
  }
  // Path and query report bad percent-encoding per segment and parameter below.
  if (BAD_PERCENT.test(fragment)) return invalid(base, [syntaxError("the URI fragment has invalid percent-encoding")]);
  if (path.endsWith("/")) return invalid(base, [syntaxError("the Digital Link URI path must not end with '/'")]);
  const segments = path.slice(1).split("/");

  // Walk back over /AI/value pairs to the rightmost primary key; what precedes it is the stem.
  let start = -1;
  for (let k = segments.length - 2; k >= 0; k -= 2) {
    const entry = dictionary.entries.get(segments[k]!);
    if (!entry) break;
    if (entry.dlPrimaryKey) {
      start = k;
      break;
    }
  }
  if (start < 0) {
    return invalid(base, [{ ai: null, rule: "dl-primary-key", message: "no GS1 Digital Link primary key (such as /01/, /00/ or /8004/) in the URI path" }]);
  }

  const errors: Gs1Issue[] = [];
  const elements: Gs1Element[] = [];
  // The stem is not decoded, so only the RFC 3986 form of its escapes matters (any octet is allowed).
  for (const segment of segments.slice(0, start)) {
    if (BAD_PERCENT.test(segment)) {
      errors.push(syntaxError(`the URI path segment ${JSON.stringify(segment)} before the primary key has invalid percent-encoding`));
    }
  }
  const decodeValue = (ai: string, raw: string, inQuery: boolean): string | null => {
    const decoded = inQuery ? queryDecode(raw) : percentDecode(raw);
    if ("problem" in decoded) {
      const message =
        decoded.problem === "malformed"
          ? `AI (${ai}): invalid percent-encoding in ${JSON.stringify(raw)}`
          : `AI (${ai}): the percent-escapes in ${JSON.stringify(raw)} do not decode to UTF-8 text`;
      errors.push({ ai, rule: "syntax", message });
      return null;
    }
    const value = decoded.value;
    // A GTIN-8, -12 or -13 for (01) stands for the GTIN-14 with leading zeros: deprecated in
    // Digital Link URIs, read only when the caller asks (GS1's engine:
    // gs1_encoder_setPermitZeroSuppressedGTINinDLuris, off by default). See ADR 012.
    if (options.expandShortGtin && ai === "01" && [8, 12, 13].includes(value.length) && /^\d+$/.test(value)) return value.padStart(14, "0");
    return value;
  };

  const pathAis: string[] = [];
  for (let k = start; k < segments.length; k += 2) {
    const ai = segments[k]!;
    pathAis.push(ai);
    const value = decodeValue(ai, segments[k + 1]!, false);
    if (value !== null) elements.push({ ai, value });
  }
  const [primaryKey, ...qualifiers] = pathAis as [string, ...string[]];
  const sequences = dictionary.entries.get(primaryKey)!.dlPrimaryKey!;
  const qualifierIssue = checkQualifiers(primaryKey, sequences, qualifiers);
  if (qualifierIssue) errors.push(qualifierIssue);
  const inPath = new Set(pathAis);
  const inQuery = new Set<string>();
  const duplicates = new Set<string>();

  const attributes: string[] = [];
  const otherParameters: [string, string][] = [];
  for (const parameter of query.split("&")) {
    if (parameter === "") continue;
    const eq = parameter.indexOf("=");
    const key = eq < 0 ? parameter : parameter.slice(0, eq);
    const raw = eq < 0 ? "" : parameter.slice(eq + 1);
    // A parameter without '=' is not an AI, whatever its name (GS1's engine: "Discard parameters
    // with no value"); a non-numeric key is not an AI either. Both are returned, decoded.
    if (eq < 0 || !/^\d+$/.test(key)) {
      const name = queryDecode(key);
      // RFC 3986 §2.3 makes %31%30 equivalent to 10, but the Digital Link ABNF writes an AI key as
      // plain digits; read as a non-AI parameter it would slip past every AI rule, so refuse it.
      if (eq >= 0 && "value" in name && /^\d+$/.test(name.value)) {
        errors.push(syntaxError(`query parameter ${JSON.stringify(key)} is a percent-encoded AI; write the AI (${name.value}) as plain digits`, name.value));
        continue;
      }
      const value = queryDecode(raw);
      if ("problem" in name || "problem" in value) {
        const malformed = ("problem" in name && name.problem === "malformed") || ("problem" in value && value.problem === "malformed");
        errors.push(
          syntaxError(
            malformed
              ? `query parameter ${JSON.stringify(parameter)} has invalid percent-encoding`
              : `query parameter ${JSON.stringify(parameter)}: the percent-escapes do not decode to UTF-8 text`,
          ),
        );
        continue;
      }
      otherParameters.push([name.value, value.value]);
      continue;
    }
    const entry = dictionary.entries.get(key);
    if (!entry) {
      errors.push({ ai: key, rule: "unknown-ai", message: `AI (${key}) in the query string is not in the GS1 syntax dictionary` });
      continue;
    }
    // GS1's engine forbids an AI twice in one URI, whatever the values ("Forbid duplicate AIs").
    if (inPath.has(key) || inQuery.has(key)) {
      if (!duplicates.has(key)) {
        duplicates.add(key);
        errors.push({
          ai: key,
          rule: "repeated",
          message: inPath.has(key)
            ? `AI (${key}) appears in both the URI path and the query string; a Digital Link URI carries each AI once`
            : `AI (${key}) appears more than once in the query string; a Digital Link URI carries each AI once`,
        });
      }
      continue;
    }
    inQuery.add(key);
    if (!qualifierIssue && belongsInPath(sequences, qualifiers, key)) {
      errors.push({
        ai: key,
        rule: "dl-qualifier",
        message: `AI (${key}) is a key qualifier of (${primaryKey}) and belongs in the URI path, not the query string`,
      });
      continue;
    }
    if (!entry.dlDataAttribute) {
      errors.push({ ai: key, rule: "dl-attribute", message: `AI (${key}) is not permitted as a Digital Link data attribute (query string)` });
      continue;
    }
    attributes.push(key);
    const value = decodeValue(key, raw, true);
    if (value !== null) elements.push({ ai: key, value });
  }

  const stemPath = segments.slice(0, start).join("/");
  const digitalLink: DigitalLinkParts = {
    stem: `${scheme.toLowerCase()}://${host}${stemPath ? `/${stemPath}` : ""}`,
    primaryKey,
    qualifiers,
    attributes,
    otherParameters,
  };
  return finish(dictionary, base, elements, errors, options, digitalLink);
}
// ---------------------------------------------------------------------------

/** Reads any of the three forms: `(` starts a bracketed string, `http(s)://` a Digital Link, anything else is a raw scan. */
export function parseAny(dictionary: Gs1SyntaxDictionary, input: string, options: Gs1ParseOptions = {}): Gs1Result {
  if (input.startsWith("(")) return parseBracketed(dictionary, input, options);
  if (/^https?:\/\//i.test(input)) return parseDigitalLink(dictionary, input, options);
  return parseScan(dictionary, input, options);
}
