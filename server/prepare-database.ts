/**
 * Migrating and seeding (ADR 022): the one place that turns an open database into one the portal
 * can serve — migrations, the first signing key, the demo plant on an empty database. server/main.ts
 * calls it at start, the CLI before its commands, the tests' global setup and the benches too.
 * app/utils/db.server.ts's getDatabase() only connects.
 */
import { siteCount } from "../app/queries/cli-plant.server";
import { ensureKeyRing } from "../app/services/keys.server";
import type { Database } from "../app/utils/db.server";
import { openDatabase } from "../app/utils/db.server";
import type { Env } from "../app/utils/env.server";
import { applyMigrations, withPrepareLock, type MigratableDatabase } from "../app/utils/migrate.server";

export interface PrepareResult {
  seeded: boolean;
}

/**
 * Applies the committed migrations and, on an empty database, loads the demo plant — under one
 * advisory lock on one connection, so concurrent starts wait for each other instead of colliding.
 */
export async function prepareDatabase(
  database: MigratableDatabase,
  /** keysDir: where this instance keeps its private signing keys; the first key is created there. */
  options: {
    seed: "demo" | "none";
    keysDir?: string;
    log?: (line: string) => void;
    /** Whole days to move the demo plant's dates; by default so that it ends yesterday (the database's clock). */
    demoShiftDays?: number;
  },
): Promise<PrepareResult> {
  return withPrepareLock(database, options.log, async (session) => {
    const { client, db } = session;
    await applyMigrations(session, database.embedded?.appPassword);
    let seeded = false;
    const keyRing = options.keysDir ? await ensureKeyRing(db, options.keysDir) : undefined;
    if (options.seed === "demo") {
      if ((await siteCount(db)) === 0) {
        if (!keyRing) throw new Error("C-981: the demo plant's rule sets are signed: a signing-key directory is needed to seed it");
        const { seedDemoPlant } = await import("../app/seed/seed.server");
        const { demoShiftDaysFor } = await import("../app/seed/demo-plant");
        const [clock] = await client`select now() as now`;
        const shiftDays = options.demoShiftDays ?? demoShiftDaysFor(new Date(clock!.now as string | Date));
        const summary = await seedDemoPlant(db, keyRing, { shiftDays });
        options.log?.(
          `C-981: empty database: loaded the demo plant (${summary.traceItems} trace items, dates moved ${shiftDays} days so that it runs up to yesterday).`,
        );
        seeded = true;
      }
    }
    return { seeded };
  });
}

/** Opens the database the environment names and prepares it (migrations, first key, demo plant per C981_SEED). */
export async function openPreparedDatabase(
  env: Pick<Env, "DATABASE_URL" | "C981_MIGRATE_URL" | "C981_DATA_DIR" | "C981_DB_LOG" | "C981_SEED" | "C981_SIGNING_KEYS_DIR">,
): Promise<Database> {
  const database = await openDatabase(env);
  await prepareDatabase(database, { seed: env.C981_SEED, keysDir: env.C981_SIGNING_KEYS_DIR });
  return database;
}
