/**
 * The EPCIS import history and an import's record (ADR 033), against PostgreSQL. The oracle is the
 * fixture counted by hand — test/fixtures/epcis-quarantine/quarantine-release.json has 4 events:
 * event 0 commissions K1001 and K1002 of GTIN 04012345111118 (a material: applied, 2 serial items,
 * no edge); events 1–3 name GTINs 04012345555554 and 04012345888881, which are no materials
 * (quarantined) — and plain SQL over the audit trail, trace items and events.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  documentFootprint,
  epcisImportAttempt,
  epcisImportHistory,
  itemsCreatedByDocument,
  latestEpcisAttemptOf,
} from "../../app/queries/epcis-imports.server";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import { createTestDatabase } from "../setup/database";
import { fixture, seedEpcisPlant } from "../setup/epcis";

const QUARANTINE_DOCUMENT = path.resolve(import.meta.dirname, "../fixtures/epcis-quarantine/quarantine-release.json");
const REFUSED_DOCUMENT = path.resolve(import.meta.dirname, "../fixtures/epcis-screen/refused-bad-action.json");
const U1 = "04012345555554";
const U2 = "04012345888881";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let ein: number;
let clt: number;
let imported: Extract<EpcisImportResult, { ok: true }>;
let refused: Extract<EpcisImportResult, { ok: false }>;
let cltImport: Extract<EpcisImportResult, { ok: true }>;

const importInto = (site: string, file: string, actor: string) =>
  importEpcisDocument(database.db, actor, { fileName: path.basename(file), siteCode: site, source: fileSource(file) });

beforeAll(async () => {
  database = await createTestDatabase();
  await seedEpcisPlant(database);
  await database.client`insert into sites (code, name, time_zone) values ('CLT', 'Charlotte', 'America/New_York')`;
  const rows = await database.client`select id, code from sites`;
  ein = Number(rows.find((r) => r.code === "EIN")!.id);
  clt = Number(rows.find((r) => r.code === "CLT")!.id);

  const first = await importInto("EIN", QUARANTINE_DOCUMENT, "e.engineer");
  if (!first.ok) throw new Error(JSON.stringify(first.errors));
  imported = first;
  const second = await importInto("EIN", REFUSED_DOCUMENT, "e.engineer");
  if (second.ok) throw new Error("the document with action JUMP was imported");
  refused = second;
  const third = await importInto("CLT", fixture("ObjectEvent.json"), "c.engineer");
  if (!third.ok) throw new Error(JSON.stringify(third.errors));
  cltImport = third;
});

describe("import history", () => {
  it("lists every attempt at the visible sites, refused ones included, newest first, as the audit trail counts them", async () => {
    const [oracle] = await database.client`select
      count(*) filter (where after->>'site' = 'EIN')::int as ein,
      count(*)::int as all_sites
      from audit_trail where action in ('epcis.import', 'epcis.import_refused')`;
    expect(oracle).toEqual({ ein: 2, all_sites: 3 });

    const all = await epcisImportHistory(database.db, { sites: null, page: 1 });
    expect(all.total).toBe(3);
    expect(all.attempts.map((a) => [a.fileName, a.site, a.outcome, a.actor])).toEqual([
      ["ObjectEvent.json", "CLT", "imported", "c.engineer"],
      ["refused-bad-action.json", "EIN", "refused", "e.engineer"],
      ["quarantine-release.json", "EIN", "imported", "e.engineer"],
    ]);

    const einOnly = await epcisImportHistory(database.db, { sites: [ein], page: 1 });
    expect(einOnly.total).toBe(2);
    expect(einOnly.attempts.map((a) => a.fileName)).toEqual(["refused-bad-action.json", "quarantine-release.json"]);
    const cltOnly = await epcisImportHistory(database.db, { sites: [clt], page: 1 });
    expect(cltOnly.attempts.map((a) => a.fileDigest)).toEqual([cltImport.fileDigest]);
  });

  it("shows a successful import's result as counted by hand, with the digest and time the audit row recorded", async () => {
    const { attempts } = await epcisImportHistory(database.db, { sites: [ein], page: 1 });
    const row = attempts.find((a) => a.outcome === "imported")!;
    expect(row).toMatchObject({ events: 4, applied: 1, quarantined: 3, itemsCreated: 2, edgesCreated: 0, unknownGtins: [U1, U2] });
    const [audit] =
      await database.client`select seq::int as seq, entity_id, recorded_at from audit_trail where action = 'epcis.import' and after->>'site' = 'EIN'`;
    expect(row.id).toBe(audit!.seq);
    expect(row.fileDigest).toBe(audit!.entity_id);
    expect(row.fileDigest).toBe(imported.fileDigest);
    expect(row.at.toISOString()).toBe(new Date(audit!.recorded_at as string).toISOString());
    // The digest is the file's SHA-256, computed here independently.
    expect(row.fileDigest).toBe(createHash("sha256").update(fs.readFileSync(QUARANTINE_DOCUMENT)).digest("hex"));
  });

  it("shows a refused attempt with its error count and located errors, and nothing of it stored", async () => {
    const { attempts } = await epcisImportHistory(database.db, { sites: [ein], page: 1 });
    const row = attempts.find((a) => a.outcome === "refused")!;
    expect(row.fileDigest).toBe(refused.fileDigest);
    expect(row.errorCount).toBe(refused.errorCount);
    expect(row.errorCount).toBeGreaterThanOrEqual(1);
    // Event 1 says action "JUMP": the error is located at its action, and event 0 (valid) is not stored either.
    expect(row.errors.some((e) => e.eventIndex === 1 && e.path === "/epcisBody/eventList/1/action")).toBe(true);
    expect(row.events).toBeNull();
    const [stored] = await database.client`select
      (select count(*)::int from epcis_events where file_digest = ${refused.fileDigest}) as events,
      (select count(*)::int from trace_items where provenance_file_digest = ${refused.fileDigest}) as items`;
    expect(stored).toEqual({ events: 0, items: 0 });
  });

  it("pages newest first and keeps a page past the last on the last", async () => {
    const first = await epcisImportHistory(database.db, { sites: null, page: 1, pageSize: 2 });
    const second = await epcisImportHistory(database.db, { sites: null, page: 2, pageSize: 2 });
    const beyond = await epcisImportHistory(database.db, { sites: null, page: 9, pageSize: 2 });
    expect([first.pageCount, first.attempts.length, second.attempts.length]).toEqual([2, 2, 1]);
    const seqs = (
      await database.client`select seq::int as seq from audit_trail where action in ('epcis.import', 'epcis.import_refused') order by seq desc`
    ).map((r) => r.seq as number);
    expect([...first.attempts, ...second.attempts].map((a) => a.id)).toEqual(seqs);
    expect(beyond.page).toBe(2);
    expect(beyond.attempts.map((a) => a.id)).toEqual(second.attempts.map((a) => a.id));
  });
});

describe("an import's record", () => {
  it("is found by its id at a visible site only (another site's is not found)", async () => {
    const id = (await latestEpcisAttemptOf(database.db, imported.fileDigest, "imported"))!;
    expect(await epcisImportAttempt(database.db, { id, sites: [ein] })).toMatchObject({ fileName: "quarantine-release.json", outcome: "imported" });
    expect(await epcisImportAttempt(database.db, { id, sites: [clt] })).toBeNull();
    expect(await epcisImportAttempt(database.db, { id: 999_999, sites: null })).toBeNull();
    // An audit row that is no EPCIS attempt is not a record either.
    const [other] = await database.client`select min(seq)::int as seq from audit_trail where action not in ('epcis.import', 'epcis.import_refused')`;
    if (other?.seq != null) expect(await epcisImportAttempt(database.db, { id: other.seq as number, sites: null })).toBeNull();
    const refusedId = (await latestEpcisAttemptOf(database.db, refused.fileDigest, "refused"))!;
    expect((await epcisImportAttempt(database.db, { id: refusedId, sites: null }))!.outcome).toBe("refused");
    expect(await latestEpcisAttemptOf(database.db, refused.fileDigest, "imported")).toBeNull();
  });

  it("lists the items the document created, capped, with their total, as plain SQL finds them", async () => {
    const oracle = await database.client`select t.id::int as id, t.identifier from trace_items t
      where t.provenance_file_digest = ${imported.fileDigest} and t.site_id = ${ein} order by t.id`;
    expect(oracle.map((r) => r.identifier)).toEqual(["K1001", "K1002"]);
    const all = await itemsCreatedByDocument(database.db, { fileDigest: imported.fileDigest, siteCode: "EIN", limit: 10 });
    expect(all.total).toBe(2);
    expect(all.items.map((i) => [i.id, i.identifier, i.kind, i.siteCode])).toEqual(oracle.map((r) => [r.id, r.identifier, "serial", "EIN"]));
    const capped = await itemsCreatedByDocument(database.db, { fileDigest: imported.fileDigest, siteCode: "EIN", limit: 1 });
    expect([capped.items.length, capped.total]).toEqual([1, 2]);
    // Not at another site.
    expect((await itemsCreatedByDocument(database.db, { fileDigest: imported.fileDigest, siteCode: "CLT", limit: 10 })).total).toBe(0);
  });

  it("says what the document's events are now: 1 applied, 3 quarantined waiting for two GTINs, no edge", async () => {
    const footprint = await documentFootprint(database.db, { fileDigest: imported.fileDigest, siteCode: "EIN" });
    expect(footprint).toEqual({ applied: 1, quarantined: 3, superseded: 0, edges: 0, waitingGtins: [U1, U2] });
    const [oracle] =
      await database.client`select count(*) filter (where status = 'applied')::int as applied, count(*) filter (where status = 'quarantined')::int as quarantined
      from epcis_events where file_digest = ${imported.fileDigest}`;
    expect(oracle).toEqual({ applied: footprint.applied, quarantined: footprint.quarantined });
  });
});
