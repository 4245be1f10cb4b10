/**
 * EPCIS import (ADR 014), quantities and identity, checked against oracles that do not use the
 * import's code: plain SQL over genealogy_edges and the documents' JSON read here.
 * - Conservation: for every event of every public example document and of generated
 *   transformations, the edges leaving each input for that event sum to at most the input's
 *   quantity in the event (exactly it when the event's outputs are all placed).
 * - One identity per event: the same transformation as EPC URNs, as URNs without eventID and as
 *   GS1 Digital Links is one stored event, its edges written once; another eventID is warned.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import { canonicalize } from "../../app/domain/canonical-json";
import type { Database } from "../../app/utils/db.server";
import { fillEpcisIdentities } from "../../app/utils/migrate.server";
import { createTestDatabase } from "../setup/database";
import { EPCIS_FIXTURES, fixture, importFootprint, seedEpcisPlant } from "../setup/epcis";

type Json = Record<string, unknown>;
type Document = { epcisBody: { eventList: Json[] } } & Json;

const FILES = fs
  .readdirSync(EPCIS_FIXTURES)
  .filter((f) => f.endsWith(".json"))
  .sort();

function expectOk(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors, null, 2)}`);
}

function tempDocument(document: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-epcis-q-"));
  const file = path.join(dir, "doc.json");
  fs.writeFileSync(file, JSON.stringify(document));
  return file;
}

const importFile = (database: Database, file: string) =>
  importEpcisDocument(database.db, "test", { fileName: path.basename(file), siteCode: "EIN", source: fileSource(file) });

const document = (eventList: Json[]): Document => ({
  "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
  type: "EPCISDocument",
  schemaVersion: "2.0",
  creationDate: "2025-01-01T00:00:00Z",
  epcisBody: { eventList },
});

/* ------------------------------------------------------------------------------------------ */
/* The oracle's own reading of identifiers and quantities (not the import's parser)           */
/* ------------------------------------------------------------------------------------------ */

/** GS1 mod-10 check digit, written out. */
function checkDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}

/** What genealogy calls an identifier: `gtin|serial`, `gtin|lot`, `gtin|(01)gtin`, `sscc`; null for other keys. */
function oracleKey(uri: string): string | null {
  let m = /^urn:epc:(?:id:sgtin|class:lgtin):(\d+)\.(\d+)\.(.+)$/.exec(uri);
  if (m) {
    const gtin = m[2]![0]! + m[1]! + m[2]!.slice(1);
    return `${gtin + checkDigit(gtin)}|${decodeURIComponent(m[3]!)}`;
  }
  m = /^urn:epc:idpat:sgtin:(\d+)\.(\d+)\.\*$/.exec(uri);
  if (m) {
    const gtin = m[2]![0]! + m[1]! + m[2]!.slice(1);
    return `${gtin + checkDigit(gtin)}|(01)${gtin + checkDigit(gtin)}`;
  }
  m = /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(uri);
  if (m) {
    const sscc = m[2]![0]! + m[1]! + m[2]!.slice(1);
    return `|${sscc + checkDigit(sscc)}`;
  }
  m = /^https?:\/\/[^/]+\/(?:.*\/)?01\/(\d{8,14})(\/[^?#]*)?/i.exec(uri);
  if (m) {
    const gtin = m[1]!.padStart(14, "0");
    const qualifier = /\/21\/([^/]+)/.exec(m[2] ?? "") ?? /\/10\/([^/]+)/.exec(m[2] ?? "");
    return `${gtin}|${qualifier ? decodeURIComponent(qualifier[1]!) : `(01)${gtin}`}`;
  }
  m = /^https?:\/\/[^/]+\/(?:.*\/)?00\/(\d{18})/i.exec(uri);
  if (m) return `|${m[1]}`;
  return null;
}

/** A decimal text (JSON number as written, or numeric::text) in millionths, rounded down. */
function millionths(text: string): bigint {
  const [whole, fraction = ""] = text.split(".");
  return BigInt(whole!) * 1_000_000n + BigInt((fraction + "000000").slice(0, 6));
}

/** The inputs of an event as the document states them: key|unit → quantity (millionths). */
function statedInputs(event: Json): Map<string, bigint> {
  const lists =
    event.type === "TransformationEvent"
      ? { epcs: ["inputEPCList"], quantities: ["inputQuantityList"] }
      : { epcs: ["epcList", "childEPCs"], quantities: ["quantityList", "childQuantityList"] };
  const stated = new Map<string, bigint>();
  const add = (key: string | null, unit: string, amount: bigint) => {
    if (key === null) return;
    stated.set(`${key}|${unit}`, (stated.get(`${key}|${unit}`) ?? 0n) + amount);
  };
  for (const field of lists.epcs) for (const uri of (event[field] as string[] | undefined) ?? []) add(oracleKey(uri), "EA", 1_000_000n);
  for (const field of lists.quantities) {
    for (const q of (event[field] as { epcClass: string; quantity?: number; uom?: string }[] | undefined) ?? []) {
      if (typeof q.quantity === "number") add(oracleKey(q.epcClass), q.uom ?? "EA", millionths(String(q.quantity)));
    }
  }
  return stated;
}

/** Whether every output the event names is a trade item with a quantity (all GTINs are seeded): all of each input is then written. */
function allOutputsPlaced(event: Json): boolean {
  if (event.type !== "TransformationEvent") return true;
  const epcs = (event.outputEPCList as string[] | undefined) ?? [];
  const quantities = (event.outputQuantityList as { epcClass: string; quantity?: number }[] | undefined) ?? [];
  return (
    [...epcs, ...quantities.map((q) => q.epcClass)].every((u) => oracleKey(u)?.match(/^\d{14}\|/)) && quantities.every((q) => typeof q.quantity === "number")
  );
}

/**
 * Plain SQL: per stored event and input item, the sum of the quantities of the edges leaving it for
 * that event, with the event's place in its document; compared with the document's JSON.
 */
async function checkConservation(database: Database, documents: Map<string, Document>) {
  const rows = await database.client<
    { file_digest: string; event_index: number; gtin: string | null; identifier: string; unit: string; total: string; edges: number }[]
  >`
    select ev.file_digest, ev.event_index, case when ti.kind = 'container' then null else m.gtin end as gtin, ti.identifier, e.unit,
           sum(e.quantity)::text as total, count(*)::int as edges
    from genealogy_edges e
    join epcis_events ev on ev.event_key = e.event_ref
    join trace_items ti on ti.id = e.input_item_id
    left join materials m on m.id = ti.material_id
    where e.provenance_kind = 'import'
    group by 1, 2, 3, 4, 5
    order by ev.file_digest, ev.event_index, ti.identifier`;
  let checked = 0;
  let exact = 0;
  let edges = 0;
  for (const r of rows) {
    const doc = documents.get(r.file_digest);
    expect(doc, `edges of an event of a document this test did not import (${r.file_digest})`).toBeDefined();
    const event = doc!.epcisBody.eventList[r.event_index]!;
    const key = `${r.gtin ?? ""}|${r.identifier}|${r.unit}`;
    const stated = statedInputs(event).get(key);
    const where = `${r.file_digest.slice(0, 8)} event ${r.event_index} input ${key}`;
    expect(stated, `${where}: the document does not state this input`).toBeDefined();
    const leaving = millionths(r.total);
    expect(leaving <= stated!, `${where}: ${r.total} left it, ${stated} millionths entered`).toBe(true);
    if (allOutputsPlaced(event)) {
      expect(leaving, `${where}: all of it is written`).toBe(stated);
      exact += 1;
    }
    checked += 1;
    edges += r.edges;
  }
  const [all] = await database.client`select count(*)::int as n from genealogy_edges`;
  // Every edge is in a checked group (none lost by the joins to its event and input).
  expect(edges).toBe(all!.n);
  return { checked, exact };
}

const digestOf = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/* ------------------------------------------------------------------------------------------ */
/* Generated transformations                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Deterministic PRNG (mulberry32), so a failure is reproducible. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 150 transformations: 1–4 inputs, 1–6 outputs, serials and lots, quantities with up to 3 decimals, one or mixed units, some rework. */
function generatedTransformations(seed: number): Json[] {
  const random = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const amount = () => int(1, 500_000) / 1000;
  const unit = () => ["KGM", "LTR", undefined][int(0, 2)];
  const events: Json[] = [];
  for (let n = 0; n < 150; n++) {
    const lot = (prefix: string, k: number) => `urn:epc:class:lgtin:4012345.022222.${prefix}${n}-${k}`;
    const inputEPCList = Array.from({ length: int(0, 2) }, (_, k) => `urn:epc:id:sgtin:4012345.011122.IN${n}-${k}`);
    const inputQuantityList = Array.from({ length: int(inputEPCList.length ? 0 : 1, 2) }, (_, k) => {
      const uom = unit();
      return { epcClass: lot("L", k), quantity: uom ? amount() : int(1, 900), ...(uom ? { uom } : {}) };
    });
    const sameUnit = random() < 0.5 ? "KGM" : null;
    const outputEPCList = sameUnit ? [] : Array.from({ length: int(0, 3) }, (_, k) => `urn:epc:id:sgtin:4012345.077889.OUT${n}-${k}`);
    const outputQuantityList = Array.from({ length: int(outputEPCList.length ? 0 : 1, 3) }, (_, k) => {
      const uom = sameUnit ?? unit();
      return { epcClass: lot("P", k), quantity: uom ? amount() : int(1, 900), ...(uom ? { uom } : {}) };
    });
    // Now and then an input lot is also an output (rework).
    if (inputQuantityList.length && random() < 0.15) outputQuantityList.push({ ...inputQuantityList[0]!, quantity: amount(), uom: sameUnit ?? "KGM" });
    events.push({
      type: "TransformationEvent",
      eventTime: new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
      eventTimeZoneOffset: "+00:00",
      ...(inputEPCList.length ? { inputEPCList } : {}),
      inputQuantityList,
      ...(outputEPCList.length ? { outputEPCList } : {}),
      outputQuantityList,
    });
  }
  return events;
}

describe("conservation: the edges leaving an input never carry more than entered", () => {
  const databases = new Map<string, Database>();
  beforeAll(async () => {
    for (const file of FILES) {
      const database = await createTestDatabase();
      await seedEpcisPlant(database);
      databases.set(file, database);
    }
  }, 180_000);

  it.each(FILES)("%s: per event and input, sum of edge quantities ≤ the stated quantity (= when every output is placed)", async (file) => {
    const database = databases.get(file)!;
    expectOk(await importFile(database, fixture(file)));
    const documents = new Map([[digestOf(fixture(file)), JSON.parse(fs.readFileSync(fixture(file), "utf8")) as Document]]);
    await checkConservation(database, documents);
  });

  it("TransformationEvent.json: each of 5 inputs is shared evenly among its 4 serial outputs (hand-counted)", async () => {
    const database = databases.get("TransformationEvent.json")!;
    const rows = await database.client`select ti.identifier, sum(e.quantity)::text as total, min(e.quantity)::text as each, count(*)::int as n
      from genealogy_edges e join trace_items ti on ti.id = e.input_item_id group by ti.identifier order by ti.identifier`;
    expect(rows).toEqual([
      { identifier: "(01)04012345666663", total: "220.000000", each: "55.000000", n: 4 },
      { identifier: "25", total: "1.000000", each: "0.250000", n: 4 },
      { identifier: "4444", total: "10.000000", each: "2.500000", n: 4 },
      { identifier: "987", total: "30.000000", each: "7.500000", n: 4 },
      { identifier: "99886655", total: "1.000000", each: "0.250000", n: 4 },
    ]);
  });

  it("generated transformations (random inputs, outputs, quantities and units) conserve every input exactly", async () => {
    const database = await createTestDatabase();
    await seedEpcisPlant(database);
    const documents = new Map<string, Document>();
    for (const seed of [981, 14, 2025]) {
      const doc = document(generatedTransformations(seed));
      const file = tempDocument(doc);
      const result = await importFile(database, file);
      expectOk(result);
      expect(result.applied).toBe(150);
      documents.set(digestOf(file), doc);
    }
    const { checked, exact } = await checkConservation(database, documents);
    const statedInputCount = [...documents.values()].reduce((n, d) => n + d.epcisBody.eventList.reduce((m, e) => m + statedInputs(e).size, 0), 0);
    // Every stated input has edges (all outputs are trade items of seeded GTINs) and all of it is written.
    expect(checked).toBe(statedInputCount);
    expect(exact).toBe(checked);
  });
});

describe("one identity per event", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database);
  });
  const urnDoc = () => JSON.parse(fs.readFileSync(fixture("TransformationEvent.json"), "utf8")) as Document;
  const linkDoc = () => JSON.parse(fs.readFileSync(fixture("TransformationEvent_with_digitalLink.json"), "utf8")) as Document;

  it("the same transformation as URNs, URNs without eventID and Digital Links is one event, its 20 edges written once", async () => {
    const urn = urnDoc();
    const urnId = urn.epcisBody.eventList[0]!.eventID as string;
    const first = await importFile(database, fixture("TransformationEvent.json"));
    expectOk(first);
    expect(first.applied).toBe(1);
    const after = await importFootprint(database);

    const bare = urnDoc();
    delete bare.epcisBody.eventList[0]!.eventID;
    // The company prefix length of a URN does not matter either: 4012345.011122 is 401234511.0122.
    (bare.epcisBody.eventList[0]!.inputEPCList as string[])[0] = "urn:epc:id:sgtin:401234511.0122.25";
    const second = await importFile(database, tempDocument(bare));
    expectOk(second);
    expect(second).toMatchObject({ unchanged: 1, applied: 0, unchangedDocument: true, warnings: [] });

    const link = await importFile(database, fixture("TransformationEvent_with_digitalLink.json"));
    expectOk(link);
    expect(link).toMatchObject({ unchanged: 1, applied: 0, unchangedDocument: true });
    const linkId = linkDoc().epcisBody.eventList[0]!.eventID as string;
    expect(link.warnings).toEqual([
      expect.objectContaining({
        eventIndex: 0,
        path: "/epcisBody/eventList/0/eventID",
        message: expect.stringMatching(/^likely duplicate: .*/),
      }),
    ]);
    expect(link.warnings[0]!.message).toContain(linkId);
    expect(link.warnings[0]!.message).toContain(urnId);

    expect(await importFootprint(database)).toEqual(after);
    const events = await database.client`select event_key, body->>'eventID' as event_id from epcis_events`;
    expect(events).toEqual([{ event_key: urnId, event_id: urnId }]);
    // Hand-counted: 2 serial + 3 class-level inputs, each into 4 serial outputs.
    const [edges] = await database.client`select count(*)::int as n, count(distinct (input_item_id, output_item_id))::int as pairs from genealogy_edges`;
    expect(edges).toEqual({ n: 20, pairs: 20 });
    // Nothing was audited for the repeats: only the first import.
    const [audits] = await database.client`select count(*)::int as n from audit_trail where action = 'epcis.import'`;
    expect(audits!.n).toBe(1);
  });

  it("in one document too: the Digital Link twin after the URN event is one stored event, warned", async () => {
    const fresh = await createTestDatabase();
    await seedEpcisPlant(fresh);
    const doc = urnDoc();
    doc.epcisBody.eventList.push(linkDoc().epcisBody.eventList[0]!);
    const result = await importFile(fresh, tempDocument(doc));
    expectOk(result);
    expect(result).toMatchObject({ events: 2, applied: 1, unchanged: 1 });
    expect(result.warnings).toEqual([expect.objectContaining({ eventIndex: 1, message: expect.stringContaining("event 0 of this document") })]);
    const [counts] = await fresh.client`select (select count(*)::int from epcis_events) as events, (select count(*)::int from genealogy_edges) as edges`;
    expect(counts).toEqual({ events: 1, edges: 20 });
  });

  it("an error declaration sent under the other eventID supersedes the one event and its edges", async () => {
    const declared = linkDoc();
    declared.epcisBody.eventList[0]!.errorDeclaration = {
      declarationTime: "2020-01-01T00:00:00Z",
      reason: "incorrect_data",
      correctiveEventIDs: ["urn:uuid:22222222-2222-4222-8222-222222222222"],
    };
    const result = await importFile(database, tempDocument(declared));
    expectOk(result);
    expect(result.declared).toBe(1);
    expect(result.pendingCorrectiveEventIds).toEqual(["urn:uuid:22222222-2222-4222-8222-222222222222"]);
    const footprint = await importFootprint(database);
    expect(footprint).toMatchObject({ events: 1, superseded: 1, edges: 20, superseded_edges: 20 });
  });

  it("the same eventID with other content is still refused", async () => {
    const other = urnDoc();
    other.epcisBody.eventList[0]!.inputQuantityList = [{ epcClass: "urn:epc:class:lgtin:4012345.011111.4444", quantity: 11, uom: "KGM" }];
    const before = await importFootprint(database);
    const result = await importFile(database, tempDocument(other));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.objectContaining({ eventIndex: 0, message: expect.stringContaining("the same event id with other content") })]);
    expect(await importFootprint(database)).toEqual(before);
  });

  it("rows stored before migration 0025 get their identity at migration; a second row of one fact keeps none and is found by its key", async () => {
    const fresh = await createTestDatabase();
    await seedEpcisPlant(fresh);
    // Two rows as an earlier version stored them: the URN and the Digital Link twin, no identity.
    const urn = urnDoc().epcisBody.eventList[0]!;
    const link = linkDoc().epcisBody.eventList[0]!;
    for (const [i, body] of [urn, link].entries()) {
      // The content hash as stored then: RFC 8785 form of the event without recordTime and errorDeclaration.
      const { recordTime: _r, errorDeclaration: _d, ...fact } = body;
      const stored = createHash("sha256").update(canonicalize(fact)).digest("hex");
      await fresh.owner`insert into epcis_events (event_key, from_event_id, type, event_time, content_hash, file_digest, event_index, site_id, status, body, imported_at)
        select ${body.eventID as string}, true, 'TransformationEvent', ${body.eventTime as string}, ${stored}, ${`file-${i}`}, 0, id, 'quarantined',
               ${fresh.owner.json(body as never)}, now() from sites where code = 'EIN'`;
    }
    expect(await fillEpcisIdentities(fresh.owner)).toBe(1);
    const rows = await fresh.owner`select event_key, identity_hash is not null as has_identity from epcis_events order by id`;
    expect(rows).toEqual([
      { event_key: urn.eventID, has_identity: true },
      { event_key: link.eventID, has_identity: false },
    ]);
    // Idempotent: the second row is read again and still left alone.
    expect(await fillEpcisIdentities(fresh.owner)).toBe(0);
    // The fact without eventID is the first row's; the twin's own id is still its own.
    const bare = urnDoc();
    delete bare.epcisBody.eventList[0]!.eventID;
    const result = await importFile(fresh, tempDocument(bare));
    expectOk(result);
    expect(result).toMatchObject({ unchanged: 1, applied: 0 });
    const again = await importFile(fresh, fixture("TransformationEvent_with_digitalLink.json"));
    expectOk(again);
    expect(again).toMatchObject({ unchanged: 1, applied: 0 });
    expect((await fresh.owner`select count(*)::int as n from epcis_events`)[0]!.n).toBe(2);
  });
});
