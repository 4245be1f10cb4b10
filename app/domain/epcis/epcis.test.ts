import { createHash } from "node:crypto";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../canonical-json";
import { checkEventSemantics, contentHash, eventKey, HASH_ID_PREFIX, planEvent } from "./events";
import { parseEpc } from "./identifiers";
import { validateEventSchema, validateHeader } from "./validate";

const event = (extra: Record<string, unknown>) => ({ eventTime: "2020-01-01T00:00:00Z", eventTimeZoneOffset: "+00:00", ...extra });

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
      expect.objectContaining({ eventIndex: 3, path: "/epcisBody/eventList/3/action", message: 'must be one of "OBSERVE", "ADD", "DELETE"' }),
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
  it("is the eventID, else the documented hash of the canonical event without errorDeclaration and recordTime", () => {
    const e = event({ type: "ObjectEvent", action: "ADD", epcList: ["urn:epc:id:sgtin:0614141.107346.1"] });
    const hash = createHash("sha256").update(canonicalize(e)).digest("hex");
    expect(contentHash(e)).toBe(hash);
    expect(eventKey(e)).toEqual({ key: HASH_ID_PREFIX + hash, fromEventId: false });
    expect(contentHash({ ...e, recordTime: "2021-01-01T00:00:00Z", errorDeclaration: { declarationTime: "2021-01-01T00:00:00Z" } })).toBe(hash);
    expect(eventKey({ ...e, eventID: "urn:uuid:x" })).toEqual({ key: "urn:uuid:x", fromEventId: true });
  });
});

describe("planEvent", () => {
  it("maps a transformation to consume edges from every input to every output with the input's quantity", () => {
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
    expect(plan.edges).toEqual([
      { kind: "consume", input: 0, output: 2, quantity: 1, unit: "EA" },
      { kind: "consume", input: 1, output: 2, quantity: 500, unit: "KGM" },
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
      { kind: "aggregate", input: 0, output: 2, quantity: 1, unit: "EA" },
      { kind: "aggregate", input: 1, output: 2, quantity: 1, unit: "EA" },
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
