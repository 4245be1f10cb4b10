/**
 * Conformance cases written from the standards, each citing where its rule comes from:
 *
 * - "GenSpecs" — GS1 General Specifications (Release 24.0; section numbers from its table of
 *   contents, each with its title so a later renumbering can be followed): §3 the AI definitions (cited with the
 *   AI), §4.14 the rules for combining element strings (invalid pairs, mandatory associations),
 *   §7.8.5 pre-defined length element strings, §7.9 check digit / check character pair
 *   calculation, §7.11 the AI encodable character sets 82, 39 and 64.
 * - "DL" — GS1 Digital Link: URI Syntax (1.4); its ABNF rules are cited by name (`scheme`,
 *   `hostname`, `gtin-path`, `queryStringParam`…; the 1.2 grammar file is
 *   gs1/digital-link.js grammar/GS1_Digital_Link_Grammar_1_2.abnf), with RFC 3986 where the
 *   ABNF defers to it.
 * - "engine" — GS1's reference implementation gs1/gs1-syntax-engine at commit 50657db, file and
 *   line of the test vector (src/c-lib/dl.c, src/c-lib/ai.c, src/c-lib/syntax/lint_*.c).
 *
 * Where C-981 deliberately differs from the standard or the engine, the case says so and ADR 012
 * ("Remaining differences") lists it.
 */
import { describe, expect, it } from "vitest";
import { BUILT_IN_REFERENCE_LISTS } from "./linters";
import { parseGs1, parseGs1DigitalLink, type Gs1ParseOptions } from "./index";

type Case = [citation: string, input: string];
type AcceptCase = [citation: string, input: string, elementString: string];
type RefuseCase = [citation: string, input: string, rule: string, message: string];

function accepted(input: string, options?: Gs1ParseOptions): string {
  const result = parseGs1(input, options);
  if (result.status !== "valid") {
    const why = result.status === "invalid" ? result.errors.map((e) => e.message).join("; ") : result.message;
    throw new Error(`${input}: expected valid, got ${result.status}: ${why}`);
  }
  return result.reading.elementString;
}

function refusal(input: string, options?: Gs1ParseOptions): { rule: string; message: string } {
  const result = parseGs1(input, options);
  if (result.status !== "invalid") throw new Error(`${input}: expected invalid, got ${result.status}`);
  const [first] = result.errors;
  return { rule: first!.rule, message: first!.message };
}

const acceptAll = (cases: AcceptCase[], options?: Gs1ParseOptions) =>
  it.each(cases)("%s: accepts %s", (_citation, input, elementString) => {
    expect(accepted(input, options)).toBe(elementString);
  });

const refuseAll = (cases: RefuseCase[], options?: Gs1ParseOptions) =>
  it.each(cases)("%s: refuses %s", (_citation, input, rule, message) => {
    expect(refusal(input, options)).toEqual({ rule, message });
  });

// ---------------------------------------------------------------------------
// Digital Link: scheme and host
// ---------------------------------------------------------------------------

describe("DL scheme: http or https, lower case or all upper case", () => {
  acceptAll([
    ["DL `scheme`; engine dl.c:1329", "http://a/00/006141411234567890", "(00)006141411234567890"],
    ["DL `scheme`; engine dl.c:1333 (QR alphanumeric mode)", "HTTP://a/00/006141411234567890", "(00)006141411234567890"],
    ["DL `scheme`; engine dl.c:1337", "https://a/00/006141411234567890", "(00)006141411234567890"],
    ["DL `scheme`; engine dl.c:1341", "HTTPS://a/00/006141411234567890", "(00)006141411234567890"],
  ]);
  const mixed = (scheme: string) => `the scheme "${scheme}" mixes upper and lower case; a Digital Link URI starts with http://, https://, HTTP:// or HTTPS://`;
  refuseAll([
    ["engine dl.c:1344 (mixed-case scheme forbidden)", "HtTp://a/b/00/006141411234567890", "syntax", mixed("HtTp")],
    ["engine dl.c:1344 (mixed-case scheme forbidden)", "Https://a/00/006141411234567890", "syntax", mixed("Https")],
  ]);
  it("DL `scheme`; engine dl.c:1320: refuses ftp://", () => {
    // parseGs1 reads only http(s):// as a URI, so ask the Digital Link reader directly.
    const result = parseGs1DigitalLink("ftp://a/00/006141411234567890");
    expect(result.status === "invalid" && result.errors.map((e) => e.message)).toEqual(["a Digital Link URI is http:// or https://, a domain and a path"]);
  });
});

describe("DL host: RFC 3986 host [':' port], letters/digits/-/. names or bracketed IP literals", () => {
  acceptAll([
    ["DL `hostname`; engine dl.c:1361 (punycode)", "https://xn--fsq.xn--0zwm56d/01/12312312312333", "(01)12312312312333"],
    ["DL `hostname`; engine dl.c:1365 (explicit FQDN)", "https://a./01/12312312312333", "(01)12312312312333"],
    ["DL `hostname` port; engine dl.c:1369", "https://a:65535/01/12312312312333", "(01)12312312312333"],
    ["DL `IPv4address`; engine dl.c:1373", "https://192.0.2.1/01/12312312312333", "(01)12312312312333"],
    ["DL `reg-name` (digits); engine dl.c:1377", "https://3232235777/01/12312312312333", "(01)12312312312333"],
    ["DL `IP-literal` IPv6; engine dl.c:1389", "https://[2001:db8::1]/01/12312312312333", "(01)12312312312333"],
    ["DL `IPv6address` ls32 = IPv4 (RFC 3986 §3.2.2)", "https://[::ffff:192.0.2.1]/01/12312312312333", "(01)12312312312333"],
    ["DL `IPvFuture` (RFC 3986 §3.2.2)", "https://[v1.fe80]/01/12312312312333", "(01)12312312312333"],
  ]);
  refuseAll([
    [
      "engine dl.c:1393 (IPv6 zone identifier); DL `IP-literal` has no ZoneID",
      "https://[fe80::1%25lo]/01/12312312312333",
      "syntax",
      "the host [fe80::1%25lo] carries an IPv6 zone identifier, which a Digital Link URI must not (RFC 3986 §3.2.2)",
    ],
    [
      "DL `IPv6address` (RFC 3986 §3.2.2: one '::')",
      "https://[2001:db8::1::2]/01/12312312312333",
      "syntax",
      "the host [2001:db8::1::2] is not a valid IPv6 address (RFC 3986 §3.2.2)",
    ],
    ["engine dl.c:1397 (bad domain character)", "https://$a/01/12312312312333", "syntax", 'the domain "$a" contains "$", which is not allowed in a host name'],
    ["engine dl.c:1401 (bad domain character)", "https://a$/01/12312312312333", "syntax", 'the domain "a$" contains "$", which is not allowed in a host name'],
    [
      "DL `hostname` has no userinfo; engine isBadDomainChar('@')",
      "https://user@a/01/12312312312333",
      "syntax",
      `the URI authority "user@a" carries user information ('@'), which a Digital Link URI must not`,
    ],
    ["DL `port` = *DIGIT", "https://a:x/01/12312312312333", "syntax", 'the port "x" is not a number'],
    ["engine dl.c:1322 (no domain)", "https:///01/12312312312333", "syntax", "the URI has no domain after the scheme"],
    ["engine dl.c:1323 (no path info)", "https://a", "syntax", "a Digital Link URI is http:// or https://, a domain and a path"],
    ["engine dl.c:1405 (character outside RFC 3986)", "https://a/01/12312312312333<bad", "syntax", 'the URI contains "<", which is not allowed in a URI'],
    ["engine dl.c:1410 (character outside RFC 3986)", "https://a/01/12312312312333^bad", "syntax", 'the URI contains "^", which is not allowed in a URI'],
    [
      "RFC 3986 §3.4 (query is pchar / '/' / '?'; '[' is not)",
      "https://a/01/12312312312333?x=[1]",
      "syntax",
      'the URI query string contains "[", which is not allowed there (RFC 3986 §3.3-3.5)',
    ],
    [
      "RFC 3986 §3.5 (fragment has no '#')",
      "https://a/01/12312312312333#a#b",
      "syntax",
      'the URI fragment contains "#", which is not allowed there (RFC 3986 §3.3-3.5)',
    ],
  ]);
});

// ---------------------------------------------------------------------------
// Digital Link: path, stem, key qualifiers
// ---------------------------------------------------------------------------

describe("DL path: primary key, key qualifiers in dlpkey order, stem before the rightmost key", () => {
  acceptAll([
    ["DL `gtin-path`; engine dl.c:1631", "https://id.gs1.org/01/09520123456788", "(01)09520123456788"],
    ["DL `gtin-path` [cpv-comp]; engine dl.c:1647", "https://id.gs1.org/01/09520123456788/22/2A", "(01)09520123456788(22)2A"],
    ["DL `gtin-path` [lot-comp]; engine dl.c:1651", "https://id.gs1.org/01/09520123456788/10/ABC123", "(01)09520123456788(10)ABC123"],
    ["DL `gtin-path` [ser-comp]; engine dl.c:1655", "https://id.gs1.org/01/09520123456788/21/12345", "(01)09520123456788(21)12345"],
    ["DL `gtin-path` all qualifiers; engine dl.c:1509", "https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ", "(01)12312312312333(22)TEST(10)ABC(21)XYZ"],
    ["DL `upui-path` (gtin-comp tpx-comp); engine dl.c:1513", "https://a/01/12312312312333/235/TEST", "(01)12312312312333(235)TEST"],
    ["DL `gdti-path`; engine dl.c:1521", "https://a/253/1231231231232TEST5678901234567", "(253)1231231231232TEST5678901234567"],
    ["DL `gsrn-path` [srin-comp]; engine dl.c:1528", "https://a/8018/123456789012345675/8019/123", "(8018)123456789012345675(8019)123"],
    ["DL `gln-path` [glnx-comp], percent-encoded '/'; engine dl.c:1721", "https://id.gs1.org/414/9520123456788/254/32a%2Fb", "(414)9520123456788(254)32a/b"],
    ["DL `sscc-path`; engine dl.c:1709", "https://id.gs1.org/00/952012345678912345", "(00)952012345678912345"],
    ["DL `customURIstem`; engine dl.c:1419", "https://a/stem/00/006141411234567890", "(00)006141411234567890"],
    ["DL `customURIstem`, RFC 3986 §2.1 (pct-encoded is any octet; the stem is not decoded)", "https://a/caf%E9/01/12312312312333", "(01)12312312312333"],
    [
      "dictionary `415 … dlpkey=8020`, engine alike; the DL 1.2 `gs1path` has no (415) path (ADR 012)",
      "https://a/415/5412345678908/8020/ABC123",
      "(415)5412345678908(8020)ABC123",
    ],
    [
      "DL `XCHAR` admits '.'; RFC 3986 §5.2.4 would remove the dot segment on resolution (ADR 012)",
      "https://a/01/12312312312333/10/..",
      "(01)12312312312333(10)..",
    ],
    ["DL `customURIstem`; engine dl.c:1427 (AI-like stem, rightmost key)", "https://a/00/faux/00/006141411234567890", "(00)006141411234567890"],
    [
      "DL: '+' in a path segment is a plus sign; engine dl.c:1601",
      "https://a/01/12312312312333/22/ABC+123?99=ABC&98=XYZ%2f987",
      "(01)12312312312333(22)ABC+123(99)ABC(98)XYZ/987",
    ],
    [
      "DL fragment not part of the data; engine dl.c:1613",
      "https://a/01/12312312312333/22/test/10/abc/21/xyz#fragment",
      "(01)12312312312333(22)test(10)abc(21)xyz",
    ],
  ]);
  refuseAll([
    [
      "DL `gtin-path` order (cpv, lot, ser)",
      "https://id.gs1.org/01/09520123456788/21/S1/10/L1",
      "dl-qualifier",
      "AI (10) is out of order: key qualifiers of (01) follow the order (22), (10), (21), so (10) cannot come after (21)",
    ],
    [
      "DL `gs1path`: (235) is not combined with (22)/(10)/(21)",
      "https://id.gs1.org/01/09520123456788/10/L1/235/T1",
      "dl-qualifier",
      "AI (235) cannot be combined with (10) as key qualifiers of (01); use (22), (10), (21) in that order, or (235)",
    ],
    [
      "DL `sscc-path` takes no qualifier",
      "https://id.gs1.org/00/106141412345678908/10/ABC",
      "dl-qualifier",
      "AI (10) cannot follow (00) in a Digital Link path: (00) takes no key qualifiers",
    ],
    [
      "engine dl.c:1860 (invalid key-qualifier sequence)",
      "https://a/01/12312312312333/99/ABC",
      "dl-qualifier",
      "AI (99) is not a key qualifier of (01); the path after (01) may only hold (22), (10), (21) in that order, or (235)",
    ],
    ["engine dl.c:1532 (path ends in '/')", "https://a/stem/00/006141411234567890/", "syntax", "the Digital Link URI path must not end with '/'"],
    ["engine dl.c:1325 (no primary key)", "http://a/b", "dl-primary-key", "no GS1 Digital Link primary key (such as /01/, /00/ or /8004/) in the URI path"],
    [
      "engine dl.c:1435 (convenience alphas are off by default)",
      "https://a/gtin/12312312312333",
      "dl-primary-key",
      "no GS1 Digital Link primary key (such as /01/, /00/ or /8004/) in the URI path",
    ],
    [
      "engine dl.c:1775 (empty AI value)",
      "https://a/01//12312312312333",
      "dl-primary-key",
      "no GS1 Digital Link primary key (such as /01/, /00/ or /8004/) in the URI path",
    ],
    [
      "engine dl.c:1778 (percent-encoded NUL; here the decoded value is also too long)",
      "https://a/01/1231231231233%003",
      "length",
      "AI (01): 15 characters exceeds maximum 14",
    ],
    [
      "engine dl.c:1778 (percent-encoded NUL in a path value)",
      "https://a/01/12312312312333/10/A%00B",
      "charset",
      "AI (10): character U+0000 at position 2 is not in CSET 82",
    ],
    [
      "RFC 3986 §2.1 pct-encoded = '%' HEXDIG HEXDIG (engine keeps it literally: ADR 012)",
      "https://a/01/12312312312333/10/AB%ZZ",
      "syntax",
      'AI (10): invalid percent-encoding in "AB%ZZ"',
    ],
    [
      "RFC 3986 §2.1 allows any octet as pct-encoded, but an AI value is CSET 82 text (UTF-8 expected: ADR 012)",
      "https://a/01/12312312312333/10/AB%C3",
      "syntax",
      'AI (10): the percent-escapes in "AB%C3" do not decode to UTF-8 text',
    ],
    [
      "RFC 3986 §2.1 in the stem",
      "https://a/st%ZZem/01/12312312312333",
      "syntax",
      'the URI path segment "st%ZZem" before the primary key has invalid percent-encoding',
    ],
  ]);
});

// ---------------------------------------------------------------------------
// Digital Link: query string
// ---------------------------------------------------------------------------

describe("DL query string: data attributes, '+' as space, no AI twice, qualifiers chosen by the path", () => {
  acceptAll([
    [
      "DL `queryStringParam`; engine dl.c:1659",
      "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
      "(01)09520123456788(10)ABC1(21)12345(17)180426",
    ],
    ["DL `netWeightVMTIParameter`; engine dl.c:1665", "https://id.gs1.org/01/09520123456788?3103=000195", "(01)09520123456788(3103)000195"],
    [
      "DL `queryStringParam`s; engine dl.c:1675",
      "https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225",
      "(01)09520123456788(3103)000195(3922)0299(17)201225",
    ],
    [
      "DL; engine dl.c:1713",
      "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123",
      "(00)952012345678912345(02)09520123456788(37)25(10)ABC123",
    ],
    [
      "DL `gtinParameter` after another key; engine dl.c:1726",
      "https://example.com/8004/9520614141234567?01=09520123456788",
      "(8004)9520614141234567(01)09520123456788",
    ],
    [
      "engine dl.c:1736 (the path chose (235), so (10) is an attribute)",
      "https://id.gs1.org/01/09520123456788/235/XYZ?10=ABC123",
      "(01)09520123456788(235)XYZ(10)ABC123",
    ],
    [
      "DL `extensionParameter`; engine dl.c:1593 (non-AI and singleton parameters)",
      "https://a/01/12312312312333?singleton1&unknown1=555&99=ABC&singleton2&98=XYZ",
      "(01)12312312312333(99)ABC(98)XYZ",
    ],
    [
      'DL `extensionParameter = *( pchar / "/" / "?" )` admits an empty name (engine refuses it: ADR 012)',
      "https://a/01/12312312312333?=X",
      "(01)12312312312333",
    ],
    ["engine dl.c:1557 (extraneous separators)", "https://a/01/12312312312333?&&&99=ABC&&&&&&98=XYZ&&&", "(01)12312312312333(99)ABC(98)XYZ"],
    ["engine dl.c:1535 (empty query)", "https://a/stem/00/006141411234567890?", "(00)006141411234567890"],
    [
      "engine dl.c:1597 (percent-escaped values)",
      "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987",
      "(01)12312312312333(22)ABC-123(99)ABC(98)XYZ/987",
    ],
    ["DL Plus = '%2B'; engine URIunescape: only a literal '+' is a space", "https://a/01/12312312312333?98=XYZ%2B987", "(01)12312312312333(98)XYZ+987"],
    ["engine dl.c:1621 (fragment after the query)", "https://a/stem/00/006141411234567890?99=ABC#fragment", "(00)006141411234567890(99)ABC"],
  ]);
  refuseAll([
    [
      "engine dl.c:1605 and dl.c:1899 ('+' is a space in the query; space is not CSET 82)",
      "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987",
      "charset",
      "AI (98): character U+0020 at position 4 is not in CSET 82",
    ],
    [
      "engine dl.c:1741 (duplicate AI: key in path and query)",
      "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&01=09520123456788",
      "repeated",
      "AI (01) appears in both the URI path and the query string; a Digital Link URI carries each AI once",
    ],
    [
      "engine dl.c:1745 (duplicate AI: qualifier in path and query)",
      "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&10=ABC123",
      "repeated",
      "AI (10) appears in both the URI path and the query string; a Digital Link URI carries each AI once",
    ],
    [
      "engine dl.c:1749 (duplicate AI twice in the query, same value)",
      "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&99=XYZ789",
      "repeated",
      "AI (99) appears more than once in the query string; a Digital Link URI carries each AI once",
    ],
    [
      "engine dl.c:1731 (AI belongs in the path)",
      "https://example.com/01/09520123456788?10=ABC123",
      "dl-qualifier",
      "AI (10) is a key qualifier of (01) and belongs in the URI path, not the query string",
    ],
    [
      "engine dl.c:933-946, code, no test vector (trial insertion: insertable after the path's (10))",
      "https://id.gs1.org/01/09520123456788/10/L1?21=S1",
      "dl-qualifier",
      "AI (21) is a key qualifier of (01) and belongs in the URI path, not the query string",
    ],
    [
      "engine dl.c:933-946, code, no test vector (trial insertion: insertable before the path's (21))",
      "https://id.gs1.org/01/09520123456788/21/S1?10=L1",
      "dl-qualifier",
      "AI (10) is a key qualifier of (01) and belongs in the URI path, not the query string",
    ],
    [
      "dictionary flag '?' (DL data attribute); path chose (235), so (21) is judged as an attribute",
      "https://id.gs1.org/01/09520123456788/235/T?21=S",
      "dl-attribute",
      "AI (21) is not permitted as a Digital Link data attribute (query string)",
    ],
    [
      "engine dl.c:1554 (numeric non-AI parameter)",
      "https://a/01/12312312312333?99=ABC&999=faux",
      "unknown-ai",
      "AI (999) in the query string is not in the GS1 syntax dictionary",
    ],
    ["engine dl.c:1551 (empty AI value)", "https://a/01/12312312312333?99=", "length", "AI (99): value is empty; 1 to 90 characters required"],
    [
      "engine dl.c:1781 (percent-encoded NUL in the query)",
      "https://a/01/12312312312333?99=ABC%00DEF",
      "charset",
      "AI (99): character U+0000 at position 4 is not in CSET 82",
    ],
    [
      "DL `queryStringParam` writes AI keys as digits (engine reads %31%30 as a non-AI parameter: ADR 012)",
      "https://id.gs1.org/01/09520123456788?%31%30=ABC",
      "syntax",
      'query parameter "%31%30" is a percent-encoded AI; write the AI (10) as plain digits',
    ],
    [
      "RFC 3986 §2.1 in a non-AI parameter (engine does not decode those: ADR 012)",
      "https://a/01/12312312312333?x%ZZ=1",
      "syntax",
      'query parameter "x%ZZ=1" has invalid percent-encoding',
    ],
    [
      "RFC 3986 §2.1 allows %E9; C-981 returns non-AI parameters decoded and needs UTF-8 (engine does not decode them: ADR 012)",
      "https://a/01/12312312312333?x=%E9",
      "syntax",
      'query parameter "x=%E9": the percent-escapes do not decode to UTF-8 text',
    ],
  ]);

  it("DL `extensionParameter`: non-AI parameters are returned decoded, '+' as space", () => {
    const result = parseGs1("https://a/01/12312312312333?linkType=gs1%3Apip&q=a+b&flag");
    expect(result.status === "valid" && result.digitalLink?.otherParameters).toEqual([
      ["linkType", "gs1:pip"],
      ["q", "a b"],
      ["flag", ""],
    ]);
  });
});

describe("DL zero-suppressed GTINs: only with expandShortGtin (engine: deprecated, off by default)", () => {
  refuseAll([
    ["engine dl.c:1455 (GTIN-13 refused without the option)", "https://a/01/2112345678900", "length", "AI (01): 13 characters; exactly 14 required"],
    ["engine dl.c:1465 (GTIN-12)", "https://a/01/416000336108", "length", "AI (01): 12 characters; exactly 14 required"],
    ["engine dl.c:1475 (GTIN-8)", "https://a/01/02345673", "length", "AI (01): 8 characters; exactly 14 required"],
    ["engine dl.c:1490 (query)", "https://a/8004/9520614141234567?01=2112345678900", "length", "AI (01): 13 characters; exactly 14 required"],
  ]);
  acceptAll(
    [
      ["engine dl.c:1450", "https://a/01/2112345678900", "(01)02112345678900"],
      ["engine dl.c:1460", "https://a/01/416000336108", "(01)00416000336108"],
      ["engine dl.c:1470", "https://a/01/02345673", "(01)00000002345673"],
      ["engine dl.c:1485 (query)", "https://a/8004/9520614141234567?01=2112345678900", "(8004)9520614141234567(01)02112345678900"],
      ["engine dl.c:1636 (DL specification example)", "https://brand.example.com/01/9520123456788", "(01)09520123456788"],
      ["engine dl.c:1504 (a full GTIN-14 is unaffected)", "https://a/8004/9520614141234567?01=09521234543213", "(8004)9520614141234567(01)09521234543213"],
    ],
    { expandShortGtin: true },
  );
  it("engine dl.c:1504: a full GTIN-14 reads the same without the option", () => {
    expect(accepted("https://a/8004/9520614141234567?01=09521234543213")).toBe("(8004)9520614141234567(01)09521234543213");
  });
});

// ---------------------------------------------------------------------------
// Element strings: values
// ---------------------------------------------------------------------------

describe("check digits and check character pairs", () => {
  acceptAll([
    ["GenSpecs §7.9 (mod-10 check digit), §3 AI (01)", "(01)09506000134352", "(01)09506000134352"],
    ["GenSpecs §7.9, §3 AI (00)", "(00)106141412345678908", "(00)106141412345678908"],
    ["GenSpecs §7.9 (check character pair), §3 AI (8013); engine lint_csumalpha.c:209", "(8013)1987654Ad4X4bL5ttr2310c2K", "(8013)1987654Ad4X4bL5ttr2310c2K"],
  ]);
  refuseAll([
    ["GenSpecs §7.9, §3 AI (01)", "(01)09506000134353", "check-digit", "AI (01): check digit should be 2, got 3"],
    ["GenSpecs §7.9, §3 AI (00)", "(00)106141412345678909", "check-digit", "AI (00): check digit should be 8, got 9"],
    ["GenSpecs §7.9; engine lint_csumalpha.c:211", "(8013)1987654Ad4X4bL5ttr2310cXK", "check-pair", "AI (8013): check character pair should be 2K, got XK"],
  ]);
});

describe("fixed and variable lengths", () => {
  acceptAll([
    ["GenSpecs §3 AI (21): X..20", "(01)09506000134352(21)ABCDEFGHIJKLMNOPQRST", "(01)09506000134352(21)ABCDEFGHIJKLMNOPQRST"],
    ["GenSpecs §3 AI (253): N13 [X..17]; engine dl.c:1517", "(253)1231231231232", "(253)1231231231232"],
  ]);
  refuseAll([
    ["GenSpecs §3 AI (01): N14", "(01)0950600013435", "length", "AI (01): 13 characters; exactly 14 required"],
    ["GenSpecs §3 AI (21): X..20", "(01)09506000134352(21)ABCDEFGHIJKLMNOPQRSTU", "length", "AI (21): 21 characters exceeds maximum 20"],
    ["GenSpecs §3 AI (253): N13 X..17; engine dl.c:1525", "(253)1231231231232TEST56789012345678", "length", "AI (253): 31 characters exceeds maximum 30"],
  ]);
});

describe("dates", () => {
  acceptAll([
    ["GenSpecs §3 AI (17) YYMMDD", "(01)09506000134352(17)261231", "(01)09506000134352(17)261231"],
    ["GenSpecs §3 AI (17): day 00 = end of month", "(01)09506000134352(17)261200", "(01)09506000134352(17)261200"],
    ["GenSpecs §3 AI (17), §7.12 century: 2024 is a leap year", "(01)09506000134352(17)240229", "(01)09506000134352(17)240229"],
  ]);
  refuseAll([
    ["GenSpecs §3 AI (17): month 01-12", "(01)09506000134352(17)261331", "date", "AI (17): 261331 is not a valid date (month 13)"],
    ["GenSpecs §3 AI (17): 2025 is not a leap year", "(01)09506000134352(17)250229", "date", "AI (17): 250229 is not a valid date (day 29 of month 02)"],
    ["GenSpecs §3 AI (7006): YYMMDD without day 00", "(01)09506000134352(7006)261200", "date", "AI (7006): 261200 is not a valid date (day 00)"],
  ]);
});

describe("character sets 82, 39 and 64; percent-encoded AIs", () => {
  acceptAll([
    ["GenSpecs §7.11 CSET 82 (symbols)", "(01)09506000134352(10)A-/.%&')*+,:;<=>?_\"!", "(01)09506000134352(10)A-/.%&')*+,:;<=>?_\"!"],
    ["GenSpecs §7.11 CSET 39, §3 AI (8010)", "(8010)0614141#-/AB", "(8010)0614141#-/AB"],
    ["GenSpecs §7.11 CSET 64, §3 AI (8030)", "(00)106141412345678908(8030)AB-_1=", "(00)106141412345678908(8030)AB-_1="],
  ]);
  refuseAll([
    ["GenSpecs §7.11 CSET 82 has no space", "(01)09506000134352(10)AB C", "charset", "AI (10): character U+0020 at position 3 is not in CSET 82"],
    ["GenSpecs §7.11 CSET 82 has no '#'", "(01)09506000134352(10)AB#C", "charset", "AI (10): character '#' at position 3 is not in CSET 82"],
    ["GenSpecs §7.11 CSET 39 is upper case", "(8010)0614141abc", "charset", "AI (8010): character 'a' at position 8 is not in CSET 39"],
    ["GenSpecs §7.11 CSET 64; engine ai.c:1514", "(00)106141412345678908(8030)ABC:123", "charset", "AI (8030): character ':' at position 4 is not in CSET 64"],
    [
      "GenSpecs §7.11 CSET 64 padding; engine ai.c:1515",
      "(00)106141412345678908(8030)123=",
      "charset",
      "AI (8030): invalid CSET 64 padding (1 '=' in 4 characters)",
    ],
    ["GenSpecs §3 AI (4300) percent-encoded (pcenc)", "(00)106141412345678908(4300)ACME%2", "format", 'AI (4300): invalid percent-encoding "%2" at position 5'],
  ]);
});

describe("ISO and code lists, checked by default", () => {
  it("ships the ISO 3166-1 list of 249 countries, ISO 4217 and GS1 package types", () => {
    // ISO 3166-1 assigns 249 countries (the same number of numeric and alpha-2 codes).
    expect(BUILT_IN_REFERENCE_LISTS.iso3166Numeric.size).toBe(249);
    expect(BUILT_IN_REFERENCE_LISTS.iso3166Alpha2.size).toBe(249);
    for (const code of ["528", "276", "840", "826", "056"]) expect(BUILT_IN_REFERENCE_LISTS.iso3166Numeric.has(code), code).toBe(true);
    for (const code of ["NL", "DE", "US", "GB", "BE"]) expect(BUILT_IN_REFERENCE_LISTS.iso3166Alpha2.has(code), code).toBe(true);
    for (const code of ["978", "840", "826", "392", "756"]) expect(BUILT_IN_REFERENCE_LISTS.iso4217Numeric.has(code), code).toBe(true);
    expect(BUILT_IN_REFERENCE_LISTS.iso3166Alpha2.has("UK")).toBe(false); // GB is the ISO code
  });
  acceptAll([
    ["GenSpecs §3 AI (422) ISO 3166 numeric", "(01)09506000134352(422)528", "(01)09506000134352(422)528"],
    ["GenSpecs §3 AI (423) list of ISO 3166 codes", "(01)09506000134352(423)528056", "(01)09506000134352(423)528056"],
    ["GenSpecs §3 AI (7030) ISO 3166 or 999; engine lint_iso3166999.c:93", "(01)09506000134352(7030)999ABC", "(01)09506000134352(7030)999ABC"],
    ["GenSpecs §3 AI (4307) ISO 3166 alpha-2", "(00)106141412345678908(4307)NL", "(00)106141412345678908(4307)NL"],
    ["GenSpecs §3 AI (3911) ISO 4217", "(415)0614141000005(8020)ABC(3911)97812345", "(415)0614141000005(8020)ABC(3911)97812345"],
    [
      "GenSpecs §3 AI (8007) IBAN; engine lint_iban.c:175",
      "(415)0614141000005(8020)ABC(8007)BE71096123456769",
      "(415)0614141000005(8020)ABC(8007)BE71096123456769",
    ],
    ["GenSpecs §3 AI (7041) package type (UN/ECE Rec. 21)", "(00)106141412345678908(7041)BX", "(00)106141412345678908(7041)BX"],
  ]);
  refuseAll([
    [
      "GenSpecs §3 AI (422); engine lint_iso3166.c (999 is no country)",
      "(01)09506000134352(422)999",
      "format",
      "AI (422): 999 is not an ISO 3166 numeric country code",
    ],
    ["GenSpecs §3 AI (423), second code", "(01)09506000134352(423)528057", "format", "AI (423) (component 2): 057 is not an ISO 3166 numeric country code"],
    ["engine ai.c:1533", "(01)09506000134352(7030)987ABC", "format", "AI (7030) (component 1): 987 is not an ISO 3166 numeric country code (or 999)"],
    ["engine ai.c:1534", "(00)106141412345678908(4307)AA", "format", "AI (4307): AA is not an ISO 3166 alpha-2 country code"],
    [
      "GenSpecs §3 AI (3911) ISO 4217",
      "(415)0614141000005(8020)ABC(3911)00012345",
      "format",
      "AI (3911) (component 1): 000 is not an ISO 4217 numeric currency code",
    ],
    [
      "engine lint_iban.c:194 (IBAN country)",
      "(415)0614141000005(8020)ABC(8007)XX361234567890",
      "format",
      "AI (8007): IBAN country code XX is not an ISO 3166 alpha-2 code",
    ],
    [
      "GenSpecs §3 AI (7041)",
      "(00)106141412345678908(7041)B0",
      "format",
      "AI (7041): B0 is not an UN/ECE Recommendation 21 (GS1 PackageTypeCode) package type code",
    ],
  ]);
  it("GenSpecs §3: the GS1 Company Prefix allocation is not checkable offline, and says so", () => {
    const result = parseGs1("(01)09506000134352(422)528");
    expect(result.status === "valid" && result.reading.notPerformed.map((n) => n.linter)).toEqual(["gcppos2"]);
  });
});

// ---------------------------------------------------------------------------
// Element strings: combinations
// ---------------------------------------------------------------------------

describe("pairing (req), exclusions (ex), repeats", () => {
  acceptAll([
    ["GenSpecs §4.14 mandatory association; engine ai.c:2105", "(21)ABC123(01)12345678901231", "(21)ABC123(01)12345678901231"],
    ["GenSpecs §4.14; engine ai.c:2100", "(02)12345678901231(37)123(00)123456789012345675", "(02)12345678901231(37)123(00)123456789012345675"],
    ["engine ai.c:2049 (identical repeat from two carriers)", "(01)09506000134352(400)ABC(400)ABC", "(01)09506000134352(400)ABC(400)ABC"],
  ]);
  refuseAll([
    ["GenSpecs §4.14 mandatory association; engine ai.c:2104", "(21)ABC123", "requires", "AI (21) requires (01) or (03) or (8006)"],
    [
      "GenSpecs §4.14 invalid pair; engine ai.c:2075",
      "(01)12345678901231(255)5412345000150",
      "excludes",
      "AI (01) must not be used together with (255) (exclusion ex=255)",
    ],
    [
      "GenSpecs §4.14 invalid pair; engine ai.c:2077",
      "(01)12345678901231(21)ABC123(235)XYZ",
      "excludes",
      "AI (21) must not be used together with (235) (exclusion ex=235)",
    ],
    [
      "engine ai.c:2052 (repeat with another value)",
      "(01)09506000134352(400)ABC(400)AB",
      "repeated",
      'AI (400) appears more than once with different values ("ABC", "AB")',
    ],
  ]);
});

describe("digital signature (8030): key with its serial component", () => {
  acceptAll([
    ["GenSpecs §3 AI (8030); engine ai.c:2149", "(253)1234567890128X(8030)ABC123", "(253)1234567890128X(8030)ABC123"],
    ["GenSpecs §3 AI (8030); engine ai.c:2153", "(255)12345678901280(8030)ABC123", "(255)12345678901280(8030)ABC123"],
    ["GenSpecs §3 AI (8030); engine ai.c:2157", "(8003)01234567890128X(8030)ABC123", "(8003)01234567890128X(8030)ABC123"],
    ["GenSpecs §3 AI (8030) req; engine ai.c:2129", "(8030)DIGSIG(01)12345678901231(21)ABC123", "(8030)DIGSIG(01)12345678901231(21)ABC123"],
    ["without (8030) the serial stays optional", "(253)1234567890128", "(253)1234567890128"],
  ]);
  const missing = (ai: string) => `AI (${ai}): the serial component must be present when (${ai}) is used with a digital signature (8030)`;
  refuseAll([
    ["GenSpecs §3 AI (8030); engine ai.c:2148", "(253)1234567890128(8030)ABC123", "digsig-serial", missing("253")],
    ["GenSpecs §3 AI (8030); engine ai.c:2152", "(255)1234567890128(8030)ABC123", "digsig-serial", missing("255")],
    ["GenSpecs §3 AI (8030); engine ai.c:2156", "(8003)01234567890128(8030)ABC123", "digsig-serial", missing("8003")],
    [
      "GenSpecs §3 AI (8030) req; engine ai.c:2128",
      "(8030)DIGSIG(01)12345678901231",
      "requires",
      "AI (8030) requires (00) or (01)+(21) or (03)+(21) or (253) or (255) or (8003) or (8004) or (8006)+(21) or (8010)+(8011) or (8017) or (8018)",
    ],
    ["the same rule in a Digital Link URI", "https://id.gs1.org/253/1234567890128?8030=ABC123", "digsig-serial", missing("253")],
  ]);
});

// ---------------------------------------------------------------------------
// Raw scans
// ---------------------------------------------------------------------------

describe("raw scans: pre-defined lengths and separators", () => {
  acceptAll([
    ["GenSpecs §7.8.5 (01) is of pre-defined length, no separator after it", "]d2010950600013435210ABC123", "(01)09506000134352(10)ABC123"],
    ["GenSpecs §7.8.5 FNC1 (GS) after a variable-length field", "]d2" + "0109506000134352" + "10ABC123\u001d" + "21S1", "(01)09506000134352(10)ABC123(21)S1"],
  ]);
  it("GenSpecs §7.8.5: a variable-length field without its separator is never guessed", () => {
    // (10)LOT121SER1 is one lot to a conformant decoder, and (10)LOT1 (21)SER1 if a GS was lost.
    const result = parseGs1("]d20109506000134352" + "10LOT121SER1");
    expect(result.status).toBe("ambiguous");
  });
  it.each<Case>([["GenSpecs §7.8.5: (10) is not of pre-defined length", "]d2" + "10ABC"]])("%s: %s needs its key", (_c, input) => {
    expect(refusal(input)).toEqual({ rule: "requires", message: "AI (10) requires (01) or (02) or (03) or (8006) or (8026)" });
  });
});
