/**
 * EPCIS plausibility against PostgreSQL (ADR 024): genealogy cycles within a document, with the
 * stored genealogy, through aggregation and through a quarantine release are refused with nothing
 * written but the refusal's audit row; future times are refused unless the skew allows them; an
 * item transformed into itself is rework only after a repair; the CLI exits 65 on a refusal.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { importEpcisDocument, type EpcisImportResult } from "../../app/services/epcis-import.server";
import { releaseQuarantineNow } from "../../app/services/epcis-quarantine.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import type { Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { importCommands } from "../../scripts/cli/imports";
import { createTestDatabase } from "../setup/database";
import { importFootprint, seedEpcisPlant } from "../setup/epcis";

/** Serial items of GTIN 04012345111118 (a seeded material): `(01)04012345111118(21)X`. */
const sgtin = (serial: string) => `urn:epc:id:sgtin:4012345.011111.${serial}`;
const label = (serial: string) => `(01)04012345111118(21)${serial}`;
const sscc = (n: number) => `urn:epc:id:sscc:4012345.${String(n).padStart(10, "0")}`;
/** SSCC-18 of sscc(n): extension 0, prefix, serial reference, check digit. */
const ssccLabel = (n: number) => {
  const body = `04012345${String(n).padStart(9, "0")}`;
  const sum = [...body].reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 3 : 1), 0);
  return `SSCC ${body}${(10 - (sum % 10)) % 10}`;
};
/** A GTIN left out of the seeded materials (quarantine): 04012345222227, lots of 4012345.022222. */
const UNKNOWN_GTIN = "04012345222227";

let database: Database;
let serial = 0;
beforeEach(async () => {
  database = await createTestDatabase();
  await seedEpcisPlant(database, { except: [UNKNOWN_GTIN] });
});

const when = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
const transform = (inputs: string[], outputs: string[], extra: Record<string, unknown> = {}) => ({
  type: "TransformationEvent",
  eventTime: when(serial++),
  eventTimeZoneOffset: "+00:00",
  inputEPCList: inputs,
  outputEPCList: outputs,
  ...extra,
});
const aggregate = (parent: string, children: string[]) => ({
  type: "AggregationEvent",
  eventTime: when(serial++),
  eventTimeZoneOffset: "+00:00",
  action: "ADD",
  parentID: parent,
  childEPCs: children,
});

function documentFile(events: object[], header: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-epcis-plausible-"));
  const file = path.join(dir, "doc.json");
  fs.writeFileSync(
    file,
    JSON.stringify({
      "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: "2026-01-01T00:00:00Z",
      ...header,
      epcisBody: { eventList: events },
    }),
  );
  return file;
}

const importEvents = (events: object[], options: { clockSkewSeconds?: number; header?: Record<string, unknown> } = {}) =>
  importEpcisDocument(database.db, "test", {
    fileName: "doc.json",
    siteCode: "EIN",
    source: fileSource(documentFile(events, options.header)),
    clockSkewSeconds: options.clockSkewSeconds,
  });

function expectRefused(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: false }> {
  if (result.ok) throw new Error(`imported, expected a refusal: ${JSON.stringify(result)}`);
}
function expectOk(result: EpcisImportResult): asserts result is Extract<EpcisImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors, null, 2)}`);
}

const refusals = async (digest: string) =>
  (await database.client`select count(*)::int as n from audit_trail where action = 'epcis.import_refused' and entity_id = ${digest}`)[0]!.n as number;

describe("genealogy cycles are refused, nothing written (ADR 024)", () => {
  it("a cycle within the document: A → B, B → C, C → A, located at its first event and naming every step", async () => {
    const before = await importFootprint(database);
    const result = await importEvents([transform([sgtin("A")], [sgtin("B")]), transform([sgtin("B")], [sgtin("C")]), transform([sgtin("C")], [sgtin("A")])]);
    expectRefused(result);
    expect(result.errorCount).toBe(1);
    expect(result.errors).toEqual([
      {
        eventIndex: 0,
        path: "/epcisBody/eventList/0",
        message: `genealogy cycle: ${label("A")} →(event 0) ${label("B")} →(event 1) ${label("C")} →(event 2) ${label("A")}; material would flow back into its own source, and a recall over a cycle is undefined (ADR 024)`,
      },
    ]);
    expect(await importFootprint(database)).toEqual(before);
    expect(await refusals(result.fileDigest)).toBe(1);
  });

  it("a cycle with the stored genealogy: held A → B, the document adds B → C and C → A", async () => {
    const first = await importEvents([transform([sgtin("A")], [sgtin("B")])]);
    expectOk(first);
    const before = await importFootprint(database);
    expect(before).toMatchObject({ items: 2, edges: 1, events: 1 });
    const result = await importEvents([transform([sgtin("B")], [sgtin("C")]), transform([sgtin("C")], [sgtin("A")])]);
    expectRefused(result);
    expect(result.errors).toEqual([
      expect.objectContaining({
        eventIndex: 0,
        path: "/epcisBody/eventList/0",
        message: expect.stringContaining(
          `${label("B")} →(event 0) ${label("C")} →(event 1) ${label("A")} →(event 0 of the document with SHA-256 ${first.fileDigest}) ${label("B")};`,
        ),
      }),
    ]);
    expect(await importFootprint(database)).toEqual(before);
    expect(await refusals(result.fileDigest)).toBe(1);
    const [refusal] = await database.client`select after from audit_trail where action = 'epcis.import_refused'`;
    expect(JSON.stringify(refusal!.after)).toContain("genealogy cycle");
  });

  it("a cycle through a stored edge that no import wrote is named by its edge", async () => {
    const first = await importEvents([transform([sgtin("A")], [sgtin("B")])]);
    expectOk(first);
    // Hand-recorded flow B → C at the same site (provenance api).
    await database.client`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      select 'serial', 'C', material_id, site_id, 1, 'EA', 'stock', now(), 'api' from trace_items where identifier = 'B'`;
    const [edge] =
      await database.client`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
      select 'WO-7', 'consume', b.id, c.id, 1, 'EA', b.site_id, now(), 'api' from trace_items b, trace_items c where b.identifier = 'B' and c.identifier = 'C'
      returning id`;
    const before = await importFootprint(database);
    const result = await importEvents([transform([sgtin("C")], [sgtin("A")])]);
    expectRefused(result);
    expect(result.errors[0]!.message).toContain(
      `${label("C")} →(event 0) ${label("A")} →(event 0 of the document with SHA-256 ${first.fileDigest}) ${label("B")} →(edge ${edge!.id} (api, WO-7)) ${label("C")};`,
    );
    expect(await importFootprint(database)).toEqual(before);
  });

  it("containers: a parent that is its own child's child (SSCC 2 in SSCC 1, SSCC 1 in SSCC 2)", async () => {
    const before = await importFootprint(database);
    const result = await importEvents([aggregate(sscc(2), [sgtin("A")]), aggregate(sscc(1), [sscc(2), sgtin("B")]), aggregate(sscc(2), [sscc(1)])]);
    expectRefused(result);
    expect(result.errors).toEqual([
      expect.objectContaining({ eventIndex: 1, message: expect.stringContaining(`${ssccLabel(2)} →(event 1) ${ssccLabel(1)} →(event 2) ${ssccLabel(2)};`) }),
    ]);
    expect(await importFootprint(database)).toEqual(before);
    expect(await refusals(result.fileDigest)).toBe(1);
  });

  it("a container holding itself is refused as such, located at the child", async () => {
    const result = await importEvents([aggregate(sscc(3), [sgtin("A"), sscc(3)])]);
    expectRefused(result);
    expect(result.errors).toEqual([expect.objectContaining({ eventIndex: 0, path: "/epcisBody/eventList/0/childEPCs/1" })]);
  });

  it("no cycle when the closing event is declared erroneous in the same document: its edge is stored superseded", async () => {
    const back = transform([sgtin("B")], [sgtin("A")], { eventID: "urn:uuid:11111111-1111-4111-8111-111111111111" });
    const result = await importEvents([
      transform([sgtin("A")], [sgtin("B")]),
      back,
      { ...back, errorDeclaration: { declarationTime: "2026-02-01T00:00:00Z", reason: "incorrect_data" } },
    ]);
    expectOk(result);
    const [edges] = await database.client`select count(*)::int as all, count(*) filter (where superseded_at is null)::int as live from genealogy_edges`;
    expect(edges).toEqual({ all: 2, live: 1 });
  });

  it("releasing a quarantine that would close a cycle is refused; the events stay quarantined", async () => {
    expectOk(await importEvents([transform([sgtin("A")], [sgtin("B")])]));
    // B → A and B → lot L1 of an unknown GTIN: quarantined until the material exists.
    const lot = "urn:epc:class:lgtin:4012345.022222.L1";
    const quarantined = await importEvents([{ ...transform([sgtin("B")], [sgtin("A")]), outputQuantityList: [{ epcClass: lot, quantity: 1, uom: "KGM" }] }]);
    expectOk(quarantined);
    expect(quarantined.quarantined).toBe(1);
    await database.client`insert into materials (part_number, gtin, description, unit_of_measure, risk_class, family_id)
      select 'EPC-9999', ${UNKNOWN_GTIN}, 'now known', 'KG', 'medium', family_id from materials limit 1`;
    const before = await importFootprint(database);
    const release = releaseQuarantineNow(database.db, UNKNOWN_GTIN, "test");
    await expect(release).rejects.toBeInstanceOf(DomainError);
    await expect(release).rejects.toThrow(`${label("B")} →(event 0 of the document with SHA-256 ${quarantined.fileDigest}) ${label("A")}`);
    expect(await importFootprint(database)).toEqual(before);
    expect(before.quarantined).toBe(1);
  });
});

describe("future times (ADR 024)", () => {
  const inTwoDays = () => new Date(Date.now() + 2 * 86_400_000).toISOString();

  it("an eventTime two days ahead is refused with the default skew, located, and accepted with a skew of three days", async () => {
    const before = await importFootprint(database);
    const time = inTwoDays();
    const event = { ...transform([sgtin("A")], [sgtin("B")]), eventTime: time };
    const refused = await importEvents([event]);
    expectRefused(refused);
    expect(refused.errors).toEqual([
      expect.objectContaining({
        eventIndex: 0,
        path: "/epcisBody/eventList/0/eventTime",
        message: expect.stringContaining(`eventTime ${time} is in the future`),
      }),
    ]);
    expect(refused.errors[0]!.message).toContain("allowed clock skew of 1 day");
    expect(await importFootprint(database)).toEqual(before);
    expect(await refusals(refused.fileDigest)).toBe(1);

    const accepted = await importEvents([event], { clockSkewSeconds: 3 * 86_400 });
    expectOk(accepted);
    expect(accepted.edgesCreated).toBe(1);
  });

  it("recordTime, declarationTime and the header's creationDate are checked too", async () => {
    const later = inTwoDays();
    const refused = await importEvents([{ ...transform([sgtin("A")], [sgtin("B")]), recordTime: later, errorDeclaration: { declarationTime: later } }], {
      header: { creationDate: later },
    });
    expectRefused(refused);
    expect(refused.errors.map((e) => e.path).sort()).toEqual(
      ["/creationDate", "/epcisBody/eventList/0/errorDeclaration/declarationTime", "/epcisBody/eventList/0/recordTime"].sort(),
    );
  });

  it("a skew outside 0 s … one year is refused before anything is read", async () => {
    await expect(importEvents([], { clockSkewSeconds: -1 })).rejects.toThrow("clock skew -1");
  });
});

describe("an item transformed into itself (ADR 024)", () => {
  it("is a rework loop after a repair, and otherwise only its real flows plus a located warning", async () => {
    const plain = await importEvents([transform([sgtin("A"), sgtin("B")], [sgtin("A")], { bizStep: "assembling" })]);
    expectOk(plain);
    expect(plain.warnings).toEqual([expect.objectContaining({ eventIndex: 0, path: "/epcisBody/eventList/0/outputEPCList/0" })]);
    const repaired = await importEvents([transform([sgtin("C"), sgtin("D")], [sgtin("C")], { bizStep: "https://ref.gs1.org/cbv/BizStep-repairing" })]);
    expectOk(repaired);
    expect(repaired.warnings).toEqual([]);
    const edges = await database.client`select a.identifier as input, b.identifier as output, g.kind::text as kind from genealogy_edges g
      join trace_items a on a.id = g.input_item_id join trace_items b on b.id = g.output_item_id order by a.identifier, b.identifier`;
    expect(edges).toEqual([
      { input: "B", output: "A", kind: "consume" },
      { input: "C", output: "C", kind: "rework" },
      { input: "D", output: "C", kind: "consume" },
    ]);
  });
});

describe("the CLI", () => {
  it("exits 65 on a refused document (a cycle) and 0 on a clean one; --clock-skew is read with its unit", async () => {
    const log = console.log;
    const error = console.error;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    console.error = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      const run = importCommands["import:epcis"].run;
      const cyclic = documentFile([transform([sgtin("A")], [sgtin("B")]), transform([sgtin("B")], [sgtin("A")])]);
      expect(await run(database, [cyclic, "--site", "EIN"])).toBe(65);
      expect(lines.join("\n")).toContain("genealogy cycle");
      const ahead = documentFile([{ ...transform([sgtin("E")], [sgtin("F")]), eventTime: new Date(Date.now() + 3_600_000).toISOString() }]);
      expect(await run(database, [ahead, "--site", "EIN", "--clock-skew", "0"])).toBe(65);
      expect(await run(database, [ahead, "--site", "EIN", "--clock-skew", "2h"])).toBe(0);
      await expect(run(database, [ahead, "--site", "EIN", "--clock-skew", "1w"])).rejects.toThrow("--clock-skew");
    } finally {
      console.log = log;
      console.error = error;
    }
  });
});
