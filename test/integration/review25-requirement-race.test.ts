/**
 * Review 25: a downgrade judged at submit against the requirement then in force, and released after
 * another request raised that requirement. Issue 25 part 4: "Downgrades below the requirement are
 * refused unless the change request carries a justification record ... the regulatory reviewer's
 * approval also attests". Expectation: the release is refused (or the request made stale), never a
 * rule below the requirement with no deviation row.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let keyRing: KeyRing;
const PASSWORD = "review25-race-password";
const people: Record<string, Signer> = {};
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

const requirement = (minimumTracking: string) => ({
  kind: "traceability_requirement",
  target: { scope: "material", partNumber: "SUB-1005" },
  minimumTracking,
  containerRequired: false,
  requiredScan: "identify",
  justification: `SUB-1005 is ${minimumTracking}-tracked at least (review 25).`,
  references: ["RA-REVIEW-25"],
});
const toLot = {
  kind: "tracking",
  material: "SUB-1005",
  sites: ["EIN"],
  trackingMode: "lot",
  containerTracking: false,
  identifierFormatCodes: ["EIN-LOT"],
  consumptionScan: "identify",
};

const draft = async (title: string, changes: unknown[]) =>
  (
    await createChangeRequest(database.db, people.emil!, {
      title,
      justification: "Review 25 race (test).",
      riskAssessment: "Low: the test only moves a requirement and back.",
      legacyDataPlan: "grandfather",
      changes,
    }).catch((e: { fields?: unknown }) => {
      throw new Error(JSON.stringify(e.fields));
    })
  ).number;

async function approve(number: string) {
  await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number), {});
  for (const [who, role] of [
    [people.quinn!, "quality_reviewer"],
    [people.rita!, "regulatory_reviewer"],
  ] as const) {
    const [s] = await database.client`select status from change_requests where number = ${number}`;
    if (s!.status === "approved") break;
    await signChangeRequest(database.db, who, number, {
      meaning: "approved",
      role,
      username: who.username,
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
  }
  const [s] = await database.client`select status from change_requests where number = ${number}`;
  expect(s!.status).toBe("approved");
}

const release = (number: string) =>
  releaseChangeRequests(database.db, keyRing, people.remy!, {
    site: "EIN",
    changeRequests: [number],
    username: people.remy!.username,
    password: PASSWORD,
    waiver: WAIVER,
  });

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "x.engineer", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "x.quality", ["quality_reviewer"], PASSWORD);
  people.rita = await signedInPerson(database, "x.regulatory", ["regulatory_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "x.release", ["release_manager"], PASSWORD);
}, 120_000);

describe("a downgrade approved under a lower requirement, released after the requirement was raised", () => {
  it("is not released below the requirement without a deviation", async () => {
    const modeNow = async () =>
      (
        await database.client`
          select r.tracking_mode from tracking_rules r join materials m on m.id = r.material_id join sites s on s.id = r.site_id
          where m.part_number = 'SUB-1005' and s.code = 'EIN' and r.effective_to is null`
      )[0]!.tracking_mode as string;
    expect(await modeNow()).toBe("serial");
    // 1. The requirement of SUB-1005 is lowered to lot (regulatory reviewer signs), released.
    const lower = await draft("Lower SUB-1005's requirement to lot", [requirement("lot")]);
    await approve(lower);
    expect(await release(lower)).toMatchObject({ ok: true });

    // 2. A downgrade to lot: it meets the (lowered) requirement, so it needs and carries no deviation.
    const downgrade = await draft("Lot-track SUB-1005 at EIN", [toLot]);
    await approve(downgrade);

    // 3. The requirement is raised back to serial, released.
    const raise = await draft("Raise SUB-1005's requirement to serial", [requirement("serial")]);
    await approve(raise);
    expect(await release(raise)).toMatchObject({ ok: true });

    // 4. The downgrade's release: SUB-1005 at EIN would be lot while serial is required, with no deviation.
    const auditBefore = (await database.client`select max(seq)::text as seq from audit_trail`)[0]!.seq;
    const outcome = await release(downgrade).catch((e: unknown) => e);
    // Refused, naming the gap; the rule stays serial, no deviation row, no version.
    expect(outcome).toMatchObject({ code: "conflict" });
    expect(String((outcome as Error).message)).toContain("below the required traceability in force");
    expect(await modeNow()).toBe("serial");
    expect((await database.client`select count(*)::int as n from traceability_deviations`)[0]!.n).toBe(0);
    // Only the audit of the failed release (as every failed release leaves).
    const written = await database.client`select action from audit_trail where seq > ${auditBefore}::bigint order by seq`;
    expect(written.map((r) => r.action)).toEqual(["rule_set.release_failed"]);
  });
});
