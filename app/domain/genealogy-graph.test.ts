import { describe, expect, it } from "vitest";
import { CompactGenealogyBuilder, graphOfRows, recallFinished } from "./genealogy-graph";

/** Two raw lots merged into one; the merged lot and a clean lot into assemblies; devices from them; a pallet. */
function plant() {
  const b = new CompactGenealogyBuilder();
  const items: [number, string, "serial" | "lot" | "container", string][] = [
    [1, "R1", "lot", "RAW"],
    [2, "R2", "lot", "RAW"],
    [3, "RM", "lot", "RAW"],
    [5, "A1", "lot", "ASM"],
    [6, "A2", "lot", "ASM"],
    [7, "F1", "serial", "FIN"],
    [8, "F2", "serial", "FIN"],
    [9, "P1", "container", "FIN"],
    [10, "F3", "serial", "FIN"],
  ];
  for (const [id, identifier, kind, part] of items) b.addItem(id, identifier, kind, "consumed", part, "EIN");
  const edges: [number, number, "merge" | "consume" | "aggregate" | "rework"][] = [
    [1, 3, "merge"],
    [2, 3, "merge"],
    [3, 5, "consume"],
    [1, 6, "consume"],
    [5, 7, "consume"],
    [6, 8, "consume"],
    [8, 9, "aggregate"],
    [8, 8, "rework"],
    [6, 10, "consume"],
    [5, 10, "consume"],
  ];
  for (const [i, o, k] of edges) b.addEdge(i, o, k);
  return { graph: b.build(), items, edges };
}

describe("compact genealogy", () => {
  it("holds items and edges both ways, with identifiers, and skips ids it does not hold", () => {
    const { graph } = plant();
    expect(graph.has(4)).toBe(false);
    expect(graph.identifierOf(10)).toBe("F3");
    expect(graph.partNumberOf(9)).toBe("FIN");
    expect(graph.kindOf(9)).toBe("container");
    const out: number[] = [];
    graph.forEachFlowOut(8, (o) => out.push(o));
    expect(out).toEqual([9]); // the rework self-loop is not a flow
    expect(graph.hasNonReworkOut(8)).toBe(true);
    const inputs: number[] = [];
    graph.forEachIn(10, (i) => inputs.push(i));
    expect(inputs).toEqual([5, 6]);
    expect(graph.edgeCount).toBe(10);
  });

  it("walks like the row graph it replaces", () => {
    const { graph, items, edges } = plant();
    const rows = graphOfRows(
      items.map(([id, identifier, kind, partNumber]) => ({ id, identifier, kind, partNumber, site: "EIN", status: "consumed" as const })),
      edges.map(([input, output, kind], i) => ({ id: i + 1, input, output, kind })),
    );
    for (const [id] of items) {
      const a: number[] = [];
      const b: number[] = [];
      graph.forEachFlowOut(id, (o) => a.push(o));
      rows.forEachFlowOut(id, (o) => b.push(o));
      expect(a.sort()).toEqual(b.sort());
    }
  });

  it("recalls finished items from a raw lot: certain without a commingling point on the way, candidate beyond one", () => {
    const { graph } = plant();
    const topTier = (part: string) => part === "FIN";
    // R1 → A2 → F2, F3 cleanly; R1 → RM (merged with R2: commingling) → A1 → F1, F3.
    expect(recallFinished(graph, 1, topTier)).toEqual({ reached: 8, certain: [8, 10], candidate: [7] });
    // From R2 everything passes the merge: candidates only (the pallet is not a finished item).
    expect(recallFinished(graph, 2, topTier)).toMatchObject({ certain: [], candidate: [7, 10] });
  });

  it("the row graph walks, recalls and tallies like the index (one interface, two implementations)", () => {
    const { graph, items, edges } = plant();
    const rows = graphOfRows(
      items.map(([id, identifier, kind, partNumber]) => ({ id, identifier, kind, partNumber, site: "EIN", status: "consumed" as const })),
      edges.map(([input, output, kind], i) => ({ id: i + 1, input, output, kind })),
    );
    const topTier = (part: string) => part === "FIN";
    for (const [id] of items) expect(rows.recallFinished(id, topTier)).toEqual(graph.recallFinished(id, topTier));
    const reach = (g: typeof rows) => ({ ...g.forwardReach([2, 1], new Set(["FIN|EIN"])), ids: [...g.forwardReach([2, 1], new Set(["FIN|EIN"])).ids] });
    const fromIndex = reach(graph);
    const fromRows = reach(rows);
    expect(fromRows).toEqual({ ...fromIndex, topTierRead: expect.arrayContaining(fromIndex.topTierRead) });
    expect(fromRows.topTierRead).toHaveLength(fromIndex.topTierRead.length);
    const ids = items.map(([id]) => id);
    for (const g of [graph, rows]) {
      expect([...g.countStatuses(ids)]).toEqual([0, 0, 9, 0, 0]);
      expect(g.countSites(ids)).toEqual([["EIN", 9]]);
      expect(g.countWhereMaterial(ids, (part) => part === "ASM")).toBe(2);
      expect(g.inputsOutside([10], [5])).toEqual([6]);
      expect(g.consumedGoingNowhere(ids).sort()).toEqual([10, 7, 9].sort());
      const pairs: [number, number][] = [];
      g.forEachConsumeTouching([5, 6], (input, output) => pairs.push([input, output]));
      expect(pairs.sort()).toEqual(
        [
          [1, 6],
          [3, 5],
          [5, 10],
          [5, 7],
          [6, 10],
          [6, 8],
        ].sort(),
      );
    }
  });
});

describe("compact genealogy: what an analysis reads without asking the database", () => {
  /** A small plant with a cycle (X1 → X2 → X3 → X1) downstream of a raw lot, and a clean branch. */
  function withCycle() {
    const b = new CompactGenealogyBuilder();
    const items: [number, string, "serial" | "lot" | "container", string, string][] = [
      [1, "RAW-1", "lot", "RAW", "EIN"],
      [2, "X1", "lot", "MID", "EIN"],
      [3, "X2", "lot", "MID", "EIN"],
      [4, "X3", "lot", "MID", "EIN"],
      [5, "FIN-1", "serial", "FIN", "EIN"],
      [6, "RAW-2", "lot", "RAW", "CLT"],
      [7, "FIN-2", "serial", "FIN", "CLT"],
      [9, "Ü-LOT", "lot", "RAW", "EIN"],
    ];
    for (const [id, identifier, kind, part, site] of items)
      b.addItem(id, identifier, kind, "stock", part, site, { createdAt: Date.UTC(2026, 9, id), quantity: id % 2 ? "1.500000" : "2.000000" });
    const edges: [number, number, number, "consume" | "rework"][] = [
      [11, 1, 2, "consume"],
      [12, 2, 3, "consume"],
      [13, 3, 4, "consume"],
      [14, 4, 2, "consume"],
      [15, 4, 5, "consume"],
      [16, 6, 7, "consume"],
      [17, 7, 7, "rework"],
    ];
    for (const [id, i, o, k] of edges) b.addEdge(i, o, k, { id, occurredAt: Date.UTC(2026, 9, 20) + id });
    return b.build();
  }

  it("finds items by material and site, in id order, with their quantity and creation time", () => {
    const graph = withCycle();
    expect(graph.itemsOf("MID", "EIN")).toEqual([2, 3, 4]);
    expect(graph.itemsOf("RAW", "EIN")).toEqual([1, 9]);
    expect(graph.itemsOf("RAW", "CLT")).toEqual([6]);
    expect(graph.itemsOf("FIN", "NOPE")).toEqual([]);
    expect(graph.itemsOf("NOPE", "EIN")).toEqual([]);
    expect(graph.quantityOf(3)).toBe("1.500000");
    expect(graph.quantityOf(4)).toBe("2.000000");
    expect(new Date(graph.createdAtOf(5)).toISOString()).toBe("2026-10-05T00:00:00.000Z");
  });

  it("knows each edge's id and time, both ways", () => {
    const graph = withCycle();
    const out: [number, number, string, number][] = [];
    graph.forEachOutEdge(4, (edgeId, output, kind, at) => out.push([edgeId, output, kind, at]));
    expect(out).toEqual([
      [14, 2, "consume", Date.UTC(2026, 9, 20) + 14],
      [15, 5, "consume", Date.UTC(2026, 9, 20) + 15],
    ]);
    const into: [number, number, string][] = [];
    graph.forEachInEdge(2, (edgeId, input, kind) => into.push([edgeId, input, kind]));
    expect(into).toEqual([
      [11, 1, "consume"],
      [14, 4, "consume"],
    ]);
  });

  it("marks exactly the items a cycle may pass through (not upstream, not downstream, not a rework loop)", () => {
    const graph = withCycle();
    expect([1, 2, 3, 4, 5, 6, 7, 9].filter((id) => graph.mayLieOnCycle(id))).toEqual([2, 3, 4]);
  });

  it("samples the smallest distinct identifiers in string order, ASCII or not", () => {
    const graph = withCycle();
    expect(graph.smallestIdentifiers([5, 4, 3, 2, 1, 7, 6, 3], 3)).toEqual(["FIN-1", "FIN-2", "RAW-1"]);
    expect(graph.smallestIdentifiers([9, 7, 2], 5)).toEqual(["FIN-2", "X1", "Ü-LOT"]);
    expect(graph.identifierOf(9)).toBe("Ü-LOT");
    const ascii = plant().graph;
    expect(ascii.smallestIdentifiers([10, 9, 8, 7, 7], 2)).toEqual(["F1", "F2"]);
    expect(ascii.smallestIdentifiers([], 2)).toEqual([]);
  });
});
