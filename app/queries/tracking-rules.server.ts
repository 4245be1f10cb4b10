import { asc, eq, and } from "drizzle-orm";
import { ruleSetVersions, trackingRules } from "../../db/schema";
import { resolveRuleInForce, type RuleInForce, type RuleInterval, type VersionPoint } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";

/** A material's rule history at a site, oldest first, with the version that introduced each rule. */
export async function ruleHistory(db: DbOrTx, params: { materialId: number; siteId: number }): Promise<RuleInterval[]> {
  return db
    .select({
      trackingMode: trackingRules.trackingMode,
      containerTracking: trackingRules.containerTracking,
      identifierFormatCodes: trackingRules.identifierFormatCodes,
      consumptionScan: trackingRules.consumptionScan,
      effectiveFrom: trackingRules.effectiveFrom,
      effectiveTo: trackingRules.effectiveTo,
      version: ruleSetVersions.version,
    })
    .from(trackingRules)
    .innerJoin(ruleSetVersions, eq(ruleSetVersions.id, trackingRules.ruleSetVersionId))
    .where(and(eq(trackingRules.materialId, params.materialId), eq(trackingRules.siteId, params.siteId)))
    .orderBy(asc(ruleSetVersions.version));
}

export async function siteVersions(db: DbOrTx, siteId: number): Promise<VersionPoint[]> {
  return db
    .select({ version: ruleSetVersions.version, effectiveFrom: ruleSetVersions.effectiveFrom })
    .from(ruleSetVersions)
    .where(eq(ruleSetVersions.siteId, siteId))
    .orderBy(asc(ruleSetVersions.version));
}

/** The tracking rule in force for a material at a site at a time — or "legacy" before the first version. */
export async function ruleInForce(db: DbOrTx, params: { materialId: number; siteId: number; at: Date }): Promise<RuleInForce> {
  const [versions, rules] = await Promise.all([siteVersions(db, params.siteId), ruleHistory(db, params)]);
  return resolveRuleInForce(versions, rules, params.at);
}
