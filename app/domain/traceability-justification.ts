/**
 * The traceability justification report's verdict per material at a site (ADR 035, "Justification
 * report"): whether the rule in force meets the governing requirement, and if not whether an open
 * deviation covers it. Pure: the query gathers the facts, this decides. No Node imports.
 */
import type { RiskClass } from "./material";
import type { QualityEventKind, QualityEventSeverity, QualityEventStatus } from "./quality-event";
import { describeShortfall, shortfalls, type RequirementContent, type RequirementScope } from "./traceability-requirement";
import type { ConsumptionScan, TrackingMode } from "./tracking-rule";

export const JUSTIFICATION_STATUSES = ["meets", "below_with_deviation", "below_without_deviation", "no_rule", "no_requirement"] as const;
export type JustificationStatus = (typeof JUSTIFICATION_STATUSES)[number];

export const JUSTIFICATION_STATUS_LABELS: Record<JustificationStatus, string> = {
  meets: "meets the requirement",
  below_with_deviation: "below, with an open deviation",
  below_without_deviation: "below, without a deviation",
  no_rule: "no rule at this site",
  no_requirement: "no requirement stated",
};

/** The rule in force for a material at a site: a rule, none in the site's version (unruled), or no version yet (legacy). */
export type RuleAtSite =
  | { state: "ruled"; version: number; trackingMode: TrackingMode; containerTracking: boolean; consumptionScan: ConsumptionScan }
  | { state: "unruled"; version: number }
  | { state: "legacy" };

/**
 * The verdict and the shortfalls (as the domain describes them). A material with no requirement is
 * "no requirement stated" even without a rule: the gap in the policy is the finding an auditor needs first.
 */
export function justificationStatus(
  requirement: RequirementContent | null,
  rule: RuleAtSite,
  openDeviations: number,
): { status: JustificationStatus; shortfalls: string[] } {
  if (requirement === null) return { status: "no_requirement", shortfalls: [] };
  if (rule.state !== "ruled") return { status: "no_rule", shortfalls: [] };
  const gaps = shortfalls(requirement, rule).map(describeShortfall);
  if (gaps.length === 0) return { status: "meets", shortfalls: [] };
  return { status: openDeviations > 0 ? "below_with_deviation" : "below_without_deviation", shortfalls: gaps };
}

/** A rule as one line for the report and its CSV: "lot, containers, scan identify (v2)". */
export function describeRuleAtSite(rule: RuleAtSite): string {
  if (rule.state === "legacy") return "legacy (no rule-set version in force at the site)";
  if (rule.state === "unruled") return `unruled in version ${rule.version}`;
  return `${rule.trackingMode}, ${rule.containerTracking ? "containers" : "no containers"}, scan ${rule.consumptionScan} (v${rule.version})`;
}

/** A requirement's level as one line: "at least lot, containers, scan identify". */
export function describeRequiredLevel(r: Pick<RequirementContent, "minimumTracking" | "containerRequired" | "requiredScan">): string {
  return `at least ${r.minimumTracking}, ${r.containerRequired ? "containers" : "no containers required"}, scan ${r.requiredScan}`;
}

// The report's shape, shared by the query that builds it and the components that show it.

export interface JustificationDeviation {
  changeRequest: string;
  reason: string;
  riskAssessmentRef: string;
  compensatingControls: string;
  expiresOn: string | null;
  expired: boolean;
  shortfalls: string[];
}

export interface JustificationQualityEvent {
  number: string;
  kind: QualityEventKind;
  severity: QualityEventSeverity;
  status: QualityEventStatus;
  title: string;
}

export interface JustificationRow {
  partNumber: string;
  description: string;
  family: string;
  riskClass: RiskClass;
  regulatoryFlags: string[];
  regulated: boolean;
  requirement: {
    scope: RequirementScope;
    /** What it is stated for: the part number, "family RAW", "risk class high, regulated". */
    target: string;
    minimumTracking: TrackingMode;
    containerRequired: boolean;
    requiredScan: ConsumptionScan;
    level: string;
    justification: string;
    references: string[];
    effectiveFrom: string;
    reason: string;
  } | null;
  /**
   * The change requests that set the governing requirement: its own and those of the earlier rows for
   * the same target, oldest first; null where a row came from the plant's initial policy.
   */
  setBy: { changeRequest: string | null; reason: string; effectiveFrom: string; effectiveTo: string | null }[];
  rule: RuleAtSite;
  ruleText: string;
  status: JustificationStatus;
  shortfalls: string[];
  deviations: JustificationDeviation[];
  qualityEvents: JustificationQualityEvent[];
}

export interface JustificationReport {
  site: { id: number; code: string; name: string; timeZone: string };
  generatedAt: string;
  /** The site's date at generatedAt (YYYY-MM-DD): a deviation whose last day is before it has expired. */
  today: string;
  versionInForce: number | null;
  rows: JustificationRow[];
  summary: {
    materials: number;
    byStatus: Record<JustificationStatus, number>;
    openDeviations: number;
    expiredDeviations: number;
    openQualityEvents: number;
  };
}

/** A requirement row as stored, with its interval and where it came from (the justification history). */
export type RequirementHistoryRow = import("./traceability-requirement").TraceabilityRequirement & {
  id: number;
  effectiveFrom: string;
  effectiveTo: string | null;
  /** The change request that set it (null: the plant's initial policy). */
  changeRequest: string | null;
  reason: string;
};

/** A material's required traceability on its page: the report's row per site, and the justification history. */
export interface MaterialTraceability {
  perSite: { site: string; row: JustificationRow }[];
  history: RequirementHistoryRow[];
}
