/**
 * The genealogy graph (ADR 011): its vocabulary and interface (./graph.ts), the row graph
 * (./rows.ts), the compact index (./compact.ts) and its builder (./compact-builder.ts).
 */
export * from "./graph";
export { graphOfRows, type RowEdge, type RowItem } from "./rows";
export { CompactGenealogy } from "./compact";
export { CompactGenealogyBuilder } from "./compact-builder";
import type { GenealogyGraph, Recall } from "./graph";

/** A forward recall over the graph (`GenealogyGraph.recallFinished`). */
export function recallFinished(graph: GenealogyGraph, start: number, isTopTier: (partNumber: string, site: string) => boolean): Recall {
  return graph.recallFinished(start, isTopTier);
}
export { applyGenealogyChanges, CannotApply, type EdgeChange, type ItemChange } from "./compact-apply";
export { canonicalGenealogy, sameGenealogy } from "./compact-canonical";
