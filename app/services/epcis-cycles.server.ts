/**
 * Genealogy cycles an EPCIS import would store (ADR 024): material flowing back into its own source,
 * within the document (A → B in one event, B → A in another) or with the genealogy already held
 * (held B → A, the document adds A → B). Checked inside the import's transaction after its edges
 * are written, by one set-based statement over the edges it wrote and the genealogy around them;
 * the caller refuses (rolls back) when one is found. Only flow edges count (FLOW_KINDS: a rework loop and scrap are no flow), and
 * only edges not superseded by an error declaration.
 */
import { sql, type SQL } from "drizzle-orm";
import { cyclesThroughFresh } from "../domain/epcis/plausibility";
import { FLOW_KINDS } from "../domain/genealogy-graph/graph";
import type { EpcisIssue } from "../domain/epcis/validate";
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

/** Whether edge `e` (an alias) is one of the new edges. */
function isNew(e: string, edges: NewEdges): SQL {
  const a = sql.raw(e);
  const scope =
    "fileDigest" in edges
      ? sql`${a}.provenance_file_digest = ${edges.fileDigest}`
      : sql`${a}.provenance_event_id in (select jsonb_array_elements_text(${JSON.stringify(edges.eventKeys)}::jsonb))`;
  return sql`${a}.id > ${edges.sinceEdgeId} and ${a}.provenance_kind = 'import' and ${scope}`;
}

/**
 * The cycles through the new edges, each as its edges in flow order; one per strongly connected
 * part of the genealogy, at most `MAX_CYCLES`. `digest`: the document being imported, to say
 * `event N` for its own events. One statement finds the only part of the genealogy a cycle
 * through a new edge can lie in — what is reachable from a new edge's output *and* reaches a new
 * edge's input (two recursive walks over items, each item visited once) — and returns its edges;
 * the cycles among them are found in memory (cyclesThroughFresh, linear).
 */
export async function findNewCycles(tx: Tx, edges: NewEdges, digest: string | null): Promise<CycleEdge[][]> {
  const flow = (e: string) =>
    sql`${sql.raw(e)}.superseded_at is null and ${sql.raw(e)}.kind::text in (${flowKinds()}) and ${sql.raw(e)}.input_item_id <> ${sql.raw(e)}.output_item_id`;
  const statement = sql`
    with recursive fresh as materialized (
      select g.id, g.input_item_id as u, g.output_item_id as v from genealogy_edges g
      where ${isNew("g", edges)} and ${flow("g")}
        -- On a cycle, the edge's input has a flow in and its output a flow out (two index probes).
        and exists (select 1 from genealogy_edges i where i.output_item_id = g.input_item_id and ${flow("i")})
        and exists (select 1 from genealogy_edges o where o.input_item_id = g.output_item_id and ${flow("o")})
    ), downstream(node) as (
      select v from fresh
      union
      select e.output_item_id from downstream d join genealogy_edges e on e.input_item_id = d.node where ${flow("e")}
    ), upstream(node) as (
      select u from fresh
      union
      select e.input_item_id from upstream d join genealogy_edges e on e.output_item_id = d.node where ${flow("e")}
    ), core as materialized (
      select node from downstream intersect select node from upstream
    )
    -- The flow edges out of the core; those staying in it are kept below. Every core item has one
    -- (towards a new edge's input, or, being one, that new edge), so the core is their inputs.
    select e.id, e.input_item_id, e.output_item_id, ${isNew("e", edges)} as fresh
    from core c join genealogy_edges e on e.input_item_id = c.node
    where ${flow("e")}`;
  // The planner's statistics do not know the rows this transaction just wrote (a whole document's
  // edges may look like none): left to itself it may scan the table once per step of a walk.
  // Every step here is an index lookup (genealogy_edges_input / _output, the primary key for the
  // new edges), so scans are ruled out for this statement only.
  const [{ prior } = { prior: "on" }] = await tx.execute<{ prior: string }>(sql`select current_setting('enable_seqscan') as prior`);
  await tx.execute(sql`select set_config('enable_seqscan', 'off', true)`);
  const rows = await tx.execute<{ id: number; input_item_id: number; output_item_id: number; fresh: boolean }>(statement);
  await tx.execute(sql`select set_config('enable_seqscan', ${prior}, true)`);
  if (!rows.length) return [];
  const core = new Set(rows.map((r) => Number(r.input_item_id)));
  const cycles = cyclesThroughFresh(
    rows
      .filter((r) => core.has(Number(r.output_item_id)))
      .map((r) => ({ id: Number(r.id), input: Number(r.input_item_id), output: Number(r.output_item_id), fresh: r.fresh })),
    MAX_CYCLES,
  );
  if (!cycles.length) return [];
  // Each cycle starts at the earliest event of the document being imported that it passes through.
  return (await describe(tx, cycles, digest)).map((cycle) => {
    const own = cycle.filter((e) => e.eventIndex !== null);
    if (!own.length) return cycle;
    const first = cycle.indexOf(own.reduce((a, b) => (b.eventIndex! < a.eventIndex! ? b : a)));
    return [...cycle.slice(first), ...cycle.slice(0, first)];
  });
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

/** A cycle located at the earliest of this document's events it passes through (its first edge). */
export function cycleIssue(cycle: Awaited<ReturnType<typeof findNewCycles>>[number]): EpcisIssue {
  const index = cycle[0]?.eventIndex ?? null;
  return {
    eventIndex: index,
    path: index === null ? "" : `/epcisBody/eventList/${index}`,
    message: `genealogy cycle: ${cycleText(cycle)}; material would flow back into its own source, and a recall over a cycle is undefined (ADR 024)`,
  };
}
