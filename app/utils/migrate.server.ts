import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "../../db/schema";
import type { Database } from "./db.server";
import { ensureKeyRing } from "./signing.server";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Session advisory lock key for "migrate and seed": several servers starting at once do it once. */
const PREPARE_LOCK = 981_000_001;

export interface PrepareResult {
  seeded: boolean;
}

/**
 * Applies the committed migrations and, on an empty database, loads the demo plant — under one
 * advisory lock on one connection, so concurrent starts wait for each other instead of colliding.
 */
export async function prepareDatabase(
  database: Pick<Database, "url" | "ownerUrl" | "ownerIsFallback"> & { embedded?: { appPassword: string } },
  /** keysDir: where this instance keeps its private signing keys; the first key is created there. */
  options: {
    seed: "demo" | "none";
    keysDir?: string;
    log?: (line: string) => void;
    /** Whole days to move the demo plant's dates; by default so that it ends yesterday (the database's clock). */
    demoShiftDays?: number;
  },
): Promise<PrepareResult> {
  if (database.ownerIsFallback) {
    (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      "C-981: warning: C981_MIGRATE_URL is not set: migrating with DATABASE_URL, so the portal's own connection can change the schema and triggers that keep the audit promises (README \"Database roles\", ADR 018).",
    );
  }
  // Migrations and seeding run under the owner credential; the portal's pool never does (ADR 018).
  const client = postgres(database.ownerUrl ?? database.url, {
    max: 1,
    onnotice: () => {},
    connection: { TimeZone: "UTC", application_name: "c981-migrate" },
  });
  try {
    await client`select pg_advisory_lock(${PREPARE_LOCK})`;
    const db = drizzle(client, { schema, casing: "snake_case" });
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    // Re-granted after every run, so tables a later migration adds are covered (ADR 018).
    await client`select c981_grant_app_role()`;
    const appPassword = database.embedded?.appPassword;
    if (appPassword) {
      // The embedded server's own application role: its password lives in the data folder.
      if (!/^[A-Za-z0-9_-]+$/.test(appPassword)) throw new Error("C-981: the application role's password file holds unexpected characters");
      await client.unsafe(`ALTER ROLE c981_app WITH LOGIN PASSWORD '${appPassword}'`);
    }
    let seeded = false;
    const keyRing = options.keysDir ? await ensureKeyRing(db, options.keysDir) : undefined;
    if (options.seed === "demo") {
      const [row] = await client`select exists(select 1 from sites) as any`;
      if (!row?.any) {
        if (!keyRing) throw new Error("C-981: the demo plant's rule sets are signed: a signing-key directory is needed to seed it");
        const { seedDemoPlant } = await import("../seed/seed.server");
        const { demoShiftDaysFor } = await import("../seed/demo-plant");
        const [clock] = await client`select now() as now`;
        const shiftDays = options.demoShiftDays ?? demoShiftDaysFor(new Date(clock!.now as string | Date));
        const summary = await seedDemoPlant(db, keyRing, { shiftDays });
        options.log?.(`C-981: empty database: loaded the demo plant (${summary.traceItems} trace items, dates moved ${shiftDays} days so that it runs up to yesterday).`);
        seeded = true;
      }
    }
    await client`select pg_advisory_unlock(${PREPARE_LOCK})`;
    return { seeded };
  } finally {
    await client.end({ timeout: 5 });
  }
}
