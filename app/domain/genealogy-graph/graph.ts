/**
 * Genealogy as a graph the analyses walk: one interface (`GenealogyGraph`) with two
 * implementations — over the rows a query returned (`graphOfRows`, ./rows.ts) and over compact
 * arrays holding a whole plant (`CompactGenealogy`, ./compact.ts, ADR 011). Callers (the impact
 * analysis's finding rules) use only this interface: one code path. The walks and tallies over
 * many items are methods, so each implementation runs its own loop — the index over its typed
 * arrays, the row graph simply — and the row graph stays the reference the golden tests compare
 * the index with, byte for byte. Pure: no I/O.
 */
import type { Identifies } from "../tracking-rule";

export const ITEM_KINDS = ["serial", "lot", "container"] as const;
export const ITEM_STATUSES = ["wip", "stock", "consumed", "shipped", "scrapped"] as const;
export const EDGE_KINDS = ["consume", "split", "merge", "repack", "rework", "scrap", "aggregate"] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];
export type EdgeKind = (typeof EDGE_KINDS)[number];
/** Edges that carry material on to a next tier; rework loops on itself, scrap leaves the flow. */
export const FLOW_KINDS: ReadonlySet<EdgeKind> = new Set(["consume", "split", "merge", "repack", "aggregate"]);

/**
 * A forward walk's result (`GenealogyGraph.forwardReach`): breadth-first, input → output along
 * material flow, through every tier.
 */
export interface Reach {
  /** Every item reached, the starting items first: by tier, then by id. */
  ids: ArrayLike<number> & Iterable<number>;
  /** Where each tier ends in `ids`: tier t is `ids[layerEnds[t - 1] ?? 0 … layerEnds[t])`. */
  layerEnds: number[];
  deepest: number;
  /** Finished goods reached, the starting items included (by tier, then id). */
  finished: number[];
  /** Per finished good: 1 when the best path found to it is unit-level (serials and containers only). */
  finishedUnit: Uint8Array;
  /**
   * The `part|site` keys (`topTierKey`) whose top-tier membership the walk consulted: those of
   * every non-container item it reached, in no particular order (`AnalysisReads.topTier`).
   */
  topTierRead: string[];
}

/** A forward recall's result (`GenealogyGraph.recallFinished`): finished items by certainty, each by id. */
export interface Recall {
  /** Items reached, the start included. */
  reached: number;
  certain: number[];
  candidate: number[];
}

export interface GenealogyGraph {
  /** The highest item id the graph may hold (walks size their arrays by it). */
  readonly maxId: number;
  has(id: number): boolean;
  kindOf(id: number): Identifies;
  statusOf(id: number): ItemStatus;
  siteOf(id: number): string;
  partNumberOf(id: number): string;
  identifierOf(id: number): string;
  /** Creation time in epoch milliseconds (NaN when not known). */
  createdAtOf(id: number): number;
  /** Each flow edge out of `id` (not a self-loop), to an item the graph holds. */
  forEachFlowOut(id: number, visit: (output: number) => void): void;
  /** Whether any edge but a rework leaves `id`. */
  hasNonReworkOut(id: number): boolean;
  /** Every edge out of `id` (one call per edge, duplicates and self-loops included). */
  forEachOut(id: number, visit: (output: number, kind: EdgeKind) => void): void;
  /** Every edge into `id`. */
  forEachIn(id: number, visit: (input: number, kind: EdgeKind) => void): void;
  /** The `size` smallest distinct identifiers of `ids` (JavaScript string order), smallest first. */
  smallestIdentifiers(ids: Iterable<number>, size: number): string[];
  /**
   * False only when no cycle of flow edges can pass through `id` (it is neither downstream nor
   * upstream of one); true is a candidate to check.
   */
  mayLieOnCycle(id: number): boolean;

  // --- walks ------------------------------------------------------------------------------------

  /**
   * Breadth-first, forward (input → output) along material flow (consume, split, merge, repack,
   * aggregate), through every tier, from the items of `start` the graph holds. A finished good is
   * a non-container item whose (material, site) is in `topTier` (`topTierPairs`, ADR 010),
   * whatever its status and whatever flowed out of it — a device on a pallet is still one, and
   * the walk goes on through the pallet (containers are transparent). The starting items count
   * too. A visited mark makes cycles end the walk. Precision: a path is unit-level while every hop
   * is a serial or a container; a finer path found later only improves an item not yet expanded's
   * precision (it never revisits, so the walk terminates).
   */
  forwardReach(start: readonly number[], topTier: ReadonlySet<string>): Reach;
  /**
   * A forward recall: every finished item reachable from `start` through flow edges, `certain`
   * when some path reaches it without passing a commingling point (a lot or container with more
   * than one distinct source item), `candidate` otherwise — the definitions of the explorer's
   * recall (app/domain/genealogy-trace.ts). `isTopTier` is asked once per (material, site).
   */
  recallFinished(start: number, isTopTier: (partNumber: string, site: string) => boolean): Recall;
  /**
   * Each consume edge that touches `ids` once: out of one of them, or into one of them from an
   * item not among them (`ids` distinct, held by the graph).
   */
  forEachConsumeTouching(ids: readonly number[], visit: (input: number, output: number) => void): void;
  /** The items the graph holds with an edge into one of `ids`, not among `excluded`: distinct, in the order found. */
  inputsOutside(ids: readonly number[], excluded: ArrayLike<number>): number[];

  // --- tallies over many items -------------------------------------------------------------------

  /** Items of `ids[from … to)` by status, indexed as `ITEM_STATUSES`. */
  countStatuses(ids: ArrayLike<number>, from?: number, to?: number): Uint32Array;
  /** Items of `ids` by site, the sites in string order. */
  countSites(ids: ArrayLike<number>): [string, number][];
  /** How many of `ids` have a material for which `test` holds; `test` is asked once per material, on first use. */
  countWhereMaterial(ids: ArrayLike<number>, test: (partNumber: string) => boolean): number;
  /** The items of `ids` a flow cycle may pass through (`mayLieOnCycle`), in the order given. */
  cycleCandidatesAmong(ids: ArrayLike<number>): number[];
  /** The items of `ids` marked consumed that no edge but a rework leaves, in the order given. */
  consumedGoingNowhere(ids: ArrayLike<number>): number[];
}

/** The `size` smallest distinct values, in order — without sorting them all (reach sets are large). */
export function smallestDistinct(values: Iterable<string>, size: number): string[] {
  const kept: string[] = [];
  for (const v of values) {
    if (kept.length === size && !(v < kept[size - 1]!)) continue;
    let at = kept.length;
    while (at > 0 && v < kept[at - 1]!) at--;
    if (at > 0 && kept[at - 1] === v) continue;
    kept.splice(at, 0, v);
    if (kept.length > size) kept.pop();
  }
  return kept;
}

/** Item ids in increasing order (a typed-array sort: numeric, no comparator calls). */
export function sortedIds(ids: readonly number[]): number[] {
  return Array.from(Float64Array.from(ids).sort());
}
