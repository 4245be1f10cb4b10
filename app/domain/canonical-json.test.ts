import { describe, expect, it } from "vitest";
import { canonicalBytes, canonicalize, type JsonValue } from "./canonical-json.js";

describe("canonicalize", () => {
  it("serializes numbers as in RFC 8785 §3.2.2.3", () => {
    // Literals copied verbatim from the RFC; the parse-then-reserialize round trip is the point.
    const numbers = [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001];
    expect(canonicalize(numbers)).toBe("[333333333.3333333,1e+30,4.5,0.002,1e-27]");
  });

  it("reproduces the RFC 8785 §3.2.2 example", () => {
    const input = JSON.parse(
      String.raw`{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}`,
    ) as JsonValue;
    expect(canonicalize(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it("sorts keys by UTF-16 code units as in RFC 8785 §3.2.3", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code unit, though not by code point.
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("sorts nested objects and emits no whitespace", () => {
    const input = { b: [{ z: 1, a: { y: true, x: null } }], a: "first" };
    expect(canonicalize(input)).toBe('{"a":"first","b":[{"a":{"x":null,"y":true},"z":1}]}');
  });

  it("is insensitive to key insertion order", () => {
    expect(canonicalize({ a: 1, b: 2 })).toBe(canonicalize({ b: 2, a: 1 }));
  });

  it("serializes -0 as 0", () => {
    expect(canonicalize(-0)).toBe("0");
    expect(canonicalize({ q: -0 })).toBe('{"q":0}');
  });

  it("escapes lone surrogates instead of emitting ill-formed text", () => {
    expect(canonicalize("\ud800x")).toBe('"\\ud800x"');
    expect(canonicalize({ "\udfff": 1 })).toBe('{"\\udfff":1}');
  });

  it("omits undefined object members like JSON.stringify", () => {
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it("serializes values through toJSON first", () => {
    expect(canonicalize({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
    const keyed = { toJSON: (key: string) => `key=${key}` };
    expect(canonicalize({ m: keyed, list: [keyed] })).toBe('{"list":["key=0"],"m":"key=m"}');
    expect(canonicalize({ gone: { toJSON: () => undefined }, kept: 1 })).toBe('{"kept":1}');
  });

  it("unwraps boxed primitives like JSON.stringify", () => {
    expect(canonicalize([new Number(1.5), new String("s"), new Boolean(false)])).toBe('[1.5,"s",false]');
  });

  it("agrees with JSON.stringify for plain data whose keys are already sorted", () => {
    const input = { a: [1, 2.5, "x", null, false], b: { c: "\u2028\n\u0007" } };
    expect(canonicalize(input)).toBe(JSON.stringify(input));
  });

  describe("rejects values JSON cannot represent, naming the path", () => {
    it.each([
      ["NaN", { rules: [{}, {}, {}, { quantity: NaN }] }, "$.rules[3].quantity", "NaN"],
      ["Infinity", { rules: [{}, {}, {}, { quantity: Infinity }] }, "$.rules[3].quantity", "Infinity"],
      ["-Infinity", [-Infinity], "$[0]", "-Infinity"],
      ["bigint", { count: 10n }, "$.count", "bigint"],
      ["function", { f: () => 1 }, "$.f", "function"],
      ["symbol", { s: Symbol("s") }, "$.s", "symbol"],
      ["undefined array element", { list: [1, undefined] }, "$.list[1]", "undefined"],
      ["non-identifier key", { "lot no": NaN }, '$["lot no"]', "NaN"],
      ["Map", { m: new Map() }, "$.m", "Map"],
    ])("%s", (_name, input, path, problem) => {
      expect(() => canonicalize(input)).toThrow(`Cannot canonicalize ${path}`);
      expect(() => canonicalize(input)).toThrow(problem);
    });

    it("undefined at the top level", () => {
      expect(() => canonicalize(undefined)).toThrow("Cannot canonicalize $: undefined");
    });

    it("array holes", () => {
      expect(() => canonicalize([1, , 3])).toThrow("Cannot canonicalize $[1]");
    });

    it("circular references", () => {
      const node: Record<string, unknown> = { name: "loop" };
      node.self = node;
      expect(() => canonicalize(node)).toThrow("Cannot canonicalize $.self: circular reference");
    });

    it("allows the same object twice when it is not a cycle", () => {
      const shared = { x: 1 };
      expect(canonicalize([shared, shared])).toBe('[{"x":1},{"x":1}]');
    });
  });
});

describe("canonicalBytes", () => {
  it("is the UTF-8 encoding of the canonical text", () => {
    expect(Array.from(canonicalBytes({ b: "€", a: 1 }))).toEqual(Array.from(Buffer.from('{"a":1,"b":"€"}', "utf8")));
  });

  it("encodes astral characters as four bytes", () => {
    expect(Array.from(canonicalBytes("\ud83d\ude00"))).toEqual([0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22]);
  });
});

describe("deep values (ADR 016)", () => {
  it("writes a value nested 100,000 deep without exhausting the call stack", () => {
    let array: unknown = 1;
    let object: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) {
      array = [array];
      object = { k: object };
    }
    expect(canonicalize(array)).toBe(`${"[".repeat(100_000)}1${"]".repeat(100_000)}`);
    expect(canonicalize(object)).toBe(`${'{"k":'.repeat(100_000)}"leaf"${"}".repeat(100_000)}`);
  });

  it("still names the path of a failure deep down, and finds a cycle there", () => {
    const root: Record<string, unknown> = {};
    let node = root;
    for (let i = 0; i < 50; i++) node = node.next = {} as Record<string, unknown>;
    node.bad = NaN;
    expect(() => canonicalize(root)).toThrow(`Cannot canonicalize $${".next".repeat(50)}.bad: NaN`);
    delete node.bad;
    node.back = root;
    expect(() => canonicalize(root)).toThrow(`Cannot canonicalize $${".next".repeat(50)}.back: circular reference`);
  });
});
