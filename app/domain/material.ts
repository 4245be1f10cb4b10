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
