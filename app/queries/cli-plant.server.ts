/**
 * Reads of the admin CLI (scripts/cli/) and of server/prepare-database.ts: the plant's sites,
 * materials and signing keys (ADR 022: neither queries a table itself).
 */
import { asc, count, eq } from "drizzle-orm";
import { materials, ruleSetVersions, signingKeys, sites } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** How many sites the database holds (0: empty, the demo plant may be loaded). */
export async function siteCount(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: count() }).from(sites);
  return row?.n ?? 0;
}

/** Every site by code, with its latest rule-set version (the highest), if any. */
export async function sitesWithLatestRuleSet(
  db: DbOrTx,
): Promise<{ code: string; name: string; timeZone: string; latest?: { version: number; effectiveFrom: Date } }[]> {
  const rows = await db.select({ code: sites.code, name: sites.name, timeZone: sites.timeZone }).from(sites).orderBy(asc(sites.code));
  const result = [];
  for (const site of rows) {
    const versions = await db
      .select({ version: ruleSetVersions.version, effectiveFrom: ruleSetVersions.effectiveFrom })
      .from(ruleSetVersions)
      .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
      .where(eq(sites.code, site.code));
    result.push({ ...site, latest: versions.sort((a, b) => b.version - a.version)[0] });
  }
  return result;
}

/** The ids of a material (by part number) and a site (by code); undefined for one that does not exist. */
export async function materialAndSiteIds(db: DbOrTx, partNumber: string, siteCode: string): Promise<{ materialId?: number; siteId?: number }> {
  const [material] = await db.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, partNumber));
  const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.code, siteCode));
  return { materialId: material?.id, siteId: site?.id };
}

/** Every signing key, oldest first, with its state (public parts only). */
export async function signingKeyList(db: DbOrTx) {
  return db.select().from(signingKeys).orderBy(signingKeys.createdAt);
}
