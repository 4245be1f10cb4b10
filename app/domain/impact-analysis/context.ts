/**
 * What the finding rules share: the analysis's context (its input, the rules after the change,
 * the genealogy graph, the walks made so far) and small helpers. The rules reach genealogy only
 * through the `GenealogyGraph` interface, whichever implementation holds it (ADR 011).
 */
import { REGULATORY_FLAGS } from "../material";
import { ITEM_STATUSES, smallestDistinct, sortedIds, type GenealogyGraph, type Reach } from "../genealogy-graph";
import type { TrackingMode } from "../tracking-rule";
import { SAMPLE_SIZE, VOLUME_WINDOW_DAYS, type AnalysisInput, type EdgeFacts, type ItemFacts, type RuleState } from "./report";

export const key = (partNumber: string, site: string) => `${partNumber}|${site}`;
export const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The SAMPLE_SIZE smallest distinct values, in order. */
export const sample = (values: Iterable<string>): string[] => smallestDistinct(values, SAMPLE_SIZE);
export const perDay = (count: number) => (count / VOLUME_WINDOW_DAYS).toFixed(1);
/** Decimal quantities summed exactly (scaled integers, 6 decimals as stored). */
export function sumQuantities(values: Iterable<string>): string {
  let total = 0n;
  for (const v of values) {
    const [whole = "0", fraction = ""] = v.split(".");
    const negative = whole.startsWith("-");
    const scaled = BigInt(whole.replace("-", "")) * 1_000_000n + BigInt((fraction + "000000").slice(0, 6));
    total += negative ? -scaled : scaled;
  }
  const whole = total / 1_000_000n;
  const fraction = (total % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
export const modeOf = (rule: RuleState | undefined): TrackingMode | null => (rule?.state === "ruled" ? rule.trackingMode : null);
const REGULATED: ReadonlySet<string> = new Set(REGULATORY_FLAGS);
export const isRegulatedFlag = (flag: string) => REGULATED.has(flag);

export interface Context {
  input: AnalysisInput;
  outgoing: Map<number, EdgeFacts[]>;
  incoming: Map<number, EdgeFacts[]>;
  rulesAfter: Map<string, RuleState>;
  inWindow: (at: string) => boolean;
  /** The same window in epoch milliseconds. */
  windowMs: { from: number; to: number };
  graph: GenealogyGraph;
  /** The (material, site) pairs whose non-container items are finished goods (`topTierPairs`). */
  topTier: ReadonlySet<string>;
  /** Walks already made in this analysis, by their starting set (each change walks once). */
  reaches: Map<string, { start: readonly number[]; reach: Reach }[]>;
  /** Samples of finished goods already taken, by the reach's finished list. */
  samples: WeakMap<number[], string[]>;
  /** The `part|site` pairs whose top-tier membership a walk consulted (`AnalysisReads.topTier`). */
  topTierRead: Set<string>;
}

/** The walk forward from `start` (`GenealogyGraph.forwardReach`), made once per starting set in an analysis. */
export function reachOf(ctx: Context, start: readonly number[]): Reach {
  let sorted = true;
  for (let i = 1; i < start.length && sorted; i++) sorted = start[i - 1]! <= start[i]!;
  const ids = sorted ? start : sortedIds(start);
  // Keyed by the starting set: its size and two 32-bit hashes, confirmed element by element.
  let h1 = 0x811c9dc5;
  let h2 = 17;
  for (const id of ids) {
    h1 = Math.imul(h1 ^ id, 0x01000193);
    h2 = (Math.imul(h2, 31) + id) | 0;
  }
  const key = `${ids.length}:${h1 >>> 0}:${h2 >>> 0}`;
  const walks = ctx.reaches.get(key) ?? [];
  let found = walks.find((w) => w.start.length === ids.length && w.start.every((id, i) => id === ids[i]))?.reach;
  if (!found) {
    found = ctx.graph.forwardReach(ids, ctx.topTier);
    // Every non-container item the walk reached was judged finished or not by its (material, site) pair.
    for (const pair of found.topTierRead) ctx.topTierRead.add(pair);
    walks.push({ start: ids, reach: found });
    ctx.reaches.set(key, walks);
  }
  return found;
}

/** The sample of items' identifiers, compared in the index without decoding every identifier. */
export function sampleOfItems(ctx: Context, items: readonly ItemFacts[]): string[] {
  return ctx.graph.smallestIdentifiers(
    items.map((i) => i.id),
    SAMPLE_SIZE,
  );
}

/** The sample of a reach's finished goods (PRECISION_LOSS and REACH may quote the same set). */
export function smallestFinished(ctx: Context, finished: number[]): string[] {
  let found = ctx.samples.get(finished);
  if (!found) ctx.samples.set(finished, (found = ctx.graph.smallestIdentifiers(finished, SAMPLE_SIZE)));
  return found;
}

export function isRegulated(ctx: Context, partNumber: string): boolean {
  return (ctx.input.materials[partNumber]?.regulatoryFlags ?? []).some(isRegulatedFlag);
}

export function formatsOf(rule: RuleState | undefined): string[] {
  return rule?.state === "ruled" ? [...rule.identifierFormatCodes].sort(byText) : [];
}

/** Finished goods by status, non-zero ones in ITEM_STATUSES order (ADR 010: counted whatever their status, shown by it). */
export function finishedByStatus(g: GenealogyGraph, finished: readonly number[]): (readonly [string, number])[] {
  const counts = g.countStatuses(finished);
  return ITEM_STATUSES.flatMap((status, s) => (counts[s] ? [[status, counts[s]!] as const] : []));
}
