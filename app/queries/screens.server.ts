/**
 * Read models for the portal's screens. Every function takes the database first and selects
 * named columns; nothing here writes. "Now" is passed in (the database clock, see
 * app/utils/clock.server.ts) so a screen names one instant for everything it shows.
 */
import { createHash } from "node:crypto";
import { and, asc, count, desc, eq, exists, ilike, inArray, isNull, lte, max, not, notExists, or, sql, type Column, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  bomLineAlternates,
  bomLines,
  externalMasterRecords,
  genealogyEdges,
  materialFamilies,
  materials,
  ruleSetVersions,
  sites,
  traceItems,
  traceItemStatus,
  trackingRules,
  workOrders,
} from "../../db/schema";
import { resolveRuleInForce, type RuleInForce, type RuleInterval, type TrackingMode, type VersionPoint } from "../domain/tracking-rule";
import { currentDataPoint } from "../services/audit.server";
import type { DbOrTx } from "../utils/db.server";
import { latestAuditRows } from "./audit.server";
import { ruleHistory, siteVersions } from "./tracking-rules.server";

export type TraceItemStatus = (typeof traceItemStatus.enumValues)[number];
export const TRACE_ITEM_STATUSES = traceItemStatus.enumValues;

/* ------------------------------------------------------------------------------------------ */
/* Shared building blocks                                                                      */
/* ------------------------------------------------------------------------------------------ */

/**
 * Each (material, site)'s rule in force at `at`, as a subquery. Mirrors resolveRuleInForce in
 * app/domain/tracking-rule.ts: the site's version in force is its highest version with
 * effectiveFrom ≤ at; the material's rule is the one introduced by the highest version up to it.
 * A (material, site) without a row here is legacy or unruled there.
 */
function rulesInForce(db: DbOrTx, at: Date) {
  const inForce = alias(ruleSetVersions, "version_in_force");
  const versionInForce = db
    .select({ version: max(inForce.version) })
    .from(inForce)
    .where(and(eq(inForce.siteId, trackingRules.siteId), lte(inForce.effectiveFrom, at)));
  return db
    .selectDistinctOn([trackingRules.materialId, trackingRules.siteId], {
      materialId: trackingRules.materialId,
      siteId: trackingRules.siteId,
      trackingMode: trackingRules.trackingMode,
    })
    .from(trackingRules)
    .innerJoin(ruleSetVersions, eq(ruleSetVersions.id, trackingRules.ruleSetVersionId))
    .where(lte(ruleSetVersions.version, sql`(${versionInForce})`))
    .orderBy(trackingRules.materialId, trackingRules.siteId, desc(ruleSetVersions.version))
    .as("rule_in_force");
}

/** The tracking mode in force for each of `materialIds` at each site, keyed `materialId:siteId`. */
async function trackingModesInForce(
  db: DbOrTx,
  params: { materialIds: readonly number[]; at: Date },
): Promise<Map<string, TrackingMode>> {
  const modes = new Map<string, TrackingMode>();
  if (params.materialIds.length === 0) return modes;
  const rif = rulesInForce(db, params.at);
  const rows = await db
    .select({ materialId: rif.materialId, siteId: rif.siteId, trackingMode: rif.trackingMode })
    .from(rif)
    .where(inArray(rif.materialId, [...new Set(params.materialIds)]));
  for (const row of rows) modes.set(modeKey(row.materialId, row.siteId), row.trackingMode);
  return modes;
}

function modeKey(materialId: number, siteId: number): string {
  return `${materialId}:${siteId}`;
}

/** Each site's version in force at `at` (highest version already effective), as a subquery. */
function versionsInForce(db: DbOrTx, at: Date) {
  return db
    .selectDistinctOn([ruleSetVersions.siteId], {
      siteId: ruleSetVersions.siteId,
      version: ruleSetVersions.version,
      effectiveFrom: ruleSetVersions.effectiveFrom,
      digest: ruleSetVersions.digest,
    })
    .from(ruleSetVersions)
    .where(lte(ruleSetVersions.effectiveFrom, at))
    .orderBy(ruleSetVersions.siteId, desc(ruleSetVersions.version))
    .as("site_version_in_force");
}

/**
 * The sites a reader may see: `null` for all (a grant for all sites), else these site ids
 * (app/utils/auth.server.ts siteFilter). Every site-bound read takes it and scopes in SQL, so a
 * row of another site never leaves the database (21 CFR 11.10(d), limited access).
 */
export type VisibleSites = readonly number[] | null;

/** A condition keeping `column` (a site id) within the visible sites; none when all are visible. */
function withinSites(column: Column, visible: VisibleSites): SQL | undefined {
  return visible === null ? undefined : inArray(column, [...visible]);
}

/** Of `all` sites, those the reader may see. */
function visibleOf<S extends { id: number }>(all: readonly S[], visible: VisibleSites): S[] {
  return visible === null ? [...all] : all.filter((s) => visible.includes(s.id));
}

/** LIKE pattern matching `text` anywhere, with the pattern characters escaped. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface SiteOption {
  id: number;
  code: string;
  name: string;
}

export async function siteOptions(db: DbOrTx): Promise<SiteOption[]> {
  return db.select({ id: sites.id, code: sites.code, name: sites.name }).from(sites).orderBy(asc(sites.code));
}

export async function familyOptions(db: DbOrTx): Promise<{ code: string; name: string }[]> {
  return db
    .select({ code: materialFamilies.code, name: materialFamilies.name })
    .from(materialFamilies)
    .orderBy(asc(materialFamilies.code));
}

/* ------------------------------------------------------------------------------------------ */
/* Dashboard                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/**
 * The dashboard, within the reader's sites. Materials are master data shared by all sites, so
 * their count is global. The latest audit entries come only with `withAudit` (the caller asks the
 * ability): a reader without the audit trail gets none in the data, not merely a hidden panel.
 */
export async function dashboard(db: DbOrTx, params: { at: Date; sites: VisibleSites; withAudit: boolean }) {
  const vif = versionsInForce(db, params.at);
  const [siteCount, materialCount, itemsByStatus, openWorkOrders, siteVersionsNow, latestAudit, auditHead] =
    await Promise.all([
      db.select({ n: count() }).from(sites).where(withinSites(sites.id, params.sites)),
      db.select({ n: count() }).from(materials),
      db
        .select({ status: traceItems.status, n: count() })
        .from(traceItems)
        .where(withinSites(traceItems.siteId, params.sites))
        .groupBy(traceItems.status),
      db
        .select({ n: count() })
        .from(workOrders)
        .where(and(eq(workOrders.status, "open"), withinSites(workOrders.siteId, params.sites))),
      db
        .select({
          code: sites.code,
          name: sites.name,
          version: vif.version,
          effectiveFrom: vif.effectiveFrom,
          digest: vif.digest,
        })
        .from(sites)
        .leftJoin(vif, eq(vif.siteId, sites.id))
        .where(withinSites(sites.id, params.sites))
        .orderBy(asc(sites.code)),
      params.withAudit ? latestAuditRows(db, { limit: 10 }) : Promise.resolve(null),
      currentDataPoint(db),
    ]);
  const byStatus = new Map(itemsByStatus.map((r) => [r.status, r.n]));
  return {
    at: params.at,
    siteCount: siteCount[0]?.n ?? 0,
    materialCount: materialCount[0]?.n ?? 0,
    traceItemsByStatus: TRACE_ITEM_STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 })),
    openWorkOrders: openWorkOrders[0]?.n ?? 0,
    sites: siteVersionsNow.map((s) => ({
      code: s.code,
      name: s.name,
      current:
        s.version === null || s.effectiveFrom === null || s.digest === null
          ? null
          : { version: s.version, effectiveFrom: s.effectiveFrom, digest: s.digest },
    })),
    latestAudit,
    auditHead,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Materials list                                                                              */
/* ------------------------------------------------------------------------------------------ */

export const MATERIAL_SORTS = ["partNumber", "description", "gtin", "family", "risk"] as const;
export type MaterialSort = (typeof MATERIAL_SORTS)[number];
/** A tracking-mode filter: a mode in force, or no rule in force (legacy or unruled). */
export const MODE_FILTERS = ["serial", "lot", "none", "unruled"] as const;
export type ModeFilter = (typeof MODE_FILTERS)[number];
export const RISK_CLASSES = ["low", "medium", "high"] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

export interface MaterialSearch {
  q: string;
  /**
   * Site code: only materials present at the site (a rule, a BOM line or a trace item there). A
   * site the reader cannot see is treated like an unknown one: it matches nothing.
   */
  site?: string;
  family?: string;
  /** With `site`: the rule in force at that site; without: at any site ("unruled": at none). */
  mode?: ModeFilter;
  risk?: RiskClass;
  sort: MaterialSort;
  dir: "asc" | "desc";
  page: number;
  pageSize: number;
}

export async function searchMaterials(db: DbOrTx, search: MaterialSearch, params: { at: Date; sites: VisibleSites }) {
  const [allSites, families] = await Promise.all([siteOptions(db), familyOptions(db)]);
  const shownSites = visibleOf(allSites, params.sites);
  const site = search.site ? shownSites.find((s) => s.code === search.site) : undefined;
  const rif = rulesInForce(db, params.at);

  const conditions: SQL[] = [];
  const q = search.q.trim();
  if (q) {
    const pattern = containsPattern(q);
    conditions.push(
      or(ilike(materials.partNumber, pattern), ilike(materials.description, pattern), ilike(materials.gtin, pattern))!,
    );
  }
  if (search.family) conditions.push(eq(materialFamilies.code, search.family));
  if (search.risk) conditions.push(eq(materials.riskClass, search.risk));
  if (search.site) {
    // An unknown site code matches nothing rather than silently widening the search.
    const siteId = site?.id ?? -1;
    conditions.push(
      or(
        exists(
          db
            .select({ one: sql`1` })
            .from(trackingRules)
            .where(and(eq(trackingRules.materialId, materials.id), eq(trackingRules.siteId, siteId))),
        ),
        exists(
          db
            .select({ one: sql`1` })
            .from(bomLines)
            .where(
              and(
                eq(bomLines.siteId, siteId),
                or(eq(bomLines.parentMaterialId, materials.id), eq(bomLines.componentMaterialId, materials.id)),
              ),
            ),
        ),
        exists(
          db
            .select({ one: sql`1` })
            .from(traceItems)
            .where(and(eq(traceItems.materialId, materials.id), eq(traceItems.siteId, siteId))),
        ),
      )!,
    );
  }
  if (search.mode) {
    // With a site: the rule there; without: at any site the reader can see ("unruled": at none).
    const atSite = search.site
      ? [eq(rif.siteId, site?.id ?? -1)]
      : params.sites === null
        ? []
        : [inArray(rif.siteId, [...params.sites])];
    const ruleHere = (extra: SQL[]) =>
      db
        .select({ one: sql`1` })
        .from(rif)
        .where(and(eq(rif.materialId, materials.id), ...atSite, ...extra));
    conditions.push(
      search.mode === "unruled" ? notExists(ruleHere([])) : exists(ruleHere([eq(rif.trackingMode, search.mode)])),
    );
  }
  const where = conditions.length > 0 ? and(...conditions) : undefined;

  const sortColumn = {
    partNumber: materials.partNumber,
    description: materials.description,
    gtin: materials.gtin,
    family: materialFamilies.code,
    risk: materials.riskClass,
  }[search.sort];
  const direction = search.dir === "desc" ? desc : asc;

  const [totalRow] = await db
    .select({ n: count() })
    .from(materials)
    .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId))
    .where(where);
  const total = totalRow?.n ?? 0;
  const pageCount = Math.max(1, Math.ceil(total / search.pageSize));
  const page = Math.min(search.page, pageCount);

  const rows = await db
    .select({
      id: materials.id,
      partNumber: materials.partNumber,
      gtin: materials.gtin,
      description: materials.description,
      unitOfMeasure: materials.unitOfMeasure,
      riskClass: materials.riskClass,
      familyCode: materialFamilies.code,
      familyName: materialFamilies.name,
    })
    .from(materials)
    .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId))
    .where(where)
    .orderBy(direction(sortColumn), asc(materials.partNumber))
    .limit(search.pageSize)
    .offset((page - 1) * search.pageSize);

  const modes = await trackingModesInForce(db, { materialIds: rows.map((r) => r.id), at: params.at });
  const columnSites = site ? [site] : shownSites;
  return {
    at: params.at,
    sites: shownSites,
    families,
    site: site ?? null,
    total,
    page,
    pageCount,
    rows: rows.map(({ id, ...row }) => ({
      ...row,
      trackingBySite: columnSites.map((s) => ({ siteCode: s.code, trackingMode: modes.get(modeKey(id, s.id)) ?? null })),
    })),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Material master                                                                             */
/* ------------------------------------------------------------------------------------------ */

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
export function ruleTimeline(
  versions: readonly VersionPoint[],
  rules: readonly RuleInterval[],
  inForce: RuleInForce,
  at: Date,
): RuleTimelineRow[] {
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
    const status =
      inForce.state === "ruled" && inForce.rule.version === rule.version
        ? "in force"
        : later(rule.effectiveFrom)
          ? "scheduled"
          : "past";
    rows.push({ kind: "rule", rule, status });
  }
  return rows;
}

/**
 * A material's master page. The material itself is global master data; its rules, BOM lines,
 * trace items and ERP (plant) records are shown only for the reader's sites. PLM records are
 * global: kept, and compared with the rules of the visible sites only.
 */
export async function materialMaster(db: DbOrTx, params: { partNumber: string; at: Date; sites: VisibleSites }) {
  const [material] = await db
    .select({
      id: materials.id,
      partNumber: materials.partNumber,
      gtin: materials.gtin,
      description: materials.description,
      unitOfMeasure: materials.unitOfMeasure,
      riskClass: materials.riskClass,
      regulatoryFlags: materials.regulatoryFlags,
      createdAt: materials.createdAt,
      familyCode: materialFamilies.code,
      familyName: materialFamilies.name,
    })
    .from(materials)
    .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId))
    .where(eq(materials.partNumber, params.partNumber));
  if (!material) return null;
  const { at } = params;
  const { id: materialId, ...master } = material;

  const shownSites = visibleOf(await siteOptions(db), params.sites);
  const bySite = await Promise.all(
    shownSites.map(async (site) => {
      const [versions, rules] = await Promise.all([
        siteVersions(db, site.id),
        ruleHistory(db, { materialId, siteId: site.id }),
      ]);
      const inForce = resolveRuleInForce(versions, rules, at);
      return { site, inForce, timeline: ruleTimeline(versions, rules, inForce, at) };
    }),
  );

  const [bom, items, externalRecords] = await Promise.all([
    materialBom(db, { materialId, at, sites: params.sites }),
    materialTraceItems(db, { materialId, sites: params.sites }),
    externalMasterView(db, { materialId, sites: params.sites }),
  ]);

  const modeAt = new Map(
    bySite.map(({ site, inForce }) => [site.id, inForce.state === "ruled" ? inForce.rule.trackingMode : null]),
  );
  return {
    at,
    material: master,
    rules: bySite.map(({ site, inForce, timeline }) => ({
      site: { code: site.code, name: site.name },
      inForce,
      timeline,
    })),
    ...bom,
    traceItems: items,
    externalRecords: externalRecords.map((record) => {
      // A plant record is compared with its site's rule; a global (PLM) record with every visible site's.
      const compared = shownSites.filter((s) => record.siteId === null || s.id === record.siteId);
      const ruled = compared.flatMap((s) => {
        const mode = modeAt.get(s.id);
        return mode ? [{ siteCode: s.code, trackingMode: mode }] : [];
      });
      const { siteId: _siteId, ...shown } = record;
      return {
        ...shown,
        comparedWith: ruled,
        disagreements: ruled.filter((r) => r.trackingMode !== record.trackingMode),
      };
    }),
  };
}

async function materialBom(db: DbOrTx, params: { materialId: number; at: Date; sites: VisibleSites }) {
  const parent = alias(materials, "parent");
  const component = alias(materials, "component");
  const [usedIn, usedAsAlternate, components] = await Promise.all([
    db
      .select({
        siteId: bomLines.siteId,
        siteCode: sites.code,
        parentPartNumber: parent.partNumber,
        parentDescription: parent.description,
        lineNo: bomLines.lineNo,
        quantity: bomLines.quantity,
        unit: bomLines.unit,
      })
      .from(bomLines)
      .innerJoin(parent, eq(parent.id, bomLines.parentMaterialId))
      .innerJoin(sites, eq(sites.id, bomLines.siteId))
      .where(and(eq(bomLines.componentMaterialId, params.materialId), withinSites(bomLines.siteId, params.sites)))
      .orderBy(asc(sites.code), asc(parent.partNumber), asc(bomLines.lineNo)),
    db
      .select({
        siteCode: sites.code,
        parentPartNumber: parent.partNumber,
        parentDescription: parent.description,
        lineNo: bomLines.lineNo,
        primaryPartNumber: component.partNumber,
        priority: bomLineAlternates.priority,
      })
      .from(bomLineAlternates)
      .innerJoin(bomLines, eq(bomLines.id, bomLineAlternates.bomLineId))
      .innerJoin(parent, eq(parent.id, bomLines.parentMaterialId))
      .innerJoin(component, eq(component.id, bomLines.componentMaterialId))
      .innerJoin(sites, eq(sites.id, bomLines.siteId))
      .where(and(eq(bomLineAlternates.materialId, params.materialId), withinSites(bomLines.siteId, params.sites)))
      .orderBy(asc(sites.code), asc(parent.partNumber), asc(bomLines.lineNo)),
    db
      .select({
        id: bomLines.id,
        siteId: bomLines.siteId,
        siteCode: sites.code,
        lineNo: bomLines.lineNo,
        componentId: component.id,
        componentPartNumber: component.partNumber,
        componentDescription: component.description,
        quantity: bomLines.quantity,
        unit: bomLines.unit,
      })
      .from(bomLines)
      .innerJoin(component, eq(component.id, bomLines.componentMaterialId))
      .innerJoin(sites, eq(sites.id, bomLines.siteId))
      .where(and(eq(bomLines.parentMaterialId, params.materialId), withinSites(bomLines.siteId, params.sites)))
      .orderBy(asc(sites.code), asc(bomLines.lineNo)),
  ]);

  const alternates =
    components.length === 0
      ? []
      : await db
          .select({
            bomLineId: bomLineAlternates.bomLineId,
            materialId: materials.id,
            partNumber: materials.partNumber,
            priority: bomLineAlternates.priority,
          })
          .from(bomLineAlternates)
          .innerJoin(materials, eq(materials.id, bomLineAlternates.materialId))
          .where(
            inArray(
              bomLineAlternates.bomLineId,
              components.map((c) => c.id),
            ),
          )
          .orderBy(asc(bomLineAlternates.bomLineId), asc(bomLineAlternates.priority));

  const modes = await trackingModesInForce(db, {
    materialIds: [...components.map((c) => c.componentId), ...alternates.map((a) => a.materialId)],
    at: params.at,
  });
  return {
    usedIn: usedIn.map(({ siteId: _siteId, ...row }) => row),
    usedAsAlternate,
    components: components.map((line) => {
      const componentMode = modes.get(modeKey(line.componentId, line.siteId)) ?? null;
      return {
        siteCode: line.siteCode,
        lineNo: line.lineNo,
        partNumber: line.componentPartNumber,
        description: line.componentDescription,
        quantity: line.quantity,
        unit: line.unit,
        trackingMode: componentMode,
        alternates: alternates
          .filter((a) => a.bomLineId === line.id)
          .map((a) => {
            const mode = modes.get(modeKey(a.materialId, line.siteId)) ?? null;
            // An alternate tracked differently from the part it replaces is the "ambiguous
            // substitution" risk: consuming it changes what the genealogy can prove.
            return { partNumber: a.partNumber, priority: a.priority, trackingMode: mode, differs: mode !== componentMode };
          }),
      };
    }),
  };
}

async function materialTraceItems(db: DbOrTx, params: { materialId: number; sites: VisibleSites }) {
  const [counts, recent] = await Promise.all([
    db
      .select({ siteCode: sites.code, status: traceItems.status, n: count() })
      .from(traceItems)
      .innerJoin(sites, eq(sites.id, traceItems.siteId))
      .where(and(eq(traceItems.materialId, params.materialId), withinSites(traceItems.siteId, params.sites)))
      .groupBy(sites.code, traceItems.status)
      .orderBy(asc(sites.code)),
    db
      .select({
        id: traceItems.id,
        kind: traceItems.kind,
        identifier: traceItems.identifier,
        siteCode: sites.code,
        status: traceItems.status,
        quantity: traceItems.quantity,
        unit: traceItems.unit,
        createdAt: traceItems.createdAt,
      })
      .from(traceItems)
      .innerJoin(sites, eq(sites.id, traceItems.siteId))
      .where(and(eq(traceItems.materialId, params.materialId), withinSites(traceItems.siteId, params.sites)))
      .orderBy(desc(traceItems.createdAt), desc(traceItems.id))
      .limit(10),
  ]);
  const perSite = new Map<string, Map<TraceItemStatus, number>>();
  for (const row of counts) {
    const statuses = perSite.get(row.siteCode) ?? new Map<TraceItemStatus, number>();
    statuses.set(row.status, row.n);
    perSite.set(row.siteCode, statuses);
  }
  return {
    statuses: TRACE_ITEM_STATUSES,
    countsBySite: [...perSite].map(([siteCode, statuses]) => ({
      siteCode,
      counts: TRACE_ITEM_STATUSES.map((status) => ({ status, count: statuses.get(status) ?? 0 })),
      total: [...statuses.values()].reduce((a, b) => a + b, 0),
    })),
    recent,
  };
}

async function externalMasterView(db: DbOrTx, params: { materialId: number; sites: VisibleSites }) {
  return db
    .select({
      id: externalMasterRecords.id,
      system: externalMasterRecords.system,
      externalKey: externalMasterRecords.externalKey,
      siteId: externalMasterRecords.siteId,
      siteCode: sites.code,
      trackingFlag: externalMasterRecords.trackingFlag,
      trackingMode: externalMasterRecords.trackingMode,
      importedAt: externalMasterRecords.importedAt,
      sourceDigest: externalMasterRecords.sourceDigest,
    })
    .from(externalMasterRecords)
    .leftJoin(sites, eq(sites.id, externalMasterRecords.siteId))
    .where(
      and(
        eq(externalMasterRecords.materialId, params.materialId),
        // Global (PLM) records have no site and are shown to everyone; plant records only at visible sites.
        params.sites === null ? undefined : or(isNull(externalMasterRecords.siteId), withinSites(externalMasterRecords.siteId, params.sites)),
      ),
    )
    .orderBy(asc(externalMasterRecords.system), asc(sites.code), asc(externalMasterRecords.externalKey));
}

/* ------------------------------------------------------------------------------------------ */
/* Sites and rule sets                                                                         */
/* ------------------------------------------------------------------------------------------ */

export async function siteList(db: DbOrTx, params: { at: Date; sites: VisibleSites }) {
  const vif = versionsInForce(db, params.at);
  const counts = db
    .select({ siteId: ruleSetVersions.siteId, versionCount: count().as("version_count"), latest: max(ruleSetVersions.version).as("latest_version") })
    .from(ruleSetVersions)
    .groupBy(ruleSetVersions.siteId)
    .as("site_version_counts");
  const rows = await db
    .select({
      code: sites.code,
      name: sites.name,
      timeZone: sites.timeZone,
      versionCount: counts.versionCount,
      latestVersion: counts.latest,
      currentVersion: vif.version,
      currentEffectiveFrom: vif.effectiveFrom,
      currentDigest: vif.digest,
    })
    .from(sites)
    .leftJoin(counts, eq(counts.siteId, sites.id))
    .leftJoin(vif, eq(vif.siteId, sites.id))
    .where(withinSites(sites.id, params.sites))
    .orderBy(asc(sites.code));
  return rows.map((r) => ({
    code: r.code,
    name: r.name,
    timeZone: r.timeZone,
    versionCount: r.versionCount ?? 0,
    /** A version beyond the one in force takes effect later. */
    scheduledVersion: r.latestVersion !== null && r.latestVersion !== r.currentVersion ? r.latestVersion : null,
    current:
      r.currentVersion === null || r.currentEffectiveFrom === null || r.currentDigest === null
        ? null
        : { version: r.currentVersion, effectiveFrom: r.currentEffectiveFrom, digest: r.currentDigest },
  }));
}

const versionColumns = {
  siteCode: sites.code,
  version: ruleSetVersions.version,
  effectiveFrom: ruleSetVersions.effectiveFrom,
  issuedAt: ruleSetVersions.issuedAt,
  backdated: ruleSetVersions.backdated,
  digest: ruleSetVersions.digest,
  previousDigest: ruleSetVersions.previousDigest,
  createdBy: ruleSetVersions.createdBy,
  reason: ruleSetVersions.reason,
};

/**
 * Every visible site's versions, newest first, marked in force / scheduled at `at`. A `siteCode`
 * the reader cannot see shows nothing, like an unknown one.
 */
export async function ruleSetVersionList(db: DbOrTx, params: { at: Date; siteCode?: string; sites: VisibleSites }) {
  const [allSites, versions] = await Promise.all([
    siteOptions(db),
    db
      .select(versionColumns)
      .from(ruleSetVersions)
      .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
      .where(
        and(params.siteCode ? eq(sites.code, params.siteCode) : undefined, withinSites(ruleSetVersions.siteId, params.sites)),
      )
      .orderBy(asc(sites.code), desc(ruleSetVersions.version)),
  ]);
  const visible = visibleOf(allSites, params.sites);
  const shown = params.siteCode ? visible.filter((s) => s.code === params.siteCode) : visible;
  return {
    at: params.at,
    sites: visible,
    bySite: shown.map((site) => {
      const own = versions.filter((v) => v.siteCode === site.code);
      const inForce = own.find((v) => v.effectiveFrom.getTime() <= params.at.getTime())?.version ?? null;
      return {
        site: { code: site.code, name: site.name },
        versions: own.map((v) => ({
          ...v,
          status: v.version === inForce ? "in force" : v.effectiveFrom.getTime() > params.at.getTime() ? "scheduled" : "superseded",
        })),
      };
    }),
  };
}

/** The site a rule-set version belongs to, for the record-level check before reading it; null if none. */
export async function ruleSetVersionSite(db: DbOrTx, params: { siteCode: string; version: number }): Promise<{ siteId: number } | null> {
  const [row] = await db
    .select({ siteId: ruleSetVersions.siteId })
    .from(ruleSetVersions)
    .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
    .where(and(eq(sites.code, params.siteCode), eq(ruleSetVersions.version, params.version)));
  return row ?? null;
}

export async function ruleSetVersionDocument(db: DbOrTx, params: { siteCode: string; version: number; at: Date }) {
  const [row] = await db
    .select({ id: ruleSetVersions.id, canonical: ruleSetVersions.canonical, ...versionColumns, siteName: sites.name })
    .from(ruleSetVersions)
    .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
    .where(and(eq(sites.code, params.siteCode), eq(ruleSetVersions.version, params.version)));
  if (!row) return null;
  const { id, canonical, ...version } = row;

  const [[latest], introduced] = await Promise.all([
    db
      .select({ version: max(ruleSetVersions.version) })
      .from(ruleSetVersions)
      .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
      .where(eq(sites.code, params.siteCode)),
    db
      .select({
        partNumber: materials.partNumber,
        trackingMode: trackingRules.trackingMode,
        containerTracking: trackingRules.containerTracking,
        consumptionScan: trackingRules.consumptionScan,
        identifierFormatCodes: trackingRules.identifierFormatCodes,
      })
      .from(trackingRules)
      .innerJoin(materials, eq(materials.id, trackingRules.materialId))
      .where(eq(trackingRules.ruleSetVersionId, id))
      .orderBy(asc(materials.partNumber)),
  ]);

  const text = new TextDecoder("utf-8").decode(canonical);
  let pretty: string | null;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    pretty = null;
  }
  const computedDigest = createHash("sha256").update(canonical).digest("hex");
  return {
    ...version,
    latestVersion: latest?.version ?? version.version,
    canonicalBytes: canonical.byteLength,
    /** The canonical text itself when it is not JSON (it always should be). */
    canonicalText: pretty === null ? text : null,
    pretty,
    computedDigest,
    digestMatches: computedDigest === version.digest,
    introduced,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Genealogy                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Edges listed per direction; a container can aggregate many, so the page shows a bounded number. */
export const GENEALOGY_EDGE_LIMIT = 500;

/** The site a trace item belongs to, for the record-level check before reading it; null if none. */
export async function traceItemSite(db: DbOrTx, params: { itemId: number }): Promise<{ siteId: number } | null> {
  const [row] = await db.select({ siteId: traceItems.siteId }).from(traceItems).where(eq(traceItems.id, params.itemId));
  return row ?? null;
}

/**
 * An item's direct genealogy. A link is shown only when the linked item and the event both sit
 * at sites the reader can see; the others are counted (`withheld`) so the page can say that the
 * genealogy is incomplete for this reader without saying what is missing.
 */
export async function traceItemGenealogy(db: DbOrTx, params: { itemId: number; sites: VisibleSites }) {
  const [item] = await db
    .select({
      id: traceItems.id,
      kind: traceItems.kind,
      identifier: traceItems.identifier,
      partNumber: materials.partNumber,
      materialDescription: materials.description,
      siteCode: sites.code,
      quantity: traceItems.quantity,
      unit: traceItems.unit,
      status: traceItems.status,
      createdAt: traceItems.createdAt,
      provenanceKind: traceItems.provenanceKind,
      provenanceFileDigest: traceItems.provenanceFileDigest,
      provenanceEventId: traceItems.provenanceEventId,
    })
    .from(traceItems)
    .innerJoin(materials, eq(materials.id, traceItems.materialId))
    .innerJoin(sites, eq(sites.id, traceItems.siteId))
    .where(eq(traceItems.id, params.itemId));
  if (!item) return null;

  const other = alias(traceItems, "other_item");
  const otherMaterial = alias(materials, "other_material");
  const edgeColumns = {
    id: genealogyEdges.id,
    eventRef: genealogyEdges.eventRef,
    kind: genealogyEdges.kind,
    quantity: genealogyEdges.quantity,
    unit: genealogyEdges.unit,
    occurredAt: genealogyEdges.occurredAt,
    workOrderNumber: workOrders.number,
    provenanceKind: genealogyEdges.provenanceKind,
    itemId: other.id,
    itemIdentifier: other.identifier,
    itemKind: other.kind,
    itemStatus: other.status,
    itemPartNumber: otherMaterial.partNumber,
  };
  const visibleLink =
    params.sites === null ? undefined : and(withinSites(other.siteId, params.sites), withinSites(genealogyEdges.siteId, params.sites));
  const linked = (direction: "inputs" | "outputs") =>
    and(
      eq(other.id, direction === "inputs" ? genealogyEdges.inputItemId : genealogyEdges.outputItemId),
      eq(direction === "inputs" ? genealogyEdges.outputItemId : genealogyEdges.inputItemId, params.itemId),
    );
  const edges = (direction: "inputs" | "outputs") =>
    db
      .select(edgeColumns)
      .from(genealogyEdges)
      .innerJoin(other, linked(direction))
      .innerJoin(otherMaterial, eq(otherMaterial.id, other.materialId))
      .leftJoin(workOrders, eq(workOrders.id, genealogyEdges.workOrderId))
      .where(visibleLink)
      .orderBy(asc(genealogyEdges.occurredAt), asc(genealogyEdges.id))
      .limit(GENEALOGY_EDGE_LIMIT + 1);
  const withheld = async (direction: "inputs" | "outputs") => {
    if (visibleLink === undefined) return 0;
    const [row] = await db
      .select({ n: count() })
      .from(genealogyEdges)
      .innerJoin(other, linked(direction))
      .where(not(visibleLink));
    return row?.n ?? 0;
  };
  const [inputs, outputs, inputsWithheld, outputsWithheld] = await Promise.all([
    edges("inputs"),
    edges("outputs"),
    withheld("inputs"),
    withheld("outputs"),
  ]);
  return {
    item,
    edgeLimit: GENEALOGY_EDGE_LIMIT,
    inputs: inputs.slice(0, GENEALOGY_EDGE_LIMIT),
    moreInputs: inputs.length > GENEALOGY_EDGE_LIMIT,
    inputsWithheld,
    outputs: outputs.slice(0, GENEALOGY_EDGE_LIMIT),
    moreOutputs: outputs.length > GENEALOGY_EDGE_LIMIT,
    outputsWithheld,
  };
}
