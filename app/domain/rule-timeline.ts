/**
 * A material's rule history at one site as the material page shows it: the legacy period before
 * the site's first rule-set version, an unruled stretch while versions were in force without a
 * rule for the material, then each rule — each row marked past, in force or scheduled at `at`.
 * Pure: the versions, rules and the rule in force (resolveRuleInForce) are passed in.
 */
import type { RuleInForce, RuleInterval, VersionPoint } from "./tracking-rule";

/** One row of a material's rule history at a site, oldest first. */
export type RuleTimelineStatus = "past" | "in force" | "scheduled";
export type RuleTimelineRow =
  /** Before the site's first rule-set version: legacy data, governed by no rule. */
  | { kind: "legacy"; to: Date | null; firstVersion: number | null; status: RuleTimelineStatus }
  /** Versions were in force but none had a rule for this material (e.g. it was created later). */
  | {
      kind: "unruled";
      fromVersion: number;
      toVersion: number | null;
      from: Date;
      to: Date | null;
      status: RuleTimelineStatus;
    }
  | { kind: "rule"; rule: RuleInterval; status: RuleTimelineStatus };

/** The history rows of one material at one site, including the legacy period before version 1. */
export function ruleTimeline(versions: readonly VersionPoint[], rules: readonly RuleInterval[], inForce: RuleInForce, at: Date): RuleTimelineRow[] {
  const ordered = [...versions].sort((a, b) => a.version - b.version);
  const first = ordered[0];
  const rows: RuleTimelineRow[] = [
    {
      kind: "legacy",
      to: first?.effectiveFrom ?? null,
      firstVersion: first?.version ?? null,
      status: inForce.state === "legacy" ? "in force" : "past",
    },
  ];
  const later = (from: Date) => from.getTime() > at.getTime();
  if (!first) return rows;
  const sortedRules = [...rules].sort((a, b) => a.version - b.version);
  const firstRule = sortedRules[0];
  if (!firstRule || firstRule.version > first.version) {
    const ruleVersion = firstRule ? ordered.find((v) => v.version === firstRule.version) : undefined;
    rows.push({
      kind: "unruled",
      fromVersion: first.version,
      toVersion: firstRule ? firstRule.version - 1 : null,
      from: first.effectiveFrom,
      to: firstRule ? (ruleVersion?.effectiveFrom ?? firstRule.effectiveFrom) : null,
      status: inForce.state === "unruled" ? "in force" : later(first.effectiveFrom) ? "scheduled" : "past",
    });
  }
  for (const rule of sortedRules) {
    const status = inForce.state === "ruled" && inForce.rule.version === rule.version ? "in force" : later(rule.effectiveFrom) ? "scheduled" : "past";
    rows.push({ kind: "rule", rule, status });
  }
  return rows;
}
