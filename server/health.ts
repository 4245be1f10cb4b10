/**
 * Readiness (ADR 017): the database answers (within 2 s), the committed migrations are applied,
 * and whether this instance can sign (an active signing key whose private part it holds) — the
 * last reported with its reason but not failing readiness, since pulls need no private key.
 * Bodies name what is wrong in words and error codes, never SQL.
 */
import { currentDataPoint } from "../app/queries/audit.server";
import type { Db } from "../app/utils/db.server";
import { metrics } from "../app/utils/metrics.server";
import { newestAppliedMigration, newestCommittedMigration } from "../app/utils/migrate.server";
import { loadKeyRing } from "../app/utils/signing.server";
import { describeDatabaseError, withDeadline } from "./db-faults";

export interface Readiness {
  status: "ok" | "unavailable" | "stopping";
  database: string;
  migrations?: string;
  signing?: string;
  dataPoint?: number;
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
  const expected = newestCommittedMigration();
  let stopping = false;
  let signing: { at: number; value: string } | undefined;

  async function readiness(): Promise<Readiness> {
    if (stopping) return { status: "stopping", database: "not checked: the portal is stopping" };
    try {
      return await withDeadline(
        (async () => {
          const dataPoint = await currentDataPoint(db);
          const applied = await newestAppliedMigration(db);
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
      metrics.dbErrors.inc({ where: "readiness" });
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
