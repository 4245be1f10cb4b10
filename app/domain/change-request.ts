/**
 * Pure rules of a change request's content: expanding family changes into per-material changes,
 * the tracking effect of each (for the approval policy), the diff against the base, and the hash
 * of the signed content. No I/O: the service passes in the catalog and the current rules.
 */
import { createHash } from "node:crypto";
import { createTwoFilesPatch } from "diff";
import { canonicalize } from "./canonical-json";
import type { ChangeFacts, ChangeRequestContent, ProposedChange } from "./change-request-content";
import type { RiskClass } from "./material";
import { checkRuleConsistency, compareTracking, type Identifies, type TrackingRuleContent } from "./tracking-rule";
import {
  describeRequirement,
  describeTarget,
  ownRequirement,
  requirementLowering,
  targetKey,
  type RequirementContent,
  type RequirementSubject,
  type RequirementTarget,
  type TraceabilityRequirement,
} from "./traceability-requirement";

// The content's types live in change-request-content.ts (no Node imports: the browser's forms import it too).
export type {
  ChangeFacts,
  ChangeRequestContent,
  LegacyDataPlan,
  ProposedAlternatesChange,
  ProposedAttributeChange,
  ProposedChange,
  ProposedNewMaterial,
  ProposedRequirementChange,
  ProposedTrackingChange,
  TrackingEffect,
} from "./change-request-content";
export { LEGACY_DATA_PLANS } from "./change-request-content";

export interface CatalogMaterial {
  id: number;
  partNumber: string;
  family: string;
  riskClass: RiskClass;
  gtin?: string | null;
}

export interface Catalog {
  materials: ReadonlyMap<string, CatalogMaterial>;
  families: ReadonlySet<string>;
  sites: ReadonlyMap<string, number>;
  /** Identifier formats: what they identify and the site they belong to (null: any site). */
  formats: ReadonlyMap<string, { identifies: Identifies; site: string | null }>;
  /** BOM lines by `site|parent|component`, with their approved alternates in order. */
  bomLines: ReadonlyMap<string, { alternates: string[] }>;
  /** Required traceability in force and the materials it governs (ADR 035); absent: a requirement change cannot be expanded. */
  requirements?: { inForce: readonly TraceabilityRequirement[]; subjects: readonly RequirementSubject[] };
}

export const bomLineKey = (site: string, parent: string, component: string) => `${site}|${parent}|${component}`;

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
  riskClass: RiskClass | null;
  regulatoryFlags: string[] | null;
  family: string | null;
  gtin: string | null;
}

export interface ExpandedAlternatesChange {
  kind: "alternates";
  /** The BOM line's parent. */
  partNumber: string;
  component: string;
  site: string;
  alternates: string[];
}

export interface ExpandedNewMaterial {
  kind: "new_material";
  partNumber: string;
  description: string;
  unitOfMeasure: string;
  family: string;
  riskClass: RiskClass;
  regulatoryFlags: string[];
  gtin: string | null;
}

/**
 * A required-traceability change (ADR 035), plant-wide: the target's new requirement, what it replaces
 * (`before`: the target's own requirement in force when the request was written, null = none stated)
 * and what it lowers (its own requirement, and the materials whose governing requirement it weakens).
 */
export type ExpandedRequirementChange = {
  kind: "traceability_requirement";
  target: RequirementTarget;
  before: RequirementContent | null;
  lowers: { own: boolean; materials: string[] };
} & RequirementContent;

export type ExpandedChange = ExpandedTrackingChange | ExpandedAttributeChange | ExpandedAlternatesChange | ExpandedNewMaterial | ExpandedRequirementChange;
/** The changes that name a material (all but required-traceability changes, which name a target). */
export type ExpandedMaterialChange = Exclude<ExpandedChange, ExpandedRequirementChange>;
export const isMaterialChange = (c: ExpandedChange): c is ExpandedMaterialChange => c.kind !== "traceability_requirement";
/** The material a change names, or the target of a requirement change in words. */
export const changeSubject = (c: ExpandedChange): string => (c.kind === "traceability_requirement" ? describeTarget(c.target) : c.partNumber);

export type Expansion = { ok: true; changes: ExpandedChange[] } | { ok: false; fields: Record<string, string[]> };

/** Family changes become one change per material of the family, now; nothing is inherited at run time. */
export function expandChanges(changes: readonly ProposedChange[], catalog: Catalog): Expansion {
  const fields: Record<string, string[]> = {};
  const problem = (path: string, message: string) => (fields[path] ??= []).push(message);
  const out: ExpandedChange[] = [];
  const seenTracking = new Map<string, number>();
  const seenAttributes = new Map<string, number>();
  const seenLines = new Map<string, number>();
  const seenTargets = new Map<string, number>();

  // Materials this change request creates: tracking changes may name them.
  const created = new Map<string, number>();
  const gtins = new Set([...catalog.materials.values()].map((m) => m.gtin).filter(Boolean));
  changes.forEach((change, i) => {
    if (change.kind !== "new_material") return;
    if (catalog.materials.has(change.partNumber)) problem(`changes.${i}.partNumber`, `material ${change.partNumber} already exists`);
    else if (created.has(change.partNumber))
      problem(`changes.${i}.partNumber`, `${change.partNumber} is already created in change ${created.get(change.partNumber)! + 1}`);
    if (!catalog.families.has(change.family)) problem(`changes.${i}.family`, `family ${change.family} does not exist`);
    if (change.gtin && gtins.has(change.gtin)) problem(`changes.${i}.gtin`, `GTIN ${change.gtin} belongs to another material`);
    created.set(change.partNumber, i);
    out.push({
      kind: "new_material",
      partNumber: change.partNumber,
      description: change.description,
      unitOfMeasure: change.unitOfMeasure,
      family: change.family,
      riskClass: change.riskClass,
      regulatoryFlags: [...change.regulatoryFlags].sort(),
      gtin: change.gtin ?? null,
    });
  });
  const exists = (partNumber: string) => catalog.materials.has(partNumber) || created.has(partNumber);

  changes.forEach((change, i) => {
    if (change.kind === "new_material") return;
    if (change.kind === "traceability_requirement") {
      const t = change.target;
      const path = `changes.${i}.${t.scope === "material" ? "material" : t.scope === "family" ? "family" : "riskClass"}`;
      if (t.scope === "material" && !catalog.materials.has(t.partNumber)) return problem(path, `material ${t.partNumber} does not exist`);
      if (t.scope === "family" && !catalog.families.has(t.family)) return problem(path, `family ${t.family} does not exist`);
      if (!change.justification.trim()) problem(`changes.${i}.justification`, "Justify the requirement");
      const key = targetKey(t);
      if (seenTargets.has(key))
        return problem(path, `the required traceability of ${describeTarget(t)} is already changed in change ${seenTargets.get(key)! + 1}`);
      seenTargets.set(key, i);
      if (!catalog.requirements) return problem(path, "the requirements in force are not known");
      const content: RequirementContent = {
        minimumTracking: change.minimumTracking,
        containerRequired: change.containerRequired,
        requiredScan: change.requiredScan,
        justification: change.justification.trim(),
        references: [...new Set(change.references)],
      };
      const own = ownRequirement(catalog.requirements.inForce, t);
      out.push({
        kind: "traceability_requirement",
        target: t,
        ...content,
        before: own
          ? {
              minimumTracking: own.minimumTracking,
              containerRequired: own.containerRequired,
              requiredScan: own.requiredScan,
              justification: own.justification,
              references: [...own.references],
            }
          : null,
        lowers: requirementLowering(catalog.requirements.inForce, catalog.requirements.subjects, { target: t, ...content }),
      });
      return;
    }
    if (change.kind === "alternates") {
      for (const site of [...new Set(change.sites)].sort()) {
        if (!catalog.sites.has(site)) {
          problem(`changes.${i}.sites`, `site ${site} does not exist`);
          continue;
        }
        const line = catalog.bomLines.get(bomLineKey(site, change.material, change.component));
        if (!line) {
          problem(`changes.${i}.component`, `${site}: ${change.material} has no BOM line with primary component ${change.component}`);
          continue;
        }
        const key = bomLineKey(site, change.material, change.component);
        if (seenLines.has(key)) {
          problem(`changes.${i}.component`, `${site}: this BOM line is already changed in change ${seenLines.get(key)! + 1}`);
          continue;
        }
        seenLines.set(key, i);
        const alternates = [...new Set(change.alternates)];
        for (const alt of alternates) {
          if (!catalog.materials.has(alt)) problem(`changes.${i}.alternates`, `material ${alt} does not exist`);
          if (alt === change.component) problem(`changes.${i}.alternates`, `${alt} is the primary component itself`);
        }
        out.push({ kind: "alternates", partNumber: change.material, component: change.component, site, alternates });
      }
      return;
    }
    if (change.kind === "attributes") {
      if (!catalog.materials.has(change.material)) return problem(`changes.${i}.material`, `material ${change.material} does not exist`);
      if (change.family && !catalog.families.has(change.family)) problem(`changes.${i}.family`, `family ${change.family} does not exist`);
      if (seenAttributes.has(change.material))
        problem(`changes.${i}.material`, `the attributes of ${change.material} are already changed in change ${seenAttributes.get(change.material)! + 1}`);
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
      if (!exists(change.material)) problem(`changes.${i}.material`, `material ${change.material} does not exist`);
      else partNumbers = [change.material];
    } else if (change.family) {
      if (!catalog.families.has(change.family)) problem(`changes.${i}.family`, `family ${change.family} does not exist`);
      else {
        partNumbers = [...catalog.materials.values()]
          .filter((m) => m.family === change.family)
          .map((m) => m.partNumber)
          .sort();
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
      // A site's list is the GS1 formats and the site's own patterns: another site's pattern is named as such.
      const notUsable = (code: string) => {
        const elsewhere = catalog.formats.get(code)?.site;
        return elsewhere ? `${code} is an identifier format of ${elsewhere}, not one of ${site}'s` : `unknown identifier format ${code}`;
      };
      for (const p of checkRuleConsistency(rule, usable, notUsable)) problem(`changes.${i}.${p.field}`, `${site}: ${p.message}`);
      for (const partNumber of partNumbers) {
        const key = `${partNumber}|${site}`;
        if (seenTracking.has(key)) {
          problem(
            `changes.${i}.${change.material ? "material" : "family"}`,
            `${partNumber} at ${site} is already changed in change ${seenTracking.get(key)! + 1}`,
          );
          continue;
        }
        seenTracking.set(key, i);
        out.push({ kind: "tracking", partNumber, site, rule, viaFamily: change.family ?? null });
      }
    }
  });
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  const siteOf = (c: ExpandedChange) => (c.kind === "tracking" || c.kind === "alternates" ? c.site : "");
  const componentOf = (c: ExpandedChange) => (c.kind === "alternates" ? c.component : "");
  // Material changes first, by part number (as before requirement changes existed), then requirements by target.
  const orderOf = (c: ExpandedChange) => (c.kind === "traceability_requirement" ? `~${targetKey(c.target)}` : c.partNumber);
  out.sort(
    (a, b) =>
      orderOf(a).localeCompare(orderOf(b)) ||
      a.kind.localeCompare(b.kind) ||
      siteOf(a).localeCompare(siteOf(b)) ||
      componentOf(a).localeCompare(componentOf(b)),
  );
  return { ok: true, changes: out };
}

/** The rule in force now for a material at a site, as the base the change is compared with. */
export type CurrentRules = ReadonlyMap<string, TrackingRuleContent>;
export const ruleKey = (partNumber: string, site: string) => `${partNumber}|${site}`;

/** What the approval policy needs to know about each change. */
export function changeFacts(changes: readonly ExpandedChange[], current: CurrentRules, catalog: Catalog): ChangeFacts[] {
  return changes.map((c) => {
    if (c.kind === "traceability_requirement") {
      const riskClass =
        c.target.scope === "risk_class"
          ? c.target.riskClass
          : c.target.scope === "material"
            ? (catalog.materials.get(c.target.partNumber)?.riskClass ?? "medium")
            : "medium";
      return {
        partNumber: describeTarget(c.target),
        trackingEffect: "same",
        riskClass,
        requirement: { target: describeTarget(c.target), lowers: c.lowers.own || c.lowers.materials.length > 0 },
      };
    }
    const material = catalog.materials.get(c.partNumber);
    const createdRisk = changes.find((x): x is ExpandedNewMaterial => x.kind === "new_material" && x.partNumber === c.partNumber)?.riskClass;
    const riskClass = c.kind === "attributes" && c.riskClass === "high" ? "high" : (material?.riskClass ?? createdRisk ?? "medium");
    if (c.kind === "attributes") return { partNumber: c.partNumber, trackingEffect: "same", riskClass };
    if (c.kind === "new_material") return { partNumber: c.partNumber, trackingEffect: "new", riskClass: c.riskClass };
    if (c.kind === "alternates") {
      // An alternate tracked more coarsely than its primary lets operators lose trace by substitution.
      const primary = current.get(ruleKey(c.component, c.site));
      const coarser = c.alternates.some((alt) => {
        const rule = current.get(ruleKey(alt, c.site));
        return primary && rule && compareTracking(primary.trackingMode, rule.trackingMode) === "downgrade";
      });
      return { partNumber: c.partNumber, trackingEffect: coarser ? "downgrade" : "same", riskClass };
    }
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
export function structuredDiff(
  changes: readonly ExpandedChange[],
  current: CurrentRules,
  catalog: Catalog,
  attributes: ReadonlyMap<string, Record<string, unknown>>,
): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const c of changes) {
    if (c.kind === "traceability_requirement") {
      const subject = describeTarget(c.target);
      const was = c.before;
      const add = (field: string, from: string, to: string) => {
        if (from !== to || !was) rows.push({ site: null, partNumber: subject, field, from: was ? from : "none stated", to });
      };
      add("required traceability", was ? describeRequirement(was) : "none stated", describeRequirement(c));
      add("requirement justification", was?.justification ?? "—", c.justification);
      add("requirement references", show(was?.references ?? null), show(c.references));
      continue;
    }
    if (c.kind === "tracking") {
      const before = current.get(ruleKey(c.partNumber, c.site));
      for (const field of ["trackingMode", "containerTracking", "identifierFormatCodes", "consumptionScan"] as const) {
        const from = show(before?.[field] ?? null);
        const to = show(c.rule[field]);
        if (from !== to || !before) rows.push({ site: c.site, partNumber: c.partNumber, field, from: before ? from : "no rule", to });
      }
    } else if (c.kind === "alternates") {
      const before = catalog.bomLines.get(bomLineKey(c.site, c.partNumber, c.component))?.alternates ?? [];
      rows.push({ site: c.site, partNumber: c.partNumber, field: `alternates for ${c.component}`, from: show(before), to: show(c.alternates) });
    } else if (c.kind === "new_material") {
      rows.push({
        site: null,
        partNumber: c.partNumber,
        field: "new material",
        from: "—",
        to: `${c.description} (${c.unitOfMeasure}, family ${c.family}, risk ${c.riskClass}${c.gtin ? `, GTIN ${c.gtin}` : ""}${c.regulatoryFlags.length ? `, ${c.regulatoryFlags.join(", ")}` : ""})`,
      });
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
  /** The digest of what the request reads at the site (app/domain/request-base.ts); absent on bases written before bases recorded it. */
  touchedDigest?: string;
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
  return createHash("sha256")
    .update(canonicalize(JSON.parse(JSON.stringify(signed))))
    .digest("hex");
}

/** The sites a change request touches. */
export function touchedSites(changes: readonly ExpandedChange[], allSites: readonly string[]): string[] {
  // Attribute changes apply at every site from the first release and ride in each site's next version.
  // So do required-traceability changes (plant-wide, ADR 035): applied once, at the first release.
  if (changes.some((c) => c.kind === "attributes" || c.kind === "traceability_requirement")) return [...allSites].sort();
  return [...new Set(changes.flatMap((c) => (c.kind === "tracking" || c.kind === "alternates" ? [c.site] : [])))].sort();
}
