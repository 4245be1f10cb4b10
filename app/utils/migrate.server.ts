import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "../../db/schema";
import { sql } from "drizzle-orm";
import type { Database, DbOrTx } from "./db.server";
import { identityHash, type EpcisEvent } from "../domain/epcis/events";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Session advisory lock key for "migrate and seed": several servers starting at once do it once. */
const PREPARE_LOCK = 981_000_001;

/** What migrating needs of a database: its URLs (ADR 018) and, embedded, the application role's password. */
export type MigratableDatabase = Pick<Database, "url" | "ownerUrl" | "ownerIsFallback"> & { embedded?: { appPassword: string } };

/** The owner connection under the prepare lock: one connection, drizzle on top of it. */
export interface OwnerSession {
  client: postgres.Sql;
  db: ReturnType<typeof drizzle<typeof schema>>;
}

/**
 * Runs `work` on one owner connection under one advisory lock, so concurrent starts (and a CLI
 * run) wait for each other instead of colliding. Migrations and seeding run under the owner
 * credential; the portal's pool never does (ADR 018).
 */
export async function withPrepareLock<T>(
  database: MigratableDatabase,
  log: ((line: string) => void) | undefined,
  work: (session: OwnerSession) => Promise<T>,
): Promise<T> {
  if (database.ownerIsFallback) {
    (log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      'C-981: warning: C981_MIGRATE_URL is not set: migrating with DATABASE_URL, so the portal\'s own connection can change the schema and triggers that keep the audit promises (README "Database roles", ADR 018).',
    );
  }
  const client = postgres(database.ownerUrl ?? database.url, {
    max: 1,
    onnotice: () => {},
    connection: { TimeZone: "UTC", application_name: "c981-migrate" },
  });
  try {
    await client`select pg_advisory_lock(${PREPARE_LOCK})`;
    const db = drizzle(client, { schema, casing: "snake_case" });
    const result = await work({ client, db });
    await client`select pg_advisory_unlock(${PREPARE_LOCK})`;
    return result;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/**
 * Applies the committed migrations not applied yet (under withPrepareLock), re-grants the
 * application role and, embedded, sets its password. Returns the tags of the migrations it applied.
 */
export async function applyMigrations({ client, db }: OwnerSession, appPassword?: string): Promise<string[]> {
  const [table] = await client`select to_regclass('drizzle.__drizzle_migrations') is not null as present`;
  const [before] = table?.present ? await client`select max(created_at) as last from drizzle.__drizzle_migrations` : [];
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  // drizzle applies the journal's entries newer than the last one recorded, in order.
  const last = before?.last === null || before?.last === undefined ? -Infinity : Number(before.last);
  const applied = journal()
    .filter((entry) => entry.when > last)
    .map((entry) => entry.tag);
  // Once, in the run that adds the column: a later start does not read the events again (ADR 014).
  if (applied.some((tag) => tag.startsWith(IDENTITY_MIGRATION))) await fillEpcisIdentities(client);
  // Re-granted after every run, so tables a later migration adds are covered (ADR 018).
  await client`select c981_grant_app_role()`;
  if (appPassword) {
    // The embedded server's own application role: its password lives in the data folder.
    if (!/^[A-Za-z0-9_-]+$/.test(appPassword)) throw new Error("C-981: the application role's password file holds unexpected characters");
    await client.unsafe(`ALTER ROLE c981_app WITH LOGIN PASSWORD '${appPassword}'`);
  }
  return applied;
}

/** The migration that gives EPCIS events their identity column (ADR 014, *Identity*). */
const IDENTITY_MIGRATION = "0025_";

function journal(): { when: number; tag: string }[] {
  const text = fs.readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8");
  return (JSON.parse(text) as { entries: { when: number; tag: string }[] }).entries;
}

/** The newest committed migration's timestamp (what drizzle records as `created_at`); 0 when the journal cannot be read. */
export function newestCommittedMigration(): number {
  try {
    return Math.max(0, ...journal().map((e) => e.when));
  } catch {
    return 0;
  }
}

/** The newest migration the database has applied (drizzle's `created_at`); 0 for none. */
export async function newestAppliedMigration(db: DbOrTx): Promise<number> {
  const [row] = (await db.execute(sql`select coalesce(max(created_at), 0)::bigint as applied from drizzle.__drizzle_migrations`)) as unknown as {
    applied: string;
  }[];
  return Number(row?.applied ?? 0);
}

/**
 * Gives the EPCIS events stored before migration 0025 their identity (ADR 014, *Identity*), which
 * SQL cannot compute: in id order, 1,000 at a time; an identity an earlier row already holds (the
 * same event stored twice before 0025) stays null on the later row, which is then found by its
 * event key only. Returns how many rows were given one. Idempotent: only null identities are read.
 */
export async function fillEpcisIdentities(client: postgres.Sql): Promise<number> {
  const [table] = await client`select to_regclass('public.epcis_events') is not null as present`;
  if (!table?.present) return 0;
  let filled = 0;
  let after = 0;
  for (;;) {
    const rows = await client<{ id: string; body: EpcisEvent }[]>`
      select id, body from epcis_events where identity_hash is null and id > ${after} order by id limit 1000`;
    if (!rows.length) return filled;
    after = Number(rows.at(-1)!.id);
    const seen = new Set<string>();
    const fills = rows.flatMap((r) => {
      const hash = identityHash(r.body);
      if (seen.has(hash)) return [];
      seen.add(hash);
      return [{ id: Number(r.id), hash }];
    });
    const updated = await client`
      update epcis_events e set identity_hash = x.hash
      from json_to_recordset(${client.json(fills)}::json) as x(id bigint, hash text)
      where e.id = x.id and not exists (select 1 from epcis_events o where o.identity_hash = x.hash)`;
    filled += updated.count;
  }
}
