/**
 * EPCIS import across batch boundaries (ADR 014): the import applies checked
 * events in batches while it parses; where the batches fall must not change what is stored. A
 * document whose events span many batches — items named again in later batches, containers
 * reused, an event repeated, an event declared erroneous later, an event quarantined — stores the
 * same rows as the same events applied one at a time, and as each event imported as its own
 * document. A document refused in a late batch leaves the database as it was.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { importFootprint, seedEpcisPlant } from "../setup/epcis";

const sgtin = (serial: number) => `urn:epc:id:sgtin:4012345.011111.${serial}`;
/** A GTIN C-981 does not know (4012345.088888): its events are quarantined. */
const unknownSgtin = (serial: number) => `urn:epc:id:sgtin:4012345.088888.${serial}`;
const lgtin = (lot: string) => `urn:epc:class:lgtin:4012345.022222.${lot}`;
const sscc = (n: number) => `urn:epc:id:sscc:4012345.${String(n).padStart(10, "0")}`;
const time = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
const id = (i: number) => `urn:uuid:10000000-0000-4000-8000-${String(i).padStart(12, "0")}`;

/** 47 events: every shape the mapping knows, with items and containers named again many events later. */
function events(): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    const base = { eventTime: time(i), eventTimeZoneOffset: "+00:00", eventID: id(i) };
    switch (i % 5) {
      case 0:
        list.push({ type: "ObjectEvent", ...base, action: "ADD", bizStep: "commissioning", epcList: [sgtin(i), sgtin(i + 1000)] });
        break;
      case 1:
        // Children commissioned one and (for i ≥ 6) six events earlier: often in an earlier batch.
        list.push({
          type: "AggregationEvent",
          ...base,
          action: "ADD",
          bizStep: "packing",
          parentID: sscc(i % 3),
          childEPCs: i >= 6 ? [sgtin(i - 1), sgtin(i - 6 + 1000)] : [sgtin(i - 1)],
        });
        break;
      case 2:
        list.push({
          type: "TransformationEvent",
          ...base,
          inputQuantityList: [{ epcClass: lgtin(`L${Math.floor(i / 10)}`), quantity: 2.5, uom: "KGM" }],
          outputQuantityList: [{ epcClass: lgtin(`P${i}`), quantity: 2, uom: "KGM" }],
        });
        break;
      case 3:
        list.push({
          type: "TransactionEvent",
          ...base,
          action: "OBSERVE",
          bizTransactionList: [{ type: "po", bizTransaction: `urn:epcglobal:cbv:bt:0614141000005:PO${i}` }],
          parentID: sscc(i % 3),
          epcList: [sgtin(i - 3)],
        });
        break;
      default:
        list.push(
          i % 10 === 4
            ? { type: "ObjectEvent", ...base, action: "OBSERVE", epcList: [unknownSgtin(i)] }
            : { type: "ObjectEvent", ...base, action: "OBSERVE", epcList: [sgtin(i - 4)] },
        );
    }
  }
  // Without an eventID: identified by the hash of its canonical form.
  list.push({ type: "ObjectEvent", eventTime: time(40), eventTimeZoneOffset: "+00:00", action: "OBSERVE", epcList: [sgtin(0), sgtin(5)] });
  // Sent again, unchanged: nothing new.
  list.push({ ...list[3]! });
  list.push({ ...list[40]! });
  // Declared erroneous later in the document: the aggregation of event 11 and its edges are superseded.
  list.push({ ...list[11]!, errorDeclaration: { declarationTime: time(50), reason: "incorrect_data", correctiveEventIDs: [id(41)] } });
  // The correction, and an event that arrives already declared.
  list.push({
    type: "AggregationEvent",
    eventTime: time(51),
    eventTimeZoneOffset: "+00:00",
    eventID: id(41),
    action: "ADD",
    parentID: sscc(2),
    childEPCs: [sgtin(10)],
  });
  list.push({
    type: "ObjectEvent",
    eventTime: time(52),
    eventTimeZoneOffset: "+00:00",
    eventID: id(42),
    action: "OBSERVE",
    epcList: [sgtin(20)],
    errorDeclaration: { declarationTime: time(53) },
  });
  // The declaration repeated: nothing new.
  list.push({ ...list[43]! });
  return list;
}

function document(list: unknown[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-epcis-batches-"));
  const file = path.join(dir, "doc.json");
  fs.writeFileSync(
    file,
    JSON.stringify({
      "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: "2025-01-02T00:00:00Z",
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

function expectOk(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors, null, 2)}`);
}

/** Everything the import stored, in terms that do not depend on row ids, files or clock times. */
async function stored(database: Database, options: { withFiles: boolean }) {
  const sql = database.client;
  const items = await sql`select t.kind::text, t.identifier, m.part_number, t.quantity::text, t.unit, t.status::text, t.provenance_event_id
    from trace_items t left join materials m on m.id = t.material_id order by t.kind, t.identifier`;
  const edges =
    await sql`select e.event_ref, e.kind::text, i.identifier as input, o.identifier as output, e.quantity::text, e.unit, e.occurred_at, e.superseded_at is not null as superseded
    from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
    order by e.event_ref, i.identifier, o.identifier`;
  const rows = await sql`select event_key, from_event_id, type, event_time, content_hash, status::text, unknown_gtins, body, declaration,
      superseded_at is not null as superseded, applied_at is not null as applied, event_index, file_digest
    from epcis_events order by event_key`;
  const epcisEvents = rows.map(({ event_index, file_digest, ...rest }) => (options.withFiles ? { ...rest, event_index, file_digest } : rest));
  return { items, edges, epcisEvents };
}

describe("batches", () => {
  const list = events();

  it("a document spanning many batches stores exactly what the same events store applied one by one, or imported one document each", async () => {
    const file = document(list);
    const [batched, single, whole, perEvent] = await Promise.all([freshPlant(), freshPlant(), freshPlant(), freshPlant()]);

    const results = [];
    for (const [database, batchSize] of [
      [batched, 7],
      [single, 1],
      [whole, undefined],
    ] as const) {
      const result = await importEpcisDocument(database.db, "test", { fileName: "doc.json", siteCode: "EIN", source: fileSource(file), batchSize });
      expectOk(result);
      results.push(result);
    }
    const counts = (r: Extract<EpcisImportResult, { ok: true }>) => ({
      events: r.events,
      applied: r.applied,
      quarantined: r.quarantined,
      supersededOnArrival: r.supersededOnArrival,
      declared: r.declared,
      unchanged: r.unchanged,
      itemsCreated: r.itemsCreated,
      edgesCreated: r.edgesCreated,
      notPlaced: r.notPlaced,
      unknownGtins: r.unknownGtins,
      pendingCorrectiveEventIds: r.pendingCorrectiveEventIds,
    });
    expect(counts(results[0]!)).toEqual({
      events: 47,
      applied: 38,
      quarantined: 4,
      supersededOnArrival: 1,
      declared: 1,
      unchanged: 3,
      itemsCreated: expect.any(Number),
      edgesCreated: expect.any(Number),
      notPlaced: 0,
      unknownGtins: ["04012345888881"],
      pendingCorrectiveEventIds: [],
    });
    expect(counts(results[1]!)).toEqual(counts(results[0]!));
    expect(counts(results[2]!)).toEqual(counts(results[0]!));

    const reference = await stored(single, { withFiles: true });
    expect(reference.items.length).toBe(results[0]!.itemsCreated);
    expect(reference.edges.length).toBe(results[0]!.edgesCreated);
    expect(reference.edges.filter((e) => e.superseded).map((e) => e.event_ref)).toEqual([id(11), id(11)]);
    expect(await stored(batched, { withFiles: true })).toEqual(reference);
    expect(await stored(whole, { withFiles: true })).toEqual(reference);

    // Each event its own document: the same items, edges and events (only the file and index differ).
    for (const [i, event] of list.entries()) {
      const result = await importEpcisDocument(perEvent.db, "test", { fileName: `event-${i}.json`, siteCode: "EIN", source: fileSource(document([event])) });
      expectOk(result);
    }
    const perEventRows = await stored(perEvent, { withFiles: false });
    const referenceWithoutFiles = await stored(single, { withFiles: false });
    expect(perEventRows.edges).toEqual(referenceWithoutFiles.edges);
    expect(perEventRows.epcisEvents).toEqual(referenceWithoutFiles.epcisEvents);
    expect(perEventRows.items).toEqual(referenceWithoutFiles.items);
  });

  it("a document refused in a late batch (a broken event, or an event id reused with other content) leaves the database unchanged", async () => {
    const database = await freshPlant();
    // Something held before, so that "unchanged" is not just "empty".
    expectOk(await importEpcisDocument(database.db, "test", { fileName: "first.json", siteCode: "EIN", source: fileSource(document(list.slice(0, 5))) }));
    const before = { footprint: await importFootprint(database), rows: await stored(database, { withFiles: true }) };

    const broken = list.slice(0, 39).concat([{ ...list[39]!, action: "NOPE" }]);
    const refused = await importEpcisDocument(database.db, "test", {
      fileName: "broken.json",
      siteCode: "EIN",
      source: fileSource(document(broken)),
      batchSize: 4,
    });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.errors.map((e) => e.path)).toContain("/epcisBody/eventList/39/action");

    const conflicting = list.slice(0, 38).concat([{ ...list[2]!, outputQuantityList: [{ epcClass: lgtin("OTHER"), quantity: 1, uom: "KGM" }] }]);
    const conflict = await importEpcisDocument(database.db, "test", {
      fileName: "conflict.json",
      siteCode: "EIN",
      source: fileSource(document(conflicting)),
      batchSize: 4,
    });
    expect(conflict.ok).toBe(false);
    if (conflict.ok) return;
    expect(conflict.errors).toHaveLength(1);
    expect(conflict.errors[0]!.path).toBe("/epcisBody/eventList/38");
    expect(conflict.errors[0]!.message).toContain(id(2));

    expect(await importFootprint(database)).toEqual(before.footprint);
    expect(await stored(database, { withFiles: true })).toEqual(before.rows);
    const audit = await database.client`select action, count(*)::int as n from audit_trail where action like 'epcis.%' group by action order by action`;
    expect(audit).toEqual([
      { action: "epcis.import", n: 1 },
      { action: "epcis.import_refused", n: 2 },
    ]);
  });
});
