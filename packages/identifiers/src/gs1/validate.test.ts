import { describe, expect, it } from "vitest";
import { parseGs1, parseGs1Bracketed, validateGs1AiList, validateGs1Elements, type Gs1Result } from "./index";

function valid(input: string): Extract<Gs1Result, { status: "valid" }> {
  const result = parseGs1(input);
  if (result.status !== "valid") throw new Error(`${input}: expected valid, got ${result.status}: ${JSON.stringify(result)}`);
  return result;
}

function errors(input: string): string[] {
  const result = parseGs1(input);
  if (result.status !== "invalid") throw new Error(`${input}: expected invalid, got ${result.status}`);
  return result.errors.map((e) => e.message);
}

function rules(input: string): string[] {
  const result = parseGs1(input);
  return result.status === "invalid" ? result.errors.map((e) => e.rule) : [];
}

describe("valid element strings (GS1 example keys)", () => {
  it.each([
    "(01)09506000134352(10)ABC123",
    "(01)09506000134352(17)261231(10)ABC123(21)XYZ",
    "(01)00614141123452(21)12345678901234567890",
    "(00)106141412345678908",
    "(00)106141412345678908(02)00614141123452(37)25(10)LOT1",
    "(414)0614141000005(254)ABC",
    "(8004)0614141ABC123",
    "(8003)00614141000012ABC",
    "(253)0614141000005XYZ",
    "(255)0614141000005",
    "(402)06141411234567890",
    "(8018)123456789012345675(8019)123",
    "(8006)095060001343520102(21)S1",
    "(8010)0614141ABC#-/(8011)123",
    "(8013)1987654Ad4X4bL5ttr2310c2K",
    "(01)09506000134352(3103)000195(3922)0299(17)201225",
    "(01)09506000134352(11)250600",
    "(01)09506000134352(7003)2612312359",
    "(01)09506000134352(8008)26123123",
    "(01)09506000134352(8008)261231235959",
    "(00)106141412345678908(4324)2612310930(4321)1",
    "(00)106141412345678908(4330)032130-",
    "(00)106141412345678908(8030)ABCD-_xyz12=",
    "(01)09506000134352(10)!\"%&'\\()*+,-./:;<=>?_",
    "(01)09506000134352(90)anything-internal",
  ])("%s", (input) => {
    expect(valid(input).reading.elementString).toBe(input);
  });

  it("reads an escaped bracket in a value", () => {
    const result = valid("(01)09506000134352(10)AB\\(C)");
    expect(result.reading.elements[1]).toEqual({ ai: "10", value: "AB(C)", title: "BATCH/LOT" });
    expect(result.reading.elementString).toBe("(01)09506000134352(10)AB\\(C)");
  });

  it("gives each element its dictionary title", () => {
    expect(valid("(01)09506000134352(17)261231").reading.elements).toEqual([
      { ai: "01", value: "09506000134352", title: "GTIN" },
      { ai: "17", value: "261231", title: "USE BY or EXPIRY" },
    ]);
  });
});

describe("check digits", () => {
  it.each([
    ["(01)09506000134353", "AI (01): check digit should be 2, got 3"],
    ["(01)00614141123459", "AI (01): check digit should be 2, got 9"],
    ["(00)106141412345678900", "AI (00): check digit should be 8, got 0"],
    ["(414)0614141000006", "AI (414): check digit should be 5, got 6"],
    ["(8018)123456789012345670", "AI (8018): check digit should be 5, got 0"],
    ["(402)06141411234567891", "AI (402): check digit should be 0, got 1"],
    ["(8003)00614141000013ABC", "AI (8003) (component 2): check digit should be 2, got 3"],
    ["(253)0614141000004XYZ", "AI (253) (component 1): check digit should be 5, got 4"],
    ["(8013)1987654Ad4X4bL5ttr2310cXK", "AI (8013): check character pair should be 2K, got XK"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });

  it("tags them with the rule and the dictionary linter", () => {
    const result = parseGs1("(01)09506000134353");
    expect(result.status === "invalid" && result.errors[0]).toEqual({
      ai: "01",
      rule: "check-digit",
      linter: "csum",
      message: "AI (01): check digit should be 2, got 3",
    });
  });
});

describe("dates and times: impossible values are rejected, never rolled over", () => {
  it.each([
    ["(01)09506000134352(17)261332", "AI (17): 261332 is not a valid date (month 13)"],
    ["(01)09506000134352(17)260230", "AI (17): 260230 is not a valid date (day 30 of month 02)"],
    ["(01)09506000134352(17)250229", "AI (17): 250229 is not a valid date (day 29 of month 02)"],
    ["(01)09506000134352(11)260431", "AI (11): 260431 is not a valid date (day 31 of month 04)"],
    ["(01)09506000134352(15)260000", "AI (15): 260000 is not a valid date (month 00)"],
    ["(01)09506000134352(7006)260100", "AI (7006): 260100 is not a valid date (day 00)"],
    ["(01)09506000134352(7003)2612312460", "AI (7003) (component 2): 2460 is not a valid time (hour 24)"],
    ["(01)09506000134352(7003)2612311260", "AI (7003) (component 2): 1260 is not a valid time (minute 60)"],
    ["(01)09506000134352(8008)26123124", "AI (8008) (component 2): 24 is not a valid time (hour 24)"],
    ["(8018)123456789012345675(7250)20230229", "AI (7250): 20230229 is not a valid date (day 29 of month 02)"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });

  it("day 00 is allowed where the dictionary says yymmd0 (AI 17), not where it says yymmdd (AI 7006)", () => {
    valid("(01)09506000134352(17)261200");
    expect(rules("(01)09506000134352(7006)261200")).toEqual(["date"]);
  });

  it("leap days: 240229 is valid, 250229 is not", () => {
    valid("(01)09506000134352(17)240229");
    expect(rules("(01)09506000134352(17)250229")).toEqual(["date"]);
  });
});

describe("lengths", () => {
  it.each([
    ["(01)09506000134352(21)123456789012345678901", "AI (21): 21 characters exceeds maximum 20"],
    ["(01)09506000134352(10)123456789012345678901", "AI (10): 21 characters exceeds maximum 20"],
    ["(01)0950600013435", "AI (01): 13 characters; exactly 14 required"],
    ["(01)095060001343520", "AI (01): 15 characters exceeds maximum 14"],
    ["(01)09506000134352(3103)00019", "AI (3103): 5 characters; exactly 6 required"],
    ["(01)09506000134352(10)", "AI (10): value is empty; 1 to 20 characters required"],
    ["(253)0614141000005123456789012345678", "AI (253): 31 characters exceeds maximum 30"],
    ["(01)09506000134352(422)5280", "AI (422): 4 characters exceeds maximum 3"],
    ["(01)09506000134352(423)5280", "AI (423) (component 2): needs 3 characters, only 1 left"],
    ["(8018)123456789012345675(8019)12345678901", "AI (8019): 11 characters exceeds maximum 10"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });
});

describe("character sets", () => {
  it.each([
    ["(01)09506000134352(10)AB#C", "AI (10): character '#' at position 3 is not in CSET 82"],
    ["(01)09506000134352(21)SER 1", "AI (21): character U+0020 at position 4 is not in CSET 82"],
    ["(01)09506000134352(21)ABC~", "AI (21): character '~' at position 4 is not in CSET 82"],
    ["(01)0950600013435A", "AI (01): character 'A' at position 14 is not a digit"],
    ["(8010)0614141abc(8011)1", "AI (8010): character 'a' at position 8 is not in CSET 39"],
    ["(00)106141412345678908(8030)AB+C", "AI (8030): character '+' at position 3 is not in CSET 64"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });

  it("'%' is in CSET 82 (a lot may contain it)", () => {
    expect(valid("(01)09506000134352(10)50%OFF").reading.elements[1]!.value).toBe("50%OFF");
  });
});

describe("mandatory pairings (req)", () => {
  it.each([
    ["(21)ABC", "AI (21) requires (01) or (03) or (8006)"],
    ["(10)LOT121SER1", "AI (10) requires (01) or (02) or (03) or (8006) or (8026)"],
    ["(17)261231", "AI (17) requires (01) or (02) or (03) or (255) or (8006) or (8026)"],
    ["(01)09506000134352(250)X", "AI (250) requires (01)+(21) or (03)+(21) or (8006)+(21)"],
    ["(01)09506000134352(3922)0299", "AI (3922) requires (01)+(30) or (01)+(31nn) or (01)+(32nn) or (01)+(35nn) or (01)+(36nn)"],
    ["(8019)123", "AI (8019) requires (8017) or (8018)"],
    ["(01)09506000134352(21)A(8041)123456789012345", "AI (8041) requires (01)+(21)+(8040)"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });

  it("a pattern requirement is met by any matching AI: (3922) with (01) and (3103)", () => {
    valid("(01)09506000134352(3103)000195(3922)0299");
  });

  it("a chain of pairings: (02) needs (37), which needs (00)+(02) or (00)+(8026)", () => {
    expect(errors("(02)00614141123452(37)25")).toEqual(["AI (37) requires (00)+(02) or (00)+(8026)"]);
    expect(errors("(00)106141412345678908(02)00614141123452")).toEqual(["AI (02) requires (37)"]);
  });

  it("are evaluated over all elements passed, e.g. from two carriers on one item", () => {
    expect(validateGs1Elements([{ ai: "21", value: "S1" }]).errors.map((e) => e.rule)).toEqual(["requires"]);
    expect(
      validateGs1Elements([
        { ai: "01", value: "09506000134352" },
        { ai: "21", value: "S1" },
      ]).errors,
    ).toEqual([]);
  });
});

describe("exclusions (ex)", () => {
  it.each([
    ["(01)09506000134352(255)0614141000005", "AI (01) must not be used together with (255) (exclusion ex=255)"],
    ["(01)09506000134352(21)A(235)B", "AI (21) must not be used together with (235) (exclusion ex=235)"],
    ["(01)09506000134352(3100)000001(3101)000001", "AI (3100) must not be used together with (3101) (exclusion ex=310n)"],
    ["(00)106141412345678908(4330)032130(4331)001000", "AI (4330) must not be used together with (4331) (exclusion ex=4331)"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });

  it("is reported once per pair even when both AIs exclude each other", () => {
    // (01) ex=255 and (255) ex=01
    expect(rules("(01)09506000134352(255)0614141000005")).toEqual(["excludes"]);
  });

  it("an AI does not exclude itself through its own pattern (3100 ex=310n)", () => {
    valid("(01)09506000134352(3100)000001(3100)000001");
  });
});

describe("repeated AIs", () => {
  it("the same AI twice with different values is an error", () => {
    expect(errors("(01)09506000134352(10)A(10)B")).toEqual(['AI (10) appears more than once with different values ("A", "B")']);
  });

  it("an identical repeat is harmless", () => {
    expect(valid("(01)09506000134352(10)A(10)A").reading.elements).toHaveLength(3);
  });
});

describe("other linters through their AIs", () => {
  it.each([
    ["(8006)095060001343520302(21)S1", "AI (8006) (component 2): piece number 03 exceeds total 02"],
    ["(00)106141412345678908(4321)2", "AI (4321): 2 must be 0 (no) or 1 (yes)"],
    ["(8018)123456789012345675(7259)BABY(7258)0/2", "AI (7258): 0/2: position and end must not be zero or start with 0"],
    ["(8018)123456789012345675(7259)BABY(7258)3/2", "AI (7258): 3/2: position 3 exceeds end 2"],
    ["(8010)0614141ABC(8011)0123", "AI (8011): 0123 must not start with 0"],
    ["(01)09506000134352(21)A(8014)179900025", "AI (8014): 179900025 must contain at least one non-digit character"],
    ["(00)106141412345678908(4330)032130+", "AI (4330) (component 2): + may only contain '-'"],
    ["(00)106141412345678908(4300)ACME%2", 'AI (4300): invalid percent-encoding "%2" at position 5'],
    ["(01)09506000134352(8001)00000000100100", "AI (8001) (component 1): 0000 must not be zero"],
    ["(415)0614141000005(8020)ABC(8007)BE71096123456760", "AI (8007): IBAN check digits 71 are incorrect"],
  ])("%s", (input, message) => {
    expect(errors(input)).toEqual([message]);
  });
});

describe("checks that cannot be performed are reported, not passed", () => {
  it("country codes are checked against the shipped ISO 3166 list", () => {
    const result = valid("(01)09506000134352(422)528");
    expect(result.reading.notPerformed.map((n) => n.linter)).toEqual(["gcppos2"]);
    expect(errors("(01)09506000134352(422)529")).toEqual(["AI (422): 529 is not an ISO 3166 numeric country code"]);
  });

  it("with the list given, the same value is checked (and a wrong code fails)", () => {
    const referenceLists = { iso3166Numeric: new Set(["528"]) };
    const ok = parseGs1("(01)09506000134352(422)528", { referenceLists });
    expect(ok.status === "valid" && ok.reading.notPerformed.map((n) => n.linter)).toEqual(["gcppos2"]);
    const bad = parseGs1("(01)09506000134352(422)529", { referenceLists });
    expect(bad.status === "invalid" && bad.errors.map((e) => e.message)).toEqual(["AI (422): 529 is not an ISO 3166 numeric country code"]);
  });

  it("currency codes are checked against the shipped ISO 4217 list; the GCP allocation of every key is not", () => {
    const result = valid("(415)0614141000005(8020)ABC(3911)97812345");
    expect(result.reading.notPerformed).toEqual([
      { ai: "415", linter: "gcppos1", reason: "GS1 Company Prefix allocation not checked (no GCP directory at hand)" },
    ]);
    expect(errors("(415)0614141000005(8020)ABC(3911)00012345")).toEqual(["AI (3911) (component 1): 000 is not an ISO 4217 numeric currency code"]);
  });

  it("coupon codes are read but their content check is reported as not performed", () => {
    const result = valid("(8110)0123");
    expect(result.reading.notPerformed).toEqual([
      { ai: "8110", linter: "couponcode", reason: "the North American coupon code check (couponcode) is not implemented" },
    ]);
  });
});

describe("unknown AIs and bracket syntax", () => {
  it("an AI not in the dictionary", () => {
    expect(errors("(01)09506000134352(23)ABC")).toEqual(["AI (23) is not in the GS1 syntax dictionary"]);
    expect(rules("(01)09506000134352(23)ABC")).toEqual(["unknown-ai"]);
  });

  it("malformed brackets", () => {
    expect(parseGs1Bracketed("0109506000134352")).toMatchObject({
      status: "invalid",
      errors: [{ rule: "syntax", message: "a bracketed element string starts with '(' and an AI" }],
    });
    expect(errors("(01)09506000134352(1A)X")).toEqual(["expected an AI of 2 to 4 digits in brackets at position 19"]);
    expect(errors("(01")).toEqual(["expected an AI of 2 to 4 digits in brackets at position 1"]);
    expect(errors("(01234)X")).toEqual(["expected an AI of 2 to 4 digits in brackets at position 1"]);
  });

  it("collects every error, not just the first", () => {
    expect(errors("(01)09506000134353(17)261332(21)SER 1")).toEqual([
      "AI (01): check digit should be 2, got 3",
      "AI (17): 261332 is not a valid date (month 13)",
      "AI (21): character U+0020 at position 4 is not in CSET 82",
    ]);
  });
});

describe("AI lists of identifier formats", () => {
  it("the demo plant's GS1 formats are consistent", () => {
    expect(validateGs1AiList(["01", "21"])).toEqual([]);
    expect(validateGs1AiList(["01", "10"])).toEqual([]);
    expect(validateGs1AiList(["00"])).toEqual([]);
    expect(validateGs1AiList(["00", "02", "37", "10"])).toEqual([]);
  });

  it("reports unknown, repeated, unpaired and excluded AIs", () => {
    expect(validateGs1AiList(["21"]).map((e) => e.message)).toEqual(["AI (21) requires (01) or (03) or (8006)"]);
    expect(validateGs1AiList(["01", "255"]).map((e) => e.message)).toEqual(["AI (01) must not be used together with (255) (exclusion ex=255)"]);
    expect(validateGs1AiList(["01", "01"]).map((e) => e.message)).toEqual(["AI (01) is listed more than once"]);
    expect(validateGs1AiList(["01", "23"]).map((e) => [e.rule, e.message])).toEqual([["unknown-ai", "AI (23) is not in the GS1 syntax dictionary"]]);
    expect(validateGs1AiList(["02"]).map((e) => e.message)).toEqual(["AI (02) requires (37)"]);
  });
});
