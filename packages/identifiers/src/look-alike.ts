/**
 * Look-alike identifier formats: can one printed string be read as more than one kind of thing
 * (serial, lot, container)? ADR 013. Pure: no I/O, no clock; results are deterministic.
 *
 * Every overlap reported comes with a witness string that was checked with the same readers the
 * portal uses — `matchesPattern` for site patterns and `parseGs1Scan` (every valid reading of a
 * raw scan, ambiguous ones included) for GS1 — so a report is never a false alarm. How the
 * candidate witnesses are built, and why the search misses no look-alike within its stated
 * bounds, is argued next to each search below and in ADR 013.
 *
 * Reading model. A GS1 format `{kind: "gs1", ais}` prints conformant raw element strings holding
 * exactly its AIs (a GS after every field not of pre-defined length unless it is last). A scan
 * "reads as" a GS1 format when some valid reading of it holds all of the format's AIs — that is
 * what an MES configured for the format extracts. A scan reads as a pattern format when it matches
 * the pattern. Scans are compared as the bare data a scanner sends without symbology identifiers
 * (the worst case: with identifiers on, a Code 128 pattern label and a GS1 label differ by `]C0`
 * vs `]C1`).
 */
import { CSET39, CSET64, CSET82, GS, gs1CheckDigit, gs1Dictionary, parseGs1Scan, type AiEntry, type Gs1Reading, type IdentifierKind } from "./gs1";
import { matchesPattern, patternOverlap, type FormatOverlap, type IdentifierFormat, type PatternSegment, type CharClass } from "./identifier-format";
import { validateValue } from "./gs1/validate";
import type { Identifies } from "./identifies";

/** What a reading identifies, in the portal's words; `other` is a GS1 key of no tracked kind (GLN, order number…). */
export type ReadKind = Identifies | "other";

export interface NamedFormat {
  code: string;
  identifies: Identifies;
  definition: IdentifierFormat;
}

export interface ExampleReading {
  /** Bracketed element string, e.g. `(01)09506000134352(10)LOT1(21)SER1`. */
  elementString: string;
  kind: ReadKind;
  /** Whether a conformant GS1 decoder reads the data this way. */
  standard: boolean;
}

export interface LookAlikeExample {
  /** The data exactly as a scanner sends it (GS as U+001D). */
  data: string;
  /** The same for people: the group separator written `<GS>`. */
  display: string;
  /** Every valid GS1 reading of the data (empty when it is not GS1 data). */
  readings: ExampleReading[];
}

export interface SelfLookAlike {
  format: string;
  /** The distinct kinds the example's readings identify (two or more). */
  kinds: ReadKind[];
  example: LookAlikeExample;
  message: string;
}

export interface PairLookAlike {
  /** The two format codes, in code order. */
  formats: [string, string];
  /** What each format's reader records the example as. */
  readsAs: { format: string; kind: Identifies }[];
  /** Distinct kinds across both formats and the example's GS1 readings. */
  kinds: ReadKind[];
  /** True when a serial, lot or container can be taken for another of these kinds. */
  confusion: boolean;
  example: LookAlikeExample;
  message: string;
}

export interface LookAlikeReport {
  selfAmbiguous: SelfLookAlike[];
  pairs: PairLookAlike[];
  /** Formats that cannot produce any valid string (e.g. an AI list breaking a pairing rule). */
  unusable: { format: string; reason: string }[];
  /** Searches that hit their bound before finding a witness: no claim either way (see ADR 013). */
  undecided: { formats: string[]; reason: string }[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function readKindOf(kind: IdentifierKind): ReadKind {
  return kind === "instance" ? "serial" : kind === "class" ? "lot" : kind === "container" ? "container" : "other";
}

export function showData(data: string): string {
  return data.replaceAll(GS, "<GS>");
}

/** Every valid GS1 reading of raw scan data (none when it does not read as GS1 at all). */
export function gs1ReadingsOf(data: string): Gs1Reading[] {
  const result = parseGs1Scan(data, { maxReadings: 64 });
  return result.status === "valid" ? [result.reading] : result.status === "ambiguous" ? result.readings : [];
}

/**
 * Whether scan data reads as a format, by the reading model above (the one the look-alike search
 * checks its witnesses with): a pattern format when the data matches its pattern; a GS1 format when
 * some valid GS1 reading of the data holds all of the format's AIs. `readings` lets a caller that
 * tests one string against several formats parse it once (`gs1ReadingsOf`).
 */
export function readsAsFormat(data: string, format: IdentifierFormat, readings?: readonly Gs1Reading[]): boolean {
  if (format.kind === "pattern") return matchesPattern(format.segments, data);
  return (readings ?? gs1ReadingsOf(data)).some((r) => holdsAll(r, format.ais));
}

function exampleOf(data: string, readings: readonly Gs1Reading[] = gs1ReadingsOf(data)): LookAlikeExample {
  return {
    data,
    display: showData(data),
    readings: readings.map((r) => ({ elementString: r.elementString, kind: readKindOf(r.classification.kind), standard: r.standard })),
  };
}

/** Whether a GS1 reading holds all of a GS1 format's AIs: how a scan "reads as" the format (see the reading model above). */
export const holdsAll = (reading: Gs1Reading, ais: readonly string[]) => ais.every((ai) => reading.elements.some((e) => e.ai === ai));

// ---------------------------------------------------------------------------
// Character sets as bigint masks (as in identifier-format.ts), and filling AI values
// ---------------------------------------------------------------------------

function maskOf(chars: string): bigint {
  let mask = 0n;
  for (const c of chars) mask |= 1n << BigInt(c.charCodeAt(0));
  return mask;
}
const DIGITS = "0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const CLASS_CHARS: Record<CharClass, string> = {
  digit: DIGITS,
  upper: UPPER,
  lower: LOWER,
  alpha: UPPER + LOWER,
  alnum: UPPER + LOWER + DIGITS,
  upperAlnum: UPPER + DIGITS,
  hex: DIGITS + "ABCDEF",
};
const TYPE_MASK = { N: maskOf(DIGITS), X: maskOf(CSET82), Y: maskOf(CSET39), Z: maskOf(CSET64) } as const;
const has = (mask: bigint, c: string) => ((mask >> BigInt(c.charCodeAt(0))) & 1n) === 1n;

/** Readable sample values, used where the constraints allow (the witness should look like a label). */
const SAMPLES: Record<string, string> = {
  "00": "095060001000000010",
  "01": "09506000134352",
  "02": "09506000134352",
  "03": "09506000134352",
  "10": "LOT1",
  "21": "SER1",
  "8004": "9506000ASSET1",
  "8013": "9506000MODEL1",
};

const DATE_LINTERS: Record<string, { length: number; dayZero: boolean }> = {
  yymmdd: { length: 6, dayZero: false },
  yymmd0: { length: 6, dayZero: true },
  yyyymmdd: { length: 8, dayZero: false },
  yyyymmd0: { length: 8, dayZero: true },
};

function daysIn(year: number, month: number): number {
  return [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** The first valid date (nearest 2025 first) whose digits each fit their position's mask. */
function fittingDate(masks: readonly bigint[], spec: { length: number; dayZero: boolean }): string | null {
  const years =
    spec.length === 6 ? Array.from({ length: 100 }, (_, k) => (25 + k) % 100) : Array.from({ length: 200 }, (_, k) => 2025 + (k % 2 ? -(k + 1) / 2 : k / 2));
  for (const y of years) {
    const yy = String(y).padStart(spec.length - 4, "0");
    if (![...yy].every((c, i) => has(masks[i]!, c))) continue;
    for (let m = 1; m <= 12; m++) {
      const mm = String(m).padStart(2, "0");
      if (!has(masks[yy.length]!, mm[0]!) || !has(masks[yy.length + 1]!, mm[1]!)) continue;
      // Two-digit years: 29 February of 00 counts as valid (2000), as the date linter decides it.
      const last = spec.length === 6 ? daysIn(y === 0 ? 2000 : 2001 + (y % 4 === 0 ? 3 : 0), m) : daysIn(y, m);
      // Day 00 (allowed by yymmd0) last: a witness reads better with a real day.
      for (const d of [...Array.from({ length: last }, (_, k) => k + 1), ...(spec.dayZero ? [0] : [])]) {
        const dd = String(d).padStart(2, "0");
        if (has(masks[yy.length + 2]!, dd[0]!) && has(masks[yy.length + 3]!, dd[1]!)) return yy + mm + dd;
      }
    }
  }
  return null;
}

type Preference = "sample" | "digits" | "letters";
const PREFERENCES: readonly Preference[] = ["sample", "digits", "letters"];

function pick(mask: bigint, preferred: string | undefined, preference: Preference): string | null {
  if (preferred !== undefined && has(mask, preferred)) return preferred;
  const order = preference === "letters" ? "A" + UPPER + DIGITS + LOWER + CSET82 : "1" + DIGITS + UPPER + LOWER + CSET82;
  for (const c of order) if (has(mask, c)) return c;
  return null;
}

/**
 * A value of `length` characters for `entry` that passes the dictionary's checks and, where
 * `masks` are given, fits them position by position; null when none is found. Check digits and
 * dates are solved exactly against the masks; other linters are met by trying the preferences.
 */
export function fillValue(entry: AiEntry, length: number, masks?: readonly bigint[]): string | null {
  if (length < entry.minLength || length > entry.maxLength) return null;
  // Cut the length into components: fixed ones take their length, the last variable one the rest.
  const spans: { start: number; length: number; component: AiEntry["components"][number] }[] = [];
  let at = 0;
  for (const component of entry.components) {
    const remaining = length - at;
    if (remaining === 0 && component.optional) break;
    const take = component.min === component.max ? component.max : remaining;
    if (take < component.min || take > component.max || take > remaining) return null;
    spans.push({ start: at, length: take, component });
    at += take;
  }
  if (at !== length) return null;
  const maskAt = (i: number) => (masks ? masks[i]! : ~0n);

  for (const preference of PREFERENCES) {
    const sample = preference === "sample" ? SAMPLES[entry.ai] : undefined;
    const chars: string[] = [];
    let ok = true;
    for (const span of spans) {
      const type = TYPE_MASK[span.component.type];
      const spanMasks = Array.from({ length: span.length }, (_, k) => maskAt(span.start + k) & type);
      if (spanMasks.some((m) => m === 0n)) return null; // no character fits: no preference helps
      const part: (string | null)[] = spanMasks.map((m, k) => pick(m, sample?.[span.start + k], preference));
      const date = span.component.linters.map((l) => DATE_LINTERS[l]).find((d) => d !== undefined);
      if (date && span.length >= date.length) {
        const found = fittingDate(spanMasks.slice(0, date.length), date);
        if (found === null) return null; // dates are enumerated exhaustively
        [...found].forEach((c, k) => (part[k] = c));
      }
      if (span.component.linters.includes("csum")) {
        const solved = solveCheckDigit(part as string[], spanMasks);
        if (solved === null) return null; // exhaustive over one free digit; see solveCheckDigit
        part.splice(0, part.length, ...solved);
      }
      if (part.some((c) => c === null)) ok = false;
      chars.push(...(part as string[]));
    }
    if (!ok) continue;
    const value = chars.join("");
    if (valueValid(entry, value)) return value;
  }
  return null;
}

/**
 * Makes the last digit the GS1 check digit. If the masks forbid it, one other position that allows
 * several digits is varied: weights 1 and 3 are both coprime to 10, so one free digit reaches
 * every check value — if no position is free and the fixed digits give a forbidden check digit,
 * no value exists.
 */
function solveCheckDigit(part: string[], masks: readonly bigint[]): string[] | null {
  const last = part.length - 1;
  const attempt = (digits: string[]) => {
    const check = gs1CheckDigit(digits.slice(0, last).join(""));
    return has(masks[last]!, check) ? [...digits.slice(0, last), check] : null;
  };
  const direct = attempt(part);
  if (direct) return direct;
  for (let i = last - 1; i >= 0; i--) {
    for (const d of DIGITS) {
      if (d === part[i] || !has(masks[i]!, d)) continue;
      const varied = [...part];
      varied[i] = d;
      const found = attempt(varied);
      if (found) return found;
    }
  }
  return null;
}

/** The value checks only (pairing rules are checked on whole readings by the scan reader). */
function valueValid(entry: AiEntry, value: string): boolean {
  return validateValue(entry, value).errors.length === 0;
}

// ---------------------------------------------------------------------------
// Strings a GS1 format prints
// ---------------------------------------------------------------------------

interface Element {
  ai: string;
  value: string;
}

const entryOf = (ai: string) => gs1Dictionary.entries.get(ai);
const variable = (entry: AiEntry) => !entry.predefinedLength;

/** A conformant raw encoding: a GS after every field not of pre-defined length, unless it is last. */
export function encodeRaw(elements: readonly Element[]): string {
  return elements.map((e, i) => `${e.ai}${e.value}${i < elements.length - 1 && !entryOf(e.ai)!.predefinedLength ? GS : ""}`).join("");
}

function sampleValue(entry: AiEntry, masks?: (length: number) => bigint[]): string | null {
  const preferred = SAMPLES[entry.ai]?.length;
  const lengths = [...new Set([preferred, entry.minLength, Math.min(entry.maxLength, Math.max(entry.minLength, 4))])].filter(
    (n): n is number => n !== undefined && n >= entry.minLength && n <= entry.maxLength,
  );
  for (const n of lengths) {
    const value = fillValue(entry, n, masks?.(n));
    if (value !== null) return value;
  }
  // Fall back to every length, shortest first.
  for (let n = entry.minLength; n <= entry.maxLength; n++) {
    const value = fillValue(entry, n, masks?.(n));
    if (value !== null) return value;
  }
  return null;
}

/** The shortest valid value (a head that leaves the most room for a tail). */
function shortestValue(entry: AiEntry): string | null {
  for (let n = Math.max(entry.minLength, 1); n <= entry.maxLength; n++) {
    const value = fillValue(entry, n);
    if (value !== null) return value;
  }
  return null;
}

/** A valid element list for a GS1 format, or why there is none. */
function baseElements(ais: readonly string[]): { elements: Element[] } | { reason: string } {
  const unknown = ais.filter((ai) => !entryOf(ai));
  if (unknown.length) return { reason: `unknown AI ${unknown.map((ai) => `(${ai})`).join(", ")}` };
  const elements: Element[] = [];
  for (const ai of ais) {
    const value = sampleValue(entryOf(ai)!);
    if (value === null) return { reason: `no valid value found for AI (${ai})` };
    elements.push({ ai, value });
  }
  const ordered = orderForPrint(elements);
  const data = encodeRaw(ordered);
  const result = parseGs1Scan(data, { trustSeparators: true });
  if (result.status !== "valid") {
    return { reason: result.status === "invalid" ? result.errors.map((e) => e.message).join("; ") : "does not read one way" };
  }
  return { elements: ordered };
}

/** GS1's recommended order: pre-defined length fields first (keeps separators few), else as given. */
function orderForPrint(elements: readonly Element[]): Element[] {
  return [...elements.filter((e) => entryOf(e.ai)!.predefinedLength), ...elements.filter((e) => !entryOf(e.ai)!.predefinedLength)];
}

/** AIs that decide a reading's kind in `classifyElements`. */
const KEY_AIS = ["00", "01", "02", "03", "8006", "8026", "21", "10", "8004", "7023", "8017", "8018", "8003", "253", "255", "8010", "8011", "8013"];

/** `ais` plus every AI named in their pairing rules, to a fixed point (patterns with `n` are skipped). */
function requiresClosure(ais: Iterable<string>): string[] {
  const out = new Set<string>();
  const queue = [...ais];
  while (queue.length) {
    const ai = queue.pop()!;
    if (out.has(ai) || !entryOf(ai)) continue;
    out.add(ai);
    for (const rule of entryOf(ai)!.requires) for (const alternative of rule) for (const r of alternative) if (/^\d+$/.test(r)) queue.push(r);
  }
  return [...out].sort(byText);
}

const MAX_TAIL = 3;

/**
 * Candidate strings of a GS1 format: its conformant encoding, and for each field not of pre-defined
 * length a value whose tail is itself an element string of up to MAX_TAIL elements over `alphabet`
 * — the only way a conformant string gets another reading (ADR 013). Shortest first.
 */
/** Tails tried per variable field; beyond it the search says so (`complete: false`) instead of running on. */
const MAX_TAILS = 20_000;

function gs1Candidates(ais: readonly string[], alphabet: readonly string[]): { base: string; candidates: string[]; complete: boolean } | { reason: string } {
  const base = baseElements(ais);
  if ("reason" in base) return base;
  const candidates = new Set<string>([encodeRaw(base.elements)]);
  let complete = true;
  for (const host of base.elements) {
    const entry = entryOf(host.ai)!;
    if (!variable(entry) || entry.minLength === entry.maxLength) continue;
    const last = entry.components[entry.components.length - 1]!;
    const tailMask = TYPE_MASK[last.type];
    // Tail elements: values of minimal length first (if any tail fits the host's length, one of them does).
    const tailValues = new Map<string, string[]>();
    for (const ai of alphabet) {
      const e = entryOf(ai);
      if (!e) continue;
      const options = new Set<string>();
      for (const n of [e.minLength, SAMPLES[ai]?.length ?? e.minLength]) {
        if (n < e.minLength || n > e.maxLength) continue;
        const v = fillValue(
          e,
          n,
          Array.from({ length: n }, () => tailMask),
        );
        if (v !== null) options.add(v);
      }
      if ([...ai].every((c) => has(tailMask, c)) && options.size)
        tailValues.set(
          ai,
          [...options].sort((a, b) => a.length - b.length || byText(a, b)),
        );
    }
    const tails: string[] = [];
    const extend = (prefix: string, used: string[], depth: number) => {
      if (depth === MAX_TAIL) return;
      for (const [ai, values] of tailValues) {
        if (used.includes(ai) || ais.includes(ai)) continue;
        for (const v of values) {
          if (tails.length >= MAX_TAILS) {
            complete = false;
            return;
          }
          const tail = `${prefix}${ai}${v}`;
          tails.push(tail);
          extend(tail, [...used, ai], depth + 1);
        }
      }
    };
    extend("", [], 0);
    // The host keeps a short valid value of its own before the tail.
    const heads = [...new Set([sampleValue(entry), shortestValue(entry)])].filter((h): h is string => h !== null);
    const others = base.elements.filter((e) => e !== host);
    for (const tail of tails) {
      for (const head of heads) {
        const value = head + tail;
        if (value.length > entry.maxLength) continue;
        if (!valueValid(entry, value)) continue;
        candidates.add(encodeRaw([...orderForPrint(others), { ai: host.ai, value }]));
        break;
      }
    }
  }
  return { base: encodeRaw(base.elements), candidates: [...candidates].sort((a, b) => a.length - b.length || byText(a, b)), complete };
}

// ---------------------------------------------------------------------------
// Pattern strings that read as GS1
// ---------------------------------------------------------------------------

const MAX_SHAPES = 4096;
const MAX_NODES = 200_000;

/**
 * Every way to fix the length of each class run ("shapes"), shortest total first; each shape is a
 * fixed-length list of per-position masks. Exhaustive up to MAX_SHAPES.
 */
function shapesOf(segments: readonly PatternSegment[]): { shapes: bigint[][]; complete: boolean } {
  let partial: { masks: bigint[] }[] = [{ masks: [] }];
  let complete = true;
  for (const s of segments) {
    const next: { masks: bigint[] }[] = [];
    const options: bigint[][] =
      "literal" in s
        ? [[...s.literal].map((c) => maskOf(c))]
        : Array.from({ length: s.max - s.min + 1 }, (_, k) => Array.from({ length: s.min + k }, () => maskOf(CLASS_CHARS[s.class])));
    for (const p of partial) {
      for (const o of options) {
        if (next.length >= MAX_SHAPES) {
          complete = false;
          break;
        }
        next.push({ masks: [...p.masks, ...o] });
      }
    }
    partial = next;
  }
  return { shapes: partial.map((p) => p.masks).sort((a, b) => a.length - b.length), complete };
}

/**
 * The shortest string of the pattern with a valid GS1 reading that holds all of `ais`. For each
 * shape, a depth-first search cuts the positions into AI + value pieces (AIs in dictionary order,
 * every allowed value length) where the masks allow the AI's digits and value types, fills the
 * values (check digits and dates solved against the masks) and checks the string with both readers.
 */
function patternAsGs1(segments: readonly PatternSegment[], ais: readonly string[]): { witness: string | null; complete: boolean } {
  const { shapes, complete: allShapes } = shapesOf(segments);
  const entries = [...gs1Dictionary.entries.values()].sort((a, b) => byText(a.ai, b.ai));
  const need = ais.map((ai) => entryOf(ai)).filter((e): e is AiEntry => e !== undefined);
  if (need.length !== ais.length) return { witness: null, complete: true };
  let nodes = 0;
  let complete = allShapes;
  for (const masks of shapes) {
    const length = masks.length;
    const found = (function search(pos: number, pieces: { entry: AiEntry; start: number; length: number }[]): string | null {
      if (++nodes > MAX_NODES) {
        complete = false;
        return null;
      }
      const present = new Set(pieces.map((p) => p.entry.ai));
      const missing = need.filter((e) => !present.has(e.ai));
      if (missing.reduce((sum, e) => sum + e.ai.length + e.minLength, 0) > length - pos) return null;
      if (pos === length) {
        if (missing.length) return null;
        const values: string[] = [];
        for (const p of pieces) {
          const v = fillValue(p.entry, p.length, masks.slice(p.start, p.start + p.length));
          if (v === null) return null;
          values.push(p.entry.ai + v);
        }
        const data = values.join("");
        if (!matchesPattern(segments, data)) return null;
        return gs1ReadingsOf(data).some((r) => holdsAll(r, ais)) ? data : null;
      }
      for (const entry of entries) {
        const ai = entry.ai;
        if (pos + ai.length + entry.minLength > length) continue;
        if (![...ai].every((c, k) => has(masks[pos + k]!, c))) continue;
        if (present.has(ai)) continue;
        const start = pos + ai.length;
        const maxLength = Math.min(entry.maxLength, length - start);
        for (let n = entry.minLength; n <= maxLength; n++) {
          // Cheap check before descending: each value position admits some character of its type.
          if (!typesFit(entry, n, masks, start)) continue;
          const result = search(start + n, [...pieces, { entry, start, length: n }]);
          if (result !== null || !complete) return result;
        }
      }
      return null;
    })(0, []);
    if (found !== null) return { witness: found, complete: true };
    if (!complete) return { witness: null, complete: false };
  }
  return { witness: null, complete };
}

function typesFit(entry: AiEntry, length: number, masks: readonly bigint[], start: number): boolean {
  let at = 0;
  for (const component of entry.components) {
    const remaining = length - at;
    if (remaining === 0 && component.optional) break;
    const take = component.min === component.max ? component.max : remaining;
    if (take < component.min || take > component.max || take > remaining) return false;
    for (let k = 0; k < take; k++) if ((masks[start + at + k]! & TYPE_MASK[component.type]) === 0n) return false;
    at += take;
  }
  return at === length;
}

// ---------------------------------------------------------------------------
// Deciding overlaps
// ---------------------------------------------------------------------------

type Witness = { found: true; data: string } | { found: false; complete: boolean; reason?: string };

function gs1PairWitness(a: readonly string[], b: readonly string[]): Witness {
  const alphabet = requiresClosure([...KEY_AIS, ...a, ...b]);
  const found: string[] = [];
  let complete = true;
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const c = gs1Candidates(from, alphabet);
    if ("reason" in c) return { found: false, complete: true, reason: c.reason };
    const hit = c.candidates.find((data) => gs1ReadingsOf(data).some((r) => holdsAll(r, to) && holdsAll(r, from)));
    if (hit) found.push(hit);
    complete &&= c.complete;
  }
  if (!found.length) return { found: false, complete };
  return { found: true, data: found.sort((x, y) => x.length - y.length || byText(x, y))[0]! };
}

function patternGs1Witness(segments: readonly PatternSegment[], ais: readonly string[]): Witness {
  const base = baseElements(ais);
  if ("reason" in base) return { found: false, complete: true, reason: base.reason };
  const { witness, complete } = patternAsGs1(segments, ais);
  return witness === null ? { found: false, complete } : { found: true, data: witness };
}

/**
 * Results depend only on the definitions, so they are remembered (bounded): screens and analyses
 * ask about the same few formats again and again. Still pure — same input, same output.
 */
const MEMO_LIMIT = 4096;
function memo<T>(cache: Map<string, T>, key: string, compute: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = compute();
  if (cache.size >= MEMO_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}
const witnessMemo = new Map<string, Witness>();
const selfMemo = new Map<string, { data: string } | null | { unusable: string } | { undecided: string }>();

function witnessOf(a: IdentifierFormat, b: IdentifierFormat): Witness {
  return memo(witnessMemo, JSON.stringify([a, b]), () => computeWitness(a, b));
}

function computeWitness(a: IdentifierFormat, b: IdentifierFormat): Witness {
  if (a.kind === "pattern" && b.kind === "pattern") {
    const o = patternOverlap(a.segments, b.segments);
    return o.overlaps ? { found: true, data: o.witness } : { found: false, complete: true };
  }
  if (a.kind === "gs1" && b.kind === "gs1") return gs1PairWitness(a.ais, b.ais);
  const [pattern, gs1] = a.kind === "pattern" ? [a, b as Extract<IdentifierFormat, { kind: "gs1" }>] : [b as Extract<IdentifierFormat, { kind: "pattern" }>, a];
  return patternGs1Witness(pattern.segments, gs1.ais);
}

/**
 * Whether one string reads as both formats, with the shortest such string found. Pattern pairs
 * are decided exactly (product automaton). With GS1 involved the search is sound and, within the
 * bounds in ADR 013, complete; "undecided" only when a search bound was hit before a witness.
 */
export function decideFormatsOverlap(a: IdentifierFormat, b: IdentifierFormat): FormatOverlap {
  const w = witnessOf(a, b);
  if (w.found) return { overlaps: true, witness: w.data };
  if (!w.complete) return { overlaps: "undecided", reason: "the witness search reached its bound" };
  return { overlaps: false };
}

/**
 * Whether a format on its own prints strings that read as more than one kind: GS1 formats whose
 * variable-length fields can end early (`(10)LOT121SER1` is a lot, or lot LOT1 and serial SER1).
 * A site pattern reads as the kind its format declares; whether it also reads as GS1 matters only
 * next to a GS1 format, and is checked per pair.
 */
export function selfLookAlike(format: NamedFormat): SelfLookAlike | null | { unusable: string } | { undecided: string } {
  if (format.definition.kind !== "gs1") return null;
  const ais = format.definition.ais;
  const found = memo(selfMemo, JSON.stringify(ais), () => selfWitness(ais));
  if (found === null || !("data" in found)) return found;
  const readings = gs1ReadingsOf(found.data);
  const kinds = [...new Set(readings.map((r) => readKindOf(r.classification.kind)))].sort(byText);
  const example = exampleOf(found.data, readings);
  return {
    format: format.code,
    kinds,
    example,
    message: `${format.code} prints ${example.display}, which reads as ${kinds.join(" and ")}: ${example.readings.map((r) => `${r.elementString} (${r.kind})`).join(" | ")}`,
  };
}

function selfWitness(ais: readonly string[]): { data: string } | null | { unusable: string } | { undecided: string } {
  const c = gs1Candidates(ais, requiresClosure([...KEY_AIS, ...ais]));
  if ("reason" in c) return { unusable: c.reason };
  for (const data of c.candidates) {
    const readings = gs1ReadingsOf(data);
    if (!readings.some((r) => holdsAll(r, ais))) continue;
    const kinds = new Set(readings.map((r) => readKindOf(r.classification.kind)));
    kinds.delete("other");
    if (kinds.size >= 2) return { data };
  }
  return c.complete ? null : { undecided: `more than ${MAX_TAILS} candidate tails in one field` };
}

/** Whether two formats can print one string, with an example; null when they cannot (or the search was undecided). */
export function pairLookAlike(a: NamedFormat, b: NamedFormat): PairLookAlike | null {
  const [first, second] = byText(a.code, b.code) <= 0 ? [a, b] : [b, a];
  const w = witnessOf(first.definition, second.definition);
  return w.found ? pairFrom(first, second, w.data) : null;
}

function pairFrom(first: NamedFormat, second: NamedFormat, data: string): PairLookAlike {
  const gs1Involved = first.definition.kind === "gs1" || second.definition.kind === "gs1";
  const example = gs1Involved ? exampleOf(data) : { data, display: showData(data), readings: [] };
  const readsAs = [first, second].map((f) => ({ format: f.code, kind: f.identifies }));
  const kinds = [...new Set<ReadKind>([...readsAs.map((r) => r.kind), ...example.readings.map((r) => r.kind)])].sort(byText);
  const confusion = kinds.filter((k) => k !== "other").length > 1;
  return {
    formats: [first.code, second.code],
    readsAs,
    kinds,
    confusion,
    example,
    message:
      `${example.display} reads as ${first.code} (${first.identifies}) and as ${second.code} (${second.identifies})` +
      (example.readings.length ? `; GS1 readings: ${example.readings.map((r) => `${r.elementString} (${r.kind})`).join(" | ")}` : ""),
  };
}

/**
 * Every look-alike among formats used together (one label template, one work centre, a rule's
 * formats plus the others at its site): self-ambiguous formats and overlapping pairs, each with an
 * example string and the kinds it reads as. Sorted by format codes; duplicates by code are ignored.
 */
export function lookAlikesAmong(formats: readonly NamedFormat[]): LookAlikeReport {
  return lookAlikesFor(
    formats.map((f) => f.code),
    formats,
  );
}

/**
 * The look-alikes that involve `focus` (e.g. the formats of one rule) within `context` (the other
 * formats used at the same place): self-ambiguous focus formats, and pairs with at least one focus
 * format. Unknown codes in `focus` are ignored.
 */
export function lookAlikesFor(focus: readonly string[], context: readonly NamedFormat[]): LookAlikeReport {
  const all = [...new Map(context.map((f) => [f.code, f])).values()].sort((x, y) => byText(x.code, y.code));
  const inFocus = new Set(focus);
  const report: LookAlikeReport = { selfAmbiguous: [], pairs: [], unusable: [], undecided: [] };
  const unusable = new Set<string>();
  for (const f of all) {
    const self = selfLookAlike(f);
    if (self && "unusable" in self) {
      unusable.add(f.code);
      if (inFocus.has(f.code)) report.unusable.push({ format: f.code, reason: self.unusable });
    } else if (self && "undecided" in self) {
      if (inFocus.has(f.code)) report.undecided.push({ formats: [f.code], reason: self.undecided });
    } else if (self && inFocus.has(f.code)) report.selfAmbiguous.push(self);
  }
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i]!;
      const b = all[j]!;
      if (!inFocus.has(a.code) && !inFocus.has(b.code)) continue;
      if (unusable.has(a.code) || unusable.has(b.code)) continue;
      const w = witnessOf(a.definition, b.definition);
      if (w.found) report.pairs.push(pairFrom(a, b, w.data));
      else if (!w.complete) report.undecided.push({ formats: [a.code, b.code], reason: "the witness search reached its bound" });
    }
  }
  return report;
}

export interface TemplateFacts {
  site: string;
  code: string;
  workCentre: string | null;
  formats: readonly string[];
}

/**
 * The formats used together with a material's rule at a site: the rule's own, and those printed by
 * label templates at the site that are site-wide or sit at a work centre where the material is made
 * or consumed (scanned). Sorted codes, and the templates that contributed.
 */
export function formatsUsedWith(params: { site: string; ruleFormats: readonly string[]; workCentres: Iterable<string>; templates: readonly TemplateFacts[] }): {
  codes: string[];
  templates: string[];
} {
  const centres = new Set(params.workCentres);
  const templates = params.templates.filter((t) => t.site === params.site && (t.workCentre === null || centres.has(t.workCentre)));
  const codes = new Set([...params.ruleFormats, ...templates.flatMap((t) => t.formats)]);
  return { codes: [...codes].sort(byText), templates: templates.map((t) => t.code).sort(byText) };
}
