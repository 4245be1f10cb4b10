/**
 * Read models of the genealogy explorer: identifier search, multi-tier traces both ways, and the
 * recall from an item. A trace is walked breadth first by frontier batches — one set-based query
 * per tier reads every edge leaving the frontier through the two genealogy indexes — while the
 * walk itself (visited set, node cap, withheld links) lives in app/domain/genealogy-trace.ts, so it
 * ends on any data, cycles in imported data included, and costs tiers, not items, in round trips.
 * Links to items or events at sites the reader cannot see are counted, never shown or walked past
 * (the item page's rule). Every function takes the database first and selects named columns.
 *
 * A trace reads one repeatable-read snapshot, so its tiers, rules and recall agree with one
 * another, with parallel plans off: a frontier of a few hundred items makes the planner start
 * parallel workers whose start-up (~100 ms) dwarfs the milliseconds the index lookups take.
 */
import type { VisibleSites } from "./sites.server";
import { readSearchTerm, type TraceItemKey } from "../domain/trace-item-search";
import { and, asc, count, eq, gte, inArray, isNull, like, lt, ne, not, or, sql, type Column, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  bomLineAlternates,
  bomLines,
  genealogyEdges,
  materials,
  qualityEventReferences,
  qualityEvents,
  ruleSetVersions,
  sites,
  traceItems,
  trackingRules,
} from "../../db/schema";
import type { QualityEventKind, QualityEventSeverity, QualityEventStatus } from "../domain/quality-event";
import {
  advanceWalk,
  findCycles,
  fromItemOf,
  isComminglingPoint,
  isFinishedItem,
  layoutTraceGraph,
  precisionLevel,
  recallCertainty,
  recallCountsBySite,
  ruleLabel,
  startWalk,
  topTierKey,
  topTierPairs,
  tracePrecision,
  type GraphLayout,
  type RecallCertainty,
  type RuleLabel,
  type TraceDirection,
  type TraceItemKind,
  type TracePrecision,
  type TraceWalk,
  type WalkEdge,
} from "../domain/genealogy-trace";
import { resolveRuleInForce, type RuleInterval, type VersionPoint } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";

/** Items per direction on the item page; the walk stops there and the page says so. */
export const TRACE_NODE_CAP = 2_000;
/** Items the recall export may reach; beyond it the export is refused rather than cut short. */
export const RECALL_EXPORT_NODE_CAP = 100_000;
/** Items drawn in a trace graph (the table lists them all). */
export const GRAPH_NODE_LIMIT = 60;
export const SEARCH_EXACT_LIMIT = 100;
/** Prefix matches per page of the search (pages numbered from 1, ordered as the exact list). */
export const SEARCH_PREFIX_LIMIT = 20;
/** Shorter texts would match a large part of a big plant: only exact matches are looked up. */
export const SEARCH_PREFIX_MIN_LENGTH = 3;
/** Exact matches at unseen sites are counted up to this many ("1000 or more"). */
export const SEARCH_WITHHELD_COUNT_LIMIT = 1_000;

export type { VisibleSites };

/** A bigint[] parameter: one bound value however long the list (ids are integers, never text). */
function bigintArray(ids: readonly number[]): SQL {
  return sql`${`{${ids.map((id) => Math.trunc(id)).join(",")}}`}::bigint[]`;
}
function intArray(ids: readonly number[]): SQL {
  return sql`${`{${ids.map((id) => Math.trunc(id)).join(",")}}`}::int[]`;
}
function anyOf(column: Column, ids: readonly number[], type: "bigint" | "int" = "bigint"): SQL {
  return sql`${column} = any(${type === "bigint" ? bigintArray(ids) : intArray(ids)})`;
}
/** Like sites.server.ts withinSites, as one bound int[] however many sites (the explorer's lists are long). */
function withinSites(column: Column, visible: VisibleSites): SQL | undefined {
  return visible === null ? undefined : anyOf(column, visible, "int");
}
const canSee = (visible: VisibleSites, siteId: number) => visible === null || visible.includes(siteId);

/** Runs `work` in one read-only repeatable-read snapshot (or in the caller's transaction). */
async function inSnapshot<T>(db: DbOrTx, work: (tx: DbOrTx) => Promise<T>): Promise<T> {
  const run = async (tx: DbOrTx) => {
    await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
    return work(tx);
  };
  // A transaction handle (it can roll back) is already a snapshot the caller chose.
  if ("rollback" in db) return run(db);
  return db.transaction(run, { isolationLevel: "repeatable read", accessMode: "read only" });
}

/* ------------------------------------------------------------------------------------------ */
/* Search                                                                                      */
/* ------------------------------------------------------------------------------------------ */

const searchColumns = {
  id: traceItems.id,
  identifier: traceItems.identifier,
  kind: traceItems.kind,
  status: traceItems.status,
  quantity: traceItems.quantity,
  unit: traceItems.unit,
  createdAt: traceItems.createdAt,
  partNumber: materials.partNumber,
  materialDescription: materials.description,
  siteCode: sites.code,
};

/** LIKE pattern for identifiers starting with `text`, pattern characters escaped. */
function prefixPattern(text: string): string {
  return `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Whether trace_items.identifier sorts by code point (C, POSIX, C.UTF-8 or the builtin provider):
 * then the identifiers starting with a text are one range of its index, [text, successor), and a
 * prefix search reads only that range instead of every identifier. A linguistic collation has no
 * such range; the search then filters with LIKE alone (fine for the demo plant, a full scan on a
 * large one — an index with text_pattern_ops would serve it).
 */
async function identifiersSortByCodePoint(db: DbOrTx): Promise<boolean> {
  const rows = await db.execute<{ provider: string; collate: string; column_collation: string | null }>(sql`
    select d.datlocprovider::text as provider, d.datcollate as collate,
           case when a.attcollation = 100 then null else c.collname::text end as column_collation
    from pg_database d
    cross join pg_attribute a
    left join pg_collation c on c.oid = a.attcollation
    where d.datname = current_database() and a.attrelid = 'trace_items'::regclass and a.attname = 'identifier'`);
  const row = rows[0];
  if (!row) return false;
  const cLike = (name: string) => /^(C|POSIX|C\.UTF-?8|ucs_basic|pg_c_utf8)$/i.test(name);
  if (row.column_collation !== null) return cLike(row.column_collation);
  return row.provider === "b" || (row.provider === "c" && cLike(row.collate));
}

/** The smallest text after every text starting with `text`, in code point order (none past U+10FFFF). */
function prefixSuccessor(text: string): string | null {
  const points = [...text].map((c) => c.codePointAt(0)!);
  while (points.length > 0 && points[points.length - 1] === 0x10ffff) points.pop();
  if (points.length === 0) return null;
  points[points.length - 1]! += 1;
  // Surrogates are not characters PostgreSQL stores: step over them.
  if (points[points.length - 1] === 0xd800) points[points.length - 1] = 0xe000;
  return String.fromCodePoint(...points);
}

/**
 * The items a GS1 key names: a trade item by its material's GTIN and its identifier (a container
 * by its SSCC, whatever its material). Containers are unique by identifier, the others by
 * (material, identifier), so each key uses one of the two unique indexes.
 */
function keyMatch(db: DbOrTx, key: TraceItemKey): SQL | undefined {
  if (key.level === "container") return and(eq(traceItems.kind, "container"), eq(traceItems.identifier, key.identifier));
  return and(
    ne(traceItems.kind, "container"),
    eq(traceItems.identifier, key.identifier),
    inArray(traceItems.materialId, db.select({ id: materials.id }).from(materials).where(eq(materials.gtin, key.gtin))),
  );
}

/**
 * Trace items by identifier: every exact match (an identifier may name a lot of several
 * materials), then those that start with it, a page at a time (offset paging over a total order —
 * identifier, site, material, id — with their count among the reader's sites, so the pages
 * together list each match once). Matches at sites the reader cannot see are counted.
 * A term in a GS1 form — EPC URN, Digital Link, element string — also matches the item it names
 * by GTIN and serial/lot (or SSCC) (ADR 014, "Search"); a bare term matches identifiers only.
 */
export async function searchTraceItems(db: DbOrTx, params: { q: string; sites: VisibleSites; page?: number }) {
  const term = readSearchTerm(params.q);
  const exactMatch = or(eq(traceItems.identifier, params.q), ...term.keys.map((k) => keyMatch(db, k)));
  const successor = (await identifiersSortByCodePoint(db)) ? prefixSuccessor(params.q) : null;
  const prefixMatch = and(
    like(traceItems.identifier, prefixPattern(params.q)),
    ne(traceItems.identifier, params.q),
    successor === null ? undefined : and(gte(traceItems.identifier, params.q), lt(traceItems.identifier, successor)),
  );
  const visible = withinSites(traceItems.siteId, params.sites);
  const rows = (where: SQL | undefined, limit: number, offset = 0) =>
    db
      .select(searchColumns)
      .from(traceItems)
      .innerJoin(materials, eq(materials.id, traceItems.materialId))
      .innerJoin(sites, eq(sites.id, traceItems.siteId))
      .where(and(where, visible))
      .orderBy(asc(traceItems.identifier), asc(sites.code), asc(materials.partNumber), asc(traceItems.id))
      .limit(limit + 1)
      .offset(offset);
  const prefixWanted = [...params.q].length >= SEARCH_PREFIX_MIN_LENGTH;
  // The visible prefix matches are counted first so a page past the last one shows the last.
  const prefixTotal = prefixWanted ? ((await db.select({ n: count() }).from(traceItems).where(and(prefixMatch, visible)))[0]?.n ?? 0) : 0;
  const prefixPageCount = Math.max(1, Math.ceil(prefixTotal / SEARCH_PREFIX_LIMIT));
  const prefixPage = Math.min(Math.max(1, Math.trunc(params.page ?? 1)), prefixPageCount);
  // Exact matches at unseen sites are counted (up to a bound); prefix matches are suggestions
  // among the sites the reader can see — counting the unseen ones of a one-letter prefix would read
  // most of a large plant.
  const withheld = async (where: SQL | undefined) => {
    if (visible === undefined) return 0;
    const unseen = db
      .select({ id: traceItems.id })
      .from(traceItems)
      .where(and(where, not(visible)))
      .limit(SEARCH_WITHHELD_COUNT_LIMIT)
      .as("unseen");
    const [row] = await db.select({ n: count() }).from(unseen);
    return row?.n ?? 0;
  };
  const [exact, prefix, exactWithheld] = await Promise.all([
    rows(exactMatch, SEARCH_EXACT_LIMIT),
    prefixWanted ? rows(prefixMatch, SEARCH_PREFIX_LIMIT, (prefixPage - 1) * SEARCH_PREFIX_LIMIT) : Promise.resolve([]),
    withheld(exactMatch),
  ]);
  return {
    term,
    exact: exact.slice(0, SEARCH_EXACT_LIMIT),
    moreExact: exact.length > SEARCH_EXACT_LIMIT,
    prefix: prefix.slice(0, SEARCH_PREFIX_LIMIT),
    morePrefix: prefix.length > SEARCH_PREFIX_LIMIT,
    prefixTotal,
    prefixPage,
    prefixPageCount,
    exactWithheld,
    exactLimit: SEARCH_EXACT_LIMIT,
    prefixLimit: SEARCH_PREFIX_LIMIT,
    withheldCountLimit: SEARCH_WITHHELD_COUNT_LIMIT,
    prefixMinLength: SEARCH_PREFIX_MIN_LENGTH,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Walking                                                                                     */
/* ------------------------------------------------------------------------------------------ */

interface ItemFacts {
  identifier: string;
  kind: TraceItemKind;
  status: string;
  materialId: number;
  partNumber: string;
  siteId: number;
  siteCode: string;
}

interface TraceEdge extends WalkEdge {
  kind: string;
  quantity: string;
  unit: string;
  occurredAt: Date;
  eventRef: string;
}

interface Walked {
  walk: TraceWalk<TraceEdge>;
  facts: Map<number, ItemFacts & { createdAt?: Date }>;
}

async function startItem(db: DbOrTx, itemId: number) {
  const [row] = await db
    .select({
      identifier: traceItems.identifier,
      kind: traceItems.kind,
      status: traceItems.status,
      materialId: traceItems.materialId,
      partNumber: materials.partNumber,
      siteId: traceItems.siteId,
      siteCode: sites.code,
      createdAt: traceItems.createdAt,
    })
    .from(traceItems)
    .innerJoin(materials, eq(materials.id, traceItems.materialId))
    .innerJoin(sites, eq(sites.id, traceItems.siteId))
    .where(eq(traceItems.id, itemId));
  return row ?? null;
}

/** Every edge leaving the frontier in `direction`, with the item it leads to: one query per tier. */
async function frontierEdges(db: DbOrTx, frontier: readonly number[], direction: TraceDirection) {
  const next = alias(traceItems, "next_item");
  const from = direction === "forward" ? genealogyEdges.inputItemId : genealogyEdges.outputItemId;
  const to = direction === "forward" ? genealogyEdges.outputItemId : genealogyEdges.inputItemId;
  return (
    db
      .select({
        id: genealogyEdges.id,
        inputItemId: genealogyEdges.inputItemId,
        outputItemId: genealogyEdges.outputItemId,
        kind: genealogyEdges.kind,
        quantity: genealogyEdges.quantity,
        unit: genealogyEdges.unit,
        occurredAt: genealogyEdges.occurredAt,
        eventRef: genealogyEdges.eventRef,
        edgeSiteId: genealogyEdges.siteId,
        identifier: next.identifier,
        itemKind: next.kind,
        status: next.status,
        materialId: next.materialId,
        partNumber: materials.partNumber,
        siteId: next.siteId,
        siteCode: sites.code,
      })
      .from(genealogyEdges)
      .innerJoin(next, eq(next.id, to))
      .innerJoin(materials, eq(materials.id, next.materialId))
      .innerJoin(sites, eq(sites.id, next.siteId))
      // Rework (an item into itself) adds nothing to a trace.
      // Edges of EPCIS events declared erroneous are kept (superseded), never traced (ADR 014).
      .where(and(anyOf(from, frontier), ne(genealogyEdges.inputItemId, genealogyEdges.outputItemId), isNull(genealogyEdges.supersededAt)))
  );
}

async function walkFrom(db: DbOrTx, params: { itemId: number; direction: TraceDirection; sites: VisibleSites; nodeCap: number }): Promise<Walked | null> {
  const start = await startItem(db, params.itemId);
  if (!start) return null;
  const walk = startWalk<TraceEdge>(params.itemId, params.direction, params.nodeCap);
  const facts = new Map<number, ItemFacts & { createdAt?: Date }>([[params.itemId, start]]);
  while (walk.frontier.length > 0) {
    const rows = await frontierEdges(db, walk.frontier, params.direction);
    const edges: TraceEdge[] = rows.map((r) => ({
      id: r.id,
      inputItemId: r.inputItemId,
      outputItemId: r.outputItemId,
      kind: r.kind,
      quantity: r.quantity,
      unit: r.unit,
      occurredAt: r.occurredAt,
      eventRef: r.eventRef,
      visible: canSee(params.sites, r.edgeSiteId) && canSee(params.sites, r.siteId),
    }));
    advanceWalk(walk, edges);
    for (const r of rows) {
      const id = params.direction === "forward" ? r.outputItemId : r.inputItemId;
      // Only what the reader may see is kept: withheld items leave no trace in the result.
      if (walk.tierOf.has(id) && !facts.has(id)) {
        facts.set(id, {
          identifier: r.identifier,
          kind: r.itemKind,
          status: r.status,
          materialId: r.materialId,
          partNumber: r.partNumber,
          siteId: r.siteId,
          siteCode: r.siteCode,
        });
      }
    }
  }
  return { walk, facts };
}

/* ------------------------------------------------------------------------------------------ */
/* Rules in force                                                                              */
/* ------------------------------------------------------------------------------------------ */

/** Versions of the sites and rule histories of the (material, site) pairs involved: two queries. */
async function ruleResolver(db: DbOrTx, pairs: readonly { materialId: number; siteId: number }[]) {
  const siteIds = [...new Set(pairs.map((p) => p.siteId))];
  const materialIds = [...new Set(pairs.map((p) => p.materialId))];
  if (siteIds.length === 0) return () => ({ state: "legacy", trackingMode: null, version: null }) as RuleLabel;
  const [versionRows, ruleRows] = await Promise.all([
    db
      .select({ siteId: ruleSetVersions.siteId, version: ruleSetVersions.version, effectiveFrom: ruleSetVersions.effectiveFrom })
      .from(ruleSetVersions)
      .where(anyOf(ruleSetVersions.siteId, siteIds, "int")),
    db
      .select({
        materialId: trackingRules.materialId,
        siteId: trackingRules.siteId,
        trackingMode: trackingRules.trackingMode,
        containerTracking: trackingRules.containerTracking,
        identifierFormatCodes: trackingRules.identifierFormatCodes,
        consumptionScan: trackingRules.consumptionScan,
        effectiveFrom: trackingRules.effectiveFrom,
        effectiveTo: trackingRules.effectiveTo,
        version: ruleSetVersions.version,
      })
      .from(trackingRules)
      .innerJoin(ruleSetVersions, eq(ruleSetVersions.id, trackingRules.ruleSetVersionId))
      .where(and(anyOf(trackingRules.siteId, siteIds, "int"), anyOf(trackingRules.materialId, materialIds, "int"))),
  ]);
  const versions = new Map<number, VersionPoint[]>();
  for (const v of versionRows)
    (versions.get(v.siteId) ?? versions.set(v.siteId, []).get(v.siteId)!).push({ version: v.version, effectiveFrom: v.effectiveFrom });
  const rules = new Map<string, RuleInterval[]>();
  for (const { materialId, siteId, ...rule } of ruleRows) {
    const key = `${materialId}|${siteId}`;
    (rules.get(key) ?? rules.set(key, []).get(key)!).push(rule);
  }
  return (materialId: number, siteId: number, at: Date): RuleLabel =>
    ruleLabel(resolveRuleInForce(versions.get(siteId) ?? [], rules.get(`${materialId}|${siteId}`) ?? [], at));
}

/* ------------------------------------------------------------------------------------------ */
/* Traces                                                                                      */
/* ------------------------------------------------------------------------------------------ */

export interface TraceNode {
  id: number;
  /** Distance from the start in edges; 0 is the start. */
  tier: number;
  identifier: string;
  kind: TraceItemKind;
  status: string;
  partNumber: string;
  siteCode: string;
  /** The event the row shows: the edge that first reached the item (the start: its creation). */
  via: {
    kind: string;
    quantity: string;
    unit: string;
    occurredAt: Date;
    eventRef: string;
    /** The item the walk came from. */
    fromId: number;
    fromIdentifier: string;
  } | null;
  eventAt: Date;
  /** Other links to this item from items of the trace, not shown on its row. */
  moreLinks: number;
  /** The material's rule and the site's version in force at `eventAt`. */
  rule: RuleLabel;
  precision: TracePrecision;
}

export interface TraceResult {
  direction: TraceDirection;
  nodeCap: number;
  truncated: boolean;
  /** Items behind links at sites the reader cannot see. */
  withheld: number;
  nodes: TraceNode[];
  tiers: number;
  cycles: { items: number; path: { id: number; identifier: string }[] }[];
  graph: GraphLayout;
}

interface Traced extends TraceResult {
  walked: Walked;
  rules: Map<number, RuleLabel>;
}

async function trace(db: DbOrTx, params: { itemId: number; direction: TraceDirection; sites: VisibleSites; nodeCap: number }): Promise<Traced | null> {
  const walked = await walkFrom(db, params);
  if (!walked) return null;
  const { walk, facts } = walked;
  const eventAt = (id: number) => walk.via.get(id)?.occurredAt ?? facts.get(id)!.createdAt!;
  const resolve = await ruleResolver(
    db,
    walk.order.map((id) => facts.get(id)!),
  );
  const rules = new Map(
    walk.order.map((id) => {
      const f = facts.get(id)!;
      return [id, resolve(f.materialId, f.siteId, eventAt(id))] as const;
    }),
  );
  const precision = tracePrecision(walk, (id) => precisionLevel(facts.get(id)!.kind, rules.get(id)!.trackingMode));
  const linksInto = new Map<number, number>();
  for (const e of walk.edges) {
    const to = params.direction === "forward" ? e.outputItemId : e.inputItemId;
    linksInto.set(to, (linksInto.get(to) ?? 0) + 1);
  }
  const cycles = findCycles(walk);
  const nodes: TraceNode[] = walk.order.map((id) => {
    const f = facts.get(id)!;
    const via = walk.via.get(id);
    const fromId = via ? fromItemOf(via, params.direction) : null;
    return {
      id,
      tier: walk.tierOf.get(id)!,
      identifier: f.identifier,
      kind: f.kind,
      status: f.status,
      partNumber: f.partNumber,
      siteCode: f.siteCode,
      via:
        via && fromId !== null
          ? {
              kind: via.kind,
              quantity: via.quantity,
              unit: via.unit,
              occurredAt: via.occurredAt,
              eventRef: via.eventRef,
              fromId,
              fromIdentifier: facts.get(fromId)!.identifier,
            }
          : null,
      eventAt: eventAt(id),
      moreLinks: Math.max(0, (linksInto.get(id) ?? 0) - 1),
      rule: rules.get(id)!,
      precision: precision.get(id)!,
    };
  });
  return {
    direction: params.direction,
    nodeCap: params.nodeCap,
    truncated: walk.truncated,
    withheld: walk.withheld.size,
    nodes,
    tiers: nodes.reduce((deepest, n) => Math.max(deepest, n.tier), 0),
    cycles: cycles.map((c) => ({ items: c.items.length, path: c.path.map((id) => ({ id, identifier: facts.get(id)!.identifier })) })),
    graph: layoutTraceGraph(walk, { maxNodes: GRAPH_NODE_LIMIT, cycles }),
    walked,
    rules,
  };
}

function publicTrace(traced: Traced): TraceResult {
  const { walked: _walked, rules: _rules, ...result } = traced;
  return result;
}

/** One direction of an item's genealogy through every tier, or null when there is no such item. */
export async function traceGenealogy(
  db: DbOrTx,
  params: { itemId: number; direction: TraceDirection; sites: VisibleSites; nodeCap?: number },
): Promise<TraceResult | null> {
  return inSnapshot(db, async (tx) => {
    const traced = await trace(tx, { ...params, nodeCap: params.nodeCap ?? TRACE_NODE_CAP });
    return traced ? publicTrace(traced) : null;
  });
}

/* ------------------------------------------------------------------------------------------ */
/* Recall                                                                                      */
/* ------------------------------------------------------------------------------------------ */

export interface RecallRow {
  id: number;
  identifier: string;
  kind: TraceItemKind;
  status: string;
  partNumber: string;
  siteCode: string;
  tier: number;
  certainty: RecallCertainty;
  precision: TracePrecision;
  eventAt: Date;
  rule: RuleLabel;
  /** Open quality events that reference it or reach it (ADR 037); empty unless asked for. */
  qualityEvents: QualityEventOnItem[];
}

export interface RecallResult {
  start: { id: number; identifier: string; kind: TraceItemKind; partNumber: string; siteCode: string };
  rows: RecallRow[];
  bySite: { siteCode: string; certain: number; candidate: number; total: number }[];
  certain: number;
  candidate: number;
  /** Items the forward trace reached, finished or not. */
  reached: number;
  commingling: number;
  truncated: boolean;
  nodeCap: number;
  withheld: number;
}

async function recallOf(db: DbOrTx, traced: Traced, marks?: QualityEventReach): Promise<RecallResult> {
  const { walk, facts } = traced.walked;
  const nonSerials = walk.order.filter((id) => facts.get(id)!.kind !== "serial");
  const pairs = [...new Map(walk.order.map((id) => [`${facts.get(id)!.materialId}|${facts.get(id)!.siteId}`, facts.get(id)!])).values()];
  const siteIds = [...new Set(pairs.map((p) => p.siteId))];
  const [inputs, lines] = await Promise.all([
    // Distinct sources of every lot and container reached: all of them, at any site.
    nonSerials.length === 0 ? Promise.resolve([]) : distinctSources(db, nonSerials),
    // The BOM lines of the sites reached, with their alternates: the top tier is decided from them
    // by the one definition the impact analysis uses too (topTierPairs, ADR 010).
    db
      .select({
        siteId: bomLines.siteId,
        parent: bomLines.parentMaterialId,
        component: bomLines.componentMaterialId,
        alternates: sql<
          number[] | null
        >`(select array_agg(${bomLineAlternates.materialId}) from ${bomLineAlternates} where ${bomLineAlternates.bomLineId} = ${bomLines.id})`,
      })
      .from(bomLines)
      .where(anyOf(bomLines.siteId, siteIds, "int")),
  ]);
  // Keyed by ids (material id | site id): the rule needs only equality.
  const top = topTierPairs(
    lines.map((l) => ({ site: String(l.siteId), parent: String(l.parent), component: String(l.component), alternates: (l.alternates ?? []).map(String) })),
  );
  const sources = new Map(inputs.map((r) => [r.id, r.sources]));
  const commingling = (id: number) => isComminglingPoint(facts.get(id)!.kind, sources.get(id) ?? 0);
  const certainty = recallCertainty(walk, commingling);
  const byId = new Map(traced.nodes.map((n) => [n.id, n]));
  const rows: RecallRow[] = walk.order
    .filter((id) => isFinishedItem(facts.get(id)!.kind, top.has(topTierKey(String(facts.get(id)!.materialId), String(facts.get(id)!.siteId)))))
    .map((id) => {
      const n = byId.get(id)!;
      return {
        id,
        identifier: n.identifier,
        kind: n.kind,
        status: n.status,
        partNumber: n.partNumber,
        siteCode: n.siteCode,
        tier: n.tier,
        certainty: certainty.get(id)!,
        precision: n.precision,
        eventAt: n.eventAt,
        rule: n.rule,
        qualityEvents: marks?.onItem(id) ?? [],
      };
    })
    .sort(
      (a, b) =>
        (a.certainty === b.certainty ? 0 : a.certainty === "certain" ? -1 : 1) ||
        a.siteCode.localeCompare(b.siteCode) ||
        a.partNumber.localeCompare(b.partNumber) ||
        a.identifier.localeCompare(b.identifier),
    );
  const start = facts.get(walk.start)!;
  return {
    start: { id: walk.start, identifier: start.identifier, kind: start.kind, partNumber: start.partNumber, siteCode: start.siteCode },
    rows,
    bySite: recallCountsBySite(rows),
    certain: rows.filter((r) => r.certainty === "certain").length,
    candidate: rows.filter((r) => r.certainty === "candidate").length,
    reached: walk.order.length,
    commingling: walk.order.filter((id) => id !== walk.start && commingling(id)).length,
    truncated: walk.truncated,
    nodeCap: walk.nodeCap,
    withheld: walk.withheld.size,
  };
}

/** Every finished item the item may have gone into, certain or candidate (see genealogy-trace.ts). */
export async function recallFrom(
  db: DbOrTx,
  params: { itemId: number; sites: VisibleSites; nodeCap?: number; qualityEvents?: boolean },
): Promise<RecallResult | null> {
  return inSnapshot(db, async (tx) => {
    const traced = await trace(tx, { itemId: params.itemId, sites: params.sites, direction: "forward", nodeCap: params.nodeCap ?? RECALL_EXPORT_NODE_CAP });
    if (!traced) return null;
    // The marks read the same snapshot as the recall (ADR 037).
    const marks = params.qualityEvents ? await qualityEventReachIn(tx, { sites: params.sites }) : undefined;
    return recallOf(tx, traced, marks);
  });
}

/** The item page's traces: backward and forward through every tier, and the recall from the forward one. */
export async function exploreGenealogy(db: DbOrTx, params: { itemId: number; sites: VisibleSites; nodeCap?: number }) {
  const nodeCap = params.nodeCap ?? TRACE_NODE_CAP;
  return inSnapshot(db, async (tx) => {
    // One connection: the two walks take turns, each tier still one query.
    const backward = await trace(tx, { itemId: params.itemId, direction: "backward", sites: params.sites, nodeCap });
    const forward = await trace(tx, { itemId: params.itemId, direction: "forward", sites: params.sites, nodeCap });
    if (!backward || !forward) return null;
    const marks = await qualityEventReachIn(tx, { sites: params.sites });
    const start = backward.walked.facts.get(params.itemId)!;
    // Every drawn or listed item of both traces, with its open events (ADR 037).
    const nodeMarks: Record<number, QualityEventOnItem[]> = {};
    for (const n of [...backward.nodes, ...forward.nodes]) {
      const found = marks.onItem(n.id);
      if (found.length) nodeMarks[n.id] = found;
    }
    return {
      backward: publicTrace(backward),
      forward: publicTrace(forward),
      recall: await recallOf(tx, forward, marks),
      qualityEvents: {
        item: marks.onItem(params.itemId),
        material: marks.onMaterial(start.materialId, start.siteId),
        nodes: nodeMarks,
        truncated: marks.truncated,
      },
    };
  });
}

export type { RecallCertainty, RuleLabel, TraceDirection, TraceItemKind, TracePrecision };

/* ------------------------------------------------------------------------------------------ */
/* Open quality events on items (ADR 037)                                                      */
/* ------------------------------------------------------------------------------------------ */

/** An open quality event as the explorer marks it (`/quality-events/<number>`). */
export interface OpenQualityEventView {
  number: string;
  kind: QualityEventKind;
  severity: QualityEventSeverity;
  status: QualityEventStatus;
  siteCode: string;
  title: string;
}

/**
 * How an open event touches one item: `referenced` (a reference names the item itself), or it
 * reaches the item from a referenced item upstream — `certain` or `candidate` exactly as the
 * explorer's recall from that referenced item decides (genealogy-trace.ts recallCertainty).
 */
export interface QualityEventOnItem extends OpenQualityEventView {
  relation: "referenced" | RecallCertainty;
  /** The referenced item the event reaches this one from (null when referenced directly). */
  via: { id: number; identifier: string } | null;
}

/** Items a reach from one referenced item may walk (like the item page's trace). */
export const QUALITY_EVENT_REACH_NODE_CAP = TRACE_NODE_CAP;
/**
 * Referenced items walked forward for one page (lowest ids first). A QMS import may reference many
 * items (5,000 events × 100 references); past this many the marks are left out and `truncated` says
 * so, so that no page does thousands of walks (review of issue 25).
 */
export const QUALITY_EVENT_REACH_ITEM_CAP = 200;

export interface QualityEventReach {
  /** Events on each item: referenced first, then certain, then candidate; by event number within. */
  onItem: (itemId: number) => QualityEventOnItem[];
  /** Open events with a material reference, by material id and site id. */
  onMaterial: (materialId: number, siteId: number) => OpenQualityEventView[];
  /** A reach stopped at the node cap, or more referenced items than QUALITY_EVENT_REACH_ITEM_CAP: marks are missing. */
  truncated: boolean;
}

const RELATION_ORDER = { referenced: 0, certain: 1, candidate: 2 } as const;

/**
 * Every open quality event (status not closed: `isOpenQualityEvent`) at a site the reader can see,
 * with the items it references and every item its referenced items reach forward — the walk and the
 * certainty of the explorer's recall, one walk per referenced item (open events are few; each walk
 * is capped). References to items at unseen sites are left out, as the item page leaves them out.
 */
export async function qualityEventReach(db: DbOrTx, params: { sites: VisibleSites; nodeCap?: number; itemCap?: number }): Promise<QualityEventReach> {
  return inSnapshot(db, (tx) => qualityEventReachIn(tx, params));
}

async function qualityEventReachIn(tx: DbOrTx, params: { sites: VisibleSites; nodeCap?: number; itemCap?: number }): Promise<QualityEventReach> {
  const nodeCap = params.nodeCap ?? QUALITY_EVENT_REACH_NODE_CAP;
  const itemCap = params.itemCap ?? QUALITY_EVENT_REACH_ITEM_CAP;
  const refItem = alias(traceItems, "ref_item");
  const rows = await tx
    .select({
      eventId: qualityEvents.id,
      number: qualityEvents.number,
      kind: qualityEvents.kind,
      severity: qualityEvents.severity,
      status: qualityEvents.status,
      title: qualityEvents.title,
      siteCode: sites.code,
      refKind: qualityEventReferences.kind,
      traceItemId: qualityEventReferences.traceItemId,
      refIdentifier: refItem.identifier,
      materialId: qualityEventReferences.materialId,
      refSiteId: qualityEventReferences.siteId,
    })
    .from(qualityEventReferences)
    .innerJoin(qualityEvents, eq(qualityEvents.id, qualityEventReferences.qualityEventId))
    .innerJoin(sites, eq(sites.id, qualityEvents.siteId))
    .leftJoin(refItem, eq(refItem.id, qualityEventReferences.traceItemId))
    // Open = not closed (app/domain/quality-event.ts isOpenQualityEvent).
    .where(and(ne(qualityEvents.status, "closed"), withinSites(qualityEvents.siteId, params.sites), withinSites(qualityEventReferences.siteId, params.sites)))
    .orderBy(asc(qualityEvents.number), asc(qualityEventReferences.id));
  const events = new Map<number, OpenQualityEventView>();
  const onItem = new Map<number, Map<number, QualityEventOnItem>>();
  const onMaterial = new Map<string, Map<number, OpenQualityEventView>>();
  const put = (itemId: number, eventId: number, mark: QualityEventOnItem) => {
    const marks = onItem.get(itemId) ?? onItem.set(itemId, new Map()).get(itemId)!;
    const had = marks.get(eventId);
    if (!had || RELATION_ORDER[mark.relation] < RELATION_ORDER[had.relation]) marks.set(eventId, mark);
  };
  const referenced = new Map<number, { identifier: string; eventIds: number[] }>();
  for (const r of rows) {
    const event = { number: r.number, kind: r.kind, severity: r.severity, status: r.status, siteCode: r.siteCode, title: r.title };
    events.set(r.eventId, event);
    if (r.traceItemId === null) {
      const key = `${r.materialId}|${r.refSiteId}`;
      (onMaterial.get(key) ?? onMaterial.set(key, new Map()).get(key)!).set(r.eventId, event);
      continue;
    }
    put(r.traceItemId, r.eventId, { ...event, relation: "referenced", via: null });
    const ref = referenced.get(r.traceItemId) ?? referenced.set(r.traceItemId, { identifier: r.refIdentifier ?? "", eventIds: [] }).get(r.traceItemId)!;
    ref.eventIds.push(r.eventId);
  }
  let truncated = false;
  // One forward walk per referenced item, in id order (deterministic), each with the recall's certainty.
  const walked = [...referenced].sort(([a], [b]) => a - b);
  if (walked.length > itemCap) truncated = true;
  for (const [itemId, ref] of walked.slice(0, itemCap)) {
    const reach = await reachWithCertainty(tx, { itemId, sites: params.sites, nodeCap });
    if (!reach) continue;
    truncated ||= reach.truncated;
    for (const [reachedId, certainty] of reach.certainty) {
      if (reachedId === itemId) continue;
      for (const eventId of ref.eventIds)
        put(reachedId, eventId, { ...events.get(eventId)!, relation: certainty, via: { id: itemId, identifier: ref.identifier } });
    }
  }
  const sorted = (marks: Iterable<QualityEventOnItem>) =>
    [...marks].sort((a, b) => RELATION_ORDER[a.relation] - RELATION_ORDER[b.relation] || a.number.localeCompare(b.number));
  return {
    onItem: (itemId) => sorted(onItem.get(itemId)?.values() ?? []),
    onMaterial: (materialId, siteId) => [...(onMaterial.get(`${materialId}|${siteId}`)?.values() ?? [])].sort((a, b) => a.number.localeCompare(b.number)),
    truncated,
  };
}

/** The forward walk from one item with the recall's certainty of every item it reaches. */
async function reachWithCertainty(tx: DbOrTx, params: { itemId: number; sites: VisibleSites; nodeCap: number }) {
  const walked = await walkFrom(tx, { ...params, direction: "forward" });
  if (!walked) return null;
  const { walk, facts } = walked;
  const nonSerials = walk.order.filter((id) => facts.get(id)!.kind !== "serial");
  const sources = new Map((nonSerials.length === 0 ? [] : await distinctSources(tx, nonSerials)).map((r) => [r.id, r.sources] as const));
  const certainty = recallCertainty(walk, (id) => isComminglingPoint(facts.get(id)!.kind, sources.get(id) ?? 0));
  return { certainty, truncated: walk.truncated };
}

/** Distinct sources of each lot and container: all of them, at any site (the recall's commingling points). */
function distinctSources(db: DbOrTx, ids: readonly number[]) {
  return db
    .select({ id: genealogyEdges.outputItemId, sources: sql<number>`count(distinct ${genealogyEdges.inputItemId})::int` })
    .from(genealogyEdges)
    .where(and(anyOf(genealogyEdges.outputItemId, ids), ne(genealogyEdges.inputItemId, genealogyEdges.outputItemId)))
    .groupBy(genealogyEdges.outputItemId);
}
