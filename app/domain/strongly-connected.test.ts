import { describe, expect, it } from "vitest";
import { stronglyConnectedComponents } from "./strongly-connected";

/** The components as sorted node lists, sorted: numbering is the algorithm's, membership is not. */
function groups(components: Map<number, number>): number[][] {
  const byNumber = new Map<number, number[]>();
  for (const [node, c] of components) (byNumber.get(c) ?? byNumber.set(c, []).get(c)!).push(node);
  return [...byNumber.values()].map((g) => g.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
}

describe("stronglyConnectedComponents", () => {
  it("groups the nodes of each cycle and leaves every other node alone", () => {
    // Drawn by hand: 1 → 2 → 3 → 1 (one knot), 3 → 4, 4 → 5 → 4 (another), 5 → 6.
    const next = new Map<number, number[]>([
      [1, [2]],
      [2, [3]],
      [3, [1, 4]],
      [4, [5]],
      [5, [4, 6]],
    ]);
    const components = stronglyConnectedComponents([1], (n) => next.get(n) ?? []);
    expect(groups(components)).toEqual([[1, 2, 3], [4, 5], [6]]);
  });

  it("reaches only what the roots reach, and takes each root once", () => {
    const next = new Map<number, number[]>([
      [1, [2]],
      [2, [1]],
      [8, [9]],
    ]);
    const components = stronglyConnectedComponents([2, 1, 2], (n) => next.get(n) ?? []);
    expect(groups(components)).toEqual([[1, 2]]);
  });

  it("follows a chain far deeper than the call stack", () => {
    const n = 200_000;
    const components = stronglyConnectedComponents([0], (i) => (i < n - 1 ? [i + 1] : [0]));
    expect(components.size).toBe(n);
    expect(new Set(components.values()).size).toBe(1);
  });
});
