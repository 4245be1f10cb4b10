/**
 * Required traceability as stored (ADR 035): the requirements in force at a time, each with where it came
 * from, and the materials' facts the domain resolves them against (app/domain/traceability-requirement.ts).
 */
import { and, asc, gt, isNull, lte, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { changeRequests, materialFamilies, materials, traceabilityRequirements } from "../../db/schema";
import { isRegulatedFlag } from "../domain/impact-analysis/context";
import type { RequirementSubject, TraceabilityRequirement } from "../domain/traceability-requirement";
import type { DbOrTx } from "../utils/db.server";

export type StoredRequirement = TraceabilityRequirement & {
  id: number;
  effectiveFrom: string;
  effectiveTo: string | null;
  /** The change request that set it (null: the plant's initial policy). */
  changeRequest: string | null;
  reason: string;
};

const familyOf = alias(materialFamilies, "requirement_family");

/** Every requirement row, or those in force at `at` (effectiveFrom ≤ at < effectiveTo). Ordered by id. */
async function requirementRows(db: DbOrTx, options: { at?: Date } = {}): Promise<StoredRequirement[]> {
  const t = traceabilityRequirements;
  const rows = await db
    .select({
      id: t.id,
      scope: t.scope,
      partNumber: materials.partNumber,
      family: familyOf.code,
      riskClass: t.riskClass,
      regulated: t.regulated,
      minimumTracking: t.minimumTracking,
      containerRequired: t.containerRequired,
      requiredScan: t.requiredScan,
      justification: t.justification,
      references: t.references,
      effectiveFrom: sql<string>`to_json(${t.effectiveFrom})#>>'{}'`,
      effectiveTo: sql<string | null>`to_json(${t.effectiveTo})#>>'{}'`,
      changeRequest: changeRequests.number,
      reason: t.reason,
    })
    .from(t)
    .leftJoin(materials, sql`${materials.id} = ${t.materialId}`)
    .leftJoin(familyOf, sql`${familyOf.id} = ${t.familyId}`)
    .leftJoin(changeRequests, sql`${changeRequests.id} = ${t.changeRequestId}`)
    .where(options.at ? and(lte(t.effectiveFrom, options.at), or(isNull(t.effectiveTo), gt(t.effectiveTo, options.at))) : undefined)
    .orderBy(asc(t.id));
  return rows.map((r) => {
    const content = {
      minimumTracking: r.minimumTracking,
      containerRequired: r.containerRequired,
      requiredScan: r.requiredScan,
      justification: r.justification,
      references: r.references,
    };
    const meta = { id: r.id, effectiveFrom: r.effectiveFrom, effectiveTo: r.effectiveTo, changeRequest: r.changeRequest, reason: r.reason };
    if (r.scope === "material") return { scope: "material", partNumber: r.partNumber!, ...content, ...meta };
    if (r.scope === "family") return { scope: "family", family: r.family!, ...content, ...meta };
    return { scope: "risk_class", riskClass: r.riskClass!, regulated: r.regulated!, ...content, ...meta };
  });
}

/** The requirements in force now (or at `at`). */
export const requirementsInForce = (db: DbOrTx, at: Date = new Date()) => requirementRows(db, { at });

/** Every requirement ever stated (the justification history). */
export const requirementHistory = (db: DbOrTx) => requirementRows(db);

/** The facts of every product material the requirement resolution reads (system materials left out). */
export async function requirementSubjects(db: DbOrTx): Promise<RequirementSubject[]> {
  const rows = await db
    .select({ partNumber: materials.partNumber, family: materialFamilies.code, riskClass: materials.riskClass, flags: materials.regulatoryFlags })
    .from(materials)
    .innerJoin(materialFamilies, sql`${materialFamilies.id} = ${materials.familyId}`)
    .where(isNull(materials.systemRole))
    .orderBy(asc(materials.partNumber));
  return rows.map((r) => ({ partNumber: r.partNumber, family: r.family, riskClass: r.riskClass, regulated: r.flags.some(isRegulatedFlag) }));
}
