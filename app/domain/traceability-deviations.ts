/**
 * Downgrades below the required traceability (issue 25 part 4, ADR 036): which tracking changes of a
 * change request leave a material at a site below the requirement governing it, and whether the
 * request's deviations cover exactly those (material, site) pairs. Pure: the service passes the
 * material facts after the request, the requirements and the deviations. No Node imports.
 */
import type { ExpandedChange } from "./change-request";
import type { ProposedChange } from "./change-request-content";
import { isRegulatedFlag } from "./impact-analysis/context";
import type { TrackingRuleContent } from "./tracking-rule";
import {
  describeShortfall,
  requirementFor,
  shortfalls,
  type RequirementSubject,
  type TraceabilityDeviation,
  type TraceabilityRequirement,
  type TraceabilityShortfall,
} from "./traceability-requirement";

export type RuleLevels = Pick<TrackingRuleContent, "trackingMode" | "containerTracking" | "consumptionScan">;

/** One tracking change after expansion, with the index of the proposed change it came from (`changes.N`). */
export interface IndexedTrackingChange {
  index: number;
  partNumber: string;
  site: string;
  rule: RuleLevels;
}

/** A tracking change that leaves its material at its site below the requirement. */
export interface BelowRequirement<R extends TraceabilityRequirement = TraceabilityRequirement> {
  index: number;
  partNumber: string;
  site: string;
  requirement: R;
  shortfalls: TraceabilityShortfall[];
}

export const pairKey = (material: string, site: string) => `${material}@${site}`;

/**
 * The material facts after the request: existing materials with the request's attribute changes
 * applied, plus the materials it creates (the requirement is resolved against what they will be).
 */
export function subjectsAfter(subjects: readonly RequirementSubject[], expanded: readonly ExpandedChange[]): Map<string, RequirementSubject> {
  const out = new Map(subjects.map((s) => [s.partNumber, { ...s }]));
  for (const c of expanded) {
    if (c.kind === "new_material")
      out.set(c.partNumber, { partNumber: c.partNumber, family: c.family, riskClass: c.riskClass, regulated: c.regulatoryFlags.some(isRegulatedFlag) });
    if (c.kind === "attributes") {
      const s = out.get(c.partNumber);
      if (!s) continue;
      if (c.riskClass) s.riskClass = c.riskClass;
      if (c.family) s.family = c.family;
      if (c.regulatoryFlags) s.regulated = c.regulatoryFlags.some(isRegulatedFlag);
    }
  }
  return out;
}

/** Each expanded tracking change with the index of the proposed change it came from (material, or family + site). */
export function indexTrackingChanges(proposed: readonly ProposedChange[], expanded: readonly ExpandedChange[]): IndexedTrackingChange[] {
  const out: IndexedTrackingChange[] = [];
  for (const c of expanded) {
    if (c.kind !== "tracking") continue;
    const index = proposed.findIndex(
      (p) => p.kind === "tracking" && p.sites.includes(c.site) && (c.viaFamily ? p.family === c.viaFamily : p.material === c.partNumber),
    );
    out.push({ index: Math.max(index, 0), partNumber: c.partNumber, site: c.site, rule: c.rule });
  }
  return out;
}

/** The tracking changes that fall below the requirement governing their material (none stated: never below). */
export function belowRequirement<R extends TraceabilityRequirement>(
  changes: readonly IndexedTrackingChange[],
  subjects: ReadonlyMap<string, RequirementSubject>,
  requirements: readonly R[],
): BelowRequirement<R>[] {
  const out: BelowRequirement<R>[] = [];
  for (const c of changes) {
    const subject = subjects.get(c.partNumber);
    if (!subject) continue;
    const requirement = requirementFor(subject, requirements);
    if (!requirement) continue;
    const gaps = shortfalls(requirement, c.rule);
    if (gaps.length) out.push({ index: c.index, partNumber: c.partNumber, site: c.site, requirement, shortfalls: gaps });
  }
  return out;
}

/**
 * The tracking changes below the requirement that governs their material before the request OR after
 * it (its attribute changes applied): the stricter of the two. A request that removes a material's
 * regulated flag (or lowers its risk class, or moves it to a laxer family) and downgrades it in one go
 * is judged against the requirement the material had — the analysis reads the stored facts too — so it
 * needs a deviation and the regulatory reviewer's attestation (review of issue 25). Where both fall
 * short, the requirement before is named.
 */
export function belowRequirementBeforeOrAfter<R extends TraceabilityRequirement>(
  changes: readonly IndexedTrackingChange[],
  before: ReadonlyMap<string, RequirementSubject>,
  after: ReadonlyMap<string, RequirementSubject>,
  requirements: readonly R[],
): BelowRequirement<R>[] {
  const key = (b: { index: number; partNumber: string; site: string }) => `${b.index}|${b.partNumber}|${b.site}`;
  const judged = new Map(belowRequirement(changes, before, requirements).map((b) => [key(b), b]));
  for (const b of belowRequirement(changes, after, requirements)) if (!judged.has(key(b))) judged.set(key(b), b);
  return changes.flatMap((c) => {
    const b = judged.get(key(c));
    return b ? [b] : [];
  });
}

const KEEP: Record<TraceabilityShortfall["field"], (s: TraceabilityShortfall) => string> = {
  trackingMode: (s) => `keep ${s.required}`,
  containerTracking: () => "keep container tracking",
  consumptionScan: (s) => `keep the ${s.required} scan`,
};

/** "SUB-1005 at EIN: tracked by lot, the requirement is at least serial (RA-DEMO-017) — add a deviation or keep serial". */
export function describeBelow(b: BelowRequirement, s: TraceabilityShortfall): string {
  const ref = b.requirement.references[0];
  return `${b.partNumber} at ${b.site}: ${describeShortfall(s)}${ref ? ` (${ref})` : ""} — add a deviation or ${KEEP[s.field](s)}`;
}

/**
 * The problems a submit refuses, by form field: a change below its requirement without a deviation
 * for that (material, site) (`changes.N.trackingMode` …); a deviation for a pair no change of the
 * request leaves below (unneeded), named twice, or expiring before `today` (`deviations.K.…`).
 */
export function deviationProblems(params: {
  below: readonly BelowRequirement[];
  deviations: readonly TraceabilityDeviation[];
  /** YYYY-MM-DD in the author's zone: a deviation may not have expired already. */
  today: string;
}): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  const problem = (path: string, message: string) => (fields[path] ??= []).push(message);
  const covered = new Map<string, number>();
  params.deviations.forEach((d, k) => {
    const key = pairKey(d.material, d.site);
    if (covered.has(key)) problem(`deviations.${k}.material`, `${d.material} at ${d.site} already has a deviation (deviation ${covered.get(key)! + 1})`);
    else covered.set(key, k);
    if (!params.below.some((b) => b.partNumber === d.material && b.site === d.site))
      problem(
        `deviations.${k}.material`,
        `${d.material} at ${d.site} meets its required traceability with this request (or the request does not change its tracking there): no deviation is needed`,
      );
    if (d.expiresOn !== null && d.expiresOn < params.today) problem(`deviations.${k}.expiresOn`, `Choose today (${params.today}) or a later day`);
  });
  for (const b of params.below) {
    if (covered.has(pairKey(b.partNumber, b.site))) continue;
    for (const s of b.shortfalls) problem(`changes.${b.index}.${s.field}`, describeBelow(b, s));
  }
  return fields;
}

/** The materials and sites a request's deviations name, for the approval policy's reasons. */
export const deviationPairs = (deviations: readonly TraceabilityDeviation[] | undefined): string[] =>
  (deviations ?? []).map((d) => `${d.material} at ${d.site}`);
