/**
 * ADR 014, end to end on PostgreSQL: events for GTINs C-981 does not know are
 * quarantined by the EPCIS import (no material is created), and a change request that creates the
 * material — proposed, submitted, signed and released at a site through the services, as a user
 * would — releases them into the genealogy in the release's transaction.
 *
 * The document (test/fixtures/epcis-quarantine/quarantine-release.json, written for this test)
 * names the demo plant's EPC-1003 (GTIN 04012345111118, known) and two GTINs no material has:
 *   event 0  ObjectEvent: known serials K1001, K1002                         → applied at import
 *   event 1  AggregationEvent: U1 serials Q1001, Q1002 → SSCC …0429           → quarantined [U1]
 *   event 2  TransformationEvent: U1 lot QL42 (5 KGM) → known serial K1001    → quarantined [U1]
 *   event 3  TransformationEvent: U1 serial Q1003 + U2 serial Q2001 → K1002    → quarantined [U1, U2]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { exploreGenealogy, searchTraceItems } from "../../app/queries/genealogy.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import { currentDataPoint } from "../../app/queries/audit.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { quarantineList } from "../../app/queries/epcis-quarantine.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import { genealogyIndexOf, loadGenealogyIndex } from "../../app/services/genealogy-index.server";
import { canonicalGenealogy } from "../../app/domain/genealogy-graph";
import { computeImpactAnalysis } from "../../app/services/impact-analysis.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { signedInPerson } from "../setup/people";
import { importFootprint } from "../setup/epcis";
import { testKeyRing } from "../setup/keys";

/**
 * The release calls releaseQuarantine in its transaction; the spy records what each call returned,
 * so a failed release is known to have released the quarantine (then rolled back), not to have
 * stopped before it.
 */
const quarantineReleases = vi.hoisted(() => [] as { gtin: string; result: { released: number; stillQuarantined: number } }[]);
vi.mock("../../app/services/epcis-quarantine.server", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../app/services/epcis-quarantine.server")>();
  return {
    ...original,
    releaseQuarantine: async (...args: Parameters<typeof original.releaseQuarantine>) => {
      const result = await original.releaseQuarantine(...args);
      quarantineReleases.push({ gtin: args[1], result });
      return result;
    },
  };
});

const DOCUMENT = path.resolve(import.meta.dirname, "../fixtures/epcis-quarantine/quarantine-release.json");
const KNOWN = "04012345111118"; // EPC-1003 in the demo plant
const U1 = "04012345555554"; // urn:epc:id:sgtin:4012345.055555.*
const U2 = "04012345888881"; // urn:epc:id:sgtin:4012345.088888.*
const U3 = "04012345333305"; // urn:epc:id:sgtin:4012345.033330.*
const U4 = "04012345666601"; // urn:epc:id:sgtin:4012345.066660.*
const SSCC = "040123450000000429"; // urn:epc:id:sscc:4012345.0000000042
const EVENT = (n: number) => `urn:uuid:c9810010-0000-4000-8000-00000000000${n}`;
const PASSWORD = "north-wind-gauge-7319";
/** The demo plant's deliberate ERP/PLM disagreements remain at every site: a release needs a waiver. */
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";

let database: Database;
let keyRing: KeyRing;
let fileDigest: string;
/** The change request creating EPC-2001 with GTIN U1 (refused once, then released). */
let createsU1: string;
const people: Record<string, Signer> = {};

const person = (username: string, role: "engineer" | "quality_reviewer" | "release_manager") => signedInPerson(database, username, [role], PASSWORD);

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const crStatus = async (number: string) =>
  (await database.client`select status::text as status from change_requests where number = ${number}`)[0]!.status as string;
const importDocument = () =>
  importEpcisDocument(database.db, "e.engineer", { fileName: "quarantine-release.json", siteCode: "EIN", source: fileSource(DOCUMENT) });

function expectOk(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors, null, 2)}`);
}

/** A change request creating the material with this GTIN, serialized at EIN: proposed, submitted and signed by quality (medium risk, new material). */
const approvedNewMaterial = (partNumber: string, gtin: string) =>
  approved(`New material ${partNumber} (GTIN ${gtin}) at EIN`, [
    {
      kind: "new_material",
      partNumber,
      description: `Supplier item ${gtin}`,
      unitOfMeasure: "EA",
      family: "EPC",
      riskClass: "medium",
      regulatoryFlags: [],
      gtin,
    },
    {
      kind: "tracking",
      material: partNumber,
      sites: ["EIN"],
      trackingMode: "serial",
      containerTracking: true,
      identifierFormatCodes: ["GS1-SGTIN", "GS1-SSCC"],
      consumptionScan: "identify",
    },
  ]);

async function approved(title: string, changes: unknown[]): Promise<string> {
  const { number } = await createChangeRequest(database.db, people.emil!, {
    title,
    justification: "EPCIS genealogy from the supplier names this trade item; it is quarantined until the material exists.",
    riskAssessment: "Medium: a new material, serialized like the other EPCIS example items.",
    legacyDataPlan: "grandfather",
    changes,
  });
  await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
  expect(await crStatus(number)).toBe("in_review");
  const signed = await signChangeRequest(database.db, people.quinn!, number, {
    meaning: "approved",
    role: "quality_reviewer",
    username: people.quinn!.username,
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    ...(await reviewed(database.db, number)),
  });
  expect(signed).toMatchObject({ ok: true, status: "approved" });
  return number;
}

const release = (number: string, extra: { waiver?: string } = { waiver: WAIVER }) =>
  releaseChangeRequests(database.db, keyRing, people.remy!, {
    site: "EIN",
    changeRequests: [number],
    username: people.remy!.username,
    password: PASSWORD,
    ...extra,
  });

/** Everything of the quarantine and what it may write: must not move when a release fails. */
async function quarantineState() {
  return {
    footprint: await importFootprint(database),
    events: await database.client`select event_key, status::text as status, unknown_gtins, applied_at from epcis_events order by event_key`,
    list: [...(await quarantineList(database.db))],
    materials: (await database.client`select count(*)::int as n from materials`)[0]!.n as number,
    quarantineAudits: (await database.client`select count(*)::int as n from audit_trail where action = 'epcis.quarantine_release'`)[0]!.n as number,
  };
}

/** An EPCIS 2.0 document of these events, as bytes. */
const documentOf = (events: Record<string, unknown>[]) =>
  Buffer.from(
    JSON.stringify({
      "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: "2024-04-01T12:00:00Z",
      epcisBody: { eventList: events },
    }),
  );
const observe = (eventID: string, epcs: string[]) => ({
  eventID,
  type: "ObjectEvent",
  eventTime: "2024-04-01T08:00:00Z",
  eventTimeZoneOffset: "+01:00",
  action: "OBSERVE",
  epcList: epcs,
});
const importBytes = (fileName: string, bytes: Buffer) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "c981-quarantine-")), fileName);
  fs.writeFileSync(file, bytes);
  return importEpcisDocument(database.db, "e.engineer", { fileName, siteCode: "EIN", source: fileSource(file) });
};

const itemId = async (identifier: string) => Number((await database.client`select id from trace_items where identifier = ${identifier}`)[0]!.id);

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await person("e.engineer", "engineer");
  people.quinn = await person("q.quality", "quality_reviewer");
  people.remy = await person("r.release", "release_manager");
}, 120_000);

describe("EPCIS quarantine released by a change request", () => {
  it("the import applies events of known GTINs and quarantines the others, creating no material", async () => {
    const unknownMaterials = await database.client`select count(*)::int as n from materials where gtin in (${U1}, ${U2}, ${U3}, ${U4})`;
    expect(unknownMaterials[0]!.n).toBe(0);
    const materialsBefore = (await database.client`select count(*)::int as n from materials`)[0]!.n;
    const before = await importFootprint(database);

    const result = await importDocument();
    expectOk(result);
    fileDigest = result.fileDigest;
    expect(result).toMatchObject({ events: 4, applied: 1, quarantined: 3, itemsCreated: 2, edgesCreated: 0, unknownGtins: [U1, U2] });

    const events = await database.client`select event_key, status::text as status, unknown_gtins, file_digest from epcis_events order by event_key`;
    expect(events).toEqual([
      { event_key: EVENT(0), status: "applied", unknown_gtins: [], file_digest: fileDigest },
      { event_key: EVENT(1), status: "quarantined", unknown_gtins: [U1], file_digest: fileDigest },
      { event_key: EVENT(2), status: "quarantined", unknown_gtins: [U1], file_digest: fileDigest },
      { event_key: EVENT(3), status: "quarantined", unknown_gtins: [U1, U2], file_digest: fileDigest },
    ]);
    expect(await quarantineList(database.db)).toEqual([
      { gtin: U1, events: 3, first_file: fileDigest },
      { gtin: U2, events: 1, first_file: fileDigest },
    ]);
    expect((await database.client`select count(*)::int as n from materials`)[0]!.n).toBe(materialsBefore);
    expect(await importFootprint(database)).toMatchObject({ items: before.items + 2, edges: before.edges, quarantined: 3 });

    // Only the known GTIN's items exist; the explorer finds nothing of the unknown GTINs.
    const imported = await database.client`select t.identifier, t.kind::text as kind, m.gtin from trace_items t join materials m on m.id = t.material_id
      where t.provenance_file_digest = ${fileDigest} order by t.identifier`;
    expect(imported).toEqual([
      { identifier: "K1001", kind: "serial", gtin: KNOWN },
      { identifier: "K1002", kind: "serial", gtin: KNOWN },
    ]);
    for (const q of ["Q1001", "Q1002", "Q1003", "QL42", "Q2001", SSCC]) {
      const found = await searchTraceItems(database.db, { q, sites: null });
      expect(found.exact, q).toEqual([]);
    }
    // The known serial traces alone: the quarantined transformation into it is not in the genealogy.
    const k1001 = await exploreGenealogy(database.db, { itemId: await itemId("K1001"), sites: null });
    expect(k1001!.backward.nodes.map((n) => n.identifier)).toEqual(["K1001"]);
  });

  it("a failed (refused) release changes nothing of the quarantine: the material, its events and the genealogy stay as they were", async () => {
    const number = (createsU1 = await approvedNewMaterial("EPC-2001", U1));
    const state = await quarantineState();
    const point = await currentDataPoint(database.db);

    // Refused inside the release's transaction, after the material was created and the quarantine
    // released: the demo plant's ERP/PLM disagreements need a waiver.
    quarantineReleases.length = 0;
    const refused = await release(number, {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).status).toBe(409);
    expect((refused as DomainError).message).toMatch(/waiver/);
    expect(await quarantineState()).toEqual(state);
    expect(await database.client`select count(*)::int as n from materials where part_number = 'EPC-2001' or gtin = ${U1}`).toEqual([{ n: 0 }]);
    const audits = await database.client`select action from audit_trail where seq > ${point} order by seq`;
    expect(audits.map((a) => a.action)).toEqual(["rule_set.release_failed"]);
    expect(await crStatus(number)).toBe("approved");
    // The refusal came after the quarantine was released in the transaction: it was rolled back with it.
    expect(quarantineReleases).toEqual([{ gtin: U1, result: { released: 2, stillQuarantined: 1 } }]);

    // Failing later still (signing the version without a private key): the same.
    const keyless = { ...keyRing, active: [], missing: keyRing.active.map((k) => k.kid) };
    await expect(
      releaseChangeRequests(database.db, keyless, people.remy!, {
        site: "EIN",
        changeRequests: [number],
        username: people.remy!.username,
        password: PASSWORD,
        waiver: WAIVER,
      }),
    ).rejects.toThrow(/lacks the private key/);
    expect(quarantineReleases).toHaveLength(2);
    expect(await quarantineState()).toEqual(state);
    expect(await crStatus(number)).toBe("approved");
  });

  it("releasing the change request that creates the material applies its quarantined events, in the release's transaction", async () => {
    const number = createsU1;
    const index = genealogyIndexOf(database.client);
    const indexBefore = await index.refresh();
    const before = await importFootprint(database);
    const point = await currentDataPoint(database.db);

    const result = await release(number);
    expect(result).toMatchObject({ ok: true, site: "EIN", released: [{ number, status: "released" }] });
    const [material] = await database.client`select id, part_number, gtin from materials where gtin = ${U1}`;
    expect(material).toMatchObject({ part_number: "EPC-2001", gtin: U1 });

    // Events 1 and 2 are applied; event 3 still waits for U2, and now only for U2.
    const events =
      await database.client`select event_key, status::text as status, unknown_gtins, applied_at is not null as applied from epcis_events order by event_key`;
    expect(events).toEqual([
      { event_key: EVENT(0), status: "applied", unknown_gtins: [], applied: true },
      { event_key: EVENT(1), status: "applied", unknown_gtins: [], applied: true },
      { event_key: EVENT(2), status: "applied", unknown_gtins: [], applied: true },
      { event_key: EVENT(3), status: "quarantined", unknown_gtins: [U2], applied: false },
    ]);
    expect(await quarantineList(database.db)).toEqual([{ gtin: U2, events: 1, first_file: fileDigest }]);

    // Items and edges with provenance (the imported file's digest and the event) at their precision.
    const items = await database.client`select t.identifier, t.kind::text as kind, t.quantity::float8 as quantity, t.unit, m.gtin, s.code as site,
        t.provenance_kind::text as provenance_kind, t.provenance_file_digest as digest, t.provenance_event_id as event
      from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where t.provenance_file_digest = ${fileDigest} order by t.identifier`;
    const provenance = (event: number) => ({ provenance_kind: "import", digest: fileDigest, event: EVENT(event), site: "EIN" });
    // The container holds EPC-2001 units but is a logistics unit: no GTIN, not EPC-2001 (ADR 014;
    // until then it took the GTIN of the first unit it held).
    expect(items).toEqual([
      { identifier: SSCC, kind: "container", quantity: 1, unit: "EA", gtin: null, ...provenance(1) },
      { identifier: "K1001", kind: "serial", quantity: 1, unit: "EA", gtin: KNOWN, ...provenance(0) },
      { identifier: "K1002", kind: "serial", quantity: 1, unit: "EA", gtin: KNOWN, ...provenance(0) },
      { identifier: "Q1001", kind: "serial", quantity: 1, unit: "EA", gtin: U1, ...provenance(1) },
      { identifier: "Q1002", kind: "serial", quantity: 1, unit: "EA", gtin: U1, ...provenance(1) },
      { identifier: "QL42", kind: "lot", quantity: 5, unit: "KGM", gtin: U1, ...provenance(2) },
    ]);
    const edges = await database.client`select i.identifier as input, o.identifier as output, e.kind::text as kind, e.quantity::float8 as quantity, e.unit,
        e.event_ref, e.provenance_kind::text as provenance_kind, e.provenance_file_digest as digest, e.provenance_event_id as event,
        to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as occurred_at, e.superseded_at
      from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
      where e.provenance_file_digest = ${fileDigest} order by e.event_ref, i.identifier`;
    const edge = (n: number) => ({ event_ref: EVENT(n), provenance_kind: "import", digest: fileDigest, event: EVENT(n), superseded_at: null });
    expect(edges).toEqual([
      { input: "Q1001", output: SSCC, kind: "aggregate", quantity: 1, unit: "EA", occurred_at: "2024-03-01T09:00:00Z", ...edge(1) },
      { input: "Q1002", output: SSCC, kind: "aggregate", quantity: 1, unit: "EA", occurred_at: "2024-03-01T09:00:00Z", ...edge(1) },
      { input: "QL42", output: "K1001", kind: "consume", quantity: 5, unit: "KGM", occurred_at: "2024-03-01T10:00:00Z", ...edge(2) },
    ]);
    expect(await importFootprint(database)).toMatchObject({ items: before.items + 4, edges: before.edges + 3, quarantined: 1 });

    // The explorer: a serial traces into its container at unit precision; the known serial is made of a lot (class level).
    const q1001 = await exploreGenealogy(database.db, { itemId: await itemId("Q1001"), sites: null });
    expect(q1001!.forward.nodes.map((n) => [n.identifier, n.kind, n.partNumber, n.precision])).toEqual([
      ["Q1001", "serial", "EPC-2001", "unit"],
      [SSCC, "container", "C981-LOGISTICS-UNIT", "unit"],
    ]);
    const k1001 = await exploreGenealogy(database.db, { itemId: await itemId("K1001"), sites: null });
    expect(k1001!.backward.nodes.map((n) => [n.identifier, n.kind, n.precision, n.via?.eventRef ?? null])).toEqual([
      ["K1001", "serial", "unit", null],
      ["QL42", "lot", "lot", EVENT(2)],
    ]);
    expect((await searchTraceItems(database.db, { q: "QL42", sites: null })).exact).toEqual([
      expect.objectContaining({ identifier: "QL42", kind: "lot", partNumber: "EPC-2001", siteCode: "EIN" }),
    ]);
    // The unit in the still-quarantined event is not in the genealogy.
    expect((await searchTraceItems(database.db, { q: "Q1003", sites: null })).exact).toEqual([]);

    // The audit trail: the material, the quarantine release and the release, in one transaction's rows, by the release manager.
    const audits = await database.client`select action, entity_id, actor, after from audit_trail where seq > ${point} order by seq`;
    expect(audits.map((a) => a.action)).toEqual([
      "material.create",
      "epcis.quarantine_release",
      "rule_set_version.create",
      "change_request.release_site",
      "rule_set.release",
    ]);
    const quarantineAudit = audits.find((a) => a.action === "epcis.quarantine_release")!;
    expect(quarantineAudit).toMatchObject({
      entity_id: U1,
      actor: people.remy!.username,
      after: { released: 2, stillQuarantined: 1, itemsCreated: 4, edgesCreated: 3 },
    });
    expect(audits.find((a) => a.action === "material.create")).toMatchObject({ entity_id: "EPC-2001", after: expect.objectContaining({ gtin: U1 }) });
    expect(audits.find((a) => a.action === "rule_set.release")).toMatchObject({
      actor: people.remy!.username,
      after: expect.objectContaining({ changeRequests: [number] }),
    });
    expect(audits.find((a) => a.action === "change_request.release_site")).toMatchObject({ entity_id: number });
    expect(audits.findIndex((a) => a.action === "material.create")).toBeLessThan(audits.findIndex((a) => a.action === "epcis.quarantine_release"));
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();

    // The genealogy index (impact analysis, traces) sees the released items and edges.
    const indexAfter = await index.refresh();
    expect(indexAfter.changes).toBeGreaterThan(indexBefore.changes);
    expect(indexAfter.items).toBe(indexBefore.items + 4);
    expect(indexAfter.edges).toBe(indexBefore.edges + 3);
    for (const identifier of [SSCC, "Q1001", "Q1002", "QL42"]) expect(indexAfter.graph.has(await itemId(identifier)), identifier).toBe(true);
    // ADR 044: followed by the change log, not rebuilt — and the same as a rebuild.
    expect(indexAfter.caughtUp).toBeDefined();
    expect(canonicalGenealogy(indexAfter.graph)).toBe(canonicalGenealogy((await loadGenealogyIndex(database.client)).graph));

    // Importing the document again changes nothing (the released events are held, applied).
    const footprint = await importFootprint(database);
    const again = await importDocument();
    expectOk(again);
    expect(again.unchangedDocument).toBe(true);
    expect(await importFootprint(database)).toEqual(footprint);
  });

  it("an impact analysis of the new material counts the released items from the genealogy index", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      title: "Lot-track EPC-2001 at EIN",
      justification: "Check what lot tracking would do to the released EPCIS genealogy.",
      riskAssessment: "Downgrade, analysed only (never submitted in this test).",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "EPC-2001",
          sites: ["EIN"],
          trackingMode: "lot",
          containerTracking: true,
          identifierFormatCodes: ["GS1-LGTIN", "GS1-SSCC"],
          consumptionScan: "identify",
        },
      ],
    });
    const { report } = await computeImpactAnalysis(database.db, number, { genealogy: "index" });
    const items = report.changes[0]!.findings.find((f) => f.code === "ITEMS_BY_STATUS")!;
    // The material's own items: its two serials and its lot. The container they are packed in is
    // no item of EPC-2001 (it was counted as one while containers took their first unit's material,
    // ADR 014); it is reached through the units' edges.
    expect(items.count).toBe(3);
    expect(items.counts).toMatchObject({ stock: 3, "kind:serial": 2, "kind:lot": 1 });
    expect(items.counts).not.toHaveProperty("kind:container");
  });

  it("the event naming two unknown GTINs is released when the second material is created", async () => {
    const number = await approvedNewMaterial("EPC-2002", U2);
    const before = await importFootprint(database);
    expect(await release(number)).toMatchObject({ ok: true, released: [{ number, status: "released" }] });
    const [event] = await database.client`select status::text as status, unknown_gtins from epcis_events where event_key = ${EVENT(3)}`;
    expect(event).toEqual({ status: "applied", unknown_gtins: [] });
    expect(await quarantineList(database.db)).toEqual([]);
    const edges = await database.client`select i.identifier as input, o.identifier as output, e.kind::text as kind, e.provenance_event_id as event
      from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
      where e.event_ref = ${EVENT(3)} order by i.identifier`;
    expect(edges).toEqual([
      { input: "Q1003", output: "K1002", kind: "consume", event: EVENT(3) },
      { input: "Q2001", output: "K1002", kind: "consume", event: EVENT(3) },
    ]);
    expect(await importFootprint(database)).toMatchObject({ items: before.items + 2, edges: before.edges + 2, quarantined: 0 });
    const [audit] = await database.client`select actor, after from audit_trail where action = 'epcis.quarantine_release' and entity_id = ${U2}`;
    expect(audit).toMatchObject({ actor: people.remy!.username, after: { released: 1, stillQuarantined: 0, itemsCreated: 2, edgesCreated: 2 } });
  });

  it("an import in flight while the material is released: its events are released too, never left in quarantine", async () => {
    const number = await approvedNewMaterial("EPC-2003", U3);
    const bytes = documentOf([observe("urn:uuid:c9810010-0000-4000-8000-000000000010", ["urn:epc:id:sgtin:4012345.033330.R1"])]);
    // The import reads the bytes twice (digest, then the streamed parse); the parse stops half-way
    // until the gate opens: its transaction is open and it has read the materials (U3 unknown).
    let reads = 0;
    let paused!: () => void;
    const atGate = new Promise<void>((resolve) => (paused = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const source = async function* () {
      if (++reads === 1) {
        yield bytes;
        return;
      }
      yield bytes.subarray(0, 40);
      paused();
      await gate;
      yield bytes.subarray(40);
    };
    const importing = importEpcisDocument(database.db, "e.engineer", { fileName: "in-flight.json", siteCode: "EIN", source });
    await atGate;

    const releasing = release(number);
    // Let the release run until it is done or waits for the import.
    const waiting = async () =>
      Number(
        (
          await database.client`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
        where d.datname = current_database() and l.locktype = 'advisory' and not l.granted`
        )[0]!.n,
      ) > 0;
    let settled = false;
    void releasing.finally(() => (settled = true)).catch(() => {});
    let waited = false;
    for (let i = 0; i < 100 && !settled && !(waited = await waiting()); i++) await new Promise((r) => setTimeout(r, 20));
    const releasedBeforeTheImport = settled;
    openGate();
    const imported = await importing;
    expectOk(imported);
    expect(await releasing).toMatchObject({ ok: true, released: [{ number, status: "released" }] });
    // The release waited for the import (the EPCIS import lock), then released what it quarantined.
    expect({ releasedBeforeTheImport, waited }).toEqual({ releasedBeforeTheImport: false, waited: true });

    const [event] =
      await database.client`select status::text as status, unknown_gtins from epcis_events where event_key = 'urn:uuid:c9810010-0000-4000-8000-000000000010'`;
    expect(event).toEqual({ status: "applied", unknown_gtins: [] });
    expect((await quarantineList(database.db)).map((q) => q.gtin)).not.toContain(U3);
    expect(
      await database.client`select t.kind::text as kind, m.part_number from trace_items t join materials m on m.id = t.material_id where t.identifier = 'R1'`,
    ).toEqual([{ kind: "serial", part_number: "EPC-2003" }]);
  });

  it("a released change request that gives an existing material its GTIN releases the events waiting for it", async () => {
    const imported = await importBytes(
      "gtin-later.json",
      documentOf([observe("urn:uuid:c9810010-0000-4000-8000-000000000020", ["urn:epc:id:sgtin:4012345.066660.A1", "urn:epc:id:sgtin:4012345.011111.K1001"])]),
    );
    expectOk(imported);
    expect(imported).toMatchObject({ quarantined: 1, unknownGtins: [U4] });
    const waitingFor = async (gtin: string) => (await quarantineList(database.db)).filter((q) => q.gtin === gtin);
    expect(await waitingFor(U4)).toEqual([expect.objectContaining({ gtin: U4, events: 1 })]);
    // A demo material without a GTIN, of low or medium risk and unregulated (the quality reviewer approves alone).
    const [target] = await database.client`select m.part_number from materials m where m.gtin is null and m.risk_class <> 'high' and m.regulatory_flags = '{}'
      and not exists (select 1 from change_request_targets t where t.material_id = m.id) order by m.part_number limit 1`;
    const partNumber = target!.part_number as string;
    const number = await approved(`Give ${partNumber} its GTIN ${U4}`, [{ kind: "attributes", material: partNumber, gtin: U4 }]);
    expect(await release(number)).toMatchObject({ ok: true, released: [{ number }] });
    expect(await waitingFor(U4)).toEqual([]);
    const [event] = await database.client`select status::text as status from epcis_events where event_key = 'urn:uuid:c9810010-0000-4000-8000-000000000020'`;
    expect(event!.status).toBe("applied");
    expect(
      await database.client`select t.kind::text as kind, m.part_number from trace_items t join materials m on m.id = t.material_id where t.identifier = 'A1'`,
    ).toEqual([{ kind: "serial", part_number: partNumber }]);
    const [audit] = await database.client`select after from audit_trail where action = 'epcis.quarantine_release' and entity_id = ${U4}`;
    expect(audit!.after).toMatchObject({ released: 1, stillQuarantined: 0, itemsCreated: 1 });
  });
});
