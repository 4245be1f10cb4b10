/**
 * Open quality events on a material (ADR 037): the events whose references name one of its trace
 * items or the material itself, per site, at the reader's sites only (the event's site and the
 * reference's site both visible). Read-only; the markers of the genealogy explorer, which also
 * follow references through the genealogy, are in genealogy.server.ts (qualityEventReach).
 */
import { and, asc, eq, ne, sql, type Column, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { materials, qualityEventReferences, qualityEvents, sites, traceItems } from "../../db/schema";
import type { QualityEventKind, QualityEventSeverity, QualityEventStatus } from "../domain/quality-event";
import type { DbOrTx } from "../utils/db.server";
import type { VisibleSites } from "./sites.server";

export interface MaterialQualityEvent {
  number: string;
  kind: QualityEventKind;
  severity: QualityEventSeverity;
  status: QualityEventStatus;
  title: string;
  /** The site of the references (the material's items there, or the material there). */
  siteCode: string;
  /** The material's items it references there, by identifier; `material` when it names the material itself. */
  items: { id: number; identifier: string; kind: string }[];
  material: boolean;
}

function withinSites(column: Column, visible: VisibleSites): SQL | undefined {
  return visible === null ? undefined : sql`${column} = any(${`{${visible.map((id) => Math.trunc(id)).join(",")}}`}::int[])`;
}

export async function materialQualityEvents(
  db: DbOrTx,
  params: { partNumber: string; sites: VisibleSites },
): Promise<{ events: MaterialQualityEvent[]; byItem: Record<number, MaterialQualityEvent[]> }> {
  const refSite = alias(sites, "ref_site");
  const rows = await db
    .select({
      number: qualityEvents.number,
      kind: qualityEvents.kind,
      severity: qualityEvents.severity,
      status: qualityEvents.status,
      title: qualityEvents.title,
      siteCode: refSite.code,
      itemId: traceItems.id,
      identifier: traceItems.identifier,
      itemKind: traceItems.kind,
    })
    .from(qualityEventReferences)
    .innerJoin(qualityEvents, eq(qualityEvents.id, qualityEventReferences.qualityEventId))
    .innerJoin(materials, eq(materials.id, qualityEventReferences.materialId))
    .innerJoin(refSite, eq(refSite.id, qualityEventReferences.siteId))
    .leftJoin(traceItems, eq(traceItems.id, qualityEventReferences.traceItemId))
    .where(
      and(
        eq(materials.partNumber, params.partNumber),
        // Open = not closed (app/domain/quality-event.ts isOpenQualityEvent).
        ne(qualityEvents.status, "closed"),
        withinSites(qualityEvents.siteId, params.sites),
        withinSites(qualityEventReferences.siteId, params.sites),
      ),
    )
    .orderBy(asc(refSite.code), asc(qualityEvents.number), asc(traceItems.identifier));
  const events = new Map<string, MaterialQualityEvent>();
  const byItem: Record<number, MaterialQualityEvent[]> = {};
  for (const r of rows) {
    const key = `${r.siteCode}|${r.number}`;
    const event =
      events.get(key) ??
      events
        .set(key, { number: r.number, kind: r.kind, severity: r.severity, status: r.status, title: r.title, siteCode: r.siteCode, items: [], material: false })
        .get(key)!;
    if (r.itemId === null) event.material = true;
    else {
      event.items.push({ id: r.itemId, identifier: r.identifier!, kind: r.itemKind! });
      (byItem[r.itemId] ??= []).push(event);
    }
  }
  return { events: [...events.values()], byItem };
}
