/**
 * A whole plant's genealogy in typed arrays (ADR 011): the fast implementation of
 * `GenealogyGraph`. Its walks and tallies run over the arrays directly — no per-item objects, no
 * interface calls in the hot loops — and give exactly what the row graph (./rows.ts) gives.
 * Built by `CompactGenealogyBuilder` (./compact-builder.ts). Pure: no I/O.
 */
import { topTierKey } from "../genealogy-trace";
import type { Identifies } from "../tracking-rule";
import { EDGE_KINDS, FLOW_KINDS, ITEM_KINDS, ITEM_STATUSES, smallestDistinct } from "./graph";
import type { EdgeKind, GenealogyGraph, ItemStatus, Reach, Recall } from "./graph";

/**
 * A whole plant's genealogy in typed arrays, indexed by trace-item id: per item its kind, status,
 * material and site (small integers into lookup tables) and its identifier (UTF-8 in one buffer);
 * edges in compressed sparse rows both ways, each with its kind. About 26 bytes per edge both ways
 * and 25 bytes per item plus identifier bytes (ADR 011).
 */
export class CompactGenealogy implements GenealogyGraph {
  constructor(
    readonly present: Uint8Array,
    readonly kind: Uint8Array,
    readonly status: Uint8Array,
    readonly material: Uint16Array,
    readonly site: Uint16Array,
    readonly identifierStart: Uint32Array,
    readonly identifierBytes: Uint8Array,
    readonly outStart: Uint32Array,
    readonly outTarget: Uint32Array,
    readonly outKind: Uint8Array,
    readonly inStart: Uint32Array,
    readonly inSource: Uint32Array,
    readonly inKind: Uint8Array,
    readonly partNumbers: readonly string[],
    readonly siteCodes: readonly string[],
    /** The facts an analysis quotes without asking the database (ADR 011): per item… */
    readonly details: {
      /** creation time, epoch milliseconds; */
      createdAt: Float64Array;
      /** quantity, as PostgreSQL prints it, coded into `quantities`; */
      quantityCode: Uint32Array;
      quantities: readonly string[];
      /** per edge, in out-row order: its id and time (epoch ms); in in-row order: its id. */
      outEdgeId: Uint32Array;
      outOccurredAt: Float64Array;
      inEdgeId: Uint32Array;
      /** Item ids grouped by material and site (key material × site count + site), in id order. */
      byMaterialSiteStart: Uint32Array;
      byMaterialSite: Uint32Array;
      /** 1 where a flow cycle may pass (what peeling sources and sinks off the whole plant leaves). */
      onCycleCandidate: Uint8Array;
      /** Whether every identifier is ASCII (then byte order is string order). */
      asciiOnly: boolean;
    },
  ) {}

  get maxId(): number {
    return this.present.length - 1;
  }
  get edgeCount(): number {
    return this.outTarget.length;
  }
  get byteSize(): number {
    const d = this.details;
    return [
      this.present,
      this.kind,
      this.status,
      this.material,
      this.site,
      this.identifierStart,
      this.identifierBytes,
      this.outStart,
      this.outTarget,
      this.outKind,
      this.inStart,
      this.inSource,
      this.inKind,
      d.createdAt,
      d.quantityCode,
      d.outEdgeId,
      d.outOccurredAt,
      d.inEdgeId,
      d.byMaterialSiteStart,
      d.byMaterialSite,
      d.onCycleCandidate,
    ].reduce(
      (total, a) => total + a.byteLength,
      d.quantities.reduce((total, q) => total + q.length, 0),
    );
  }

  has(id: number): boolean {
    return id > 0 && id < this.present.length && this.present[id] === 1;
  }
  kindOf(id: number): Identifies {
    return ITEM_KINDS[this.kind[id]!]!;
  }
  statusOf(id: number): ItemStatus {
    return ITEM_STATUSES[this.status[id]!]!;
  }
  siteOf(id: number): string {
    return this.siteCodes[this.site[id]!]!;
  }
  partNumberOf(id: number): string {
    return this.partNumbers[this.material[id]!]!;
  }
  identifierOf(id: number): string {
    const bytes = this.identifierBytes.subarray(this.identifierStart[id]!, this.identifierStart[id + 1]!);
    // Short ASCII identifiers (the usual case) decode faster without a TextDecoder call.
    return this.details.asciiOnly && bytes.length <= 64 ? String.fromCharCode.apply(null, bytes as unknown as number[]) : decoder.decode(bytes);
  }
  forEachFlowOut(id: number, visit: (output: number) => void): void {
    for (let e = this.outStart[id]!, end = this.outStart[id + 1]!; e < end; e++) {
      const target = this.outTarget[e]!;
      if (target !== id && FLOW_KIND_CODES[this.outKind[e]!] && this.present[target] === 1) visit(target);
    }
  }
  hasNonReworkOut(id: number): boolean {
    for (let e = this.outStart[id]!, end = this.outStart[id + 1]!; e < end; e++) if (this.outKind[e] !== REWORK) return true;
    return false;
  }
  forEachIn(id: number, visit: (input: number, kind: EdgeKind) => void): void {
    for (let e = this.inStart[id]!, end = this.inStart[id + 1]!; e < end; e++) visit(this.inSource[e]!, EDGE_KINDS[this.inKind[e]!]!);
  }
  forEachOut(id: number, visit: (output: number, kind: EdgeKind) => void): void {
    for (let e = this.outStart[id]!, end = this.outStart[id + 1]!; e < end; e++) visit(this.outTarget[e]!, EDGE_KINDS[this.outKind[e]!]!);
  }

  // --- details (what a finding quotes) ------------------------------------------------------------

  /** The items of one material at one site, by id. */
  itemsOf(partNumber: string, site: string): number[] {
    const m = this.partNumbers.indexOf(partNumber);
    const s = this.siteCodes.indexOf(site);
    if (m < 0 || s < 0) return [];
    const k = m * this.siteCodes.length + s;
    const { byMaterialSiteStart, byMaterialSite } = this.details;
    const ids = new Array<number>(byMaterialSiteStart[k + 1]! - byMaterialSiteStart[k]!);
    for (let i = 0, at = byMaterialSiteStart[k]!; i < ids.length; i++, at++) ids[i] = byMaterialSite[at]!;
    return ids;
  }
  mayLieOnCycle(id: number): boolean {
    return this.details.onCycleCandidate[id] === 1;
  }
  quantityOf(id: number): string {
    return this.details.quantities[this.details.quantityCode[id]!]!;
  }
  /** Creation time in epoch milliseconds. */
  createdAtOf(id: number): number {
    return this.details.createdAt[id]!;
  }
  /** Every edge out of `id` with its id and time (epoch ms). */
  forEachOutEdge(id: number, visit: (edgeId: number, output: number, kind: EdgeKind, occurredAt: number) => void): void {
    const { outEdgeId, outOccurredAt } = this.details;
    for (let e = this.outStart[id]!, end = this.outStart[id + 1]!; e < end; e++)
      visit(outEdgeId[e]!, this.outTarget[e]!, EDGE_KINDS[this.outKind[e]!]!, outOccurredAt[e]!);
  }
  /** Every edge into `id` with its id. */
  forEachInEdge(id: number, visit: (edgeId: number, input: number, kind: EdgeKind) => void): void {
    const { inEdgeId } = this.details;
    for (let e = this.inStart[id]!, end = this.inStart[id + 1]!; e < end; e++) visit(inEdgeId[e]!, this.inSource[e]!, EDGE_KINDS[this.inKind[e]!]!);
  }

  /**
   * The `size` smallest distinct identifiers of `ids` in JavaScript string order, smallest first —
   * decoding only the ones kept when every identifier is ASCII (then byte order is string order).
   */
  smallestIdentifiers(ids: Iterable<number>, size: number): string[] {
    if (!this.details.asciiOnly) {
      const names: string[] = [];
      for (const id of ids) names.push(this.identifierOf(id));
      return smallestDistinct(names, size);
    }
    const bytes = this.identifierBytes;
    const starts = this.identifierStart;
    const compare = (a: number, b: number) => {
      const aEnd = starts[a + 1]!;
      const bEnd = starts[b + 1]!;
      for (let i = starts[a]!, j = starts[b]!; ; i++, j++) {
        if (i === aEnd) return j === bEnd ? 0 : -1;
        if (j === bEnd) return 1;
        const d = bytes[i]! - bytes[j]!;
        if (d !== 0) return d;
      }
    };
    const kept: number[] = [];
    const list = Array.isArray(ids) || ArrayBuffer.isView(ids) ? (ids as ArrayLike<number>) : Array.from(ids);
    for (let k = 0; k < list.length; k++) {
      const id = list[k]!;
      if (kept.length === size && compare(id, kept[size - 1]!) >= 0) continue;
      let at = kept.length;
      while (at > 0 && compare(id, kept[at - 1]!) < 0) at--;
      if (at > 0 && compare(id, kept[at - 1]!) === 0) continue;
      kept.splice(at, 0, id);
      if (kept.length > size) kept.pop();
    }
    return kept.map((id) => this.identifierOf(id));
  }

  // --- walks (the loops over the arrays; the row graph's give the same results) ---------------------

  /*
   * Scratch for the walks, as large as the plant: a state byte per item and a queue, allocated on
   * first use and reused (allocating and zeroing them per walk cost more than the walk), plus the
   * radix sort's buffers and the last top-tier set as a bitmap. A walk clears every state byte it
   * set before it returns, also when it throws. Not reentrant: walks are synchronous and none calls
   * back into another walk while it holds the scratch (`forEachConsumeTouching`'s visitor must not
   * start one on the same index); one analysis runs at a time in the single-threaded process.
   */
  #state: Uint8Array | null = null;
  #queue: Uint32Array | null = null;
  #radixBuffer = new Uint32Array(0);
  #radixCounts: Uint32Array | null = null;
  #topTier: { set: ReadonlySet<string>; bits: Uint8Array } | null = null;

  private scratch(): { state: Uint8Array; queue: Uint32Array } {
    if (!this.#state || !this.#queue) {
      this.#state = new Uint8Array(this.present.length);
      this.#queue = new Uint32Array(this.present.length);
    }
    return { state: this.#state, queue: this.#queue };
  }

  /**
   * The top-tier set as a byte per (material code × site count + site code), so the walk decides
   * "finished" with two array reads. Made once per set (an analysis makes one set).
   */
  private topTierCodes(topTier: ReadonlySet<string>): Uint8Array {
    if (this.#topTier?.set === topTier) return this.#topTier.bits;
    const sites = this.siteCodes.length;
    const bits = new Uint8Array(this.partNumbers.length * sites);
    for (let m = 0; m < this.partNumbers.length; m++) {
      for (let s = 0; s < sites; s++) if (topTier.has(topTierKey(this.partNumbers[m]!, this.siteCodes[s]!))) bits[m * sites + s] = 1;
    }
    this.#topTier = { set: topTier, bits };
    return bits;
  }

  /** `GenealogyGraph.forwardReach`: one queue holds the tiers one after another, each sorted in place. */
  forwardReach(start: readonly number[], topTierSet: ReadonlySet<string>): Reach {
    const { present, kind, material, site, outStart, outTarget, outKind } = this;
    const topTier = this.topTierCodes(topTierSet);
    const siteCount = this.siteCodes.length;
    const { state, queue } = this.scratch();
    const finished: number[] = [];
    const layerEnds: number[] = [];
    // Per material × site code: 1 where a reached non-container item's top-tier membership was read.
    const read = new Uint8Array(topTier.length);
    let tail = 0;
    let finishedUnit: Uint8Array;
    let ids: Uint32Array;
    let deepest = 0;
    // Every state byte set is cleared again, also if the walk throws: the scratch serves the next walk.
    try {
      for (const id of start) {
        if (!this.has(id) || state[id] !== 0) continue;
        state[id] = kind[id] !== LOT ? 2 : 1;
        queue[tail++] = id;
      }
      this.sortIds(queue.subarray(0, tail));
      for (let depth = 1, head = 0; head < tail; depth++) {
        deepest = depth - 1;
        const layerEnd = tail;
        layerEnds.push(layerEnd);
        for (; head < layerEnd; head++) {
          const id = queue[head]!;
          const fromUnit = state[id] === 2;
          // A finished good (ADR 010): not a container, its material a top tier of its site's BOMs.
          if (kind[id] !== CONTAINER) {
            const pair = material[id]! * siteCount + site[id]!;
            read[pair] = 1;
            if (topTier[pair] === 1) finished.push(id);
          }
          for (let e = outStart[id]!, end = outStart[id + 1]!; e < end; e++) {
            const output = outTarget[e]!;
            if (output === id || !FLOW_KIND_CODES[outKind[e]!] || present[output] !== 1) continue;
            const viaUnit = fromUnit && kind[output] !== LOT;
            if (state[output] === 0) {
              state[output] = viaUnit ? 2 : 1;
              queue[tail++] = output;
            } else if (viaUnit) {
              state[output] = 2;
            }
          }
        }
        this.sortIds(queue.subarray(layerEnd, tail));
      }
      finishedUnit = new Uint8Array(finished.length);
      for (let i = 0; i < finished.length; i++) finishedUnit[i] = state[finished[i]!] === 2 ? 1 : 0;
      ids = queue.slice(0, tail);
    } finally {
      for (let i = 0; i < tail; i++) state[queue[i]!] = 0;
    }
    const topTierRead: string[] = [];
    for (let k = 0; k < read.length; k++) {
      if (read[k]) topTierRead.push(topTierKey(this.partNumbers[Math.floor(k / siteCount)]!, this.siteCodes[k % siteCount]!));
    }
    return { ids, layerEnds, deepest, finished, finishedUnit, topTierRead };
  }

  /**
   * Sorts item ids in place: a least-significant-digit radix sort (two 16-bit passes) for large
   * tiers — a tier may hold tens of thousands of items — and the built-in sort for small ones.
   */
  private sortIds(ids: Uint32Array): void {
    const n = ids.length;
    if (n < 4096) {
      ids.sort();
      return;
    }
    if (this.#radixBuffer.length < n) this.#radixBuffer = new Uint32Array(n);
    const counts = (this.#radixCounts ??= new Uint32Array(1 << 16));
    const buffer = this.#radixBuffer.subarray(0, n);
    for (const [from, to, shift] of [
      [ids, buffer, 0],
      [buffer, ids, 16],
    ] as const) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[(from[i]! >>> shift) & 0xffff]!++;
      for (let d = 0, sum = 0; d < counts.length; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const v = from[i]!;
        to[counts[(v >>> shift) & 0xffff]!++] = v;
      }
    }
  }

  /** `GenealogyGraph.recallFinished`, with arrays of its own (a recall may run beside an analysis's walk). */
  recallFinished(start: number, isTopTier: (partNumber: string, site: string) => boolean): Recall {
    if (!this.has(start)) return { reached: 0, certain: [], candidate: [] };
    const { present, kind, outStart, outTarget, outKind, inStart, inSource } = this;
    const n = this.maxId + 1;
    const seen = new Uint8Array(n); // 1 reached, 2 reached cleanly (certain)
    const queue = new Uint32Array(n);
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 2;
    const commingling = (id: number) => {
      if (kind[id] === SERIAL) return false;
      let first = -1;
      for (let e = inStart[id]!, end = inStart[id + 1]!; e < end; e++) {
        const source = inSource[e]!;
        if (source === id) continue;
        if (first === -1) first = source;
        else if (source !== first) return true;
      }
      return false;
    };
    // Flow edges out of `id` as `forEachFlowOut` follows them, to items not seen yet: marked `mark`, queued.
    const expand = (id: number, mark: number) => {
      for (let e = outStart[id]!, end = outStart[id + 1]!; e < end; e++) {
        const out = outTarget[e]!;
        if (out === id || !FLOW_KIND_CODES[outKind[e]!] || present[out] !== 1 || seen[out] !== 0) continue;
        seen[out] = mark;
        queue[tail++] = out;
      }
    };
    // Breadth-first in two passes: first the clean (certain) region, then everything.
    const clean: number[] = [];
    while (head < tail) {
      const id = queue[head++]!;
      clean.push(id);
      if (id !== start && commingling(id)) continue;
      expand(id, 2);
    }
    head = 0;
    tail = 0;
    for (const id of clean) queue[tail++] = id;
    while (head < tail) expand(queue[head++]!, 1);
    const certain: number[] = [];
    const candidate: number[] = [];
    const topTier = new Map<number, boolean>();
    for (let i = 0; i < tail; i++) {
      const id = queue[i]!;
      if (kind[id] === CONTAINER) continue;
      const key = this.material[id]! * 65536 + this.site[id]!;
      let top = topTier.get(key);
      if (top === undefined) topTier.set(key, (top = isTopTier(this.partNumberOf(id), this.siteOf(id))));
      if (!top) continue;
      (seen[id] === 2 ? certain : candidate).push(id);
    }
    certain.sort((a, b) => a - b);
    candidate.sort((a, b) => a - b);
    return { reached: tail, certain, candidate };
  }

  forEachConsumeTouching(ids: readonly number[], visit: (input: number, output: number) => void): void {
    const { present, outStart, outTarget, outKind, inStart, inSource, inKind } = this;
    const { state: among } = this.scratch();
    try {
      for (let k = 0; k < ids.length; k++) if (this.has(ids[k]!)) among[ids[k]!] = 1;
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        if (id <= 0 || id >= present.length) continue;
        for (let e = outStart[id]!, end = outStart[id + 1]!; e < end; e++) if (outKind[e] === CONSUME) visit(id, outTarget[e]!);
        for (let e = inStart[id]!, end = inStart[id + 1]!; e < end; e++) if (inKind[e] === CONSUME && among[inSource[e]!] !== 1) visit(inSource[e]!, id);
      }
    } finally {
      for (let k = 0; k < ids.length; k++) if (this.has(ids[k]!)) among[ids[k]!] = 0;
    }
  }

  inputsOutside(ids: readonly number[], excluded: ArrayLike<number>): number[] {
    const { inStart, inSource } = this;
    const { state: mark } = this.scratch();
    const found: number[] = [];
    try {
      for (let i = 0; i < excluded.length; i++) if (this.has(excluded[i]!)) mark[excluded[i]!] = 1;
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        if (id <= 0 || id >= this.present.length) continue;
        for (let e = inStart[id]!, end = inStart[id + 1]!; e < end; e++) {
          const input = inSource[e]!;
          if (!this.has(input) || mark[input] === 1) continue;
          mark[input] = 1;
          found.push(input);
        }
      }
    } finally {
      for (let i = 0; i < excluded.length; i++) if (this.has(excluded[i]!)) mark[excluded[i]!] = 0;
      for (let k = 0; k < found.length; k++) mark[found[k]!] = 0;
    }
    return found;
  }

  // --- tallies, by codes over the arrays (a reach may hold hundreds of thousands of items) ----------

  countStatuses(ids: ArrayLike<number>, from = 0, to = ids.length): Uint32Array {
    const { status } = this;
    const counts = new Uint32Array(ITEM_STATUSES.length);
    for (let at = from; at < to; at++) counts[status[ids[at]!]!]!++;
    return counts;
  }
  countSites(ids: ArrayLike<number>): [string, number][] {
    const { site } = this;
    const counts = new Uint32Array(this.siteCodes.length);
    for (let k = 0; k < ids.length; k++) counts[site[ids[k]!]!]!++;
    const bySite: [string, number][] = [];
    for (let s = 0; s < counts.length; s++) if (counts[s]) bySite.push([this.siteCodes[s]!, counts[s]!]);
    return bySite.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  countWhereMaterial(ids: ArrayLike<number>, test: (partNumber: string) => boolean): number {
    const { material } = this;
    // Per material code: -1 not asked yet, else whether `test` holds.
    const byCode = new Int8Array(this.partNumbers.length).fill(-1);
    let count = 0;
    for (let k = 0; k < ids.length; k++) {
      const code = material[ids[k]!]!;
      if (byCode[code] === -1) byCode[code] = test(this.partNumbers[code]!) ? 1 : 0;
      count += byCode[code]!;
    }
    return count;
  }
  cycleCandidatesAmong(ids: ArrayLike<number>): number[] {
    const { onCycleCandidate } = this.details;
    const found: number[] = [];
    for (let k = 0; k < ids.length; k++) if (onCycleCandidate[ids[k]!] === 1) found.push(ids[k]!);
    return found;
  }
  consumedGoingNowhere(ids: ArrayLike<number>): number[] {
    const { status, outStart, outKind } = this;
    const found: number[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (status[id] !== CONSUMED) continue;
      let flowsOn = false;
      for (let e = outStart[id]!, end = outStart[id + 1]!; e < end && !flowsOn; e++) flowsOn = outKind[e] !== REWORK;
      if (!flowsOn) found.push(id);
    }
    return found;
  }
}

const decoder = new TextDecoder();
const REWORK = EDGE_KINDS.indexOf("rework");
const CONSUME = EDGE_KINDS.indexOf("consume");
const SERIAL = ITEM_KINDS.indexOf("serial");
const LOT = ITEM_KINDS.indexOf("lot");
const CONTAINER = ITEM_KINDS.indexOf("container");
const CONSUMED = ITEM_STATUSES.indexOf("consumed");
/** Per edge-kind code: whether it carries material on (`FLOW_KINDS`). */
export const FLOW_KIND_CODES = EDGE_KINDS.map((k) => FLOW_KINDS.has(k));
