import { beforeAll, describe, expect, it } from "vitest";
import { defineAbilityFor } from "../../policies/ability";
import { changeQualityEventStatus, raiseQualityEvent, type QualityEventActor } from "../../app/services/quality-events.server";
import { generateDemoPlant } from "../../app/seed/demo-plant";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

/*
 * Quality events (ADR 034): raising, refusing, the rule at raise (oracle: plain SQL over tracking_rules
 * and rule_set_versions), status changes and site authority.
 */

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let keyRing: KeyRing;
const plant = generateDemoPlant();
const [v1From, v2From] = plant.versions.map((v) => v.effectiveFrom) as [Date, Date];
const siteIds = new Map<string, number>();

const operator: QualityEventActor = { username: "test:operator", ability: null };
const scoped = (role: "engineer" | "quality_reviewer" | "viewer", site: string): QualityEventActor => ({
  username: `${role}@${site}`,
  ability: defineAbilityFor([{ role, siteId: siteIds.get(site)! }]),
});

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  for (const s of await database.client<{ id: number; code: string }[]>`select id, code from sites`) siteIds.set(s.code, s.id);
}, 120_000);

/** Rows that a refused raise must leave as they were. */
async function counts() {
  const [row] = await database.client<{ events: number; refs: number; audit: number; seq: string }[]>`select
    (select count(*)::int from quality_events) as events,
    (select count(*)::int from quality_event_references) as refs,
    (select count(*)::int from audit_trail) as audit,
    (select last_value::text from quality_event_number) as seq`;
  return row!;
}

async function refused(work: () => Promise<unknown>): Promise<DomainError> {
  const before = await counts();
  const error = await work().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  const after = await counts();
  expect({ events: after.events, refs: after.refs, audit: after.audit }).toEqual({ events: before.events, refs: before.refs, audit: before.audit });
  return error as DomainError;
}

/** Oracle: the site's version in force at `at` and the mode of the material's latest rule up to it, in plain SQL. */
async function sqlRuleAt(partNumber: string, site: string, at: Date) {
  const [row] = await database.client<{ version: number | null; mode: string | null }[]>`
    with v as (
      select max(rv.version) as version from rule_set_versions rv join sites s on s.id = rv.site_id
      where s.code = ${site} and rv.effective_from <= ${at.toISOString()}::timestamptz)
    select v.version,
      (select tr.tracking_mode::text from tracking_rules tr
         join rule_set_versions rv on rv.id = tr.rule_set_version_id
         join materials m on m.id = tr.material_id join sites s on s.id = tr.site_id
       where m.part_number = ${partNumber} and s.code = ${site} and rv.version <= v.version
       order by rv.version desc limit 1) as mode
    from v`;
  return row!;
}

async function storedReferences(number: string) {
  return database.client<
    { kind: string; identifier: string | null; part_number: string; rule_state: string; rule_set_version: number | null; mode: string | null }[]
  >`
    select r.kind::text, t.identifier, m.part_number, r.rule_state, r.rule_set_version, r.tracking_mode_at_raise::text as mode
    from quality_event_references r join quality_events e on e.id = r.quality_event_id
    join materials m on m.id = r.material_id left join trace_items t on t.id = r.trace_item_id
    where e.number = ${number} order by r.id`;
}

/** A SUB-1005 serial made at EIN after version 2 (by rule: the first by creation time). */
const sub1005Serial = () =>
  plant.traceItems.filter((t) => t.site === "EIN" && t.partNumber === "SUB-1005" && t.kind === "serial").sort((a, b) => +a.createdAt - +b.createdAt)[0]!;
/** A lot made at CLT before its first version (legacy), of a raw material. */
const legacyLot = () => plant.traceItems.find((t) => t.site === "CLT" && t.kind === "lot" && t.partNumber.startsWith("RAW-") && t.createdAt < v1From)!;

describe("raising a quality event", () => {
  it("stores each reference with the rule in force at raise, as plain SQL over the rule tables says", async () => {
    const serial = sub1005Serial();
    const lot = legacyLot();
    const lotRaisedAt = new Date(lot.createdAt.getTime() + 86_400_000);
    expect(lotRaisedAt < v1From).toBe(true);
    const before = await counts();
    const legacyEvent = await raiseQualityEvent(database.db, scoped("engineer", "CLT"), {
      kind: "nonconformance",
      site: "CLT",
      severity: "major",
      title: "Raw lot out of specification",
      raisedAt: lotRaisedAt.toISOString(),
      references: [
        { kind: "lot", material: lot.partNumber, identifier: lot.identifier },
        { kind: "material", material: "RES-1001" },
      ],
    });
    expect(legacyEvent.number).toMatch(/^QE-\d{4,}$/);
    const serialEvent = await raiseQualityEvent(database.db, scoped("engineer", "EIN"), {
      kind: "concession",
      site: "EIN",
      severity: "minor",
      title: "Use as is: cosmetic scratch",
      references: [{ kind: "serial", material: "SUB-1005", identifier: serial.identifier }],
    });
    const legacyRefs = await storedReferences(legacyEvent.number);
    for (const ref of legacyRefs) {
      const oracle = await sqlRuleAt(ref.part_number, "CLT", lotRaisedAt);
      expect(oracle.version).toBeNull();
      expect(ref).toMatchObject({ rule_state: "legacy", rule_set_version: null, mode: null });
    }
    // Numbered from the sequence, one after the other.
    expect(Number(serialEvent.number.slice(3))).toBe(Number(legacyEvent.number.slice(3)) + 1);
    expect((await counts()).events).toBe(before.events + 2);
    const [serialRef] = await storedReferences(serialEvent.number);
    const [stored] = await database.client<{ raised: string }[]>`select raised_at::text as raised from quality_events where number = ${serialEvent.number}`;
    const oracle = await sqlRuleAt("SUB-1005", "EIN", new Date(stored!.raised));
    expect(oracle).toEqual({ version: 2, mode: "serial" });
    expect(serialRef).toMatchObject({
      kind: "serial",
      identifier: serial.identifier,
      rule_state: "ruled",
      rule_set_version: oracle.version,
      mode: oracle.mode,
    });
    // Between the versions SUB-1005 was lot-tracked at EIN: a serial event then says v1: lot.
    const between = new Date((v1From.getTime() + v2From.getTime()) / 2);
    const early = await raiseQualityEvent(database.db, operator, {
      kind: "rework_order",
      site: "EIN",
      severity: "minor",
      title: "Back-dated rework",
      raisedAt: between.toISOString(),
      references: [{ kind: "serial", material: "SUB-1005", identifier: serial.identifier }],
    });
    expect((await storedReferences(early.number))[0]).toMatchObject({ rule_state: "ruled", rule_set_version: 1, mode: "lot" });
    expect(await sqlRuleAt("SUB-1005", "EIN", between)).toEqual({ version: 1, mode: "lot" });
    const audit = await database.client`select actor, after from audit_trail where action = 'quality_event.raise' and entity_id = ${serialEvent.number}`;
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe("engineer@EIN");
    expect(audit[0]!.after.references[0].ruleAtRaise).toEqual({ state: "ruled", version: 2, trackingMode: "serial" });
  });

  it("refuses what names nothing at the site, naming the reference, and changes nothing", async () => {
    const serial = sub1005Serial();
    const base = { kind: "nonconformance", site: "EIN", severity: "major", title: "Suspect parts" } as const;
    const unknown = await refused(() =>
      raiseQualityEvent(database.db, operator, {
        ...base,
        references: [
          { kind: "serial", material: "SUB-1005", identifier: serial.identifier },
          { kind: "lot", material: "MCH-1001", identifier: "NO-SUCH-LOT" },
        ],
      }),
    );
    expect(unknown.code).toBe("missing_reference");
    expect(unknown.fields["references.1.identifier"]).toEqual(["Reference 2: there is no lot NO-SUCH-LOT of MCH-1001 at EIN"]);
    const clt = plant.traceItems.find((t) => t.site === "CLT" && t.kind === "serial")!;
    const elsewhere = await refused(() =>
      raiseQualityEvent(database.db, operator, { ...base, references: [{ kind: "serial", material: clt.partNumber, identifier: clt.identifier }] }),
    );
    // The same words as for an item that exists nowhere: a CLT item is not named as existing elsewhere.
    expect(elsewhere.fields["references.0.identifier"]).toEqual([`Reference 1: there is no serial ${clt.identifier} of ${clt.partNumber} at EIN`]);
    const noMaterial = await refused(() => raiseQualityEvent(database.db, operator, { ...base, references: [{ kind: "material", material: "XYZ-0000" }] }));
    expect(noMaterial.fields["references.0.material"]).toEqual(["Reference 1: there is no material XYZ-0000"]);
    const empty = await refused(() => raiseQualityEvent(database.db, operator, { ...base, references: [] }));
    expect(empty.code).toBe("invalid");
    expect(empty.fields.references).toBeDefined();
    const twice = await refused(() =>
      raiseQualityEvent(database.db, operator, {
        ...base,
        references: [
          { kind: "serial", material: "SUB-1005", identifier: serial.identifier },
          { kind: "serial", material: "SUB-1005", identifier: serial.identifier },
        ],
      }),
    );
    expect(twice.fields["references.1"]).toEqual(["Reference 2 repeats reference 1"]);
    const site = await refused(() =>
      raiseQualityEvent(database.db, operator, { ...base, site: "XXX", references: [{ kind: "material", material: "RES-1001" }] }),
    );
    expect(site.fields.site).toEqual(["There is no site XXX"]);
    const closedPending = await refused(() =>
      raiseQualityEvent(database.db, operator, { ...base, status: "closed", references: [{ kind: "material", material: "RES-1001" }] }),
    );
    expect(closedPending.fields.disposition).toBeDefined();
  });

  it("refuses a site-scoped engineer at another site, and a viewer anywhere", async () => {
    const serial = sub1005Serial();
    const input = {
      kind: "nonconformance",
      site: "EIN",
      severity: "major",
      title: "Suspect",
      references: [{ kind: "serial", material: "SUB-1005", identifier: serial.identifier }],
    };
    const other = await refused(() => raiseQualityEvent(database.db, scoped("engineer", "CLT"), input));
    expect(other.code).toBe("forbidden");
    expect(other.message).toMatch(/at EIN/);
    expect((await refused(() => raiseQualityEvent(database.db, scoped("viewer", "EIN"), input))).code).toBe("forbidden");
  });

  it("refuses a QMS id imported before", async () => {
    const input = {
      kind: "complaint",
      site: "PEN",
      severity: "minor",
      title: "Customer report",
      externalId: "QMS-77",
      references: [{ kind: "material", material: "RES-1001" }],
    };
    await raiseQualityEvent(database.db, operator, input);
    const again = await refused(() => raiseQualityEvent(database.db, operator, input));
    expect(again.code).toBe("conflict");
    expect(again.fields.externalId![0]).toMatch(/QMS-77 is already QE-/);
  });
});

describe("changing a quality event's status", () => {
  async function fresh(site = "EIN") {
    return raiseQualityEvent(database.db, operator, {
      kind: "nonconformance",
      site,
      severity: "major",
      title: "To be handled",
      references: [{ kind: "material", material: "RES-1001" }],
    });
  }
  const row = async (number: string) =>
    (
      await database.client<{ status: string; disposition: string; row_version: number; closed: boolean }[]>`
      select status::text, disposition::text, row_version, closed_at is not null as closed from quality_events where number = ${number}`
    )[0]!;

  it("goes open → contained → closed with a disposition, each step audited with its comment; closed stays closed", async () => {
    const { number } = await fresh();
    const reviewer = scoped("quality_reviewer", "EIN");
    await changeQualityEventStatus(database.db, reviewer, number, {
      status: "contained",
      disposition: "quarantine",
      comment: "Held in quarantine",
      rowVersion: 1,
    });
    expect(await row(number)).toEqual({ status: "contained", disposition: "quarantine", row_version: 2, closed: false });
    const pending = await refused(() =>
      changeQualityEventStatus(database.db, reviewer, number, { status: "closed", disposition: "pending", comment: "Done", rowVersion: 2 }),
    );
    expect(pending.fields.disposition).toBeDefined();
    const back = await refused(() =>
      changeQualityEventStatus(database.db, reviewer, number, { status: "open", disposition: "quarantine", comment: "Reopen", rowVersion: 2 }),
    );
    expect(back.code).toBe("conflict");
    await changeQualityEventStatus(database.db, reviewer, number, { status: "closed", disposition: "scrap", comment: "Scrapped", rowVersion: 2 });
    expect(await row(number)).toEqual({ status: "closed", disposition: "scrap", row_version: 3, closed: true });
    const closed = await refused(() =>
      changeQualityEventStatus(database.db, reviewer, number, { status: "closed", disposition: "rework", comment: "Change", rowVersion: 3 }),
    );
    expect(closed.code).toBe("conflict");
    const audit =
      await database.client`select before, after, reason from audit_trail where action = 'quality_event.status' and entity_id = ${number} order by seq`;
    expect(audit.map((a) => [a.before.status, a.after.status, a.after.disposition, a.reason])).toEqual([
      ["open", "contained", "quarantine", "Held in quarantine"],
      ["contained", "closed", "scrap", "Scrapped"],
    ]);
  });

  it("goes open → closed directly, and refuses a stale form", async () => {
    const { number } = await fresh();
    const stale = await refused(() =>
      changeQualityEventStatus(database.db, operator, number, { status: "contained", disposition: "pending", comment: "Held", rowVersion: 7 }),
    );
    expect(stale.code).toBe("conflict");
    await changeQualityEventStatus(database.db, operator, number, { status: "closed", disposition: "use_as_is", comment: "Within tolerance", rowVersion: 1 });
    expect((await row(number)).status).toBe("closed");
  });

  it("is the quality reviewer's at the event's site: an engineer is refused, a reviewer elsewhere does not see it", async () => {
    const { number } = await fresh();
    const engineer = await refused(() =>
      changeQualityEventStatus(database.db, scoped("engineer", "EIN"), number, { status: "contained", disposition: "pending", comment: "Held", rowVersion: 1 }),
    );
    expect(engineer.code).toBe("forbidden");
    const elsewhere = await refused(() =>
      changeQualityEventStatus(database.db, scoped("quality_reviewer", "CLT"), number, {
        status: "contained",
        disposition: "pending",
        comment: "Held",
        rowVersion: 1,
      }),
    );
    expect(elsewhere.code).toBe("not_found");
    expect((await row(number)).status).toBe("open");
  });
});

describe("an event's reach through the genealogy", () => {
  /*
   * A small genealogy at PEN, counted by hand: lot L (of the machined part SUB-x needs) went into serials
   * S1 (of FIN-1001's subassembly) and S2 (of its assembly's subassembly). S1 went into finished serial
   * F1; S2 and another serial S3 went into assembly lot A (two sources: a commingling point), and A into
   * finished serials F2 and F3. From L: F1 is certain, F2 and F3 are candidates — 1 certain, 2 candidates.
   */
  it("matches a hand-counted small case", async () => {
    const [bom] = await database.client<{ fin: number; sub_f: number; asm_f: number; sub_a: number; mch: number; pen: number }[]>`
      with pen as (select id from sites where code = 'PEN'),
      fin as (select id from materials where part_number = 'FIN-1001'),
      lines as (select b.parent_material_id as parent, b.component_material_id as component, m.part_number
                from bom_lines b join materials m on m.id = b.component_material_id where b.site_id = (select id from pen))
      select (select id from fin) as fin,
        (select component from lines where parent = (select id from fin) and part_number like 'SUB-%') as sub_f,
        (select component from lines where parent = (select id from fin) and part_number like 'ASM-%') as asm_f,
        (select l.component from lines l where l.parent = (select component from lines where parent = (select id from fin) and part_number like 'ASM-%') and l.part_number like 'SUB-%') as sub_a,
        (select l.component from lines l where l.parent = (select component from lines where parent = (select id from fin) and part_number like 'SUB-%') and l.part_number like 'MCH-%') as mch,
        (select id from pen) as pen`;
    const b = bom!;
    const at = "2026-06-01T08:00:00Z";
    const add = async (kind: string, identifier: string, materialId: number) =>
      (
        await database.owner<
          { id: string }[]
        >`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
        values (${kind}, ${identifier}, ${materialId}, ${b.pen}, ${kind === "serial" ? 1 : 5}, 'EA', 'stock', ${at}, 'seed') returning id`
      )[0]!.id;
    const L = await add("lot", "QE-TEST-L", b.mch);
    const S1 = await add("serial", "QE-TEST-S1", b.sub_f);
    const S2 = await add("serial", "QE-TEST-S2", b.sub_a);
    const S3 = await add("serial", "QE-TEST-S3", b.sub_a);
    const A = await add("lot", "QE-TEST-A", b.asm_f);
    const F1 = await add("serial", "QE-TEST-F1", b.fin);
    const F2 = await add("serial", "QE-TEST-F2", b.fin);
    const F3 = await add("serial", "QE-TEST-F3", b.fin);
    let n = 0;
    for (const [input, output] of [
      [L, S1],
      [L, S2],
      [S1, F1],
      [S2, A],
      [S3, A],
      [A, F2],
      [A, F3],
    ]) {
      await database.owner`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
        values (${`QE-TEST-${++n}`}, 'consume', ${input!}, ${output!}, 1, 'EA', ${b.pen}, ${at}, 'seed')`;
    }
    const { reachOf } = await import("../../app/queries/quality-events.server");
    const reach = await reachOf(database.db, { itemIds: [Number(L)], sites: null });
    expect({ certain: reach.certain, candidate: reach.candidate, total: reach.total }).toEqual({ certain: 1, candidate: 2, total: 3 });
    expect(reach.rows.map((r) => [r.identifier, r.certainty])).toEqual([
      ["QE-TEST-F1", "certain"],
      ["QE-TEST-F2", "candidate"],
      ["QE-TEST-F3", "candidate"],
    ]);
    // Naming S2 too: F2 and F3 stay candidates (A mixes S2 with S3); naming S3 as well changes nothing either.
    const both = await reachOf(database.db, { itemIds: [Number(L), Number(S2), Number(S3)], sites: null });
    expect({ certain: both.certain, candidate: both.candidate }).toEqual({ certain: 1, candidate: 2 });
    expect(both.rows.find((r) => r.identifier === "QE-TEST-F2")!.via.sort()).toEqual(["QE-TEST-L", "QE-TEST-S2", "QE-TEST-S3"]);
    // An event on L at PEN shows that reach on its page.
    const { number } = await raiseQualityEvent(database.db, operator, {
      kind: "nonconformance",
      site: "PEN",
      severity: "major",
      title: "Hand-counted",
      references: [
        { kind: "lot", material: (await database.client`select part_number from materials where id = ${b.mch}`)[0]!.part_number, identifier: "QE-TEST-L" },
      ],
    });
    const { qualityEventDetail } = await import("../../app/queries/quality-events.server");
    const detail = await qualityEventDetail(database.db, { number, sites: null });
    expect(detail!.reach.rows.map((r) => r.identifier)).toEqual(["QE-TEST-F1", "QE-TEST-F2", "QE-TEST-F3"]);
    expect(await qualityEventDetail(database.db, { number, sites: [siteIds.get("EIN")!] })).toBeNull();
  });

  it("is the explorer's recall for a demo event's lot", async () => {
    const { recallFrom } = await import("../../app/queries/genealogy.server");
    const { qualityEventDetail } = await import("../../app/queries/quality-events.server");
    const [legacy] = await database.client<{ number: string; item: string }[]>`
      select e.number, r.trace_item_id::text as item from quality_events e join quality_event_references r on r.quality_event_id = e.id
      where e.external_id = 'QMS-DEMO-NC-0001'`;
    const recall = (await recallFrom(database.db, { itemId: Number(legacy!.item), sites: null }))!;
    const detail = (await qualityEventDetail(database.db, { number: legacy!.number, sites: null }))!;
    expect(recall.rows.length).toBeGreaterThan(0);
    expect({ certain: detail.reach.certain, candidate: detail.reach.candidate }).toEqual({ certain: recall.certain, candidate: recall.candidate });
    expect(detail.reach.rows.map((r) => [r.id, r.certainty])).toEqual(recall.rows.slice(0, detail.reach.rows.length).map((r) => [r.id, r.certainty]));
  });
});

describe("the demo plant's quality events", () => {
  const demo = async (externalId: string) =>
    database.client<
      {
        kind: string;
        status: string;
        disposition: string;
        ref_kind: string;
        identifier: string;
        part_number: string;
        site: string;
        rule_state: string;
        version: number | null;
        mode: string | null;
        item_id: string;
        created: Date;
        raised: Date;
      }[]
    >`
      select e.kind::text, e.status::text, e.disposition::text, r.kind::text as ref_kind, t.identifier, m.part_number, s.code as site,
        r.rule_state, r.rule_set_version as version, r.tracking_mode_at_raise::text as mode, t.id::text as item_id, t.created_at as created, e.raised_at as raised
      from quality_events e join quality_event_references r on r.quality_event_id = e.id join sites s on s.id = e.site_id
      join materials m on m.id = r.material_id left join trace_items t on t.id = r.trace_item_id
      where e.external_id = ${externalId} order by r.id`;

  it("has every kind, and one closed", async () => {
    const kinds = await database.client`select distinct kind::text from quality_events where raised_by = 'system:demo-seed' order by 1`;
    expect(kinds.map((k) => k.kind)).toEqual(["complaint", "concession", "nonconformance", "rework_order"]);
    const [closed] = await database.client`select count(*)::int as n from quality_events where raised_by = 'system:demo-seed' and status = 'closed'`;
    expect(closed!.n).toBeGreaterThanOrEqual(1);
  });

  it("has a nonconformance on a legacy lot: made and raised before its site's first rule-set version", async () => {
    const rows = await demo("QMS-DEMO-NC-0001");
    expect(rows).toHaveLength(1);
    const [first] = await database.client<{ from: Date }[]>`
      select min(rv.effective_from) as from from rule_set_versions rv join sites s on s.id = rv.site_id where s.code = ${rows[0]!.site}`;
    expect(rows[0]).toMatchObject({ kind: "nonconformance", ref_kind: "lot", rule_state: "legacy", version: null });
    expect(new Date(rows[0]!.created) < new Date(first!.from)).toBe(true);
    expect(new Date(rows[0]!.raised) < new Date(first!.from)).toBe(true);
  });

  it("has a concession on SUB-1005 serials at EIN made after its change to serial tracking (v2)", async () => {
    const rows = await demo("QMS-DEMO-CD-0002");
    expect(rows.length).toBeGreaterThanOrEqual(1);
    const [v2] = await database.client<{ from: Date }[]>`
      select rv.effective_from as from from rule_set_versions rv join sites s on s.id = rv.site_id where s.code = 'EIN' and rv.version = 2`;
    for (const r of rows) {
      expect(r).toMatchObject({
        kind: "concession",
        ref_kind: "serial",
        part_number: "SUB-1005",
        site: "EIN",
        rule_state: "ruled",
        version: 2,
        mode: "serial",
      });
      expect(new Date(r.created) >= new Date(v2!.from)).toBe(true);
    }
  });

  it("has a nonconformance on a lot that names three serials made from it", async () => {
    const rows = await demo("QMS-DEMO-NC-0003");
    const lots = rows.filter((r) => r.ref_kind === "lot");
    const serials = rows.filter((r) => r.ref_kind === "serial");
    expect(lots).toHaveLength(1);
    expect(serials).toHaveLength(3);
    const [made] = await database.client`
      select count(distinct output_item_id)::int as n from genealogy_edges
      where input_item_id = ${lots[0]!.item_id} and output_item_id = any(${serials.map((s) => s.item_id)}::bigint[])`;
    expect(made!.n).toBe(3);
  });

  it("has a closed rework order on the reworked FIN-1001 serial, and a complaint on a finished-good serial", async () => {
    const rework = await demo("QMS-DEMO-RW-0004");
    expect(rework).toHaveLength(1);
    expect(rework[0]).toMatchObject({
      kind: "rework_order",
      status: "closed",
      disposition: "rework",
      part_number: "FIN-1001",
      identifier: plant.hardCases.reworkedSerial.serial,
    });
    const [loop] =
      await database.client`select count(*)::int as n from genealogy_edges where kind = 'rework' and input_item_id = ${rework[0]!.item_id} and output_item_id = input_item_id`;
    expect(loop!.n).toBe(1);
    const complaint = await demo("QMS-DEMO-CC-0005");
    expect(complaint).toHaveLength(1);
    expect(complaint[0]).toMatchObject({ kind: "complaint", ref_kind: "serial" });
    expect(complaint[0]!.part_number).toMatch(/^FIN-/);
    // A finished good: a material no BOM at its site consumes.
    const [component] = await database.client`
      select count(*)::int as n from bom_lines b join materials m on m.id = b.component_material_id join sites s on s.id = b.site_id
      where m.part_number = ${complaint[0]!.part_number} and s.code = ${complaint[0]!.site}`;
    expect(component!.n).toBe(0);
  });
});
