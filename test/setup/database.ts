import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { connect, type Database } from "../../app/utils/db.server";

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The same database as the application role c981_app (migration 0018, ADR 018). */
function asAppRole(url: string): string {
  const u = new URL(url);
  u.username = "c981_app";
  u.password = encodeURIComponent(inject("appPassword"));
  return u.toString();
}

/**
 * A fresh, migrated database for this test file (cloned from the run's template), dropped after
 * the file's tests. `empty: true` gives a database without migrations, for migration tests.
 * The pool connects as the application role, as the portal does; `ownerUrl` is the owner
 * credential (the server's superuser) and `owner` a client with it, for what only an owner — or an
 * attacker holding its credential — may do.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<Database & { name: string; ownerUrl: string; owner: postgres.Sql }> {
  const adminUrl = inject("adminUrl");
  const name = `c981_t_${inject("runId")}_${randomBytes(5).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject("templateDatabase")}`);
  } finally {
    await admin.end();
  }
  const ownerUrl = withDatabase(adminUrl, name);
  // An empty database has no application role grants yet: its tests migrate it as the owner.
  const database = connect(options.empty ? ownerUrl : asAppRole(ownerUrl), { ownerUrl });
  // Connects on first use only.
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  afterAll(async () => {
    await owner.end();
    await database.close();
    const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  });
  return Object.assign(database, { name, ownerUrl, owner });
}

export { withDatabase };
