/**
 * Per-site partitioning of the genealogy, tried on one table (ADR 047): a declaratively
 * partitioned copy of `genealogy_edges` (LIST on site_id, one partition per site and a default),
 * filled from the original, checked and timed beside it. Used by `npm run bench:replica` and the
 * partitioning integration test; nothing in the portal reads the copy.
 */
import type postgres from "postgres";

export const PARTITIONED = "genealogy_edges_by_site";

/**
 * Creates the partitioned copy and fills it. The primary key must hold the partition key, so it is
 * (id, site_id); the traversal indexes are declared once on the parent and made per partition; the
 * foreign keys to trace_items stay (a partitioned table may reference a plain one).
 */
export async function createPartitionedEdges(sql: postgres.Sql): Promise<{ partitions: { site: string; table: string }[]; copyMs: number }> {
  const started = performance.now();
  const sites = await sql<{ id: number; code: string }[]>`select id, code from sites order by id`;
  await sql.begin(async (tx) => {
    await tx.unsafe(`drop table if exists ${PARTITIONED} cascade`);
    // LIKE copies columns, defaults, NOT NULL and CHECK constraints, not the identity or the keys.
    await tx.unsafe(`create table ${PARTITIONED} (like genealogy_edges including defaults including constraints) partition by list (site_id)`);
    for (const site of sites) await tx.unsafe(`create table ${PARTITIONED}_s${site.id} partition of ${PARTITIONED} for values in (${site.id})`);
    await tx.unsafe(`create table ${PARTITIONED}_default partition of ${PARTITIONED} default`);
    await tx.unsafe(`insert into ${PARTITIONED} select * from genealogy_edges`);
    await tx.unsafe(`alter table ${PARTITIONED} add primary key (id, site_id)`);
    await tx.unsafe(`create index on ${PARTITIONED} (input_item_id, output_item_id)`);
    await tx.unsafe(`create index on ${PARTITIONED} (output_item_id, input_item_id)`);
    await tx.unsafe(
      `alter table ${PARTITIONED} add foreign key (input_item_id) references trace_items (id), add foreign key (output_item_id) references trace_items (id)`,
    );
  });
  await sql.unsafe(`vacuum analyze ${PARTITIONED}`);
  await sql.unsafe(`vacuum analyze genealogy_edges`);
  return { partitions: sites.map((s) => ({ site: s.code, table: `${PARTITIONED}_s${s.id}` })), copyMs: performance.now() - started };
}

/** Rows per partition, by the site its bound names (the default partition as site null). */
export async function rowsPerPartition(sql: postgres.Sql): Promise<Map<number | null, number>> {
  const rows = await sql.unsafe<{ bound: string; rows: string }[]>(
    `select pg_get_expr(c.relpartbound, c.oid) as bound, (select count(*) from ${PARTITIONED} e where e.tableoid = c.oid)::text as rows
     from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = '${PARTITIONED}'::regclass`,
  );
  const byPartition = new Map<number | null, number>();
  for (const row of rows) {
    const site = /FOR VALUES IN \((\d+)\)/.exec(row.bound)?.[1];
    byPartition.set(site === undefined ? null : Number(site), Number(row.rows));
  }
  return byPartition;
}

/** The tables a statement's plan scans (EXPLAIN, without running it). */
export async function scannedTables(sql: postgres.Sql, statement: string): Promise<string[]> {
  const [row] = await sql.unsafe<{ "QUERY PLAN": unknown }[]>(`explain (format json) ${statement}`);
  const found = new Set<string>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    const plan = node as Record<string, unknown>;
    if (typeof plan["Relation Name"] === "string") found.add(plan["Relation Name"]);
    for (const value of Object.values(plan)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") walk(value);
    }
  };
  walk(row!["QUERY PLAN"]);
  return [...found].sort();
}

/**
 * The impact analysis's recursive reach (app/services/impact-analysis.server.ts, genealogy
 * "query"): the changed material's items at the site, forward through every edge not superseded,
 * plus the direct inputs of its own items — over `edges` (the original or the partitioned copy).
 */
export function reachStatement(edges: string, partNumber: string, site: string): string {
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  return `with recursive own as (
      select ti.id from trace_items ti join materials m on m.id = ti.material_id join sites s on s.id = ti.site_id
      where m.part_number = ${literal(partNumber)} and s.code = ${literal(site)}
    ), reach(id) as (
      select id from own
      union
      select e.output_item_id from ${edges} e join reach r on e.input_item_id = r.id and e.superseded_at is null
    ), wanted as (
      select id from reach
      union select e.input_item_id from ${edges} e where e.output_item_id in (select id from own) and e.superseded_at is null
    )
    select count(*)::int as n, coalesce(md5(string_agg(id::text, ',' order by id)), '') as digest from wanted`;
}

/**
 * The same reach with each item's site carried along and named in the recursive step's join
 * (`e.site_id = r.site_id`), so PostgreSQL prunes partitions at run time: each step probes only the
 * partition of the item's site. Equal to `reachStatement` only where no edge crosses sites (an edge's
 * site is its event's; `crossSiteEdges` counts the others): cross-site edges would need the site of
 * each end on the edge (ADR 047).
 */
export function reachWithinSiteStatement(edges: string, partNumber: string, site: string): string {
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  return `with recursive own as (
      select ti.id, ti.site_id from trace_items ti join materials m on m.id = ti.material_id join sites s on s.id = ti.site_id
      where m.part_number = ${literal(partNumber)} and s.code = ${literal(site)}
    ), reach(id, site_id) as (
      select id, site_id from own
      union
      select e.output_item_id, e.site_id from ${edges} e join reach r on e.site_id = r.site_id and e.input_item_id = r.id and e.superseded_at is null
    ), wanted as (
      select id from reach
      union select e.input_item_id from ${edges} e join own o on e.site_id = o.site_id and e.output_item_id = o.id where e.superseded_at is null
    )
    select count(*)::int as n, coalesce(md5(string_agg(id::text, ',' order by id)), '') as digest from wanted`;
}

/** Edges whose input or output item is at another site than the edge's event (plain SQL). */
export async function crossSiteEdges(sql: postgres.Sql): Promise<number> {
  const [row] =
    await sql`select count(*)::int as n from genealogy_edges e join trace_items i on i.id = e.input_item_id join trace_items o on o.id = e.output_item_id
    where i.site_id <> e.site_id or o.site_id <> e.site_id`;
  return row!.n as number;
}

/** The partitions a statement's run actually scanned (EXPLAIN ANALYZE: loops > 0). */
export async function executedTables(sql: postgres.Sql, statement: string): Promise<string[]> {
  const [row] = await sql.unsafe<{ "QUERY PLAN": unknown }[]>(`explain (analyze, format json, timing off) ${statement}`);
  const found = new Set<string>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    const plan = node as Record<string, unknown>;
    if (typeof plan["Relation Name"] === "string" && Number(plan["Actual Loops"]) > 0) found.add(plan["Relation Name"]);
    for (const value of Object.values(plan)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") walk(value);
    }
  };
  walk(row!["QUERY PLAN"]);
  return [...found].sort();
}

export async function reach(
  sql: postgres.Sql,
  edges: string,
  partNumber: string,
  site: string,
  statement = reachStatement,
): Promise<{ n: number; digest: string; ms: number }> {
  const started = performance.now();
  const [row] = await sql.unsafe<{ n: number; digest: string }[]>(statement(edges, partNumber, site));
  return { n: row!.n, digest: row!.digest, ms: performance.now() - started };
}
