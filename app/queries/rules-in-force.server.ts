/**
 * What is in force at an instant, in SQL, for screens that list many materials or sites at once
 * (one query instead of one resolveRuleInForce per row). Each builder names the pure domain rule it
 * mirrors; test/integration/rule-in-force-sql.test.ts pins the mirror on the demo plant.
 */
import { and, desc, eq, inArray, lte, max, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { ruleSetVersions, trackingRules } from "../../db/schema";
import type { TrackingMode } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";

/**
 * Each (material, site)'s rule in force at `at`, as a subquery. Mirrors resolveRuleInForce in
 * app/domain/tracking-rule.ts: the site's version in force is its highest version with
 * effectiveFrom ≤ at; the material's rule is the one introduced by the highest version up to it
 * (`version`). A (material, site) without a row here is legacy or unruled there.
 */
export function rulesInForce(db: DbOrTx, at: Date) {
  const inForce = alias(ruleSetVersions, "version_in_force");
  const versionInForce = db
    .select({ version: max(inForce.version) })
    .from(inForce)
    .where(and(eq(inForce.siteId, trackingRules.siteId), lte(inForce.effectiveFrom, at)));
  return db
    .selectDistinctOn([trackingRules.materialId, trackingRules.siteId], {
      materialId: trackingRules.materialId,
      siteId: trackingRules.siteId,
      trackingMode: trackingRules.trackingMode,
      identifierFormatCodes: trackingRules.identifierFormatCodes,
      version: ruleSetVersions.version,
    })
    .from(trackingRules)
    .innerJoin(ruleSetVersions, eq(ruleSetVersions.id, trackingRules.ruleSetVersionId))
    .where(lte(ruleSetVersions.version, sql`(${versionInForce})`))
    .orderBy(trackingRules.materialId, trackingRules.siteId, desc(ruleSetVersions.version))
    .as("rule_in_force");
}

/** The tracking mode in force for each of `materialIds` at each site, keyed `materialId:siteId`. */
export async function trackingModesInForce(db: DbOrTx, params: { materialIds: readonly number[]; at: Date }): Promise<Map<string, TrackingMode>> {
  const modes = new Map<string, TrackingMode>();
  if (params.materialIds.length === 0) return modes;
  const rif = rulesInForce(db, params.at);
  const rows = await db
    .select({ materialId: rif.materialId, siteId: rif.siteId, trackingMode: rif.trackingMode })
    .from(rif)
    .where(inArray(rif.materialId, [...new Set(params.materialIds)]));
  for (const row of rows) modes.set(modeKey(row.materialId, row.siteId), row.trackingMode);
  return modes;
}

export function modeKey(materialId: number, siteId: number): string {
  return `${materialId}:${siteId}`;
}

/**
 * Each site's version in force at `at` (highest version already effective), as a subquery: the
 * version part of resolveRuleInForce.
 */
export function versionsInForce(db: DbOrTx, at: Date) {
  return db
    .selectDistinctOn([ruleSetVersions.siteId], {
      siteId: ruleSetVersions.siteId,
      version: ruleSetVersions.version,
      effectiveFrom: ruleSetVersions.effectiveFrom,
      digest: ruleSetVersions.digest,
    })
    .from(ruleSetVersions)
    .where(lte(ruleSetVersions.effectiveFrom, at))
    .orderBy(ruleSetVersions.siteId, desc(ruleSetVersions.version))
    .as("site_version_in_force");
}
