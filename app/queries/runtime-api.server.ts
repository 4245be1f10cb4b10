/** Reads of the runtime API's uncached routes (server/runtime-api.ts; ADR 008): one query each. */
import { and, asc, eq, gt } from "drizzle-orm";
import { ruleSetVersions } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** The JWS of the site's next scheduled version (effective after `now`), if any. */
export async function upcomingRuleSetJws(db: DbOrTx, siteId: number, now: Date): Promise<string | null | undefined> {
  const [next] = await db
    .select({ jws: ruleSetVersions.jws })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), gt(ruleSetVersions.effectiveFrom, now)))
    .orderBy(asc(ruleSetVersions.version))
    .limit(1);
  return next?.jws;
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
    })
    .from(ruleSetVersions)
    .where(eq(ruleSetVersions.siteId, siteId))
    .orderBy(asc(ruleSetVersions.version));
}

/** The JWS of one version of the site's rule set, if it exists. */
export async function ruleSetVersionJws(db: DbOrTx, siteId: number, version: number): Promise<string | null | undefined> {
  const [row] = await db
    .select({ jws: ruleSetVersions.jws })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), eq(ruleSetVersions.version, version)));
  return row?.jws;
}
