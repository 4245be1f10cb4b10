/**
 * Read models of quality events (ADR 034): the list (filtered, scoped to the reader's sites) and one
 * event with its references — each with its trace item and the rule in force at raise — and its reach:
 * the finished goods that may contain a referenced item, `certain` or `candidate`, exactly as the
 * genealogy explorer's recall says (recallFrom in genealogy.server.ts; no second walk). Every function
 * takes the database first and names its columns.
 */
import { and, asc, count, desc, eq, type SQL, sql } from "drizzle-orm";
import { materials, qualityEventReferences, qualityEvents, sites, traceItems } from "../../db/schema";
import type {
  QualityDisposition,
  QualityEventKind,
  QualityEventSeverity,
  QualityEventStatus,
  QualityReferenceKind,
  RuleAtRaise,
} from "../domain/quality-event";
import { ruleAtRaiseOf } from "../domain/quality-event-rules";
import type { DbOrTx } from "../utils/db.server";
import { type RecallCertainty, type RecallRow, recallFrom } from "./genealogy.server";
import { type VisibleSites, withinSites } from "./sites.server";

export const QUALITY_EVENT_PAGE_SIZE = 50;
/** Finished goods of an event's reach listed on its page; the counts cover them all. */
export const REACH_PAGE_SIZE = 50;

export interface QualityEventListFilters {
  site?: string;
  status?: QualityEventStatus;
  kind?: QualityEventKind;
  page?: number;
}

export async function listQualityEvents(db: DbOrTx, params: QualityEventListFilters & { sites: VisibleSites }) {
  const where: (SQL | undefined)[] = [withinSites(qualityEvents.siteId, params.sites)];
  if (params.site) where.push(eq(sites.code, params.site));
  if (params.status) where.push(eq(qualityEvents.status, params.status));
  if (params.kind) where.push(eq(qualityEvents.kind, params.kind));
  const condition = and(...where);
  const page = params.page ?? 1;
  const [rows, [total]] = await Promise.all([
    db
      .select({
        number: qualityEvents.number,
        kind: qualityEvents.kind,
        status: qualityEvents.status,
        severity: qualityEvents.severity,
        disposition: qualityEvents.disposition,
        title: qualityEvents.title,
        siteCode: sites.code,
        raisedAt: qualityEvents.raisedAt,
        raisedBy: qualityEvents.raisedBy,
        externalId: qualityEvents.externalId,
        references: sql<number>`(select count(*) from ${qualityEventReferences} where ${qualityEventReferences.qualityEventId} = ${qualityEvents.id})`.mapWith(
          Number,
        ),
      })
      .from(qualityEvents)
      .innerJoin(sites, eq(sites.id, qualityEvents.siteId))
      .where(condition)
      // Newest first; the number breaks ties (a QMS import raises many at one past instant).
      .orderBy(desc(qualityEvents.raisedAt), desc(qualityEvents.id))
      .limit(QUALITY_EVENT_PAGE_SIZE)
      .offset((page - 1) * QUALITY_EVENT_PAGE_SIZE),
    db.select({ n: count() }).from(qualityEvents).innerJoin(sites, eq(sites.id, qualityEvents.siteId)).where(condition),
  ]);
  return { rows, total: total?.n ?? 0, page, pageSize: QUALITY_EVENT_PAGE_SIZE };
}

export interface QualityEventReferenceView {
  kind: QualityReferenceKind;
  traceItemId: number | null;
  identifier: string | null;
  itemKind: string | null;
  itemStatus: string | null;
  partNumber: string;
  siteCode: string;
  rule: RuleAtRaise;
}

export interface ReachRow {
  id: number;
  identifier: string;
  partNumber: string;
  siteCode: string;
  status: string;
  certainty: RecallCertainty;
  /** The references (their identifiers) whose recall reaches it. */
  via: string[];
}

export interface QualityEventReach {
  certain: number;
  candidate: number;
  total: number;
  /** The first REACH_PAGE_SIZE rows: certain first, then by site, material and identifier (the recall's order). */
  rows: ReachRow[];
  /** A walk stopped at the recall's node cap: the figures are a lower bound. */
  truncated: boolean;
  /** Items behind links at sites the reader cannot see (the recall's count, summed). */
  withheld: number;
  /** References that name a material, not an item: they reach no finished good through the genealogy. */
  materialReferences: number;
}

/**
 * The finished goods an event's referenced items may be in: the recall of each item, merged — a finished
 * good is `certain` when any reference's recall says so, else `candidate`.
 */
export async function reachOf(
  db: DbOrTx,
  params: { itemIds: readonly number[]; sites: VisibleSites; materialReferences?: number },
): Promise<QualityEventReach> {
  const merged = new Map<number, ReachRow>();
  let truncated = false;
  let withheld = 0;
  for (const itemId of new Set(params.itemIds)) {
    const recall = await recallFrom(db, { itemId, sites: params.sites });
    if (!recall) continue;
    truncated ||= recall.truncated;
    withheld += recall.withheld;
    for (const row of recall.rows) mergeReach(merged, row, recall.start.identifier);
  }
  const all = [...merged.values()].sort(
    (a, b) =>
      (a.certainty === b.certainty ? 0 : a.certainty === "certain" ? -1 : 1) ||
      a.siteCode.localeCompare(b.siteCode) ||
      a.partNumber.localeCompare(b.partNumber) ||
      a.identifier.localeCompare(b.identifier),
  );
  const certain = all.filter((r) => r.certainty === "certain").length;
  return {
    certain,
    candidate: all.length - certain,
    total: all.length,
    rows: all.slice(0, REACH_PAGE_SIZE),
    truncated,
    withheld,
    materialReferences: params.materialReferences ?? 0,
  };
}

function mergeReach(merged: Map<number, ReachRow>, row: RecallRow, from: string): void {
  const known = merged.get(row.id);
  if (!known) {
    merged.set(row.id, {
      id: row.id,
      identifier: row.identifier,
      partNumber: row.partNumber,
      siteCode: row.siteCode,
      status: row.status,
      certainty: row.certainty,
      via: [from],
    });
    return;
  }
  if (row.certainty === "certain") known.certainty = "certain";
  if (!known.via.includes(from)) known.via.push(from);
}

/** One event with its references and its reach, or null when there is none the reader may see. */
export async function qualityEventDetail(db: DbOrTx, params: { number: string; sites: VisibleSites }) {
  const [event] = await db
    .select({
      id: qualityEvents.id,
      number: qualityEvents.number,
      kind: qualityEvents.kind,
      status: qualityEvents.status,
      severity: qualityEvents.severity,
      disposition: qualityEvents.disposition,
      title: qualityEvents.title,
      description: qualityEvents.description,
      externalId: qualityEvents.externalId,
      siteId: qualityEvents.siteId,
      siteCode: sites.code,
      raisedAt: qualityEvents.raisedAt,
      raisedBy: qualityEvents.raisedBy,
      closedAt: qualityEvents.closedAt,
      rowVersion: qualityEvents.rowVersion,
    })
    .from(qualityEvents)
    .innerJoin(sites, eq(sites.id, qualityEvents.siteId))
    .where(and(eq(qualityEvents.number, params.number), withinSites(qualityEvents.siteId, params.sites)));
  if (!event) return null;
  const refRows = await db
    .select({
      kind: qualityEventReferences.kind,
      traceItemId: qualityEventReferences.traceItemId,
      identifier: traceItems.identifier,
      itemKind: traceItems.kind,
      itemStatus: traceItems.status,
      partNumber: materials.partNumber,
      siteCode: sites.code,
      ruleState: qualityEventReferences.ruleState,
      ruleSetVersion: qualityEventReferences.ruleSetVersion,
      trackingModeAtRaise: qualityEventReferences.trackingModeAtRaise,
    })
    .from(qualityEventReferences)
    .innerJoin(materials, eq(materials.id, qualityEventReferences.materialId))
    .innerJoin(sites, eq(sites.id, qualityEventReferences.siteId))
    .leftJoin(traceItems, eq(traceItems.id, qualityEventReferences.traceItemId))
    .where(eq(qualityEventReferences.qualityEventId, event.id))
    .orderBy(asc(qualityEventReferences.id));
  const references: QualityEventReferenceView[] = refRows.map(({ ruleState, ruleSetVersion, trackingModeAtRaise, ...r }) => ({
    ...r,
    rule: ruleAtRaiseOf({ ruleState, ruleSetVersion, trackingModeAtRaise }),
  }));
  const reach = await reachOf(db, {
    itemIds: references.flatMap((r) => (r.traceItemId === null ? [] : [r.traceItemId])),
    sites: params.sites,
    materialReferences: references.filter((r) => r.kind === "material").length,
  });
  return {
    event: event as typeof event & { kind: QualityEventKind; status: QualityEventStatus; severity: QualityEventSeverity; disposition: QualityDisposition },
    references,
    reach,
  };
}
