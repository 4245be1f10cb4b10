/**
 * Review 25: a downgrade below the required traceability, in the same request as the reclassification
 * that lowers the requirement. SUB-1012 (high risk, critical to safety: required serial) is made
 * non-regulated (high, not regulated: required lot) and lot-tracked at EIN in one request. Issue 25
 * part 4: "A downgrade of a regulated material below its required level is refused without a
 * deviation". Submit judges it against the material as the request leaves it (subjectsAfter), the
 * analysis against the material as it is; the two must agree, and the downgrade of a material that
 * is regulated when the request is signed must carry a deviation attested by the regulatory reviewer.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { computeImpactAnalysis } from "../../app/services/impact-analysis.server";
import { createChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { DomainError } from "../../app/utils/errors.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
const PASSWORD = "review25-attributes-password";
const people: Record<string, Signer> = {};

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  people.emil = await signedInPerson(database, "y.engineer", ["engineer"], PASSWORD);
}, 120_000);

describe("SUB-1012 made non-regulated and lot-tracked at EIN in one request", () => {
  it("is refused at submit without a deviation (or the analysis does not call it below the requirement)", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      title: "Declassify and lot-track SUB-1012 at EIN",
      justification: "Serial printer down at WC30.",
      riskAssessment: "High: a regulated part loses unit-level trace.",
      legacyDataPlan: "grandfather",
      changes: [
        { kind: "attributes", material: "SUB-1012", regulatoryFlags: [] },
        {
          kind: "tracking",
          material: "SUB-1012",
          sites: ["EIN"],
          trackingMode: "lot",
          containerTracking: false,
          identifierFormatCodes: ["EIN-LOT"],
          consumptionScan: "identify",
        },
      ],
    });
    const { report } = await computeImpactAnalysis(database.db, number);
    const below = report.changes.flatMap((c) => c.findings).filter((f) => f.code === "BELOW_REQUIRED_TRACEABILITY");
    const refused = await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number), {}).then(
      () => null,
      (e: unknown) => e as DomainError,
    );
    // Evidence either way: the analysis's verdict and the submit's.
    expect({ analysisSaysBelow: below.length > 0, submitRefused: refused?.status === 400 }).toEqual({ analysisSaysBelow: true, submitRefused: true });
  });
});
