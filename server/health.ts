/**
 * Readiness (ADR 017): the database answers (within 2 s), the committed migrations are applied,
 * and whether this instance can sign (an active signing key whose private part it holds) — the
 * last reported with its reason but not failing readiness, since pulls need no private key.
 * Bodies name what is wrong in words and error codes, never SQL.
 */
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { currentDataPoint } from "../app/services/audit.server";
import type { Db } from "../app/utils/db.server";
import { MIGRATIONS_FOLDER } from "../app/utils/migrate.server";
import { loadKeyRing } from "../app/utils/signing.server";
import { describeDatabaseError, withDeadline } from "./db-faults";

export interface Readiness {
  status: "ok" | "unavailable" | "stopping";
  database: string;
  migrations?: string;
  signing?: string;
  dataPoint?: number;
}

/** The newest committed migration's timestamp (what drizzle records as `created_at`). */
function newestMigration(): number {
  try {
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: { when: number }[] };
    return Math.max(0, ...journal.entries.map((e) => e.when));
  } catch {
    return 0;
  }
}

/** Whether this instance can sign, in words: "ok" or why not. */
export async function signingState(db: Db, keysDir: string): Promise<string> {
  const ring = await loadKeyRing(db, keysDir);
  if (ring.missing.length > 0) return `private key(s) ${ring.missing.join(", ")} missing in ${keysDir}: releases and renewals on this instance are refused`;
  if (ring.active.length === 0) return "no active signing key: releases and renewals are refused (npm run c981 -- keys:rotate)";
  return "ok";
}

export function createHealth(options: { db: Db; keysDir?: string }) {
  const { db, keysDir } = options;
  const expected = newestMigration();
  let stopping = false;
  let signing: { at: number; value: string } | undefined;

  async function readiness(): Promise<Readiness> {
    if (stopping) return { status: "stopping", database: "not checked: the portal is stopping" };
    try {
      return await withDeadline(
        (async () => {
          const dataPoint = await currentDataPoint(db);
          const [row] = (await db.execute(sql`select coalesce(max(created_at), 0)::bigint as applied from drizzle.__drizzle_migrations`)) as unknown as { applied: string }[];
          const applied = Number(row?.applied ?? 0);
          const migrations = applied >= expected ? "ok" : "not applied yet: this build has newer migrations than the database";
          if (keysDir && (!signing || Date.now() - signing.at > 10_000)) {
            signing = { at: Date.now(), value: await signingState(db, keysDir).catch((e: unknown) => `not checked: ${describeDatabaseError(e)}`) };
          }
          const body: Readiness = { status: migrations === "ok" ? "ok" : "unavailable", database: "ok", migrations, dataPoint };
          if (signing) body.signing = signing.value;
          return body;
        })(),
        2000,
      );
    } catch (error) {
      return { status: "unavailable", database: describeDatabaseError(error) };
    }
  }

  return {
    readiness,
    stopping: () => {
      stopping = true;
    },
  };
}
