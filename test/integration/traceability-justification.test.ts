import { sql } from "drizzle-orm";
/**
 * The traceability justification report (issue 25 part 5): every demo-plant material at every site,
 * against expectations written by hand from reading app/seed/demo-plant.ts (FAMILY_PLAN, the
 * regulatory flags rule, ruleFor, SUB-1005 at EIN serial since v2) and the demo plant's policy read as
 * prose — never derived from the policy data or the report's own output. Then fixture rows inserted
 * by SQL (a stricter requirement, a deviation, quality events, an unruled material) in the screen's
 * query, its CSV and its route's site authority.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../app/services/audit.server";
import { createChangeRequest } from "../../app/services/change-requests.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { JUSTIFICATION_CSV_HEADER, justificationCsv, traceabilityJustification } from "../../app/queries/traceability-justification.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
const NOW = new Date("2026-12-07T12:00:00.000Z");

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
}, 120_000);

// ---- hand-written expectations ---------------------------------------------------------------

/** Materials per family, counted by hand in FAMILY_PLAN (and EPCIS_GTINS: 19 example GTINs). */
const FAMILY_COUNTS: Record<string, number> = { FIN: 12, SUB: 20, ASM: 12, MCH: 30, RAW: 20, RES: 10, CON: 20, PKG: 10, EPC: 19 };
const TOTAL = 153;

/** Regulated by hand: every FIN carries udi; SUB-1004, -1008, -1012, -1016, -1020 are critical to safety (i % 4 == 0). */
const regulatedByHand = (part: string) => part.startsWith("FIN-") || ["SUB-1004", "SUB-1008", "SUB-1012", "SUB-1016", "SUB-1020"].includes(part);

type Expect = { scope: string; minimumTracking: string; containerRequired: boolean; requiredScan: string };
const riskDefault = (minimumTracking: string, requiredScan: string): Expect => ({
  scope: "risk_class",
  minimumTracking,
  containerRequired: false,
  requiredScan,
});

/**
 * The policy as prose: high + regulated serial/identify; high lot/identify; medium + regulated lot/identify;
 * medium lot/verify; low + regulated lot/verify; low none/none. RAW has its family's: lot, containers,
 * identify. SUB-1005 its own: serial, identify.
 */
function expectedRequirement(part: string, family: string, risk: string, regulated: boolean): Expect {
  if (part === "SUB-1005") return { scope: "material", minimumTracking: "serial", containerRequired: false, requiredScan: "identify" };
  if (family === "RAW") return { scope: "family", minimumTracking: "lot", containerRequired: true, requiredScan: "identify" };
  if (risk === "high") return regulated ? riskDefault("serial", "identify") : riskDefault("lot", "identify");
  if (risk === "medium") return regulated ? riskDefault("lot", "identify") : riskDefault("lot", "verify");
  return regulated ? riskDefault("lot", "verify") : riskDefault("none", "none");
}

/** The risk classes FAMILY_PLAN allows per family (SUB, MCH and RAW pick one at random). */
const RISKS: Record<string, string[]> = {
  FIN: ["high"],
  SUB: ["high", "medium"],
  ASM: ["medium"],
  MCH: ["medium", "low"],
  RAW: ["low", "medium"],
  RES: ["medium"],
  CON: ["low"],
  PKG: ["low"],
  EPC: ["medium"],
};

/** ruleFor per family (EPC: serial or lot by its GTIN, always containers and identify). */
const RULES: Record<string, { trackingMode: string | null; containerTracking: boolean; consumptionScan: string }> = {
  FIN: { trackingMode: "serial", containerTracking: true, consumptionScan: "identify" },
  SUB: { trackingMode: "serial", containerTracking: false, consumptionScan: "identify" },
  ASM: { trackingMode: "lot", containerTracking: false, consumptionScan: "identify" },
  MCH: { trackingMode: "lot", containerTracking: false, consumptionScan: "verify" },
  RAW: { trackingMode: "lot", containerTracking: true, consumptionScan: "identify" },
  RES: { trackingMode: "lot", containerTracking: true, consumptionScan: "identify" },
  CON: { trackingMode: "none", containerTracking: false, consumptionScan: "none" },
  PKG: { trackingMode: "none", containerTracking: false, consumptionScan: "verify" },
  EPC: { trackingMode: null, containerTracking: true, consumptionScan: "identify" },
};

/** The version that introduced the rule in force: v2 for the EPCIS items and for SUB-1005 at EIN, else v1. */
const ruleVersionByHand = (part: string, site: string) => (part.startsWith("EPC-") || (part === "SUB-1005" && site === "EIN") ? 2 : 1);

describe("the traceability justification report on the demo plant", () => {
  for (const site of ["EIN", "CLT", "PEN"]) {
    it(`lists every product material at ${site} with no gaps, as written by hand`, async () => {
      const report = (await traceabilityJustification(database.db, { siteCode: site, at: NOW }))!;
      expect(report.site.code).toBe(site);
      expect(report.versionInForce).toBe(2);
      expect(report.rows).toHaveLength(TOTAL);
      const perFamily: Record<string, number> = {};
      for (const r of report.rows) perFamily[r.family] = (perFamily[r.family] ?? 0) + 1;
      expect(perFamily).toEqual(FAMILY_COUNTS);
      // No gap: the rows are exactly the product materials in SQL (system materials left out).
      const parts = await database.client`select part_number from materials where system_role is null order by part_number`;
      expect(report.rows.map((r) => r.partNumber)).toEqual(parts.map((p) => p.part_number as string));

      const eventsBySql = new Map<string, string[]>();
      for (const e of await database.client`
        select m.part_number, e.number from quality_events e
        join sites s on s.id = e.site_id
        join quality_event_references r on r.quality_event_id = e.id
        join materials m on m.id = r.material_id
        where s.code = ${site} and e.status <> 'closed'
        group by m.part_number, e.number order by m.part_number, e.number`)
        eventsBySql.set(e.part_number as string, [...(eventsBySql.get(e.part_number as string) ?? []), e.number as string]);
      const deviationsBySql = new Map<string, string[]>();
      // NOW is 2026-12-07 at each of the three sites (UTC+1, UTC-5, UTC+8 at noon UTC): a deviation whose last day is before it has expired.
      let expiredBySql = 0;
      for (const d of await database.client`
        select m.part_number, c.number, coalesce(d.expires_on < '2026-12-07', false) as expired from traceability_deviations d
        join sites s on s.id = d.site_id join materials m on m.id = d.material_id join change_requests c on c.id = d.change_request_id
        where s.code = ${site} and d.closed_at is null order by m.part_number, c.number`) {
        deviationsBySql.set(d.part_number as string, [...(deviationsBySql.get(d.part_number as string) ?? []), d.number as string]);
        if (d.expired) expiredBySql += 1;
      }

      for (const r of report.rows) {
        const where = `${r.partNumber} at ${site}`;
        expect(RISKS[r.family], where).toContain(r.riskClass);
        expect(r.regulated, where).toBe(regulatedByHand(r.partNumber));
        const want = expectedRequirement(r.partNumber, r.family, r.riskClass, regulatedByHand(r.partNumber));
        expect(r.requirement, where).toMatchObject(want);
        expect(r.requirement!.justification.trim().length, where).toBeGreaterThan(20);
        expect(r.requirement!.references.length, where).toBeGreaterThan(0);
        expect(
          r.setBy.map((s) => s.changeRequest),
          where,
        ).toEqual([null]); // the initial policy, no change request yet
        const rule = RULES[r.family]!;
        expect(r.rule, where).toMatchObject({
          state: "ruled",
          version: ruleVersionByHand(r.partNumber, site),
          containerTracking: rule.containerTracking,
          consumptionScan: rule.consumptionScan,
        });
        if (rule.trackingMode) expect(r.rule.state === "ruled" && r.rule.trackingMode, where).toBe(rule.trackingMode);
        // Every rule of the demo plant meets its requirement (read by hand: ruleFor is at or above the prose above everywhere).
        expect(r.status, where).toBe("meets");
        expect(r.shortfalls, where).toEqual([]);
        // Open deviations and open quality events, by plain SQL (whatever the demo plant's seed holds of them).
        expect(r.deviations.map((d) => d.changeRequest).sort(), where).toEqual(deviationsBySql.get(r.partNumber) ?? []);
        expect(
          r.qualityEvents.map((e) => e.number),
          where,
        ).toEqual(eventsBySql.get(r.partNumber) ?? []);
      }
      expect(report.summary).toEqual({
        materials: TOTAL,
        byStatus: { meets: TOTAL, below_with_deviation: 0, below_without_deviation: 0, no_rule: 0, no_requirement: 0 },
        openDeviations: [...deviationsBySql.values()].flat().length,
        expiredDeviations: expiredBySql,
        openQualityEvents: new Set([...eventsBySql.values()].flat()).size,
      });
    });
  }

  it("shows the hand-checked rows", async () => {
    const report = (await traceabilityJustification(database.db, { siteCode: "EIN", at: NOW }))!;
    const row = (part: string) => report.rows.find((r) => r.partNumber === part)!;
    expect(row("SUB-1005")).toMatchObject({
      requirement: { scope: "material", target: "SUB-1005", minimumTracking: "serial", requiredScan: "identify" },
      rule: { state: "ruled", version: 2, trackingMode: "serial" },
      status: "meets",
    });
    expect(row("SUB-1005").requirement!.references).toContain("CAPA-DEMO-17");
    expect(row("RAW-1001")).toMatchObject({
      requirement: { scope: "family", target: "family RAW", minimumTracking: "lot", containerRequired: true, requiredScan: "identify" },
      rule: { state: "ruled", version: 1, trackingMode: "lot", containerTracking: true, consumptionScan: "identify" },
      status: "meets",
    });
    expect(row("CON-1007")).toMatchObject({
      riskClass: "low",
      regulated: false,
      requirement: { scope: "risk_class", target: "risk class low, not regulated", minimumTracking: "none", containerRequired: false, requiredScan: "none" },
      rule: { state: "ruled", trackingMode: "none", containerTracking: false, consumptionScan: "none" },
      status: "meets",
    });
    expect(row("FIN-1003")).toMatchObject({
      riskClass: "high",
      regulatoryFlags: ["udi", "critical_to_safety"],
      requirement: { scope: "risk_class", target: "risk class high, regulated", minimumTracking: "serial", requiredScan: "identify" },
      rule: { state: "ruled", trackingMode: "serial" },
      status: "meets",
    });
  });
});

// ---- fixtures: a stricter requirement, a deviation, quality events, an unruled material --------

describe("the report with deviations and quality events (fixture rows by SQL)", () => {
  let cr = "";
  beforeAll(async () => {
    const c = database.client;
    const [author] = await c`select id from users where username = 'emil.engineer'`;
    ({ number: cr } = await createChangeRequest(
      database.db,
      { id: author!.id as number, username: "emil.engineer", displayName: "Emil" },
      {
        title: "Serialize ASM-1004 at EIN",
        justification: "Fixture: the change request the fixture requirement and deviation name.",
        riskAssessment: "Medium: labels and scanners exist.",
        legacyDataPlan: "grandfather",
        changes: [
          {
            kind: "tracking",
            material: "ASM-1004",
            sites: ["EIN"],
            trackingMode: "serial",
            containerTracking: false,
            identifierFormatCodes: ["EIN-SER"],
            consumptionScan: "identify",
          },
        ],
      },
    ));
    const [{ id: crId }] = (await c`select id from change_requests where number = ${cr}`) as unknown as [{ id: number }];
    // CON-1001's own requirement: stated first by the initial policy (closed), then raised by the change request.
    // The table accepts rows only with their audit row in the same transaction (migration 0036).
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, {
        actor: "test:fixture",
        action: "traceability_requirement.set",
        entityType: "traceability_requirement",
        entityId: "material:CON-1001",
        reason: "Fixture: CON-1001's requirement history",
      });
      await tx.execute(sql`insert into traceability_requirements (scope, material_id, minimum_tracking, container_required, required_scan, justification, "references", effective_from, effective_to, change_request_id, reason)
        select 'material', id, 'none', false, 'verify', 'Initial: verify only.', '{RA-FIX-0}', '2025-01-01T00:00:00Z', '2026-06-01T00:00:00Z', null, 'Demo plant initial traceability policy'
        from materials where part_number = 'CON-1001'`);
      await tx.execute(sql`insert into traceability_requirements (scope, material_id, minimum_tracking, container_required, required_scan, justification, "references", effective_from, change_request_id, reason)
        select 'material', id, 'lot', true, 'identify', 'Contamination found, lot trace needed.', '{RA-FIX-1,=cmd}', '2026-06-01T00:00:00Z', ${crId}, ${cr}
        from materials where part_number = 'CON-1001'`);
    });
    // An open deviation for CON-1001 at EIN, expired on the site's date (its last day was yesterday); a closed one that must not show.
    const deviation = (expires: string, closed: boolean) => c`
      insert into traceability_deviations (material_id, site_id, change_request_id, rule_set_version_id, reason, risk_assessment_ref, compensating_controls, expires_on, shortfalls, created_at, closed_at, closed_reason)
      select m.id, s.id, ${crId}, v.id, 'Scanners arrive in Q1', 'RA-FIX-2', '100% visual check, line clearance', ${expires}, '{"tracked by none"}', '2026-11-01T00:00:00Z',
             ${closed ? "2026-11-02T00:00:00Z" : null}, ${closed ? "restored" : null}
      from materials m, sites s join rule_set_versions v on v.site_id = s.id and v.version = 1
      where m.part_number = 'CON-1001' and s.code = 'EIN'`;
    await deviation("2026-12-06", false);
    await deviation("2027-01-01", true);
    // Quality events at EIN: one open on the material CON-1001, one contained on a RAW-1001 lot, one closed on CON-1001; one open at CLT on CON-1001.
    const event = async (num: string, site: string, status: string, kind: string, severity: string) => {
      const [{ id }] = (await c`insert into quality_events (number, kind, status, severity, site_id, title, raised_at, raised_by, closed_at)
        select ${num}, ${kind}, ${status}, ${severity}, id, ${`Fixture ${num}`}, '2026-11-20T00:00:00Z', 'quinn.quality', ${status === "closed" ? "2026-11-21T00:00:00Z" : null}
        from sites where code = ${site} returning id`) as unknown as [{ id: number }];
      return id;
    };
    const materialRef = (eventId: number, part: string, site: string) =>
      c`insert into quality_event_references (quality_event_id, kind, material_id, site_id, rule_state, rule_set_version, tracking_mode_at_raise)
        select ${eventId}, 'material', m.id, s.id, 'ruled', 2, 'none' from materials m, sites s where m.part_number = ${part} and s.code = ${site}`;
    await materialRef(await event("QE-9001", "EIN", "open", "nonconformance", "major"), "CON-1001", "EIN");
    const contained = await event("QE-9002", "EIN", "contained", "concession", "minor");
    await c`insert into quality_event_references (quality_event_id, kind, trace_item_id, material_id, site_id, rule_state, rule_set_version, tracking_mode_at_raise)
      select ${contained}, 'lot', t.id, t.material_id, t.site_id, 'ruled', 1, 'lot'
      from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = 'RAW-1001' and s.code = 'EIN' and t.kind = 'lot' order by t.id limit 1`;
    await materialRef(await event("QE-9003", "EIN", "closed", "rework_order", "minor"), "CON-1001", "EIN");
    await materialRef(await event("QE-9004", "CLT", "open", "complaint", "critical"), "CON-1001", "CLT");
    // A new product material with no rule anywhere (low, not regulated: the risk-class default applies).
    await c`insert into materials (part_number, description, unit_of_measure, risk_class, family_id)
      select 'CON-9999', '=1+1 wipe', 'EA', 'low', id from material_families where code = 'CON'`;
  }, 60_000);

  it("shows the deviation, the events and the verdicts", async () => {
    const [lot] = await database.client`select count(*)::int as n from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = 'RAW-1001' and s.code = 'EIN' and t.kind = 'lot'`;
    expect(lot!.n).toBeGreaterThan(0); // the fixture event did reference a lot
    const ein = (await traceabilityJustification(database.db, { siteCode: "EIN", at: NOW }))!;
    const row = (part: string) => ein.rows.find((r) => r.partNumber === part)!;
    expect(ein.today).toBe("2026-12-07");
    expect(row("CON-1001")).toMatchObject({
      requirement: { scope: "material", minimumTracking: "lot", containerRequired: true, requiredScan: "identify", references: ["RA-FIX-1", "=cmd"] },
      setBy: [{ changeRequest: null }, { changeRequest: cr }],
      status: "below_with_deviation",
      shortfalls: [
        "tracked by none, the requirement is at least lot",
        "not container-tracked, the requirement is container tracking",
        "consumption scan none, the requirement is at least identify",
      ],
      deviations: [
        {
          changeRequest: cr,
          reason: "Scanners arrive in Q1",
          riskAssessmentRef: "RA-FIX-2",
          compensatingControls: "100% visual check, line clearance",
          expiresOn: "2026-12-06",
          expired: true,
        },
      ],
      qualityEvents: [{ number: "QE-9001", kind: "nonconformance", severity: "major", status: "open" }],
    });
    expect(row("RAW-1001").qualityEvents).toMatchObject([{ number: "QE-9002", kind: "concession", severity: "minor", status: "contained" }]);
    expect(row("CON-9999")).toMatchObject({ rule: { state: "unruled", version: 2 }, status: "no_rule", requirement: { minimumTracking: "none" } });
    // The fixtures' two open events at EIN, and the demo plant's own open events raised at EIN (SQL oracle).
    const [demoAtEin] = await database.client`
      select count(distinct e.id)::int as n from quality_events e join sites s on s.id = e.site_id
      where s.code = 'EIN' and e.status <> 'closed' and e.number not like 'QE-90%'`;
    expect(ein.summary).toEqual({
      materials: TOTAL + 1,
      byStatus: { meets: TOTAL - 1, below_with_deviation: 1, below_without_deviation: 0, no_rule: 1, no_requirement: 0 },
      openDeviations: 1,
      expiredDeviations: 1,
      openQualityEvents: 2 + demoAtEin!.n,
    });
    // At CLT the same requirement has no deviation; only CLT's event shows.
    const clt = (await traceabilityJustification(database.db, { siteCode: "CLT", at: NOW }))!;
    const con = clt.rows.find((r) => r.partNumber === "CON-1001")!;
    expect(con).toMatchObject({ status: "below_without_deviation", deviations: [], qualityEvents: [{ number: "QE-9004", severity: "critical" }] });
    // The day of expiry itself, the deviation still holds.
    const before = (await traceabilityJustification(database.db, { siteCode: "EIN", at: new Date("2026-12-06T12:00:00Z") }))!;
    expect(before.rows.find((r) => r.partNumber === "CON-1001")!.deviations[0]!.expired).toBe(false);
  });

  it("writes the CSV header and rows as checked by hand", async () => {
    const csv = justificationCsv((await traceabilityJustification(database.db, { siteCode: "EIN", at: NOW }))!);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(
      "site,part_number,description,family,risk_class,regulatory_flags,requirement_scope,requirement_target,minimum_tracking,container_required,required_scan,justification,references,set_by,rule_state,rule_set_version,tracking_mode,container_tracking,consumption_scan,status,shortfalls,open_deviations,open_quality_events",
    );
    expect(JUSTIFICATION_CSV_HEADER).toHaveLength(23);
    expect(lines).toHaveLength(1 + TOTAL + 1 + 1); // header, every material, CON-9999, the trailing CRLF
    const con = lines.find((l) => l.startsWith("EIN,CON-1001,"))!;
    const description = (await database.client`select description from materials where part_number = 'CON-1001'`)[0]!.description as string;
    expect(con).toBe(
      `EIN,CON-1001,${description},CON,low,,material,CON-1001,lot,yes,identify,"Contamination found, lot trace needed.",RA-FIX-1 | =cmd,"initial policy, ${cr}",ruled,1,none,no,none,below_with_deviation,` +
        `"tracked by none, the requirement is at least lot | not container-tracked, the requirement is container tracking | consumption scan none, the requirement is at least identify"` +
        `,"${cr} (expires 2026-12-06, expired): Scanners arrive in Q1; risk assessment RA-FIX-2; controls: 100% visual check, line clearance",QE-9001 nonconformance major open`,
    );
    // A cell that starts like a formula is defused with a leading quote (OWASP CSV injection).
    expect(lines.find((l) => l.startsWith("EIN,CON-9999,"))).toBe(
      'EIN,CON-9999,\'=1+1 wipe,CON,low,,risk_class,"risk class low, not regulated",none,no,none,Low-risk consumables and packaging: no unit or lot traceability is required; the risk assessment found no failure mode a lot would contain. Receiving inspection covers them.,RA-DEMO-006 | ISO 13485:2016 7.5.8,initial policy,unruled,2,,,,no_rule,,,',
    );
    const raw = lines.find((l) => l.startsWith("EIN,RAW-1001,"))!;
    expect(raw.endsWith(",meets,,,QE-9002 concession minor contained")).toBe(true);
  });
});

// ---- the route: a site-scoped reader cannot read another site's report ------------------------

describe("site authority on the report's routes", () => {
  const sessions: Record<string, string> = {};
  beforeAll(async () => {
    for (const [username, site] of [
      ["vera.clt", "CLT"],
      ["vera.all", null],
    ] as const) {
      await createUser(
        database.db,
        "test",
        { username, displayName: username, password: "justification-report-pw", grants: [{ role: "viewer", site }], reason: "site authority" },
        "fixture",
      );
      const session = await signIn(database.db, { username, password: "justification-report-pw", ip: null, maxHours: 1 });
      if (!session.ok) throw new Error(`cannot sign in ${username}`);
      sessions[username] = session.sessionId;
    }
  }, 60_000);

  async function get(route: string, url: string, site: string, who: string): Promise<Response | Record<string, unknown>> {
    const module = (await import(`../../app/routes/${route}.tsx`)) as { loader: (args: LoaderFunctionArgs) => Promise<unknown> };
    const request = new Request(`http://127.0.0.1${url}`, { headers: { Cookie: `${SESSION_COOKIE}=${sessions[who]}` } });
    try {
      return (await module.loader({ request, params: { site }, context: {} })) as Response | Record<string, unknown>;
    } catch (thrown) {
      if (thrown instanceof Response) return thrown;
      throw thrown;
    }
  }

  it("answers 404 for another site's screen, CSV and print, and serves the reader's own", async () => {
    for (const [route, suffix] of [
      ["traceability.$site", ""],
      ["traceability.$site_.justification[.]csv", "/justification.csv"],
      ["traceability.$site_.print", "/print"],
    ] as const) {
      const refused = await get(route, `/traceability/EIN${suffix}`, "EIN", "vera.clt");
      expect(refused instanceof Response && refused.status, route).toBe(404);
      const unknown = await get(route, `/traceability/XYZ${suffix}`, "XYZ", "vera.all");
      expect(unknown instanceof Response && unknown.status, route).toBe(404);
      const own = await get(route, `/traceability/CLT${suffix}`, "CLT", "vera.clt");
      if (own instanceof Response) {
        expect(own.status).toBe(200);
        const text = await own.text();
        expect(text.startsWith("site,part_number,")).toBe(true);
        expect(text).toContain("\r\nCLT,CON-1001,");
        expect(text).not.toContain("\r\nEIN,");
      } else expect((own as { report: { site: { code: string } } }).report.site.code).toBe("CLT");
    }
    const index = (await get("traceability._index", "/traceability", "", "vera.clt")) as { sites: { code: string }[] };
    expect(index.sites.map((s) => s.code)).toEqual(["CLT"]);
    const all = (await get("traceability._index", "/traceability", "", "vera.all")) as { sites: { code: string }[] };
    expect(all.sites.map((s) => s.code)).toEqual(["CLT", "EIN", "PEN"]);
  });

  it("filters the screen by status", async () => {
    const filtered = (await get("traceability.$site", "/traceability/EIN?status=below_with_deviation", "EIN", "vera.all")) as {
      report: { rows: { partNumber: string }[]; summary: { materials: number } };
    };
    expect(filtered.report.rows.map((r) => r.partNumber)).toEqual(["CON-1001"]);
    expect(filtered.report.summary.materials).toBe(TOTAL + 1);
  });
});
