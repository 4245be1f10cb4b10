/**
 * The replay section on the demo plant (ADR 041): demo change requests' analyses carry a non-empty
 * replay, and its counts equal plain SQL oracles written here (no engine code) for two categories.
 *
 * The demo plant as seeded in tests is not shifted (its genealogy ends 2026-10-21) and the data
 * point is the audit trail's head (now), so the 90-day window holds the plant's last weeks.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Person, type Signer } from "../../app/services/change-requests.server";
import { hashSessionId, signIn } from "../../app/services/sessions.server";
import { acknowledgementsFor } from "../setup/analysis";
import { storedAnalysis } from "../../app/queries/impact-analysis-currency.server";
import { runImpactAnalysis } from "../../app/services/impact-analysis.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let engineer: Person;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const [row] = await database.client`select id, username, display_name from users where username = 'emil.engineer'`;
  engineer = { id: row!.id as number, username: row!.username as string, displayName: row!.display_name as string };
}, 180_000);

async function replayOf(change: Record<string, unknown>) {
  const { number } = await createChangeRequest(database.db, engineer, {
    title: "replay demo",
    justification: "replay demo",
    riskAssessment: "replay demo",
    legacyDataPlan: "grandfather",
    changes: [{ kind: "tracking", sites: ["EIN"], containerTracking: false, ...change }],
  });
  await runImpactAnalysis(database.db, { username: "emil.engineer" }, number);
  const stored = await storedAnalysis(database.db, number);
  return stored!.replay!.report;
}

/** Per day (UTC) of the window, oracle counts as a map; days without cases left out. */
const byDay = (rows: readonly { day: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.day, Number(r.n)]));

describe("replay on the demo plant", () => {
  it("ASM-1004 at EIN to serial with EIN-SER: consumptions needing a serial label no template where it is made, scanned or site-wide prints (SQL oracle)", async () => {
    const report = await replayOf({ material: "ASM-1004", trackingMode: "serial", identifierFormatCodes: ["EIN-SER"], consumptionScan: "identify" });
    const { from, to } = report.window;
    // Oracle: consumptions of ASM-1004@EIN items in the window (not into containers) where no label
    // template at EIN — site-wide, at a work centre making ASM-1004, or at the work centre of the
    // parent's step consuming ASM-1004 — prints EIN-SER. The scan is "identify" (the proposal).
    const rows = await database.client`
      with m as (select id from materials where part_number = 'ASM-1004'), s as (select id from sites where code = 'EIN'),
      c as (
        select e.id, to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, o.material_id as parent
        from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
        where e.kind = 'consume' and e.superseded_at is null and i.material_id = (select id from m) and i.site_id = (select id from s)
          and o.kind <> 'container' and e.occurred_at >= ${from}::timestamptz and e.occurred_at < ${to}::timestamptz
      ),
      printing as (
        select t.work_centre from label_templates t join label_template_formats lf on lf.label_template_id = t.id
        join identifier_formats f on f.id = lf.identifier_format_id where t.site_id = (select id from s) and f.code = 'EIN-SER'
      )
      select day, count(*)::int as n from c
      where not exists (select 1 from printing p where p.work_centre is null
          or p.work_centre in (select work_centre from routing_operations where site_id = (select id from s) and material_id = (select id from m))
          or p.work_centre in (select ro.work_centre from routing_operations ro join routing_operation_materials rm on rm.operation_id = ro.id
                               where ro.site_id = (select id from s) and ro.material_id = c.parent and rm.material_id = (select id from m)))
      group by day order by day`;
    const oracle = byDay(rows as unknown as { day: string; n: number }[]);
    const total = Object.values(oracle).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(report.totals.UNSCANNABLE).toBe(total);
    expect(Object.fromEntries(report.days.filter((d) => d.counts.UNSCANNABLE > 0).map((d) => [d.day, d.counts.UNSCANNABLE]))).toEqual(oracle);
  });

  it("SUB-1008 at EIN down to lot with EIN-LOT: its serials' strings read as its lots and as the other lots scanned at the step (SQL oracle)", async () => {
    const report = await replayOf({ material: "SUB-1008", trackingMode: "lot", identifierFormatCodes: ["EIN-LOT"], consumptionScan: "identify" });
    const { from, to } = report.window;
    // Oracle: consumptions of SUB-1008@EIN items in the window (not into containers) at a parent's
    // step where another material scanned there (a component of that step, or an alternate on the
    // parent's BOM line of one) has EIN-LOT among its rule's formats, and the identifier is an
    // EIN-LOT string (9 upper-case letters or digits, the demo's pattern) — read as SUB-1008's lot
    // and as that material's. Every one of them is scanned ("identify").
    const rows = await database.client`
      with m as (select id from materials where part_number = 'SUB-1008'), s as (select id from sites where code = 'EIN'),
      c as (
        select e.id, to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, o.material_id as parent, i.identifier
        from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
        where e.kind = 'consume' and e.superseded_at is null and i.material_id = (select id from m) and i.site_id = (select id from s)
          and o.kind <> 'container' and e.occurred_at >= ${from}::timestamptz and e.occurred_at < ${to}::timestamptz
      ),
      at_step as (
        select ro.material_id as parent, other.material_id
        from routing_operations ro join routing_operation_materials mine on mine.operation_id = ro.id and mine.material_id = (select id from m)
        join routing_operation_materials other on other.operation_id = ro.id and other.material_id <> (select id from m)
        where ro.site_id = (select id from s)
        union
        select ro.material_id, a.material_id
        from routing_operations ro join routing_operation_materials mine on mine.operation_id = ro.id and mine.material_id = (select id from m)
        join routing_operation_materials other on other.operation_id = ro.id
        join bom_lines bl on bl.site_id = ro.site_id and bl.parent_material_id = ro.material_id and bl.component_material_id = other.material_id
        join bom_line_alternates a on a.bom_line_id = bl.id and a.material_id <> (select id from m)
        where ro.site_id = (select id from s)
      ),
      lot_readers as (
        select x.parent, x.material_id from at_step x join tracking_rules r on r.material_id = x.material_id and r.site_id = (select id from s)
        where r.effective_to is null and 'EIN-LOT' = any(r.identifier_format_codes)
      )
      select day, count(*)::int as n from c
      where c.identifier ~ '^[A-Z0-9]{9}$' and exists (select 1 from lot_readers l where l.parent = c.parent)
      group by day order by day`;
    const oracle = byDay(rows as unknown as { day: string; n: number }[]);
    const total = Object.values(oracle).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(report.totals.AMBIGUOUS).toBe(total);
    expect(Object.fromEntries(report.days.filter((d) => d.counts.AMBIGUOUS > 0).map((d) => [d.day, d.counts.AMBIGUOUS]))).toEqual(oracle);
    expect(report.changes[0]!.categories.AMBIGUOUS.sample.length).toBe(Math.min(20, total));
  });

  it("a signature binds the replay stored with the analysis it names: a different replay hash is refused, the recorded one cannot change", async () => {
    const { number } = await createChangeRequest(database.db, engineer, {
      title: "replay signature",
      justification: "replay signature",
      riskAssessment: "replay signature",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "SUB-1014",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    const rowVersion = async () => (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
    await submitChangeRequest(database.db, engineer, number, await rowVersion());
    const run = await runImpactAnalysis(database.db, { username: "emil.engineer" }, number);
    const session = await signIn(database.db, { username: "quinn.quality", password: "c981-demo-2026", ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    const [q] = await database.client`select id, display_name from users where username = 'quinn.quality'`;
    const quinn: Signer = {
      id: q!.id as number,
      username: "quinn.quality",
      displayName: q!.display_name as string,
      roles: ["quality_reviewer"],
      sessionIdHash: hashSessionId(session.sessionId),
    };
    const sign = async (replayHash: string) =>
      signChangeRequest(database.db, quinn, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "quinn.quality",
        password: "c981-demo-2026",
        rowVersion: await rowVersion(),
        analysisHash: run.sha256,
        replayHash,
        acknowledged: await acknowledgementsFor(database.db, number, run.sha256),
      });
    await expect(sign("0".repeat(64))).rejects.toThrow(/replay on your page/);
    expect(await sign(run.replaySha256!)).toMatchObject({ ok: true });
    const [signature] =
      await database.client`select id, replay_hash from signatures where change_request_id = (select id from change_requests where number = ${number})`;
    expect(signature!.replay_hash).toBe(run.replaySha256);
    const [audit] = await database.client`select after from audit_trail where action = 'change_request.sign' and entity_id = ${number}`;
    expect((audit!.after as { signature: { replayHash: string } }).signature.replayHash).toBe(run.replaySha256);
    await expect(database.owner`update signatures set replay_hash = ${"f".repeat(64)} where id = ${signature!.id}`).rejects.toThrow(/only be voided/);
  });
});
