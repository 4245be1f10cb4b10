/**
 * Hostile EPCIS documents (ADR 016): every limit is enforced while streaming, before the parser
 * builds values, and every refusal is located by byte offset, line and column (and JSON pointer
 * where there is one). Expected locations are counted by hand or computed from the test's own
 * bytes (Buffer.indexOf), never taken from the scanner.
 */
import { describe, expect, it } from "vitest";
import { EPCIS_INPUT_LIMITS, EpcisJsonScanner } from "../../app/domain/epcis/json-scan";
import { streamEpcisDocument } from "../../app/services/epcis-stream.server";

const HEAD = '{"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[';
const TAIL = "]}}";
const event = (i: number, extra = "") =>
  `{"type":"ObjectEvent","eventTime":"2025-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:4012345.011111.${i}"]${extra}}`;

/** Streams bytes in chunks of `size` (the file reader's are 16 KiB; small ones cross every boundary). */
function chunked(bytes: Uint8Array, size: number) {
  return async function* () {
    for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size);
  };
}

async function read(bytes: Uint8Array, size = 16 * 1024) {
  const events: number[] = [];
  const outcome = await streamEpcisDocument(chunked(bytes, size), {
    onEvents(batch) {
      for (const e of batch) events.push(e.index);
    },
  });
  return { ...outcome, handed: events };
}

function scan(text: string | Uint8Array, size = 7) {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  const scanner = new EpcisJsonScanner();
  for (let o = 0; o < bytes.length; o += size) if (scanner.write(bytes.subarray(o, o + size))) break;
  return { refusal: scanner.refused ?? scanner.end(), notices: scanner.notices };
}

/** Line and column (1-based; columns count characters) of byte `offset`, counted independently. */
function lineColumn(bytes: Uint8Array, offset: number) {
  const before = Buffer.from(bytes.subarray(0, offset)).toString("utf8");
  const lines = before.split("\n");
  return { line: lines.length, column: [...lines.at(-1)!].length + 1 };
}

describe("invalid UTF-8 is located at its byte, with line and column", () => {
  it("a bad byte deep in a multi-chunk file (16 KiB chunks, and 1,000-byte chunks)", async () => {
    const lines = [HEAD];
    for (let i = 0; i < 600; i++) lines.push(`${i ? "," : ""}${event(i, ',"ilmd":{"example:note":"Größe ✓"}')}\n`);
    lines.push(TAIL);
    const bytes = Buffer.from(lines.join(""));
    // Replace the "ö" (2 bytes) of event 400's note by 0xFF and 0x20: one invalid byte at a known offset.
    let at = 0;
    for (let k = 0; k <= 400; k++) at = bytes.indexOf("Größe", at + 1);
    const bad = at + 2; // "Gr", then the two bytes of "ö"
    bytes[bad] = 0xff;
    bytes[bad + 1] = 0x20;
    expect(bad).toBeGreaterThan(3 * 16 * 1024);
    const expected = lineColumn(bytes, bad);
    expect(expected.line).toBe(401); // the head and 400 events end with a line break each
    for (const size of [16 * 1024, 1_000]) {
      const outcome = await read(bytes, size);
      expect(outcome.syntaxError).toEqual({
        eventIndex: 400,
        path: "/epcisBody/eventList/400/ilmd/example:note",
        message: `invalid UTF-8: byte 0xFF is never used in UTF-8 (at byte ${bad.toLocaleString("en-US")}, line 401, column ${expected.column})`,
        location: { byte: bad, ...expected },
      });
      // Events before the bad byte were handed over; none after it.
      expect(Math.max(...outcome.handed)).toBeLessThan(400);
      expect(outcome.digest).toBeNull();
    }
  });

  it("the two defects reported: byte 460 of a small file, byte 413 of a 229 KB one", async () => {
    const small = Buffer.from(`${HEAD}${event(0, `,"ilmd":{"example:note":"${"x".repeat(400)}"}`)}${TAIL}`);
    small[460] = 0xc3; // a lead byte followed by "x": a character cut short
    expect((await read(small)).syntaxError).toMatchObject({
      location: { byte: 460, line: 1, column: 461 },
      message: expect.stringContaining("a character cut short by byte 0x78"),
    });
    const events = Array.from({ length: 1_000 }, (_, i) => event(i)).join(",");
    const large = Buffer.from(`${HEAD}${events}${TAIL}`);
    expect(large.length).toBeGreaterThan(150_000);
    large[413] = 0x80;
    const outcome = await read(large);
    expect(outcome.syntaxError).toMatchObject({
      location: { byte: 413, line: 1, column: 414 },
      message: expect.stringContaining("byte 0x80 continues no character"),
    });
  });

  it.each([
    ["an overlong slash", [0xc0, 0xaf], "byte 0xC0 would start an overlong encoding"],
    ["an overlong 3-byte form", [0xe0, 0x80, 0xaf], "an overlong encoding"],
    ["an encoded surrogate", [0xed, 0xa0, 0x80], "an encoded UTF-16 surrogate"],
    ["beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80], "beyond U+10FFFF"],
    ["a lone continuation byte", [0x80], "continues no character"],
    ["a truncated 4-byte character", [0xf0, 0x9f, 0x98], "cut short"],
  ])("%s", (_name, sequence, problem) => {
    const bytes = Buffer.concat([Buffer.from('{"a":"ok '), Buffer.from(sequence), Buffer.from('"}')]);
    const { refusal } = scan(bytes, 1);
    expect(refusal).toMatchObject({ path: "/a", location: { byte: 9, line: 1, column: 10 } });
    expect(refusal!.message).toContain(problem);
  });

  it("a character split across chunks is read whole at every split", () => {
    const text = '{"a":"€😀ö"}';
    for (let size = 1; size <= 6; size++) expect(scan(text, size).refusal).toBeNull();
  });
});

describe("byte order marks", () => {
  it("a UTF-8 BOM is accepted and said so; the digest covers it", async () => {
    const body = `${HEAD}${event(1)}${TAIL}`;
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]);
    for (const size of [1, 2, 16 * 1024]) {
      const outcome = await read(withBom, size);
      expect(outcome.syntaxError).toBeNull();
      expect(outcome.events).toBe(1);
      expect(outcome.notices).toEqual([{ eventIndex: null, path: "", message: "the document starts with a UTF-8 byte order mark (ignored)" }]);
      const { createHash } = await import("node:crypto");
      expect(outcome.digest).toBe(createHash("sha256").update(withBom).digest("hex"));
    }
    expect((await read(Buffer.from(body))).notices).toEqual([]);
  });

  it("UTF-16 (with or without a BOM) is refused with a clear message", () => {
    const utf16 = Buffer.from(`${HEAD}${TAIL}`, "utf16le");
    expect(scan(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16])).refusal!.message).toMatch(
      /^the document starts with byte 0xFF, a UTF-16 or UTF-32 byte order mark: EPCIS JSON must be UTF-8/,
    );
    expect(scan(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`${HEAD}${TAIL}`, "utf16le").swap16()])).refusal!.message).toMatch(
      /UTF-16 or UTF-32 byte order mark/,
    );
    expect(scan(utf16).refusal).toMatchObject({ location: { byte: 1 }, message: expect.stringContaining("looks like UTF-16 or UTF-32") });
  });
});

describe("limits (EPCIS_INPUT_LIMITS), refused while streaming", () => {
  it("nesting: ilmd 4,000 deep is refused at the 65th level, located, without a crash", async () => {
    const deep = `${"[".repeat(4_000)}1${"]".repeat(4_000)}`;
    const bytes = Buffer.from(`${HEAD}${event(0)},${event(1, `,"ilmd":{"example:deep":${deep}}`)}${TAIL}`);
    // Small chunks: event 0 is complete in a chunk before the one that is refused.
    const outcome = await read(bytes, 64);
    // Levels: document, epcisBody, eventList, event 1, ilmd = 5; the 60th "[" opens level 65.
    const at = bytes.indexOf("[[[") + 59;
    expect(outcome.syntaxError).toMatchObject({
      eventIndex: 1,
      path: `/epcisBody/eventList/1/ilmd/example:deep${"/0".repeat(59)}`,
      message: `objects and arrays nested deeper than 64 levels (at byte ${at.toLocaleString("en-US")}, line 1, column ${at + 1})`,
      location: { byte: at, line: 1, column: at + 1 },
    });
    expect(outcome.handed).toEqual([0]);
  });

  it("a million-deep array costs no more than its first 64 levels", () => {
    const scanner = new EpcisJsonScanner();
    const refusal = scanner.write(Buffer.from(`{"a":${"[".repeat(1_000_000)}`));
    expect(refusal?.location.byte).toBe(5 + 63);
  });

  it("a string over 64 KiB is refused where it starts, after reading 64 KiB + 1 of it", async () => {
    const long = "x".repeat(2 * 1024 * 1024);
    const bytes = Buffer.from(`${HEAD}${event(0, `,"ilmd":{"example:blob":"${long}"}`)}${TAIL}`);
    const start = bytes.indexOf(`"${"x".repeat(10)}`);
    const outcome = await read(bytes);
    expect(outcome.syntaxError).toMatchObject({
      eventIndex: 0,
      path: "/epcisBody/eventList/0/ilmd/example:blob",
      message: `a string longer than 65,536 bytes (65,537 bytes read so far) (at byte ${start.toLocaleString("en-US")}, line 1, column ${start + 1})`,
    });
    expect(outcome.handed).toEqual([]);
    // 64 KiB exactly is accepted (the figure counts the bytes between the quotes).
    const fits = Buffer.from(`${HEAD}${event(0, `,"ilmd":{"example:blob":"${"y".repeat(EPCIS_INPUT_LIMITS.maxStringBytes)}"}`)}${TAIL}`);
    expect((await read(fits)).syntaxError).toBeNull();
  });

  it("a member name over the limit is refused as a member name", () => {
    expect(scan(`{"${"k".repeat(70_000)}":1}`, 4096).refusal!.message).toMatch(/^a member name longer than 65,536 bytes/);
  });

  it("an event larger than 4 MiB", async () => {
    const strings = Array.from({ length: 70 }, (_, i) => `"example:s${i}":"${"z".repeat(60_000)}"`).join(",");
    const bytes = Buffer.from(`${HEAD}${event(0)},${event(1, `,"ilmd":{${strings}}`)}${TAIL}`);
    const start = bytes.indexOf('{"type":"ObjectEvent"', HEAD.length + 10);
    const outcome = await read(bytes);
    expect(outcome.syntaxError).toMatchObject({ eventIndex: 1, path: "/epcisBody/eventList/1", location: { byte: start + 4 * 1024 * 1024 } });
    expect(outcome.syntaxError!.message).toMatch(/^event 1 is larger than 4,194,304 bytes/);
  });

  it("a header larger than 4 MiB (the header is held whole)", () => {
    const strings = Array.from({ length: 70 }, (_, i) => `"example:s${i}":"${"z".repeat(60_000)}"`).join(",");
    const { refusal } = scan(`{"type":"EPCISDocument",${strings}}`, 16 * 1024);
    expect(refusal!.message).toMatch(/^the document's header \(everything outside epcisBody.eventList\) is larger than 4,194,304 bytes \(at byte 4,194,304,/);
  });

  it("width: more than 10,000 members in an object, or 100,000 elements in an array other than eventList", () => {
    const members = Array.from({ length: 10_001 }, (_, i) => `"example:m${i}":1`).join(",");
    expect(scan(`{"a":{${members}}}`, 16 * 1024).refusal).toMatchObject({
      path: "/a",
      message: expect.stringMatching(/^an object with more than 10,000 members/),
    });
    expect(scan(`{"a":[${"1,".repeat(100_000)}1]}`, 16 * 1024).refusal).toMatchObject({
      path: "/a/100000",
      message: expect.stringMatching(/^an array with more than 100,000 elements/),
    });
    // eventList is unbounded: 100,001 events are read (each is checked on its own).
    const many = `${HEAD}${Array.from({ length: 100_001 }, () => "{}").join(",")}${TAIL}`;
    expect(scan(many, 16 * 1024).refusal).toBeNull();
  });

  it("duplicate member names, also when spelled with escapes", () => {
    expect(scan('{"a":1,"b":{"x":1,"y":2,"x":3}}').refusal).toMatchObject({
      path: "/b/x",
      location: { byte: 24, line: 1, column: 25 },
      message: expect.stringMatching(/^member "x" appears twice in one object/),
    });
    expect(scan('{"ab":1,"\\u0061b":2}').refusal?.message).toMatch(/member "ab" appears twice/);
    // Beyond 16 members the names are held in a set.
    const many = Array.from({ length: 40 }, (_, i) => `"k${i}":1`).join(",");
    expect(scan(`{${many},"k7":2}`).refusal?.message).toMatch(/member "k7" appears twice/);
    expect(scan(`{${many}}`).refusal).toBeNull();
    // The same name in sibling objects is fine.
    expect(scan('{"a":{"x":1},"b":{"x":1}}').refusal).toBeNull();
  });

  it.each([
    ["1e400", "beyond the range of a 64-bit floating-point number"],
    ["-1e309", "beyond the range"],
    ["9007199254740993", "beyond ±9,007,199,254,740,991"],
    ["-9007199254740992", "beyond ±9,007,199,254,740,991"],
    ["1e-400", "would read as 0"],
    [`1${"0".repeat(120)}`, "a number longer than 100 characters"],
    ["01", "a leading zero"],
    ["1.", "incomplete"],
    ["-", "incomplete"],
  ])("the number %s is refused", (literal, problem) => {
    const refusal = scan(`{"quantity":${literal}}`).refusal;
    expect(refusal).toMatchObject({ path: "/quantity", location: { byte: 12, line: 1, column: 13 } });
    expect(refusal!.message).toContain(problem);
  });

  it.each(["9007199254740991", "-9007199254740991", "1.5e300", "0", "-0", "0.0", "0e0", "1E+2", "12.5e-3"])("the number %s is accepted", (literal) => {
    expect(scan(`{"q":${literal}}`).refusal).toBeNull();
  });

  it("escapes PostgreSQL or I-JSON cannot hold are refused: \\u0000, lone surrogates", () => {
    expect(scan('{"a":"x\\u0000"}').refusal).toMatchObject({ location: { byte: 7 }, message: expect.stringContaining("\\u0000 (NUL)") });
    expect(scan('{"a":"\\udc00"}').refusal?.message).toContain("a lone UTF-16 low surrogate");
    expect(scan('{"a":"\\ud800"}').refusal?.message).toContain("high surrogate escape not followed by a low one");
    expect(scan('{"a":"\\ud800\\u0041"}').refusal?.message).toContain("high surrogate escape not followed by a low one");
    expect(scan('{"a":"\\ud83d\\ude00"}').refusal).toBeNull();
  });
});

describe("grammar errors are located exactly", () => {
  it.each([
    ['{"a":[1,2,]}', 10, "a comma before ']'"],
    ['{"a":1,}', 7, "a comma before '}'"],
    ['{"a" 1}', 5, "expected ':'"],
    ['{"a":tru}', 8, 'expected "true"'],
    ['{"a":1} x', 8, "after the end of the document"],
    ['{"a":"x\ty"}', 7, "control character 0x09"],
    ['{"a":"\\q"}', 7, "invalid escape \\q"],
    ["[1]", 0, "an EPCIS document is a JSON object"],
    ["{'a':1}", 1, "expected a member name in double quotes"],
  ])("%j", (text, byte, problem) => {
    const refusal = scan(text, 3).refusal;
    expect(refusal?.location.byte).toBe(byte);
    expect(refusal!.message).toContain(problem);
  });

  it("lines and columns across line breaks (CRLF counts the CR as a character)", () => {
    const text = '{\r\n  "a": "ok",\r\n  "b": [1, 2,\r\n    x]}';
    expect(scan(text).refusal?.location).toEqual({ byte: text.indexOf("x"), line: 4, column: 5 });
  });

  it("truncation and emptiness", () => {
    expect(scan("").refusal?.message).toMatch(/^the file is empty/);
    expect(scan(" \n ").refusal?.message).toMatch(/^the document holds no JSON value/);
    expect(scan(`${HEAD}${event(0)}`).refusal).toMatchObject({
      location: { byte: HEAD.length + event(0).length },
      message: expect.stringMatching(/^the document ends early, inside an array \(3 container\(s\) still open\)/),
    });
    expect(scan('{"a":"abc').refusal?.message).toMatch(/^the document ends early, inside a string/);
  });
});
