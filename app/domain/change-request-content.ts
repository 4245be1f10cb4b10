/**
 * A change request's content as the domain sees it. The types live here; app/schemas/change-request.ts
 * (the zod schemas that parse forms into them) and policies/approval.ts import them, never the
 * other way round (ADR 022). No Node imports: the browser's forms import this module too.
 */
import type { RegulatoryFlag, RiskClass } from "./material";
import type { ConsumptionScan, TrackingMode } from "./tracking-rule";
import type { RequirementContent, RequirementTarget, TraceabilityDeviation } from "./traceability-requirement";

export const LEGACY_DATA_PLANS = ["grandfather", "reidentify_at_next_movement", "convert_now"] as const;
export type LegacyDataPlan = (typeof LEGACY_DATA_PLANS)[number];

/** A tracking-rule change for one material (or a whole family, expanded at submit) at some sites. */
export interface ProposedTrackingChange {
  kind: "tracking";
  material?: string;
  family?: string;
  sites: string[];
  trackingMode: TrackingMode;
  containerTracking: boolean;
  identifierFormatCodes: string[];
  consumptionScan: ConsumptionScan;
}

/** Governed material attributes; they apply at every site from the change request's first release. */
export interface ProposedAttributeChange {
  kind: "attributes";
  material: string;
  riskClass?: RiskClass;
  regulatoryFlags?: RegulatoryFlag[];
  family?: string;
  gtin?: string;
}

/** The approved alternates of one BOM line (parent + primary component) at some sites, in order of preference. */
export interface ProposedAlternatesChange {
  kind: "alternates";
  material: string;
  component: string;
  sites: string[];
  alternates: string[];
}

/** A new material master; its tracking rules come from tracking changes in the same change request. */
export interface ProposedNewMaterial {
  kind: "new_material";
  partNumber: string;
  description: string;
  unitOfMeasure: string;
  family: string;
  riskClass: RiskClass;
  regulatoryFlags: RegulatoryFlag[];
  gtin?: string;
}

/**
 * Required traceability for one target (a material, a family, or a risk class + regulated flag), plant-wide
 * (ADR 035): it replaces the target's requirement in force from the change request's first release.
 */
export type ProposedRequirementChange = { kind: "traceability_requirement"; target: RequirementTarget } & RequirementContent;

export type ProposedChange = ProposedTrackingChange | ProposedAttributeChange | ProposedAlternatesChange | ProposedNewMaterial | ProposedRequirementChange;

export interface ChangeRequestContent {
  title: string;
  justification: string;
  riskAssessment: string;
  legacyDataPlan: LegacyDataPlan;
  legacyDataNotes: string;
  /** UTC; null = at release. */
  proposedEffectiveFrom: string | null;
  revalidationRequired: boolean;
  revalidationTasks: { description: string; evidenceUrl: string }[];
  changes: ProposedChange[];
  /** The ERP/PLM disagreements (reconciliation keys PART@SITE) this request resolves; absent when none. */
  resolvesDisagreements?: string[];
  /**
   * Deviations from required traceability (ADR 036), one per material and site a tracking change leaves
   * below its requirement; signed like the rest. Absent when none, so other requests keep their hash.
   */
  deviations?: TraceabilityDeviation[];
}

/** How the tracking mode changes at a site (policies/approval.ts decides the reviewers from it). */
export type TrackingEffect = "upgrade" | "downgrade" | "same" | "new";

/** What the approval policy looks at in each proposed change. */
export interface ChangeFacts {
  partNumber: string;
  /** How the tracking mode changes at a site (`same` for attribute-only or container/format changes). */
  trackingEffect: TrackingEffect;
  riskClass: RiskClass;
  /**
   * A required-traceability change: `lowers` when it asks for less than the requirement it replaces
   * (less tracking, a container no longer required, a weaker scan at consumption); `target` names it.
   */
  requirement?: { target: string; lowers: boolean };
}
