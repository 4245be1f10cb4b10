/**
 * EPCIS 2.0 import against PostgreSQL: every public example document into its own fresh database,
 * twice; located refusals that leave the database unchanged; identity conflicts across documents;
 * error declarations; quarantine of unknown GTINs released when the material is created.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exploreGenealogy, searchTraceItems } from "../../app/queries/genealogy.server";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { releaseQuarantineNow } from "../../app/services/epcis-quarantine.server";
import { quarantineList } from "../../app/queries/epcis-quarantine.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { EPCIS_FIXTURES, fixture, importFootprint, seedEpcisPlant } from "../setup/epcis";

const FILES = fs
  .readdirSync(EPCIS_FIXTURES)
  .filter((f) => f.endsWith(".json"))
  .sort();
const databases = new Map<string, Database>();

const importFile = (database: Database, file: string) =>
  importEpcisDocument(database.db, "test", { fileName: path.basename(file), siteCode: "EIN", source: fileSource(file) });

function expectOk(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors, null, 2)}`);
}

function tempDocument(document: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-epcis-"));
  const file = path.join(dir, "doc.json");
  fs.writeFileSync(file, typeof document === "string" ? document : JSON.stringify(document));
  return file;
}

const readFixture = (name: string) =>
  JSON.parse(fs.readFileSync(fixture(name), "utf8")) as { epcisBody: { eventList: Record<string, unknown>[] } } & Record<string, unknown>;

beforeAll(async () => {
  for (const file of FILES) {
    const database = await createTestDatabase();
    await seedEpcisPlant(database);
    databases.set(file, database);
  }
}, 120_000);

describe("every public EPCIS 2.0 example", () => {
  it.each(FILES)("%s imports, and importing it again changes nothing", async (file) => {
    const database = databases.get(file)!;
    const first = await importFile(database, fixture(file));
    expectOk(first);
    const events = readFixture(file).epcisBody.eventList.length;
    expect(first.events).toBe(events);
    expect(first.applied + first.quarantined + first.supersededOnArrival).toBe(events);
    expect(first.quarantined).toBe(0);
    const after = await importFootprint(database);
    expect(after.events).toBe(events);
    const audits = await database.client`select count(*)::int as n from audit_trail where action = 'epcis.import'`;
    expect(audits[0]!.n).toBe(1);

    const second = await importFile(database, fixture(file));
    expectOk(second);
    expect(second.unchangedDocument).toBe(true);
    expect(second.unchanged).toBe(events);
    expect(await importFootprint(database)).toEqual(after);
    const auditsAfter = await database.client`select count(*)::int as n from audit_trail where action = 'epcis.import'`;
    expect(auditsAfter[0]!.n).toBe(1);

    // Every trace item carries its provenance: the file's digest and the event that created it.
    const orphans = await database.client`select count(*)::int as n from trace_items t
      where t.provenance_file_digest <> ${first.fileDigest} or not exists (select 1 from epcis_events e where e.event_key = t.provenance_event_id)`;
    expect(orphans[0]!.n).toBe(0);
  });

  it("TransactionEvent_with_userExtensions.json: the unlisted sensor measurement type is a located warning, not a refusal (ADR 014)", async () => {
    const database = databases.get("TransactionEvent_with_userExtensions.json")!;
    const result = await importFile(database, fixture("TransactionEvent_with_userExtensions.json"));
    expectOk(result);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        eventIndex: 0,
        path: "/epcisBody/eventList/0/sensorElementList/0/sensorReport/0/type",
        message: expect.stringContaining("EffectiveDoseRate"),
      }),
    );
    const [stored] = await database.client`select body from epcis_events`;
    expect(JSON.stringify(stored!.body)).toContain("EffectiveDoseRate");
  });

  it("instance-level EPCs become serials and containers, class-level ones lots with quantities, shown at their precision", async () => {
    const database = databases.get("AggregationEvent.json")!;
    expectOk(await importFile(database, fixture("AggregationEvent.json")));
    const items = await database.client`select kind::text, identifier, quantity::float8 as quantity, unit from trace_items order by kind, identifier`;
    expect(items).toEqual([
      { kind: "container", identifier: "106141412345678908", quantity: 1, unit: "EA" },
      { kind: "lot", identifier: "(01)04012345987652", quantity: 10, unit: "EA" },
      { kind: "lot", identifier: "998877", quantity: 200.5, unit: "KGM" },
      { kind: "serial", identifier: "2017", quantity: 1, unit: "EA" },
      { kind: "serial", identifier: "2018", quantity: 1, unit: "EA" },
    ]);
    const edges = await database.client`select kind::text, count(*)::int as n from genealogy_edges group by kind`;
    expect(edges).toEqual([{ kind: "aggregate", n: 4 }]);
    const serial = await searchTraceItems(database.db, { q: "2017", sites: null });
    const id =
      (serial as unknown as { exact: { id: number }[] }).exact?.[0]?.id ?? (await database.client`select id from trace_items where identifier = '2017'`)[0]!.id;
    const explored = await exploreGenealogy(database.db, { itemId: Number(id), sites: null });
    const container = explored!.forward.nodes.find((n) => n.kind === "container");
    expect(container?.identifier).toBe("106141412345678908");
    expect(explored!.forward.nodes.find((n) => n.tier === 0)?.precision).toBe("unit");

    const lot = (await database.client`select id from trace_items where identifier = '998877'`)[0]!.id;
    const fromLot = await exploreGenealogy(database.db, { itemId: Number(lot), sites: null });
    expect(fromLot!.forward.nodes.find((n) => n.kind === "container")?.precision).toBe("lot");
  });

  it("a transformation consumes inputs into outputs; a declared-erroneous event is stored superseded and never traced", async () => {
    const database = databases.get("TransformationEvent_with_error_declaration.json")!;
    expectOk(await importFile(database, fixture("TransformationEvent_with_error_declaration.json")));
    const events = await database.client`select event_key, status::text, declaration is not null as declared from epcis_events order by event_index`;
    expect(events).toEqual([
      { event_key: "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8", status: "superseded", declared: true },
      { event_key: "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8", status: "applied", declared: false },
    ]);
    const edges = await database.client`select distinct event_ref, kind::text from genealogy_edges`;
    expect(edges).toEqual([{ event_ref: "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8", kind: "consume" }]);
  });
});

describe("identity across documents", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database);
  });

  it("an event resent with an errorDeclaration supersedes the one applied; its edges are kept, marked, and no longer traced", async () => {
    const original = readFixture("AggregationEvent.json");
    expectOk(await importFile(database, tempDocument(original)));
    const before = await importFootprint(database);
    expect(before.edges).toBe(4);
    const declared = structuredClone(original);
    declared.epcisBody.eventList[0]!.errorDeclaration = {
      declarationTime: "2013-06-09T00:00:00Z",
      reason: "incorrect_data",
      correctiveEventIDs: ["urn:uuid:11111111-2222-4333-8444-555555555555"],
    };
    const result = await importFile(database, tempDocument(declared));
    expectOk(result);
    expect(result.declared).toBe(1);
    expect(result.pendingCorrectiveEventIds).toEqual(["urn:uuid:11111111-2222-4333-8444-555555555555"]);
    const after = await importFootprint(database);
    expect(after).toMatchObject({ edges: 4, superseded_edges: 4, events: 1, superseded: 1, items: before.items });
    const serial = (await database.client`select id from trace_items where identifier = '2017'`)[0]!.id;
    const explored = await exploreGenealogy(database.db, { itemId: Number(serial), sites: null });
    expect(explored!.forward.nodes).toHaveLength(1);
    // Declaring it again changes nothing.
    const again = await importFile(database, tempDocument(declared));
    expectOk(again);
    expect(again.unchangedDocument).toBe(true);
  });

  it("the same event id with other content refuses the whole document, naming both, and stores nothing", async () => {
    // AssociationEvent_2.json and AssociationEvent_with_sensorData.json reuse one eventID for different events.
    expectOk(await importFile(database, fixture("AssociationEvent_2.json")));
    const before = await importFootprint(database);
    const result = await importFile(database, fixture("AssociationEvent_with_sensorData.json"));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({
        eventIndex: 0,
        path: "/epcisBody/eventList/0",
        message: expect.stringMatching(/ni:\/\/\/sha-256;5f7c47.*differs from event 0 of the document with SHA-256 [0-9a-f]{64}/),
      }),
    ]);
    expect(await importFootprint(database)).toEqual(before);
    const [refused] = await database.client`select count(*)::int as n from audit_trail where action = 'epcis.import_refused'`;
    expect(refused!.n).toBe(1);
  });

  it("a document that repeats an event id with other content is refused, naming both events", async () => {
    const doc = readFixture("ObjectEvent.json");
    const copy = structuredClone(doc.epcisBody.eventList[0]!);
    copy["example:note"] = "the same id, other content";
    doc.epcisBody.eventList.push(copy);
    const before = await importFootprint(database);
    const result = await importFile(database, tempDocument(doc));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.objectContaining({ eventIndex: 2, message: expect.stringContaining("differs from event 0 of this document") })]);
    expect(await importFootprint(database)).toEqual(before);
  });
});

describe("standard-breaking documents", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database);
  });

  it("are refused whole with every error located, and the database is unchanged", async () => {
    const doc = readFixture("ObjectEvent.json");
    delete doc.schemaVersion;
    doc.epcisBody.eventList[0]!.action = "ADDED";
    doc.epcisBody.eventList[1]!.epcList = ["urn:epc:id:sgtin:0614141.10734.2017"];
    doc.epcisBody.eventList.push(
      {
        type: "AggregationEvent",
        eventTime: "2020-01-01T00:00:00Z",
        eventTimeZoneOffset: "+00:00",
        action: "ADD",
        childEPCs: ["urn:epc:id:sgtin:0614141.107346.1"],
      },
      {
        type: "ObjectEvent",
        eventTime: "2020-01-01T00:00:00Z",
        eventTimeZoneOffset: "+00:00",
        action: "OBSERVE",
        quantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.012345.998877", quantity: -3, uom: "KGM" }],
      },
    );
    const before = await importFootprint(database);
    const auditBefore = await database.client`select count(*)::int as n from audit_trail`;
    const result = await importFile(database, tempDocument(doc));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const located = result.errors.map((e) => `${e.eventIndex ?? "-"} ${e.path}`);
    expect(located).toEqual(
      expect.arrayContaining([
        "- ",
        "0 /epcisBody/eventList/0/action",
        "1 /epcisBody/eventList/1/epcList/0",
        "2 /epcisBody/eventList/2/parentID",
        "3 /epcisBody/eventList/3/quantityList/0/quantity",
      ]),
    );
    expect(result.errors.find((e) => e.path === "")?.message).toContain("schemaVersion");
    expect(result.errors.find((e) => e.path === "/epcisBody/eventList/1/epcList/0")?.message).toContain("13 digits");
    expect(result.errorCount).toBe(result.errors.length);
    expect(await importFootprint(database)).toEqual(before);
    const auditAfter =
      await database.client`select count(*)::int as n, max(action) filter (where seq = (select max(seq) from audit_trail)) as last from audit_trail`;
    expect(auditAfter[0]).toEqual({ n: auditBefore[0]!.n + 1, last: "epcis.import_refused" });
  });

  it("refuse a file that is not JSON, located by byte", async () => {
    const result = await importFile(database, tempDocument('{"type": "EPCISDocument", "epcisBody": {"eventList": [ {"type": '));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.message).toMatch(/JSON|ends early/);
  });
});

describe("quarantine", () => {
  let database: Database;
  const UNKNOWN = "04012345111118";
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database, { except: [UNKNOWN] });
  });

  it("holds events naming unknown GTINs (never creating materials) and releases them when the material exists", async () => {
    const materialsBefore = await database.client`select count(*)::int as n from materials`;
    const result = await importFile(database, fixture("TransformationEvent.json"));
    expectOk(result);
    expect(result.quarantined).toBe(1);
    expect(result.unknownGtins).toEqual([UNKNOWN]);
    expect(await importFootprint(database)).toMatchObject({ items: 0, edges: 0, quarantined: 1 });
    expect((await database.client`select count(*)::int as n from materials`)[0]!.n).toBe(materialsBefore[0]!.n);
    expect(await quarantineList(database.db)).toEqual([expect.objectContaining({ gtin: UNKNOWN, events: 1 })]);

    // The material is created (in C-981 by a released change request; here directly) and released.
    await database.client`insert into materials (part_number, gtin, description, unit_of_measure, risk_class, family_id)
      select 'EPC-9999', ${UNKNOWN}, 'lot item', 'KG', 'medium', id from material_families where code = 'EPC'`;
    expect(await releaseQuarantineNow(database.db, UNKNOWN, "test")).toEqual({ released: 1, stillQuarantined: 0 });
    const after = await importFootprint(database);
    expect(after).toMatchObject({ quarantined: 0, edges: 20 });
    expect(after.items).toBe(9);
    // Importing the document again changes nothing.
    const again = await importFile(database, fixture("TransformationEvent.json"));
    expectOk(again);
    expect(again.unchangedDocument).toBe(true);
    expect(await importFootprint(database)).toEqual(after);
  });
});
