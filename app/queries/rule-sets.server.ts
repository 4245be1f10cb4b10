/**
 * Rule-set versions as their screens show them: each visible site's versions marked in force,
 * scheduled or superseded at an instant, and one version's canonical document with its digest
 * checked. "Now" is passed in (the database clock, see app/utils/clock.server.ts).
 */
import { createHash } from "node:crypto";
import { and, asc, desc, eq, max } from "drizzle-orm";
import { materials, ruleSetVersions, sites, trackingRules } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";
import { siteOptions, visibleOf, withinSites, type VisibleSites } from "./sites.server";

const versionColumns = {
  siteCode: sites.code,
  version: ruleSetVersions.version,
  effectiveFrom: ruleSetVersions.effectiveFrom,
  issuedAt: ruleSetVersions.issuedAt,
  backdated: ruleSetVersions.backdated,
  digest: ruleSetVersions.digest,
  previousDigest: ruleSetVersions.previousDigest,
  createdBy: ruleSetVersions.createdBy,
  reason: ruleSetVersions.reason,
};

/**
 * Every visible site's versions, newest first, marked in force / scheduled at `at`. A `siteCode`
 * the reader cannot see shows nothing, like an unknown one.
 */
export async function ruleSetVersionList(db: DbOrTx, params: { at: Date; siteCode?: string; sites: VisibleSites }) {
  const [allSites, versions] = await Promise.all([
    siteOptions(db),
    db
      .select(versionColumns)
      .from(ruleSetVersions)
      .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
      .where(and(params.siteCode ? eq(sites.code, params.siteCode) : undefined, withinSites(ruleSetVersions.siteId, params.sites)))
      .orderBy(asc(sites.code), desc(ruleSetVersions.version)),
  ]);
  const visible = visibleOf(allSites, params.sites);
  const shown = params.siteCode ? visible.filter((s) => s.code === params.siteCode) : visible;
  return {
    at: params.at,
    sites: visible,
    bySite: shown.map((site) => {
      const own = versions.filter((v) => v.siteCode === site.code);
      const inForce = own.find((v) => v.effectiveFrom.getTime() <= params.at.getTime())?.version ?? null;
      return {
        site: { code: site.code, name: site.name },
        versions: own.map((v) => ({
          ...v,
          status: v.version === inForce ? "in force" : v.effectiveFrom.getTime() > params.at.getTime() ? "scheduled" : "superseded",
        })),
      };
    }),
  };
}

/** The site a rule-set version belongs to, for the record-level check before reading it; null if none. */
export async function ruleSetVersionSite(db: DbOrTx, params: { siteCode: string; version: number }): Promise<{ siteId: number } | null> {
  const [row] = await db
    .select({ siteId: ruleSetVersions.siteId })
    .from(ruleSetVersions)
    .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
    .where(and(eq(sites.code, params.siteCode), eq(ruleSetVersions.version, params.version)));
  return row ?? null;
}

export async function ruleSetVersionDocument(db: DbOrTx, params: { siteCode: string; version: number; at: Date }) {
  const [row] = await db
    .select({
      id: ruleSetVersions.id,
      canonical: ruleSetVersions.canonical,
      canonicalV2: ruleSetVersions.canonicalV2,
      digestV2: ruleSetVersions.digestV2,
      ...versionColumns,
      siteName: sites.name,
    })
    .from(ruleSetVersions)
    .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
    .where(and(eq(sites.code, params.siteCode), eq(ruleSetVersions.version, params.version)));
  if (!row) return null;
  const { id, canonical, canonicalV2, digestV2, ...version } = row;

  const [[latest], introduced] = await Promise.all([
    db
      .select({ version: max(ruleSetVersions.version) })
      .from(ruleSetVersions)
      .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
      .where(eq(sites.code, params.siteCode)),
    db
      .select({
        partNumber: materials.partNumber,
        trackingMode: trackingRules.trackingMode,
        containerTracking: trackingRules.containerTracking,
        consumptionScan: trackingRules.consumptionScan,
        identifierFormatCodes: trackingRules.identifierFormatCodes,
      })
      .from(trackingRules)
      .innerJoin(materials, eq(materials.id, trackingRules.materialId))
      .where(eq(trackingRules.ruleSetVersionId, id))
      .orderBy(asc(materials.partNumber)),
  ]);

  const text = new TextDecoder("utf-8").decode(canonical);
  let pretty: string | null;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    pretty = null;
  }
  const computedDigest = createHash("sha256").update(canonical).digest("hex");
  return {
    ...version,
    latestVersion: latest?.version ?? version.version,
    canonicalBytes: canonical.byteLength,
    /** The canonical text itself when it is not JSON (it always should be). */
    canonicalText: pretty === null ? text : null,
    pretty,
    computedDigest,
    digestMatches: computedDigest === version.digest,
    /** The schema-version-2 form's digest (ADR 039), null before it; and whether it matches its stored bytes. */
    digestV2,
    digestV2Matches: canonicalV2 === null ? null : createHash("sha256").update(canonicalV2).digest("hex") === digestV2,
    introduced,
  };
}
