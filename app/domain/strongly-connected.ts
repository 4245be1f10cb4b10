/**
 * Strongly connected components of a directed graph of numbered nodes (items of the genealogy):
 * Tarjan's algorithm, iterative so that a long chain cannot overflow the call stack; linear in the
 * nodes and edges reached. Used by the recall trace's loop finding and the EPCIS import's cycle
 * check (ADR 024).
 */

/**
 * Each node reached from `roots` (in that order) mapped to the number of its component; two nodes
 * are on a common cycle exactly when their numbers are equal. `successors` is asked once per node.
 */
export function stronglyConnectedComponents(roots: Iterable<number>, successors: (node: number) => readonly number[]): Map<number, number> {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const component = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  let counter = 0;
  let components = 0;
  const open = (node: number) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    return { node, next: 0, successors: successors(node) };
  };
  for (const root of roots) {
    if (index.has(root)) continue;
    const work = [open(root)];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.successors.length) {
        const to = frame.successors[frame.next++]!;
        if (!index.has(to)) work.push(open(to));
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        let member: number;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.set(member, components);
        } while (member !== frame.node);
        components += 1;
      }
    }
  }
  return component;
}
