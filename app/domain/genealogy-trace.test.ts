import { describe, expect, it } from "vitest";
import {
  advanceWalk,
  findCycles,
  isComminglingPoint,
  isFinishedItem,
  layoutTraceGraph,
  precisionLevel,
  recallCertainty,
  recallCountsBySite,
  ruleLabel,
  ruleVersionText,
  startWalk,
  topTierPairs,
  tracePrecision,
  type TraceDirection,
  type TraceItemKind,
  type WalkEdge,
  SAME_TIER_BEND,
} from "./genealogy-trace";
import type { TrackingMode } from "./tracking-rule";

/** Edges as "input>output" pairs; a leading "!" marks a link to a site the reader cannot see. */
function graph(spec: string[]): WalkEdge[] {
  return spec.map((s, i) => {
    const hidden = s.startsWith("!");
    const [input, output] = s.replace("!", "").split(">").map(Number);
    return { id: i + 1, inputItemId: input!, outputItemId: output!, visible: !hidden };
  });
}

/** Runs a walk to its end the way the query does: all edges of a frontier at once. */
function walkAll(start: number, direction: TraceDirection, edges: WalkEdge[], cap = 1000) {
  const walk = startWalk(start, direction, cap);
  let rounds = 0;
  while (walk.frontier.length > 0) {
    const frontier = new Set(walk.frontier);
    advanceWalk(
      walk,
      edges.filter((e) => frontier.has(direction === "forward" ? e.inputItemId : e.outputItemId)),
    );
    rounds++;
    if (rounds > 100) throw new Error("the walk did not end");
  }
  return { walk, rounds };
}

describe("a trace walk", () => {
  // 1 → 2 → 4 → 5, 1 → 3 → 4 (a diamond), 4 → 4 (rework)
  const diamond = graph(["1>2", "1>3", "2>4", "3>4", "4>5", "4>4"]);

  it("reaches every tier forward, each item once at its shortest distance", () => {
    const { walk } = walkAll(1, "forward", diamond);
    expect(walk.order).toEqual([1, 2, 3, 4, 5]);
    expect(Object.fromEntries(walk.tierOf)).toEqual({ 1: 0, 2: 1, 3: 1, 4: 2, 5: 3 });
    expect(walk.via.get(4)?.inputItemId).toBe(2); // first path wins, deterministically
    expect(walk.edges.map((e) => `${e.inputItemId}>${e.outputItemId}`)).toEqual(["1>2", "1>3", "2>4", "3>4", "4>5"]);
    expect(walk.truncated).toBe(false);
  });

  it("walks backward against the flow", () => {
    const { walk } = walkAll(5, "backward", diamond);
    expect(walk.order).toEqual([5, 4, 2, 3, 1]);
    expect(walk.tierOf.get(1)).toBe(3);
  });

  it("ends on a cycle and reports it as a finding", () => {
    // 1 → 2 → 3 → 2 (imported loop), 3 → 4
    const { walk, rounds } = walkAll(1, "forward", graph(["1>2", "2>3", "3>2", "3>4"]));
    expect(walk.order).toEqual([1, 2, 3, 4]);
    expect(rounds).toBeLessThanOrEqual(4);
    expect(findCycles(walk)).toEqual([{ items: [2, 3], path: [2, 3, 2] }]);
  });

  it("finds a longer loop and no loop in a diamond", () => {
    const { walk } = walkAll(1, "backward", graph(["2>1", "3>2", "4>3", "2>4"]));
    expect(findCycles(walk)).toEqual([{ items: [2, 3, 4], path: [2, 4, 3, 2] }]);
    expect(findCycles(walkAll(1, "forward", diamond).walk)).toEqual([]);
  });

  it("stops at the node cap and says so", () => {
    const wide = graph(Array.from({ length: 10 }, (_, i) => `1>${i + 2}`).concat(["2>20"]));
    const { walk } = walkAll(1, "forward", wide, 5);
    expect(walk.order).toEqual([1, 2, 3, 4, 5]);
    expect(walk.truncated).toBe(true);
    expect(walk.frontier).toEqual([]);
  });

  it("withholds items at unseen sites without walking past them", () => {
    // 1 → 2 (hidden) → 3; 1 → 4 → 5; 4 → 2 is visible later? no: 2 is only behind hidden links
    const { walk } = walkAll(1, "forward", graph(["!1>2", "2>3", "1>4", "4>5"]));
    expect(walk.order).toEqual([1, 4, 5]);
    expect([...walk.withheld]).toEqual([2]);
  });

  it("does not count as withheld an item also reached through a visible link", () => {
    const { walk } = walkAll(1, "forward", graph(["!1>2", "1>3", "3>2"]));
    expect(walk.order).toEqual([1, 3, 2]);
    expect(walk.withheld.size).toBe(0);
  });

  it("ignores edges from items outside the frontier", () => {
    const walk = startWalk(1, "forward", 10);
    advanceWalk(walk, graph(["7>8", "1>2"]));
    expect(walk.order).toEqual([1, 2]);
  });

  it("refuses a cap below one", () => {
    expect(() => startWalk(1, "forward", 0)).toThrow(RangeError);
  });
});

describe("trace precision", () => {
  const levels = (kinds: Record<number, [TraceItemKind, TrackingMode | null]>) => (id: number) => precisionLevel(...kinds[id]!);

  it("is unit through serials and containers, lot once a lot is on the path, none past an untracked material", () => {
    // 1 serial → 2 container → 3 serial → 4 lot → 5 serial; 3 → 6 (untracked lot) → 7 serial
    const { walk } = walkAll(1, "forward", graph(["1>2", "2>3", "3>4", "4>5", "3>6", "6>7"]));
    const precision = tracePrecision(
      walk,
      levels({
        1: ["serial", "serial"],
        2: ["container", null],
        3: ["serial", null],
        4: ["lot", "lot"],
        5: ["serial", "serial"],
        6: ["lot", "none"],
        7: ["serial", "serial"],
      }),
    );
    expect(Object.fromEntries(precision)).toEqual({ 1: "unit", 2: "unit", 3: "unit", 4: "lot", 5: "lot", 6: "none", 7: "none" });
  });

  it("takes the best path when several reach an item", () => {
    // 1 → 2 (lot) → 4; 1 → 3 (serial) → 4
    const { walk } = walkAll(1, "forward", graph(["1>2", "2>4", "1>3", "3>4"]));
    const precision = tracePrecision(walk, levels({ 1: ["serial", null], 2: ["lot", null], 3: ["serial", null], 4: ["serial", null] }));
    expect(precision.get(4)).toBe("unit");
  });

  it("starts from the start item: a lot start makes every path lot at best", () => {
    const { walk } = walkAll(1, "forward", graph(["1>2"]));
    expect(Object.fromEntries(tracePrecision(walk, levels({ 1: ["lot", "lot"], 2: ["serial", "serial"] })))).toEqual({ 1: "lot", 2: "lot" });
  });
});

describe("recall", () => {
  it("marks items behind a merge as candidates and clean paths as certain", () => {
    // raw lot 1 → merged lot 2 (inputs 1 and 9) → device 3; 1 → machined lot 4 (one input) → device 5
    const { walk } = walkAll(1, "forward", graph(["1>2", "9>2", "2>3", "1>4", "4>5"]));
    const distinctInputs = new Map([
      [2, 2],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    const kinds = new Map<number, TraceItemKind>([
      [1, "lot"],
      [2, "lot"],
      [3, "serial"],
      [4, "lot"],
      [5, "serial"],
    ]);
    const certainty = recallCertainty(walk, (id) => isComminglingPoint(kinds.get(id)!, distinctInputs.get(id) ?? 0));
    expect(Object.fromEntries(certainty)).toEqual({ 1: "certain", 2: "certain", 3: "candidate", 4: "certain", 5: "certain" });
  });

  it("is certain when some path avoids the commingling point", () => {
    // 1 → 2 (commingled lot) → 4; 1 → 3 (serial) → 4
    const { walk } = walkAll(1, "forward", graph(["1>2", "2>4", "1>3", "3>4"]));
    const certainty = recallCertainty(walk, (id) => id === 2);
    expect(certainty.get(4)).toBe("certain");
  });

  it("never treats a serial as a commingling point; containers and lots with one source are not either", () => {
    expect(isComminglingPoint("serial", 5)).toBe(false);
    expect(isComminglingPoint("lot", 1)).toBe(false);
    expect(isComminglingPoint("lot", 2)).toBe(true);
    expect(isComminglingPoint("container", 24)).toBe(true);
  });

  it("refuses a backward walk", () => {
    expect(() => recallCertainty(startWalk(1, "backward", 5), () => false)).toThrow();
  });

  it("counts finished items as the top tier of the BOMs, never containers", () => {
    expect(isFinishedItem("serial", true)).toBe(true);
    expect(isFinishedItem("lot", true)).toBe(true);
    expect(isFinishedItem("container", true)).toBe(false);
    expect(isFinishedItem("serial", false)).toBe(false);
  });

  it("takes the top tier per site: a parent there, never a component or an alternate there", () => {
    const lines = [
      { site: "A", parent: "FIN", component: "ASM", alternates: [] },
      { site: "A", parent: "ASM", component: "SUB", alternates: ["ALT"] },
      { site: "A", parent: "SPARE", component: "RAW", alternates: [] },
      // ALT is a parent at A, but an alternate there: not a top tier.
      { site: "A", parent: "ALT", component: "RAW", alternates: [] },
      // At B the device is built into a kit: the kit is the top tier there, the device is not.
      { site: "B", parent: "KIT", component: "FIN", alternates: [] },
      { site: "B", parent: "FIN", component: "ASM", alternates: [] },
    ];
    expect([...topTierPairs(lines)].sort()).toEqual(["FIN|A", "KIT|B", "SPARE|A"]);
    expect(topTierPairs([]).size).toBe(0);
  });

  it("counts by site", () => {
    expect(
      recallCountsBySite([
        { siteCode: "EIN", certainty: "certain" },
        { siteCode: "CLT", certainty: "candidate" },
        { siteCode: "EIN", certainty: "candidate" },
      ]),
    ).toEqual([
      { siteCode: "CLT", certain: 0, candidate: 1, total: 1 },
      { siteCode: "EIN", certain: 1, candidate: 1, total: 2 },
    ]);
  });
});

describe("rule labels", () => {
  const v1 = { version: 1, effectiveFrom: new Date("2025-01-01T00:00:00Z") };
  it("say legacy before the first version, the version otherwise, unruled without a rule", () => {
    expect(ruleLabel({ state: "legacy", firstVersion: v1 })).toEqual({ state: "legacy", trackingMode: null, version: null });
    expect(ruleVersionText(ruleLabel({ state: "legacy", firstVersion: v1 }))).toBe("legacy");
    expect(ruleVersionText(ruleLabel({ state: "unruled", version: v1 }))).toBe("v1 · unruled");
    const ruled = ruleLabel({
      state: "ruled",
      version: v1,
      rule: {
        trackingMode: "lot",
        containerTracking: false,
        identifierFormatCodes: [],
        consumptionScan: "verify",
        effectiveFrom: v1.effectiveFrom,
        effectiveTo: null,
        version: 1,
      },
    });
    expect(ruled).toEqual({ state: "ruled", trackingMode: "lot", version: 1 });
    expect(ruleVersionText(ruled)).toBe("v1");
  });
});

describe("the graph layout", () => {
  it("puts tiers in columns with the flow left to right in both directions", () => {
    const edges = graph(["1>2", "1>3", "2>4"]);
    const forward = layoutTraceGraph(walkAll(1, "forward", edges).walk, { columnWidth: 100, margin: 0, nodeHeight: 10, rowGap: 0, nodeWidth: 50 });
    expect(forward.nodes.map((n) => [n.id, n.x, n.y])).toEqual([
      [1, 0, 0],
      [2, 100, 0],
      [3, 100, 10],
      [4, 200, 0],
    ]);
    expect(forward.edges.every((e) => e.shape === "forward" && e.x2 > e.x1)).toBe(true);
    expect(forward.width).toBe(250 + SAME_TIER_BEND);
    expect(forward.height).toBe(20);

    const backward = layoutTraceGraph(walkAll(4, "backward", edges).walk, { columnWidth: 100, margin: 0, nodeWidth: 50 });
    expect(backward.nodes.map((n) => [n.id, n.x])).toEqual([
      [4, 200],
      [2, 100],
      [1, 0],
    ]);
    expect(backward.edges.every((e) => e.shape === "forward" && e.x2 > e.x1)).toBe(true);
  });

  it("draws only the first nodes and says how many it left out", () => {
    const star = graph(Array.from({ length: 80 }, (_, i) => `1>${i + 2}`));
    const layout = layoutTraceGraph(walkAll(1, "forward", star).walk, { maxNodes: 60 });
    expect(layout.nodes).toHaveLength(60);
    expect(layout.omitted).toBe(21);
    expect(layout.edges).toHaveLength(59);
  });

  it("draws an edge to an item a shorter path reached against the columns, and marks loops", () => {
    // 1 → 2 → 3 → 4 and 1 → 4: item 4 sits in column 1, so 3 → 4 runs back; 2 → 5, 5 → 2 loop.
    const walked = walkAll(1, "forward", graph(["1>2", "2>3", "3>4", "1>4", "2>5", "5>2", "4>6", "6>7", "1>7"])).walk;
    const layout = layoutTraceGraph(walked, { cycles: findCycles(walked) });
    const shapeOf = (input: number, output: number) => layout.edges.find((e) => e.inputItemId === input && e.outputItemId === output)!;
    expect(shapeOf(3, 4)).toMatchObject({ shape: "back", inCycle: false });
    expect(shapeOf(3, 4).x2).toBeLessThan(shapeOf(3, 4).x1);
    expect(shapeOf(5, 2)).toMatchObject({ shape: "back", inCycle: true });
    expect(shapeOf(2, 5)).toMatchObject({ shape: "forward", inCycle: true });
    expect(shapeOf(6, 7)).toMatchObject({ shape: "back", inCycle: false });
    expect(shapeOf(1, 2).inCycle).toBe(false);
  });

  it("bends an edge between two items of one tier out to the right", () => {
    const walked = walkAll(1, "forward", graph(["1>2", "1>3", "2>3"])).walk;
    const edge = layoutTraceGraph(walked, { nodeWidth: 50, margin: 0, columnWidth: 100 }).edges.find((e) => e.inputItemId === 2 && e.outputItemId === 3)!;
    expect(edge).toMatchObject({ shape: "same-tier", x1: 150, x2: 150 });
  });
});
