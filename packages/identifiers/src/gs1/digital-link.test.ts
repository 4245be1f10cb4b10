import { describe, expect, it } from "vitest";
import { parseGs1, parseGs1DigitalLink, type Gs1Result } from "./index";
import { parseDigitalLink } from "./parse";
import { parseSyntaxDictionary } from "./syntax-dictionary";

function valid(uri: string): Extract<Gs1Result, { status: "valid" }> {
  const result = parseGs1(uri);
  if (result.status !== "valid") throw new Error(`${uri}: expected valid, got ${result.status}: ${JSON.stringify(result)}`);
  expect(result.syntax).toBe("digital-link");
  return result;
}

function errors(uri: string): { rule: string; message: string }[] {
  const result = parseGs1DigitalLink(uri);
  if (result.status !== "invalid") throw new Error(`${uri}: expected invalid, got ${result.status}`);
  return result.errors.map(({ rule, message }) => ({ rule, message }));
}

describe("GS1 Digital Link URIs from the GS1 Digital Link standard and GS1's engine tests", () => {
  it.each([
    ["https://id.gs1.org/01/09520123456788", "(01)09520123456788"],
    ["https://id.gs1.org/01/09506000134352/10/ABC123?17=261231", "(01)09506000134352(10)ABC123(17)261231"],
    ["https://id.gs1.org/01/09520123456788/22/2A", "(01)09520123456788(22)2A"],
    ["https://id.gs1.org/01/09520123456788/10/ABC123", "(01)09520123456788(10)ABC123"],
    ["https://id.gs1.org/01/09520123456788/21/12345", "(01)09520123456788(21)12345"],
    ["https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426", "(01)09520123456788(10)ABC1(21)12345(17)180426"],
    ["https://id.gs1.org/01/09520123456788?3103=000195", "(01)09520123456788(3103)000195"],
    ["https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225", "(01)09520123456788(3103)000195(3922)0299(17)201225"],
    ["https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123", "(00)952012345678912345(02)09520123456788(37)25(10)ABC123"],
    ["https://a/8018/123456789012345675/8019/123", "(8018)123456789012345675(8019)123"],
    ["https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ", "(01)12312312312333(22)TEST(10)ABC(21)XYZ"],
    ["https://a/01/12312312312333/235/TEST", "(01)12312312312333(235)TEST"],
    ["https://a/253/1231231231232TEST5678901234567", "(253)1231231231232TEST5678901234567"],
    ["https://id.gs1.org/414/9520123456788/254/32a%2Fb", "(414)9520123456788(254)32a/b"],
    ["http://id.gs1.org/8004/9520123456788ABC/7040/1AB-", "(8004)9520123456788ABC(7040)1AB-"],
  ])("%s", (uri, elementString) => {
    expect(valid(uri).reading.elementString).toBe(elementString);
  });

  it("pads a GTIN-13, -12 or -8 in the URI to GTIN-14 only with expandShortGtin", () => {
    const expanded = (uri: string) => {
      const result = parseGs1DigitalLink(uri, { expandShortGtin: true });
      return result.status === "valid" ? result.reading.elements[0]!.value : result.status;
    };
    expect(expanded("https://brand.example.com/01/9520123456788")).toBe("09520123456788");
    expect(expanded("https://a/01/416000336108")).toBe("00416000336108");
    expect(expanded("https://a/01/02345673")).toBe("00000002345673");
    expect(errors("https://brand.example.com/01/9520123456788")).toEqual([{ rule: "length", message: "AI (01): 13 characters; exactly 14 required" }]);
  });

  it("decodes percent-encoded values", () => {
    const result = valid("https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987");
    expect(result.reading.elements.map((e) => [e.ai, e.value])).toEqual([
      ["01", "12312312312333"],
      ["22", "ABC-123"],
      ["99", "ABC"],
      ["98", "XYZ/987"],
    ]);
  });

  it("separates stem, primary key, qualifiers, attributes and other query parameters", () => {
    const result = valid("https://brand.example.com/some-extra/pathinfo/01/09520123456788/10/ABC1/21/12345?17=180426&linkType=gs1%3Apip&&singleton#frag");
    expect(result.digitalLink).toEqual({
      stem: "https://brand.example.com/some-extra/pathinfo",
      primaryKey: "01",
      qualifiers: ["10", "21"],
      attributes: ["17"],
      otherParameters: [
        ["linkType", "gs1:pip"],
        ["singleton", ""],
      ],
    });
  });

  it("takes the rightmost primary key; an AI-like pair before it is stem", () => {
    const result = valid("https://a/00/faux/00/006141411234567890");
    expect(result.digitalLink?.stem).toBe("https://a/00/faux");
    expect(result.reading.elementString).toBe("(00)006141411234567890");
  });
});

describe("key qualifier order (dlpkey)", () => {
  it("rejects qualifiers out of order, naming the AI and the order", () => {
    expect(errors("https://id.gs1.org/01/09506000134352/21/SER1/10/ABC123")).toEqual([
      { rule: "dl-qualifier", message: "AI (10) is out of order: key qualifiers of (01) follow the order (22), (10), (21), so (10) cannot come after (21)" },
    ]);
    expect(errors("https://id.gs1.org/01/09506000134352/10/ABC/22/V1")).toEqual([
      { rule: "dl-qualifier", message: "AI (22) is out of order: key qualifiers of (01) follow the order (22), (10), (21), so (22) cannot come after (10)" },
    ]);
    expect(errors("https://a/8006/095060001343520102/21/S1/10/L1")).toEqual([
      { rule: "dl-qualifier", message: "AI (10) is out of order: key qualifiers of (8006) follow the order (22), (10), (21), so (10) cannot come after (21)" },
    ]);
  });

  it("accepts any in-order subsequence of one alternative", () => {
    valid("https://id.gs1.org/01/09506000134352/22/V1/21/SER1");
    valid("https://id.gs1.org/01/09506000134352/10/ABC/21/SER1");
    valid("https://id.gs1.org/01/09506000134352/22/V1");
  });

  it("rejects an AI in the path that is not a key qualifier of the primary key", () => {
    expect(errors("https://id.gs1.org/01/09506000134352/17/261231")).toEqual([
      { rule: "dl-qualifier", message: "AI (17) is not a key qualifier of (01); the path after (01) may only hold (22), (10), (21) in that order, or (235)" },
    ]);
  });

  it("rejects qualifiers after a primary key that takes none", () => {
    expect(errors("https://id.gs1.org/00/106141412345678908/10/ABC")).toEqual([
      { rule: "dl-qualifier", message: "AI (10) cannot follow (00) in a Digital Link path: (00) takes no key qualifiers" },
      // and, read as an element string, (10) lacks the trade item it needs
      { rule: "requires", message: "AI (10) requires (01) or (02) or (03) or (8006) or (8026)" },
    ]);
  });

  it("rejects mixing alternative qualifier sequences", () => {
    const found = errors("https://id.gs1.org/01/09506000134352/22/V1/235/TPX1");
    expect(found[0]).toEqual({
      rule: "dl-qualifier",
      message: "AI (235) cannot be combined with (22) as key qualifiers of (01); use (22), (10), (21) in that order, or (235)",
    });
  });

  it("rejects a qualifier given twice", () => {
    expect(errors("https://id.gs1.org/01/09506000134352/10/A/10/B")).toEqual([
      { rule: "dl-qualifier", message: "AI (10) appears more than once in the Digital Link path" },
      { rule: "repeated", message: 'AI (10) appears more than once with different values ("A", "B")' },
    ]);
  });
});

describe("query string data attributes", () => {
  it("a key qualifier belongs in the path", () => {
    expect(errors("https://id.gs1.org/01/09506000134352?21=SER1")).toEqual([
      { rule: "dl-qualifier", message: "AI (21) is a key qualifier of (01) and belongs in the URI path, not the query string" },
    ]);
    expect(errors("https://id.gs1.org/01/09506000134352?10=ABC")).toEqual([
      { rule: "dl-qualifier", message: "AI (10) is a key qualifier of (01) and belongs in the URI path, not the query string" },
    ]);
  });

  it("an AI without the dictionary's '?' flag is not a data attribute", () => {
    expect(errors("https://id.gs1.org/00/106141412345678908?21=SER1")).toEqual([
      { rule: "dl-attribute", message: "AI (21) is not permitted as a Digital Link data attribute (query string)" },
    ]);
  });

  it("a numeric parameter that is not an AI is an error; other parameters are kept", () => {
    expect(errors("https://a/01/12312312312333?99=ABC&999=faux")).toEqual([
      { rule: "unknown-ai", message: "AI (999) in the query string is not in the GS1 syntax dictionary" },
    ]);
  });

  it("attributes are validated like any element", () => {
    expect(errors("https://id.gs1.org/01/09506000134352?17=261332")).toEqual([{ rule: "date", message: "AI (17): 261332 is not a valid date (month 13)" }]);
    expect(errors("https://id.gs1.org/01/09506000134352?3922=0299")).toEqual([
      { rule: "requires", message: "AI (3922) requires (01)+(30) or (01)+(31nn) or (01)+(32nn) or (01)+(35nn) or (01)+(36nn)" },
    ]);
  });
});

describe("malformed URIs and invalid values", () => {
  it.each([
    ["ftp://id.gs1.org/01/09506000134352", "syntax", "a Digital Link URI is http:// or https://, a domain and a path"],
    ["https:///01/09506000134352", "syntax", "the URI has no domain after the scheme"],
    ["https://id.gs1.org/01/09506000134352/", "syntax", "the Digital Link URI path must not end with '/'"],
    ["https://id.gs1.org/01/0950600013435 2", "syntax", 'the URI contains " ", which is not allowed in a URI'],
    ["https://example.com/product/123", "dl-primary-key", "no GS1 Digital Link primary key (such as /01/, /00/ or /8004/) in the URI path"],
    ["https://example.com", "syntax", "a Digital Link URI is http:// or https://, a domain and a path"],
    ["https://example.com/10/ABC", "dl-primary-key", "no GS1 Digital Link primary key (such as /01/, /00/ or /8004/) in the URI path"],
    ["https://id.gs1.org/01/09506000134353", "check-digit", "AI (01): check digit should be 2, got 3"],
    ["https://id.gs1.org/01/09506000134352/21/ABCDEFGHIJKLMNOPQRSTU", "length", "AI (21): 21 characters exceeds maximum 20"],
    ["https://id.gs1.org/01/09506000134352/21/A%20B", "charset", "AI (21): character U+0020 at position 2 is not in CSET 82"],
    ["https://id.gs1.org/01/09506000134352/10/AB%ZZ", "syntax", 'AI (10): invalid percent-encoding in "AB%ZZ"'],
    ["https://id.gs1.org/01/09506000134352/10/", "syntax", "the Digital Link URI path must not end with '/'"],
  ])("%s", (uri, rule, message) => {
    expect(errors(uri)).toEqual([{ rule, message }]);
  });

  it("an empty value in the middle of the path", () => {
    expect(errors("https://id.gs1.org/01/09506000134352/10//21/S1")).toEqual([
      { rule: "length", message: "AI (10): value is empty; 1 to 20 characters required" },
    ]);
  });

  it("keeps the parts it could read on an invalid URI", () => {
    const result = parseGs1DigitalLink("https://id.gs1.org/01/09506000134352/21/S1/10/L1");
    expect(result.status === "invalid" && result.digitalLink?.qualifiers).toEqual(["21", "10"]);
  });
});

describe("key qualifiers against every dlpkey alternative", () => {
  // A dictionary whose two alternatives hold the same qualifiers in opposite orders: GS1's engine
  // accepts a path matching either one (dl.c lists every in-order subset of each alternative).
  const dictionary = parseSyntaxDictionary("01 *? N14,csum dlpkey=10,21|21,10\n10 ? X..20\n21 X..20\n");
  it.each(["https://a/01/09520123456788/10/A/21/B", "https://a/01/09520123456788/21/B/10/A"])("accepts %s", (uri) => {
    expect(parseDigitalLink(dictionary, uri).status).toBe("valid");
  });
  it("still refuses a repeated qualifier", () => {
    const result = parseDigitalLink(dictionary, "https://a/01/09520123456788/10/A/10/A");
    expect(result.status === "invalid" && result.errors.map((e) => e.message)).toEqual(["AI (10) appears more than once in the Digital Link path"]);
  });
});
