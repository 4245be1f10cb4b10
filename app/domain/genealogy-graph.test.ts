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
});
