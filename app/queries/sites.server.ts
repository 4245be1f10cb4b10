/**
 * Sites: which ones a reader may see (every site-bound read takes `VisibleSites` and scopes in
 * SQL), the site options of forms and filters, and the sites screen. "Now" is passed in (the
 * database clock, see app/utils/clock.server.ts) so a screen names one instant for everything it shows.
 */
import { asc, count, eq, inArray, max, type Column, type SQL } from "drizzle-orm";
import { ruleSetVersions, sites } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";
import { versionsInForce } from "./rules-in-force.server";

/**
 * The sites a reader may see: `null` for all (a grant for all sites), else these site ids
 * (app/utils/auth.server.ts siteFilter). Every site-bound read takes it and scopes in SQL, so a
 * row of another site never leaves the database (21 CFR 11.10(d), limited access).
 */
export type VisibleSites = readonly number[] | null;

/** A condition keeping `column` (a site id) within the visible sites; none when all are visible. */
export function withinSites(column: Column, visible: VisibleSites): SQL | undefined {
  return visible === null ? undefined : inArray(column, [...visible]);
}

/** Of `all` sites, those the reader may see. */
export function visibleOf<S extends { id: number }>(all: readonly S[], visible: VisibleSites): S[] {
  return visible === null ? [...all] : all.filter((s) => visible.includes(s.id));
}

export interface SiteOption {
  id: number;
  code: string;
  name: string;
}

export async function siteOptions(db: DbOrTx): Promise<SiteOption[]> {
  return db.select({ id: sites.id, code: sites.code, name: sites.name }).from(sites).orderBy(asc(sites.code));
}

export async function siteList(db: DbOrTx, params: { at: Date; sites: VisibleSites }) {
  const vif = versionsInForce(db, params.at);
  const counts = db
    .select({ siteId: ruleSetVersions.siteId, versionCount: count().as("version_count"), latest: max(ruleSetVersions.version).as("latest_version") })
    .from(ruleSetVersions)
    .groupBy(ruleSetVersions.siteId)
    .as("site_version_counts");
  const rows = await db
    .select({
      code: sites.code,
      name: sites.name,
      timeZone: sites.timeZone,
      versionCount: counts.versionCount,
      latestVersion: counts.latest,
      currentVersion: vif.version,
      currentEffectiveFrom: vif.effectiveFrom,
      currentDigest: vif.digest,
    })
    .from(sites)
    .leftJoin(counts, eq(counts.siteId, sites.id))
    .leftJoin(vif, eq(vif.siteId, sites.id))
    .where(withinSites(sites.id, params.sites))
    .orderBy(asc(sites.code));
  return rows.map((r) => ({
    code: r.code,
    name: r.name,
    timeZone: r.timeZone,
    versionCount: r.versionCount ?? 0,
    /** A version beyond the one in force takes effect later. */
    scheduledVersion: r.latestVersion !== null && r.latestVersion !== r.currentVersion ? r.latestVersion : null,
    current:
      r.currentVersion === null || r.currentEffectiveFrom === null || r.currentDigest === null
        ? null
        : { version: r.currentVersion, effectiveFrom: r.currentEffectiveFrom, digest: r.currentDigest },
  }));
}
