import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { connect, type Database } from "../../app/utils/db.server";

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh, migrated database for this test file (cloned from the run's template), dropped after
 * the file's tests. `empty: true` gives a database without migrations, for migration tests.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<Database & { name: string }> {
  const adminUrl = inject("adminUrl");
  const name = `c981_t_${inject("runId")}_${randomBytes(5).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject("templateDatabase")}`);
  } finally {
    await admin.end();
  }
  const database = connect(withDatabase(adminUrl, name));
  afterAll(async () => {
    await database.close();
    const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  });
  return Object.assign(database, { name });
}

export { withDatabase };
