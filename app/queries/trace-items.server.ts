/**
 * Trace items: their statuses, the site an item belongs to (for the record-level check before
 * reading it) and an item's direct genealogy as its page shows it, within the reader's sites.
 */
import { and, asc, count, eq, not } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { epcisImports, genealogyEdges, materials, sites, traceItems, traceItemStatus, workOrders } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";
import { withinSites, type VisibleSites } from "./sites.server";

export type TraceItemStatus = (typeof traceItemStatus.enumValues)[number];
export const TRACE_ITEM_STATUSES = traceItemStatus.enumValues;

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
      /** For an imported item, its first event's time (ADR 014); otherwise when it was made. */
      createdAt: traceItems.createdAt,
      provenanceKind: traceItems.provenanceKind,
      /** When the file its provenance names was imported (null for seed and API items). */
      importedAt: epcisImports.importedAt,
      provenanceFileDigest: traceItems.provenanceFileDigest,
      provenanceEventId: traceItems.provenanceEventId,
    })
    .from(traceItems)
    .innerJoin(materials, eq(materials.id, traceItems.materialId))
    .innerJoin(sites, eq(sites.id, traceItems.siteId))
    .leftJoin(epcisImports, eq(epcisImports.fileDigest, traceItems.provenanceFileDigest))
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
  const visibleLink = params.sites === null ? undefined : and(withinSites(other.siteId, params.sites), withinSites(genealogyEdges.siteId, params.sites));
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
    const [row] = await db.select({ n: count() }).from(genealogyEdges).innerJoin(other, linked(direction)).where(not(visibleLink));
    return row?.n ?? 0;
  };
  const [inputs, outputs, inputsWithheld, outputsWithheld] = await Promise.all([edges("inputs"), edges("outputs"), withheld("inputs"), withheld("outputs")]);
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
