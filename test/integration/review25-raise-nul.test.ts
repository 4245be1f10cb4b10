/**
 * Review 25: the one schema every raise goes through (app/schemas/quality-event.ts) refuses a NUL
 * in the text fields with a field error, as the form (parseForm) and the QMS parser do; the CLI's
 * `quality:raise --json` reaches the service without either.
 */
import { beforeAll, expect, it } from "vitest";
import { raiseQualityEvent } from "../../app/services/quality-events.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
}, 120_000);

it("a NUL in the title is a field error, not a database error", async () => {
  const error = await raiseQualityEvent(
    database.db,
    { username: "cli:review25", ability: null },
    { kind: "nonconformance", site: "EIN", severity: "minor", title: "Bad\u0000title", references: [{ kind: "material", material: "SUB-1005" }] },
  ).then(
    () => null,
    (e: unknown) => e as { name?: string; fields?: Record<string, string[]>; message?: string },
  );
  expect({ name: error?.name, fields: Object.keys(error?.fields ?? {}) }).toEqual({ name: "DomainError", fields: ["title"] });
});
