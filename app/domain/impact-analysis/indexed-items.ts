/**
 * Items of the genealogy index as `ItemFacts`, read lazily (ADR 011): the service hands these to
 * the analysis instead of rows when the index holds the plant.
 */
import { isoTime } from "../iso-time";
import type { CompactGenealogy } from "../genealogy-graph";
import type { ItemFacts } from "./report";

/**
 * An item of the genealogy index as `ItemFacts`, read lazily: an analysis of a material with tens of
 * thousands of items reads most of their facts never, or only by code. `toJSON` gives the plain facts.
 */
class IndexedItem implements ItemFacts {
  // An ES private field: not enumerable, so a spread or a deep comparison never copies the index.
  readonly #graph: CompactGenealogy;
  constructor(
    readonly id: number,
    graph: CompactGenealogy,
  ) {
    this.#graph = graph;
  }
  get identifier(): string {
    return this.#graph.identifierOf(this.id);
  }
  get kind(): ItemFacts["kind"] {
    return this.#graph.kindOf(this.id);
  }
  get partNumber(): string {
    return this.#graph.partNumberOf(this.id);
  }
  get site(): string {
    return this.#graph.siteOf(this.id);
  }
  get status(): ItemFacts["status"] {
    return this.#graph.statusOf(this.id);
  }
  get quantity(): string {
    return this.#graph.quantityOf(this.id);
  }
  get createdAt(): string {
    return isoTime(this.#graph.createdAtOf(this.id));
  }
  toJSON(): ItemFacts {
    const { id, identifier, kind, partNumber, site, status, quantity, createdAt } = this;
    return { id, identifier, kind, partNumber, site, status, quantity, createdAt };
  }
}

/** The facts of items the index holds (ids in the order given). */
export function itemsOfIndex(graph: CompactGenealogy, ids: readonly number[]): ItemFacts[] {
  return ids.map((id) => new IndexedItem(id, graph));
}
