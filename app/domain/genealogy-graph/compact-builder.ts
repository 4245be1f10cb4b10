/**
 * Builds the compact genealogy index (`CompactGenealogy`, ADR 011) from item and edge rows:
 * growable typed arrays while loading, then compressed sparse rows both ways, the items by
 * (material, site) and the flow-cycle candidates. Pure: no I/O.
 */
import type { Identifies } from "../tracking-rule";
import { CompactGenealogy, FLOW_KIND_CODES } from "./compact";
import { EDGE_KINDS, ITEM_KINDS, ITEM_STATUSES, type EdgeKind, type ItemStatus } from "./graph";

/** A growable typed array (amortised doubling), so loading millions of rows makes no garbage. */
class Grow<T extends Uint8Array | Uint16Array | Uint32Array> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}
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

  addItem(
    id: number,
    identifier: string,
    kind: Identifies,
    status: ItemStatus,
    partNumber: string,
    site: string,
    details: { createdAt: number; quantity: string } = { createdAt: Number.NaN, quantity: "" },
  ): void {
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
    const [outStart, outTarget, outKind, outEdgeId, outOccurredAt] = csr(
      n,
      this.edgeInput.view(),
      this.edgeOutput.view(),
      this.edgeKind.view(),
      this.edgeIds.view(),
      times,
    );
    const [inStart, inSource, inKind, inEdgeId] = csr(n, this.edgeOutput.view(), this.edgeInput.view(), this.edgeKind.view(), this.edgeIds.view(), null);
    const invert = (m: Map<string, number>) => [...m].sort((a, b) => a[1] - b[1]).map(([v]) => v);
    const [byMaterialSiteStart, byMaterialSite] = itemsByMaterialSite(present, material, site, this.materials.size, this.sites.size);
    const onCycleCandidate = cycleCandidates(n, present, outStart, outTarget, outKind, inStart, inSource, inKind);
    return new CompactGenealogy(
      present,
      kind,
      status,
      material,
      site,
      identifierStart,
      this.identifierBytes.view().slice(),
      outStart,
      outTarget,
      outKind,
      inStart,
      inSource,
      inKind,
      invert(this.materials),
      invert(this.sites),
      {
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
      },
    );
  }
}

/** Items by material and site: a counting sort on the key (material × site count + site), ids ascending within a key. */
export function itemsByMaterialSite(
  present: Uint8Array,
  material: Uint16Array,
  site: Uint16Array,
  materialCount: number,
  siteCount_: number,
): [Uint32Array, Uint32Array] {
  const n = present.length;
  const siteCount = Math.max(1, siteCount_);
  const keys = Math.max(1, materialCount) * siteCount;
  const byMaterialSiteStart = new Uint32Array(keys + 1);
  let items = 0;
  for (let id = 0; id < n; id++) {
    if (!present[id]) continue;
    byMaterialSiteStart[material[id]! * siteCount + site[id]! + 1]!++;
    items++;
  }
  for (let k = 0; k < keys; k++) byMaterialSiteStart[k + 1]! += byMaterialSiteStart[k]!;
  const byMaterialSite = new Uint32Array(items);
  const next = byMaterialSiteStart.slice(0, keys);
  for (let id = 0; id < n; id++) if (present[id]) byMaterialSite[next[material[id]! * siteCount + site[id]!]!++] = id;
  return [byMaterialSiteStart, byMaterialSite];
}

/**
 * The items a flow cycle may pass through: peel off, repeatedly, every item with no flow edge in
 * from a remaining item (Kahn), then likewise every item with no flow edge out to a remaining one;
 * what is left is every cycle plus what lies both downstream and upstream of one. Flow edges as
 * `forEachFlowOut` follows them: flow kinds, no self-loops, to items present.
 */
export function cycleCandidates(
  n: number,
  present: Uint8Array,
  outStart: Uint32Array,
  outTarget: Uint32Array,
  outKind: Uint8Array,
  inStart: Uint32Array,
  inSource: Uint32Array,
  inKind: Uint8Array,
): Uint8Array {
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
