/**
 * Incremental maintenance of the compact genealogy index (ADR 044): a new `CompactGenealogy` from
 * an old one and the rows that changed since it was built, without reading the whole genealogy
 * again. The old index is left untouched (copy on apply): an analysis still walking it at its own
 * snapshot keeps a consistent graph, and the holder swaps the new one in when it is complete.
 *
 * Cost: a copy of the arrays (block copies between the rows that changed), one counting sort of
 * the items by material and site, and a forward search from the added edges that shows the
 * flow-cycle candidates unchanged (else they are recomputed over the whole plant, as the builder
 * does) — tens of milliseconds per million items instead of seconds of reading rows. The result equals what
 * `CompactGenealogyBuilder` builds from the same rows (`canonicalGenealogy`, ./compact-canonical.ts).
 * Pure: no I/O.
 */
import type { Identifies } from "../tracking-rule";
import { CompactGenealogy, FLOW_KIND_CODES } from "./compact";
import { cycleCandidates, itemsByMaterialSite } from "./compact-builder";
import { EDGE_KINDS, ITEM_KINDS, ITEM_STATUSES, type EdgeKind, type ItemStatus } from "./graph";

/** A trace item as it is now (inserted or updated since the index was built). */
export interface ItemChange {
  id: number;
  identifier: string;
  kind: Identifies;
  status: ItemStatus;
  partNumber: string;
  site: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** As PostgreSQL prints it. */
  quantity: string;
}

/** A genealogy edge as it is now; `active` false when superseded (it leaves the index). */
export interface EdgeChange {
  id: number;
  input: number;
  output: number;
  kind: EdgeKind;
  /** Epoch milliseconds. */
  occurredAt: number;
  active: boolean;
}

const encoder = new TextEncoder();

/** A change the index cannot take in place (the caller rebuilds it). */
export class CannotApply extends Error {}

/** Codes of a lookup table, extended by values not in it yet (appended, so old codes stay valid). */
function coder(values: readonly string[]): { list: string[]; code: (value: string) => number } {
  const list = [...values];
  let map: Map<string, number> | null = null;
  return {
    list,
    code(value) {
      if (!map) map = new Map(list.map((v, i) => [v, i]));
      let c = map.get(value);
      if (c === undefined) {
        c = list.length;
        list.push(value);
        map.set(value, c);
      }
      return c;
    },
  };
}

/** A copy of `old` with room for ids below `n`; ids past the old end hold `fill`. */
function grown<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, n: number, make: (n: number) => T, fill = 0): T {
  const a = make(n);
  a.set(old.length <= n ? old : old.subarray(0, n));
  if (fill !== 0 && n > old.length) a.fill(fill, old.length);
  return a;
}

/**
 * The index with `items` and `edges` applied (each as it is now; an edge id that was in the index
 * is replaced, or removed when no longer active). Edges keep their endpoints (the application
 * never moves an edge; a correction supersedes it and writes a new one). Items are never deleted
 * here: a deletion in the database makes the caller rebuild.
 */
export function applyGenealogyChanges(graph: CompactGenealogy, items: readonly ItemChange[], edges: readonly EdgeChange[]): CompactGenealogy {
  const oldN = graph.present.length;
  let n = oldN;
  for (const it of items) if (it.id + 1 > n) n = it.id + 1;
  for (const e of edges) {
    if (e.id > 0xffffffff) throw new CannotApply(`edge id ${e.id} does not fit the index (32 bits)`);
    if (e.active && Math.max(e.input, e.output) + 1 > n)
      throw new CannotApply(`edge ${e.id} names an item (${Math.max(e.input, e.output)}) the index does not hold`);
  }
  const d = graph.details;

  // --- items ----------------------------------------------------------------------------------------
  const present = grown(graph.present, n, (k) => new Uint8Array(k));
  const kind = grown(graph.kind, n, (k) => new Uint8Array(k));
  const status = grown(graph.status, n, (k) => new Uint8Array(k));
  const material = grown(graph.material, n, (k) => new Uint16Array(k));
  const site = grown(graph.site, n, (k) => new Uint16Array(k));
  const createdAt = grown(d.createdAt, n, (k) => new Float64Array(k), Number.NaN);
  const quantityCode = grown(d.quantityCode, n, (k) => new Uint32Array(k));
  const partNumbers = coder(graph.partNumbers);
  const siteCodes = coder(graph.siteCodes);
  const quantities = coder(d.quantities);
  let asciiOnly = d.asciiOnly;
  // Identifiers that differ from the index's (new items; an existing item's never changes in practice, but is handled).
  const identifiers = new Map<number, Uint8Array>();
  // An item that appears where the index already has edges (not made by this change) may complete a flow path.
  let newlyPresentWithRows = false;
  // Items leaving and joining a (material, site) group, by the old codes' key.
  const oldSiteCount = Math.max(1, graph.siteCodes.length);
  const regrouped: { id: number; from: number; to: [number, number] }[] = [];
  for (const it of items) {
    const bytes = encoder.encode(it.identifier);
    const wasPresent = it.id < oldN && graph.present[it.id] === 1;
    if (!wasPresent && it.id < oldN && (graph.outStart[it.id + 1]! > graph.outStart[it.id]! || graph.inStart[it.id + 1]! > graph.inStart[it.id]!))
      newlyPresentWithRows = true;
    if (!wasPresent || it.identifier !== graph.identifierOf(it.id)) identifiers.set(it.id, bytes);
    if (bytes.length !== it.identifier.length) asciiOnly = false;
    present[it.id] = 1;
    kind[it.id] = ITEM_KINDS.indexOf(it.kind);
    status[it.id] = ITEM_STATUSES.indexOf(it.status);
    const m = partNumbers.code(it.partNumber);
    const s = siteCodes.code(it.site);
    if (m > 0xffff || s > 0xffff) throw new CannotApply("more than 65,536 materials or sites: the index's codes are 16 bits");
    const from = wasPresent ? graph.material[it.id]! * oldSiteCount + graph.site[it.id]! : -1;
    if (!wasPresent || graph.material[it.id] !== m || graph.site[it.id] !== s) regrouped.push({ id: it.id, from, to: [m, s] });
    material[it.id] = m;
    site[it.id] = s;
    createdAt[it.id] = it.createdAt;
    quantityCode[it.id] = quantities.code(it.quantity);
  }
  const [identifierStart, identifierBytes] = spliceIdentifiers(graph.identifierStart, graph.identifierBytes, oldN, n, identifiers);

  // --- edges: the rows that changed, both ways ---------------------------------------------------------
  const outRemove = new Map<number, Set<number>>();
  const inRemove = new Map<number, Set<number>>();
  const outAdd = new Map<number, EdgeChange[]>();
  const inAdd = new Map<number, EdgeChange[]>();
  const put = <T>(map: Map<number, T[]>, key: number, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const seen = new Set<number>();
  let cyclesMayChange = newlyPresentWithRows;
  for (const e of edges) {
    if (seen.has(e.id)) throw new CannotApply(`edge ${e.id} given twice`);
    seen.add(e.id);
    // Whatever the index held under this id leaves it (found in its input's out-row); an active edge comes back as it is now.
    if (e.input < oldN) {
      for (let at = graph.outStart[e.input]!, end = graph.outStart[e.input + 1]!; at < end; at++) {
        if (d.outEdgeId[at] !== e.id) continue;
        const out = outRemove.get(e.input) ?? new Set<number>();
        out.add(e.id);
        outRemove.set(e.input, out);
        const target = graph.outTarget[at]!;
        if (FLOW_KIND_CODES[graph.outKind[at]!] && target !== e.input && d.onCycleCandidate[e.input] === 1 && d.onCycleCandidate[target] === 1)
          cyclesMayChange = true;
        const into = inRemove.get(target) ?? new Set<number>();
        into.add(e.id);
        inRemove.set(target, into);
      }
    }
    if (e.active) {
      put(outAdd, e.input, e);
      put(inAdd, e.output, e);
    }
  }
  const out = spliceRows(n, graph.outStart, graph.outTarget, graph.outKind, d.outEdgeId, d.outOccurredAt, outRemove, outAdd, (e) => e.output);
  const into = spliceRows(n, graph.inStart, graph.inSource, graph.inKind, d.inEdgeId, null, inRemove, inAdd, (e) => e.input);

  const [byMaterialSiteStart, byMaterialSite] =
    Math.max(1, siteCodes.list.length) === oldSiteCount && graph.siteCodes.length > 0
      ? regroup(d.byMaterialSiteStart, d.byMaterialSite, Math.max(1, partNumbers.list.length) * oldSiteCount, oldSiteCount, regrouped)
      : itemsByMaterialSite(present, material, site, partNumbers.list.length, siteCodes.list.length);
  const onCycleCandidate =
    cyclesMayChange || flowReachMeetsCycles(present, out.start, out.other, out.kind, edges, d.onCycleCandidate)
      ? cycleCandidates(n, present, out.start, out.other, out.kind, into.start, into.other, into.kind)
      : grown(d.onCycleCandidate, n, (k) => new Uint8Array(k));
  return new CompactGenealogy(
    present,
    kind,
    status,
    material,
    site,
    identifierStart,
    identifierBytes,
    out.start,
    out.other,
    out.kind,
    into.start,
    into.other,
    into.kind,
    partNumbers.list,
    siteCodes.list,
    {
      createdAt,
      quantityCode,
      quantities: quantities.list,
      outEdgeId: out.id,
      outOccurredAt: out.time!,
      inEdgeId: into.id,
      byMaterialSiteStart,
      byMaterialSite,
      onCycleCandidate,
      asciiOnly,
    },
  );
}

/**
 * The items by (material, site) with some items moved or added: the groups that changed are
 * rebuilt (ids ascending), the others copied as blocks. Same site count as before (the key is
 * material × site count + site); new materials only add keys at the end.
 */
function regroup(
  oldStart: Uint32Array,
  oldIds: Uint32Array,
  keys: number,
  siteCount: number,
  moves: readonly { id: number; from: number; to: [number, number] }[],
): [Uint32Array, Uint32Array] {
  const oldKeys = oldStart.length - 1;
  const startOf = (k: number) => oldStart[Math.min(k, oldKeys)]!;
  const leaving = new Map<number, Set<number>>();
  const joining = new Map<number, number[]>();
  for (const { id, from, to } of moves) {
    if (from >= 0) {
      const set = leaving.get(from) ?? new Set<number>();
      set.add(id);
      leaving.set(from, set);
    }
    const key = to[0] * siteCount + to[1];
    const list = joining.get(key);
    if (list) list.push(id);
    else joining.set(key, [id]);
  }
  const changed = [...new Set([...leaving.keys(), ...joining.keys()])].sort((a, b) => a - b);
  const groups = new Map<number, number[]>();
  let size = oldIds.length;
  for (const k of changed) {
    const gone = leaving.get(k);
    const ids: number[] = [];
    for (let at = startOf(k), end = startOf(k + 1); at < end; at++) if (!gone?.has(oldIds[at]!)) ids.push(oldIds[at]!);
    for (const id of joining.get(k) ?? []) ids.push(id);
    ids.sort((a, b) => a - b);
    size += ids.length - (startOf(k + 1) - startOf(k));
    groups.set(k, ids);
  }
  const start = new Uint32Array(keys + 1);
  const out = new Uint32Array(size);
  let shift = 0;
  let from = 0;
  const copyUpTo = (to: number) => {
    for (let k = from; k < to; k++) start[k] = startOf(k) + shift;
    out.set(oldIds.subarray(startOf(from), startOf(to)), startOf(from) + shift);
  };
  for (const k of changed) {
    copyUpTo(k);
    const ids = groups.get(k)!;
    start[k] = startOf(k) + shift;
    out.set(ids, start[k]);
    shift += ids.length - (startOf(k + 1) - startOf(k));
    from = k + 1;
  }
  copyUpTo(keys + 1);
  return [start, out];
}

/** Items a forward search from the added edges may visit before the flow-cycle candidates are recomputed instead. */
const CYCLE_SEARCH_BUDGET = 200_000;

/**
 * Whether the added flow edges may change the flow-cycle candidates — the items that lie on a flow
 * cycle or on a path from one to one (what the builder's peeling leaves). Any new cycle or new such
 * path runs through an added edge u → v, and v then reaches u (a new cycle) or an item already a
 * candidate (an old cycle): so a forward search in the new graph from the added edges' heads that
 * meets neither proves the candidates unchanged. A removed edge matters only with both ends
 * candidates (the caller checks). Over budget: "may".
 */
function flowReachMeetsCycles(
  present: Uint8Array,
  outStart: Uint32Array,
  outTarget: Uint32Array,
  outKind: Uint8Array,
  edges: readonly EdgeChange[],
  oldCandidate: Uint8Array,
): boolean {
  const tails = new Set<number>();
  const queue: number[] = [];
  const seen = new Set<number>();
  for (const e of edges) {
    if (!e.active || e.input === e.output || !FLOW_KIND_CODES[EDGE_KINDS.indexOf(e.kind)] || present[e.input] !== 1 || present[e.output] !== 1) continue;
    tails.add(e.input);
    if (!seen.has(e.output)) {
      seen.add(e.output);
      queue.push(e.output);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    if (tails.has(id) || oldCandidate[id] === 1) return true;
    if (queue.length > CYCLE_SEARCH_BUDGET) return true;
    for (let at = outStart[id]!, end = outStart[id + 1]!; at < end; at++) {
      const to = outTarget[at]!;
      if (to === id || !FLOW_KIND_CODES[outKind[at]!] || present[to] !== 1 || seen.has(to)) continue;
      seen.add(to);
      queue.push(to);
    }
  }
  return false;
}

/** start[i] = oldStart[i] + shift for i in [from, to); past the old end, the old end (empty ranges). */
function shiftStarts(start: Uint32Array, oldStart: Uint32Array, from: number, to: number, shift: number): void {
  const last = oldStart.length - 1;
  const within = Math.min(to, last + 1);
  if (shift === 0 && from < within) start.set(oldStart.subarray(from, within), from);
  else for (let i = from; i < within; i++) start[i] = oldStart[i]! + shift;
  const end = oldStart[last]! + shift;
  for (let i = Math.max(from, within); i < to; i++) start[i] = end;
}

/**
 * The identifier bytes with the ranges of `changed` ids replaced (ids in increasing order, each
 * identifier's bytes in id order, as the builder lays them out): block copies between them.
 */
function spliceIdentifiers(oldStart: Uint32Array, oldBytes: Uint8Array, oldN: number, n: number, changed: Map<number, Uint8Array>): [Uint32Array, Uint8Array] {
  // oldStart has oldN + 1 entries; ids at or past oldN had no item: an empty range at the end.
  const startOf = (id: number) => oldStart[Math.min(id, oldN)]!;
  const ids = [...changed.keys()].sort((a, b) => a - b);
  let size = oldBytes.length;
  for (const id of ids) size += changed.get(id)!.length - (startOf(id + 1) - startOf(id));
  const start = new Uint32Array(n + 1);
  const bytes = new Uint8Array(size);
  let shift = 0;
  let from = 0;
  const copyUpTo = (to: number) => {
    // Ids [from, to): same bytes, moved by `shift`.
    shiftStarts(start, oldStart, from, to, shift);
    bytes.set(oldBytes.subarray(startOf(from), startOf(to)), startOf(from) + shift);
  };
  for (const id of ids) {
    copyUpTo(id);
    const value = changed.get(id)!;
    start[id] = startOf(id) + shift;
    bytes.set(value, start[id]);
    shift += value.length - (startOf(id + 1) - startOf(id));
    from = id + 1;
  }
  copyUpTo(n + 1);
  return [start, bytes];
}

/**
 * Compressed sparse rows with some rows changed: entries removed by edge id, entries added, each
 * changed row sorted again by (other end, edge id) as the builder sorts it; the rows between are
 * copied as blocks and their starts moved by the running difference.
 */
function spliceRows(
  n: number,
  oldStart: Uint32Array,
  oldOther: Uint32Array,
  oldKind: Uint8Array,
  oldId: Uint32Array,
  oldTime: Float64Array | null,
  remove: Map<number, Set<number>>,
  add: Map<number, EdgeChange[]>,
  otherOf: (e: EdgeChange) => number,
): { start: Uint32Array; other: Uint32Array; kind: Uint8Array; id: Uint32Array; time: Float64Array | null } {
  const oldN = oldStart.length - 1;
  const startOf = (row: number) => oldStart[Math.min(row, oldN)]!;
  const rows = [...new Set([...remove.keys(), ...add.keys()])].sort((a, b) => a - b);
  // The changed rows' new entries, sorted.
  type Entry = { other: number; kind: number; id: number; time: number };
  const built = new Map<number, Entry[]>();
  let size = oldOther.length;
  for (const row of rows) {
    const gone = remove.get(row);
    const entries: Entry[] = [];
    for (let at = startOf(row), end = startOf(row + 1); at < end; at++) {
      if (gone?.has(oldId[at]!)) continue;
      entries.push({ other: oldOther[at]!, kind: oldKind[at]!, id: oldId[at]!, time: oldTime ? oldTime[at]! : 0 });
    }
    for (const e of add.get(row) ?? []) entries.push({ other: otherOf(e), kind: EDGE_KINDS.indexOf(e.kind), id: e.id, time: e.occurredAt });
    entries.sort((a, b) => a.other - b.other || a.id - b.id);
    size += entries.length - (startOf(row + 1) - startOf(row));
    built.set(row, entries);
  }
  const start = new Uint32Array(n + 1);
  const other = new Uint32Array(size);
  const kind = new Uint8Array(size);
  const id = new Uint32Array(size);
  const time = oldTime ? new Float64Array(size) : null;
  let shift = 0;
  let from = 0;
  const copyUpTo = (to: number) => {
    // Rows [from, to) unchanged: their entries move by `shift`.
    shiftStarts(start, oldStart, from, to, shift);
    const a = startOf(from);
    const b = startOf(to);
    other.set(oldOther.subarray(a, b), a + shift);
    kind.set(oldKind.subarray(a, b), a + shift);
    id.set(oldId.subarray(a, b), a + shift);
    if (time) time.set(oldTime!.subarray(a, b), a + shift);
  };
  for (const row of rows) {
    copyUpTo(row);
    const entries = built.get(row)!;
    let at = (start[row] = startOf(row) + shift);
    for (const e of entries) {
      other[at] = e.other;
      kind[at] = e.kind;
      id[at] = e.id;
      if (time) time[at] = e.time;
      at++;
    }
    shift += entries.length - (startOf(row + 1) - startOf(row));
    from = row + 1;
  }
  copyUpTo(n + 1);
  return { start, other, kind, id, time };
}
