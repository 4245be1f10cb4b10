/**
 * Findings on the material's own trace and what it reaches: items by status (ITEMS_BY_STATUS),
 * the history a change of mode leaves (MIXED_HISTORY, UNTRACKED_HISTORY, PRECISION_LOSS),
 * candidate links of lots into serials (CANDIDATE_LINKS) and the finished goods reached (REACH).
 */
import { ITEM_STATUSES } from "../genealogy-graph";
import { granularity, type Identifies, type TrackingMode } from "../tracking-rule";
import {
  byText,
  finishedByStatus,
  isRegulated,
  isRegulatedFlag,
  reachOf,
  sample,
  sampleOfItems,
  smallestFinished,
  sumQuantities,
  type Context,
} from "./context";
import { SAMPLE_SIZE, type Finding, type ItemFacts, type MaterialFacts, type TrackingChangeInput } from "./report";

export function itemsByStatus(ctx: Context, own: ItemFacts[]): Finding {
  const counts: Record<string, number> = { wip: 0, stock: 0, consumed: 0, shipped: 0, scrapped: 0 };
  const byKind: Record<string, number> = {};
  // Indexed loops over large collections here and below: a function run once per analysis is not
  // optimized yet, and an unoptimized for…of allocates an iterator result per element.
  for (let k = 0; k < own.length; k++) {
    const i = own[k]!;
    counts[i.status]!++;
    byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  }
  const active = own.filter((i) => i.status === "wip" || i.status === "stock");
  return {
    code: "ITEMS_BY_STATUS",
    severity: "info",
    message: `${own.length} trace item(s): ${Object.entries(counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(", ")}`,
    count: own.length,
    counts: { ...counts, ...Object.fromEntries(Object.entries(byKind).map(([k, n]) => [`kind:${k}`, n])) },
    sample: sampleOfItems(ctx, active.length ? active : own),
  };
}
export function traceabilityEffect(
  ctx: Context,
  change: TrackingChangeInput,
  own: ItemFacts[],
  fromMode: TrackingMode | null,
  material: MaterialFacts | undefined,
): Finding[] {
  const toMode = change.after.trackingMode;
  const findings: Finding[] = [];
  if (fromMode === "lot" && toMode === "serial") {
    const lots = own.filter((i) => i.kind === "lot");
    const active = lots.filter((i) => i.status === "wip" || i.status === "stock");
    findings.push({
      code: "MIXED_HISTORY",
      severity: lots.length > 0 ? "warning" : "info",
      message: `${lots.length} lot(s) stay lot-level history; ${active.length} still in WIP or stock (${sumQuantities(active.map((i) => i.quantity))} units) must be re-identified with serials or grandfathered`,
      count: lots.length,
      counts: {
        lots: lots.length,
        toReidentifyOrGrandfather: active.length,
        unitsInOpenLots: sumQuantities(active.map((i) => i.quantity)),
        historical: lots.length - active.length,
      },
      sample: sampleOfItems(ctx, active),
    });
  } else if ((fromMode === "none" || fromMode === null) && toMode !== "none") {
    findings.push({
      code: "UNTRACKED_HISTORY",
      severity: "warning",
      message: `Before the change the material was ${fromMode === null ? change.before.state : "untracked"}: ${own.length === 0 ? "no record identifies it" : `${own.length} record(s) exist anyway`}; material already in stock or built in carries no identity`,
      count: own.length,
      sample: sampleOfItems(ctx, own),
    });
  }
  if (fromMode && granularity(toMode) < granularity(fromMode)) {
    // Which finished units trace to this material at the level that will be lost?
    const level: Identifies = fromMode === "serial" ? "serial" : "lot";
    const sources = own.filter((i) => i.kind === level);
    const finished = reachOf(
      ctx,
      sources.map((i) => i.id),
    ).finished;
    const g = ctx.graph;
    // Decided on first use per material: only the finished goods' own master data is read (AnalysisReads).
    const regulatedCount = g.countWhereMaterial(finished, (partNumber) => isRegulated(ctx, partNumber));
    const materialRegulated = material ? material.regulatoryFlags.some(isRegulatedFlag) : false;
    const byStatus = finishedByStatus(g, finished);
    findings.push({
      code: "PRECISION_LOSS",
      severity: regulatedCount > 0 || materialRegulated ? "critical" : "warning",
      message: `${finished.length} finished unit(s)${byStatus.length ? ` (${byStatus.map(([status, n]) => `${n} ${status}`).join(", ")})` : ""} trace to ${sources.length} ${level}(s) of it today; future units lose ${fromMode === "serial" ? "unit-level" : "lot-level"} trace (${toMode === "none" ? "no" : "lot-level"} trace left); ${regulatedCount} of them are regulated (UDI, critical to safety)${materialRegulated ? "; the material itself is regulated" : ""}`,
      count: finished.length,
      counts: {
        finishedUnits: finished.length,
        ...Object.fromEntries(byStatus.map(([status, n]) => [`status:${status}`, n])),
        regulated: regulatedCount,
        sources: sources.length,
        precisionAfter: toMode === "none" ? "none" : "lot",
      },
      sample: smallestFinished(ctx, finished),
    });
  }
  return findings;
}

/** Serialized parents that consumed lots of the material: the candidate lots with quantities, precision "lot". */
export function candidateLinks(ctx: Context, own: ItemFacts[]): Finding | null {
  const parents = new Map<number, { lot: string; quantity: string; unit: string }[]>();
  for (const lot of own.filter((i) => i.kind === "lot")) {
    for (const e of ctx.outgoing.get(lot.id) ?? []) {
      if (e.kind !== "consume" || !ctx.graph.has(e.output) || ctx.graph.kindOf(e.output) !== "serial") continue;
      (parents.get(e.output) ?? parents.set(e.output, []).get(e.output)!).push({ lot: lot.identifier, quantity: e.quantity, unit: e.unit });
    }
  }
  if (parents.size === 0) return null;
  const sets = [...parents]
    .map(([id, candidates]) => ({
      parent: ctx.graph.identifierOf(id),
      parentMaterial: ctx.graph.partNumberOf(id),
      precision: "lot",
      candidates: candidates.sort((a, b) => byText(a.lot, b.lot)),
    }))
    .sort((a, b) => byText(a.parent, b.parent));
  const ambiguous = sets.filter((s) => s.candidates.length > 1).length;
  return {
    code: "CANDIDATE_LINKS",
    severity: "info",
    message: `${parents.size} serialized parent(s) consumed lots of it: each links to its candidate lot(s) with quantities (trace precision: lot); ${ambiguous} of them have more than one candidate lot`,
    count: parents.size,
    counts: { parents: parents.size, withSeveralCandidates: ambiguous, precisionUnit: 0, precisionLot: parents.size },
    sample: sample(sets.map((s) => s.parent)),
    detail: { candidateSets: sets.slice(0, SAMPLE_SIZE) },
  };
}
export function reach(ctx: Context, own: ItemFacts[]): Finding {
  const { ids, layerEnds, deepest, finished, finishedUnit } = reachOf(
    ctx,
    own.map((i) => i.id),
  );
  const g = ctx.graph;
  const bySite: Record<string, number> = {};
  // Affected items by tier and status (for the chart).
  const byTier: Record<string, Record<string, number>> = {};
  for (const [site, n] of g.countSites(finished)) bySite[site] = n;
  for (let t = 0, from = 0; t < layerEnds.length; from = layerEnds[t++]!) {
    const counts = g.countStatuses(ids, from, layerEnds[t]!);
    const row: Record<string, number> = (byTier[String(t)] = {});
    for (let s = 0; s < counts.length; s++) if (counts[s]) row[ITEM_STATUSES[s]!] = counts[s]!;
  }
  let unitCount = 0;
  for (let k = 0; k < finishedUnit.length; k++) unitCount += finishedUnit[k]!;
  const byStatus = finishedByStatus(g, finished);
  return {
    code: "REACH",
    severity: "info",
    message: `${finished.length} distinct finished good(s) contain an affected item (${
      Object.entries(bySite)
        .sort(([a], [b]) => byText(a, b))
        .map(([s, n]) => `${n} at ${s}`)
        .join(", ") || "none"
    }${byStatus.length ? `; ${byStatus.map(([status, n]) => `${n} ${status}`).join(", ")}` : ""}), up to ${deepest} tier(s) away; ${unitCount} with unit-level trace, ${finished.length - unitCount} lot-level`,
    count: finished.length,
    counts: {
      ...Object.fromEntries(Object.entries(bySite).map(([s, n]) => [`site:${s}`, n])),
      ...Object.fromEntries(byStatus.map(([status, n]) => [`status:${status}`, n])),
      precisionUnit: unitCount,
      precisionLot: finished.length - unitCount,
      itemsReached: ids.length,
      tiers: deepest,
    },
    sample: smallestFinished(ctx, finished),
    detail: { byTier },
  };
}
