/**
 * Pure rules of a change request's content: expanding family changes into per-material changes,
 * the tracking effect of each (for the approval policy), the diff against the base, and the hash
 * of the signed content. No I/O: the service passes in the catalog and the current rules.
 */
import { createHash } from "node:crypto";
import { createTwoFilesPatch } from "diff";
import type { ChangeFacts } from "../../policies/approval";
import type { ChangeRequestContent, ProposedChange } from "../schemas/change-request";
import { canonicalize } from "./canonical-json";
import { checkRuleConsistency, compareTracking, type Identifies, type TrackingRuleContent } from "./tracking-rule";

export interface CatalogMaterial {
  id: number;
  partNumber: string;
  family: string;
  riskClass: "low" | "medium" | "high";
}

export interface Catalog {
  materials: ReadonlyMap<string, CatalogMaterial>;
  families: ReadonlySet<string>;
  sites: ReadonlyMap<string, number>;
  /** Identifier formats: what they identify and the site they belong to (null: any site). */
  formats: ReadonlyMap<string, { identifies: Identifies; site: string | null }>;
}

export interface ExpandedTrackingChange {
  kind: "tracking";
  partNumber: string;
  site: string;
  rule: TrackingRuleContent;
  /** Set when the change came from a family-wide change. */
  viaFamily: string | null;
}

export interface ExpandedAttributeChange {
  kind: "attributes";
  partNumber: string;
  riskClass: "low" | "medium" | "high" | null;
  regulatoryFlags: string[] | null;
  family: string | null;
  gtin: string | null;
}

export type ExpandedChange = ExpandedTrackingChange | ExpandedAttributeChange;

export type Expansion = { ok: true; changes: ExpandedChange[] } | { ok: false; fields: Record<string, string[]> };

/** Family changes become one change per material of the family, now; nothing is inherited at run time. */
export function expandChanges(changes: readonly ProposedChange[], catalog: Catalog): Expansion {
  const fields: Record<string, string[]> = {};
  const problem = (path: string, message: string) => (fields[path] ??= []).push(message);
  const out: ExpandedChange[] = [];
  const seenTracking = new Map<string, number>();
  const seenAttributes = new Map<string, number>();

  changes.forEach((change, i) => {
    if (change.kind === "attributes") {
      if (!catalog.materials.has(change.material)) return problem(`changes.${i}.material`, `material ${change.material} does not exist`);
      if (change.family && !catalog.families.has(change.family)) problem(`changes.${i}.family`, `family ${change.family} does not exist`);
      if (seenAttributes.has(change.material)) problem(`changes.${i}.material`, `the attributes of ${change.material} are already changed in change ${seenAttributes.get(change.material)! + 1}`);
      seenAttributes.set(change.material, i);
      out.push({
        kind: "attributes",
        partNumber: change.material,
        riskClass: change.riskClass ?? null,
        regulatoryFlags: change.regulatoryFlags ? [...change.regulatoryFlags].sort() : null,
        family: change.family ?? null,
        gtin: change.gtin ?? null,
      });
      return;
    }
    let partNumbers: string[] = [];
    if (change.material) {
      if (!catalog.materials.has(change.material)) problem(`changes.${i}.material`, `material ${change.material} does not exist`);
      else partNumbers = [change.material];
    } else if (change.family) {
      if (!catalog.families.has(change.family)) problem(`changes.${i}.family`, `family ${change.family} does not exist`);
      else {
        partNumbers = [...catalog.materials.values()].filter((m) => m.family === change.family).map((m) => m.partNumber).sort();
        if (partNumbers.length === 0) problem(`changes.${i}.family`, `family ${change.family} has no materials`);
      }
    }
    const rule: TrackingRuleContent = {
      trackingMode: change.trackingMode,
      containerTracking: change.containerTracking,
      identifierFormatCodes: [...new Set(change.identifierFormatCodes)].sort(),
      consumptionScan: change.consumptionScan,
    };
    for (const site of [...new Set(change.sites)].sort()) {
      if (!catalog.sites.has(site)) {
        problem(`changes.${i}.sites`, `site ${site} does not exist`);
        continue;
      }
      const usable = new Map<string, Identifies>();
      for (const [code, f] of catalog.formats) if (f.site === null || f.site === site) usable.set(code, f.identifies);
      for (const p of checkRuleConsistency(rule, usable)) problem(`changes.${i}.${p.field}`, `${site}: ${p.message}`);
      for (const partNumber of partNumbers) {
        const key = `${partNumber}|${site}`;
        if (seenTracking.has(key)) {
          problem(`changes.${i}.${change.material ? "material" : "family"}`, `${partNumber} at ${site} is already changed in change ${seenTracking.get(key)! + 1}`);
          continue;
        }
        seenTracking.set(key, i);
        out.push({ kind: "tracking", partNumber, site, rule, viaFamily: change.family ?? null });
      }
    }
  });
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  out.sort((a, b) => a.partNumber.localeCompare(b.partNumber) || (a.kind === b.kind ? (a.kind === "tracking" && b.kind === "tracking" ? a.site.localeCompare(b.site) : 0) : a.kind.localeCompare(b.kind)));
  return { ok: true, changes: out };
}

/** The rule in force now for a material at a site, as the base the change is compared with. */
export type CurrentRules = ReadonlyMap<string, TrackingRuleContent>;
export const ruleKey = (partNumber: string, site: string) => `${partNumber}|${site}`;

/** What the approval policy needs to know about each change. */
export function changeFacts(changes: readonly ExpandedChange[], current: CurrentRules, catalog: Catalog): ChangeFacts[] {
  return changes.map((c) => {
    const material = catalog.materials.get(c.partNumber);
    const riskClass = c.kind === "attributes" && c.riskClass === "high" ? "high" : (material?.riskClass ?? "medium");
    if (c.kind === "attributes") return { partNumber: c.partNumber, trackingEffect: "same", riskClass };
    const before = current.get(ruleKey(c.partNumber, c.site));
    return { partNumber: c.partNumber, trackingEffect: before ? compareTracking(before.trackingMode, c.rule.trackingMode) : "new", riskClass };
  });
}

export interface DiffRow {
  site: string | null;
  partNumber: string;
  field: string;
  from: string;
  to: string;
}

const show = (v: unknown): string => (v === null || v === undefined ? "—" : Array.isArray(v) ? (v.length ? v.join(", ") : "none") : String(v));

/** The structured per-material view: from → to, per site, field by field (unchanged fields left out). */
export function structuredDiff(changes: readonly ExpandedChange[], current: CurrentRules, catalog: Catalog, attributes: ReadonlyMap<string, Record<string, unknown>>): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const c of changes) {
    if (c.kind === "tracking") {
      const before = current.get(ruleKey(c.partNumber, c.site));
      for (const field of ["trackingMode", "containerTracking", "identifierFormatCodes", "consumptionScan"] as const) {
        const from = show(before?.[field] ?? null);
        const to = show(c.rule[field]);
        if (from !== to || !before) rows.push({ site: c.site, partNumber: c.partNumber, field, from: before ? from : "no rule", to });
      }
    } else {
      const before = attributes.get(c.partNumber) ?? {};
      for (const field of ["riskClass", "regulatoryFlags", "family", "gtin"] as const) {
        if (c[field] === null) continue;
        const from = show(before[field] ?? null);
        const to = show(c[field]);
        if (from !== to) rows.push({ site: null, partNumber: c.partNumber, field, from, to });
      }
    }
  }
  void catalog;
  return rows;
}

/** A unified text diff of the canonical JSON of the affected rules, per site (the `diff` package). */
export function textDiff(changes: readonly ExpandedChange[], current: CurrentRules): string {
  const sites = [...new Set(changes.filter((c): c is ExpandedTrackingChange => c.kind === "tracking").map((c) => c.site))].sort();
  return sites
    .map((site) => {
      const affected = changes.filter((c): c is ExpandedTrackingChange => c.kind === "tracking" && c.site === site);
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      for (const c of affected) {
        const was = current.get(ruleKey(c.partNumber, c.site));
        if (was) before[c.partNumber] = JSON.parse(canonicalize(was));
        after[c.partNumber] = JSON.parse(canonicalize(c.rule));
      }
      const text = (v: Record<string, unknown>) => `${JSON.stringify(JSON.parse(canonicalize(v)), null, 2)}\n`;
      return createTwoFilesPatch(`${site}/base`, `${site}/proposed`, text(before), text(after), undefined, undefined, { context: 3 });
    })
    .join("\n");
}

export interface Base {
  site: string;
  rulesDigest: string;
}

/**
 * SHA-256 of exactly what reviewers sign: the content (rules, sites, plans, effective date,
 * revalidation), the per-material changes it stands for and the base digest of each site — not the
 * discussion. Any edit changes it; signatures name it.
 */
export function signedContentHash(params: {
  number: string;
  revision: number;
  content: ChangeRequestContent;
  expandedChanges: readonly ExpandedChange[];
  bases: readonly Base[];
  analysisHash?: string | null;
}): string {
  const signed = {
    number: params.number,
    revision: params.revision,
    content: params.content,
    expandedChanges: params.expandedChanges,
    bases: [...params.bases].sort((a, b) => a.site.localeCompare(b.site)),
    analysisHash: params.analysisHash ?? null,
  };
  return createHash("sha256").update(canonicalize(JSON.parse(JSON.stringify(signed)))).digest("hex");
}

/** The sites a change request touches. */
export function touchedSites(changes: readonly ExpandedChange[], allSites: readonly string[]): string[] {
  // Attribute changes apply at every site from the first release and ride in each site's next version.
  if (changes.some((c) => c.kind === "attributes")) return [...allSites].sort();
  return [...new Set(changes.filter((c): c is ExpandedTrackingChange => c.kind === "tracking").map((c) => c.site))].sort();
}

export type { ChangeRequestContent };
