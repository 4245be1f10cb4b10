/**
 * Reads for change-request bases (ADR 006): the plant as a base is read from,
 * each site's latest compiled rules digest (the base of requests written before per-request bases)
 * and the staleness of change requests — which sites moved under them, and what moved. The write
 * model (app/services/change-requests.server.ts, releases.server.ts) and the screens use these same
 * functions, so a screen says exactly what the service will decide.
 */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  bomLineAlternates,
  bomLines,
  changeRequestBases,
  changeRequests,
  changeRequestSiteReleases,
  identifierFormats,
  impactAnalyses,
  materialFamilies,
  materials,
  signatures,
  sites,
  trackingRules,
} from "../../db/schema";
import { ruleKey, type CurrentRules, type ExpandedChange } from "../domain/change-request";
import {
  afterRelease,
  analysisReadsMoved,
  baseHolds,
  requestBase,
  whatMoved,
  type AnalysisReadValues,
  type BaseWorld,
  type RequestBase,
  type WorldLine,
} from "../domain/request-base";
import { EMPTY_RULES_DIGEST, rulesDigest, type RuleSetDocument } from "../domain/rule-set";
import type { TrackingRuleContent } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";

export interface SiteBase {
  siteId: number;
  site: string;
  versionId: number | null;
  rulesDigest: string;
}

/** Each site's latest version and the digest of its compiled rules (not of its envelope). */
export async function siteBases(db: DbOrTx): Promise<Map<string, SiteBase>> {
  const rows = await db.execute<{ site_id: number; code: string; version_id: number | null; canonical: Buffer | null }>(sql`
    select s.id as site_id, s.code, v.id as version_id, v.canonical
    from sites s left join lateral (
      select id, canonical from rule_set_versions where site_id = s.id order by version desc limit 1
    ) v on true`);
  const out = new Map<string, SiteBase>();
  for (const r of rows) {
    const digest = r.canonical ? rulesDigest(JSON.parse(Buffer.from(r.canonical).toString("utf8")) as RuleSetDocument) : EMPTY_RULES_DIGEST;
    out.set(r.code, { siteId: r.site_id, site: r.code, versionId: r.version_id, rulesDigest: digest });
  }
  return out;
}

/** The open tracking rules (the latest version's) per material and site. */
export async function currentRules(db: DbOrTx): Promise<CurrentRules> {
  const rows = await db
    .select({
      partNumber: materials.partNumber,
      site: sites.code,
      trackingMode: trackingRules.trackingMode,
      containerTracking: trackingRules.containerTracking,
      identifierFormatCodes: trackingRules.identifierFormatCodes,
      consumptionScan: trackingRules.consumptionScan,
    })
    .from(trackingRules)
    .innerJoin(materials, eq(materials.id, trackingRules.materialId))
    .innerJoin(sites, eq(sites.id, trackingRules.siteId))
    .where(isNull(trackingRules.effectiveTo));
  const out = new Map<string, TrackingRuleContent>();
  for (const r of rows) {
    out.set(ruleKey(r.partNumber, r.site), {
      trackingMode: r.trackingMode,
      containerTracking: r.containerTracking,
      identifierFormatCodes: [...r.identifierFormatCodes].sort(),
      consumptionScan: r.consumptionScan,
    });
  }
  return out;
}

/** The open rules, every BOM line with its alternates, master data and identifier formats. */
export async function loadBaseWorld(db: DbOrTx): Promise<BaseWorld> {
  const parent = alias(materials, "parent");
  const component = alias(materials, "component");
  const alternate = alias(materials, "alternate");
  const [rules, lineRows, materialRows, formatRows] = await Promise.all([
    currentRules(db),
    db
      .select({
        id: bomLines.id,
        site: sites.code,
        parent: parent.partNumber,
        component: component.partNumber,
        lineNo: bomLines.lineNo,
        quantity: bomLines.quantity,
        unit: bomLines.unit,
        alternate: alternate.partNumber,
      })
      .from(bomLines)
      .innerJoin(sites, eq(sites.id, bomLines.siteId))
      .innerJoin(parent, eq(parent.id, bomLines.parentMaterialId))
      .innerJoin(component, eq(component.id, bomLines.componentMaterialId))
      .leftJoin(bomLineAlternates, eq(bomLineAlternates.bomLineId, bomLines.id))
      .leftJoin(alternate, eq(alternate.id, bomLineAlternates.materialId))
      .orderBy(asc(bomLines.id), asc(bomLineAlternates.priority), asc(alternate.partNumber)),
    db
      .select({
        partNumber: materials.partNumber,
        riskClass: materials.riskClass,
        regulatoryFlags: materials.regulatoryFlags,
        family: materialFamilies.code,
        gtin: materials.gtin,
        unitOfMeasure: materials.unitOfMeasure,
      })
      .from(materials)
      .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId)),
    db.select({ code: identifierFormats.code, identifies: identifierFormats.identifies, definition: identifierFormats.definition }).from(identifierFormats),
  ]);
  const lines = new Map<number, WorldLine>();
  for (const r of lineRows) {
    const line = lines.get(r.id) ?? {
      site: r.site,
      parent: r.parent,
      component: r.component,
      lineNo: r.lineNo,
      quantity: String(r.quantity),
      unit: r.unit,
      alternates: [],
    };
    if (r.alternate) line.alternates.push(r.alternate);
    lines.set(r.id, line);
  }
  return {
    rules,
    lines: [...lines.values()],
    materials: new Map(materialRows.map(({ partNumber, ...m }) => [partNumber, { ...m, regulatoryFlags: [...m.regulatoryFlags].sort() }])),
    formats: new Map(formatRows.map((f) => [f.code, { identifies: f.identifies, definition: f.definition as unknown }])),
  };
}

export interface StoredBase {
  changeRequestId: number;
  siteId: number;
  site: string;
  versionId: number | null;
  rulesDigest: string;
  touched: RequestBase | null;
}

/** The stored bases of these change requests, site by site. */
export async function storedBases(db: DbOrTx, changeRequestIds: readonly number[]): Promise<StoredBase[]> {
  if (changeRequestIds.length === 0) return [];
  const rows = await db
    .select({
      changeRequestId: changeRequestBases.changeRequestId,
      siteId: changeRequestBases.siteId,
      site: sites.code,
      versionId: changeRequestBases.baseVersionId,
      rulesDigest: changeRequestBases.baseRulesDigest,
      touched: changeRequestBases.touched,
    })
    .from(changeRequestBases)
    .innerJoin(sites, eq(sites.id, changeRequestBases.siteId))
    .where(inArray(changeRequestBases.changeRequestId, [...new Set(changeRequestIds)]))
    .orderBy(asc(changeRequestBases.changeRequestId), asc(sites.code));
  return rows.map((r) => ({ ...r, touched: (r.touched as RequestBase | null) ?? null }));
}

export interface StaleSite {
  site: string;
  /** What moved since the request was written against the site, in words. */
  moved: string[];
}

/**
 * Whether a stored base still holds in `world` (null) or what moved. `firstReleased`: the request
 * has been released at some site, so its own master-data changes are applied (`baseHolds`).
 */
export function baseMoved(
  expanded: readonly ExpandedChange[],
  base: StoredBase,
  world: BaseWorld,
  current: ReadonlyMap<string, SiteBase>,
  firstReleased = false,
): StaleSite | null {
  if (base.touched === null) {
    // Written before per-request bases: the whole site's rules, as then.
    return current.get(base.site)?.rulesDigest === base.rulesDigest
      ? null
      : { site: base.site, moved: [`the rules at ${base.site} (a base recorded before per-request bases)`] };
  }
  const now = requestBase(expanded, base.site, world);
  if (baseHolds(expanded, base.touched, now, firstReleased)) return null;
  return { site: base.site, moved: whatMoved(expanded, base.touched, now, firstReleased) };
}

/**
 * Everything a request's staleness is judged on: its stored bases at the sites where it is not
 * released yet, and what the analyses its live signatures bound read (ADR 006: the base covers what
 * the analysis read — finished goods' master data and top tier, genealogy neighbours' rules).
 */
export interface ReadState {
  id: number;
  expanded: ExpandedChange[];
  /** Released at some site already (its master-data changes are applied). */
  firstReleased: boolean;
  /** Its bases where it is not released yet. */
  bases: StoredBase[];
  /** What the analyses its live signatures bound read, with the values they saw. */
  analyses: AnalysisReadValues[];
}

/** The read states of these change requests (the ones that exist). */
export async function readStates(db: DbOrTx, changeRequestIds: readonly number[]): Promise<ReadState[]> {
  if (changeRequestIds.length === 0) return [];
  const ids = [...new Set(changeRequestIds)];
  const [bases, released, requests, analyses] = await Promise.all([
    storedBases(db, ids),
    db
      .select({ changeRequestId: changeRequestSiteReleases.changeRequestId, siteId: changeRequestSiteReleases.siteId })
      .from(changeRequestSiteReleases)
      .where(inArray(changeRequestSiteReleases.changeRequestId, ids)),
    db
      .select({ id: changeRequests.id, expanded: changeRequests.expandedChanges })
      .from(changeRequests)
      .where(inArray(changeRequests.id, ids))
      .orderBy(asc(changeRequests.id)),
    db
      .selectDistinct({ changeRequestId: impactAnalyses.changeRequestId, id: impactAnalyses.id, reads: impactAnalyses.reads })
      .from(impactAnalyses)
      .innerJoin(
        signatures,
        and(eq(signatures.changeRequestId, impactAnalyses.changeRequestId), eq(signatures.analysisHash, impactAnalyses.sha256), isNull(signatures.voidedAt)),
      )
      .where(and(inArray(impactAnalyses.changeRequestId, ids), isNotNull(impactAnalyses.reads)))
      .orderBy(asc(impactAnalyses.id)),
  ]);
  return requests.map((r) => ({
    id: r.id,
    expanded: r.expanded as ExpandedChange[],
    firstReleased: released.some((x) => x.changeRequestId === r.id),
    bases: bases.filter((b) => b.changeRequestId === r.id && !released.some((x) => x.changeRequestId === r.id && x.siteId === b.siteId)),
    analyses: analyses.filter((a) => a.changeRequestId === r.id).map((a) => a.reads as AnalysisReadValues),
  }));
}

/**
 * The sites where a request is stale in `world`, with what moved: its base there moved, or
 * something its signed analysis read did (one analysis for all its sites: stale at each site it
 * has still to release).
 */
export function staleIn(state: ReadState, world: BaseWorld, current: ReadonlyMap<string, SiteBase>): StaleSite[] {
  const analysed = [...new Set(state.analyses.flatMap((a) => analysisReadsMoved(state.expanded, a, world)))];
  return state.bases.flatMap((base) => {
    const moved = [...(baseMoved(state.expanded, base, world, current, state.firstReleased)?.moved ?? []), ...analysed];
    return moved.length ? [{ site: base.site, moved: [...new Set(moved)] }] : [];
  });
}

/**
 * Per change request, the sites where what it read moved since it was written (and what moved).
 * Where a request is released, its own release moved the rules: not stale there.
 */
export async function staleness(db: DbOrTx, changeRequestIds: readonly number[], world?: BaseWorld): Promise<Map<number, StaleSite[]>> {
  const out = new Map<number, StaleSite[]>();
  if (changeRequestIds.length === 0) return out;
  const [states, loadedWorld, current] = await Promise.all([
    readStates(db, changeRequestIds),
    world ? Promise.resolve(world) : loadBaseWorld(db),
    siteBases(db),
  ]);
  for (const state of states) {
    const stale = staleIn(state, loadedWorld, current);
    if (stale.length) out.set(state.id, stale);
  }
  return out;
}

/**
 * Requests released together at `site`, checked against each other: where releasing one alone
 * would change what another read (its base or its signed analysis), the batch is refused — the
 * other's reviewers signed a world without that change (ADR 006). Each entry names the pair.
 */
export function batchConflicts(
  world: BaseWorld,
  current: ReadonlyMap<string, SiteBase>,
  site: string,
  batch: readonly { number: string; state: ReadState }[],
): string[] {
  const moved = new Map(current);
  const here = current.get(site);
  if (here) moved.set(site, { ...here, rulesDigest: `${here.rulesDigest} (released)` });
  const out: string[] = [];
  for (const a of batch) {
    const after = afterRelease(world, site, [{ expanded: a.state.expanded, firstRelease: !a.state.firstReleased }]);
    for (const b of batch) {
      if (a === b) continue;
      // Only the base at this site is released now (bases from before per-request bases: not judged pairwise).
      const stale = staleIn({ ...b.state, bases: b.state.bases.filter((x) => x.site === site && x.touched !== null) }, after, moved);
      if (stale.length)
        out.push(`${a.number} changes what ${b.number} read (${stale.flatMap((s) => s.moved).join("; ")}): release ${a.number} alone, then rebase ${b.number}`);
    }
  }
  return out;
}

/** The sites where a change request is stale, with what moved. */
export async function staleSitesOf(db: DbOrTx, changeRequestId: number): Promise<StaleSite[]> {
  return (await staleness(db, [changeRequestId])).get(changeRequestId) ?? [];
}

/** "EIN (the tracking rule of ASM-1003 at EIN)" — a stale list in words. */
export function describeStale(stale: readonly StaleSite[]): string {
  return stale.map((s) => `${s.site} (${s.moved.join("; ")})`).join(", ");
}
