/**
 * The EPCIS stream reader hands over each event and keeps none of them (ADR 014: memory bounded
 * whatever the document's size). Regression: the header path `$.*` made the parser keep every
 * event inside `epcisBody` until the end of the document, so memory grew with the file.
 */
import { describe, expect, it } from "vitest";
import { streamEpcisDocument } from "../../app/services/epcis-stream.server";

const EVENTS = 5_000;

function* chunks(): Generator<string> {
  yield `{"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[`;
  for (let i = 0; i < EVENTS; i++) {
    yield `${i ? "," : ""}{"type":"ObjectEvent","eventTime":"2025-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:4012345.011111.${i}"]}`;
  }
  yield `],"example:note":"kept"},"example:extension":{"a":[1,2]}}`;
}

describe("streamEpcisDocument", () => {
  it("hands over every event in order and keeps none: the header ends with an empty eventList", async () => {
    const seen: number[] = [];
    let held = 0;
    const outcome = await streamEpcisDocument(
      async function* () {
        yield* chunks();
      },
      {
        onEvents(events) {
          for (const e of events) {
            seen.push(e.index);
            expect((e.value as { epcList: string[] }).epcList[0]).toBe(`urn:epc:id:sgtin:4012345.011111.${e.index}`);
          }
          held = Math.max(held, events.length);
        },
      },
    );
    expect(outcome.syntaxError).toBeNull();
    expect(outcome.events).toBe(EVENTS);
    expect(seen).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    // Handed over per chunk read, never the whole list at once.
    expect(held).toBeLessThan(EVENTS);
    // The header keeps everything but the events.
    expect(outcome.header).toEqual({
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: "2025-01-01T00:00:00Z",
      epcisBody: { eventList: [], "example:note": "kept" },
      "example:extension": { a: [1, 2] },
    });
  });
});
