import { sql } from "drizzle-orm";
import { boolean, check, date, index, integer, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { REQUIREMENT_SCOPES } from "../../app/domain/traceability-requirement";
import { changeRequests } from "./change-requests";
import { consumptionScan, riskClass, trackingMode } from "./enums";
import { materialFamilies, materials } from "./materials";
import { ruleSetVersions } from "./rule-sets";
import { sites } from "./sites";

export const requirementScope = pgEnum("requirement_scope", REQUIREMENT_SCOPES);

/**
 * Required traceability (ADR 035): one requirement for one target (a material, a family, or a risk class +
 * regulated flag) during [effectiveFrom, effectiveTo). Plant-wide, not per site: it is what the quality
 * system promises. A change replaces the target's open row (closes it, opens a new one); rows are never
 * deleted. Written only by the release of an approved change request (`changeRequestId`); the initial
 * policy a plant starts with has none (`reason` says where it came from).
 */
export const traceabilityRequirements = pgTable(
  "traceability_requirements",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    scope: requirementScope().notNull(),
    materialId: integer().references(() => materials.id),
    familyId: integer().references(() => materialFamilies.id),
    riskClass: riskClass(),
    regulated: boolean(),
    minimumTracking: trackingMode().notNull(),
    containerRequired: boolean().notNull(),
    requiredScan: consumptionScan().notNull(),
    justification: text().notNull(),
    references: text().array().notNull().default(sql`'{}'::text[]`),
    effectiveFrom: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    effectiveTo: timestamp({ withTimezone: true, precision: 3 }),
    changeRequestId: integer().references(() => changeRequests.id),
    /** Who set it and why, in words (the change request's number and title, or the initial policy). */
    reason: text().notNull(),
  },
  (t) => [
    index("traceability_requirements_open").on(t.scope, t.materialId, t.familyId, t.riskClass, t.regulated).where(sql`${t.effectiveTo} IS NULL`),
    check(
      "traceability_requirements_target",
      sql`(${t.scope} = 'material' AND ${t.materialId} IS NOT NULL AND ${t.familyId} IS NULL AND ${t.riskClass} IS NULL AND ${t.regulated} IS NULL) OR (${t.scope} = 'family' AND ${t.familyId} IS NOT NULL AND ${t.materialId} IS NULL AND ${t.riskClass} IS NULL AND ${t.regulated} IS NULL) OR (${t.scope} = 'risk_class' AND ${t.riskClass} IS NOT NULL AND ${t.regulated} IS NOT NULL AND ${t.materialId} IS NULL AND ${t.familyId} IS NULL)`,
    ),
    check("traceability_requirements_justified", sql`length(btrim(${t.justification})) > 0`),
    check("traceability_requirements_interval_ordered", sql`${t.effectiveTo} IS NULL OR ${t.effectiveTo} >= ${t.effectiveFrom}`),
  ],
);

/**
 * A deviation from required traceability for one material at one site (ADR 035), carried by the signed
 * content of the change request that released it and recorded in the rule-set version that applies it.
 * Open until `closedAt` (a later release that meets the requirement again, or one that replaces it);
 * `expiresOn` (the last day it holds, null = no expiry) raises an alarm once passed.
 */
export const traceabilityDeviations = pgTable(
  "traceability_deviations",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    ruleSetVersionId: integer()
      .notNull()
      .references(() => ruleSetVersions.id),
    reason: text().notNull(),
    riskAssessmentRef: text().notNull(),
    compensatingControls: text().notNull(),
    expiresOn: date({ mode: "string" }),
    /** The shortfalls it covers, as the domain describes them (tracking mode, container, scan). */
    shortfalls: text().array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    closedAt: timestamp({ withTimezone: true, precision: 3 }),
    closedReason: text(),
  },
  (t) => [
    index("traceability_deviations_open").on(t.siteId, t.materialId).where(sql`${t.closedAt} IS NULL`),
    check("traceability_deviations_closed_has_reason", sql`(${t.closedAt} IS NULL) = (${t.closedReason} IS NULL)`),
  ],
);
