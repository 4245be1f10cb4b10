/**
 * One message per problem (ADR 016): an event that breaks the schema in exactly one place gets
 * exactly one message — the schema's alternatives (anyOf/oneOf/if-then) collapsed to the nearest,
 * a place's type and enum errors said once, the semantic check silent where the schema spoke —
 * with the event index, the JSON pointer and what was expected.
 */
import { describe, expect, it } from "vitest";
import { checkEventSemantics, type EpcisEvent } from "./events";
import { mergeEventIssues, validateEventSchema, validateHeader } from "./validate";

const valid = {
  type: "ObjectEvent",
  eventTime: "2020-01-01T00:00:00Z",
  eventTimeZoneOffset: "+00:00",
  action: "OBSERVE",
  epcList: ["urn:epc:id:sgtin:0614141.107346.2017"],
  bizStep: "shipping",
  quantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.012345.998877", quantity: 5, uom: "KGM" }],
};

/** What the import reports for one event (app/services/epcis-import.server.ts does the same). */
function messagesFor(event: unknown, index = 2) {
  const schema = validateEventSchema(event, index);
  const semantic = checkEventSemantics(event as EpcisEvent, index);
  return mergeEventIssues(schema.errors, semantic.errors);
}

const without = (key: keyof typeof valid) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key));
const at = (path: string) => `/epcisBody/eventList/2${path}`;

describe("one message per problem", () => {
  it("the valid event has none", () => {
    expect(messagesFor(valid)).toEqual([]);
  });

  it.each([
    ["action of the wrong type", { ...valid, action: 5 }, at("/action"), 'must be one of "OBSERVE", "ADD", "DELETE"; it is 5'],
    [
      "a misspelled action",
      { ...valid, action: "OBSERVED" },
      at("/action"),
      'must be one of "OBSERVE", "ADD", "DELETE"; it is "OBSERVED" (did you mean "OBSERVE"?)',
    ],
    ["eventTime missing", without("eventTime"), at(""), 'required property "eventTime" is missing'],
    ["eventTime not a time", { ...valid, eventTime: "yesterday" }, at("/eventTime"), 'must match format "date-time"; it is "yesterday"'],
    [
      "a quantity as a string",
      { ...valid, quantityList: [{ ...valid.quantityList[0], quantity: "5" }] },
      at("/quantityList/0/quantity"),
      'must be number; it is "5"',
    ],
    ["epcList not a list", { ...valid, epcList: valid.epcList[0] }, at("/epcList"), 'must be array; it is "urn:epc:id:sgtin:0614141.107346.2017"'],
    [
      "a misspelled event type",
      { ...valid, type: "ObjectEvnt" },
      at("/type"),
      'event type "ObjectEvnt" is not one of ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent, TransactionEvent; C-981 does not import extension event types',
    ],
    [
      "an unknown member",
      { ...valid, colour: "red" },
      at("/colour"),
      'property name "colour" is not allowed (neither a standard field nor a namespaced extension)',
    ],
    [
      "a misspelled bizStep",
      { ...valid, bizStep: "shiping" },
      at("/bizStep"),
      expect.stringMatching(/^must be one of "accepting".*; it is "shiping" \(did you mean "shipping"\?\)$/),
    ],
    ["readPoint as a string", { ...valid, readPoint: "urn:epc:id:sgln:0614141.07346.1234" }, at("/readPoint"), expect.stringMatching(/^must be object; it is/)],
  ])("%s", (_name, event, path, message) => {
    expect(messagesFor(event)).toEqual([{ eventIndex: 2, path, message }]);
  });

  it("a member the event type does not have: one message, at the member", () => {
    const transformation = {
      type: "TransformationEvent",
      eventTime: "2020-01-01T00:00:00Z",
      eventTimeZoneOffset: "+00:00",
      inputEPCList: ["urn:epc:id:sgtin:0614141.107346.2017"],
      outputEPCList: ["urn:epc:id:sgtin:0614141.107346.2018"],
    };
    expect(messagesFor(transformation)).toEqual([]);
    expect(messagesFor({ ...transformation, action: "ADD" })).toEqual([
      { eventIndex: 2, path: at("/action"), message: 'property name "action" is not allowed (neither a standard field nor a namespaced extension)' },
    ]);
  });

  it("two problems in one event are two messages", () => {
    const messages = messagesFor({ ...without("eventTime"), action: "ADDED" });
    expect(messages.map((m) => m.path).sort()).toEqual([at(""), at("/action")]);
  });

  it("the header: one message for a wrong schemaVersion type", () => {
    const header = {
      "@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
      type: "EPCISDocument",
      schemaVersion: 2,
      creationDate: "2025-01-01T00:00:00Z",
      epcisBody: { eventList: [] },
    };
    expect(validateHeader(header).errors).toHaveLength(1);
    expect(validateHeader(header).errors[0]).toMatchObject({ eventIndex: null, path: "/schemaVersion" });
  });
});
