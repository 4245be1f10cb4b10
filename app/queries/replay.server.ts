/**
 * What the replay of the last 90 days reads (ADR 041), inside the analysis's snapshot: the routing
 * of the changes' sites and the genealogy edges of the window that a change can be judged on —
 * edges out of the changed materials' items and out of the items of their BOM alternates (or the
 * primaries they are alternates of), and edges into the changed materials' items — each with both
 * items' facts. The rest of the replay's input is the analysis's own input (rules, formats, BOM
 * lines, label templates), read once.
 */
import { sql } from "drizzle-orm";
import type { AnalysisInput } from "../domain/impact-analysis";
import { REPLAY_WINDOW_DAYS, type ReplayEdge, type ReplayInput, type ReplayItem, type ReplayRule } from "../domain/replay/report";
import type { ConsumptionScan, Identifies } from "../domain/tracking-rule";
import type { Reader } from "./impact-analysis-currency.server";

const DAY_MS = 86_400_000;

type EdgeRow = {
  id: string;
  event_ref: string;
  kind: ReplayEdge["kind"];
  quantity: string;
  occurred_at: string;
  work_order: string | null;
  input: string;
  input_identifier: string;
  input_kind: Identifies;
  input_part: string;
  input_site: string;
  output: string;
  output_identifier: string;
  output_kind: Identifies;
  output_part: string;
  output_site: string;
};

/** The window's edges a change can be judged on (see the module comment), with both items. */
export function replayEdgesQuery(pairs: readonly { partNumber: string; site: string }[], from: string, to: string) {
  const values = pairs.length
    ? sql.join(
        pairs.map((p) => sql`(${p.partNumber}, ${p.site})`),
        sql`, `,
      )
    : sql`('', '')`;
  return sql`with ch(part, site) as (values ${values}),
      own as (
        select m.id as material_id, s.id as site_id from ch join materials m on m.part_number = ch.part join sites s on s.code = ch.site
      ),
      rel as (
        select material_id, site_id from own
        union select a.material_id, bl.site_id from own o join bom_lines bl on bl.component_material_id = o.material_id and bl.site_id = o.site_id
          join bom_line_alternates a on a.bom_line_id = bl.id
        union select bl.component_material_id, bl.site_id from own o join bom_line_alternates a on a.material_id = o.material_id
          join bom_lines bl on bl.id = a.bom_line_id and bl.site_id = o.site_id
      ),
      picked as (
        select e.id from genealogy_edges e join trace_items i on i.id = e.input_item_id join rel on rel.material_id = i.material_id and rel.site_id = i.site_id
        where e.superseded_at is null and e.occurred_at >= ${from}::timestamptz and e.occurred_at < ${to}::timestamptz
        union
        select e.id from genealogy_edges e join trace_items o on o.id = e.output_item_id join own on own.material_id = o.material_id and own.site_id = o.site_id
        where e.superseded_at is null and e.occurred_at >= ${from}::timestamptz and e.occurred_at < ${to}::timestamptz
      )
      select e.id, e.event_ref, e.kind, e.quantity::text as quantity,
        to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at, w.number as work_order,
        i.id as input, i.identifier as input_identifier, i.kind as input_kind, im.part_number as input_part, isite.code as input_site,
        o.id as output, o.identifier as output_identifier, o.kind as output_kind, om.part_number as output_part, osite.code as output_site
      from genealogy_edges e join picked p on p.id = e.id
      join trace_items i on i.id = e.input_item_id join materials im on im.id = i.material_id join sites isite on isite.id = i.site_id
      join trace_items o on o.id = e.output_item_id join materials om on om.id = o.material_id join sites osite on osite.id = o.site_id
      left join work_orders w on w.id = e.work_order_id
      order by e.id`;
}

/** The replay's input, read through the analysis's snapshot reader, from the analysis's own input. */
export async function readReplayInput(read: Reader, analysis: AnalysisInput): Promise<ReplayInput> {
  const sites = [...new Set(analysis.changes.map((c) => c.site))].sort();
  const to = analysis.dataPoint.at;
  const from = new Date(Date.parse(to) - REPLAY_WINDOW_DAYS * DAY_MS).toISOString();
  const siteArray = sql`array[${sql.join(
    (sites.length ? sites : [""]).map((s) => sql`${s}`),
    sql`, `,
  )}]::text[]`;
  const [routingRows, edgeRows] = await Promise.all([
    read<{ site: string; parent: string; step: number; work_centre: string; component: string | null; consumption_scan: ConsumptionScan | null }>(
      sql`select s.code as site, p.part_number as parent, o.step, o.work_centre, c.part_number as component, om.consumption_scan
        from routing_operations o join sites s on s.id = o.site_id join materials p on p.id = o.material_id
        left join routing_operation_materials om on om.operation_id = o.id left join materials c on c.id = om.material_id
        where s.code = any(${siteArray}) order by s.code, p.part_number, o.step, c.part_number nulls first`,
    ),
    read<EdgeRow>(replayEdgesQuery(analysis.changes, from, to)),
  ]);
  const items = new Map<number, ReplayItem>();
  const edges: ReplayEdge[] = [];
  for (const r of edgeRows) {
    const input = Number(r.input);
    const output = Number(r.output);
    if (!items.has(input)) items.set(input, { id: input, identifier: r.input_identifier, kind: r.input_kind, partNumber: r.input_part, site: r.input_site });
    if (!items.has(output))
      items.set(output, { id: output, identifier: r.output_identifier, kind: r.output_kind, partNumber: r.output_part, site: r.output_site });
    edges.push({
      id: Number(r.id),
      eventRef: r.event_ref,
      kind: r.kind,
      input,
      output,
      quantity: r.quantity,
      occurredAt: r.occurred_at,
      workOrder: r.work_order,
    });
  }
  const ruled = (state: AnalysisInput["rulesBefore"][string] | undefined): ReplayRule | null =>
    state?.state === "ruled"
      ? {
          trackingMode: state.trackingMode,
          containerTracking: state.containerTracking,
          consumptionScan: state.consumptionScan,
          identifierFormatCodes: state.identifierFormatCodes,
        }
      : null;
  const rulesBefore: Record<string, ReplayRule> = {};
  for (const [k, state] of Object.entries(analysis.rulesBefore)) {
    const rule = ruled(state);
    if (rule) rulesBefore[k] = rule;
  }
  return {
    changeRequest: analysis.changeRequest,
    dataPoint: analysis.dataPoint,
    changes: analysis.changes.map((c) => ({ partNumber: c.partNumber, site: c.site, before: ruled(c.before), after: ruled(c.after)! })),
    rulesBefore,
    formats: analysis.formats,
    bomLines: analysis.bomLines,
    routing: routingRows.map((r) => ({
      site: r.site,
      parent: r.parent,
      step: Number(r.step),
      workCentre: r.work_centre,
      component: r.component,
      consumptionScan: r.consumption_scan,
    })),
    labelTemplates: analysis.labelTemplates.map((t) => ({ site: t.site, code: t.code, workCentre: t.workCentre, formats: t.formats })),
    items: [...items.values()],
    edges,
  };
}
