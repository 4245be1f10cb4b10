import { z } from "zod";

export const TRACKING_MODES = ["serial", "lot", "none"] as const;
export type TrackingMode = (typeof TRACKING_MODES)[number];
export const CONSUMPTION_SCANS = ["none", "verify", "identify"] as const;
export type ConsumptionScan = (typeof CONSUMPTION_SCANS)[number];
/** What an identifier format identifies: defined with the formats, in packages/identifiers (ADR 040). */
import { IDENTIFIES, type Identifies } from "../../packages/identifiers/src/identifies";

export { IDENTIFIES, type Identifies };

/** What a tracking rule says, without its interval: the content a change request proposes. */
export const trackingRuleContentSchema = z.object({
  trackingMode: z.enum(TRACKING_MODES),
  containerTracking: z.boolean(),
  identifierFormatCodes: z.array(z.string().min(1).max(64)).max(20),
  consumptionScan: z.enum(CONSUMPTION_SCANS),
});
export type TrackingRuleContent = z.infer<typeof trackingRuleContentSchema>;

export interface VersionPoint {
  version: number;
  effectiveFrom: Date;
}

export interface RuleInterval extends TrackingRuleContent {
  effectiveFrom: Date;
  effectiveTo: Date | null;
  /** The rule-set version that introduced the rule. */
  version: number;
}

export type RuleInForce =
  /** Before the site's first rule-set version: data from then is legacy, governed by no rule. */
  | { state: "legacy"; firstVersion: VersionPoint | null }
  /** A version is in force but it has no rule for this material (e.g. a material created later). */
  | { state: "unruled"; version: VersionPoint }
  | { state: "ruled"; version: VersionPoint; rule: RuleInterval };

/**
 * The rule in force at `at`: the site's version in force is the highest version with
 * effectiveFrom ≤ at; the material's rule is the one introduced by the highest version up to it.
 */
export function resolveRuleInForce(versions: readonly VersionPoint[], rules: readonly RuleInterval[], at: Date): RuleInForce {
  let inForce: VersionPoint | undefined;
  let first: VersionPoint | undefined;
  for (const v of versions) {
    if (!first || v.version < first.version) first = v;
    if (v.effectiveFrom.getTime() <= at.getTime() && (!inForce || v.version > inForce.version)) inForce = v;
  }
  if (!inForce) return { state: "legacy", firstVersion: first ?? null };
  let rule: RuleInterval | undefined;
  for (const r of rules) {
    if (r.version <= inForce.version && (!rule || r.version > rule.version)) rule = r;
  }
  if (!rule) return { state: "unruled", version: inForce };
  return { state: "ruled", version: inForce, rule };
}

/** How finely a mode identifies material: a serial names one unit, a lot one batch, none nothing. */
export function granularity(mode: TrackingMode): number {
  return mode === "serial" ? 2 : mode === "lot" ? 1 : 0;
}

export type TrackingChange = "upgrade" | "downgrade" | "same";

export function compareTracking(from: TrackingMode, to: TrackingMode): TrackingChange {
  const d = granularity(to) - granularity(from);
  return d > 0 ? "upgrade" : d < 0 ? "downgrade" : "same";
}

/**
 * Problems that make a rule self-contradictory, given what its identifier formats identify.
 * Each problem names the field it is about, for forms and API errors alike.
 */
export function checkRuleConsistency(
  rule: TrackingRuleContent,
  formats: ReadonlyMap<string, Identifies>,
  /** Says why a code is not among `formats` (e.g. it is another site's pattern); default: unknown. */
  notUsable: (code: string) => string = (code) => `unknown identifier format ${code}`,
): { field: keyof TrackingRuleContent; message: string }[] {
  const problems: { field: keyof TrackingRuleContent; message: string }[] = [];
  const identifies = new Set<Identifies>();
  for (const code of rule.identifierFormatCodes) {
    const kind = formats.get(code);
    if (!kind) problems.push({ field: "identifierFormatCodes", message: notUsable(code) });
    else identifies.add(kind);
  }
  if (new Set(rule.identifierFormatCodes).size !== rule.identifierFormatCodes.length) {
    problems.push({ field: "identifierFormatCodes", message: "an identifier format is listed twice" });
  }
  if (rule.trackingMode === "serial" && !identifies.has("serial")) {
    problems.push({ field: "identifierFormatCodes", message: "serial tracking needs an identifier format for serials" });
  }
  if (rule.trackingMode === "lot" && !identifies.has("lot")) {
    problems.push({ field: "identifierFormatCodes", message: "lot tracking needs an identifier format for lots" });
  }
  if (rule.trackingMode !== "serial" && identifies.has("serial")) {
    problems.push({ field: "identifierFormatCodes", message: `a ${rule.trackingMode} rule cannot print serial identifiers` });
  }
  if (rule.trackingMode === "none" && identifies.has("lot")) {
    problems.push({ field: "identifierFormatCodes", message: "an untracked material cannot print lot identifiers" });
  }
  if (rule.containerTracking && !identifies.has("container")) {
    problems.push({ field: "identifierFormatCodes", message: "container tracking needs an identifier format for containers" });
  }
  if (!rule.containerTracking && identifies.has("container")) {
    problems.push({ field: "containerTracking", message: "a container format is listed but container tracking is off" });
  }
  if (rule.consumptionScan === "identify" && rule.trackingMode === "none" && !rule.containerTracking) {
    problems.push({ field: "consumptionScan", message: "nothing to identify: the material is untracked and not in containers" });
  }
  return problems;
}
