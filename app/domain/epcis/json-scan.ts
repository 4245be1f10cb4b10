/**
 * A byte-level check of an EPCIS JSON document, run on each chunk before the bytes reach the JSON
 * tokenizer (ADR 016, *EPCIS documents*). It builds no values: it validates UTF-8 and the JSON
 * grammar and enforces the limits of `EPCIS_INPUT_LIMITS` (nesting depth, string length, one
 * event's size, the header's size, members per object and elements per array, number range,
 * duplicate member names), so a 1 GiB string or a million-deep array is refused after at most a
 * limit's worth of bytes and never reaches the tokenizer's buffers. Every refusal is located by
 * byte offset (0-based), line and column (1-based; columns count characters) and, where known, the
 * JSON pointer and the event index.
 *
 * Memory: one string of at most `maxStringBytes` (a member name being read), the open containers
 * (at most `maxDepth`) and the member names of the open objects — bounded by the event and header
 * size limits.
 */
import type { EpcisIssue } from "./validate";

/** The limits on an EPCIS document's shape (ADR 016); the reasons for each figure are there. */
export const EPCIS_INPUT_LIMITS = {
  /** Open objects and arrays, the document itself included (EPCIS needs about 10). */
  maxDepth: 64,
  /** One string or member name, in bytes as written (escapes count as written). */
  maxStringBytes: 64 * 1024,
  /** One number literal, in characters. */
  maxNumberChars: 100,
  /** One element of `epcisBody.eventList`, in bytes. */
  maxEventBytes: 4 * 1024 * 1024,
  /** Everything outside `epcisBody.eventList` (the header is held in memory whole), in bytes. */
  maxHeaderBytes: 4 * 1024 * 1024,
  /** Members of one object. */
  maxMembers: 10_000,
  /** Elements of one array other than `epcisBody.eventList` (which is unbounded). */
  maxElements: 100_000,
} as const;

export type EpcisInputLimits = { readonly [K in keyof typeof EPCIS_INPUT_LIMITS]: number };

export interface ByteLocation {
  /** 0-based byte offset in the file. */
  byte: number;
  /** 1-based line (lines end at LF). */
  line: number;
  /** 1-based column, in characters (a UTF-8 byte order mark is not counted). */
  column: number;
}

export type LocatedIssue = EpcisIssue & { location: ByteLocation };

interface Frame {
  object: boolean;
  /** Object: the member being read (null between members). */
  key: string | null;
  /** Members or elements started so far. */
  count: number;
  /** Member names read so far: a list while short, a set beyond `SHORT_OBJECT`. */
  keys: string[];
  keySet: Set<string> | null;
  eventList: boolean;
}

// Grammar modes.
const START = 0;
const VALUE = 1;
const ARRAY_FIRST = 2;
const OBJECT_FIRST = 3;
const OBJECT_NEXT = 4;
const COLON = 5;
const AFTER_VALUE = 6;
const STRING = 7;
const ESCAPE = 8;
const UNICODE = 9;
const NUMBER = 10;
const LITERAL = 11;
const DONE = 12;

// Number sub-states.
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_EXP = 5;
const N_EXP_SIGN = 6;
const N_EXP_DIGITS = 7;

const WHITESPACE = new Uint8Array(256);
WHITESPACE[0x20] = WHITESPACE[0x09] = WHITESPACE[0x0a] = WHITESPACE[0x0d] = 1;
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

const UTF8 = new TextDecoder();
/** Objects with up to this many members check a new name against a list, larger ones against a set. */
const SHORT_OBJECT = 16;
const hex2 = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, "0")}`;
const printable = (b: number) => (b >= 0x21 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte ${hex2(b)}`);
const figure = (n: number) => n.toLocaleString("en-US");

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

export class EpcisJsonScanner {
  /** Notes on an accepted document (a UTF-8 byte order mark). */
  readonly notices: EpcisIssue[] = [];
  private readonly limits: EpcisInputLimits;
  private refusal: LocatedIssue | null = null;
  private offset = 0;
  private line = 1;
  private column = 0;
  private mode = START;
  /** The open containers are `pool[0 .. depth - 1]` (frames are reused: no allocation per value). */
  private readonly pool: Frame[] = [];
  private depth = 0;
  // UTF-8 sequence being read.
  private need = 0;
  private low = 0x80;
  private high = 0xbf;
  private codePoint = 0;
  private leadByte = 0;
  private sequenceAt: ByteLocation = { byte: 0, line: 1, column: 1 };
  // String being read.
  private stringIsKey = false;
  private stringBytes = 0;
  private stringAtByte = 0;
  private stringAtLine = 1;
  private stringAtColumn = 1;
  private keyBytes: Uint8Array;
  private keyEscaped = false;
  private keyAscii = true;
  private unicodeDigits = 0;
  private unicodeValue = 0;
  private needLowSurrogate = false;
  // Number being read.
  private numberState = N_MINUS;
  private numberText = "";
  private numberAtByte = 0;
  private numberAtColumn = 1;
  // Literal (true, false, null) being read.
  private literal = "";
  private literalIndex = 0;
  // Event and header sizes.
  private eventListDepth = 0;
  private eventStart = -1;
  private eventIndex = -1;
  private headerBytes = 0;
  private readonly names = new Map<number, string>();

  constructor(limits: EpcisInputLimits = EPCIS_INPUT_LIMITS) {
    this.limits = limits;
    this.keyBytes = new Uint8Array(Math.min(1024, limits.maxStringBytes));
  }

  /** The refusal, once one was found (later input is ignored). */
  get refused(): LocatedIssue | null {
    return this.refusal;
  }

  /** Bytes read so far. */
  get bytes(): number {
    return this.offset;
  }

  /**
   * Checks one chunk. Returns the refusal, or null when every byte of the chunk is acceptable so
   * far; after a refusal it returns that refusal again without reading.
   */
  write(chunk: Uint8Array): LocatedIssue | null {
    if (this.refusal) return this.refusal;
    const limits = this.limits;
    const length = chunk.length;
    for (let i = 0; i < length; i++) {
      if (this.mode === STRING && this.need === 0 && !this.needLowSurrogate) {
        // Fast path: a run of plain ASCII string bytes, taken in one step unless it would cross a limit
        // (then byte by byte below, which refuses at the exact byte).
        let j = i;
        while (j < length) {
          const c = chunk[j]!;
          if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) break;
          j++;
        }
        const run = j - i;
        if (
          run > 1 &&
          this.stringBytes + run <= limits.maxStringBytes &&
          (this.eventListDepth === 0
            ? this.headerBytes + run <= limits.maxHeaderBytes
            : this.eventStart < 0 || this.offset + run - this.eventStart <= limits.maxEventBytes)
        ) {
          if (this.stringIsKey) {
            while (this.stringBytes + run > this.keyBytes.length) this.growKey();
            this.keyBytes.set(chunk.subarray(i, j), this.stringBytes);
          }
          this.stringBytes += run;
          this.offset += run;
          this.column += run;
          if (this.eventListDepth === 0) this.headerBytes += run;
          i = j;
          if (i === length) break;
        }
      }
      const b = chunk[i]!;
      const here = this.offset;
      this.offset++;
      if (this.need === 0) this.column++;
      // Sizes: bytes outside the event list count for the header, bytes of one event for it.
      if (this.eventListDepth === 0) {
        if (++this.headerBytes > limits.maxHeaderBytes)
          return this.refuse(
            this.at(here),
            `the document's header (everything outside epcisBody.eventList) is larger than ${figure(limits.maxHeaderBytes)} bytes`,
          );
      } else if (this.eventStart >= 0 && here - this.eventStart >= limits.maxEventBytes) {
        return this.refuse(this.at(here), `event ${this.eventIndex} is larger than ${figure(limits.maxEventBytes)} bytes`, this.eventPointer());
      }
      if (this.need > 0) {
        // A continuation byte of a multi-byte character (only inside strings: a lead byte outside one was refused).
        if (b < this.low || b > this.high) return this.badSequence(b);
        this.low = 0x80;
        this.high = 0xbf;
        this.codePoint = (this.codePoint << 6) | (b & 0x3f);
        this.need--;
        if (this.mode === START) {
          if (this.need === 0) {
            if (this.codePoint !== 0xfeff) return this.refuse(this.sequenceAt, "the document does not start with a JSON value");
            this.notices.push({ eventIndex: null, path: "", message: "the document starts with a UTF-8 byte order mark (ignored)" });
            this.column = 0;
          }
          continue;
        }
        if (this.stringIsKey) this.keyByte(b);
        if (++this.stringBytes > limits.maxStringBytes) return this.stringTooLong(here);
        continue;
      }
      if (b >= 0x80) {
        // A lead byte (Unicode 15, table 3-7).
        this.sequenceAt = { byte: here, line: this.line, column: this.column };
        this.leadByte = b;
        if (b >= 0xc2 && b <= 0xdf) {
          this.need = 1;
          this.codePoint = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          this.need = 2;
          this.codePoint = b & 0x0f;
          if (b === 0xe0) this.low = 0xa0;
          else if (b === 0xed) this.high = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          this.need = 3;
          this.codePoint = b & 0x07;
          if (b === 0xf0) this.low = 0x90;
          else if (b === 0xf4) this.high = 0x8f;
        } else if (here === 0 && (b === 0xff || b === 0xfe)) {
          return this.refuse(
            this.sequenceAt,
            `the document starts with byte ${hex2(b)}, a UTF-16 or UTF-32 byte order mark: EPCIS JSON must be UTF-8 (RFC 8259 §8.1); convert the file to UTF-8`,
          );
        } else {
          const why = b <= 0xbf ? "continues no character" : b <= 0xc1 ? "would start an overlong encoding" : "is never used in UTF-8";
          return this.refuse(this.sequenceAt, `invalid UTF-8: byte ${hex2(b)} ${why}`);
        }
        if (this.mode === START && here === 0 && b === 0xef) continue;
        if (this.mode !== STRING) return this.refuse(this.sequenceAt, `unexpected non-ASCII character outside a string${this.expected()}`);
        if (this.needLowSurrogate) return this.refuse(this.sequenceAt, "a UTF-16 high surrogate escape not followed by a low one");
        if (this.stringIsKey) {
          this.keyByte(b);
          this.keyAscii = false;
        }
        if (++this.stringBytes > limits.maxStringBytes) return this.stringTooLong(here);
        continue;
      }
      if (b === 0 && here < 4)
        return this.refuse(this.at(here), "byte 0x00 at the start: the document looks like UTF-16 or UTF-32; EPCIS JSON must be UTF-8 (RFC 8259 §8.1)");
      if (b === 0x0a) {
        // The location of the LF itself is the end of its line.
        const refusal = this.grammar(b, here);
        this.line++;
        this.column = 0;
        if (refusal) return refusal;
        continue;
      }
      const refusal = this.grammar(b, here);
      if (refusal) return refusal;
    }
    return null;
  }

  /** The end of the document: refuses one that ends early, or holds nothing. */
  end(): LocatedIssue | null {
    if (this.refusal) return this.refusal;
    const at = this.at(this.offset);
    if (this.need > 0) return this.refuse(this.sequenceAt, "invalid UTF-8: the file ends inside a multi-byte character");
    if (this.mode === NUMBER) {
      const refusal = this.endNumber();
      if (refusal) return refusal;
    }
    if (this.mode === DONE) return null;
    if (this.offset === 0) return this.refuse(at, "the file is empty");
    if (this.mode === START) return this.refuse(at, "the document holds no JSON value");
    const inside = this.mode === STRING || this.mode === ESCAPE || this.mode === UNICODE ? "a string" : this.top()?.object ? "an object" : "an array";
    return this.refuse(at, `the document ends early, inside ${inside} (${this.depth} container(s) still open)`);
  }

  private stringAt(): ByteLocation {
    return { byte: this.stringAtByte, line: this.stringAtLine, column: this.stringAtColumn };
  }

  /** Numbers hold no line break: the line is the current one. */
  private numberAt(): ByteLocation {
    return { byte: this.numberAtByte, line: this.line, column: this.numberAtColumn };
  }

  private top(): Frame | undefined {
    return this.depth ? this.pool[this.depth - 1] : undefined;
  }

  private at(byte: number): ByteLocation {
    // The current byte is the last one counted in `column`; a location at the end points past it.
    return byte < this.offset ? { byte, line: this.line, column: this.column } : { byte, line: this.line, column: this.column + 1 };
  }

  private refuse(location: ByteLocation, problem: string, pointer = this.pointer()): LocatedIssue {
    const { eventIndex } = this;
    this.refusal = {
      eventIndex: this.eventStart >= 0 ? eventIndex : null,
      path: pointer,
      message: `${problem} (at byte ${figure(location.byte)}, line ${figure(location.line)}, column ${figure(location.column)})`,
      location,
    };
    return this.refusal;
  }

  private badSequence(b: number): LocatedIssue {
    const lead = this.leadByte;
    const problem =
      b < 0x80 || b > 0xbf
        ? `a character cut short by byte ${hex2(b)}`
        : lead === 0xe0 || lead === 0xf0
          ? "an overlong encoding"
          : lead === 0xed
            ? "an encoded UTF-16 surrogate (U+D800–U+DFFF)"
            : "a code point beyond U+10FFFF";
    return this.refuse(this.sequenceAt, `invalid UTF-8: ${problem}`);
  }

  private stringTooLong(_here: number): LocatedIssue {
    const what = this.stringIsKey ? "a member name" : "a string";
    return this.refuse(this.stringAt(), `${what} longer than ${figure(this.limits.maxStringBytes)} bytes (${figure(this.stringBytes)} bytes read so far)`);
  }

  private keyByte(b: number): void {
    if (this.stringBytes >= this.keyBytes.length) this.growKey();
    this.keyBytes[this.stringBytes] = b;
  }

  private growKey(): void {
    const grown = new Uint8Array(Math.min(this.keyBytes.length * 2, this.limits.maxStringBytes + 8));
    grown.set(this.keyBytes);
    this.keyBytes = grown;
  }

  /** JSON pointer of the value being read. */
  private pointer(): string {
    let pointer = "";
    for (let k = 0; k < this.depth; k++) {
      const frame = this.pool[k]!;
      if (frame.object) {
        if (frame.key === null) break;
        pointer += `/${frame.key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      } else {
        if (frame.count === 0) break;
        pointer += `/${frame.count - 1}`;
      }
    }
    return pointer;
  }

  private eventPointer(): string {
    return `/epcisBody/eventList/${this.eventIndex}`;
  }

  private expected(): string {
    switch (this.mode) {
      case START:
      case VALUE:
        return ", expected a value";
      case ARRAY_FIRST:
        return ", expected a value or ']'";
      case OBJECT_FIRST:
        return ", expected a member name in double quotes or '}'";
      case OBJECT_NEXT:
        return ", expected a member name in double quotes";
      case COLON:
        return ", expected ':'";
      case AFTER_VALUE:
        return this.top()!.object ? ", expected ',' or '}'" : ", expected ',' or ']'";
      case DONE:
        return " after the end of the document";
      default:
        return "";
    }
  }

  private push(object: boolean, here: number): LocatedIssue | null {
    if (this.depth >= this.limits.maxDepth) return this.refuse(this.at(here), `objects and arrays nested deeper than ${this.limits.maxDepth} levels`);
    // `epcisBody.eventList` of the document object.
    const eventList =
      !object && this.depth === 2 && this.pool[0]!.object && this.pool[0]!.key === "epcisBody" && this.pool[1]!.object && this.pool[1]!.key === "eventList";
    let frame = this.pool[this.depth];
    if (!frame) {
      frame = { object, key: null, count: 0, keys: [], keySet: null, eventList };
      this.pool.push(frame);
    } else {
      frame.object = object;
      frame.key = null;
      frame.count = 0;
      frame.eventList = eventList;
    }
    this.depth++;
    if (eventList) this.eventListDepth = 3;
    this.mode = object ? OBJECT_FIRST : ARRAY_FIRST;
    return null;
  }

  /** A value starts in the current container: counts it and notes where an event starts. */
  private startValue(here: number): LocatedIssue | null {
    const frame = this.top();
    if (!frame || frame.object) return null;
    frame.count++;
    if (frame.eventList) {
      this.eventStart = here;
      this.eventIndex = frame.count - 1;
    } else if (frame.count > this.limits.maxElements) {
      return this.refuse(this.at(here), `an array with more than ${figure(this.limits.maxElements)} elements`);
    }
    return null;
  }

  private afterValue(): void {
    const frame = this.top();
    if (!frame) {
      this.mode = DONE;
      return;
    }
    if (frame.eventList) this.eventStart = -1;
    this.mode = AFTER_VALUE;
  }

  private pop(): void {
    const frame = this.pool[--this.depth]!;
    frame.keys.length = 0;
    frame.keySet = null;
    if (frame.eventList) this.eventListDepth = 0;
    this.afterValue();
  }

  private endKey(): LocatedIssue | null {
    const frame = this.top()!;
    const raw = this.keyBytes.subarray(0, this.stringBytes);
    let key: string;
    if (!this.keyEscaped && this.keyAscii && raw.length <= 64) key = this.internAscii(raw);
    else {
      const text = UTF8.decode(raw);
      key = this.keyEscaped ? (JSON.parse(`"${text}"`) as string) : text;
    }
    let seen = false;
    if (frame.keySet) seen = frame.keySet.has(key);
    else for (let k = 0; k < frame.keys.length && !seen; k++) seen = frame.keys[k] === key;
    if (seen) {
      frame.key = key;
      return this.refuse(
        this.stringAt(),
        `member "${key.length > 80 ? `${key.slice(0, 80)}…` : key}" appears twice in one object (I-JSON, RFC 7493 §2.3; RFC 8785 refuses it too)`,
      );
    }
    if (frame.keySet) frame.keySet.add(key);
    else {
      frame.keys.push(key);
      if (frame.keys.length > SHORT_OBJECT) {
        frame.keySet = new Set(frame.keys);
        frame.keys.length = 0;
      }
    }
    frame.key = key;
    return null;
  }

  /**
   * A plain ASCII member name as a string, from a cache: documents repeat the same few names, and
   * building a string per member was most of the scan's time.
   */
  private internAscii(raw: Uint8Array): string {
    let hash = 0x811c9dc5;
    for (let k = 0; k < raw.length; k++) hash = Math.imul(hash ^ raw[k]!, 0x01000193);
    const cached = this.names.get(hash);
    if (cached !== undefined && cached.length === raw.length) {
      let same = true;
      for (let k = 0; k < raw.length; k++)
        if (cached.charCodeAt(k) !== raw[k]) {
          same = false;
          break;
        }
      if (same) return cached;
    }
    const key = String.fromCharCode.apply(null, raw as unknown as number[]);
    if (this.names.size >= 4096) this.names.clear();
    this.names.set(hash, key);
    return key;
  }

  private endNumber(): LocatedIssue | null {
    const text = this.numberText;
    if (this.numberState !== N_ZERO && this.numberState !== N_INT && this.numberState !== N_FRAC && this.numberState !== N_EXP_DIGITS)
      return this.refuse(this.numberAt(), `the number ${text} is incomplete`);
    const value = Number(text);
    if (!Number.isFinite(value)) return this.refuse(this.numberAt(), `the number ${text} is beyond the range of a 64-bit floating-point number`);
    if (this.numberState === N_INT && !Number.isSafeInteger(value))
      return this.refuse(
        this.numberAt(),
        `the integer ${text} is beyond ±9,007,199,254,740,991 (2^53 − 1) and would lose precision (I-JSON, RFC 7493 §2.2); write it as a string`,
      );
    if (value === 0 && /[1-9]/.test(text.split(/[eE]/)[0]!))
      return this.refuse(this.numberAt(), `the number ${text} is too small for a 64-bit floating-point number and would read as 0`);
    this.afterValue();
    return null;
  }

  /** One ASCII byte (or the lead byte handled above) through the JSON grammar. */
  private grammar(b: number, here: number): LocatedIssue | null {
    for (;;) {
      switch (this.mode) {
        case STRING:
          if (this.needLowSurrogate && b !== 0x5c) return this.refuse(this.at(here), "a UTF-16 high surrogate escape not followed by a low one");
          if (b === 0x22) {
            if (this.stringIsKey) {
              const refusal = this.endKey();
              if (refusal) return refusal;
              this.mode = COLON;
            } else this.afterValue();
            return null;
          }
          if (b < 0x20) return this.refuse(this.at(here), `control character ${hex2(b)} in a string (write it as an escape, e.g. \\n)`);
          if (b === 0x5c) {
            this.mode = ESCAPE;
            if (this.stringIsKey) this.keyEscaped = true;
          }
          if (this.stringIsKey) this.keyByte(b);
          if (++this.stringBytes > this.limits.maxStringBytes) return this.stringTooLong(here);
          return null;
        case ESCAPE:
          if (this.needLowSurrogate && b !== 0x75) return this.refuse(this.at(here), "a UTF-16 high surrogate escape not followed by a low one");
          if (b === 0x75) {
            this.mode = UNICODE;
            this.unicodeDigits = 0;
            this.unicodeValue = 0;
          } else if (SIMPLE_ESCAPE[b]) this.mode = STRING;
          else return this.refuse(this.at(here), `invalid escape \\${String.fromCharCode(b)} in a string`);
          if (this.stringIsKey) this.keyByte(b);
          if (++this.stringBytes > this.limits.maxStringBytes) return this.stringTooLong(here);
          return null;
        case UNICODE: {
          const digit = hexValue(b);
          if (digit < 0) return this.refuse(this.at(here), "a \\u escape needs four hexadecimal digits");
          this.unicodeValue = this.unicodeValue * 16 + digit;
          if (this.stringIsKey) this.keyByte(b);
          if (++this.stringBytes > this.limits.maxStringBytes) return this.stringTooLong(here);
          if (++this.unicodeDigits < 4) return null;
          const unit = this.unicodeValue;
          const escapeAt = { byte: here - 5, line: this.line, column: this.column - 5 };
          if (this.needLowSurrogate) {
            if (unit < 0xdc00 || unit > 0xdfff) return this.refuse(escapeAt, "a UTF-16 high surrogate escape not followed by a low one");
            this.needLowSurrogate = false;
          } else if (unit >= 0xd800 && unit <= 0xdbff) this.needLowSurrogate = true;
          else if (unit >= 0xdc00 && unit <= 0xdfff)
            return this.refuse(escapeAt, `a lone UTF-16 low surrogate \\u${unit.toString(16)} (I-JSON, RFC 7493 §2.1)`);
          else if (unit === 0) return this.refuse(escapeAt, "the character \\u0000 (NUL) is not accepted in a string (PostgreSQL's jsonb cannot store it)");
          this.mode = STRING;
          return null;
        }
        case NUMBER: {
          const s = this.numberState;
          const digit = b >= 0x30 && b <= 0x39;
          let next = -1;
          if (s === N_MINUS) next = b === 0x30 ? N_ZERO : digit ? N_INT : -1;
          else if (s === N_ZERO || s === N_INT) {
            if (s === N_INT && digit) next = N_INT;
            else if (b === 0x2e) next = N_DOT;
            else if (b === 0x65 || b === 0x45) next = N_EXP;
          } else if (s === N_DOT || s === N_FRAC) {
            if (digit) next = N_FRAC;
            else if (s === N_FRAC && (b === 0x65 || b === 0x45)) next = N_EXP;
          } else if (s === N_EXP) next = digit ? N_EXP_DIGITS : b === 0x2b || b === 0x2d ? N_EXP_SIGN : -1;
          else next = digit ? N_EXP_DIGITS : -1;
          if (next >= 0) {
            this.numberState = next;
            this.numberText += String.fromCharCode(b);
            if (this.numberText.length > this.limits.maxNumberChars)
              return this.refuse(this.numberAt(), `a number longer than ${this.limits.maxNumberChars} characters`);
            return null;
          }
          if (s === N_ZERO && digit) return this.refuse(this.numberAt(), "a number with a leading zero");
          const refusal = this.endNumber();
          if (refusal) return refusal;
          continue; // the byte after the number, read again
        }
        case LITERAL:
          if (b !== this.literal.charCodeAt(this.literalIndex)) return this.refuse(this.at(here), `unexpected ${printable(b)}, expected "${this.literal}"`);
          if (++this.literalIndex === this.literal.length) this.afterValue();
          return null;
        case START:
        case VALUE:
        case ARRAY_FIRST: {
          if (WHITESPACE[b]) return null;
          if (b === 0x5d && this.mode === ARRAY_FIRST) {
            this.pop();
            return null;
          }
          if (b === 0x5d && this.mode === VALUE && !this.top()!.object) return this.refuse(this.at(here), "a comma before ']' (trailing commas are not JSON)");
          if (this.mode === START && b !== 0x7b)
            return this.refuse(this.at(here), `an EPCIS document is a JSON object: it starts with '{', not ${printable(b)}`);
          const startsValue = b === 0x7b || b === 0x5b || b === 0x22 || b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e;
          if (!startsValue) return this.refuse(this.at(here), `unexpected ${printable(b)}${this.expected()}`);
          const counted = this.startValue(here);
          if (counted) return counted;
          if (b === 0x7b || b === 0x5b) return this.push(b === 0x7b, here);
          if (b === 0x22) {
            this.startString(false, here);
            return null;
          }
          if (b === 0x74 || b === 0x66 || b === 0x6e) {
            this.literal = b === 0x74 ? "true" : b === 0x66 ? "false" : "null";
            this.literalIndex = 1;
            this.mode = LITERAL;
            return null;
          }
          this.mode = NUMBER;
          this.numberState = b === 0x2d ? N_MINUS : b === 0x30 ? N_ZERO : N_INT;
          this.numberText = String.fromCharCode(b);
          this.numberAtByte = here;
          this.numberAtColumn = this.column;
          return null;
        }
        case OBJECT_FIRST:
        case OBJECT_NEXT: {
          if (WHITESPACE[b]) return null;
          if (b === 0x7d && this.mode === OBJECT_FIRST) {
            this.pop();
            return null;
          }
          if (b !== 0x22)
            return this.refuse(
              this.at(here),
              b === 0x7d ? "a comma before '}' (trailing commas are not JSON)" : `unexpected ${printable(b)}${this.expected()}`,
            );
          const frame = this.top()!;
          if (++frame.count > this.limits.maxMembers) return this.refuse(this.at(here), `an object with more than ${figure(this.limits.maxMembers)} members`);
          this.startString(true, here);
          return null;
        }
        case COLON:
          if (WHITESPACE[b]) return null;
          if (b !== 0x3a) return this.refuse(this.at(here), `unexpected ${printable(b)}${this.expected()}`);
          this.mode = VALUE;
          return null;
        case AFTER_VALUE: {
          if (WHITESPACE[b]) return null;
          const frame = this.top()!;
          if (b === 0x2c) {
            if (frame.object) {
              frame.key = null;
              this.mode = OBJECT_NEXT;
            } else this.mode = VALUE;
            return null;
          }
          if ((b === 0x7d && frame.object) || (b === 0x5d && !frame.object)) {
            this.pop();
            return null;
          }
          return this.refuse(this.at(here), `unexpected ${printable(b)}${this.expected()}`);
        }
        case DONE:
          if (WHITESPACE[b]) return null;
          return this.refuse(this.at(here), `unexpected ${printable(b)} after the end of the document`);
        default:
          return null;
      }
    }
  }

  private startString(key: boolean, here: number): void {
    this.mode = STRING;
    this.stringIsKey = key;
    this.stringBytes = 0;
    this.stringAtByte = here;
    this.stringAtLine = this.line;
    this.stringAtColumn = this.column;
    this.keyEscaped = false;
    this.keyAscii = true;
    this.needLowSurrogate = false;
  }
}
