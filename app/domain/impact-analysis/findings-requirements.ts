/**
 * Findings on required traceability (ADR 036): a tracking change that leaves its material at its site
 * below the requirement in force (BELOW_REQUIRED_TRACEABILITY, critical, whether or not the request
 * carries a deviation — the finding says which, and until when), and the open deviations at the
 * request's sites whose last day is before the data point's date (DEVIATION_EXPIRED, critical).
 */
import { deviationExpired, describeShortfall, requirementFor, shortfalls } from "../traceability-requirement";
import { isRegulatedFlag, sample } from "./context";
import type { AnalysisInput, Finding, TrackingChangeInput } from "./report";

export function belowRequiredTraceability(input: AnalysisInput, change: TrackingChangeInput): Finding | null {
  const t = input.traceability;
  const material = input.materials[change.partNumber];
  if (!t || !material) return null;
  const requirement = requirementFor(
    { partNumber: material.partNumber, family: material.family, riskClass: material.riskClass, regulated: material.regulatoryFlags.some(isRegulatedFlag) },
    t.requirements,
  );
  if (!requirement) return null;
  const gaps = shortfalls(requirement, change.after);
  if (gaps.length === 0) return null;
  const deviation = t.deviations.find((d) => d.material === change.partNumber && d.site === change.site) ?? null;
  const refs = requirement.references.length ? ` (${requirement.references.join(", ")})` : "";
  const carried = deviation
    ? `the request carries a deviation (${deviation.riskAssessmentRef}), ${deviation.expiresOn ? `expiring after ${deviation.expiresOn}` : "without expiry"}`
    : "the request carries no deviation for it";
  return {
    code: "BELOW_REQUIRED_TRACEABILITY",
    severity: "critical",
    message: `${change.partNumber} at ${change.site}: ${gaps.map(describeShortfall).join("; ")}${refs}; ${carried}`,
    count: gaps.length,
    sample: gaps.map(describeShortfall),
    detail: {
      requirement: {
        minimumTracking: requirement.minimumTracking,
        containerRequired: requirement.containerRequired,
        requiredScan: requirement.requiredScan,
        references: requirement.references,
      },
      deviation: deviation ? { riskAssessmentRef: deviation.riskAssessmentRef, expiresOn: deviation.expiresOn } : null,
    },
  };
}

export function deviationsExpired(input: AnalysisInput): Finding | null {
  const t = input.traceability;
  if (!t) return null;
  const today = input.dataPoint.at.slice(0, 10);
  const sites = new Set(input.changes.map((c) => c.site));
  const expired = t.openDeviations
    .filter((d) => sites.has(d.site) && deviationExpired(d.expiresOn, today))
    .sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.material < b.material ? -1 : a.material > b.material ? 1 : 0));
  if (expired.length === 0) return null;
  return {
    code: "DEVIATION_EXPIRED",
    severity: "critical",
    message: `${expired.length} open deviation(s) from required traceability at ${[...new Set(expired.map((d) => d.site))].join(", ")} expired before ${today}`,
    count: expired.length,
    sample: sample(expired.map((d) => `${d.material} at ${d.site}: ${d.changeRequest}, expired after ${d.expiresOn}`)),
  };
}
