/**
 * Reads that fill the runtime cache (server/runtime-cache.ts; ADR 009, ADR 017). The cache calls
 * them only on a miss or a periodic check, never per steady-state pull.
 */
import { and, asc, desc, eq, gt, isNull, lte } from "drizzle-orm";
import type postgres from "postgres";
import { ruleSetVersions, runtimeClientSites, runtimeClients, sites } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** The change counter: one string per part of the cache; a part whose string changes is dropped. */
export interface RuntimeFingerprint {
  rulesets: string;
  clients: string;
  keys: string;
}

/** Reads the change counter: one small query. */
export async function runtimeFingerprint(client: postgres.Sql): Promise<RuntimeFingerprint> {
  // Cheap on any plant: an index probe and a few small tables (clients, sites, keys). Rule-set
  // versions are only ever inserted (the database refuses updates and deletes).
  const [row] = await client<{ rulesets: string; clients: string; keys: string }[]>`
    select
      (select coalesce(max(id), 0)::text from rule_set_versions) as rulesets,
      (select count(*) || '/' || count(revoked_at) || '/' || coalesce(max(id), 0) from runtime_clients)
        || ':' || (select count(*) || '/' || coalesce(sum(site_id), 0) from runtime_client_sites)
        || ':' || (select count(*) || '/' || coalesce(md5(string_agg(id || '=' || code, ',' order by id)), '') from sites) as clients,
      (select count(*) || '/' || count(*) filter (where state = 'active') || '/' || coalesce(md5(string_agg(kid, ',' order by kid)), '') from signing_keys) as keys`;
  return { rulesets: row!.rulesets, clients: row!.clients, keys: row!.keys };
}

/**
 * Every active runtime client by its token's hash, with the sites it may pull: one read that fills
 * the runtime cache's token table at start and after any client changes, so a known runtime's first
 * pull is answered from memory as well (ADR 009). Only tokens the database holds, never guessed ones.
 */
export async function activeRuntimeClients(db: DbOrTx): Promise<{ id: number; name: string; tokenHash: string; siteId: number }[]> {
  return db
    .select({ id: runtimeClients.id, name: runtimeClients.name, tokenHash: runtimeClients.tokenHash, siteId: runtimeClientSites.siteId })
    .from(runtimeClients)
    .innerJoin(runtimeClientSites, eq(runtimeClientSites.runtimeClientId, runtimeClients.id))
    .where(isNull(runtimeClients.revokedAt));
}

/** Every site's id and code. */
export async function siteIdsAndCodes(db: DbOrTx): Promise<{ id: number; code: string }[]> {
  return db.select({ id: sites.id, code: sites.code }).from(sites);
}

/** The version in force at the site at `now` (its JWS, and its schema-version-2 JWS when it has one — ADR 039), and when the next scheduled one takes effect. */
export async function ruleSetInForce(
  db: DbOrTx,
  siteId: number,
  now: Date,
): Promise<{ row?: { version: number; jws: string | null; jwsV2: string | null }; next?: { effectiveFrom: Date } }> {
  const [row] = await db
    .select({ version: ruleSetVersions.version, jws: ruleSetVersions.jws, jwsV2: ruleSetVersions.jwsV2 })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), lte(ruleSetVersions.effectiveFrom, now)))
    .orderBy(desc(ruleSetVersions.version))
    .limit(1);
  const [next] = await db
    .select({ effectiveFrom: ruleSetVersions.effectiveFrom })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), gt(ruleSetVersions.effectiveFrom, now)))
    .orderBy(asc(ruleSetVersions.effectiveFrom))
    .limit(1);
  return { row, next };
}
