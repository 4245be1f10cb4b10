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
function comparable(expanded: readonly ExpandedChange[], base: RequestBase): RequestBase {
  const masterData = { ...base.masterData };
  for (const c of expanded) {
    if (c.kind === "new_material" && c.partNumber in masterData) {
      masterData[c.partNumber] = { riskClass: c.riskClass, regulatoryFlags: [...c.regulatoryFlags].sort(), family: c.family, gtin: c.gtin, unitOfMeasure: c.unitOfMeasure };
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

/** SHA-256 of the base as staleness compares it (signed with the request, ADR 006). */
export function requestBaseDigest(expanded: readonly ExpandedChange[], base: RequestBase): string {
  return createHash("sha256").update(canonicalize(JSON.parse(JSON.stringify(comparable(expanded, base))))).digest("hex");
}

const same = (a: unknown, b: unknown) => canonicalize(JSON.parse(JSON.stringify(a ?? null))) === canonicalize(JSON.parse(JSON.stringify(b ?? null)));

/** What moved between the base a request was written against and the base read now, in words. */
export function whatMoved(expanded: readonly ExpandedChange[], was: RequestBase, now: RequestBase): string[] {
  const a = comparable(expanded, was);
  const b = comparable(expanded, now);
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
        materials.set(c.partNumber, { riskClass: c.riskClass, regulatoryFlags: [...c.regulatoryFlags], family: c.family, gtin: c.gtin, unitOfMeasure: c.unitOfMeasure });
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
export function signedBefore(bases: readonly RequestBase[]): { current: CurrentRules; catalog: Pick<Catalog, "bomLines">; attributes: Map<string, Record<string, unknown>> } {
  const current = new Map<string, TrackingRuleContent>();
  const bomLines = new Map<string, { alternates: string[] }>();
  const attributes = new Map<string, Record<string, unknown>>();
  for (const base of bases) {
    for (const [part, rule] of Object.entries(base.rules)) if (rule) current.set(ruleKey(part, base.site), rule);
    for (const l of base.lines) bomLines.set(bomLineKey(base.site, l.parent, l.component), { alternates: [...l.alternates] });
    for (const [part, m] of Object.entries(base.masterData)) {
      if (m && !attributes.has(part)) attributes.set(part, { riskClass: m.riskClass, regulatoryFlags: [...m.regulatoryFlags].sort(), family: m.family, gtin: m.gtin });
    }
  }
  return { current, catalog: { bomLines }, attributes };
}
