/**
 * Parser for the GS1 Barcode Syntax Dictionary format (see the header of
 * `data/gs1-syntax-dictionary.txt`):
 *
 *   AIs  [Flags]  Specification  [Attributes...]  [# Title]
 *
 * e.g. `01  *?  N14,csum,gcppos2  ex=255,37 dlpkey=22,10,21|235  # GTIN`.
 *
 * The parse is strict: a line that does not follow the grammar throws, so a
 * newer dictionary with syntax this module does not understand fails loudly
 * at start-up (and in the unit tests) instead of being half-applied.
 */

/** N: digits; X: GS1 AI encodable character set 82; Y: CSET 39; Z: CSET 64 (base64url). */
export type ComponentType = "N" | "X" | "Y" | "Z";

export interface AiComponent {
  type: ComponentType;
  min: number;
  max: number;
  /** `[...]` in the dictionary: may be left out once the data is exhausted. */
  optional: boolean;
  /** Names of the linters applied to this component's data, in dictionary order. */
  linters: readonly string[];
}

export interface AiEntry {
  ai: string;
  /** The raw flag characters, e.g. `*?`. */
  flags: string;
  /** `*`: pre-defined length, no FNC1 separator needed after it in a barcode. */
  predefinedLength: boolean;
  /** `?`: permitted as a GS1 Digital Link data attribute (query parameter). */
  dlDataAttribute: boolean;
  components: readonly AiComponent[];
  minLength: number;
  maxLength: number;
  /**
   * One entry per `req=` attribute (all must hold). Each is a list of
   * alternatives; an alternative is a list of AIs or patterns that must all be
   * present (`req=01+21,02` → `[[["01","21"],["02"]]]`).
   */
  requires: readonly (readonly (readonly string[])[])[];
  /** AIs or patterns (`n` = any digit) that must not appear with this AI. */
  excludes: readonly string[];
  /**
   * `dlpkey`: this AI is a Digital Link primary key. Each alternative is an
   * ordered list of optional key qualifiers (`dlpkey=22,10,21|235` →
   * `[["22","10","21"],["235"]]`); a bare `dlpkey` gives `[[]]` (no qualifiers).
   * `null` when the AI is not a primary key.
   */
  dlPrimaryKey: readonly (readonly string[])[] | null;
  /** The specification as written, for display (`N14,csum,gcppos2`). */
  specification: string;
  title: string;
}

export interface Gs1SyntaxDictionary {
  readonly entries: ReadonlyMap<string, AiEntry>;
  /** Distinct AI lengths present (2, 3 and 4 today), shortest first. */
  readonly aiLengths: readonly number[];
  /** The AI that `data` starts with at `pos`, if any (AIs are prefix-free). */
  aiAt(data: string, pos: number): AiEntry | undefined;
}

const FLAG_CHARACTERS = "*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~";
const COMPONENT_PATTERN = /^(\[)?([NXYZ])(?:(\d+)|\.\.(\d+))(\])?((?:,[A-Za-z0-9]+)*)$/;
const AI_PATTERN = /^\d{2,4}$/;
const AI_OR_PATTERN = /^[0-9n]{2,4}$/;

export class SyntaxDictionaryError extends Error {
  constructor(line: number, message: string) {
    super(`GS1 syntax dictionary line ${line}: ${message}`);
    this.name = "SyntaxDictionaryError";
  }
}

function isFlagsToken(token: string): boolean {
  return [...token].every((c) => FLAG_CHARACTERS.includes(c));
}

function expandAis(token: string, line: number): string[] {
  const range = /^(\d{2,4})-(\d{2,4})$/.exec(token);
  if (!range) {
    if (!AI_PATTERN.test(token)) throw new SyntaxDictionaryError(line, `"${token}" is not an AI or AI range`);
    return [token];
  }
  const [, from, to] = range as unknown as [string, string, string];
  if (from.length !== to.length || Number(from) > Number(to)) {
    throw new SyntaxDictionaryError(line, `bad AI range "${token}"`);
  }
  const out: string[] = [];
  for (let n = Number(from); n <= Number(to); n++) out.push(String(n).padStart(from.length, "0"));
  return out;
}

function parseComponent(token: string, line: number): AiComponent {
  const match = COMPONENT_PATTERN.exec(token);
  if (!match) throw new SyntaxDictionaryError(line, `"${token}" is not a component specification`);
  const [, open, type, fixed, variable, close, linterList] = match;
  if (Boolean(open) !== Boolean(close)) throw new SyntaxDictionaryError(line, `unbalanced brackets in "${token}"`);
  const max = Number(fixed ?? variable);
  if (!Number.isInteger(max) || max < 1) throw new SyntaxDictionaryError(line, `bad length in "${token}"`);
  return {
    type: type as ComponentType,
    min: fixed !== undefined ? max : 1,
    max,
    optional: Boolean(open),
    linters: linterList ? linterList.slice(1).split(",") : [],
  };
}

function parseAiList(value: string, line: number, key: string): string[] {
  const items = value.split(",");
  for (const item of items) {
    if (!AI_OR_PATTERN.test(item)) throw new SyntaxDictionaryError(line, `bad AI or pattern "${item}" in ${key}=`);
  }
  return items;
}

/** Whether `ai` matches `pattern`, where `n` in a pattern stands for any digit. */
export function aiMatchesPattern(ai: string, pattern: string): boolean {
  if (ai.length !== pattern.length) return false;
  for (let i = 0; i < ai.length; i++) {
    const p = pattern[i]!;
    if (p === "n" ? !(ai[i]! >= "0" && ai[i]! <= "9") : p !== ai[i]) return false;
  }
  return true;
}

export function parseSyntaxDictionary(text: string): Gs1SyntaxDictionary {
  const entries = new Map<string, AiEntry>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const hash = raw.indexOf("#");
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (body === "") return;
    const title = hash >= 0 ? raw.slice(hash + 1).trim() : "";
    const tokens = body.split(/\s+/);
    const ais = expandAis(tokens[0]!, lineNumber);
    let i = 1;
    let flags = "";
    if (i < tokens.length && isFlagsToken(tokens[i]!)) flags = tokens[i++]!;

    const components: AiComponent[] = [];
    const specTokens: string[] = [];
    while (i < tokens.length && COMPONENT_PATTERN.test(tokens[i]!)) {
      specTokens.push(tokens[i]!);
      components.push(parseComponent(tokens[i++]!, lineNumber));
    }
    if (components.length === 0) throw new SyntaxDictionaryError(lineNumber, "no specification components");
    components.forEach((component, k) => {
      if (component.min !== component.max && k !== components.length - 1) {
        throw new SyntaxDictionaryError(lineNumber, "only the final component may have variable length");
      }
      if (!component.optional && components.slice(0, k).some((c) => c.optional)) {
        throw new SyntaxDictionaryError(lineNumber, "a mandatory component follows an optional one");
      }
    });

    const requires: string[][][] = [];
    const excludes: string[] = [];
    let dlPrimaryKey: string[][] | null = null;
    for (; i < tokens.length; i++) {
      const token = tokens[i]!;
      const eq = token.indexOf("=");
      const key = eq >= 0 ? token.slice(0, eq) : token;
      const value = eq >= 0 ? token.slice(eq + 1) : null;
      if (key === "req" && value) {
        requires.push(value.split(",").map((alternative) => parseAiList(alternative.replaceAll("+", ","), lineNumber, "req")));
      } else if (key === "ex" && value) {
        excludes.push(...parseAiList(value, lineNumber, "ex"));
      } else if (key === "dlpkey") {
        if (dlPrimaryKey) throw new SyntaxDictionaryError(lineNumber, "dlpkey given twice");
        dlPrimaryKey = value === null ? [[]] : value.split("|").map((seq) => parseAiList(seq, lineNumber, "dlpkey"));
      } else {
        throw new SyntaxDictionaryError(lineNumber, `unknown attribute "${token}"`);
      }
    }

    const minLength = components.reduce((sum, c) => sum + (c.optional ? 0 : c.min), 0);
    const maxLength = components.reduce((sum, c) => sum + c.max, 0);
    const predefinedLength = flags.includes("*");
    if (predefinedLength && minLength !== maxLength) {
      throw new SyntaxDictionaryError(lineNumber, "a pre-defined length AI must have a fixed length");
    }
    for (const ai of ais) {
      if (entries.has(ai)) throw new SyntaxDictionaryError(lineNumber, `AI ${ai} defined twice`);
      entries.set(ai, {
        ai,
        flags,
        predefinedLength,
        dlDataAttribute: flags.includes("?"),
        components,
        minLength,
        maxLength,
        requires,
        excludes,
        dlPrimaryKey,
        specification: specTokens.join(" "),
        title,
      });
    }
  });

  // Element strings are read without delimiters between an AI and its value,
  // which only works because no AI is a prefix of another. Check it rather
  // than assume it of a future dictionary.
  const all = [...entries.keys()];
  for (const a of all) {
    for (const b of all) {
      if (a !== b && b.startsWith(a)) throw new Error(`GS1 syntax dictionary: AI ${a} is a prefix of AI ${b}`);
    }
  }
  const aiLengths = [...new Set(all.map((ai) => ai.length))].sort((x, y) => x - y);
  return {
    entries,
    aiLengths,
    aiAt(data: string, pos: number) {
      for (const length of aiLengths) {
        const entry = entries.get(data.slice(pos, pos + length));
        if (entry && pos + length <= data.length) return entry;
      }
      return undefined;
    },
  };
}
