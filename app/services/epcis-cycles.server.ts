/**
 * Genealogy cycles an EPCIS import would store (ADR 024): material flowing back into its own source,
 * within the document (A → B in one event, B → A in another) or with the genealogy already held
 * (held B → A, the document adds A → B). Checked inside the import's transaction after its edges
 * are written, by one set-based statement over the edges it wrote; the caller refuses (rolls back)
 * when one is found. Only flow edges count (FLOW_KINDS: a rework loop and scrap are no flow), and
 * only edges not superseded by an error declaration.
 */
import { sql, type SQL } from "drizzle-orm";
import { FLOW_KINDS } from "../domain/genealogy-graph/graph";
import type { Tx } from "../utils/db.server";

/** The edges to check: written after `sinceEdgeId`, by this document (`fileDigest`) or by these events. */
export type NewEdges = { sinceEdgeId: number } & ({ fileDigest: string } | { eventKeys: readonly string[] });

export interface CycleEdge {
  edgeId: number;
  from: string;
  to: string;
  /** Where the edge comes from: `event 3`, `event 12 of the document with SHA-256 …`, `edge 40 (manual)`. */
  source: string;
  /** The edge's event in the document being imported (its index), or null. */
  eventIndex: number | null;
}

/** Cycles reported at most (each one is a refusal; more add nothing to fix first). */
const MAX_CYCLES = 10;
/** A path back longer than this is not looked for when describing a cycle (it is still refused). */
const MAX_DEPTH = 256;

const flowKinds = () =>
  sql.join(
    [...FLOW_KINDS].map((k) => sql`${k}`),
    sql`, `,
  );

/** The high-water mark of edge ids before an import writes any (edges after it are candidates). */
export async function lastEdgeId(tx: Tx): Promise<number> {
  const [row] = await tx.execute<{ id: number | null }>(sql`select max(id) as id from genealogy_edges`);
  return Number(row?.id ?? 0);
}

function scopeOf(edges: NewEdges): SQL {
  return "fileDigest" in edges
    ? sql`g.provenance_file_digest = ${edges.fileDigest}`
    : sql`g.provenance_event_id in (select jsonb_array_elements_text(${JSON.stringify(edges.eventKeys)}::jsonb))`;
}

/**
 * The cycles through the new edges, each as its edges in flow order starting with a new one; the
 * first `MAX_CYCLES` of them. `digest`: the document being imported, to say `event N` for its own
 * events. One recursive statement decides (every new edge's output followed forward until its
 * input is met or nothing new is reached); only when it finds one are the cycles traced back.
 */
export async function findNewCycles(tx: Tx, edges: NewEdges, digest: string | null): Promise<CycleEdge[][]> {
  const closing = await tx.execute<{ id: number; u: number; v: number }>(sql`
    with recursive fresh as materialized (
      select g.id, g.input_item_id as u, g.output_item_id as v from genealogy_edges g
      where g.id > ${edges.sinceEdgeId} and g.provenance_kind = 'import' and ${scopeOf(edges)}
        and g.superseded_at is null and g.kind::text in (${flowKinds()}) and g.input_item_id <> g.output_item_id
        -- On a cycle, the edge's input has a flow in and its output a flow out (two index probes).
        and exists (select 1 from genealogy_edges i where i.output_item_id = g.input_item_id and i.superseded_at is null
                    and i.kind::text in (${flowKinds()}) and i.input_item_id <> i.output_item_id)
        and exists (select 1 from genealogy_edges o where o.input_item_id = g.output_item_id and o.superseded_at is null
                    and o.kind::text in (${flowKinds()}) and o.input_item_id <> o.output_item_id)
    ), reach(origin, node) as (
      select id, v from fresh
      union
      select r.origin, e.output_item_id from reach r join genealogy_edges e on e.input_item_id = r.node
      where e.superseded_at is null and e.kind::text in (${flowKinds()}) and e.input_item_id <> e.output_item_id
    )
    select f.id, f.u, f.v from fresh f join reach r on r.origin = f.id and r.node = f.u order by f.id limit 200`);
  if (!closing.length) return [];
  const cycles: number[][] = [];
  const covered = new Set<number>();
  for (const c of closing) {
    if (cycles.length >= MAX_CYCLES) break;
    if (covered.has(Number(c.id))) continue;
    const path = await pathBack(tx, Number(c.v), Number(c.u));
    const cycle = [Number(c.id), ...path];
    for (const id of cycle) covered.add(id);
    cycles.push(cycle);
  }
  // Each cycle starts at the earliest event of the document being imported that it passes through.
  return (await describe(tx, cycles, digest)).map((cycle) => {
    const own = cycle.filter((e) => e.eventIndex !== null);
    if (!own.length) return cycle;
    const first = cycle.indexOf(own.reduce((a, b) => (b.eventIndex! < a.eventIndex! ? b : a)));
    return [...cycle.slice(first), ...cycle.slice(0, first)];
  });
}

/** The shortest flow path from `from` to `to` (breadth first, one statement per step), as edge ids. */
async function pathBack(tx: Tx, from: number, to: number): Promise<number[]> {
  const reachedBy = new Map<number, { edge: number; prev: number }>();
  const seen = new Set([from]);
  let frontier = [from];
  for (let depth = 0; depth < MAX_DEPTH && frontier.length && !reachedBy.has(to); depth++) {
    const rows = await tx.execute<{ id: number; input_item_id: number; output_item_id: number }>(sql`
      select id, input_item_id, output_item_id from genealogy_edges
      where input_item_id in (select jsonb_array_elements_text(${JSON.stringify(frontier)}::jsonb)::bigint)
        and superseded_at is null and kind::text in (${flowKinds()}) and input_item_id <> output_item_id order by id`);
    const next: number[] = [];
    for (const r of rows) {
      const out = Number(r.output_item_id);
      if (seen.has(out)) continue;
      seen.add(out);
      reachedBy.set(out, { edge: Number(r.id), prev: Number(r.input_item_id) });
      next.push(out);
    }
    frontier = next;
  }
  const path: number[] = [];
  for (let node = to; node !== from; ) {
    const step = reachedBy.get(node);
    if (!step) break; // longer than MAX_DEPTH: the cycle is reported by its closing edge alone
    path.unshift(step.edge);
    node = step.prev;
  }
  return path;
}

function itemLabel(r: { kind: string; identifier: string; gtin: string | null; part_number: string }): string {
  if (r.kind === "container") return `SSCC ${r.identifier}`;
  if (!r.gtin) return `${r.part_number} ${r.identifier}`;
  if (r.identifier.startsWith("(01)")) return r.identifier;
  return `(01)${r.gtin}(${r.kind === "serial" ? "21" : "10"})${r.identifier}`;
}

async function describe(tx: Tx, cycles: number[][], digest: string | null): Promise<CycleEdge[][]> {
  const ids = [...new Set(cycles.flat())];
  const rows = await tx.execute<{
    id: number;
    provenance_kind: string;
    event_ref: string;
    event_index: number | null;
    file_digest: string | null;
    a_kind: string;
    a_identifier: string;
    a_gtin: string | null;
    a_part: string;
    b_kind: string;
    b_identifier: string;
    b_gtin: string | null;
    b_part: string;
  }>(sql`
    select g.id, g.provenance_kind::text as provenance_kind, g.event_ref, ev.event_index, ev.file_digest,
           a.kind::text as a_kind, a.identifier as a_identifier, ma.gtin as a_gtin, ma.part_number as a_part,
           b.kind::text as b_kind, b.identifier as b_identifier, mb.gtin as b_gtin, mb.part_number as b_part
    from genealogy_edges g
    join trace_items a on a.id = g.input_item_id join materials ma on ma.id = a.material_id
    join trace_items b on b.id = g.output_item_id join materials mb on mb.id = b.material_id
    left join epcis_events ev on g.provenance_kind = 'import' and ev.event_key = g.event_ref
    where g.id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::bigint)`);
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return cycles.map((cycle) =>
    cycle.map((id) => {
      const r = byId.get(id)!;
      const own = r.file_digest !== null && r.file_digest === digest;
      const source =
        r.file_digest === null
          ? `edge ${id} (${r.provenance_kind}, ${r.event_ref})`
          : own
            ? `event ${r.event_index}`
            : `event ${r.event_index} of the document with SHA-256 ${r.file_digest}`;
      return {
        edgeId: id,
        from: itemLabel({ kind: r.a_kind, identifier: r.a_identifier, gtin: r.a_gtin, part_number: r.a_part }),
        to: itemLabel({ kind: r.b_kind, identifier: r.b_identifier, gtin: r.b_gtin, part_number: r.b_part }),
        source,
        eventIndex: own ? Number(r.event_index) : null,
      };
    }),
  );
}

/** `A →(event 1) B →(event 5) A`: a cycle as one line. */
export function cycleText(cycle: readonly CycleEdge[]): string {
  if (!cycle.length) return "";
  return `${cycle[0]!.from} ${cycle.map((e) => `→(${e.source}) ${e.to}`).join(" ")}`;
}
