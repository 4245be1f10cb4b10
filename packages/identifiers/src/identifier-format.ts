/**
 * How labels identify serials, lots and containers.
 *
 * A format is either a list of GS1 Application Identifiers or a site pattern
 * in a deliberately tiny grammar (fixed literals and bounded character-class
 * runs). Free regular expressions are excluded on purpose: with this grammar
 * every pattern is a finite linear automaton, so whether two formats can read
 * the same label is decidable exactly and cheaply.
 */
import { z } from "zod";

export const CHAR_CLASSES = ["digit", "upper", "lower", "alpha", "alnum", "upperAlnum", "hex"] as const;

export const MAX_LITERAL_LENGTH = 32;
export const MAX_CLASS_RUN = 48;
export const MAX_SEGMENTS = 16;
export const MAX_PATTERN_LENGTH = 96;
export const MAX_GS1_AIS = 10;

export const charClassSchema = z.enum(CHAR_CLASSES);

const literalSegmentSchema = z.strictObject({
  literal: z
    .string()
    .min(1)
    .max(MAX_LITERAL_LENGTH)
    .regex(/^[\x21-\x7E]+$/, "Literal must be printable ASCII without spaces (0x21-0x7E)"),
  // Present only so the union can be discriminated on `class`, which gives
  // field-level errors instead of an opaque "no union member matched".
  class: z.undefined().optional(),
});

const classSegmentSchema = z
  .strictObject({
    class: charClassSchema,
    min: z.number().int().min(1).max(MAX_CLASS_RUN),
    max: z.number().int().min(1).max(MAX_CLASS_RUN),
  })
  .refine((segment) => segment.min <= segment.max, {
    message: "max must be greater than or equal to min",
    path: ["max"],
  });

export const patternSegmentSchema = z.discriminatedUnion("class", [literalSegmentSchema, classSegmentSchema], {
  error: (issue) => (issue.code === "invalid_union" ? `Unknown character class; expected one of ${CHAR_CLASSES.join(", ")} (or a literal segment)` : undefined),
});

const gs1FormatSchema = z.strictObject({
  kind: z.literal("gs1"),
  ais: z
    .array(z.string().regex(/^\d{2,4}$/, "GS1 Application Identifier must be 2-4 digits"))
    .min(1)
    .max(MAX_GS1_AIS)
    .refine((ais) => new Set(ais).size === ais.length, { message: "GS1 Application Identifiers must not repeat" }),
});

const patternFormatSchema = z.strictObject({
  kind: z.literal("pattern"),
  segments: z
    .array(patternSegmentSchema)
    .min(1)
    .max(MAX_SEGMENTS)
    .refine((segments) => patternMaxLength(segments) <= MAX_PATTERN_LENGTH, {
      error: (issue) => `Pattern allows up to ${patternMaxLength(issue.input as PatternSegment[])} characters; the limit is ${MAX_PATTERN_LENGTH}`,
    }),
});

export const identifierFormatSchema = z.discriminatedUnion("kind", [gs1FormatSchema, patternFormatSchema]);

export type CharClass = z.infer<typeof charClassSchema>;
export type PatternSegment = z.infer<typeof patternSegmentSchema>;
export type IdentifierFormat = z.infer<typeof identifierFormatSchema>;

export type PatternOverlap = { overlaps: false } | { overlaps: true; witness: string };
export type FormatOverlap = PatternOverlap | { overlaps: "undecided"; reason: string };

function patternMaxLength(segments: readonly PatternSegment[]): number {
  return segments.reduce((total, s) => total + ("literal" in s ? s.literal.length : s.max), 0);
}

export function describeFormat(format: IdentifierFormat): string {
  if (format.kind === "gs1") return `GS1 ${format.ais.map((ai) => `(${ai})`).join("+")}`;
  return format.segments
    .map((s) => {
      if ("literal" in s) return JSON.stringify(s.literal);
      return s.min === s.max ? `${s.min} ${s.class}` : `${s.min}-${s.max} ${s.class}`;
    })
    .join(" + ");
}

// ---------------------------------------------------------------------------
// Automata
//
// A pattern expands into a chain of character positions. A literal contributes
// one mandatory position per character; a class run contributes `min`
// mandatory positions followed by `max - min` optional ones. NFA state i means
// "i positions consumed"; from an optional position the automaton may jump
// (epsilon) to the end of its segment. Because every segment has at least one
// mandatory position, these jumps never chain across segments.
//
// Character sets are bigint bitmasks indexed by UTF-16 code unit, which makes
// intersection a single `&` and keeps literals outside ASCII representable.
// ---------------------------------------------------------------------------

function rangeMask(from: string, to: string): bigint {
  let mask = 0n;
  for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) mask |= 1n << BigInt(code);
  return mask;
}

const DIGIT = rangeMask("0", "9");
const UPPER = rangeMask("A", "Z");
const LOWER = rangeMask("a", "z");

const CLASS_MASKS: Record<CharClass, bigint> = {
  digit: DIGIT,
  upper: UPPER,
  lower: LOWER,
  alpha: UPPER | LOWER,
  alnum: UPPER | LOWER | DIGIT,
  upperAlnum: UPPER | DIGIT,
  hex: DIGIT | rangeMask("A", "F"),
};

interface Position {
  chars: bigint;
  /** Set on optional positions: the state reached by skipping the rest of the segment. */
  skipTo?: number;
}

interface LinearNfa {
  positions: Position[];
  /** The accepting state: all positions consumed (or skipped). */
  end: number;
}

function compile(segments: readonly PatternSegment[]): LinearNfa {
  const positions: Position[] = [];
  for (const segment of segments) {
    if ("literal" in segment) {
      for (let i = 0; i < segment.literal.length; i++) {
        positions.push({ chars: 1n << BigInt(segment.literal.charCodeAt(i)) });
      }
      continue;
    }
    const { min, max } = segment;
    // Guards the loops below against unvalidated input such as max: Infinity.
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || min > max || max > MAX_CLASS_RUN) {
      throw new Error(`Invalid ${segment.class} segment {min: ${min}, max: ${max}}; parse with patternSegmentSchema first`);
    }
    const chars = CLASS_MASKS[segment.class];
    const segmentEnd = positions.length + max;
    for (let i = 0; i < max; i++) {
      positions.push(i < min ? { chars } : { chars, skipTo: segmentEnd });
    }
  }
  return { positions, end: positions.length };
}

/** States reachable from `state` without consuming input (at most two, see above). */
function closure(nfa: LinearNfa, state: number): number[] {
  const states = [state];
  let current = state;
  for (;;) {
    const skipTo = nfa.positions[current]?.skipTo;
    if (skipTo === undefined) return states;
    states.push(skipTo);
    current = skipTo;
  }
}

export function matchesPattern(segments: readonly PatternSegment[], s: string): boolean {
  const nfa = compile(segments);
  if (s.length > nfa.end) return false;
  let states = new Set(closure(nfa, 0));
  for (let i = 0; i < s.length && states.size > 0; i++) {
    const bit = 1n << BigInt(s.charCodeAt(i));
    const next = new Set<number>();
    for (const state of states) {
      const position = nfa.positions[state];
      if (position && (position.chars & bit) !== 0n) {
        for (const reached of closure(nfa, state + 1)) next.add(reached);
      }
    }
    states = next;
  }
  return states.has(nfa.end);
}

/**
 * Several patterns compiled once into one matcher, for scanning at the line (scan-decision.ts): the
 * same linear NFAs as `matchesPattern` (same `compile`, same `closure`), run together and turned
 * into a DFA over ASCII by the subset construction (characters every position treats alike share a
 * column), so a match is one table lookup per character and allocates nothing. Each DFA state knows which patterns accept there. Past MAX_DFA_STATES
 * (patterns that multiply each other's states) it falls back to `matchesPattern` per pattern —
 * slower, same answers.
 */
export interface PatternSetMatcher {
  /** Indexes (into the compiled list, ascending) of the patterns `s` matches; a shared frozen array. */
  match(s: string): readonly number[];
  /** "dfa" normally; "nfa" when the DFA would have exceeded its bound. */
  readonly mode: "dfa" | "nfa";
  readonly states: number;
}

const ALPHABET = 128;
const MAX_DFA_STATES = 4096;
const NO_MATCH: readonly number[] = Object.freeze([]);

export function compilePatternSet(patterns: readonly (readonly PatternSegment[])[]): PatternSetMatcher {
  const nfas = patterns.map((segments) => compile(segments));
  const fallback = (): PatternSetMatcher => {
    const all = patterns.map((_, i) => i);
    return {
      mode: "nfa",
      states: 0,
      match(s) {
        const hits = all.filter((i) => matchesPattern(patterns[i]!, s));
        return hits.length ? hits : NO_MATCH;
      },
    };
  };
  // Global NFA state ids: pattern i's state j is offsets[i] + j (j = 0 … end).
  const offsets: number[] = [];
  let total = 0;
  for (const nfa of nfas) {
    offsets.push(total);
    total += nfa.end + 1;
  }
  const owner = new Int32Array(total);
  const local = new Int32Array(total);
  // consumes[g][c]: whether global state g consumes character c (ASCII only: literals are printable ASCII).
  const consumes: Uint8Array[] = [];
  for (let i = 0; i < nfas.length; i++) {
    const nfa = nfas[i]!;
    for (let j = 0; j <= nfa.end; j++) {
      const g = offsets[i]! + j;
      owner[g] = i;
      local[g] = j;
      const row = new Uint8Array(ALPHABET);
      const chars = nfa.positions[j]?.chars ?? 0n;
      if (chars >> BigInt(ALPHABET) !== 0n) return fallback();
      for (let c = 0; c < ALPHABET; c++) if (((chars >> BigInt(c)) & 1n) === 1n) row[c] = 1;
      consumes.push(row);
    }
  }
  const closed = (i: number, j: number) => closure(nfas[i]!, j).map((s) => offsets[i]! + s);
  // Characters that every position treats alike share a column (digits, A-F, G-Z, each literal…).
  const columnOf = new Int32Array(ALPHABET);
  const columns: number[] = []; // a representative character per column
  const bySignature = new Map<string, number>();
  for (let c = 0; c < ALPHABET; c++) {
    let signature = "";
    for (let g = 0; g < total; g++) signature += consumes[g]![c] ? "1" : "0";
    let column = bySignature.get(signature);
    if (column === undefined) {
      column = columns.length;
      bySignature.set(signature, column);
      columns.push(c);
    }
    columnOf[c] = column;
  }
  const width = columns.length;

  const ids = new Map<string, number>();
  const sets: number[][] = [];
  const intern = (set: number[]): number => {
    const key = set.join(",");
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.length;
      ids.set(key, id);
      sets.push(set);
    }
    return id;
  };
  const dead = intern([]);
  const start = intern([...new Set(nfas.flatMap((_, i) => closed(i, 0)))].sort((a, b) => a - b));
  const rows: Int32Array[] = [];
  for (let state = 0; state < sets.length; state++) {
    if (sets.length > MAX_DFA_STATES) return fallback();
    const row = new Int32Array(width).fill(dead);
    const members = sets[state]!;
    if (members.length) {
      for (let column = 0; column < width; column++) {
        const c = columns[column]!;
        const next = new Set<number>();
        for (const g of members) if (consumes[g]![c]) for (const reached of closed(owner[g]!, local[g]! + 1)) next.add(reached);
        if (next.size) row[column] = intern([...next].sort((a, b) => a - b));
      }
    }
    rows.push(row);
  }
  const table = new Int32Array(sets.length * width);
  rows.forEach((row, state) => table.set(row, state * width));
  const accepting: (readonly number[])[] = sets.map((members) => {
    const hits = members.filter((g) => local[g] === nfas[owner[g]!]!.end).map((g) => owner[g]!);
    return hits.length ? Object.freeze([...new Set(hits)].sort((a, b) => a - b)) : NO_MATCH;
  });
  return {
    mode: "dfa",
    states: sets.length,
    match(s) {
      let state = start;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= ALPHABET) return NO_MATCH;
        state = table[state * width + columnOf[c]!]!;
        if (state === dead) return NO_MATCH;
      }
      return accepting[state]!;
    },
  };
}

function lowestChar(mask: bigint): string {
  let code = 0;
  while (((mask >> BigInt(code)) & 1n) === 0n) code++;
  return String.fromCharCode(code);
}

interface ProductEdge {
  chars: bigint;
  target: number;
}

/**
 * Decides whether some string matches both patterns, via the product of the
 * two linear NFAs. The witness is the lexicographically smallest among the
 * shortest common strings, so it is stable across runs and easy to read in
 * a conflict report.
 */
export function patternOverlap(a: readonly PatternSegment[], b: readonly PatternSegment[]): PatternOverlap {
  const nfaA = compile(a);
  const nfaB = compile(b);
  const width = nfaB.end + 1;
  const pair = (i: number, j: number) => i * width + j;
  const start = pair(0, 0);

  // Forward exploration of reachable product states, recording edges.
  const edges = new Map<number, ProductEdge[]>();
  const accepting: number[] = [];
  const queue = [start];
  edges.set(start, []);
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    const i = Math.floor(node / width);
    const j = node % width;
    const closureA = closure(nfaA, i);
    const closureB = closure(nfaB, j);
    if (closureA.includes(nfaA.end) && closureB.includes(nfaB.end)) accepting.push(node);
    const out = edges.get(node)!;
    for (const ia of closureA) {
      const positionA = nfaA.positions[ia];
      if (!positionA) continue;
      for (const jb of closureB) {
        const positionB = nfaB.positions[jb];
        if (!positionB) continue;
        const chars = positionA.chars & positionB.chars;
        if (chars === 0n) continue;
        const target = pair(ia + 1, jb + 1);
        out.push({ chars, target });
        if (!edges.has(target)) {
          edges.set(target, []);
          queue.push(target);
        }
      }
    }
  }
  if (accepting.length === 0) return { overlaps: false };

  // Backward BFS: distance (in characters) from each product state to acceptance.
  const incoming = new Map<number, number[]>();
  for (const [source, out] of edges) {
    for (const { target } of out) {
      const sources = incoming.get(target);
      if (sources) sources.push(source);
      else incoming.set(target, [source]);
    }
  }
  const distance = new Map<number, number>(accepting.map((node) => [node, 0]));
  const backward = [...accepting];
  for (let head = 0; head < backward.length; head++) {
    const node = backward[head]!;
    const d = distance.get(node)!;
    for (const source of incoming.get(node) ?? []) {
      if (!distance.has(source)) {
        distance.set(source, d + 1);
        backward.push(source);
      }
    }
  }

  // Every reachable state got explored forward, and an accepting one exists,
  // so the start state has a distance.
  let remaining = distance.get(start)!;
  let frontier = new Set([start]);
  let witness = "";
  while (remaining > 0) {
    const onShortestPath: ProductEdge[] = [];
    for (const node of frontier) {
      for (const edge of edges.get(node)!) {
        if (distance.get(edge.target) === remaining - 1) onShortestPath.push(edge);
      }
    }
    // biome-ignore lint/complexity/useMathMinMax: the smallest of strings (characters), not numbers
    const char = onShortestPath.map((edge) => lowestChar(edge.chars)).reduce((x, y) => (y < x ? y : x));
    const bit = 1n << BigInt(char.charCodeAt(0));
    frontier = new Set(onShortestPath.filter((edge) => (edge.chars & bit) !== 0n).map((edge) => edge.target));
    witness += char;
    remaining--;
  }
  return { overlaps: true, witness };
}
