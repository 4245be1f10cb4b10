/**
 * The finished-goods oracle: plain recursive SQL, written here and sharing no code with
 * the impact analysis or the explorer. Definition (ADR 010): a finished good is a non-container
 * trace item whose material is a top tier of its site's BOMs — the parent of some BOM line at the
 * site and neither a component nor an alternate of any line there — whatever its status. It is
 * reached from an item along material flow (consume, split, merge, repack, aggregate edges, not
 * superseded, not an item to itself), through containers like through anything else; an item
 * reaches itself.
 */
import type postgres from "postgres";

const TOP_TIER = `
  top_tier as (
    select distinct b.parent_material_id as material_id, b.site_id
    from bom_lines b
    where not exists (select 1 from bom_lines c where c.site_id = b.site_id and c.component_material_id = b.parent_material_id)
      and not exists (
        select 1 from bom_line_alternates a join bom_lines l on l.id = a.bom_line_id
        where l.site_id = b.site_id and a.material_id = b.parent_material_id)
  ),
  flow as materialized (
    select input_item_id as from_id, output_item_id as to_id
    from genealogy_edges
    where superseded_at is null and input_item_id <> output_item_id
      and kind::text in ('consume', 'split', 'merge', 'repack', 'aggregate')
  )`;

const FINISHED = `t.kind::text <> 'container' and exists (select 1 from top_tier tt where tt.material_id = t.material_id and tt.site_id = t.site_id)`;

/** `PART|SITE` → number of distinct finished goods reachable. */
export type PairCounts = Map<string, number>;

/**
 * For every material × site that has items: the finished goods reachable from its own items
 * (`from: "all"`, the REACH figure), or from its own items of the kind its rule in force tracks
 * (`from: "tracked"`: serials of a serial-tracked material, lots of a lot-tracked one — the
 * PRECISION_LOSS figure; untracked and unruled materials have none). `pairs` narrows it.
 */
export async function finishedByPair(sql: postgres.Sql, from: "all" | "tracked", pairs?: readonly { partNumber: string; site: string }[]): Promise<PairCounts> {
  const keys = pairs ? pairs.map((p) => `${p.partNumber}|${p.site}`) : null;
  const start =
    from === "all"
      ? `select t.material_id, t.site_id, t.id from trace_items t`
      : `select t.material_id, t.site_id, t.id from trace_items t
         join tracking_rules r on r.material_id = t.material_id and r.site_id = t.site_id and r.effective_to is null
         where r.tracking_mode::text in ('serial', 'lot') and t.kind::text = r.tracking_mode::text`;
  const rows = await sql.unsafe<{ part_number: string; site: string; finished: number }[]>(
    `with recursive ${TOP_TIER},
     wanted as materialized (
       select m.id as material_id, s.id as site_id from materials m cross join sites s
       where m.system_role is null and ($1::text[] is null or (m.part_number || '|' || s.code) = any($1::text[]))
     ),
     own as materialized (
       select x.material_id, x.site_id, x.id from (${start}) x join wanted w on w.material_id = x.material_id and w.site_id = x.site_id
     ),
     reach(material_id, site_id, item_id) as (
       select material_id, site_id, id from own
       union
       select r.material_id, r.site_id, f.to_id from reach r join flow f on f.from_id = r.item_id
     )
     select m.part_number, s.code as site, (count(*) filter (where ${FINISHED}))::int as finished
     from reach r join trace_items t on t.id = r.item_id
     join materials m on m.id = r.material_id join sites s on s.id = r.site_id
     group by m.part_number, s.code`,
    [keys as never],
  );
  return new Map(rows.map((r) => [`${r.part_number}|${r.site}`, r.finished]));
}

/** For each starting item: the ids of the finished goods reachable from it, in increasing order. */
export async function finishedFromItems(sql: postgres.Sql, itemIds: readonly number[]): Promise<Map<number, number[]>> {
  const rows = await sql.unsafe<{ start_id: string; finished: string[] | null }[]>(
    `with recursive ${TOP_TIER},
     reach(start_id, item_id) as (
       select id, id from trace_items where id = any($1::bigint[])
       union
       select r.start_id, f.to_id from reach r join flow f on f.from_id = r.item_id
     )
     select r.start_id::text as start_id, array_agg(t.id::text order by t.id) filter (where ${FINISHED}) as finished
     from reach r join trace_items t on t.id = r.item_id
     group by r.start_id`,
    [itemIds.map(String) as never],
  );
  const result = new Map<number, number[]>(itemIds.map((id) => [id, []]));
  for (const r of rows) result.set(Number(r.start_id), (r.finished ?? []).map(Number));
  return result;
}

/**
 * Runs the explorer's recall from each item (a few at a time: each walks tier by tier, waiting on
 * the database between tiers) and lists every item whose finished goods differ from `expected`.
 */
export async function recallMismatches(
  recall: (itemId: number) => Promise<{ rows: { id: number }[]; truncated: boolean } | null>,
  expected: ReadonlyMap<number, readonly number[]>,
  concurrency = 6,
): Promise<string[]> {
  const ids = [...expected.keys()];
  const mismatches: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const result = await recall(id);
      if (!result) {
        mismatches.push(`${id}: no recall`);
        continue;
      }
      if (result.truncated) mismatches.push(`${id}: recall truncated`);
      const got = result.rows.map((r) => r.id).sort((a, b) => a - b);
      const want = expected.get(id)!;
      if (got.length !== want.length || got.some((g, i) => g !== want[i])) {
        const missing = want.filter((w) => !got.includes(w)).slice(0, 5);
        const extra = got.filter((g) => !want.includes(g)).slice(0, 5);
        mismatches.push(`${id}: recall ${got.length}, oracle ${want.length} (missing ${missing.join(",")}; extra ${extra.join(",")})`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return mismatches;
}
