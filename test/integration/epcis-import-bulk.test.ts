/**
 * The EPCIS import's bulk apply (ADR 045: events by COPY into epcis_events, items and edges by
 * COPY into staging tables and one set-based statement per table) against an oracle counted by
 * hand: a small document whose every row is written out below, read back with plain SQL. Values
 * COPY's text format must escape (tab, newline, backslash, quotes, non-ASCII) survive unchanged;
 * a bad event in the middle of a document spanning several batches is named, and nothing is written.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importEpcisDocument } from "../../app/services/epcis-import.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { importFootprint, seedEpcisPlant } from "../setup/epcis";

const sgtin = (serial: string) => `urn:epc:id:sgtin:4012345.011111.${serial}`;
const lgtin = (lot: string) => `urn:epc:class:lgtin:4012345.022222.${lot}`;
const SSCC = "urn:epc:id:sscc:4012345.0000000001";
const time = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, "0")}:00.000Z`;
const id = (i: number) => `urn:uuid:20000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
/** Every character COPY's text format treats specially, and some it does not. */
const NOTE = 'tab\there, line\nbreak, cr\r, back\\slash \\N, "quoted", é, 🙂';

function events(): Record<string, unknown>[] {
  return [
    // 0: two serials commissioned.
    {
      type: "ObjectEvent",
      eventTime: time(0),
      eventTimeZoneOffset: "+01:00",
      eventID: id(0),
      action: "ADD",
      bizStep: "commissioning",
      epcList: [sgtin("1"), sgtin("2")],
    },
    // 1: packed on a pallet: the SSCC becomes a container item, two aggregate edges.
    {
      type: "AggregationEvent",
      eventTime: time(1),
      eventTimeZoneOffset: "+01:00",
      eventID: id(1),
      action: "ADD",
      parentID: SSCC,
      childEPCs: [sgtin("1"), sgtin("2")],
    },
    // 2: 10 kg of lot L1 become 4 kg of P1 and 6 kg of P2 (the input shared in proportion).
    {
      type: "TransformationEvent",
      eventTime: time(2),
      eventTimeZoneOffset: "+01:00",
      eventID: id(2),
      inputQuantityList: [{ epcClass: lgtin("L1"), quantity: 10, uom: "KGM" }],
      outputQuantityList: [
        { epcClass: lgtin("P1"), quantity: 4, uom: "KGM" },
        { epcClass: lgtin("P2"), quantity: 6, uom: "KGM" },
      ],
    },
    // 3: a GTIN C-981 does not know: quarantined, with an extension COPY must escape.
    {
      type: "ObjectEvent",
      eventTime: time(3),
      eventTimeZoneOffset: "+01:00",
      eventID: id(3),
      action: "OBSERVE",
      epcList: ["urn:epc:id:sgtin:4012345.088888.7"],
      "example:note": NOTE,
    },
    // 4: no eventID (keyed by its identity hash); names serial 2 again: no new item.
    { type: "ObjectEvent", eventTime: time(4), eventTimeZoneOffset: "+01:00", action: "OBSERVE", epcList: [sgtin("2")] },
    // 5: arrives declared erroneous: stored superseded, never applied (serial 9 is not created).
    {
      type: "ObjectEvent",
      eventTime: time(5),
      eventTimeZoneOffset: "+01:00",
      eventID: id(5),
      action: "ADD",
      epcList: [sgtin("9")],
      errorDeclaration: { declarationTime: time(6), reason: "incorrect_data" },
    },
    // 6: a serial whose serial number holds characters that are escaped in the URN.
    { type: "ObjectEvent", eventTime: time(7), eventTimeZoneOffset: "+01:00", eventID: id(6), action: "ADD", epcList: [sgtin("A%2FB%25C")] },
  ];
}

function document(list: unknown[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-epcis-bulk-"));
  const file = path.join(dir, "doc.json");
  fs.writeFileSync(
    file,
    JSON.stringify({
      "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", { example: "http://ns.example.com/epcis/" }],
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: "2025-03-02T00:00:00Z",
      epcisBody: { eventList: list },
    }),
  );
  return file;
}

async function freshPlant(): Promise<Database> {
  const database = await createTestDatabase();
  await seedEpcisPlant(database);
  return database;
}

describe("bulk apply", () => {
  it("writes exactly the rows counted by hand, whatever the batch size", async () => {
    const list = events();
    const file = document(list);
    for (const batchSize of [2, undefined]) {
      const database = await freshPlant();
      const sql = database.client;
      const result = await importEpcisDocument(database.db, "tester", { fileName: "doc.json", siteCode: "EIN", source: fileSource(file), batchSize });
      if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
      expect({ applied: result.applied, quarantined: result.quarantined, supersededOnArrival: result.supersededOnArrival }).toEqual({
        applied: 5,
        quarantined: 1,
        supersededOnArrival: 1,
      });
      expect({ itemsCreated: result.itemsCreated, edgesCreated: result.edgesCreated }).toEqual({ itemsCreated: 7, edgesCreated: 4 });

      const items = await sql`select t.kind::text as kind, t.identifier, m.part_number, t.quantity::text as quantity, t.unit, t.status::text as status,
          to_char(t.created_at at time zone 'UTC', 'HH24:MI') as created, t.provenance_kind::text as provenance, t.provenance_event_id as event,
          t.provenance_file_digest = ${result.fileDigest} as from_file, s.code as site
        from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id order by t.identifier`;
      const row = (kind: string, identifier: string, part: string, quantity: string, unit: string, created: string, event: string) => ({
        kind,
        identifier,
        part_number: part,
        quantity,
        unit,
        status: "stock",
        created,
        provenance: "import",
        event,
        from_file: true,
        site: "EIN",
      });
      expect(items).toEqual([
        row("container", "040123450000000016", "C981-LOGISTICS-UNIT", "1.000000", "EA", "10:01", id(1)),
        row("serial", "1", "EPC-1003", "1.000000", "EA", "10:00", id(0)),
        row("serial", "2", "EPC-1003", "1.000000", "EA", "10:00", id(0)),
        row("serial", "A/B%C", "EPC-1003", "1.000000", "EA", "10:07", id(6)),
        row("lot", "L1", "EPC-1006", "10.000000", "KGM", "10:02", id(2)),
        row("lot", "P1", "EPC-1006", "4.000000", "KGM", "10:02", id(2)),
        row("lot", "P2", "EPC-1006", "6.000000", "KGM", "10:02", id(2)),
      ]);

      const edges = await sql`select e.event_ref, e.kind::text as kind, i.identifier as input, o.identifier as output, e.quantity::text as quantity, e.unit,
          to_char(e.occurred_at at time zone 'UTC', 'HH24:MI') as at, e.superseded_at is null as current, e.provenance_event_id = e.event_ref as provenance
        from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id order by e.event_ref, i.identifier, o.identifier`;
      const edge = (event: string, kind: string, input: string, output: string, quantity: string, unit: string, at: string) => ({
        event_ref: event,
        kind,
        input,
        output,
        quantity,
        unit,
        at,
        current: true,
        provenance: true,
      });
      expect(edges).toEqual([
        edge(id(1), "aggregate", "1", "040123450000000016", "1.000000", "EA", "10:01"),
        edge(id(1), "aggregate", "2", "040123450000000016", "1.000000", "EA", "10:01"),
        edge(id(2), "consume", "L1", "P1", "4.000000", "KGM", "10:02"),
        edge(id(2), "consume", "L1", "P2", "6.000000", "KGM", "10:02"),
      ]);

      const stored =
        await sql`select event_key, event_index, status::text as status, unknown_gtins, type, to_char(event_time at time zone 'UTC', 'HH24:MI') as at,
          declaration, superseded_at is not null as superseded, applied_at is not null as applied,
          file_digest = ${result.fileDigest} as from_file, site_id = (select id from sites where code = 'EIN') as at_site
        from epcis_events order by event_index`;
      expect(stored.map((r) => [r.event_index, r.status, r.unknown_gtins, r.type, r.at, r.superseded, r.applied, r.from_file, r.at_site])).toEqual([
        [0, "applied", [], "ObjectEvent", "10:00", false, true, true, true],
        [1, "applied", [], "AggregationEvent", "10:01", false, true, true, true],
        [2, "applied", [], "TransformationEvent", "10:02", false, true, true, true],
        [3, "quarantined", ["04012345888881"], "ObjectEvent", "10:03", false, false, true, true],
        [4, "applied", [], "ObjectEvent", "10:04", false, true, true, true],
        [5, "superseded", [], "ObjectEvent", "10:05", true, false, true, true],
        [6, "applied", [], "ObjectEvent", "10:07", false, true, true, true],
      ]);
      expect(stored.map((r) => r.event_key)).toEqual([id(0), id(1), id(2), id(3), expect.stringMatching(/^c981:jcs-sha256:[0-9a-f]{64}$/), id(5), id(6)]);
      expect(stored[5]!.declaration).toEqual({ declarationTime: time(6), reason: "incorrect_data" });
      expect(stored.filter((r) => r.declaration !== null)).toHaveLength(1);
      // Every body is the event as received, compared in the database (jsonb equality), the
      // escaped extension included.
      for (const [i, event] of list.entries()) {
        const [same] = await sql`select body = ${JSON.stringify(event)}::jsonb as same from epcis_events where event_index = ${i}`;
        expect(same!.same, `body of event ${i}`).toBe(true);
      }
      const [note] = await sql`select body->>'example:note' as note from epcis_events where event_index = 3`;
      expect(note!.note).toBe(NOTE);

      const audit = await sql`select action, after->>'applied' as applied, after->>'itemsCreated' as items, after->>'edgesCreated' as edges
        from audit_trail where entity_type = 'epcis_document' and entity_id = ${result.fileDigest}`;
      expect(audit).toEqual([{ action: "epcis.import", applied: "5", items: "7", edges: "4" }]);
      const [imports] = await sql`select count(*)::int as n from epcis_imports where file_digest = ${result.fileDigest} and events = 7`;
      expect(imports!.n).toBe(1);
      await database.close();
    }
  });

  it("a bad event in the middle is named, and nothing is written (earlier batches included)", async () => {
    const database = await freshPlant();
    const before = await importFootprint(database);
    const list = events();
    // Event 4 states a time that is no date-time; event 6 reuses event 0's id for another fact.
    list[4] = { ...list[4]!, eventTime: "yesterday" };
    list[6] = { ...list[6]!, eventID: id(0) };
    const result = await importEpcisDocument(database.db, "tester", {
      fileName: "bad.json",
      siteCode: "EIN",
      source: fileSource(document(list)),
      batchSize: 2,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.eventIndex)).toEqual([4]);
    expect(result.errors[0]!.path).toBe("/epcisBody/eventList/4/eventTime");
    expect(await importFootprint(database)).toEqual(before);
    const [refused] =
      await database.client`select count(*)::int as n from audit_trail where action = 'epcis.import_refused' and entity_id = ${result.fileDigest}`;
    expect(refused!.n).toBe(1);

    // Without the broken time, the reused id is found when its batch is applied (two batches were
    // written by then): named, and nothing stays.
    list[4] = events()[4]!;
    const second = await importEpcisDocument(database.db, "tester", {
      fileName: "bad.json",
      siteCode: "EIN",
      source: fileSource(document(list)),
      batchSize: 2,
    });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.errors.map((e) => [e.eventIndex, e.path])).toEqual([[6, "/epcisBody/eventList/6"]]);
    expect(second.errors[0]!.message).toContain(id(0));
    expect(await importFootprint(database)).toEqual(before);
    const [items] = await database.client`select count(*)::int as n from trace_items`;
    expect(items!.n).toBe(0);
    await database.close();
  });
});
