/**
 * A change request's base at a site: what its proposal and its impact analysis read there (issue
 * 17 part 5, ADR 006). Not the whole site's rules: the tracking rules, BOM lines (with alternates),
 * master data and identifier formats of the materials it changes and of their BOM neighbours at
 * the site. A release that changes none of them leaves the request current and its signatures
 * valid; one that changes any makes it stale, and `whatMoved` names what. The stored base is also
 * the "before" of the signed diff (part 4): what the reviewers saw and signed. Pure: no I/O.
 */
import { createHash } from "node:crypto";
import { canonicalize } from "./canonical-json";
import { bomLineKey, ruleKey, type Catalog, type CurrentRules, type ExpandedChange } from "./change-request";
import { topTierPairs } from "./genealogy-trace";
import type { AnalysisReads } from "./impact-analysis";
import type { TrackingRuleContent } from "./tracking-rule";

export interface MasterFacts {
  riskClass: string;
  regulatoryFlags: string[];
  family: string;
  gtin: string | null;
  unitOfMeasure: string;
}

export interface WorldLine {
  site: string;
  parent: string;
  component: string;
  lineNo: number;
  quantity: string;
  unit: string;
  alternates: string[];
}

/** The plant as a base is read from: open rules by `part|site`, every BOM line, master data and formats. */
export interface BaseWorld {
  rules: ReadonlyMap<string, TrackingRuleContent>;
  lines: readonly WorldLine[];
  materials: ReadonlyMap<string, MasterFacts>;
  formats: ReadonlyMap<string, { identifies: string; definition: unknown }>;
}

/** What a change request read at one site (stored with its base; JSON). */
export interface RequestBase {
  site: string;
  /** The materials the request changes here (the centre of what it reads). */
  changes: string[];
  /** Open tracking rule per material read (null: none). */
  rules: Record<string, TrackingRuleContent | null>;
  /** The site's BOM lines with a changed material as parent, component or alternate. */
  lines: Omit<WorldLine, "site">[];
  /** Master data per material read (null: the material does not exist). */
  masterData: Record<string, MasterFacts | null>;
  /** Identifier formats the rules read and proposed use (null: unknown code). */
  formats: Record<string, { identifies: string; definition: unknown } | null>;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The materials a request changes at a site: master-data changes count at every site. */
export function changedAt(expanded: readonly ExpandedChange[], site: string): string[] {
  return sorted(
    expanded.flatMap((c) => {
      if (c.kind === "tracking") return c.site === site ? [c.partNumber] : [];
      if (c.kind === "alternates") return c.site === site ? [c.partNumber, c.component, ...c.alternates] : [];
      // Required traceability is policy, not a material's rule or master data (ADR 035).
      if (c.kind === "traceability_requirement") return [];
      return [c.partNumber];
    }),
  );
}

const involves = (line: WorldLine, parts: ReadonlySet<string>) =>
  parts.has(line.parent) || parts.has(line.component) || line.alternates.some((a) => parts.has(a));

/** The request's base at `site`, read from `world`. */
export function requestBase(expanded: readonly ExpandedChange[], site: string, world: BaseWorld): RequestBase {
  const changes = changedAt(expanded, site);
  const centre = new Set(changes);
  const lines = world.lines
    .filter((l) => l.site === site && involves(l, centre))
    .map(({ site: _site, ...l }) => ({ ...l, alternates: [...l.alternates] }))
    .sort((a, b) => a.parent.localeCompare(b.parent) || a.lineNo - b.lineNo || a.component.localeCompare(b.component));
  // BOM neighbours: the analysis reads their rules and master data too (ADR 010).
  const read = sorted([...changes, ...lines.flatMap((l) => [l.parent, l.component, ...l.alternates])]);
  const rules: RequestBase["rules"] = {};
  const masterData: RequestBase["masterData"] = {};
  for (const part of read) {
    const rule = world.rules.get(ruleKey(part, site));
    rules[part] = rule ? { ...rule, identifierFormatCodes: [...rule.identifierFormatCodes].sort() } : null;
    const m = world.materials.get(part);
    masterData[part] = m ? { ...m, regulatoryFlags: [...m.regulatoryFlags].sort() } : null;
  }
  const codes = sorted([
    ...Object.values(rules).flatMap((r) => r?.identifierFormatCodes ?? []),
    ...expanded.flatMap((c) => (c.kind === "tracking" && c.site === site ? c.rule.identifierFormatCodes : [])),
  ]);
  const formats: RequestBase["formats"] = {};
  for (const code of codes) formats[code] = world.formats.get(code) ?? null;
  return { site, changes, rules, lines, masterData, formats };
}

/**
 * The base as staleness compares it: the request's own master-data changes laid over it, so that
 * its first release (which applies them at every site) does not make it stale at its other sites.
 */
function withOwnMasterData(expanded: readonly ExpandedChange[], base: RequestBase): RequestBase {
  const masterData = { ...base.masterData };
  for (const c of expanded) {
    if (c.kind === "new_material" && c.partNumber in masterData) {
      masterData[c.partNumber] = {
        riskClass: c.riskClass,
        regulatoryFlags: [...c.regulatoryFlags].sort(),
        family: c.family,
        gtin: c.gtin,
        unitOfMeasure: c.unitOfMeasure,
      };
    } else if (c.kind === "attributes" && masterData[c.partNumber]) {
      const m = masterData[c.partNumber]!;
      masterData[c.partNumber] = {
        ...m,
        ...(c.riskClass ? { riskClass: c.riskClass } : {}),
        ...(c.regulatoryFlags ? { regulatoryFlags: [...c.regulatoryFlags].sort() } : {}),
        ...(c.family ? { family: c.family } : {}),
        ...(c.gtin ? { gtin: c.gtin } : {}),
      };
    }
  }
  return { ...base, masterData };
}

/** SHA-256 of the base (signed with the request, ADR 006; its own master-data changes laid over, as always). */
export function requestBaseDigest(expanded: readonly ExpandedChange[], base: RequestBase): string {
  return digestOf(withOwnMasterData(expanded, base));
}

const digestOf = (value: unknown) =>
  createHash("sha256")
    .update(canonicalize(JSON.parse(JSON.stringify(value))))
    .digest("hex");

/**
 * Whether the base still holds in the base read now. Before the request's first release, the
 * stored base is compared as it was read, so a concurrent request changing the same attribute is a
 * move; from its first release on (which applies its master-data changes at every site), the base
 * with its own changes laid over is compared with the world as it is — a later change of the same
 * attribute by another request is still a move.
 */
export function baseHolds(expanded: readonly ExpandedChange[], was: RequestBase, now: RequestBase, firstReleased: boolean): boolean {
  return digestOf(firstReleased ? withOwnMasterData(expanded, was) : was) === digestOf(now);
}

const same = (a: unknown, b: unknown) => canonicalize(JSON.parse(JSON.stringify(a ?? null))) === canonicalize(JSON.parse(JSON.stringify(b ?? null)));

/** What moved between the base a request was written against and the base read now, in words. */
export function whatMoved(expanded: readonly ExpandedChange[], was: RequestBase, now: RequestBase, firstReleased = true): string[] {
  const a = firstReleased ? withOwnMasterData(expanded, was) : was;
  const b = now;
  const moved: string[] = [];
  for (const part of sorted([...Object.keys(a.rules), ...Object.keys(b.rules)])) {
    if (!same(a.rules[part], b.rules[part])) moved.push(`the tracking rule of ${part} at ${a.site}`);
  }
  const lineKey = (l: Omit<WorldLine, "site">) => `${l.parent} / ${l.component}`;
  const linesA = new Map(a.lines.map((l) => [lineKey(l), l]));
  const linesB = new Map(b.lines.map((l) => [lineKey(l), l]));
  for (const key of sorted([...linesA.keys(), ...linesB.keys()])) {
    if (!same(linesA.get(key), linesB.get(key))) moved.push(`the BOM line ${key} at ${a.site}`);
  }
  for (const part of sorted([...Object.keys(a.masterData), ...Object.keys(b.masterData)])) {
    if (!same(a.masterData[part], b.masterData[part])) moved.push(`the master data of ${part}`);
  }
  for (const code of sorted([...Object.keys(a.formats), ...Object.keys(b.formats)])) {
    if (!same(a.formats[code], b.formats[code])) moved.push(`the identifier format ${code}`);
  }
  if (!same(a.changes, b.changes)) moved.push("what it changes");
  return moved;
}

/**
 * The world as a release at `site` of these requests leaves it (the release page's "would make
 * stale" list): their tracking rules and alternates at the site; at a request's first release, its
 * new materials and attributes.
 */
export function afterRelease(world: BaseWorld, site: string, released: readonly { expanded: readonly ExpandedChange[]; firstRelease: boolean }[]): BaseWorld {
  const rules = new Map(world.rules);
  const materials = new Map(world.materials);
  let lines = [...world.lines];
  for (const r of released) {
    for (const c of r.expanded) {
      if (c.kind === "tracking" && c.site === site) rules.set(ruleKey(c.partNumber, site), c.rule);
      else if (c.kind === "alternates" && c.site === site) {
        lines = lines.map((l) => (l.site === site && l.parent === c.partNumber && l.component === c.component ? { ...l, alternates: [...c.alternates] } : l));
      } else if (c.kind === "new_material" && r.firstRelease) {
        materials.set(c.partNumber, {
          riskClass: c.riskClass,
          regulatoryFlags: [...c.regulatoryFlags],
          family: c.family,
          gtin: c.gtin,
          unitOfMeasure: c.unitOfMeasure,
        });
      } else if (c.kind === "attributes" && r.firstRelease && materials.has(c.partNumber)) {
        const m = materials.get(c.partNumber)!;
        materials.set(c.partNumber, {
          ...m,
          ...(c.riskClass ? { riskClass: c.riskClass } : {}),
          ...(c.regulatoryFlags ? { regulatoryFlags: c.regulatoryFlags } : {}),
          ...(c.family ? { family: c.family } : {}),
          ...(c.gtin ? { gtin: c.gtin } : {}),
        });
      }
    }
  }
  return { ...world, rules, materials, lines };
}

/**
 * The signed bases as the diff's "before": rules by `part|site`, the BOM lines' alternates and
 * master data (per request base; master data is the same at every site it was read at).
 */
export function signedBefore(bases: readonly RequestBase[]): {
  current: CurrentRules;
  catalog: Pick<Catalog, "bomLines">;
  attributes: Map<string, Record<string, unknown>>;
} {
  const current = new Map<string, TrackingRuleContent>();
  const bomLines = new Map<string, { alternates: string[] }>();
  const attributes = new Map<string, Record<string, unknown>>();
  for (const base of bases) {
    for (const [part, rule] of Object.entries(base.rules)) if (rule) current.set(ruleKey(part, base.site), rule);
    for (const l of base.lines) bomLines.set(bomLineKey(base.site, l.parent, l.component), { alternates: [...l.alternates] });
    for (const [part, m] of Object.entries(base.masterData)) {
      if (m && !attributes.has(part))
        attributes.set(part, { riskClass: m.riskClass, regulatoryFlags: [...m.regulatoryFlags].sort(), family: m.family, gtin: m.gtin });
    }
  }
  return { current, catalog: { bomLines }, attributes };
}

/* ------------------------------------------------------------------------------------------ */
/* What the signed impact analysis read                                                        */
/* ------------------------------------------------------------------------------------------ */

/** The master data an analysis reads of a material (`MaterialFacts` of the engine). */
export interface AnalysedFacts {
  family: string;
  riskClass: string;
  regulatoryFlags: string[];
}

/**
 * What an impact analysis read that a release can change, with the values it saw (stored with the
 * analysis): the rules (`part|site`), master data (`part`) and top-tier membership (`part|site`:
 * is its non-container item a finished good there) that `AnalysisReads` names. Part of the base
 * of a request whose live signatures bound that analysis (ADR 006).
 */
export interface AnalysisReadValues {
  rules: Record<string, TrackingRuleContent | null>;
  masterData: Record<string, AnalysedFacts | null>;
  topTier: Record<string, boolean>;
}

/** The part of a world analysis reads are valued in (a `BaseWorld` is one). */
export interface ReadWorld {
  rules: ReadonlyMap<string, TrackingRuleContent>;
  materials: ReadonlyMap<string, AnalysedFacts>;
  lines: readonly { site: string; parent: string; component: string; alternates: readonly string[] }[];
}

const topTierOfLines = new WeakMap<object, Set<string>>();
function topTierOf(world: ReadWorld): Set<string> {
  let found = topTierOfLines.get(world.lines);
  if (!found) topTierOfLines.set(world.lines, (found = topTierPairs(world.lines)));
  return found;
}

const ruleValue = (rule: TrackingRuleContent | undefined): TrackingRuleContent | null =>
  rule
    ? {
        trackingMode: rule.trackingMode,
        containerTracking: rule.containerTracking,
        identifierFormatCodes: [...rule.identifierFormatCodes].sort(),
        consumptionScan: rule.consumptionScan,
      }
    : null;
const factsValue = (m: AnalysedFacts | undefined): AnalysedFacts | null =>
  m ? { family: m.family, riskClass: m.riskClass, regulatoryFlags: [...m.regulatoryFlags].sort() } : null;

/** The values of what an analysis read, in `world`. */
export function analysisReadValues(reads: Pick<AnalysisReads, "rules" | "masterData" | "topTier">, world: ReadWorld): AnalysisReadValues {
  const top = topTierOf(world);
  return {
    rules: Object.fromEntries(reads.rules.map((k) => [k, ruleValue(world.rules.get(k))])),
    masterData: Object.fromEntries(reads.masterData.map((p) => [p, factsValue(world.materials.get(p))])),
    topTier: Object.fromEntries(reads.topTier.map((k) => [k, top.has(k)])),
  };
}

const splitKey = (k: string) => {
  const at = k.lastIndexOf("|");
  return { part: k.slice(0, at), site: k.slice(at + 1) };
};

/**
 * What moved, in words, among the things the request's signed analysis read. What the request
 * itself changes (at a site: its materials' rules and BOM membership; anywhere: their master data)
 * is left to the request's own base at that site, so that its own release never makes it stale.
 */
export function analysisReadsMoved(expanded: readonly ExpandedChange[], was: AnalysisReadValues, world: ReadWorld): string[] {
  const ownAnywhere = new Set(
    expanded.flatMap((c) =>
      c.kind === "alternates" ? [c.partNumber, c.component, ...c.alternates] : c.kind === "traceability_requirement" ? [] : [c.partNumber],
    ),
  );
  const ownAt = (k: string) => {
    const { part, site } = splitKey(k);
    return changedAt(expanded, site).includes(part);
  };
  const now = analysisReadValues({ rules: Object.keys(was.rules), masterData: Object.keys(was.masterData), topTier: Object.keys(was.topTier) }, world);
  const moved: string[] = [];
  for (const k of Object.keys(was.rules).sort()) {
    if (ownAt(k) || same(was.rules[k], now.rules[k])) continue;
    const { part, site } = splitKey(k);
    moved.push(`the tracking rule of ${part} at ${site} (read by its impact analysis)`);
  }
  for (const p of Object.keys(was.masterData).sort()) {
    if (ownAnywhere.has(p) || same(was.masterData[p], now.masterData[p])) continue;
    moved.push(`the master data of ${p} (read by its impact analysis)`);
  }
  for (const k of Object.keys(was.topTier).sort()) {
    if (ownAt(k) || was.topTier[k] === now.topTier[k]) continue;
    const { part, site } = splitKey(k);
    moved.push(`whether ${part} is a finished good at ${site} (top tier of its BOMs, read by its impact analysis)`);
  }
  return moved;
}
