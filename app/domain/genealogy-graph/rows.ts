/**
 * The genealogy graph over the rows a query returned (maps and sets): the reference
 * implementation of `GenealogyGraph`, written plainly. The golden tests compare analyses over it
 * with analyses over the compact index (./compact.ts) byte for byte (ADR 011).
 */
import { isFinishedItem, topTierKey } from "../genealogy-trace";
import type { Identifies } from "../tracking-rule";
import { FLOW_KINDS, ITEM_STATUSES, smallestDistinct, sortedIds, type EdgeKind, type GenealogyGraph, type ItemStatus, type Reach, type Recall } from "./graph";

export interface RowItem {
  id: number;
  identifier: string;
  kind: Identifies;
  partNumber: string;
  site: string;
  status: ItemStatus;
  /** ISO 8601 (`createdAtOf` parses it). */
  createdAt?: string;
}
export interface RowEdge {
  id: number;
  kind: EdgeKind;
  input: number;
  output: number;
}

export function graphOfRows(items: readonly RowItem[], edges: readonly RowEdge[]): GenealogyGraph {
  return new RowGenealogy(items, edges);
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

class RowGenealogy implements GenealogyGraph {
  readonly maxId: number;
  private readonly byId: Map<number, RowItem>;
  private readonly out = new Map<number, RowEdge[]>();
  private readonly into = new Map<number, RowEdge[]>();

  constructor(items: readonly RowItem[], edges: readonly RowEdge[]) {
    this.byId = new Map(items.map((i) => [i.id, i]));
    this.maxId = items.reduce((max, i) => Math.max(max, i.id), 0);
    for (const e of [...edges].sort((a, b) => a.id - b.id)) {
      (this.out.get(e.input) ?? this.out.set(e.input, []).get(e.input)!).push(e);
      (this.into.get(e.output) ?? this.into.set(e.output, []).get(e.output)!).push(e);
    }
  }

  private item(id: number): RowItem {
    return this.byId.get(id)!;
  }
  has(id: number): boolean {
    return this.byId.has(id);
  }
  kindOf(id: number): Identifies {
    return this.item(id).kind;
  }
  statusOf(id: number): ItemStatus {
    return this.item(id).status;
  }
  siteOf(id: number): string {
    return this.item(id).site;
  }
  partNumberOf(id: number): string {
    return this.item(id).partNumber;
  }
  identifierOf(id: number): string {
    return this.item(id).identifier;
  }
  createdAtOf(id: number): number {
    const at = this.item(id).createdAt;
    return at === undefined ? Number.NaN : Date.parse(at);
  }
  forEachFlowOut(id: number, visit: (output: number) => void): void {
    for (const e of this.out.get(id) ?? []) if (FLOW_KINDS.has(e.kind) && e.output !== id && this.byId.has(e.output)) visit(e.output);
  }
  hasNonReworkOut(id: number): boolean {
    return (this.out.get(id) ?? []).some((e) => e.kind !== "rework");
  }
  forEachOut(id: number, visit: (output: number, kind: EdgeKind) => void): void {
    for (const e of this.out.get(id) ?? []) visit(e.output, e.kind);
  }
  forEachIn(id: number, visit: (input: number, kind: EdgeKind) => void): void {
    for (const e of this.into.get(id) ?? []) visit(e.input, e.kind);
  }
  mayLieOnCycle(): boolean {
    return true;
  }
  smallestIdentifiers(ids: Iterable<number>, size: number): string[] {
    const names: string[] = [];
    for (const id of ids) names.push(this.item(id).identifier);
    return smallestDistinct(names, size);
  }

  forwardReach(start: readonly number[], topTier: ReadonlySet<string>): Reach {
    const tier = new Map<number, number>();
    const unit = new Set<number>();
    const ids: number[] = [];
    const layerEnds: number[] = [];
    const finished: number[] = [];
    const topTierRead = new Set<string>();
    let frontier: number[] = [];
    for (const id of start) {
      if (!this.has(id) || tier.has(id)) continue;
      tier.set(id, 0);
      if (this.kindOf(id) !== "lot") unit.add(id);
      frontier.push(id);
    }
    frontier = sortedIds(frontier);
    let deepest = 0;
    for (let depth = 1; frontier.length > 0; depth++) {
      deepest = depth - 1;
      for (const id of frontier) ids.push(id);
      layerEnds.push(ids.length);
      const next: number[] = [];
      for (const id of frontier) {
        const fromUnit = unit.has(id);
        const pair = topTierKey(this.partNumberOf(id), this.siteOf(id));
        if (this.kindOf(id) !== "container") topTierRead.add(pair);
        if (isFinishedItem(this.kindOf(id), topTier.has(pair))) finished.push(id);
        this.forEachFlowOut(id, (output) => {
          const viaUnit = fromUnit && this.kindOf(output) !== "lot";
          if (!tier.has(output)) {
            tier.set(output, depth);
            if (viaUnit) unit.add(output);
            next.push(output);
          } else if (viaUnit) {
            unit.add(output);
          }
        });
      }
      frontier = sortedIds(next);
    }
    const finishedUnit = Uint8Array.from(finished, (id) => (unit.has(id) ? 1 : 0));
    return { ids, layerEnds, deepest, finished, finishedUnit, topTierRead: [...topTierRead] };
  }

  recallFinished(start: number, isTopTier: (partNumber: string, site: string) => boolean): Recall {
    if (!this.has(start)) return { reached: 0, certain: [], candidate: [] };
    const commingling = (id: number) => {
      if (this.kindOf(id) === "serial") return false;
      const sources = new Set<number>();
      this.forEachIn(id, (input) => {
        if (input !== id) sources.add(input);
      });
      return sources.size > 1;
    };
    // Breadth-first in two passes: the clean (certain) region, then on from all of it.
    const clean = new Set<number>([start]);
    const order = [start];
    for (let at = 0; at < order.length; at++) {
      const id = order[at]!;
      if (id !== start && commingling(id)) continue;
      this.forEachFlowOut(id, (output) => {
        if (clean.has(output)) return;
        clean.add(output);
        order.push(output);
      });
    }
    const reached = new Set(order);
    for (let at = 0; at < order.length; at++) {
      this.forEachFlowOut(order[at]!, (output) => {
        if (reached.has(output)) return;
        reached.add(output);
        order.push(output);
      });
    }
    const certain: number[] = [];
    const candidate: number[] = [];
    const topTier = new Map<string, boolean>();
    for (const id of order) {
      if (this.kindOf(id) === "container") continue;
      const pair = topTierKey(this.partNumberOf(id), this.siteOf(id));
      let top = topTier.get(pair);
      if (top === undefined) topTier.set(pair, (top = isTopTier(this.partNumberOf(id), this.siteOf(id))));
      if (top) (clean.has(id) ? certain : candidate).push(id);
    }
    return { reached: order.length, certain: certain.sort((a, b) => a - b), candidate: candidate.sort((a, b) => a - b) };
  }

  forEachConsumeTouching(ids: readonly number[], visit: (input: number, output: number) => void): void {
    const among = new Set(ids);
    for (const id of ids) {
      this.forEachOut(id, (output, kind) => {
        if (kind === "consume") visit(id, output);
      });
      this.forEachIn(id, (input, kind) => {
        if (kind === "consume" && !among.has(input)) visit(input, id);
      });
    }
  }

  inputsOutside(ids: readonly number[], excluded: ArrayLike<number>): number[] {
    const seen = new Set(Array.from(excluded));
    const found: number[] = [];
    for (const id of ids) {
      this.forEachIn(id, (input) => {
        if (!this.has(input) || seen.has(input)) return;
        seen.add(input);
        found.push(input);
      });
    }
    return found;
  }

  countStatuses(ids: ArrayLike<number>, from = 0, to = ids.length): Uint32Array {
    const counts = new Uint32Array(ITEM_STATUSES.length);
    for (let at = from; at < to; at++) counts[ITEM_STATUSES.indexOf(this.statusOf(ids[at]!))]!++;
    return counts;
  }
  countSites(ids: ArrayLike<number>): [string, number][] {
    const counts = new Map<string, number>();
    for (const id of Array.from(ids)) counts.set(this.siteOf(id), (counts.get(this.siteOf(id)) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => byText(a, b));
  }
  countWhereMaterial(ids: ArrayLike<number>, test: (partNumber: string) => boolean): number {
    const byMaterial = new Map<string, boolean>();
    let count = 0;
    for (const id of Array.from(ids)) {
      const partNumber = this.partNumberOf(id);
      let holds = byMaterial.get(partNumber);
      if (holds === undefined) byMaterial.set(partNumber, (holds = test(partNumber)));
      if (holds) count++;
    }
    return count;
  }
  cycleCandidatesAmong(ids: ArrayLike<number>): number[] {
    return Array.from(ids).filter(() => this.mayLieOnCycle());
  }
  consumedGoingNowhere(ids: ArrayLike<number>): number[] {
    return Array.from(ids).filter((id) => this.statusOf(id) === "consumed" && !this.hasNonReworkOut(id));
  }
}
