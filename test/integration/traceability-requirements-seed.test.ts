import { beforeAll, describe, expect, it } from "vitest";
import { requirementFor } from "../../app/domain/traceability-requirement";
import { requirementSubjects, requirementsInForce } from "../../app/queries/traceability-requirements.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
});

describe("the demo plant's required traceability (ADR 035)", () => {
  it("states a requirement for every product material", async () => {
    const requirements = await requirementsInForce(database.db);
    expect(requirements).toHaveLength(8);
    const subjects = await requirementSubjects(database.db);
    expect(subjects.filter((s) => requirementFor(s, requirements) === null)).toEqual([]);
    // Hand-checked: SUB-1005 has its own; RAW-1001 its family's; FIN-1001 (udi, high) serial.
    const of = (part: string) => requirementFor(subjects.find((s) => s.partNumber === part)!, requirements)!;
    expect(of("SUB-1005")).toMatchObject({ scope: "material", minimumTracking: "serial" });
    expect(of("RAW-1001")).toMatchObject({ scope: "family", family: "RAW", containerRequired: true });
    expect(of("FIN-1001")).toMatchObject({ scope: "risk_class", riskClass: "high", regulated: true, minimumTracking: "serial" });
    expect(of("CON-1001")).toMatchObject({ scope: "risk_class", riskClass: "low", regulated: false, minimumTracking: "none" });
  });
});
