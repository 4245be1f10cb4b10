/** Reads of the runtime API's uncached routes (server/runtime-api.ts; ADR 008): one query each. */
import { and, asc, eq, gt } from "drizzle-orm";
import { ruleSetVersions } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** The JWS of the site's next scheduled version (effective after `now`), if any. */
export async function upcomingRuleSetJws(db: DbOrTx, siteId: number, now: Date, schemaVersion: 1 | 2 = 1): Promise<string | null | undefined> {
  const [next] = await db
    .select({ jws: ruleSetVersions.jws, jwsV2: ruleSetVersions.jwsV2 })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), gt(ruleSetVersions.effectiveFrom, now)))
    .orderBy(asc(ruleSetVersions.version))
    .limit(1);
  // Schema version 2 when asked and the version has it; otherwise v1 (versions made before 0037, ADR 039).
  return schemaVersion === 2 ? (next?.jwsV2 ?? next?.jws) : next?.jws;
}

/** Every version of the site's rule set, oldest first (the digest as stored: hex). */
export async function ruleSetVersionList(db: DbOrTx, siteId: number) {
  return db
    .select({
      version: ruleSetVersions.version,
      effectiveFrom: ruleSetVersions.effectiveFrom,
      issuedAt: ruleSetVersions.issuedAt,
      expiresAt: ruleSetVersions.expiresAt,
      kind: ruleSetVersions.kind,
      digest: ruleSetVersions.digest,
      digestV2: ruleSetVersions.digestV2,
    })
    .from(ruleSetVersions)
    .where(eq(ruleSetVersions.siteId, siteId))
    .orderBy(asc(ruleSetVersions.version));
}

/** The JWS of one version of the site's rule set, if it exists. */
export async function ruleSetVersionJws(db: DbOrTx, siteId: number, version: number, schemaVersion: 1 | 2 = 1): Promise<string | null | undefined> {
  const [row] = await db
    .select({ jws: ruleSetVersions.jws, jwsV2: ruleSetVersions.jwsV2 })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), eq(ruleSetVersions.version, version)));
  return schemaVersion === 2 ? (row?.jwsV2 ?? row?.jws) : row?.jws;
}
