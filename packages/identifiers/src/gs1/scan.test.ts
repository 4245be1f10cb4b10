import { describe, expect, it } from "vitest";
import { GS, parseGs1, parseGs1Scan, type Gs1Result } from "./index";

type Valid = Extract<Gs1Result, { status: "valid" }>;
type Ambiguous = Extract<Gs1Result, { status: "ambiguous" }>;
type Invalid = Extract<Gs1Result, { status: "invalid" }>;

function as<S extends Gs1Result["status"]>(status: S, input: string, options?: Parameters<typeof parseGs1Scan>[1]) {
  const result = parseGs1Scan(input, options);
  if (result.status !== status) throw new Error(`${JSON.stringify(input)}: expected ${status}, got ${result.status}: ${JSON.stringify(result)}`);
  return result as Extract<Gs1Result, { status: S }>;
}
const validScan = (input: string): Valid => as("valid", input);
const ambiguousScan = (input: string, options?: Parameters<typeof parseGs1Scan>[1]): Ambiguous => as("ambiguous", input, options);
const invalidScan = (input: string, options?: Parameters<typeof parseGs1Scan>[1]): Invalid => as("invalid", input, options);

const GTIN = "0109506000134352"; // (01)09506000134352, GS1's example GTIN

describe("symbology identifiers", () => {
  it.each([
    ["]C1", "GS1-128"],
    ["]e0", "GS1 DataBar"],
    ["]d2", "GS1 DataMatrix"],
    ["]Q3", "GS1 QR Code"],
    ["]J1", "GS1 DotCode"],
  ])("%s (%s) carries AI data", (symbology) => {
    const result = validScan(`${symbology}${GTIN}17261231`);
    expect(result.symbology).toBe(symbology);
    expect(result.syntax).toBe("scan");
    expect(result.reading.elementString).toBe("(01)09506000134352(17)261231");
  });

  it("no symbology identifier: AI data as sent, with or without a leading FNC1 (GS)", () => {
    expect(validScan(`${GTIN}17261231`).reading.elementString).toBe("(01)09506000134352(17)261231");
    expect(validScan(`${GS}${GTIN}17261231`).reading.elementString).toBe("(01)09506000134352(17)261231");
    expect(parseGs1Scan(`${GTIN}17261231`).symbology).toBeNull();
  });

  it("]E0 (EAN-13) and ]E4 (EAN-8) carry a bare GTIN, read as AI (01)", () => {
    expect(validScan("]E09506000134352").reading.elementString).toBe("(01)09506000134352");
    expect(validScan("]E496385074").reading.elementString).toBe("(01)00000096385074");
    expect(invalidScan("]E09506000134353").errors.map((e) => e.message)).toEqual(["AI (01): check digit should be 2, got 3"]);
    expect(invalidScan("]E0950600013435").errors.map((e) => e.message)).toEqual(['symbology ]E0 carries a GTIN of 13 digits, got "950600013435"']);
  });

  it("a plain QR Code or Data Matrix may carry a Digital Link URI", () => {
    const result = validScan("]Q1https://id.gs1.org/01/09506000134352/21/SER1");
    expect(result.syntax).toBe("digital-link");
    expect(result.symbology).toBe("]Q1");
    expect(result.input).toBe("]Q1https://id.gs1.org/01/09506000134352/21/SER1");
    expect(result.reading.elementString).toBe("(01)09506000134352(21)SER1");
    expect(invalidScan("]Q1HELLO").errors.map((e) => e.message)).toEqual(["symbology ]Q1 (QR Code) carries neither GS1 AI data nor a Digital Link URI"]);
  });

  it("other symbologies and empty data are rejected", () => {
    expect(invalidScan("]A0ABC").errors.map((e) => e.message)).toEqual(["symbology identifier ]A0 does not carry GS1 data"]);
    expect(invalidScan("]d2").errors.map((e) => e.message)).toEqual(["no AI data after the symbology identifier"]);
  });
});

describe("separators", () => {
  it("pre-defined length AIs (01, 17, 11, 3103, 00…) need no separator", () => {
    const result = validScan(`]d2${GTIN}17261231113103003103000195`);
    expect(result.reading.elementString).toBe("(01)09506000134352(17)261231(11)310300(3103)000195");
  });

  it("a variable-length field ends at GS", () => {
    const result = validScan(`]C1${GTIN}10ABC${GS}21XYZ`);
    expect(result.reading.elements.map((e) => [e.ai, e.value])).toEqual([
      ["01", "09506000134352"],
      ["10", "ABC"],
      ["21", "XYZ"],
    ]);
    expect(result.reading.standard).toBe(true);
  });

  it("a redundant GS after a pre-defined length field is tolerated", () => {
    expect(validScan(`]d2${GTIN}${GS}17261231${GS}10ABC`).reading.elementString).toBe("(01)09506000134352(17)261231(10)ABC");
  });

  it("the GS1 recommended order (fixed fields first, one variable field last) reads one way", () => {
    const result = validScan(`]d2${GTIN}1726123110ABC123`);
    expect(result.reading.elementString).toBe("(01)09506000134352(17)261231(10)ABC123");
  });

  it("two separators in a row are an error", () => {
    expect(invalidScan(`]C1${GTIN}10A${GS}${GS}21B`).errors.map((e) => e.message)).toContain("empty field: two separators in a row at position 21 of the data");
  });

  it("data that does not start with a known AI", () => {
    expect(invalidScan(`]C1${GTIN}230ABC`).errors.map((e) => e.message)).toEqual(['no GS1 AI at position 17 of the data ("230ABC")']);
  });

  it("a pre-defined length field cut short", () => {
    expect(invalidScan("]C1010950600013435").errors.map((e) => e.message)).toEqual(["AI (01): 13 characters; exactly 14 required"]);
  });
});

describe("a missing separator after a variable-length field: every valid reading, never a guess", () => {
  it("(10)LOT121SER1 read raw is one lot, or lot LOT1 and serial SER1", () => {
    const result = ambiguousScan(`]d2${GTIN}10LOT121SER1`);
    expect(result.readings.map((r) => r.elementString)).toEqual(["(01)09506000134352(10)LOT121SER1", "(01)09506000134352(10)LOT1(21)SER1"]);
    expect(result.readings.map((r) => r.standard)).toEqual([true, false]);
    expect(result.readings.map((r) => r.classification.kind)).toEqual(["class", "instance"]);
    expect(result.kinds).toEqual(["class", "instance"]);
    expect(result.truncated).toBe(false);
    expect(result.message).toBe(
      "AI (10): a field that is not of pre-defined length is followed by more data without a separator; " +
        "the data reads 2 valid ways: (01)09506000134352(10)LOT121SER1 | (01)09506000134352(10)LOT1(21)SER1 (as class or instance)",
    );
  });

  it("the same data with the separator in place reads one way", () => {
    const result = validScan(`]d2${GTIN}10LOT1${GS}21SER1`);
    expect(result.reading.elementString).toBe("(01)09506000134352(10)LOT1(21)SER1");
    expect(result.reading.classification.kind).toBe("instance");
  });

  it("in bracketed form the boundaries are explicit, so there is no ambiguity", () => {
    const result = parseGs1("(01)09506000134352(10)LOT121SER1");
    expect(result.status).toBe("valid");
  });

  it("a lot followed by a date without GS: lot ABC11250101, or lot ABC and production date 250101", () => {
    const result = ambiguousScan(`]C1${GTIN}10ABC11250101`);
    expect(result.readings.map((r) => r.elementString)).toEqual(["(01)09506000134352(10)ABC11250101", "(01)09506000134352(10)ABC(11)250101"]);
    expect(result.kinds).toEqual(["class"]);
    expect(result.message).not.toContain("(as ");
  });

  it("an expiry date after the lot without GS (the reason GS1 puts fixed fields first)", () => {
    const result = ambiguousScan(`]C1${GTIN}10ABC17261231`);
    expect(result.readings.map((r) => r.elementString)).toEqual(["(01)09506000134352(10)ABC17261231", "(01)09506000134352(10)ABC(17)261231"]);
  });

  it("a GS after the variable field does not remove the ambiguity inside it", () => {
    const result = ambiguousScan(`]d2${GTIN}10LOT121SER1${GS}17261231`);
    expect(result.readings.map((r) => r.elementString)).toEqual(["(01)09506000134352(10)LOT121SER1(17)261231", "(01)09506000134352(10)LOT1(21)SER1(17)261231"]);
  });

  it("a serial that could end early in several places lists every reading", () => {
    const result = ambiguousScan(`]d2${GTIN}21A10B90C`);
    expect(result.readings.map((r) => r.elementString)).toEqual([
      "(01)09506000134352(21)A10B90C",
      "(01)09506000134352(21)A(10)B(90)C",
      "(01)09506000134352(21)A(10)B90C",
      "(01)09506000134352(21)A10B(90)C",
    ]);
    expect(result.kinds).toEqual(["instance"]);
  });

  it("only valid splits count: an impossible date after the lot leaves one reading", () => {
    const result = validScan(`]C1${GTIN}10ABC17261332`);
    expect(result.reading.elementString).toBe("(01)09506000134352(10)ABC17261332");
  });

  it("only valid splits count: a second (10) with another value is not a reading", () => {
    expect(validScan(`]C1${GTIN}10A10B`).reading.elementString).toBe("(01)09506000134352(10)A10B");
  });

  it("only valid splits count: pairing rules prune readings too", () => {
    // (10)AB(250)C would need (21); (10)AB250C is the only valid reading.
    expect(validScan(`]C1${GTIN}10AB250C`).reading.elementString).toBe("(01)09506000134352(10)AB250C");
  });

  it("a reading that exists only with a separator the data lacks is an error that shows that reading", () => {
    // (7001) is fixed at 13 digits but not of pre-defined length, so FNC1 must follow it.
    const result = invalidScan(`]C1${GTIN}70011234567890123${"10ABC"}`);
    expect(result.errors.map((e) => e.rule)).toEqual(["separator", "length"]);
    expect(result.errors[0]!.message).toBe(
      'AI (7001): no FNC1 separator after "1234567890123", and (7001) is not of pre-defined length; the data reads validly only as (01)09506000134352(7001)1234567890123(10)ABC',
    );
    expect(result.errors[1]!.message).toBe("AI (7001): 18 characters exceeds maximum 13");
  });

  it("a 21-character serial is over-long, not silently re-cut", () => {
    expect(invalidScan(`]d2${GTIN}21ABCDEFGHIJKLMNOPQRSTU`).errors.map((e) => e.message)).toEqual(["AI (21): 21 characters exceeds maximum 20"]);
  });

  it("a 21-digit serial is never one serial; the readings that cut it before (90) are listed, none conformant", () => {
    const result = ambiguousScan(`]d2${GTIN}21123456789012345678901`);
    expect(result.readings.map((r) => [r.elementString, r.standard])).toEqual([
      ["(01)09506000134352(21)12345678(90)12345678901", false],
      ["(01)09506000134352(21)123456789012345678(90)1", false],
    ]);
    expect(result.message).toContain(
      "; a conformant decoder reads (01)09506000134352(21)123456789012345678901, which is invalid: AI (21): 21 characters exceeds maximum 20",
    );
  });

  it("marks the enumeration as truncated beyond maxReadings", () => {
    const result = ambiguousScan(`]d2${GTIN}10A21B90C91D92E93F`, { maxReadings: 4 });
    expect(result.truncated).toBe(true);
    expect(result.readings).toHaveLength(4);
    expect(result.readings[0]).toMatchObject({ standard: true, elementString: "(01)09506000134352(10)A21B90C91D92E93F" });
    expect(result.message).toContain("the data reads at least 4 valid ways");
  });

  it("refuses to decide when the enumeration is cut short with at most one valid reading found", () => {
    // Every early end of (10) here repeats (10) with another value, so only the conformant reading is valid,
    // but there are more ways to cut the data than the cap allows to examine.
    const result = invalidScan(`]d2${GTIN}10A10B10C10D10E`, { maxReadings: 2 });
    expect(result.errors).toEqual([
      { ai: null, rule: "separator", message: "the data can be cut into elements in more than 2 ways and at most one of those found is valid; not read" },
    ]);
    expect(validScan(`]d2${GTIN}10A10B10C10D10E`).reading.elementString).toBe("(01)09506000134352(10)A10B10C10D10E");
  });
});

describe("trustSeparators: the conformant reading only, for callers that opt in", () => {
  it("reads (10)LOT121SER1 as one lot, as a conformant decoder does", () => {
    const result = parseGs1Scan(`]d2${GTIN}10LOT121SER1`, { trustSeparators: true });
    expect(result.status).toBe("valid");
    expect(result.status === "valid" && result.reading).toMatchObject({ elementString: "(01)09506000134352(10)LOT121SER1", standard: true });
  });

  it("does not re-cut an over-long field either", () => {
    const result = parseGs1Scan(`]C1${GTIN}70011234567890123${"10ABC"}`, { trustSeparators: true });
    expect(result.status === "invalid" && result.errors.map((e) => e.message)).toEqual(["AI (7001): 18 characters exceeds maximum 13"]);
  });

  it("still validates everything else", () => {
    const result = parseGs1Scan("]d2010950600013435310ABC", { trustSeparators: true });
    expect(result.status === "invalid" && result.errors.map((e) => e.message)).toEqual(["AI (01): check digit should be 2, got 3"]);
    const bad = parseGs1Scan(`]d2${GTIN}230ABC`, { trustSeparators: true });
    expect(bad.status === "invalid" && bad.errors.map((e) => e.rule)).toEqual(["unknown-ai"]);
  });

  it("a digit-only serial whose tail reads as an internal AI (90) is ambiguous unless separators are trusted", () => {
    const scan = `]d2${GTIN}21123456789012`;
    const verified = parseGs1Scan(scan);
    expect(verified.status === "ambiguous" && verified.readings.map((r) => r.elementString)).toEqual([
      "(01)09506000134352(21)123456789012",
      "(01)09506000134352(21)12345678(90)12",
    ]);
    expect(parseGs1Scan(scan, { trustSeparators: true }).status).toBe("valid");
  });
});

describe("validation applies to scans as to any other form", () => {
  it("bad check digit, bad date, missing pairing", () => {
    expect(invalidScan("]C1010950600013435310ABC").errors.map((e) => e.message)).toEqual(["AI (01): check digit should be 2, got 3"]);
    expect(invalidScan(`]C1${GTIN}17261332`).errors.map((e) => e.message)).toEqual(["AI (17): 261332 is not a valid date (month 13)"]);
    expect(invalidScan("]d221SER1").errors.map((e) => e.message)).toEqual(["AI (21) requires (01) or (03) or (8006)"]);
  });

  it("an SSCC label", () => {
    const result = validScan("]C100106141412345678908");
    expect(result.reading.classification).toMatchObject({ kind: "container", keys: ["00"] });
  });
});
