/**
 * Choosing a tracking rule's identifier formats on the change-request form: which formats a site
 * offers, a starting set for a new tracking mode, and the look-alike warning said in one line per
 * problem. Pure: no I/O. The look-alike decision itself is look-alike.ts (ADR 013).
 */
import type { LookAlikeReport } from "../../packages/identifiers/src/look-alike";
import type { Identifies, TrackingMode } from "./tracking-rule";

export interface FormatChoice {
  code: string;
  name: string;
  identifies: Identifies;
  /** Null: a GS1 format, usable at every site; else the site whose pattern it is. */
  site: string | null;
  /** The pattern in words (identifier-format.ts describeFormat). */
  pattern: string;
}

/** The formats a rule at every one of `sites` may list: global ones and the sites' own; all of them when no site is chosen yet. */
export function formatsOfSites<F extends Pick<FormatChoice, "site">>(formats: readonly F[], sites: readonly string[]): F[] {
  if (sites.length === 0) return [...formats];
  return formats.filter((f) => f.site === null || sites.every((s) => s === f.site));
}

/**
 * The formats a new rule in `mode` starts from, given the rule in force's formats (`current`) and
 * those usable at the site (`usable`, each with how many rules in force at the site list it): the
 * current ones the mode may still print, plus, for each kind the mode needs and none of them
 * identifies, the usable format of that kind most used at the site (ties: the site's own pattern,
 * then by code). Only a starting point: the author can change it and the service checks it.
 */
export function formatsForMode(params: {
  current: readonly string[];
  mode: TrackingMode;
  containerTracking: boolean;
  usable: readonly { code: string; identifies: Identifies; site: string | null; uses: number }[];
}): string[] {
  const kindOf = new Map(params.usable.map((f) => [f.code, f.identifies]));
  const allowed = new Set<Identifies>([
    ...(params.mode === "serial" ? (["serial", "lot"] as const) : params.mode === "lot" ? (["lot"] as const) : []),
    ...(params.containerTracking ? (["container"] as const) : []),
  ]);
  const kept = params.current.filter((code) => {
    const kind = kindOf.get(code);
    return kind !== undefined && allowed.has(kind);
  });
  const needed: Identifies[] = [
    ...(params.mode === "serial" ? (["serial"] as const) : params.mode === "lot" ? (["lot"] as const) : []),
    ...(params.containerTracking ? (["container"] as const) : []),
  ];
  const chosen = new Set(kept);
  for (const kind of needed) {
    if (kept.some((code) => kindOf.get(code) === kind)) continue;
    const best = params.usable
      .filter((f) => f.identifies === kind)
      .sort((a, b) => b.uses - a.uses || Number(b.site !== null) - Number(a.site !== null) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))[0];
    if (best) chosen.add(best.code);
  }
  return [...chosen].sort();
}

/**
 * The look-alike warning under the format picker: one sentence per format that reads more than one
 * way on its own, or per pair of formats one string can be read as, where that confuses kinds
 * (a serial taken for a lot…); pairs of the same kind are left out — nothing is misread.
 */
export function lookAlikeWarnings(report: LookAlikeReport): string[] {
  return [
    ...report.selfAmbiguous.map((s) => `${s.format} on its own prints ${s.example.display}, which reads as ${s.kinds.join(" and ")}.`),
    ...report.pairs
      .filter((p) => p.confusion)
      .map(
        (p) =>
          `${p.formats[0]} and ${p.formats[1]} can print the same string, ${p.example.display}: read as ${p.readsAs.map((r) => `${r.kind} (${r.format})`).join(" or as ")}.`,
      ),
    ...report.undecided.map((u) => `Not decided whether ${u.formats.join(" and ")} look alike (search bound reached).`),
    ...report.unusable.map((u) => `${u.format} can print no valid string: ${u.reason}.`),
  ];
}

/** A rule-set version as the form shows it (times as ISO 8601 UTC text: it crosses to the browser). */
export interface VersionShown {
  version: number;
  effectiveFrom: string;
}

/** The rule in force for a material at a site, as the form shows it. */
export type RuleInForceShown =
  | { state: "legacy"; firstVersion: VersionShown | null }
  | { state: "unruled"; version: VersionShown }
  | {
      state: "ruled";
      version: VersionShown;
      rule: {
        trackingMode: TrackingMode;
        containerTracking: boolean;
        identifierFormatCodes: string[];
        consumptionScan: string;
        /** The version that introduced the rule, and since when it holds. */
        version: number;
        effectiveFrom: string;
      };
    };

/** What the form shows beside a tracking change for one material at one of its sites. */
export interface ProposalSiteContext {
  site: string;
  siteName: string;
  inForce: RuleInForceShown;
  /** The chosen formats (those the site offers) and the look-alikes they make with the formats used there. */
  chosen: string[];
  lookAlikes: LookAlikeReport;
  /** The label templates whose formats were compared. */
  templates: string[];
}

/** The context of one tracking change on the form: its material, and per chosen site what is in force. */
export interface ProposalContext {
  material: { partNumber: string; description: string } | null;
  /** Why nothing is shown (no material named, unknown material…); null when `sites` says it. */
  note: string | null;
  sites: ProposalSiteContext[];
}

/**
 * The tracking fields a proposal starts from at a site, given the rule in force there (null: none)
 * and, when the proposal names one (Reconciliation), the tracking mode to change to: without a
 * mode, the rule in force as it is (the author edits what should change); with one, the rule in
 * force's container tracking and scan where they still fit, and formatsForMode's formats.
 */
export function prefillRule(params: {
  inForce: { trackingMode: TrackingMode; containerTracking: boolean; identifierFormatCodes: readonly string[]; consumptionScan: string } | null;
  mode: TrackingMode | null;
  usable: readonly { code: string; identifies: Identifies; site: string | null; uses: number }[];
}): { trackingMode: TrackingMode; containerTracking: boolean; identifierFormatCodes: string[]; consumptionScan: string | null } | null {
  const { inForce, mode } = params;
  if (mode === null) return inForce ? { ...inForce, identifierFormatCodes: [...inForce.identifierFormatCodes].sort() } : null;
  const containerTracking = inForce?.containerTracking ?? false;
  const scan = inForce?.consumptionScan ?? null;
  // Nothing to identify on an untracked material outside containers (tracking-rule.ts checkRuleConsistency).
  const consumptionScan = scan === "identify" && mode === "none" && !containerTracking ? "verify" : scan;
  return {
    trackingMode: mode,
    containerTracking,
    identifierFormatCodes: formatsForMode({ current: inForce?.identifierFormatCodes ?? [], mode, containerTracking, usable: params.usable }),
    consumptionScan,
  };
}
