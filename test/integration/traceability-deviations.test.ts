/**
 * Downgrades below the required traceability (issue 25 part 4, ADR 036) on the demo plant, on real
 * PostgreSQL: SUB-1005 must be serial and identified at consumption (RA-DEMO-017). Its downgrade to lot
 * at EIN is refused at submit without a deviation (nothing changes), accepted with one; the regulatory
 * reviewer's approval must attest the deviation; the release records it (traceability_deviations and
 * the rule set's rule); once expired it alarms on the dashboard and in the next analysis; an upgrade
 * release closes it. Oracles: plain SQL over the tables, the canonical bytes, hand-written expectations.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { expiredDeviationAlarm } from "../../app/queries/role-dashboards.server";
import { computeImpactAnalysis } from "../../app/services/impact-analysis.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let keyRing: KeyRing;
const PASSWORD = "deviation-test-password";
const people: Record<string, Signer> = {};
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

const toLot = {
  kind: "tracking",
  material: "SUB-1005",
  sites: ["EIN"],
  trackingMode: "lot",
  containerTracking: false,
  identifierFormatCodes: ["EIN-LOT"],
  consumptionScan: "identify",
};
const toSerial = { ...toLot, trackingMode: "serial", identifierFormatCodes: ["EIN-SER"] };
const DEVIATION = {
  material: "SUB-1005",
  site: "EIN",
  reason: "Serial label printer at WC30 replaced; lot labels until the new printer is validated.",
  riskAssessmentRef: "RA-2026-031",
  compensatingControls: "100% final test per pump; lot size capped at 50 drives; drive lot recorded on each pump's DHR.",
  expiresOn: "2099-12-31",
};

const draft = (title: string, changes: unknown[], extra: Record<string, unknown> = {}) =>
  createChangeRequest(database.db, people.emil!, {
    title,
    justification: "Printer replacement at WC30 (test).",
    riskAssessment: "See the deviation's risk assessment.",
    legacyDataPlan: "grandfather",
    changes,
    ...extra,
  }).then((r) => r.number);

const sign = async (who: Signer, username: string, role: "quality_reviewer" | "regulatory_reviewer", number: string, extra: Record<string, unknown> = {}) =>
  signChangeRequest(database.db, who, number, {
    meaning: "approved",
    role,
    username,
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    ...(await reviewed(database.db, number)),
    ...extra,
  });

/** Everything a refused submit must leave as it was. */
const snapshot = async (number: string) => ({
  request: await database.client`select status, row_version, revision, content_hash, review_due_on from change_requests where number = ${number}`,
  audit: (await database.client`select count(*)::int as n from audit_trail`)[0]!.n,
  notifications: (await database.client`select count(*)::int as n from notifications`)[0]!.n,
});

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "e.e", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "q.q", ["quality_reviewer"], PASSWORD);
  people.rita = await signedInPerson(database, "r.r", ["regulatory_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "r.m", ["release_manager"], PASSWORD);
}, 120_000);

describe("a downgrade of SUB-1005 at EIN below its required traceability", () => {
  let number = "";

  it("is refused at submit without a deviation, naming the field and the requirement, and nothing changes", async () => {
    const plain = await draft("Lot-track SUB-1005 at EIN", [toLot]);
    const before = await snapshot(plain);
    const refused = (await submitChangeRequest(database.db, people.emil!, plain, await rowVersion(plain)).catch((e: unknown) => e)) as DomainError;
    expect(refused.status).toBe(400);
    expect(refused.fields).toEqual({
      "changes.0.trackingMode": ["SUB-1005 at EIN: tracked by lot, the requirement is at least serial (RA-DEMO-017) — add a deviation or keep serial"],
    });
    expect(await snapshot(plain)).toEqual(before);
  });

  it("refuses a deviation the request does not need", async () => {
    const needless = await draft("Serialize SUB-1005 at EIN again", [toSerial], { deviations: [DEVIATION] });
    const refused = (await submitChangeRequest(database.db, people.emil!, needless, await rowVersion(needless)).catch((e: unknown) => e)) as DomainError;
    expect(refused.status).toBe(400);
    expect(Object.keys(refused.fields ?? {})).toEqual(["deviations.0.material"]);
    expect(refused.fields!["deviations.0.material"]![0]).toMatch(/SUB-1005 at EIN meets its required traceability/);
  });

  it("is accepted with a deviation; the regulatory reviewer is required and must attest it", async () => {
    number = await draft("Lot-track SUB-1005 at EIN under deviation", [toLot], { deviations: [DEVIATION] });
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    const [row] = await database.client`select status, content->'deviations' as deviations from change_requests where number = ${number}`;
    expect(row).toEqual({ status: "in_review", deviations: [DEVIATION] });

    // The analysis says it falls below, and that the request carries a deviation with its expiry.
    const { report } = await computeImpactAnalysis(database.db, number);
    const below = report.changes.flatMap((c) => c.findings).filter((f) => f.code === "BELOW_REQUIRED_TRACEABILITY");
    expect(below).toHaveLength(1);
    expect(below[0]).toMatchObject({ severity: "critical" });
    expect(below[0]!.message).toBe(
      "SUB-1005 at EIN: tracked by lot, the requirement is at least serial (RA-DEMO-017, CAPA-DEMO-17, 21 CFR 820.65); the request carries a deviation (RA-2026-031), expiring after 2099-12-31",
    );

    expect(await sign(people.quinn!, "q.q", "quality_reviewer", number)).toMatchObject({ ok: true, status: "in_review" });
    const signaturesBefore = (await database.client`select count(*)::int as n from signatures where voided_at is null`)[0]!.n;
    const refused = (await sign(people.rita!, "r.r", "regulatory_reviewer", number).catch((e: unknown) => e)) as DomainError;
    expect(refused.status).toBe(400);
    expect(Object.keys(refused.fields ?? {})).toEqual(["attestDeviation"]);
    expect((await database.client`select count(*)::int as n from signatures where voided_at is null`)[0]!.n).toBe(signaturesBefore);

    expect(await sign(people.rita!, "r.r", "regulatory_reviewer", number, { attestDeviation: "on" })).toMatchObject({ ok: true, status: "approved" });
    const rows = await database.client`
      select s.role, s.meaning, s.attestations from signatures s join change_requests c on c.id = s.change_request_id
      where c.number = ${number} and s.voided_at is null order by s.id`;
    expect(rows).toEqual([
      { role: "quality_reviewer", meaning: "approved", attestations: [] },
      { role: "regulatory_reviewer", meaning: "approved", attestations: ["traceability_deviation"] },
    ]);
  });

  it("records the deviation at release: a traceability_deviations row and the rule set's rule", async () => {
    const released = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "EIN",
      changeRequests: [number],
      username: "r.m",
      password: PASSWORD,
      waiver: WAIVER,
    });
    expect(released).toMatchObject({ ok: true, site: "EIN" });
    const rows = await database.client`
      select m.part_number, s.code as site, c.number, v.version, d.reason, d.risk_assessment_ref, d.compensating_controls, d.expires_on::text as expires_on,
             d.shortfalls, d.closed_at
      from traceability_deviations d join materials m on m.id = d.material_id join sites s on s.id = d.site_id
      join change_requests c on c.id = d.change_request_id join rule_set_versions v on v.id = d.rule_set_version_id`;
    expect(rows).toEqual([
      {
        part_number: "SUB-1005",
        site: "EIN",
        number,
        version: (released as { version: number }).version,
        reason: DEVIATION.reason,
        risk_assessment_ref: DEVIATION.riskAssessmentRef,
        compensating_controls: DEVIATION.compensatingControls,
        expires_on: "2099-12-31",
        shortfalls: ["tracked by lot, the requirement is at least serial"],
        closed_at: null,
      },
    ]);
    const [doc] = await database.client`
      select convert_from(v.canonical, 'UTF8') as text from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' order by v.version desc limit 1`;
    const rules = JSON.parse(doc!.text as string).rules as { partNumber: string; deviation?: unknown }[];
    expect(rules.find((r) => r.partNumber === "SUB-1005")!.deviation).toEqual({
      changeRequest: number,
      expiresOn: "2099-12-31",
      shortfalls: ["tracked by lot, the requirement is at least serial"],
    });
    // Only that rule carries one: the others keep the form they always had.
    expect(rules.filter((r) => "deviation" in r).map((r) => r.partNumber)).toEqual(["SUB-1005"]);
  });

  it("alarms once expired: the dashboard with `now` after its last day, and DEVIATION_EXPIRED in a new analysis", async () => {
    const einId = (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number;
    // The last day itself still holds; the day after, it has expired.
    expect(await expiredDeviationAlarm(database.db, { siteIds: null, at: new Date("2099-12-31T12:00:00Z") })).toEqual([]);
    const alarm = await expiredDeviationAlarm(database.db, { siteIds: [einId], at: new Date("2100-01-01T00:30:00Z") });
    expect(alarm).toEqual([
      { material: "SUB-1005", site: "EIN", changeRequest: number, expiresOn: "2099-12-31", shortfalls: ["tracked by lot, the requirement is at least serial"] },
    ]);
    // Another site's reader is not alarmed by EIN's deviation.
    const clt = (await database.client`select id from sites where code = 'CLT'`)[0]!.id as number;
    expect(await expiredDeviationAlarm(database.db, { siteIds: [clt], at: new Date("2100-01-01T00:30:00Z") })).toEqual([]);

    // The analysis's day is its data point's (the audit trail's clock): time passes for the deviation
    // by moving its last day before it (the row is ours, made in this test).
    await database.client`update traceability_deviations set expires_on = date '2026-01-31'`;
    const upgrade = await draft("Serialize SUB-1005 at EIN again", [toSerial]);
    const { report } = await computeImpactAnalysis(database.db, upgrade);
    const expired = report.findings.filter((f) => f.code === "DEVIATION_EXPIRED");
    expect(expired).toEqual([
      {
        code: "DEVIATION_EXPIRED",
        severity: "critical",
        message: `1 open deviation(s) from required traceability at EIN expired before ${report.dataPoint.at.slice(0, 10)}`,
        count: 1,
        sample: [`SUB-1005 at EIN: ${number}, expired after 2026-01-31`],
      },
    ]);
    expect(report.changes.flatMap((c) => c.findings).some((f) => f.code === "BELOW_REQUIRED_TRACEABILITY")).toBe(false);
  });

  it("is closed by a later release that meets the requirement again", async () => {
    const [latest] =
      await database.client`select number from change_requests where title = 'Serialize SUB-1005 at EIN again' and status = 'draft' order by id desc limit 1`;
    const upgrade = latest!.number as string;
    await submitChangeRequest(database.db, people.emil!, upgrade, await rowVersion(upgrade));
    expect(await sign(people.quinn!, "q.q", "quality_reviewer", upgrade)).toMatchObject({ ok: true });
    const [state] = await database.client`select status from change_requests where number = ${upgrade}`;
    if (state!.status !== "approved") expect(await sign(people.rita!, "r.r", "regulatory_reviewer", upgrade)).toMatchObject({ ok: true, status: "approved" });
    const released = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "EIN",
      changeRequests: [upgrade],
      username: "r.m",
      password: PASSWORD,
      waiver: WAIVER,
    });
    expect(released).toMatchObject({ ok: true });
    const rows = await database.client`select closed_at is not null as closed, closed_reason from traceability_deviations`;
    expect(rows).toEqual([{ closed: true, closed_reason: `the rule released by ${upgrade} meets the required traceability` }]);
    const [doc] = await database.client`
      select convert_from(v.canonical, 'UTF8') as text from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' order by v.version desc limit 1`;
    expect((JSON.parse(doc!.text as string).rules as object[]).some((r) => "deviation" in r)).toBe(false);
    expect(await expiredDeviationAlarm(database.db, { siteIds: null, at: new Date("2100-01-01T00:30:00Z") })).toEqual([]);
  });
});
