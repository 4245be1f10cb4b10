/**
 * Facts as the events say them (ADR 014): an imported item is created at its first event's time
 * (the import time stays as provenance), a container is a logistics unit whatever it holds, and
 * the genealogy search finds an imported item by its EPC URN, Digital Link, element string or
 * bare serial. Hand-written documents; expectations are hand-computed and read back with plain SQL.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { LOGISTICS_UNIT_MATERIAL } from "../../app/domain/material";
import { loadCatalog } from "../../app/queries/change-request-context.server";
import { changeRequestFormOptions } from "../../app/queries/change-requests.server";
import { dashboard } from "../../app/queries/dashboard.server";
import { exploreGenealogy, searchTraceItems } from "../../app/queries/genealogy.server";
import { searchMaterials } from "../../app/queries/materials.server";
import * as searchPage from "../../app/routes/genealogy._index";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { relabelImportedContainers } from "../../app/services/epcis-quarantine.server";
import { fileSource, type ByteSource } from "../../app/services/epcis-stream.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { fixture, seedEpcisPlant } from "../setup/epcis";

/** GTIN 10614141073464 (EPC-1018 in seedEpcisPlant) and 04012345111118 (EPC-1003). */
const A = (serial: string) => `urn:epc:id:sgtin:0614141.107346.${serial}`;
const B = (serial: string) => `urn:epc:id:sgtin:4012345.011111.${serial}`;
/** Extension digit 0, company prefix 0614141, serial reference 200000001, check digit 6 (by hand, GS1 mod 10). */
const SSCC_URN = "urn:epc:id:sscc:0614141.0200000001";
const SSCC = "006141412000000016";

const VIEWER_PASSWORD = "search-route-password-7q";

const source =
  (text: string): ByteSource =>
  () =>
    (async function* () {
      yield text;
    })();

const documentOf = (events: Record<string, unknown>[]) =>
  JSON.stringify({
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: "2025-01-02T00:00:00Z",
    epcisBody: { eventList: events },
  });

const importText = (database: Database, text: string, batchSize?: number) =>
  importEpcisDocument(database.db, "test", { fileName: "facts.json", siteCode: "EIN", source: source(text), batchSize });

function expectOk(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors, null, 2)}`);
}

/**
 * The first document, its later event first: serial A-3001 is named at 2020-05-03T05:30Z (packed)
 * and at 2020-05-01T08:00Z (commissioned, written +02:00), so it was first seen at the second.
 */
const FIRST = documentOf([
  {
    type: "AggregationEvent",
    action: "ADD",
    eventTime: "2020-05-03T00:30:00-05:00",
    eventTimeZoneOffset: "-05:00",
    parentID: SSCC_URN,
    childEPCs: [A("3001"), B("987")],
  },
  {
    type: "ObjectEvent",
    action: "ADD",
    eventTime: "2020-05-01T10:00:00.000+02:00",
    eventTimeZoneOffset: "+02:00",
    epcList: [A("3001")],
  },
]);

/** A later document: B-987 seen earlier than before (moves back), A-3001 later (stays). */
const SECOND = documentOf([
  {
    type: "ObjectEvent",
    action: "OBSERVE",
    eventTime: "2019-12-31T23:00:00Z",
    eventTimeZoneOffset: "+00:00",
    epcList: [B("987"), "urn:epc:id:sgtin:0614141.107346.SEED1"],
  },
  {
    type: "ObjectEvent",
    action: "OBSERVE",
    eventTime: "2021-01-01T00:00:00Z",
    eventTimeZoneOffset: "+00:00",
    epcList: [A("3001")],
  },
]);

const createdAt = (database: Database) =>
  database.client<{ identifier: string; kind: string; created_at: string }[]>`
    select t.identifier, t.kind::text as kind, to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
    from trace_items t order by t.identifier`;

describe("an imported item is created at its first event's time", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database);
    // An item the plant made itself (seed provenance), named later by an import with an earlier event.
    await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values ('serial', 'SEED1', (select id from materials where gtin = '10614141073464'), (select id from sites where code = 'EIN'), 1, 'EA', 'stock',
              '2024-02-02T00:00:00Z', 'seed')`;
  }, 60_000);

  it("takes the earliest event of the document, as an instant; the import time stays with the provenance", async () => {
    const result = await importText(database, FIRST);
    expectOk(result);
    expect(result).toMatchObject({ itemsCreated: 3, itemsMovedEarlier: 0, edgesCreated: 2 });
    expect(await createdAt(database)).toEqual([
      { identifier: SSCC, kind: "container", created_at: "2020-05-03T05:30:00.000Z" },
      { identifier: "3001", kind: "serial", created_at: "2020-05-01T08:00:00.000Z" },
      { identifier: "987", kind: "serial", created_at: "2020-05-03T05:30:00.000Z" },
      { identifier: "SEED1", kind: "serial", created_at: "2024-02-02T00:00:00.000Z" },
    ]);
    // The import time: from the file the provenance names, today, not the event's year.
    const [row] = await database.client`select i.imported_at > now() - interval '1 hour' as recent, i.imported_at > t.created_at + interval '5 years' as later
      from trace_items t join epcis_imports i on i.file_digest = t.provenance_file_digest where t.identifier = '3001'`;
    expect(row).toEqual({ recent: true, later: true });
  });

  it("batches do not change it: one event per batch gives the same times", async () => {
    const other = await createTestDatabase();
    await seedEpcisPlant(other);
    expectOk(await importText(other, FIRST, 1));
    expect((await createdAt(other)).map((r) => r.created_at)).toEqual(["2020-05-03T05:30:00.000Z", "2020-05-01T08:00:00.000Z", "2020-05-03T05:30:00.000Z"]);
  });

  it("a later import with an earlier event moves an imported item back; a later event or another provenance does not", async () => {
    const result = await importText(database, SECOND);
    expectOk(result);
    expect(result).toMatchObject({ itemsCreated: 0, itemsMovedEarlier: 1 });
    expect(await createdAt(database)).toEqual([
      { identifier: SSCC, kind: "container", created_at: "2020-05-03T05:30:00.000Z" },
      { identifier: "3001", kind: "serial", created_at: "2020-05-01T08:00:00.000Z" },
      { identifier: "987", kind: "serial", created_at: "2019-12-31T23:00:00.000Z" },
      { identifier: "SEED1", kind: "serial", created_at: "2024-02-02T00:00:00.000Z" },
    ]);
    // Its provenance stays the first document's; the move is in the second import's audit row.
    const [first] = await database.client`select provenance_file_digest from trace_items where identifier = '987'`;
    expect(first!.provenance_file_digest).not.toBe(result.fileDigest);
    const [audit] = await database.client`select after from audit_trail where action = 'epcis.import' and entity_id = ${result.fileDigest}`;
    expect(audit!.after).toMatchObject({ itemsCreated: 0, itemsMovedEarlier: 1 });
    // …naming the item and its time before and after, so the earlier value is not lost.
    const [item] = await database.client`select id from trace_items where identifier = '987'`;
    expect((audit!.after as { itemsMoved: unknown }).itemsMoved).toEqual([
      { itemId: Number(item!.id), identifier: "987", from: "2020-05-03T05:30:00.000Z", to: "2019-12-31T23:00:00.000Z" },
    ]);
  });

  it("an import into another site does not move an item of this site", async () => {
    await database.client`insert into sites (code, name, time_zone) values ('CLT', 'Charlotte', 'America/New_York')`;
    const earlier = documentOf([
      { type: "ObjectEvent", action: "OBSERVE", eventTime: "2018-01-01T00:00:00Z", eventTimeZoneOffset: "+00:00", epcList: [A("3001")] },
    ]);
    const result = await importEpcisDocument(database.db, "test", { fileName: "clt.json", siteCode: "CLT", source: source(earlier) });
    expectOk(result);
    expect(result).toMatchObject({ itemsCreated: 0, itemsMovedEarlier: 0 });
    const [row] = await database.client`select to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, s.code
      from trace_items t join sites s on s.id = t.site_id where t.identifier = '3001'`;
    expect(row).toEqual({ created_at: "2020-05-01T08:00:00.000Z", code: "EIN" });
  });
});

describe("a container is a logistics unit, never labelled with what it holds", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database);
  }, 60_000);

  it("holds units of two materials and is of neither; it is reached through its edges", async () => {
    expectOk(await importText(database, FIRST));
    const containers =
      await database.client`select t.identifier, m.part_number, m.gtin, m.system_role from trace_items t join materials m on m.id = t.material_id
      where t.kind = 'container'`;
    expect(containers).toEqual([{ identifier: SSCC, part_number: LOGISTICS_UNIT_MATERIAL.partNumber, gtin: null, system_role: "logistics_unit" }]);
    const held = await database.client`select m.gtin from genealogy_edges e join trace_items c on c.id = e.output_item_id
      join trace_items i on i.id = e.input_item_id join materials m on m.id = i.material_id where c.identifier = ${SSCC} order by m.gtin`;
    expect(held.map((r) => r.gtin)).toEqual(["04012345111118", "10614141073464"]);
    const [serial] = await database.client`select id from trace_items where identifier = '3001'`;
    const explored = await exploreGenealogy(database.db, { itemId: Number(serial!.id), sites: null });
    expect(explored!.forward.nodes.map((n) => [n.identifier, n.partNumber])).toEqual([
      ["3001", "EPC-1018"],
      [SSCC, LOGISTICS_UNIT_MATERIAL.partNumber],
    ]);
  });

  it("a container named alone is placed under the logistics unit; a container the plant labelled keeps its material", async () => {
    await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values ('container', '006141410000000012', (select id from materials where gtin = '04012345111118'), (select id from sites where code = 'EIN'), 1, 'EA', 'stock',
              '2024-02-02T00:00:00Z', 'seed')`;
    const result = await importText(
      database,
      documentOf([
        {
          type: "ObjectEvent",
          action: "OBSERVE",
          eventTime: "2020-06-01T00:00:00Z",
          eventTimeZoneOffset: "+00:00",
          epcList: ["urn:epc:id:sscc:0614141.0300000001", "urn:epc:id:sscc:0614141.0000000001"],
        },
      ]),
    );
    expectOk(result);
    expect(result).toMatchObject({ itemsCreated: 1, notPlaced: 0 });
    const rows =
      await database.client`select t.identifier, m.part_number, t.provenance_kind::text as provenance from trace_items t join materials m on m.id = t.material_id
      where t.kind = 'container' order by t.identifier`;
    expect(rows).toEqual([
      { identifier: "006141410000000012", part_number: "EPC-1003", provenance: "seed" },
      { identifier: SSCC, part_number: LOGISTICS_UNIT_MATERIAL.partNumber, provenance: "import" },
      { identifier: "006141413000000013", part_number: LOGISTICS_UNIT_MATERIAL.partNumber, provenance: "import" },
    ]);
  });
});

describe("containers imported under the old rule", () => {
  it("are put back under the logistics unit, with one audit row naming each and its former material; seed containers and edges stay", async () => {
    const database = await createTestDatabase();
    await seedEpcisPlant(database);
    expectOk(await importText(database, FIRST));
    // As the old rule left it: the imported container under the first unit it held (EPC-1018),
    // next to a container the plant labelled itself.
    await database.client`update trace_items set material_id = (select id from materials where part_number = 'EPC-1018') where identifier = ${SSCC}`;
    await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values ('container', '006141410000000012', (select id from materials where part_number = 'EPC-1003'), (select id from sites where code = 'EIN'), 1, 'EA', 'stock',
              '2024-02-02T00:00:00Z', 'seed')`;
    const edgesBefore = await database.client`select input_item_id, output_item_id, kind::text from genealogy_edges order by id`;

    expect(await relabelImportedContainers(database.db, "test")).toEqual({ relabelled: [{ identifier: SSCC, was: "EPC-1018" }] });
    const rows =
      await database.client`select t.identifier, m.part_number from trace_items t join materials m on m.id = t.material_id where t.kind = 'container' order by t.identifier`;
    expect(rows).toEqual([
      { identifier: "006141410000000012", part_number: "EPC-1003" },
      { identifier: SSCC, part_number: LOGISTICS_UNIT_MATERIAL.partNumber },
    ]);
    expect(await database.client`select input_item_id, output_item_id, kind::text from genealogy_edges order by id`).toEqual(edgesBefore);
    const audits = await database.client`select actor, before, after from audit_trail where action = 'epcis.containers_relabelled'`;
    expect(audits).toEqual([
      {
        actor: "test",
        before: { containers: [{ identifier: SSCC, material: "EPC-1018" }] },
        after: { material: LOGISTICS_UNIT_MATERIAL.partNumber, count: 1 },
      },
    ]);
    // Again: nothing to do, nothing written.
    expect(await relabelImportedContainers(database.db, "test")).toEqual({ relabelled: [] });
    expect(await database.client`select count(*)::int as n from audit_trail where action = 'epcis.containers_relabelled'`).toEqual([{ n: 1 }]);
  });
});

describe("the logistics unit is a system material, no product", () => {
  it("is created by migration 0024 and offered by no picker: catalogue, dashboard count, change-request form and catalog", async () => {
    const database = await createTestDatabase();
    await seedEpcisPlant(database);
    const [system] =
      await database.client`select m.part_number, m.gtin, m.unit_of_measure, f.code as family from materials m join material_families f on f.id = m.family_id
      where m.system_role = 'logistics_unit'`;
    expect(system).toEqual({ part_number: LOGISTICS_UNIT_MATERIAL.partNumber, gtin: null, unit_of_measure: "EA", family: LOGISTICS_UNIT_MATERIAL.familyCode });
    const products = (await database.client`select part_number from materials where system_role is null order by part_number`).map(
      (r) => r.part_number as string,
    );
    expect(products).toHaveLength(19); // seedEpcisPlant: one material per EPCIS example GTIN

    const at = new Date();
    const catalogue = await searchMaterials(database.db, { q: "", sort: "partNumber", dir: "asc", page: 1, pageSize: 100 }, { at, sites: null });
    expect(catalogue.rows.map((r) => r.partNumber)).toEqual(products);
    expect(catalogue.families.map((f) => f.code)).toEqual(["EPC"]);
    const both = await searchMaterials(database.db, { q: "LOGISTICS", sort: "partNumber", dir: "asc", page: 1, pageSize: 100 }, { at, sites: null });
    expect(both.total).toBe(0);
    expect((await dashboard(database.db, { at, sites: null })).materialCount).toBe(19);
    const form = await changeRequestFormOptions(database.db, null);
    expect(form.materials.map((m) => m.partNumber)).toEqual(products);
    expect(form.families.map((f) => f.code)).toEqual(["EPC"]);
    const catalog = await loadCatalog(database.db);
    expect(catalog.materials.has(LOGISTICS_UNIT_MATERIAL.partNumber)).toBe(false);
    expect(catalog.families.has(LOGISTICS_UNIT_MATERIAL.familyCode)).toBe(false);
  });
});

describe("the genealogy search reads EPC URNs, Digital Links and element strings", () => {
  let database: Database;
  let cookie: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedEpcisPlant(database);
    // openepcis AggregationEvent.json names its units by EPC URN: serials 2017 and 2018 of
    // urn:epc:id:sgtin:0614141.107346 (GTIN 10614141073464), lot 998877 of 04012345123456 and the
    // container urn:epc:id:sscc:0614141.1234567890 (SSCC 106141412345678908).
    expectOk(
      await importEpcisDocument(database.db, "test", {
        fileName: "AggregationEvent.json",
        siteCode: "EIN",
        source: fileSource(fixture("AggregationEvent.json")),
      }),
    );
    // Another material's serial 2017: a bare "2017" finds both, a GS1 key only its own.
    await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      values ('serial', '2017', (select id from materials where gtin = '04012345111118'), (select id from sites where code = 'EIN'), 1, 'EA', 'stock',
              '2024-02-02T00:00:00Z', 'seed')`;
    registerDatabase(Promise.resolve(database));
    await createUser(
      database.db,
      "test",
      { username: "val.viewer", displayName: "Val", password: VIEWER_PASSWORD, grants: [{ role: "viewer", site: null }], reason: "search route test" },
      "fixture",
    );
    const session = await signIn(database.db, { username: "val.viewer", password: VIEWER_PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    cookie = `${SESSION_COOKIE}=${session.sessionId}`;
  }, 60_000);

  /** (identifier, GTIN of its material) of the exact matches, read back by plain SQL. */
  const found = async (q: string) => {
    const result = await searchTraceItems(database.db, { q, sites: null });
    const ids = result.exact.map((r) => r.id);
    if (!ids.length) return [];
    const rows =
      await database.client`select t.identifier, coalesce(m.gtin, m.part_number) as material from trace_items t join materials m on m.id = t.material_id
      where t.id in ${database.client(ids)} order by t.identifier, material`;
    return rows.map((r) => `${r.identifier}@${r.material}`);
  };

  it("finds one imported serial by its URN, its Digital Link and its element string, and by its bare serial with its namesake", async () => {
    const serial = ["2017@10614141073464"];
    expect(await found("urn:epc:id:sgtin:0614141.107346.2017")).toEqual(serial);
    expect(await found("https://id.gs1.org/01/10614141073464/21/2017")).toEqual(serial);
    expect(await found("(01)10614141073464(21)2017")).toEqual(serial);
    expect(await found("2017")).toEqual(["2017@04012345111118", "2017@10614141073464"]);
  });

  it("finds lots, classes and containers by their GS1 forms; a key of another GTIN finds nothing", async () => {
    expect(await found("urn:epc:class:lgtin:4012345.012345.998877")).toEqual(["998877@04012345123456"]);
    expect(await found("https://id.gs1.org/01/04012345123456/10/998877")).toEqual(["998877@04012345123456"]);
    expect(await found("https://id.gs1.org/01/4012345123456/10/998877")).toEqual(["998877@04012345123456"]); // GTIN-13 in the link
    expect(await found("urn:epc:idpat:sgtin:4012345.098765.*")).toEqual(["(01)04012345987652@04012345987652"]);
    const container = [`106141412345678908@${LOGISTICS_UNIT_MATERIAL.partNumber}`];
    expect(await found("urn:epc:id:sscc:0614141.1234567890")).toEqual(container);
    expect(await found("(00)106141412345678908")).toEqual(container);
    expect(await found("https://id.gs1.org/00/106141412345678908")).toEqual(container);
    // Serial 2017 of GTIN 04012345111224 (no such item) and of a GTIN that is no material.
    expect(await found("(01)04012345111224(21)2017")).toEqual([]);
    expect(await found("urn:epc:id:sgtin:0614141.107340.2017")).toEqual([]);
  });

  it("the search route's loader says how it read the term and lists the match", async () => {
    const load = async (q: string) =>
      (await searchPage.loader({
        request: new Request(`http://127.0.0.1/genealogy?q=${encodeURIComponent(q)}`, { headers: new Headers({ Cookie: cookie }) }),
        params: {},
        context: {},
      } as LoaderFunctionArgs)) as Awaited<ReturnType<typeof searchPage.loader>>;
    const byUrn = await load("urn:epc:id:sgtin:0614141.107346.2017");
    expect(byUrn.result!.term).toEqual({
      text: "urn:epc:id:sgtin:0614141.107346.2017",
      form: "urn",
      keys: [{ level: "serial", gtin: "10614141073464", identifier: "2017" }],
      problem: null,
    });
    expect(byUrn.result!.exact.map((r) => [r.identifier, r.partNumber])).toEqual([["2017", "EPC-1018"]]);
    const broken = await load("(01)10614141073465(21)2017");
    expect(broken.result!.term).toMatchObject({ form: "element-string", keys: [], problem: expect.stringMatching(/check digit/i) });
    expect(broken.result!.exact).toEqual([]);
  });
});

/** The EPCIS plant (at EIN) and a second site, CLT, to import into. */
async function twoSitePlant(): Promise<Database> {
  const database = await createTestDatabase();
  await seedEpcisPlant(database);
  await database.client`insert into sites (code, name, time_zone) values ('CLT', 'Charlotte', 'America/New_York')`;
  return database;
}

describe("an error declaration changes only an event of the import's own site", () => {
  let database: Database;
  beforeAll(async () => {
    database = await twoSitePlant();
  }, 60_000);

  const event = {
    type: "ObjectEvent",
    action: "ADD",
    eventID: "urn:uuid:0b5e0c8e-6d2e-4b8a-9f1e-2c4d6e8f0a11",
    eventTime: "2020-05-01T08:00:00Z",
    eventTimeZoneOffset: "+00:00",
    epcList: [A("4001")],
  };
  const declared = { ...event, errorDeclaration: { declarationTime: "2020-06-01T00:00:00Z", reason: "incorrect_data" } };
  const status = async () =>
    (await database.client`select s.code, e.status::text as status from epcis_events e join sites s on s.id = e.site_id`).map((r) => ({ ...r }));

  it("a declaration imported into another site is refused, naming the event; nothing changes", async () => {
    expectOk(await importText(database, documentOf([event])));
    const result = await importEpcisDocument(database.db, "test", { fileName: "decl.json", siteCode: "CLT", source: source(documentOf([declared])) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({ eventIndex: 0, path: "/epcisBody/eventList/0/errorDeclaration", message: expect.stringContaining("held at another site") }),
    ]);
    expect(await status()).toEqual([{ code: "EIN", status: "applied" }]);
  });

  it("the same declaration imported into the event's site supersedes it", async () => {
    const result = await importText(database, documentOf([declared]));
    expectOk(result);
    expect(result.declared).toBe(1);
    expect(await status()).toEqual([{ code: "EIN", status: "superseded" }]);
  });
});

describe("an event C-981 holds is not applied again, and the import says why", () => {
  let database: Database;
  beforeAll(async () => {
    database = await twoSitePlant();
  }, 60_000);

  const event = {
    type: "ObjectEvent",
    action: "ADD",
    eventID: "urn:uuid:6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    eventTime: "2020-05-01T08:00:00Z",
    eventTimeZoneOffset: "+00:00",
    epcList: [A("4101")],
  };
  const counts = async () => {
    const [row] = await database.client`select
      (select count(*)::int from epcis_events) as events,
      (select count(*)::int from trace_items t join sites s on s.id = t.site_id where s.code = 'CLT') as clt_items`;
    return { ...row };
  };

  it("held at another site: unchanged, warned without naming the other site's document", async () => {
    const first = await importText(database, documentOf([event]));
    expectOk(first);
    const before = await counts();
    const result = await importEpcisDocument(database.db, "test", { fileName: "again.json", siteCode: "CLT", source: source(documentOf([event])) });
    expectOk(result);
    expect(result.unchanged).toBe(1);
    expect(result.warnings).toEqual([
      expect.objectContaining({ eventIndex: 0, path: "/epcisBody/eventList/0", message: expect.stringContaining("already held at another site") }),
    ]);
    expect(JSON.stringify(result.warnings)).not.toContain(first.fileDigest);
    expect(await counts()).toEqual(before);
  });

  it("declared erroneous earlier and sent again under another event id: stays superseded, warned", async () => {
    const declared = { ...event, errorDeclaration: { declarationTime: "2020-06-01T00:00:00Z", reason: "incorrect_data" } };
    expectOk(await importText(database, documentOf([declared])));
    const again = { ...event, eventID: "urn:uuid:0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a" };
    const result = await importText(database, documentOf([again]));
    expectOk(result);
    expect(result.unchanged).toBe(1);
    expect(result.warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining([expect.stringContaining("likely duplicate"), expect.stringContaining("stays superseded")]),
    );
    const [row] = await database.client`select count(*)::int as n from epcis_events where status = 'superseded'`;
    expect(row!.n).toBe(1);
  });
});
