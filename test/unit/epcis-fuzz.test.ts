/**
 * Fuzzing the EPCIS reader with hostile documents (ADR 016), deterministic (seeded): each kind —
 * depth, width, length, encoding (invalid UTF-8, overlong forms, surrogates, UTF-16), duplicate
 * member names, numbers out of range, truncation, random byte flips of a valid document — goes
 * through the stream reader and then the checks the import runs on what it accepted (schema,
 * semantics, canonical hash, plan). Every outcome is an acceptance or a located refusal, never an
 * exception; heap growth stays bounded while a 64 MiB string streams by.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { contentHash, checkEventSemantics, planEvent, type EpcisEvent } from "../../app/domain/epcis/events";
import { EPCIS_INPUT_LIMITS } from "../../app/domain/epcis/json-scan";
import { mergeEventIssues, validateEventSchema, validateHeader } from "../../app/domain/epcis/validate";
import { streamEpcisDocument } from "../../app/services/epcis-stream.server";
import { fixture } from "../setup/epcis";

/** mulberry32: small, seeded, good enough to pick cases. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!,
  };
}
type Random = ReturnType<typeof random>;

const HEAD =
  '{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[';
const TAIL = "]}}";
const event = (i: number, extra = "") =>
  `{"type":"ObjectEvent","eventTime":"2025-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:4012345.011111.${i}"]${extra}}`;
const documentWith = (extra: string, events = 3, at = 1) =>
  `${HEAD}${Array.from({ length: events }, (_, i) => event(i, i === at ? extra : "")).join(",")}${TAIL}`;

const VALID = [
  fs.readFileSync(fixture("ObjectEvent.json")),
  fs.readFileSync(fixture("AggregationEvent_all_possible_fields.json")),
  Buffer.from(documentWith("")),
];

type Case = { kind: string; bytes: Uint8Array; refused?: boolean };

const generators: Record<string, (r: Random) => Case> = {
  depth(r) {
    // Half around the limit (an event's own levels: document, epcisBody, eventList, event, ilmd, member = 5 + depth), half far beyond.
    const depth = r.next() < 0.5 ? r.int(50, 65) : r.int(66, 5_000);
    const open = Array.from({ length: depth }, () => (r.next() < 0.5 ? "[" : '{"example:k":')).join("");
    const close = [...open.matchAll(/\[|\{/g)]
      .map((m) => (m[0] === "[" ? "]" : "}"))
      .reverse()
      .join("");
    return { kind: "depth", bytes: Buffer.from(documentWith(`,"ilmd":{"example:deep":${open}1${close}}`)), refused: depth + 5 > EPCIS_INPUT_LIMITS.maxDepth };
  },
  width(r) {
    if (r.next() < 0.5) {
      const n = r.int(9_990, 10_010);
      const members = Array.from({ length: n }, (_, i) => `"example:m${i}":${i}`).join(",");
      return { kind: "width (members)", bytes: Buffer.from(documentWith(`,"ilmd":{${members}}`)), refused: n > EPCIS_INPUT_LIMITS.maxMembers };
    }
    const n = r.int(99_990, 100_010);
    return {
      kind: "width (elements)",
      bytes: Buffer.from(documentWith(`,"ilmd":{"example:list":[${"0,".repeat(n - 1)}0]}`)),
      refused: n > EPCIS_INPUT_LIMITS.maxElements,
    };
  },
  length(r) {
    const n = r.int(65_500, 65_560);
    return {
      kind: "length",
      bytes: Buffer.from(documentWith(`,"ilmd":{"example:text":"${"é".repeat(n >> 1)}${n & 1 ? "x" : ""}"}`)),
      refused: n > EPCIS_INPUT_LIMITS.maxStringBytes,
    };
  },
  encoding(r) {
    const bad = r.pick([
      [0xff],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xb0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xc3],
      [0x80],
    ]);
    if (r.next() < 0.15) return { kind: "encoding (UTF-16)", bytes: Buffer.from(documentWith(""), r.next() < 0.5 ? "utf16le" : "ucs2"), refused: true };
    const text = Buffer.from(documentWith(',"ilmd":{"example:text":"abc"}'));
    const at = text.indexOf("abc") + r.int(0, 3);
    return { kind: "encoding (UTF-8)", bytes: Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at)]), refused: true };
  },
  duplicates(r) {
    const key = r.pick(["type", "action", "eventTime", "epcList"]);
    const value = key === "epcList" ? '["urn:epc:id:sgtin:4012345.011111.9"]' : '"x"';
    return { kind: "duplicate names", bytes: Buffer.from(documentWith(`,"${key}":${value}`)), refused: true };
  },
  numbers(r) {
    const literal = r.pick(["1e309", "-1e400", "9007199254740993", "123456789012345678901234567890", "1e-400", `1${"0".repeat(200)}`]);
    return {
      kind: "numbers",
      bytes: Buffer.from(documentWith(`,"quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.998877","quantity":${literal}}]`)),
      refused: true,
    };
  },
  truncation(r) {
    const source = r.pick(VALID);
    return { kind: "truncation", bytes: source.subarray(0, r.int(0, source.length - 1)) };
  },
  flips(r) {
    const bytes = Buffer.from(r.pick(VALID));
    for (let k = r.int(1, 6); k > 0; k--) bytes[r.int(0, bytes.length - 1)] = r.int(0, 255);
    return { kind: "byte flips", bytes };
  },
};

/** What the import does with a document, without the database: read, then check what was read. */
async function throughReader(bytes: Uint8Array, chunk: number) {
  const issues: unknown[] = [];
  const outcome = await streamEpcisDocument(
    async function* () {
      for (let o = 0; o < bytes.length; o += chunk) yield bytes.subarray(o, o + chunk);
    },
    {
      onEvents(events) {
        for (const { index, value } of events) {
          const schema = validateEventSchema(value, index);
          if (value && typeof value === "object" && !Array.isArray(value)) {
            const found = mergeEventIssues(schema.errors, checkEventSemantics(value as EpcisEvent, index).errors);
            issues.push(...found);
            if (!found.length) {
              contentHash(value as EpcisEvent);
              planEvent(value as EpcisEvent);
            }
          } else issues.push(...schema.errors);
        }
      },
    },
  );
  if (!outcome.syntaxError) issues.push(...validateHeader(outcome.header).errors);
  return { outcome, issues };
}

describe("fuzzing the EPCIS reader (seed 981)", () => {
  it("each hostile kind, 25 documents each: accepted, or refused with a location; never an exception", async () => {
    const r = random(981);
    const tally: Record<string, { accepted: number; refused: number }> = {};
    for (const [name, generate] of Object.entries(generators)) {
      for (let n = 0; n < 25; n++) {
        const hostile = generate(r);
        const chunk = r.pick([1, 7, 64, 1000, 16 * 1024]);
        const small = hostile.bytes.length < 200_000 || chunk >= 1000;
        const { outcome, issues } = await throughReader(hostile.bytes, small ? chunk : 16 * 1024);
        const t = (tally[hostile.kind] ??= { accepted: 0, refused: 0 });
        if (outcome.syntaxError) {
          t.refused += 1;
          const location = (outcome.syntaxError as { location?: { byte: number; line: number; column: number } }).location;
          expect(location, `${name} #${n}: ${outcome.syntaxError.message}`).toBeDefined();
          expect(location!.byte).toBeLessThanOrEqual(hostile.bytes.length);
          expect(location!.line).toBeGreaterThanOrEqual(1);
          expect(location!.column).toBeGreaterThanOrEqual(1);
          expect(outcome.syntaxError.message).toContain(`(at byte ${location!.byte.toLocaleString("en-US")}, line `);
        } else {
          t.accepted += 1;
          for (const issue of issues as { path: string; message: string }[]) expect(issue.message.length).toBeGreaterThan(0);
        }
        if (hostile.refused !== undefined) expect(Boolean(outcome.syntaxError), `${name} #${n}`).toBe(hostile.refused);
      }
    }
    // Every kind produced refusals; the limit-straddling kinds produced acceptances too.
    for (const kind of ["depth", "width (members)", "length", "encoding (UTF-8)", "duplicate names", "numbers", "truncation"])
      expect(tally[kind]?.refused).toBeGreaterThan(0);
    for (const kind of ["depth", "length", "byte flips"]) expect(tally[kind]?.accepted).toBeGreaterThan(0);
  }, 60_000);

  it("a 64 MiB string streams by with the heap bounded (the string is refused after 64 KiB)", async () => {
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const piece = Buffer.alloc(16 * 1024, 0x61);
    let sent = 0;
    const outcome = await streamEpcisDocument(
      async function* () {
        yield Buffer.from(`${HEAD}${event(0)},{"type":"ObjectEvent","ilmd":{"example:huge":"`);
        for (let k = 0; k < 4096; k++) {
          sent += piece.length;
          peak = Math.max(peak, process.memoryUsage().heapUsed);
          yield piece;
        }
        yield Buffer.from(`"}}${TAIL}`);
      },
      { onEvents() {} },
    );
    expect(outcome.syntaxError?.message).toMatch(/^a string longer than 65,536 bytes/);
    // The reader stopped at the refusal: it read 5 pieces of the string, not 4,096.
    expect(sent).toBeLessThan(10 * piece.length);
    expect(peak - before).toBeLessThan(32 * 1024 * 1024);
  });

  it("a 1,000,000-deep array and 1,000,000 members stream by with the heap bounded", async () => {
    /** Streams `head`, then `piece` `times` times (never held whole). */
    const repeated = (head: string, piece: string, times: number) => {
      const bytes = Buffer.from(piece.repeat(Math.ceil(16_384 / piece.length)));
      const per = Math.ceil(16_384 / piece.length);
      return async function* () {
        yield Buffer.from(head);
        for (let k = 0; k < times; k += per) yield bytes;
      };
    };
    const before = process.memoryUsage().heapUsed;
    const deep = await streamEpcisDocument(repeated(`${HEAD}${event(0)},{"ilmd":{"example:a":`, "[", 1_000_000), { onEvents() {} });
    expect(deep.syntaxError?.message).toMatch(/^objects and arrays nested deeper than 64 levels/);
    const wide = await streamEpcisDocument(repeated('{"example:x":{"m":0', ',"m":0', 1_000_000), { onEvents() {} });
    expect(wide.syntaxError?.message).toMatch(/^member "m" appears twice/);
    let n = 0;
    const distinct = await streamEpcisDocument(
      async function* () {
        yield Buffer.from('{"example:x":{"m":0');
        for (let k = 0; k < 1_000; k++) yield Buffer.from(Array.from({ length: 1_000 }, () => `,"m${n++}":0`).join(""));
      },
      { onEvents() {} },
    );
    expect(distinct.syntaxError?.message).toMatch(/^an object with more than 10,000 members/);
    // The test's own pieces (12 MB of member text) count too; a parser holding the object would take far more.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(48 * 1024 * 1024);
  });
});
