/**
 * Genealogy as a graph the analyses walk: a small interface (`GenealogyGraph`) with two
 * implementations — one over the rows a query returned (maps), one over compact arrays in
 * compressed-sparse-row form holding a whole plant (`CompactGenealogy`, ADR 011). Pure: no I/O.
 */
import type { Identifies } from "./tracking-rule";

export const ITEM_KINDS = ["serial", "lot", "container"] as const;
export const ITEM_STATUSES = ["wip", "stock", "consumed", "shipped", "scrapped"] as const;
export const EDGE_KINDS = ["consume", "split", "merge", "repack", "rework", "scrap", "aggregate"] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];
export type EdgeKind = (typeof EDGE_KINDS)[number];
/** Edges that carry material on to a next tier; rework loops on itself, scrap leaves the flow. */
export const FLOW_KINDS: ReadonlySet<EdgeKind> = new Set(["consume", "split", "merge", "repack", "aggregate"]);

export interface GenealogyGraph {
  /** The highest item id the graph may hold (walks size their arrays by it). */
  readonly maxId: number;
  has(id: number): boolean;
  kindOf(id: number): Identifies;
  statusOf(id: number): ItemStatus;
  siteOf(id: number): string;
  partNumberOf(id: number): string;
  identifierOf(id: number): string;
  /** Each flow edge out of `id` (not a self-loop), to an item the graph holds. */
  forEachFlowOut(id: number, visit: (output: number) => void): void;
  /** Whether any edge but a rework leaves `id`. */
  hasNonReworkOut(id: number): boolean;
  /** Every edge out of `id` (one call per edge, duplicates and self-loops included). */
  forEachOut(id: number, visit: (output: number, kind: EdgeKind) => void): void;
  /** Every edge into `id`. */
  forEachIn(id: number, visit: (input: number, kind: EdgeKind) => void): void;
  /** The `size` smallest distinct identifiers of `ids` (JavaScript string order), smallest first. */
  smallestIdentifiers(ids: Iterable<number>, size: number): string[];
  /**
   * False only when no cycle of flow edges can pass through `id` (it is neither downstream nor
   * upstream of one); true is a candidate to check.
   */
  mayLieOnCycle(id: number): boolean;
}

/** The `size` smallest distinct values, in order — without sorting them all (reach sets are large). */
export function smallestDistinct(values: Iterable<string>, size: number): string[] {
  const kept: string[] = [];
  for (const v of values) {
    if (kept.length === size && !(v < kept[size - 1]!)) continue;
    let at = kept.length;
    while (at > 0 && v < kept[at - 1]!) at--;
    if (at > 0 && kept[at - 1] === v) continue;
    kept.splice(at, 0, v);
    if (kept.length > size) kept.pop();
  }
  return kept;
}

// --- over query rows ----------------------------------------------------------------------------

export interface RowItem {
  id: number;
  identifier: string;
  kind: Identifies;
  partNumber: string;
  site: string;
  status: ItemStatus;
}
export interface RowEdge {
  id: number;
  kind: EdgeKind;
  input: number;
  output: number;
}

export function graphOfRows(items: readonly RowItem[], edges: readonly RowEdge[]): GenealogyGraph {
  const byId = new Map(items.map((i) => [i.id, i]));
  const out = new Map<number, RowEdge[]>();
  const into = new Map<number, RowEdge[]>();
  for (const e of [...edges].sort((a, b) => a.id - b.id)) {
    (out.get(e.input) ?? out.set(e.input, []).get(e.input)!).push(e);
    (into.get(e.output) ?? into.set(e.output, []).get(e.output)!).push(e);
  }
  const item = (id: number) => byId.get(id)!;
  return {
    maxId: items.reduce((max, i) => Math.max(max, i.id), 0),
    has: (id) => byId.has(id),
    kindOf: (id) => item(id).kind,
    statusOf: (id) => item(id).status,
    siteOf: (id) => item(id).site,
    partNumberOf: (id) => item(id).partNumber,
    identifierOf: (id) => item(id).identifier,
    forEachFlowOut(id, visit) {
      for (const e of out.get(id) ?? []) if (FLOW_KINDS.has(e.kind) && e.output !== id && byId.has(e.output)) visit(e.output);
    },
    hasNonReworkOut: (id) => (out.get(id) ?? []).some((e) => e.kind !== "rework"),
    forEachOut(id, visit) {
      for (const e of out.get(id) ?? []) visit(e.output, e.kind);
    },
    forEachIn(id, visit) {
      for (const e of into.get(id) ?? []) visit(e.input, e.kind);
    },
    mayLieOnCycle: () => true,
    smallestIdentifiers(ids, size) {
      const names: string[] = [];
      for (const id of ids) names.push(item(id).identifier);
      return smallestDistinct(names, size);
    },
  };
}

// --- compact, whole plant -------------------------------------------------------------------------

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
    return [this.present, this.kind, this.status, this.material, this.site, this.identifierStart, this.identifierBytes, this.outStart, this.outTarget, this.outKind, this.inStart, this.inSource, this.inKind, d.createdAt, d.quantityCode, d.outEdgeId, d.outOccurredAt, d.inEdgeId, d.byMaterialSiteStart, d.byMaterialSite, d.onCycleCandidate].reduce(
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
    for (let e = this.outStart[id]!, end = this.outStart[id + 1]!; e < end; e++) visit(outEdgeId[e]!, this.outTarget[e]!, EDGE_KINDS[this.outKind[e]!]!, outOccurredAt[e]!);
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
}

const decoder = new TextDecoder();
const REWORK = EDGE_KINDS.indexOf("rework");
const FLOW_KIND_CODES = EDGE_KINDS.map((k) => FLOW_KINDS.has(k));

/** A growable typed array (amortised doubling), so loading millions of rows makes no garbage. */
class Grow<T extends Uint8Array | Uint16Array | Uint32Array> {
  length = 0;
  constructor(private data: T, private readonly make: (n: number) => T) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  pushAll(values: Uint8Array): void {
    while (this.length + values.length > this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  get(i: number): number {
    return this.data[i]!;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}
const u8 = (n: number) => new Uint8Array(n);
const u16 = (n: number) => new Uint16Array(n);
const u32 = (n: number) => new Uint32Array(n);

/** Builds the compact graph from item and edge rows (items in increasing id order; counting sort for edges). */
export class CompactGenealogyBuilder {
  private readonly ids = new Grow(u32(1024), u32);
  private readonly kinds = new Grow(u8(1024), u8);
  private readonly statuses = new Grow(u8(1024), u8);
  private readonly materialCodes = new Grow(u16(1024), u16);
  private readonly siteCodes = new Grow(u16(1024), u16);
  private readonly identifierEnds = new Grow(u32(1024), u32);
  private readonly identifierBytes = new Grow(u8(1 << 16), u8);
  private readonly edgeInput = new Grow(u32(1024), u32);
  private readonly edgeOutput = new Grow(u32(1024), u32);
  private readonly edgeKind = new Grow(u8(1024), u8);
  private readonly createdAts: number[] = [];
  private readonly quantityCodes = new Grow(u32(1024), u32);
  private readonly quantities = new Map<string, number>();
  private readonly edgeIds = new Grow(u32(1024), u32);
  private readonly edgeTimes: number[] = [];
  private readonly materials = new Map<string, number>();
  private readonly sites = new Map<string, number>();
  private readonly encoder = new TextEncoder();
  private lastId = 0;
  private ascii = true;

  private code(map: Map<string, number>, value: string): number {
    let c = map.get(value);
    if (c === undefined) map.set(value, (c = map.size));
    return c;
  }

  addItem(id: number, identifier: string, kind: Identifies, status: ItemStatus, partNumber: string, site: string, details: { createdAt: number; quantity: string } = { createdAt: Number.NaN, quantity: "" }): void {
    if (id <= this.lastId) throw new Error(`trace items must be added in increasing id order (${id} after ${this.lastId})`);
    this.lastId = id;
    this.ids.push(id);
    this.kinds.push(ITEM_KINDS.indexOf(kind));
    this.statuses.push(ITEM_STATUSES.indexOf(status));
    this.materialCodes.push(this.code(this.materials, partNumber));
    this.siteCodes.push(this.code(this.sites, site));
    const bytes = this.encoder.encode(identifier);
    if (this.ascii && bytes.length !== identifier.length) this.ascii = false;
    this.identifierBytes.pushAll(bytes);
    this.identifierEnds.push(this.identifierBytes.length);
    this.createdAts.push(details.createdAt);
    this.quantityCodes.push(this.code(this.quantities, details.quantity));
  }

  addEdge(input: number, output: number, kind: EdgeKind, details: { id: number; occurredAt: number } = { id: 0, occurredAt: Number.NaN }): void {
    if (details.id > 0xffffffff) throw new Error(`edge id ${details.id} does not fit the index (32 bits)`);
    this.edgeInput.push(input);
    this.edgeOutput.push(output);
    this.edgeKind.push(EDGE_KINDS.indexOf(kind));
    this.edgeIds.push(details.id);
    this.edgeTimes.push(details.occurredAt);
  }

  build(): CompactGenealogy {
    const n = this.lastId + 1;
    const present = new Uint8Array(n);
    const kind = new Uint8Array(n);
    const status = new Uint8Array(n);
    const material = new Uint16Array(n);
    const site = new Uint16Array(n);
    const createdAt = new Float64Array(n).fill(Number.NaN);
    const quantityCode = new Uint32Array(n);
    const identifierStart = new Uint32Array(n + 1);
    // Item i's identifier is bytes [end(i-1), end(i)); ids without an item get an empty range.
    let item = 0;
    let previousEnd = 0;
    for (let id = 0; id < n; id++) {
      identifierStart[id] = previousEnd;
      if (item < this.ids.length && this.ids.get(item) === id) {
        present[id] = 1;
        kind[id] = this.kinds.get(item);
        status[id] = this.statuses.get(item);
        material[id] = this.materialCodes.get(item);
        site[id] = this.siteCodes.get(item);
        previousEnd = this.identifierEnds.get(item);
        createdAt[id] = this.createdAts[item]!;
        quantityCode[id] = this.quantityCodes.get(item);
        item++;
      }
    }
    identifierStart[n] = previousEnd;
    const times = Float64Array.from(this.edgeTimes);
    const [outStart, outTarget, outKind, outEdgeId, outOccurredAt] = csr(n, this.edgeInput.view(), this.edgeOutput.view(), this.edgeKind.view(), this.edgeIds.view(), times);
    const [inStart, inSource, inKind, inEdgeId] = csr(n, this.edgeOutput.view(), this.edgeInput.view(), this.edgeKind.view(), this.edgeIds.view(), null);
    const invert = (m: Map<string, number>) => [...m].sort((a, b) => a[1] - b[1]).map(([v]) => v);
    // Items by material and site: a counting sort on the key, ids ascending within a key.
    const siteCount = Math.max(1, this.sites.size);
    const keys = Math.max(1, this.materials.size) * siteCount;
    const byMaterialSiteStart = new Uint32Array(keys + 1);
    for (let id = 0; id < n; id++) if (present[id]) byMaterialSiteStart[material[id]! * siteCount + site[id]! + 1]!++;
    for (let k = 0; k < keys; k++) byMaterialSiteStart[k + 1]! += byMaterialSiteStart[k]!;
    const byMaterialSite = new Uint32Array(this.ids.length);
    const next = byMaterialSiteStart.slice(0, keys);
    for (let id = 0; id < n; id++) if (present[id]) byMaterialSite[next[material[id]! * siteCount + site[id]!]!++] = id;
    const onCycleCandidate = cycleCandidates(n, present, outStart, outTarget, outKind, inStart, inSource, inKind);
    return new CompactGenealogy(present, kind, status, material, site, identifierStart, this.identifierBytes.view().slice(), outStart, outTarget, outKind, inStart, inSource, inKind, invert(this.materials), invert(this.sites), {
      createdAt,
      quantityCode,
      quantities: invert(this.quantities),
      outEdgeId,
      outOccurredAt: outOccurredAt!,
      inEdgeId,
      byMaterialSiteStart,
      byMaterialSite,
      onCycleCandidate,
      asciiOnly: this.ascii,
    });
  }
}

/**
 * The items a flow cycle may pass through: peel off, repeatedly, every item with no flow edge in
 * from a remaining item (Kahn), then likewise every item with no flow edge out to a remaining one;
 * what is left is every cycle plus what lies both downstream and upstream of one. Flow edges as
 * `forEachFlowOut` follows them: flow kinds, no self-loops, to items present.
 */
function cycleCandidates(n: number, present: Uint8Array, outStart: Uint32Array, outTarget: Uint32Array, outKind: Uint8Array, inStart: Uint32Array, inSource: Uint32Array, inKind: Uint8Array): Uint8Array {
  const left = new Uint8Array(n);
  for (let id = 0; id < n; id++) left[id] = present[id]!;
  const degree = new Uint32Array(n);
  const stack = new Uint32Array(n);
  const peel = (start: Uint32Array, other: Uint32Array, kinds: Uint8Array, reverseStart: Uint32Array, reverseOther: Uint32Array, reverseKinds: Uint8Array) => {
    // degree[id]: flow edges into id (in the direction peeled) from items still left.
    degree.fill(0);
    for (let id = 0; id < n; id++) {
      if (!left[id]) continue;
      for (let e = reverseStart[id]!, end = reverseStart[id + 1]!; e < end; e++) {
        const from = reverseOther[e]!;
        if (from !== id && FLOW_KIND_CODES[reverseKinds[e]!] && left[from]) degree[id]!++;
      }
    }
    let top = 0;
    for (let id = 0; id < n; id++) if (left[id] && degree[id] === 0) stack[top++] = id;
    while (top > 0) {
      const id = stack[--top]!;
      left[id] = 0;
      for (let e = start[id]!, end = start[id + 1]!; e < end; e++) {
        const to = other[e]!;
        if (to !== id && FLOW_KIND_CODES[kinds[e]!] && left[to] && --degree[to]! === 0) stack[top++] = to;
      }
    }
  };
  peel(outStart, outTarget, outKind, inStart, inSource, inKind);
  peel(inStart, inSource, inKind, outStart, outTarget, outKind);
  return left;
}

/**
 * Compressed sparse rows keyed by `from`, targets sorted within each row (deterministic walks); each
 * entry carries its edge's kind, id and (out rows only) time.
 */
function csr(
  n: number,
  from: Uint32Array,
  to: Uint32Array,
  kinds: Uint8Array,
  ids: Uint32Array,
  times: Float64Array | null,
): [Uint32Array, Uint32Array, Uint8Array, Uint32Array, Float64Array | null] {
  const start = new Uint32Array(n + 1);
  for (const f of from) if (f < n) start[f + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const target = new Uint32Array(from.length);
  const kind = new Uint8Array(from.length);
  const id = new Uint32Array(from.length);
  const time = times ? new Float64Array(from.length) : null;
  for (let e = 0; e < from.length; e++) {
    const f = from[e]!;
    if (f >= n) continue;
    const at = fill[f]!++;
    target[at] = to[e]!;
    kind[at] = kinds[e]!;
    id[at] = ids[e]!;
    if (time) time[at] = times![e]!;
  }
  // Sort each row by target, then edge id (rows are short: insertion sort).
  for (let i = 0; i < n; i++) {
    for (let a = start[i]! + 1; a < start[i + 1]!; a++) {
      const t = target[a]!;
      const k = kind[a]!;
      const d = id[a]!;
      const tm = time ? time[a]! : 0;
      let b = a - 1;
      while (b >= start[i]! && (target[b]! > t || (target[b] === t && id[b]! > d))) {
        target[b + 1] = target[b]!;
        kind[b + 1] = kind[b]!;
        id[b + 1] = id[b]!;
        if (time) time[b + 1] = time[b]!;
        b--;
      }
      target[b + 1] = t;
      kind[b + 1] = k;
      id[b + 1] = d;
      if (time) time[b + 1] = tm;
    }
  }
  return [start, target, kind, id, time];
}

/**
 * A forward recall over the whole plant: every finished item reachable from `start` through flow
 * edges, `certain` when some path reaches it without passing a commingling point (a lot or
 * container with more than one distinct source item), `candidate` otherwise — the definitions of
 * the explorer's recall (app/domain/genealogy-trace.ts). Typed arrays, no per-node objects.
 */
export function recallFinished(
  graph: CompactGenealogy,
  start: number,
  isTopTier: (partNumber: string, site: string) => boolean,
): { reached: number; certain: number[]; candidate: number[] } {
  if (!graph.has(start)) return { reached: 0, certain: [], candidate: [] };
  const n = graph.maxId + 1;
  const seen = new Uint8Array(n); // 1 reached, 2 reached cleanly (certain)
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = start;
  seen[start] = 2;
  const commingling = (id: number) => {
    if (graph.kind[id] === SERIAL) return false;
    let first = -1;
    for (let e = graph.inStart[id]!, end = graph.inStart[id + 1]!; e < end; e++) {
      const source = graph.inSource[e]!;
      if (source === id) continue;
      if (first === -1) first = source;
      else if (source !== first) return true;
    }
    return false;
  };
  // Breadth-first in two passes: first the clean (certain) region, then everything.
  const clean: number[] = [];
  while (head < tail) {
    const id = queue[head++]!;
    clean.push(id);
    if (id !== start && commingling(id)) continue;
    graph.forEachFlowOut(id, (out) => {
      if (seen[out] === 0) {
        seen[out] = 2;
        queue[tail++] = out;
      }
    });
  }
  head = 0;
  tail = 0;
  for (const id of clean) queue[tail++] = id;
  while (head < tail) {
    const id = queue[head++]!;
    graph.forEachFlowOut(id, (out) => {
      if (seen[out] === 0) {
        seen[out] = 1;
        queue[tail++] = out;
      }
    });
  }
  const certain: number[] = [];
  const candidate: number[] = [];
  const topTier = new Map<number, boolean>();
  for (let i = 0; i < tail; i++) {
    const id = queue[i]!;
    if (graph.kind[id] === CONTAINER) continue;
    const key = graph.material[id]! * 65536 + graph.site[id]!;
    let top = topTier.get(key);
    if (top === undefined) topTier.set(key, (top = isTopTier(graph.partNumberOf(id), graph.siteOf(id))));
    if (!top) continue;
    (seen[id] === 2 ? certain : candidate).push(id);
  }
  certain.sort((a, b) => a - b);
  candidate.sort((a, b) => a - b);
  return { reached: tail, certain, candidate };
}
const SERIAL = ITEM_KINDS.indexOf("serial");
const CONTAINER = ITEM_KINDS.indexOf("container");
