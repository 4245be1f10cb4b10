/**
 * The genealogy explorer's rules, with no I/O: walking the genealogy tier by tier (visited set,
 * node cap, links to unseen sites withheld), cycles in imported data, a path's trace precision,
 * recall certainty, what counts as a finished item, and the layout of the trace graph.
 *
 * Edges are named by material flow (ADR 002): `input → output`. A forward (recall) walk follows
 * them, a backward (where-from) walk goes against them. Rework edges (an item to itself) are not
 * walked: they add no item to a trace.
 */
import { stronglyConnectedComponents } from "./strongly-connected";
import type { RuleInForce, TrackingMode } from "./tracking-rule";

export const TRACE_DIRECTIONS = ["backward", "forward"] as const;
export type TraceDirection = (typeof TRACE_DIRECTIONS)[number];
export type TraceItemKind = "serial" | "lot" | "container";
/** How finely a path identifies what it links: one unit, one batch, or nothing reliable. */
export type TracePrecision = "unit" | "lot" | "none";
export type RecallCertainty = "certain" | "candidate";

/* ------------------------------------------------------------------------------------------ */
/* The walk                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** One genealogy edge as a walk sees it. */
export interface WalkEdge {
  id: number;
  inputItemId: number;
  outputItemId: number;
  /** Both the edge and the item it leads to are at sites the reader may see. */
  visible: boolean;
}

/**
 * A breadth-first walk from one item, fed one frontier at a time (a query reads all the edges of
 * a frontier at once, so a trace costs one query per tier, never one per item). It ends because
 * every item is reached at most once; a node cap bounds it on any graph, cycles included.
 */
export interface TraceWalk<E extends WalkEdge = WalkEdge> {
  readonly start: number;
  readonly direction: TraceDirection;
  readonly nodeCap: number;
  /** Distance from the start (tier) of every item reached, the start at 0. */
  readonly tierOf: Map<number, number>;
  /** The items reached, in the order reached (breadth first, so by tier). */
  readonly order: number[];
  /** The first edge that reached each item (none for the start): the path the table shows. */
  readonly via: Map<number, E>;
  /** Every visible edge between items reached, rework excluded, in the order read. */
  readonly edges: E[];
  /** Items linked only through sites the reader cannot see: counted, not shown, not walked past. */
  readonly withheld: Set<number>;
  /** The items to expand next; empty when the walk is over. */
  frontier: number[];
  /** The node cap stopped the walk before it reached everything. */
  truncated: boolean;
}

/** The item an edge leads to, walking in `direction`. */
export function nextItemOf(edge: WalkEdge, direction: TraceDirection): number {
  return direction === "forward" ? edge.outputItemId : edge.inputItemId;
}

/** The item an edge is walked from, in `direction`. */
export function fromItemOf(edge: WalkEdge, direction: TraceDirection): number {
  return direction === "forward" ? edge.inputItemId : edge.outputItemId;
}

export function startWalk<E extends WalkEdge = WalkEdge>(start: number, direction: TraceDirection, nodeCap: number): TraceWalk<E> {
  if (!Number.isInteger(nodeCap) || nodeCap < 1) throw new RangeError("the node cap must be a positive integer");
  return {
    start,
    direction,
    nodeCap,
    tierOf: new Map([[start, 0]]),
    order: [start],
    via: new Map(),
    edges: [],
    withheld: new Set(),
    frontier: [start],
    truncated: false,
  };
}

/**
 * Absorbs the edges leaving the current frontier (in the walk's direction) and moves the frontier
 * to the items first reached through them. Edges from items outside the frontier are ignored, so
 * a caller can never make the walk revisit an item.
 */
export function advanceWalk<E extends WalkEdge>(walk: TraceWalk<E>, frontierEdges: readonly E[]): void {
  const position = new Map(walk.frontier.map((id, i) => [id, i]));
  const edges = frontierEdges
    .filter((e) => e.inputItemId !== e.outputItemId && position.has(fromItemOf(e, walk.direction)))
    // Deterministic: by the order of the item walked from, then by edge id.
    .sort((a, b) => position.get(fromItemOf(a, walk.direction))! - position.get(fromItemOf(b, walk.direction))! || a.id - b.id);
  const seen = new Set<number>();
  const next: number[] = [];
  for (const edge of edges) {
    if (seen.has(edge.id)) continue;
    seen.add(edge.id);
    const to = nextItemOf(edge, walk.direction);
    if (!edge.visible) {
      if (!walk.tierOf.has(to)) walk.withheld.add(to);
      continue;
    }
    const tier = walk.tierOf.get(to);
    if (tier !== undefined) {
      walk.edges.push(edge);
      continue;
    }
    if (walk.order.length >= walk.nodeCap) {
      walk.truncated = true;
      continue;
    }
    walk.tierOf.set(to, walk.tierOf.get(fromItemOf(edge, walk.direction))! + 1);
    walk.order.push(to);
    walk.via.set(to, edge);
    walk.edges.push(edge);
    walk.withheld.delete(to);
    next.push(to);
  }
  // A truncated walk stops here: the items it admitted last are shown but not expanded.
  walk.frontier = walk.truncated ? [] : next;
}

/* ------------------------------------------------------------------------------------------ */
/* Cycles                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** A cycle found in a walk: items that reach one another, and one closed path through them. */
export interface TraceCycle {
  /** Every item of the knot (a strongly connected component), by tier then id. */
  items: number[];
  /** One closed path in the direction of material flow, first item repeated at the end: A → B → A. */
  path: number[];
}

/**
 * Genealogy should be acyclic apart from rework, but imported data may loop (A into B, B into A).
 * The walk already ends; this names each loop so the page can report it as a finding.
 * Tarjan's algorithm (`stronglyConnectedComponents`), iterative so a long chain cannot overflow the stack.
 */
export function findCycles(walk: Pick<TraceWalk, "order" | "tierOf" | "edges" | "direction">): TraceCycle[] {
  const adjacency = new Map<number, number[]>();
  for (const e of walk.edges) {
    const from = fromItemOf(e, walk.direction);
    const to = nextItemOf(e, walk.direction);
    if (from === to) continue;
    (adjacency.get(from) ?? adjacency.set(from, []).get(from)!).push(to);
  }
  const componentOf = stronglyConnectedComponents(walk.order, (node) => adjacency.get(node) ?? []);
  const members = new Map<number, number[]>();
  for (const [node, c] of componentOf) (members.get(c) ?? members.set(c, []).get(c)!).push(node);
  const components = [...members.values()].filter((component) => component.length > 1);
  const byTier = (a: number, b: number) => (walk.tierOf.get(a) ?? 0) - (walk.tierOf.get(b) ?? 0) || a - b;
  return components
    .map((component) => {
      const items = [...component].sort(byTier);
      const path = closedPath(items, adjacency);
      // Shown in the direction material flows, whichever way the walk went.
      return { items, path: walk.direction === "forward" ? path : path.reverse() };
    })
    .sort((a, b) => byTier(a.items[0]!, b.items[0]!));
}

/** The shortest closed path from the first item back to itself, staying inside the knot. */
function closedPath(items: readonly number[], adjacency: Map<number, number[]>): number[] {
  const inside = new Set(items);
  const first = items[0]!;
  const cameFrom = new Map<number, number>();
  const queue = [first];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const to of adjacency.get(node) ?? []) {
      if (!inside.has(to)) continue;
      if (to === first) {
        const path = [first];
        for (let at = node; at !== first; at = cameFrom.get(at)!) path.push(at);
        return [first, ...path.slice(1).reverse(), first];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [...items, first]; // unreachable for a strongly connected component
}

/* ------------------------------------------------------------------------------------------ */
/* Rules in force, precision                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** How a node shows the rule in force at its site when its event happened. */
export interface RuleLabel {
  state: RuleInForce["state"];
  /** The material's tracking mode then; null when legacy or unruled. */
  trackingMode: TrackingMode | null;
  /** The site's rule-set version in force then; null before its first version (legacy). */
  version: number | null;
}

export function ruleLabel(rule: RuleInForce): RuleLabel {
  if (rule.state === "legacy") return { state: "legacy", trackingMode: null, version: null };
  if (rule.state === "unruled") return { state: "unruled", trackingMode: null, version: rule.version.version };
  return { state: "ruled", trackingMode: rule.rule.trackingMode, version: rule.version.version };
}

/** "legacy", "v2", "v1 (no rule for the material)": the version column's words. */
export function ruleVersionText(label: RuleLabel): string {
  if (label.state === "legacy") return "legacy";
  return label.state === "unruled" ? `v${label.version} · unruled` : `v${label.version}`;
}

/**
 * How much an item lets a path identify: a serial one unit (2), a lot one batch (1), an item of
 * a material untracked at the time nothing (0). A container is transparent (3): it only holds
 * what went into it. Legacy and unruled items are judged by what they physically are.
 */
export function precisionLevel(kind: TraceItemKind, trackingMode: TrackingMode | null): number {
  if (trackingMode === "none") return 0;
  if (kind === "container") return 3;
  return kind === "serial" ? 2 : 1;
}

const PRECISIONS: TracePrecision[] = ["none", "lot", "unit"];

/**
 * Each reached item's trace precision: the best, over the paths from the start to it, of the
 * coarsest item on the path (start and item included). `unit` while every item on the path is a
 * serial (containers transparent), `lot` once a lot is on it, `none` once it crosses a material
 * untracked at the time. Three reachability passes, one per level, so cycles are harmless.
 */
export function tracePrecision(
  walk: Pick<TraceWalk, "start" | "order" | "edges" | "direction">,
  levelOf: (itemId: number) => number,
): Map<number, TracePrecision> {
  const adjacency = adjacencyOf(walk.edges, walk.direction);
  const result = new Map<number, TracePrecision>();
  for (let level = 2; level >= 0; level--) {
    if (levelOf(walk.start) < level) continue;
    const reached = new Set([walk.start]);
    const queue = [walk.start];
    for (let i = 0; i < queue.length; i++) {
      for (const to of adjacency.get(queue[i]!) ?? []) {
        if (reached.has(to) || levelOf(to) < level) continue;
        reached.add(to);
        queue.push(to);
      }
    }
    for (const id of reached) if (!result.has(id)) result.set(id, PRECISIONS[level]!);
  }
  for (const id of walk.order) if (!result.has(id)) result.set(id, "none");
  return result;
}

function adjacencyOf(edges: readonly WalkEdge[], direction: TraceDirection): Map<number, number[]> {
  const adjacency = new Map<number, number[]>();
  for (const e of edges) {
    const from = fromItemOf(e, direction);
    (adjacency.get(from) ?? adjacency.set(from, []).get(from)!).push(nextItemOf(e, direction));
  }
  return adjacency;
}

/* ------------------------------------------------------------------------------------------ */
/* Recall                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/**
 * A commingling point: an item that is not a serial (a lot or a container) with inputs from more
 * than one distinct source item — after a merge, or a lot built from several serials or lots.
 * Which of its units holds which input is unknown, so what lies beyond it only may contain a
 * given input. A serial is one unit: everything consumed into it is in it.
 * (`distinctInputs` counts every input in the database, also at sites the reader cannot see.)
 */
export function isComminglingPoint(kind: TraceItemKind, distinctInputs: number): boolean {
  return kind !== "serial" && distinctInputs > 1;
}

/**
 * A finished item: its material is a top tier of the bills of materials — the parent of some
 * BOM line and a component (or alternate) of none, e.g. a device, or a part sold only as a spare
 * — and it is not a container (a pallet of devices holds finished items, it is not one). The BOM
 * decides rather than "nothing went out of it", because an item in stock has no outgoing edge
 * either, and a device on a pallet has one.
 */
export function isFinishedItem(kind: TraceItemKind, materialIsTopTier: boolean): boolean {
  return kind !== "container" && materialIsTopTier;
}

/** The key of a material at a site in a top-tier set: `partNumber|site`. */
export const topTierKey = (partNumber: string, site: string) => `${partNumber}|${site}`;

/**
 * The (material, site) pairs that are a top tier of the site's BOMs: the parent of some BOM line
 * at the site, and neither a component nor an alternate of any line there (ADR 010, "What a
 * finished good is"). The one definition the impact analysis's REACH and PRECISION_LOSS and the
 * explorer's recall count finished goods by; keyed by `topTierKey`.
 */
export function topTierPairs(bomLines: Iterable<{ site: string; parent: string; component: string; alternates: readonly string[] }>): Set<string> {
  const parents = new Set<string>();
  const below = new Set<string>();
  for (const line of bomLines) {
    parents.add(topTierKey(line.parent, line.site));
    below.add(topTierKey(line.component, line.site));
    for (const alternate of line.alternates) below.add(topTierKey(alternate, line.site));
  }
  for (const key of below) parents.delete(key);
  return parents;
}

/**
 * Recall certainty of every item a forward walk reached: `certain` when some path from the start
 * to it passes no commingling point between them (the start and the item themselves may be
 * one), `candidate` otherwise — it may contain the start, nobody can say which unit does.
 */
export function recallCertainty(
  walk: Pick<TraceWalk, "start" | "order" | "edges" | "direction">,
  isCommingling: (itemId: number) => boolean,
): Map<number, RecallCertainty> {
  if (walk.direction !== "forward") throw new Error("recall certainty follows a forward walk");
  const adjacency = adjacencyOf(walk.edges, "forward");
  const certain = new Set([walk.start]);
  const queue = [walk.start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    if (node !== walk.start && isCommingling(node)) continue; // reached cleanly, but nothing passes it cleanly
    for (const to of adjacency.get(node) ?? []) {
      if (certain.has(to)) continue;
      certain.add(to);
      queue.push(to);
    }
  }
  return new Map(walk.order.map((id) => [id, certain.has(id) ? "certain" : "candidate"]));
}

/** Finished items per site, certain and candidate, sites in code order. */
export function recallCountsBySite(rows: readonly { siteCode: string; certainty: RecallCertainty }[]) {
  const counts = new Map<string, { siteCode: string; certain: number; candidate: number; total: number }>();
  for (const row of rows) {
    const c = counts.get(row.siteCode) ?? counts.set(row.siteCode, { siteCode: row.siteCode, certain: 0, candidate: 0, total: 0 }).get(row.siteCode)!;
    c[row.certainty]++;
    c.total++;
  }
  return [...counts.values()].sort((a, b) => a.siteCode.localeCompare(b.siteCode));
}

/* ------------------------------------------------------------------------------------------ */
/* Graph layout                                                                                */
/* ------------------------------------------------------------------------------------------ */

export interface GraphLayoutOptions {
  maxNodes: number;
  columnWidth: number;
  nodeWidth: number;
  nodeHeight: number;
  rowGap: number;
  margin: number;
}

export const DEFAULT_GRAPH_LAYOUT: GraphLayoutOptions = {
  maxNodes: 60,
  columnWidth: 200,
  nodeWidth: 160,
  nodeHeight: 38,
  rowGap: 10,
  margin: 12,
};

export interface PlacedNode {
  id: number;
  tier: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  inputItemId: number;
  outputItemId: number;
  /**
   * `forward`: from the right side of the input to the left side of the output, a column on.
   * `same-tier`: both in one column, right side to right side. `back`: the output sits in an
   * earlier column (a shorter path reached it), from the input's left side to the output's right.
   */
  shape: "forward" | "same-tier" | "back";
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Both ends lie on one loop of the genealogy (see findCycles). */
  inCycle: boolean;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** Items of the walk left out of the drawing (the table lists them all). */
  omitted: number;
}

/**
 * A layered drawing of a walk: one column per tier, material flowing left to right — so a
 * backward trace puts the start on the right and its deepest inputs on the left. Only the first
 * `maxNodes` items in walk order (nearest tiers first) are drawn; within a column, items keep the
 * walk's order, which follows the order of the items they were reached from.
 */
export function layoutTraceGraph(
  walk: Pick<TraceWalk, "order" | "tierOf" | "edges" | "direction">,
  options: Partial<GraphLayoutOptions> & { cycles?: readonly TraceCycle[] } = {},
): GraphLayout {
  const o = { ...DEFAULT_GRAPH_LAYOUT, ...options };
  const shown = walk.order.slice(0, o.maxNodes);
  const maxTier = shown.reduce((deepest, id) => Math.max(deepest, walk.tierOf.get(id) ?? 0), 0);
  const rowsInColumn = new Map<number, number>();
  const placed = new Map<number, PlacedNode & { column: number }>();
  for (const id of shown) {
    const tier = walk.tierOf.get(id) ?? 0;
    const column = walk.direction === "forward" ? tier : maxTier - tier;
    const row = rowsInColumn.get(column) ?? 0;
    rowsInColumn.set(column, row + 1);
    placed.set(id, { id, tier, column, x: o.margin + column * o.columnWidth, y: o.margin + row * (o.nodeHeight + o.rowGap) });
  }
  const cycleOf = new Map<number, number>();
  (options.cycles ?? []).forEach((cycle, i) => cycle.items.forEach((id) => cycleOf.set(id, i)));
  const tallest = Math.max(1, ...rowsInColumn.values());
  const mid = o.nodeHeight / 2;
  const edges: PlacedEdge[] = [];
  const drawn = new Set<string>();
  for (const e of walk.edges) {
    const input = placed.get(e.inputItemId);
    const output = placed.get(e.outputItemId);
    const key = `${e.inputItemId}>${e.outputItemId}`;
    if (!input || !output || drawn.has(key)) continue;
    drawn.add(key);
    const shape = output.column > input.column ? "forward" : output.column === input.column ? "same-tier" : "back";
    edges.push({
      inputItemId: input.id,
      outputItemId: output.id,
      shape,
      x1: shape === "back" ? input.x : input.x + o.nodeWidth,
      y1: input.y + mid,
      x2: shape === "forward" ? output.x : output.x + o.nodeWidth,
      y2: output.y + mid,
      inCycle: cycleOf.has(input.id) && cycleOf.get(input.id) === cycleOf.get(output.id),
    });
  }
  return {
    // Room on the right for the bends of same-tier edges in the last column.
    width: o.margin * 2 + maxTier * o.columnWidth + o.nodeWidth + SAME_TIER_BEND,
    height: o.margin * 2 + tallest * (o.nodeHeight + o.rowGap) - o.rowGap,
    nodeWidth: o.nodeWidth,
    nodeHeight: o.nodeHeight,
    nodes: [...placed.values()].map(({ column: _column, ...node }) => node),
    edges,
    omitted: walk.order.length - shown.length,
  };
}

/** How far a same-tier edge bends out to the right of its column. */
export const SAME_TIER_BEND = 28;
