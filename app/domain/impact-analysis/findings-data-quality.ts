/**
 * Findings on the genealogy data itself among the items the analysis read: cycles (CYCLE) and
 * dangling references (DANGLING_REFERENCE).
 */
import type { GenealogyGraph } from "../genealogy-graph";
import { reachOf, sample, type Context } from "./context";
import type { Finding } from "./report";

/**
 * Cycles (strongly connected components over flow edges) and dangling references among the items
 * the analysis reads: everything reached forward from the changed materials' items, and their
 * direct inputs.
 */
export function dataQuality(ctx: Context): Finding[] {
  const findings: Finding[] = [];
  const changed = new Map<string, Set<string>>();
  for (const c of ctx.input.changes) (changed.get(c.partNumber) ?? changed.set(c.partNumber, new Set()).get(c.partNumber)!).add(c.site);
  const own: number[] = [];
  for (let k = 0; k < ctx.input.items.length; k++) {
    const i = ctx.input.items[k]!;
    if (changed.get(i.partNumber)?.has(i.site)) own.push(i.id);
  }
  // The items read: the reach (distinct already) and the own items' direct inputs outside it.
  const reached = reachOf(ctx, own).ids;
  const g = ctx.graph;
  const extra = g.inputsOutside(own, reached);
  // Only items a cycle may pass through can lie on one among the items read (the index knows them).
  const candidates = [...g.cycleCandidatesAmong(reached), ...g.cycleCandidatesAmong(extra)];
  const consumedNowhere = [...g.consumedGoingNowhere(reached), ...g.consumedGoingNowhere(extra)];
  candidates.sort((a, b) => a - b);
  const cycles = candidates.length ? cyclesAmong(ctx.graph, candidates) : [];
  if (cycles.length) {
    findings.push({
      code: "CYCLE",
      severity: "critical",
      message: `${cycles.length} cycle(s) in the genealogy data: material flows back into its own source; the traversal stopped at each`,
      count: cycles.length,
      sample: sample(cycles.map((c) => c.map((id) => ctx.graph.identifierOf(id)).join(" → "))),
    });
  }
  // Dangling: an edge naming an item that was not found, or an item marked consumed that flowed nowhere.
  const dangling: string[] = [];
  for (const edges of ctx.outgoing.values()) {
    for (const e of edges) {
      if (!ctx.graph.has(e.input) || !ctx.graph.has(e.output))
        dangling.push(`event ${e.eventRef}: item ${ctx.graph.has(e.input) ? e.output : e.input} not found`);
    }
  }
  for (const id of consumedNowhere) dangling.push(`${g.identifierOf(id)} (${g.partNumberOf(id)}) is consumed but flowed into nothing recorded`);
  if (dangling.length) {
    findings.push({
      code: "DANGLING_REFERENCE",
      severity: "warning",
      message: `${dangling.length} dangling reference(s): genealogy names items it does not hold, or items are consumed without a recorded destination`,
      count: dangling.length,
      sample: sample(dangling),
    });
  }
  return findings;
}

/**
 * The cycles (strongly connected components of more than one item, over flow edges) among `ids`,
 * by an iterative Tarjan walk. Any superset of the items on cycles gives the same cycles.
 */
function cyclesAmong(graph: GenealogyGraph, ids: readonly number[]): number[][] {
  // Keyed by id: the candidates are few, the plant is large.
  const among = new Set(ids);
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const cycles: number[][] = [];
  let counter = 0;
  const successors = (id: number) => {
    const next: number[] = [];
    graph.forEachFlowOut(id, (output) => {
      if (among.has(output)) next.push(output);
    });
    return next;
  };
  const visit = (id: number) => {
    index.set(id, counter);
    low.set(id, counter++);
    stack.push(id);
    onStack.add(id);
  };
  for (const root of ids) {
    if (index.has(root)) continue;
    visit(root);
    const work: { id: number; next: number[]; i: number }[] = [{ id: root, next: successors(root), i: 0 }];
    while (work.length) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.next.length) {
        const w = frame.next[frame.i++]!;
        if (!index.has(w)) {
          visit(w);
          work.push({ id: w, next: successors(w), i: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        }
      } else {
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
        if (low.get(frame.id) === index.get(frame.id)) {
          const component: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            component.push(w);
          } while (w !== frame.id);
          if (component.length > 1) cycles.push(component.sort((a, b) => a - b));
        }
      }
    }
  }
  return cycles;
}
