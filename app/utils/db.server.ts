import { once } from "node:events";
import os from "node:os";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../../db/schema";
import { openEmbeddedPostgres, type EmbeddedServer } from "./embedded-postgres.server";
import type { Env } from "./env.server";

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** The postgres.js transaction under a drizzle transaction, for what drizzle's API lacks (COPY, prepared statements). */
export function rawTransaction(tx: Tx): postgres.TransactionSql {
  return (tx as unknown as { session: { client: postgres.TransactionSql } }).session.client;
}

/**
 * Runs a statement as a prepared statement on the transaction's connection. drizzle's `execute`
 * sends it unprepared, and postgres.js then describes a parameterized statement before running it:
 * two round trips, each waiting for this process whenever it is busy (parsing an import, say). A
 * statement run again and again (a batch loop) is parsed and described once per connection.
 */
export async function executePrepared<T extends Record<string, unknown>>(tx: Tx, query: SQL): Promise<T[]> {
  const { sql: text, params } = pgDialect.sqlToQuery(query);
  return (await rawTransaction(tx).unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
}

const pgDialect = new PgDialect();

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped; null as `\N`. */
export function copyField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value !== "string") return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r") : value;
}

/**
 * `COPY target FROM STDIN` on the transaction's connection, of rows already in COPY's text format
 * (one per line, fields by copyField). The rows go in pieces of about 256 KiB with backpressure;
 * the promise settles when the server has taken them all (an error in the COPY rejects it, and
 * leaves the transaction failed).
 */
export async function copyRows(tx: Tx, target: string, rows: readonly string[]): Promise<void> {
  if (!rows.length) return;
  const query = rawTransaction(tx).unsafe(`copy ${target} from stdin`);
  // An error PostgreSQL reports after the last row was sent never reaches the stream (postgres.js
  // 3.4 hands it to the query, whose promise has already given the stream, and never finishes the
  // stream): taken from the query here, or the COPY would wait forever.
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const internals = query as unknown as { reject: (error: unknown) => void };
  const reject = internals.reject;
  internals.reject = (error) => {
    fail(error);
    reject(error);
  };
  const stream = await query.writable();
  const done = Promise.race([once(stream, "finish"), failed]);
  done.catch(() => {}); // awaited below; an early COPY error must not go unhandled meanwhile
  let piece = "";
  for (const row of rows) {
    piece += row;
    if (piece.length >= 256 * 1024) {
      if (!stream.write(piece)) await Promise.race([once(stream, "drain"), done]);
      piece = "";
    }
  }
  if (piece) stream.write(piece);
  stream.end();
  await done;
}

/** An open database: the drizzle handle, the raw postgres.js client, and how to close both. */
export interface Database {
  db: Db;
  client: postgres.Sql;
  /** What the pool connects as: the application role c981_app, never an owner (ADR 018). */
  url: string;
  /**
   * The owner credential migrations (and seeding) run under: the embedded server's bootstrap
   * superuser, or C981_MIGRATE_URL. Unset: the pool's own URL (an operator's DATABASE_URL
   * without C981_MIGRATE_URL; prepareDatabase says so).
   */
  ownerUrl?: string;
  /** Set when the owner credential is DATABASE_URL for want of C981_MIGRATE_URL. */
  ownerIsFallback?: boolean;
  /** The embedded server behind it, when C-981 uses (and maybe owns) one. */
  embedded?: EmbeddedServer;
  close(): Promise<void>;
}

/**
 * The `application_name` of this process's pool (and LISTEN) connections: `c981-<host>-<pid>`, and
 * `-<n>` for a second pool in one process (tests), so pg_stat_activity tells instances apart (the
 * metrics count this instance's connections by it; ADR 025). PostgreSQL keeps 63 bytes.
 */
let pools = 0;
export function instanceApplicationName(): string {
  const n = ++pools;
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9.-]/g, "")
    .slice(0, 40);
  return `c981-${host}-${process.pid}${n > 1 ? `-${n}` : ""}`.slice(0, 63);
}

export function connect(url: string, options: { max?: number; embedded?: EmbeddedServer; ownerUrl?: string; ownerIsFallback?: boolean } = {}): Database {
  const client = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Reconnect at least every second while the database is away (postgres.js backs off up to
    // 20 s by default: the portal would stay blind that long after it returns; ADR 017).
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 1),
    connect_timeout: 10,
    // Store and read times as UTC; the server's own zone never leaks into results.
    connection: { TimeZone: "UTC", application_name: instanceApplicationName() },
  });
  const db = drizzle(client, { schema, casing: "snake_case" });
  return {
    db,
    client,
    url,
    ownerUrl: options.ownerUrl,
    ownerIsFallback: options.ownerIsFallback,
    embedded: options.embedded,
    async close() {
      await client.end({ timeout: 5 });
      if (options.embedded?.owned) await options.embedded.stop();
    },
  };
}

/**
 * DATABASE_URL when set (migrations under C981_MIGRATE_URL, else DATABASE_URL itself), else the
 * embedded server under C981_DATA_DIR (started if needed): the pool as c981_app, migrations as
 * its bootstrap superuser (ADR 018).
 */
export async function openDatabase(
  env: Pick<Env, "DATABASE_URL" | "C981_MIGRATE_URL" | "C981_DATA_DIR" | "C981_DB_LOG"> & Partial<Pick<Env, "C981_DB_POOL">>,
  options: {
    max?: number;
    /** What C-981 says about the embedded server (a copy, an orphan stopped); default: stdout. */
    notice?: (line: string) => void;
    /** Where the embedded server's own lines go with C981_DB_LOG; default: stderr, "[postgres] …". */
    serverLog?: (line: string) => void;
  } = {},
): Promise<Database> {
  const { notice, serverLog, ...rest } = options;
  const pool = { max: env.C981_DB_POOL, ...rest };
  if (env.DATABASE_URL) {
    return connect(env.DATABASE_URL, { ...pool, ownerUrl: env.C981_MIGRATE_URL ?? env.DATABASE_URL, ownerIsFallback: !env.C981_MIGRATE_URL });
  }
  const embedded = await openEmbeddedPostgres(env.C981_DATA_DIR, {
    log: env.C981_DB_LOG ? (serverLog ?? ((line) => process.stderr.write(`[postgres] ${line.trimEnd()}\n`))) : undefined,
    notice,
  });
  return connect(embedded.appUrl, { ...pool, embedded, ownerUrl: embedded.url });
}

/*
 * One database per process. The production server opens and prepares it (migrations, seed) before
 * Remix loads and registers it here (server/main.ts); under `remix vite:dev` the dev server
 * registers an opener that does the same (vite.config.ts). getDatabase() itself only connects:
 * it never migrates (ADR 022). The values live on globalThis because the server entry, the Vite
 * config and the built Remix bundle are separate module instances.
 */
const KEY = Symbol.for("c981.database");
/** Set by vite.config.ts under `remix vite:dev`: opens and prepares the database on first use. */
const OPENER = Symbol.for("c981.databaseOpener");
type Holder = { [KEY]?: Promise<Database>; [OPENER]?: () => Promise<Database> };

export function registerDatabase(database: Promise<Database>): void {
  (globalThis as Holder)[KEY] = database;
}

export async function getDatabase(): Promise<Database> {
  const holder = globalThis as Holder;
  if (!holder[KEY]) {
    const opener = holder[OPENER];
    if (opener) holder[KEY] = opener();
    else {
      const { readEnv } = await import("./env.server");
      holder[KEY] ??= openDatabase(readEnv());
    }
  }
  return holder[KEY];
}

export async function getDb(): Promise<Db> {
  return (await getDatabase()).db;
}
