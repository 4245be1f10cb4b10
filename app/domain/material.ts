/**
 * The vocabulary of a material master, defined once: the database enum (db/schema/enums.ts), the
 * zod schemas, the approval policy and the forms all take it from here.
 */

/** A material's risk class; `high` needs a regulatory reviewer on any change (policies/approval.ts). */
export const RISK_CLASSES = ["low", "medium", "high"] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

/** Regulatory flags a material may carry. */
export const REGULATORY_FLAGS = ["udi", "critical_to_safety"] as const;
export type RegulatoryFlag = (typeof REGULATORY_FLAGS)[number];

/**
 * System materials: rows of `materials` that C-981 itself needs and that are no tracked product
 * (created by a migration, never by a change request; left out of the material catalogue and the
 * ERP/PLM reconciliation). The only one is the logistics unit (ADR 014): the material of every
 * container an EPCIS import places, whatever it holds — what it holds is found through its edges.
 */
export const SYSTEM_ROLES = ["logistics_unit"] as const;
export type SystemRole = (typeof SYSTEM_ROLES)[number];

/** The logistics-unit material as migration 0024 creates it. */
export const LOGISTICS_UNIT_MATERIAL = {
  systemRole: "logistics_unit",
  partNumber: "C981-LOGISTICS-UNIT",
  familyCode: "C981-SYSTEM",
} as const satisfies { systemRole: SystemRole; partNumber: string; familyCode: string };
