/**
 * Part 11 hardening (ADR 020): nobody grants roles to themselves, and the author, the
 * signers and the release manager of one request are distinct people. Before, `ada.admin` granted
 * herself `release_manager` (302), and a quality reviewer who approved a request released it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { grantRole } from "../../app/services/users.server";
import { runImpactAnalysis } from "../../app/services/impact-analysis.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

let database: Database;
let keyRing: KeyRing;
const PASSWORD = "separation-of-duties-password";
let author: Signer;
let reviewerAndReleaser: Signer;
let releaser: Signer;

const auditCount = async () => Number((await database.client`select count(*)::int as n from audit_trail`)[0]!.n);
const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  author = await signedInPerson(database, "sod.author", ["engineer"], PASSWORD);
  reviewerAndReleaser = await signedInPerson(database, "sod.both", ["quality_reviewer", "release_manager"], PASSWORD);
  releaser = await signedInPerson(database, "sod.release", ["release_manager"], PASSWORD);
}, 120_000);

describe("separation of duties", () => {
  it("an administrator cannot grant a role to herself; nothing is written", async () => {
    const before = await auditCount();
    await expect(
      grantRole(database.db, "ada.admin", { username: "ada.admin", grant: { role: "release_manager", site: null }, reason: "I will release it myself" }),
    ).rejects.toThrow(/Nobody grants roles to themselves/);
    expect(await auditCount()).toBe(before);
    const held = await database.client`select r.role from user_roles r join users u on u.id = r.user_id where u.username = 'ada.admin'`;
    expect(held.map((r) => r.role)).not.toContain("release_manager");
    // Another administrator may.
    await grantRole(database.db, "another.admin", { username: "ada.admin", grant: { role: "release_manager", site: "EIN" }, reason: "covers EIN releases" });
  });

  it("a reviewer who approved a request never releases it; another release manager does", async () => {
    const { number } = await createChangeRequest(database.db, author, {
      title: "Serialize ASM-1004 at EIN",
      justification: "Unit-level trace for field returns.",
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
    });
    await submitChangeRequest(database.db, author, number, await rowVersion(number));
    const signed = await signChangeRequest(database.db, reviewerAndReleaser, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: "sod.both",
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(signed).toMatchObject({ ok: true, status: "approved" });
    const waiver = "Demo ERP/PLM disagreements are tracked separately (test).";
    await expect(
      releaseChangeRequests(database.db, keyRing, reviewerAndReleaser, {
        site: "EIN",
        changeRequests: [number],
        username: "sod.both",
        password: PASSWORD,
        waiver,
      }),
    ).rejects.toThrow(/you signed it as a reviewer/);
    const [{ status }] = (await database.client`select status from change_requests where number = ${number}`) as unknown as [{ status: string }];
    expect(status).toBe("approved");
    const released = await releaseChangeRequests(database.db, keyRing, releaser, {
      site: "EIN",
      changeRequests: [number],
      username: "sod.release",
      password: PASSWORD,
      waiver,
    });
    expect(released.ok).toBe(true);
    // Decided: its analyses stay as they were signed with — the service refuses a new one (not only the page).
    const analysesBefore = Number((await database.client`select count(*)::int as n from impact_analyses`)[0]!.n);
    await expect(runImpactAnalysis(database.db, { username: "sod.author" }, number)).rejects.toThrow(/is decided/);
    expect(Number((await database.client`select count(*)::int as n from impact_analyses`)[0]!.n)).toBe(analysesBefore);
  }, 60_000);

  it("one signer, one live signature per revision: an approval cannot be followed by 'changes requested' from the same person", async () => {
    const { number } = await createChangeRequest(database.db, author, {
      // SUB-1001 carries no regulatory flag: lot tracking with the lot identified meets its required traceability (ADR 035).
      title: "Move SUB-1001 at EIN to lots",
      justification: "Serial labels are not read at the line.",
      riskAssessment: "High: a downgrade, regulatory review needed.",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "SUB-1001",
          sites: ["EIN"],
          trackingMode: "lot",
          containerTracking: false,
          identifierFormatCodes: ["EIN-LOT"],
          consumptionScan: "identify",
        },
      ],
    });
    await submitChangeRequest(database.db, author, number, await rowVersion(number));
    const { analysisHash: hash, acknowledged } = await reviewed(database.db, number);
    const first = await signChangeRequest(database.db, reviewerAndReleaser, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: "sod.both",
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      analysisHash: hash,
      acknowledged,
    });
    // A downgrade also needs a regulatory reviewer: still in review.
    expect(first).toMatchObject({ ok: true, status: "in_review" });
    await expect(
      signChangeRequest(database.db, reviewerAndReleaser, number, {
        meaning: "changes_requested",
        role: "quality_reviewer",
        username: "sod.both",
        password: PASSWORD,
        rowVersion: await rowVersion(number),
        analysisHash: hash,
        comment: "on second thought",
      }),
    ).rejects.toThrow(/one signer, one live signature/);
    const live =
      await database.client`select meaning from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number} and s.voided_at is null`;
    expect(live.map((r) => r.meaning)).toEqual(["approved"]);
  }, 60_000);
});
