import { createHash } from "node:crypto";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../canonical-json";
import { canonicalEpc, checkEventSemantics, contentHash, eventKey, fromMicro, HASH_ID_PREFIX, identityHash, planEvent, shareOut, toMicro } from "./events";
import { parseEpc } from "./identifiers";
import { validateEventSchema, validateHeader } from "./validate";

const event = (extra: Record<string, unknown>): Record<string, unknown> => ({ eventTime: "2020-01-01T00:00:00Z", eventTimeZoneOffset: "+00:00", ...extra });

describe("the vendored GS1 schema", () => {
  it("is GS1's file, unmodified (SOURCE.md)", () => {
    const bytes = fs.readFileSync(new URL("./schema/EPCIS-JSON-Schema.json", import.meta.url));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe("ed3228d7867198b4a5be9748fe77f473457c6ed98224fab28a950b4ce634a041");
  });
});

describe("parseEpc", () => {
  it("reads SGTIN, SSCC, LGTIN and GTIN-class URNs as GS1 keys with computed check digits", () => {
    expect(parseEpc("urn:epc:id:sgtin:0614141.107346.2017")).toMatchObject({
      ok: true,
      reading: { level: "serial", gtin: "10614141073464", identifier: "2017" },
    });
    expect(parseEpc("urn:epc:id:sscc:0614141.1234567890")).toMatchObject({ ok: true, reading: { level: "container", identifier: "106141412345678908" } });
    expect(parseEpc("urn:epc:class:lgtin:4012345.012345.998877")).toMatchObject({
      ok: true,
      reading: { level: "lot", gtin: "04012345123456", identifier: "998877" },
    });
    expect(parseEpc("urn:epc:idpat:sgtin:4012345.098765.*")).toMatchObject({
      ok: true,
      reading: { level: "class", gtin: "04012345987652", identifier: "(01)04012345987652" },
    });
    expect(parseEpc("urn:epc:id:sgtin:4012345.011111.A%2FB")).toMatchObject({ ok: true, reading: { identifier: "A/B" } });
  });

  it("reads Digital Link URIs through the GS1 module", () => {
    expect(parseEpc("https://id.gs1.org/01/09521141012345/21/abc")).toMatchObject({
      ok: true,
      reading: { level: "serial", gtin: "09521141012345", identifier: "abc" },
    });
    expect(parseEpc("https://id.gs1.org/01/04012345123456/10/LOT1")).toMatchObject({ ok: true, reading: { level: "lot", identifier: "LOT1" } });
    expect(parseEpc("https://id.gs1.org/8004/0614141123452")).toMatchObject({ ok: true, reading: { level: "other" } });
    expect(parseEpc("https://id.gs1.org/01/09521141012346/21/abc")).toMatchObject({ ok: false, message: expect.stringContaining("check digit") });
  });

  it("names what is wrong", () => {
    expect(parseEpc("urn:epc:id:sgtin:0614141.10734.2017")).toMatchObject({ ok: false, message: expect.stringContaining("13 digits") });
    expect(parseEpc("urn:epc:id:sgtin:0614141.107346.012345678901234567890")).toMatchObject({ ok: false, message: expect.stringContaining("AI (21)") });
    expect(parseEpc("urn:epc:id:nonsense:1.2")).toMatchObject({ ok: false, message: expect.stringContaining("unknown EPC scheme") });
    expect(parseEpc("mailto:someone")).toMatchObject({ ok: false });
  });
});

describe("schema validation", () => {
  it("locates every error by JSON path in the whole document", () => {
    const result = validateEventSchema(event({ type: "ObjectEvent", action: "ADDED", epcList: ["urn:epc:id:sgtin:0614141.107346.2017"] }), 3);
    // GS1's schema also states the action as patterns; the enum error says it once.
    expect(result.errors).toEqual([
      expect.objectContaining({
        eventIndex: 3,
        path: "/epcisBody/eventList/3/action",
        message: 'must be one of "OBSERVE", "ADD", "DELETE"; it is "ADDED" (did you mean "ADD"?)',
      }),
    ]);
  });

  it("checks the header as a document with an empty event list", () => {
    const result = validateHeader({
      "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
      type: "EPCISDocument",
      creationDate: "2020-01-01T00:00:00Z",
      epcisBody: { eventList: [] },
    });
    expect(result.errors).toEqual([expect.objectContaining({ eventIndex: null, path: "", message: 'required property "schemaVersion" is missing' })]);
  });

  it("turns an unlisted sensor measurement type into a located warning (ADR 014)", () => {
    const result = validateEventSchema(
      event({ type: "ObjectEvent", action: "OBSERVE", epcList: [], sensorElementList: [{ sensorReport: [{ type: "EffectiveDoseRate", value: 1 }] }] }),
      0,
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([expect.objectContaining({ path: "/epcisBody/eventList/0/sensorElementList/0/sensorReport/0/type" })]);
  });
});

describe("semantic checks", () => {
  it("enforce action rules, instance vs class lists, quantities and declarations", () => {
    const issues = (e: Record<string, unknown>) => checkEventSemantics(e, 0).errors.map((i) => i.path);
    expect(issues(event({ type: "AggregationEvent", action: "ADD", childEPCs: ["urn:epc:id:sgtin:0614141.107346.1"] }))).toEqual([
      "/epcisBody/eventList/0/parentID",
    ]);
    expect(issues(event({ type: "ObjectEvent", action: "ADD", epcList: ["urn:epc:class:lgtin:4012345.012345.1"] }))).toEqual([
      "/epcisBody/eventList/0/epcList/0",
    ]);
    expect(issues(event({ type: "ObjectEvent", action: "ADD", quantityList: [{ epcClass: "urn:epc:id:sgtin:0614141.107346.1", quantity: 1 }] }))).toEqual([
      "/epcisBody/eventList/0/quantityList/0/epcClass",
    ]);
    expect(issues(event({ type: "ObjectEvent", action: "ADD", quantityList: [{ epcClass: "urn:epc:idpat:sgtin:4012345.098765.*", quantity: 1.5 }] }))).toEqual([
      "/epcisBody/eventList/0/quantityList/0/quantity",
    ]);
    expect(issues(event({ type: "TransformationEvent", action: "ADD", inputEPCList: ["urn:epc:id:sgtin:0614141.107346.1"] }))).toEqual([
      "/epcisBody/eventList/0/action",
    ]);
    expect(
      issues(
        event({
          type: "ObjectEvent",
          action: "ADD",
          eventID: "urn:uuid:1",
          epcList: [],
          errorDeclaration: { declarationTime: "2019-01-01T00:00:00Z", correctiveEventIDs: ["urn:uuid:1"] },
        }),
      ),
    ).toEqual(["/epcisBody/eventList/0/errorDeclaration/declarationTime", "/epcisBody/eventList/0/errorDeclaration/correctiveEventIDs/0"]);
  });
});

describe("identity", () => {
  it("is the hash of the canonical fact (every EPC as its element string) without eventID, errorDeclaration and recordTime", () => {
    const e = event({ type: "ObjectEvent", action: "ADD", epcList: ["urn:epc:id:sgtin:0614141.107346.1"] });
    // Hand-written canonical fact: the SGTIN's GTIN-14 is 1 + 0614141 + 07346 + check digit 4.
    const fact = { ...e, eventTime: "2020-01-01T00:00:00.000Z", epcList: ["(01)10614141073464(21)1"] };
    const hash = createHash("sha256").update(canonicalize(fact)).digest("hex");
    expect(identityHash(e)).toBe(hash);
    expect(eventKey(e)).toEqual({ key: HASH_ID_PREFIX + hash, fromEventId: false });
    expect(identityHash({ ...e, recordTime: "2021-01-01T00:00:00Z", errorDeclaration: { declarationTime: "2021-01-01T00:00:00Z" } })).toBe(hash);
    expect(identityHash({ ...e, eventID: "urn:uuid:x" })).toBe(hash);
    expect(eventKey({ ...e, eventID: "urn:uuid:x" })).toEqual({ key: "urn:uuid:x", fromEventId: true });
    // The hash of the event as received (kept as content_hash) is not canonicalised.
    expect(contentHash(e)).toBe(createHash("sha256").update(canonicalize(e)).digest("hex"));
  });

  it("reads lists as sets, CBV terms in any of their three spellings and the event time as its UTC instant", () => {
    const base = event({
      type: "ObjectEvent",
      action: "OBSERVE",
      epcList: ["urn:epc:id:sgtin:0614141.107346.1", "urn:epc:id:sgtin:0614141.107346.2"],
      bizStep: "shipping",
      disposition: "in_transit",
      bizTransactionList: [
        { type: "po", bizTransaction: "urn:epcglobal:cbv:bt:0614141073467:1152" },
        { type: "desadv", bizTransaction: "urn:epcglobal:cbv:bt:0614141073467:9" },
      ],
      sourceList: [{ type: "owning_party", source: "urn:epc:id:pgln:0614141.00001" }],
    });
    const same = {
      ...base,
      eventTime: "2020-01-01T02:00:00.000000+02:00",
      epcList: ["https://id.gs1.org/01/10614141073464/21/2", "urn:epc:id:sgtin:0614141.107346.1"],
      bizStep: "https://ref.gs1.org/cbv/BizStep-shipping",
      disposition: "cbv:Disp-in_transit",
      bizTransactionList: [
        { type: "cbv:BTT-desadv", bizTransaction: "urn:epcglobal:cbv:bt:0614141073467:9" },
        { type: "https://ref.gs1.org/cbv/BTT-po", bizTransaction: "urn:epcglobal:cbv:bt:0614141073467:1152" },
      ],
      sourceList: [{ type: "cbv:SDT-owning_party", source: "urn:epc:id:pgln:0614141.00001" }],
    };
    expect(identityHash(same)).toBe(identityHash(base));
    // What differs in fact still differs: another instant, another step, a company's own step URI.
    expect(identityHash({ ...base, eventTime: "2020-01-01T00:00:00.001Z" })).not.toBe(identityHash(base));
    expect(identityHash({ ...base, eventTime: "2020-01-01T00:00:00.0001Z" })).not.toBe(identityHash(base));
    expect(identityHash({ ...base, bizStep: "receiving" })).not.toBe(identityHash(base));
    expect(identityHash({ ...base, bizStep: "https://example.com/steps/shipping" })).not.toBe(identityHash(base));
    expect(identityHash({ ...base, epcList: ["urn:epc:id:sgtin:0614141.107346.1"] })).not.toBe(identityHash(base));
  });

  it("spells an EPC one way whatever its URN company prefix length, Digital Link host or scheme case, or GTIN length", () => {
    const serial = "(01)10614141073464(21)1";
    for (const uri of [
      "urn:epc:id:sgtin:0614141.107346.1",
      "urn:epc:id:sgtin:061414107.1346.1",
      "https://id.gs1.org/01/10614141073464/21/1",
      "HTTPS://ID.GS1.ORG/01/10614141073464/21/1",
      "https://example.com/01/10614141073464/21/1",
    ]) {
      expect(canonicalEpc(uri), uri).toBe(serial);
    }
    expect(canonicalEpc("urn:epc:class:lgtin:4012345.011111.4444")).toBe("(01)04012345111118(10)4444");
    expect(canonicalEpc("https://id.gs1.org/01/04012345111118/10/4444")).toBe("(01)04012345111118(10)4444");
    expect(canonicalEpc("urn:epc:idpat:sgtin:4012345.066666.*")).toBe("(01)04012345666663");
    // A GTIN-13 in a Digital Link is the GTIN-14 with a leading zero.
    expect(canonicalEpc("https://id.gs1.org/01/4012345666663")).toBe("(01)04012345666663");
    expect(canonicalEpc("urn:epc:id:sscc:0614141.1234567890")).toBe("(00)106141412345678908");
    expect(canonicalEpc("https://id.gs1.org/00/106141412345678908")).toBe("(00)106141412345678908");
    // Non-trade keys are kept as written.
    expect(canonicalEpc("urn:epc:id:giai:4000001.12345")).toBe("urn:epc:id:giai:4000001.12345");
  });

  it("is one for the same transformation as URNs, as Digital Links and without eventID; another fact is another identity", () => {
    const urn = event({
      type: "TransformationEvent",
      eventID: "urn:uuid:a",
      inputEPCList: ["urn:epc:id:sgtin:4012345.011122.25"],
      inputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.011111.4444", quantity: 10, uom: "KGM" }],
      outputEPCList: ["urn:epc:id:sgtin:4012345.077889.25"],
    });
    const link = {
      ...urn,
      eventID: "ni:///sha-256;b",
      inputEPCList: ["https://id.gs1.org/01/04012345111224/21/25"],
      inputQuantityList: [{ epcClass: "https://id.gs1.org/01/04012345111118/10/4444", quantity: 10, uom: "KGM" }],
      outputEPCList: ["https://id.gs1.org/01/04012345778892/21/25"],
    };
    const { eventID: _, ...bare } = urn;
    expect(identityHash(link)).toBe(identityHash(urn));
    expect(identityHash(bare)).toBe(identityHash(urn));
    expect(identityHash({ ...urn, inputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.011111.4444", quantity: 11, uom: "KGM" }] })).not.toBe(
      identityHash(urn),
    );
  });
});

describe("quantities in millionths", () => {
  it("reads a number's decimal form exactly, rounding down below a millionth", () => {
    expect(toMicro(10)).toBe(10_000_000n);
    expect(toMicro(0.1)).toBe(100_000n);
    expect(toMicro(200.5)).toBe(200_500_000n);
    expect(toMicro(1e-7)).toBe(0n);
    expect(toMicro(2.0000009)).toBe(2_000_000n);
    expect(toMicro(98765432.123456)).toBe(98_765_432_123_456n);
    // Beyond 15 significant digits the number itself is the shortest decimal that reads back.
    expect(toMicro(123456789012.123456)).toBe(123_456_789_012_123_460n);
    expect(fromMicro(2_500_000n)).toBe("2.5");
    expect(fromMicro(1n)).toBe("0.000001");
    expect(fromMicro(7_000_000n)).toBe("7");
  });

  it("shares a total exactly: a millionth each, the rest by weight, leftovers to the largest remainders", () => {
    // 10 among 3 equal: 3.333334, 3.333333, 3.333333 (hand-counted).
    expect(shareOut(10_000_000n, [1n, 1n, 1n])).toEqual([3_333_334n, 3_333_333n, 3_333_333n]);
    // 10 in proportion 6:4 → 6 and 4.
    expect(shareOut(10_000_000n, [6n, 4n])).toEqual([6_000_000n, 4_000_000n]);
    expect(shareOut(2n, [1n, 1n, 1n])).toBeNull();
    expect(shareOut(3n, [1n, 1_000_000n, 1n])).toEqual([1n, 1n, 1n]);
  });
});

describe("planEvent", () => {
  it("maps a transformation to consume edges from every input to every output, sharing each input's quantity", () => {
    const plan = planEvent(
      event({
        type: "TransformationEvent",
        inputEPCList: ["urn:epc:id:sgtin:4012345.011111.987"],
        inputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.022222.L1", quantity: 500, uom: "KGM" }],
        outputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.044444.P1", quantity: 450, uom: "KGM" }],
      }),
    );
    expect(plan.items.map((i) => [i.level, i.identifier, i.quantity, i.unit])).toEqual([
      ["serial", "987", 1, "EA"],
      ["lot", "L1", 500, "KGM"],
      ["lot", "P1", 450, "KGM"],
    ]);
    // One output: it received all of each input.
    expect(plan.edges).toEqual([
      { kind: "consume", input: 0, output: 2, quantity: "1", unit: "EA" },
      { kind: "consume", input: 1, output: 2, quantity: "500", unit: "KGM" },
    ]);
  });

  it("shares an input among outputs in proportion to their quantities in one unit, else evenly; never more than entered", () => {
    const lot = (name: string, quantity?: number, uom?: string) => ({
      epcClass: `urn:epc:class:lgtin:4012345.044444.${name}`,
      ...(quantity === undefined ? {} : { quantity }),
      ...(uom ? { uom } : {}),
    });
    const input = [{ epcClass: "urn:epc:class:lgtin:4012345.022222.L1", quantity: 10, uom: "KGM" }];
    const edges = (outputs: Record<string, unknown>) =>
      planEvent(event({ type: "TransformationEvent", inputQuantityList: input, ...outputs })).edges.map((e) => e.quantity);
    // 6 KGM and 4 KGM out of 10 KGM in: 6 and 4.
    expect(edges({ outputQuantityList: [lot("P1", 6, "KGM"), lot("P2", 4, "KGM")] })).toEqual(["6", "4"]);
    // Outputs of other sizes still share what entered: 3 : 1 of 10 → 7.5 and 2.5.
    expect(edges({ outputQuantityList: [lot("P1", 30, "KGM"), lot("P2", 10, "KGM")] })).toEqual(["7.5", "2.5"]);
    // Four serials (1 EA each): evenly, 2.5 each, 10 in all (not 40).
    const serials = [1, 2, 3, 4].map((n) => `urn:epc:id:sgtin:4012345.077889.${n}`);
    expect(edges({ outputEPCList: serials })).toEqual(["2.5", "2.5", "2.5", "2.5"]);
    // Mixed units: evenly. 10 / 3 = 3.333334 + 3.333333 + 3.333333.
    expect(edges({ outputEPCList: serials.slice(0, 1), outputQuantityList: [lot("P1", 6, "KGM"), lot("P2", 2)] })).toEqual([
      "3.333334",
      "3.333333",
      "3.333333",
    ]);
    // An output without quantity (not placed) keeps its even share unwritten: 5 is written, not 10.
    expect(edges({ outputQuantityList: [lot("P1", 6, "KGM"), lot("P2")] })).toEqual(["5"]);
    // An input that is also an output (rework, after a repair: ADR 024) gets its share too.
    const rework = planEvent(
      event({ type: "TransformationEvent", bizStep: "repairing", inputQuantityList: input, outputQuantityList: [input[0], lot("P1", 10, "KGM")] }),
    );
    expect(rework.edges).toEqual([
      { kind: "rework", input: 0, output: 0, quantity: "5", unit: "KGM" },
      { kind: "consume", input: 0, output: 1, quantity: "5", unit: "KGM" },
    ]);
  });

  it("refuses an input quantity too small to give every output a millionth", () => {
    const e = event({
      type: "TransformationEvent",
      inputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.022222.L1", quantity: 0.000002, uom: "KGM" }],
      outputEPCList: ["urn:epc:id:sgtin:4012345.077889.1", "urn:epc:id:sgtin:4012345.077889.2", "urn:epc:id:sgtin:4012345.077889.3"],
    });
    expect(checkEventSemantics(e, 0).errors).toEqual([
      expect.objectContaining({
        path: "/epcisBody/eventList/0/inputQuantityList/0/quantity",
        message: expect.stringContaining("cannot be shared among 3 outputs"),
      }),
    ]);
  });

  it("a lot named twice among the inputs (URN and Digital Link) shares both quantities: 10 + 5 KGM over 2 outputs is 7.5 each", () => {
    const plan = planEvent(
      event({
        type: "TransformationEvent",
        inputQuantityList: [
          { epcClass: "urn:epc:class:lgtin:4012345.022222.L1", quantity: 10, uom: "KGM" },
          { epcClass: "https://id.gs1.org/01/04012345222227/10/L1", quantity: 5, uom: "KGM" },
        ],
        outputEPCList: ["urn:epc:id:sgtin:4012345.077889.1", "urn:epc:id:sgtin:4012345.077889.2"],
      }),
    );
    expect(plan.edges).toEqual([
      { kind: "consume", input: 0, output: 1, quantity: "7.5", unit: "KGM" },
      { kind: "consume", input: 0, output: 2, quantity: "7.5", unit: "KGM" },
    ]);
  });

  it("refuses a lot named twice whose quantities add up to more than genealogy holds, at the element that overflows", () => {
    const e = event({
      type: "TransformationEvent",
      inputQuantityList: [
        { epcClass: "urn:epc:class:lgtin:4012345.022222.L1", quantity: 600000000000, uom: "KGM" },
        { epcClass: "https://id.gs1.org/01/04012345222227/10/L1", quantity: 500000000000, uom: "KGM" },
        { epcClass: "urn:epc:class:lgtin:4012345.022222.L2", quantity: 500000000000, uom: "KGM" },
      ],
      outputEPCList: ["urn:epc:id:sgtin:4012345.077889.1"],
    });
    expect(checkEventSemantics(e, 0).errors).toEqual([
      expect.objectContaining({ path: "/epcisBody/eventList/0/inputQuantityList/1/quantity", message: expect.stringContaining("add up to more than") }),
    ]);
  });

  it("refuses a quantity genealogy cannot hold (numeric(18,6): under 10^12), located, instead of failing in the database", () => {
    const e = event({
      type: "TransformationEvent",
      inputQuantityList: [
        { epcClass: "urn:epc:class:lgtin:4012345.022222.L1", quantity: 1e12, uom: "KGM" },
        { epcClass: "urn:epc:class:lgtin:4012345.022222.L2", quantity: 999999999999.5, uom: "KGM" },
      ],
      outputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.077889.L3", quantity: 1e15, uom: "KGM" }],
    });
    expect(checkEventSemantics(e, 0).errors).toEqual([
      expect.objectContaining({
        path: "/epcisBody/eventList/0/inputQuantityList/0/quantity",
        message: expect.stringContaining("larger than genealogy holds"),
      }),
      expect.objectContaining({
        path: "/epcisBody/eventList/0/outputQuantityList/0/quantity",
        message: expect.stringContaining("larger than genealogy holds"),
      }),
    ]);
  });

  // Until ADR 014's containers amendment a container took the GTIN of the first trade item it held;
  // it now has none of its own, whatever it holds (two trade items of different GTINs here).
  it("aggregates children into a container that takes no child's GTIN; disaggregation records no edge", () => {
    const add = planEvent(
      event({
        type: "AggregationEvent",
        action: "ADD",
        parentID: "urn:epc:id:sscc:0614141.1234567890",
        childEPCs: ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:4012345.011111.987"],
      }),
    );
    expect(add.items[2]).toMatchObject({ level: "container", gtin: null, identifier: "106141412345678908" });
    expect(add.gtins.sort()).toEqual(["04012345111118", "10614141073464"]);
    expect(add.edges).toEqual([
      { kind: "aggregate", input: 0, output: 2, quantity: "1", unit: "EA" },
      { kind: "aggregate", input: 1, output: 2, quantity: "1", unit: "EA" },
    ]);
    expect(
      planEvent(
        event({
          type: "AggregationEvent",
          action: "DELETE",
          parentID: "urn:epc:id:sscc:0614141.1234567890",
          childEPCs: ["urn:epc:id:sgtin:0614141.107346.2017"],
        }),
      ).edges,
    ).toEqual([]);
  });

  it("keeps non-trade keys out of the genealogy", () => {
    const plan = planEvent(
      event({ type: "AssociationEvent", action: "ADD", parentID: "urn:epc:id:grai:4012345.55555.987", childEPCs: ["urn:epc:id:giai:4000001.12345"] }),
    );
    expect(plan.items).toEqual([]);
    expect(plan.notPlaced).toHaveLength(2);
  });
});
