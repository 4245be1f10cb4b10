/**
 * Materials as their screens show them: the searchable list (with each site's tracking mode in
 * force) and a material's master page (its rule timeline per site, BOM, trace items and external
 * master records). Materials are global master data; everything site-bound is scoped to the
 * reader's sites in SQL. "Now" is passed in (the database clock, see app/utils/clock.server.ts).
 */
import { LOGISTICS_UNIT_MATERIAL, type RiskClass } from "../domain/material";
import { and, asc, count, desc, eq, exists, ilike, inArray, isNull, ne, notExists, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { bomLineAlternates, bomLines, externalMasterRecords, materialFamilies, materials, sites, traceItems, trackingRules } from "../../db/schema";
import { ruleTimeline } from "../domain/rule-timeline";
import { resolveRuleInForce } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";
import { modeKey, rulesInForce, trackingModesInForce } from "./rules-in-force.server";
import { siteOptions, visibleOf, withinSites, type VisibleSites } from "./sites.server";
import { TRACE_ITEM_STATUSES, type TraceItemStatus } from "./trace-items.server";
import { ruleHistory, siteVersions } from "./tracking-rules.server";

/** LIKE pattern matching `text` anywhere, with the pattern characters escaped. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function familyOptions(db: DbOrTx): Promise<{ code: string; name: string }[]> {
  // The system family (the logistics unit's, ADR 014) holds no product: no picker offers it.
  return db
    .select({ code: materialFamilies.code, name: materialFamilies.name })
    .from(materialFamilies)
    .where(ne(materialFamilies.code, LOGISTICS_UNIT_MATERIAL.familyCode))
    .orderBy(asc(materialFamilies.code));
}

/* ------------------------------------------------------------------------------------------ */
/* Materials list                                                                              */
/* ------------------------------------------------------------------------------------------ */

export const MATERIAL_SORTS = ["partNumber", "description", "gtin", "family", "risk"] as const;
export type MaterialSort = (typeof MATERIAL_SORTS)[number];
/** A tracking-mode filter: a mode in force, or no rule in force (legacy or unruled). */
export const MODE_FILTERS = ["serial", "lot", "none", "unruled"] as const;
export type ModeFilter = (typeof MODE_FILTERS)[number];

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

  // System materials (the logistics unit, ADR 014) are no products: not in the catalogue.
  const conditions: SQL[] = [isNull(materials.systemRole)];
  const q = search.q.trim();
  if (q) {
    const pattern = containsPattern(q);
    conditions.push(or(ilike(materials.partNumber, pattern), ilike(materials.description, pattern), ilike(materials.gtin, pattern))!);
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
            .where(and(eq(bomLines.siteId, siteId), or(eq(bomLines.parentMaterialId, materials.id), eq(bomLines.componentMaterialId, materials.id)))),
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
    const atSite = search.site ? [eq(rif.siteId, site?.id ?? -1)] : params.sites === null ? [] : [inArray(rif.siteId, [...params.sites])];
    const ruleHere = (extra: SQL[]) =>
      db
        .select({ one: sql`1` })
        .from(rif)
        .where(and(eq(rif.materialId, materials.id), ...atSite, ...extra));
    conditions.push(search.mode === "unruled" ? notExists(ruleHere([])) : exists(ruleHere([eq(rif.trackingMode, search.mode)])));
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

  const [totalRow] = await db.select({ n: count() }).from(materials).innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId)).where(where);
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
      const [versions, rules] = await Promise.all([siteVersions(db, site.id), ruleHistory(db, { materialId, siteId: site.id })]);
      const inForce = resolveRuleInForce(versions, rules, at);
      return { site, inForce, timeline: ruleTimeline(versions, rules, inForce, at) };
    }),
  );

  const [bom, items, externalRecords] = await Promise.all([
    materialBom(db, { materialId, at, sites: params.sites }),
    materialTraceItems(db, { materialId, sites: params.sites }),
    externalMasterView(db, { materialId, sites: params.sites }),
  ]);

  const modeAt = new Map(bySite.map(({ site, inForce }) => [site.id, inForce.state === "ruled" ? inForce.rule.trackingMode : null]));
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
