/**
 * Required traceability as policy (ADR 035): the minimum a quality system promises per material —
 * tracking level, container or not, the scan at consumption — each with a written justification and its
 * references (risk assessment id, standard clause). The policy is data, versioned and changed only by an
 * approved change request; the decision is here, pure: which requirement governs a material (the most
 * specific: material, then family, then risk class + regulated flag) and where a tracking rule falls
 * below it. No Node imports: the browser's forms import this module too.
 */
import type { RiskClass } from "./material";
import { granularity, type ConsumptionScan, type TrackingMode, type TrackingRuleContent } from "./tracking-rule";

export const REQUIREMENT_SCOPES = ["material", "family", "risk_class"] as const;
export type RequirementScope = (typeof REQUIREMENT_SCOPES)[number];

/** What a requirement applies to: one material, one family, or every material of a risk class with or without a regulatory flag. */
export type RequirementTarget =
  | { scope: "material"; partNumber: string }
  | { scope: "family"; family: string }
  | { scope: "risk_class"; riskClass: RiskClass; regulated: boolean };

export interface RequirementContent {
  minimumTracking: TrackingMode;
  containerRequired: boolean;
  requiredScan: ConsumptionScan;
  justification: string;
  /** Risk assessment ids, standard clauses (e.g. "RA-2026-014", "21 CFR 820.65", "ISO 13485 7.5.9"). */
  references: string[];
}

export type TraceabilityRequirement = RequirementTarget & RequirementContent;

/** The material facts the resolution reads. */
export interface RequirementSubject {
  partNumber: string;
  family: string;
  riskClass: RiskClass;
  regulated: boolean;
}

export const targetKey = (t: RequirementTarget): string =>
  t.scope === "material"
    ? `material:${t.partNumber}`
    : t.scope === "family"
      ? `family:${t.family}`
      : `risk_class:${t.riskClass}:${t.regulated ? "regulated" : "not_regulated"}`;

export const describeTarget = (t: RequirementTarget): string =>
  t.scope === "material"
    ? t.partNumber
    : t.scope === "family"
      ? `family ${t.family}`
      : `risk class ${t.riskClass}, ${t.regulated ? "regulated" : "not regulated"}`;

/** The requirement governing a material: its own, else its family's, else its risk class + regulated flag's; null when none is stated. */
export function requirementFor<T extends TraceabilityRequirement>(subject: RequirementSubject, requirements: readonly T[]): T | null {
  let family: T | null = null;
  let risk: T | null = null;
  for (const r of requirements) {
    if (r.scope === "material" && r.partNumber === subject.partNumber) return r;
    if (r.scope === "family" && r.family === subject.family) family = r;
    if (r.scope === "risk_class" && r.riskClass === subject.riskClass && r.regulated === subject.regulated) risk = r;
  }
  return family ?? risk;
}

const SCAN_RANK: Record<ConsumptionScan, number> = { none: 0, verify: 1, identify: 2 };

export type TraceabilityShortfall =
  | { field: "trackingMode"; required: TrackingMode; actual: TrackingMode }
  | { field: "containerTracking"; required: true; actual: false }
  | { field: "consumptionScan"; required: ConsumptionScan; actual: ConsumptionScan };

/** Where a rule falls below a requirement (empty: it meets it). More is always allowed. */
export function shortfalls(
  requirement: RequirementContent,
  rule: Pick<TrackingRuleContent, "trackingMode" | "containerTracking" | "consumptionScan">,
): TraceabilityShortfall[] {
  const out: TraceabilityShortfall[] = [];
  if (granularity(rule.trackingMode) < granularity(requirement.minimumTracking))
    out.push({ field: "trackingMode", required: requirement.minimumTracking, actual: rule.trackingMode });
  if (requirement.containerRequired && !rule.containerTracking) out.push({ field: "containerTracking", required: true, actual: false });
  if (SCAN_RANK[rule.consumptionScan] < SCAN_RANK[requirement.requiredScan])
    out.push({ field: "consumptionScan", required: requirement.requiredScan, actual: rule.consumptionScan });
  return out;
}

export function describeShortfall(s: TraceabilityShortfall): string {
  switch (s.field) {
    case "trackingMode":
      return `tracked by ${s.actual}, the requirement is at least ${s.required}`;
    case "containerTracking":
      return "not container-tracked, the requirement is container tracking";
    case "consumptionScan":
      return `consumption scan ${s.actual}, the requirement is at least ${s.required}`;
  }
}

/**
 * A deviation from required traceability, carried by a change request's signed content for one material
 * at one site: why, the risk assessment it rests on, the controls that compensate, and until when (a
 * temporary deviation expires; null = until a later change request restores the requirement).
 */
export interface TraceabilityDeviation {
  material: string;
  site: string;
  reason: string;
  riskAssessmentRef: string;
  compensatingControls: string;
  /** YYYY-MM-DD (the last day it holds), or null. */
  expiresOn: string | null;
}

/** Expired on `today` (YYYY-MM-DD in the reader's or the site's zone): the day after its last day. */
export const deviationExpired = (expiresOn: string | null, today: string): boolean => expiresOn !== null && today > expiresOn;

/** A requirement change as a change request carries it: the target and the new content (proposed or expanded). */
export type RequirementChange = { target: RequirementTarget } & RequirementContent;

const contentOf = (r: RequirementContent): RequirementContent => ({
  minimumTracking: r.minimumTracking,
  containerRequired: r.containerRequired,
  requiredScan: r.requiredScan,
  justification: r.justification,
  references: [...r.references],
});

/**
 * The requirements once a change request's requirement changes apply: each change replaces its
 * target's requirement (or states one where none was); the others stay as they are, in their order,
 * new targets after them. Pure: the submit check and the release's preview read the same answer.
 */
export function requirementsAfter(inForce: readonly TraceabilityRequirement[], changes: readonly RequirementChange[]): TraceabilityRequirement[] {
  const byKey = new Map<string, TraceabilityRequirement>();
  for (const r of inForce) byKey.set(targetKey(r), r);
  for (const c of changes) byKey.set(targetKey(c.target), { ...c.target, ...contentOf(c) });
  return [...byKey.values()];
}

/** The requirement as a rule would have to meet it: `shortfalls(a, asRule(b))` says where b asks less than a. */
const asRule = (r: RequirementContent) => ({ trackingMode: r.minimumTracking, containerTracking: r.containerRequired, consumptionScan: r.requiredScan });

/** Where `after` asks less than `before` (less tracking, a container no longer required, a weaker scan); empty: it does not lower it. */
export const loweredBy = (before: RequirementContent, after: RequirementContent): TraceabilityShortfall[] => shortfalls(before, asRule(after));

/**
 * What one requirement change lowers: the target's own requirement (when it had one) and, material by
 * material, the requirement that governs it now against the one that would govern it after (a new,
 * weaker family or material requirement lowers the risk-class default its materials met).
 */
export function requirementLowering(
  inForce: readonly TraceabilityRequirement[],
  subjects: readonly RequirementSubject[],
  change: RequirementChange,
): { own: boolean; materials: string[] } {
  const key = targetKey(change.target);
  const own = inForce.find((r) => targetKey(r) === key);
  const after = requirementsAfter(inForce, [change]);
  const materials = subjects
    .filter((s) => {
      const was = requirementFor(s, inForce);
      const will = requirementFor(s, after);
      return was !== null && (will === null || loweredBy(was, will).length > 0);
    })
    .map((s) => s.partNumber)
    .sort();
  return { own: own !== undefined && loweredBy(own, change).length > 0, materials };
}

/** The target's own requirement in force (what a change to it replaces), or null: none stated. */
export const ownRequirement = <T extends TraceabilityRequirement>(inForce: readonly T[], target: RequirementTarget): T | null =>
  inForce.find((r) => targetKey(r) === targetKey(target)) ?? null;

/** One line for a requirement: "serial, container required, scan identify". */
export const describeRequirement = (r: RequirementContent): string =>
  `${r.minimumTracking}, ${r.containerRequired ? "container required" : "no container required"}, scan ${r.requiredScan}`;
