/**
 * Impact analysis use cases: run an analysis of a change request (read one consistent snapshot,
 * compute, store the canonical report with its SHA-256, audit). Whether the latest analysis is
 * still current — the condition for the next signature (ADR 010) — is a read:
 * app/queries/impact-analysis-currency.server.ts.
 */
import { UNDECIDED_STATUSES } from "../domain/change-request-lifecycle";
import { createHash } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { impactAnalyses } from "../../db/schema";
import type { ExpandedChange, ExpandedTrackingChange } from "../domain/change-request";
import {
  analyseChangeRequestReads,
  itemsOfIndex,
  VOLUME_WINDOW_DAYS,
  canonicalReport,
  type AnalysisInput,
  type AnalysisReport,
  type EdgeFacts,
  type ItemFacts,
  type QualityEventFacts,
  type RuleState,
} from "../domain/impact-analysis";
import type postgres from "postgres";
import type { CompactGenealogy, EdgeKind } from "../domain/genealogy-graph";
import { analysisReadValues, type AnalysisReadValues } from "../domain/request-base";
import type { ExternalSystem } from "../domain/external-snapshot";
import type { RiskClass } from "../domain/material";
import type { ConsumptionScan, Identifies, TrackingMode, TrackingRuleContent } from "../domain/tracking-rule";
import { basisDigestWith, changeRequestRow, scopeOf, type Reader, type StoredAnalysis } from "../queries/impact-analysis-currency.server";
import type { Db } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { canonicalReplay, replayProposal, type ReplayReport } from "../domain/replay";
import { readReplayInput } from "../queries/replay.server";
import { genealogyIndexOf } from "./genealogy-index.server";
import type { RequirementScope, TraceabilityDeviation, TraceabilityRequirement } from "../domain/traceability-requirement";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Marks a pipelined read as handled, so a failure while another read is awaited is not an unhandled rejection (it is still thrown where the read is awaited). */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

type Row = Record<string, unknown>;

const dialect = new PgDialect();

/**
 * Reads through a postgres.js transaction as prepared statements. A parameterized statement that
 * is not prepared yet is described before it runs, and postgres.js holds every later query of the
 * connection until that round trip ends; prepared (from the second analysis on, per connection),
 * the analysis's dozen reads go down the connection together and come back in one round trip.
 */
function preparedReader(tx: postgres.TransactionSql): Reader {
  return async <T extends Row>(query: SQL) => {
    const { sql: text, params } = dialect.sqlToQuery(query);
    return (await tx.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
  };
}

/**
 * How the analysis walks genealogy forward: through the in-memory genealogy index (default, ADR
 * 011), or by loading the whole reach with a recursive query (the reference the index is tested
 * against; fine for small plants).
 */
export type GenealogySource = "index" | "query";

class IndexBehind extends Error {}

/** The postgres.js pool behind a drizzle handle (drizzle keeps it as `$client`). */
function clientOf(db: Db): postgres.Sql {
  const client = (db as Db & { $client?: postgres.Sql }).$client;
  if (!client) throw new Error("this database handle does not expose its postgres.js client");
  return client;
}

/** Reads everything the analysis needs from one snapshot (call inside a repeatable-read transaction). */
async function readAnalysisInput(
  read: Reader,
  cr: { number: string; revision: number; contentHash: string; expandedChanges: ExpandedChange[]; deviations: TraceabilityDeviation[] },
  source: GenealogySource,
  client: postgres.Sql,
  snapshot: postgres.TransactionSql,
): Promise<AnalysisInput> {
  const { tracking, partNumbers, sites } = scopeOf(cr.expandedChanges);
  const pn = sql`array[${sql.join(
    (partNumbers.length ? partNumbers : [""]).map((p) => sql`${p}`),
    sql`, `,
  )}]::text[]`;
  const st = sql`array[${sql.join(
    (sites.length ? sites : [""]).map((s) => sql`${s}`),
    sql`, `,
  )}]::text[]`;
  // Every independent read is sent at once, pipelined on the transaction's connection (the
  // genealogy state first: the index is chosen while the database answers the rest).
  const genealogyState = source === "index" ? handled(read<{ changes: string }>(sql`select changes::text as changes from genealogy_state where id = 1`)) : null;
  const masterData = handled(
    Promise.all([
      read<{ seq: string; at: string }>(
        sql`select seq::text as seq, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at from audit_trail order by audit_trail.seq desc limit 1`,
      ),
      read<{ code: string; version: number | null }>(
        sql`select s.code, (select max(version) from rule_set_versions v where v.site_id = s.id) as version from sites s order by s.code`,
      ),
      read<{ part_number: string; family: string; risk_class: RiskClass; regulatory_flags: string[] }>(
        sql`select m.part_number, f.code as family, m.risk_class, m.regulatory_flags from materials m join material_families f on f.id = m.family_id order by m.part_number`,
      ),
      read<{
        part_number: string;
        site: string;
        tracking_mode: TrackingMode;
        container_tracking: boolean;
        identifier_format_codes: string[];
        consumption_scan: ConsumptionScan;
      }>(
        sql`select m.part_number, s.code as site, r.tracking_mode, r.container_tracking, r.identifier_format_codes, r.consumption_scan
          from tracking_rules r join materials m on m.id = r.material_id join sites s on s.id = r.site_id where r.effective_to is null`,
      ),
      read<{ site: string; parent: string; component: string; line_no: number; alternates: string[] | null }>(
        sql`with alternates as (
            select a.bom_line_id, array_agg(m.part_number order by a.priority, m.part_number) as alternates
            from bom_line_alternates a join materials m on m.id = a.material_id group by a.bom_line_id
          )
          select s.code as site, p.part_number as parent, c.part_number as component, bl.line_no, x.alternates
          from bom_lines bl join sites s on s.id = bl.site_id join materials p on p.id = bl.parent_material_id join materials c on c.id = bl.component_material_id
          left join alternates x on x.bom_line_id = bl.id
          order by s.code, p.part_number, bl.line_no`,
      ),
    ]),
  );
  const siteData = handled(
    Promise.all([
      read<{ number: string; site: string; part_number: string; quantity: string; unit: string }>(
        sql`select w.number, s.code as site, m.part_number, w.quantity::text as quantity, w.unit
          from work_orders w join sites s on s.id = w.site_id join materials m on m.id = w.material_id
          where w.status = 'open' and s.code = any(${st}) order by w.number`,
      ),
      read<{ site: string; code: string; name: string; work_centre: string | null; formats: string[] | null }>(
        sql`select s.code as site, t.code, t.name, t.work_centre,
            (select array_agg(f.code order by f.code) from label_template_formats lf join identifier_formats f on f.id = lf.identifier_format_id where lf.label_template_id = t.id) as formats
          from label_templates t join sites s on s.id = t.site_id where s.code = any(${st}) order by s.code, t.code`,
      ),
      read<{ code: string; identifies: Identifies; definition: string }>(
        sql`select code, identifies, definition::text as definition from identifier_formats order by code`,
      ),
      read<{ site: string; parent: string; step: number; work_centre: string; component: string | null; consumption_scan: ConsumptionScan | null }>(
        sql`select s.code as site, p.part_number as parent, o.step, o.work_centre, c.part_number as component, om.consumption_scan
          from routing_operations o join sites s on s.id = o.site_id join materials p on p.id = o.material_id
          left join routing_operation_materials om on om.operation_id = o.id left join materials c on c.id = om.material_id
          where s.code = any(${st}) and (c.part_number = any(${pn}) or p.part_number = any(${pn}))
          order by s.code, p.part_number, o.step, c.part_number nulls first`,
      ),
      read<{ system: ExternalSystem; external_key: string; part_number: string; site: string | null; tracking_flag: string; tracking_mode: TrackingMode }>(
        sql`select x.system, x.external_key, m.part_number, s.code as site, x.tracking_flag, x.tracking_mode
          from external_master_records x join materials m on m.id = x.material_id left join sites s on s.id = x.site_id
          where m.part_number = any(${pn}) order by x.system, x.external_key, s.code nulls first`,
      ),
      read<{ name: string; site: string; version: number | null }>(
        sql`select c.name, s.code as site, st.version from runtime_clients c join runtime_client_sites cs on cs.runtime_client_id = c.id join sites s on s.id = cs.site_id
          left join runtime_client_status st on st.runtime_client_id = c.id and st.site_id = s.id
          where c.revoked_at is null order by c.name, s.code`,
      ),
    ]),
  );
  // Required traceability (ADR 036): the requirements in force in this snapshot, the open deviations at the sites.
  const traceabilityData = handled(
    Promise.all([
      read<RequirementRow>(
        sql`select r.scope, m.part_number, f.code as family, r.risk_class, r.regulated, r.minimum_tracking, r.container_required, r.required_scan, r.justification, r."references"
          from traceability_requirements r left join materials m on m.id = r.material_id left join material_families f on f.id = r.family_id
          where r.effective_from <= now() and (r.effective_to is null or r.effective_to > now()) order by r.id`,
      ),
      read<{ material: string; site: string; change_request: string; expires_on: string | null }>(
        sql`select m.part_number as material, s.code as site, c.number as change_request, d.expires_on::text as expires_on
          from traceability_deviations d join materials m on m.id = d.material_id join sites s on s.id = d.site_id join change_requests c on c.id = d.change_request_id
          where d.closed_at is null and s.code = any(${st}) order by s.code, m.part_number, d.id`,
      ),
    ]),
  );
  // Open quality events and their references (ADR 037): few rows, read whole; the engine decides
  // which ones the change affects. Open = not closed (app/domain/quality-event.ts isOpenQualityEvent).
  const qualityData = handled(
    read<{
      number: string;
      kind: QualityEventFacts["kind"];
      severity: QualityEventFacts["severity"];
      status: QualityEventFacts["status"];
      event_site: string;
      ref_kind: QualityEventFacts["references"][number]["kind"];
      item_id: string | null;
      identifier: string | null;
      part_number: string;
      ref_site: string;
    }>(
      sql`select e.number, e.kind, e.severity, e.status, es.code as event_site, r.kind as ref_kind, r.trace_item_id::text as item_id, ti.identifier,
            m.part_number, rs.code as ref_site
          from quality_event_references r join quality_events e on e.id = r.quality_event_id join sites es on es.id = e.site_id
          join materials m on m.id = r.material_id join sites rs on rs.id = r.site_id left join trace_items ti on ti.id = r.trace_item_id
          where e.status <> 'closed' order by e.number, r.id`,
    ),
  );
  // The index for this snapshot (usually the one held already): the own items are taken from it
  // while the database still answers the other reads.
  let graph: CompactGenealogy | undefined;
  let indexItems: ItemFacts[] | undefined;
  if (genealogyState) {
    const [state] = await genealogyState;
    const changes = Number(state!.changes);
    try {
      graph = (await genealogyIndexOf(client).at(changes, snapshot)).graph;
    } catch (error) {
      throw new IndexBehind((error as Error).message);
    }
    indexItems = ownItemsOf(graph, tracking);
  }
  const [[point], versionRows, materialRows, ruleRows, bomRows] = await masterData;
  const dataPoint = { auditSeq: Number(point?.seq ?? 0), at: point?.at ?? "1970-01-01T00:00:00.000Z" };
  const windowFrom = new Date(Date.parse(dataPoint.at) - VOLUME_WINDOW_DAYS * 86_400_000).toISOString();
  const ruleSetVersions = Object.fromEntries(versionRows.map((r) => [r.code, r.version === null ? null : Number(r.version)]));

  const rulesBefore: Record<string, RuleState> = {};
  for (const r of ruleRows) {
    rulesBefore[`${r.part_number}|${r.site}`] = {
      state: "ruled",
      trackingMode: r.tracking_mode,
      containerTracking: r.container_tracking,
      identifierFormatCodes: [...r.identifier_format_codes].sort(),
      consumptionScan: r.consumption_scan,
    };
  }
  const siteHasVersion = new Set(versionRows.filter((r) => r.version !== null).map((r) => r.code));

  const pairs = tracking.length
    ? sql.join(
        tracking.map((c) => sql`(${c.partNumber}, ${c.site})`),
        sql`, `,
      )
    : sql`('', '')`;
  const itemColumns = sql`ti.id, ti.identifier, ti.kind, m.part_number, s.code as site, ti.status, ti.quantity::text as quantity,
    to_char(ti.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at`;
  type ItemRow = {
    id: string;
    identifier: string;
    kind: ItemFacts["kind"];
    part_number: string;
    site: string;
    status: ItemFacts["status"];
    quantity: string;
    created_at: string;
  };
  let items: ItemFacts[];
  let edgeRows: EdgeRow[];
  type EdgeRow = {
    id: string;
    event_ref: string;
    kind: EdgeFacts["kind"];
    input: string;
    output: string;
    quantity: string;
    unit: string;
    occurred_at: string;
    work_order: string | null;
  };
  const edgeColumns = sql`e.id, e.event_ref, e.kind, e.input_item_id as input, e.output_item_id as output, e.quantity::text as quantity, e.unit,
    to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at, w.number as work_order`;
  const idArray = (ids: readonly number[]) => sql`${`{${ids.join(",")}}`}::bigint[]`;
  if (source === "query") {
    // Forward through every tier from the changed materials' items; UNION (not ALL) ends cycles.
    const itemRows = await read<ItemRow>(
      sql`with recursive own as (
            select ti.id from trace_items ti join materials m on m.id = ti.material_id join sites s on s.id = ti.site_id
            where (m.part_number, s.code) in (${pairs})
          ), reach(id) as (
            select id from own
            union
            select e.output_item_id from genealogy_edges e join reach r on e.input_item_id = r.id and e.superseded_at is null
          ), wanted as (
            select id from reach
            union select e.input_item_id from genealogy_edges e where e.output_item_id in (select id from own) and e.superseded_at is null
          )
          select ${itemColumns} from trace_items ti join materials m on m.id = ti.material_id join sites s on s.id = ti.site_id
          where ti.id in (select id from wanted) order by ti.id`,
    );
    items = itemRows.map((r) => ({
      id: Number(r.id),
      identifier: r.identifier,
      kind: r.kind,
      partNumber: r.part_number,
      site: r.site,
      status: r.status,
      quantity: r.quantity,
      createdAt: r.created_at,
    }));
    const ids = items.map((i) => i.id);
    edgeRows = !ids.length
      ? []
      : await read<EdgeRow>(
          sql`select ${edgeColumns} from genealogy_edges e left join work_orders w on w.id = e.work_order_id
              where e.input_item_id = any(${idArray(ids)}) and e.output_item_id = any(${idArray(ids)}) and e.superseded_at is null order by e.id`,
        );
  } else {
    // The index walks the reach and holds every item's facts and every edge's kind and time; the
    // database is asked only for the details of the edges a finding quotes, by primary key.
    items = indexItems!;
    const quoted = quotedEdgeIds(graph!, items, { from: Date.parse(windowFrom), to: Date.parse(dataPoint.at) });
    edgeRows = !quoted.length
      ? []
      : await read<EdgeRow>(
          sql`select ${edgeColumns} from genealogy_edges e left join work_orders w on w.id = e.work_order_id where e.id = any(${idArray(quoted)}) order by e.id`,
        );
  }
  const edges: EdgeFacts[] = edgeRows.map((r) => ({
    id: Number(r.id),
    eventRef: r.event_ref,
    kind: r.kind,
    input: Number(r.input),
    output: Number(r.output),
    quantity: r.quantity,
    unit: r.unit,
    occurredAt: r.occurred_at,
    workOrder: r.work_order,
  }));

  const [workOrderRows, templateRows, formatRows, scanRows, externalRows, clientRows] = await siteData;
  const [requirementRows, openDeviationRows] = await traceabilityData;
  const qualityEvents = new Map<string, QualityEventFacts>();
  for (const r of await qualityData) {
    const event =
      qualityEvents.get(r.number) ??
      qualityEvents
        .set(r.number, { number: r.number, kind: r.kind, severity: r.severity, status: r.status, site: r.event_site, references: [] })
        .get(r.number)!;
    event.references.push({
      kind: r.ref_kind,
      itemId: r.item_id === null ? null : Number(r.item_id),
      identifier: r.identifier,
      partNumber: r.part_number,
      site: r.ref_site,
    });
  }
  const clients = new Map<string, { name: string; sites: string[]; reported: Record<string, number | null> }>();
  for (const r of clientRows) {
    const c = clients.get(r.name) ?? { name: r.name, sites: [], reported: {} };
    c.sites.push(r.site);
    c.reported[r.site] = r.version === null ? null : Number(r.version);
    clients.set(r.name, c);
  }

  return {
    changeRequest: { number: cr.number, revision: cr.revision, contentHash: cr.contentHash },
    dataPoint,
    ruleSetVersions,
    changes: tracking.map((c) => ({
      partNumber: c.partNumber,
      site: c.site,
      before: rulesBefore[`${c.partNumber}|${c.site}`] ?? (siteHasVersion.has(c.site) ? { state: "unruled" } : { state: "legacy" }),
      after: { state: "ruled", ...c.rule, identifierFormatCodes: [...c.rule.identifierFormatCodes].sort() },
    })),
    materials: Object.fromEntries(
      materialRows.map((m) => [
        m.part_number,
        { partNumber: m.part_number, family: m.family, riskClass: m.risk_class, regulatoryFlags: [...m.regulatory_flags].sort() },
      ]),
    ),
    rulesBefore,
    bomLines: bomRows.map((b) => ({ site: b.site, parent: b.parent, component: b.component, lineNo: Number(b.line_no), alternates: b.alternates ?? [] })),
    items,
    edges,
    workOrders: workOrderRows.map((w) => ({ number: w.number, site: w.site, partNumber: w.part_number, quantity: w.quantity, unit: w.unit })),
    labelTemplates: templateRows.map((t) => ({ site: t.site, code: t.code, name: t.name, workCentre: t.work_centre, formats: t.formats ?? [] })),
    formats: Object.fromEntries(
      formatRows.map((f) => [f.code, { identifies: f.identifies, definition: JSON.parse(f.definition) as AnalysisInput["formats"][string]["definition"] }]),
    ),
    routingScans: scanRows.map((r) => ({
      site: r.site,
      parent: r.parent,
      step: Number(r.step),
      workCentre: r.work_centre,
      component: r.component,
      consumptionScan: r.consumption_scan,
    })),
    externalRecords: externalRows.map((x) => ({
      system: x.system,
      externalKey: x.external_key,
      partNumber: x.part_number,
      site: x.site,
      trackingFlag: x.tracking_flag,
      trackingMode: x.tracking_mode,
    })),
    runtimeClients: [...clients.values()],
    qualityEvents: [...qualityEvents.values()],
    ...(graph ? { graph } : {}),
    traceability: {
      requirements: requirementRows.map(requirementOfRow),
      deviations: cr.deviations,
      openDeviations: openDeviationRows.map((d) => ({ material: d.material, site: d.site, changeRequest: d.change_request, expiresOn: d.expires_on })),
    },
  };
}

type RequirementRow = {
  scope: RequirementScope;
  part_number: string | null;
  family: string | null;
  risk_class: RiskClass | null;
  regulated: boolean | null;
  minimum_tracking: TrackingMode;
  container_required: boolean;
  required_scan: ConsumptionScan;
  justification: string;
  references: string[];
};

function requirementOfRow(r: RequirementRow): TraceabilityRequirement {
  const content = {
    minimumTracking: r.minimum_tracking,
    containerRequired: r.container_required,
    requiredScan: r.required_scan,
    justification: r.justification,
    references: r.references,
  };
  if (r.scope === "material") return { scope: "material", partNumber: r.part_number!, ...content };
  if (r.scope === "family") return { scope: "family", family: r.family!, ...content };
  return { scope: "risk_class", riskClass: r.risk_class!, regulated: r.regulated!, ...content };
}

/** The changed materials' own items, with the facts the analysis reads, from the index (by id). */
function ownItemsOf(graph: CompactGenealogy, tracking: readonly ExpandedTrackingChange[]): ItemFacts[] {
  // One change: its posting list is already distinct and in id order.
  const ids =
    tracking.length === 1
      ? graph.itemsOf(tracking[0]!.partNumber, tracking[0]!.site)
      : [...new Set(tracking.flatMap((c) => graph.itemsOf(c.partNumber, c.site)))].sort((a, b) => a - b);
  return itemsOfIndex(graph, ids);
}

const REFUSABLE: ReadonlySet<EdgeKind> = new Set(["split", "merge", "repack", "rework"]);

/**
 * With the index walking the structure, only the edges whose details (event, quantity, unit, work
 * order) a finding quotes are read: consumptions of the material's items in the volume window,
 * what made its items of that window, the events the new mode may not express (split, merge,
 * repack, rework) when there are any, and — when lots of it went into serials — every consumption
 * of its lots (candidate sets). The index knows each edge's kind and time, so it names them exactly.
 */
function quotedEdgeIds(graph: CompactGenealogy, own: readonly ItemFacts[], window: { from: number; to: number }): number[] {
  const quoted = new Set<number>();
  let lotsIntoSerials = false;
  // One pair of visitors for every item (closures made per item were most of this function's garbage).
  let current: ItemFacts = own[0]!;
  let madeInWindow = false;
  const out = (edgeId: number, output: number, kind: EdgeKind, occurredAt: number) => {
    if (kind === "consume" && occurredAt >= window.from && occurredAt < window.to) quoted.add(edgeId);
    if (REFUSABLE.has(kind)) quoted.add(edgeId);
    if (kind === "consume" && current.kind === "lot" && graph.has(output) && graph.kindOf(output) === "serial") lotsIntoSerials = true;
  };
  const into = (edgeId: number, _input: number, kind: EdgeKind) => {
    if (madeInWindow || REFUSABLE.has(kind)) quoted.add(edgeId);
  };
  for (let k = 0; k < own.length; k++) {
    current = own[k]!;
    const created = graph.createdAtOf(current.id);
    madeInWindow = created >= window.from && created < window.to;
    graph.forEachOutEdge(current.id, out);
    graph.forEachInEdge(current.id, into);
  }
  if (lotsIntoSerials) {
    for (const i of own) {
      if (i.kind !== "lot") continue;
      graph.forEachOutEdge(i.id, (edgeId, _output, kind) => {
        if (kind === "consume") quoted.add(edgeId);
      });
    }
  }
  return [...quoted].sort((a, b) => a - b);
}

async function changeRequestRowWith(read: Reader, number: string) {
  const [cr] = await read<{
    id: number;
    number: string;
    revision: number;
    content_hash: string;
    expanded_changes: ExpandedChange[];
    status: string;
    deviations: TraceabilityDeviation[] | null;
  }>(
    sql`select id, number, revision, content_hash, expanded_changes, status, content->'deviations' as deviations from change_requests where number = ${number}`,
  );
  if (!cr) throw new DomainError("not_found", `change request ${number} does not exist`);
  return {
    id: Number(cr.id),
    number: cr.number,
    revision: Number(cr.revision),
    contentHash: cr.content_hash,
    expandedChanges: cr.expanded_changes,
    status: cr.status,
    deviations: cr.deviations ?? [],
  };
}

/** Computes the report from one consistent snapshot, without storing it (tests compare runs). */
export async function computeImpactAnalysis(
  db: Db,
  number: string,
  /** `replay: false` leaves the replay out (bench:impact times the analysis alone). */
  options: { genealogy?: GenealogySource; replay?: boolean } = {},
): Promise<{ report: AnalysisReport; canonical: string; sha256: string; basisDigest: string; reads: AnalysisReadValues; replay: ComputedReplay | null }> {
  const source = options.genealogy ?? "index";
  const withReplay = options.replay ?? true;
  for (let attempt = 0; ; attempt++) {
    try {
      const client = clientOf(db);
      return await client.begin("isolation level repeatable read read only", async (tx) => {
        const read = preparedReader(tx);
        const cr = await changeRequestRowWith(read, number);
        // The basis digest's read goes down the same pipeline, behind the input's reads.
        const reading = handled(readAnalysisInput(read, cr, source, client, tx));
        const basis = handled(basisDigestWith(read, cr.expandedChanges));
        const input = await reading;
        const basisDigest = await basis;
        const { report, reads } = analyseChangeRequestReads(input);
        const canonical = canonicalReport(report);
        // The replay of the last 90 days (ADR 041): same snapshot, after the analysis, timed on its own.
        const replay = withReplay ? await replayIn(read, input) : null;
        return { report, canonical, sha256: sha256(canonical), basisDigest, reads: analysisReadValues(reads, readWorldOf(input)), replay };
      });
    } catch (error) {
      // The index moved past this snapshot (genealogy was written meanwhile): take a newer snapshot.
      if (error instanceof IndexBehind && attempt < 3) continue;
      throw error;
    }
  }
}

/** The rules, master data and BOM lines of the snapshot, as the engine saw them (the values of its reads). */
function readWorldOf(input: AnalysisInput) {
  const rules = new Map<string, TrackingRuleContent>();
  for (const [k, r] of Object.entries(input.rulesBefore)) {
    if (r.state === "ruled")
      rules.set(k, {
        trackingMode: r.trackingMode,
        containerTracking: r.containerTracking,
        identifierFormatCodes: r.identifierFormatCodes,
        consumptionScan: r.consumptionScan,
      });
  }
  return { rules, materials: new Map(Object.entries(input.materials)), lines: input.bomLines };
}

/** The states in which a change request may be analysed; decided requests keep the analyses they were signed with. */

/** Runs and stores an analysis (append-only, audited). The report reads one snapshot; the write is a second transaction. */
export async function runImpactAnalysis(db: Db, actor: { username: string }, number: string): Promise<StoredAnalysis> {
  const started = performance.now();
  const computed = await computeImpactAnalysis(db, number, { replay: true });
  const replay = computed.replay!;
  // The replay is timed on its own and is not part of the analysis's time figure (ADR 041).
  const durationMs = Math.max(0, Math.round(performance.now() - started - replay.durationMs));
  const replayDurationMs = Math.round(replay.durationMs);
  return db.transaction(async (tx) => {
    // The row held against a concurrent signature or release: an analysis is stored only while the
    // request is still open — once decided, its analyses stay as they were signed with.
    await tx.execute(sql`select 1 from change_requests where number = ${number} for share`);
    const cr = await changeRequestRow(tx, number);
    if (!UNDECIDED_STATUSES.has(cr.status)) {
      throw new DomainError("conflict", `${number} is decided: its impact analyses stay as they were signed with.`);
    }
    if (cr.contentHash !== computed.report.changeRequest.contentHash) {
      throw new DomainError("conflict", `${number} changed while it was being analysed; run the analysis again.`);
    }
    const [stored] = await tx
      .insert(impactAnalyses)
      .values({
        changeRequestId: cr.id,
        revision: cr.revision,
        contentHash: cr.contentHash,
        dataPoint: computed.report.dataPoint.auditSeq,
        dataPointAt: new Date(computed.report.dataPoint.at),
        ruleSetVersions: computed.report.ruleSetVersions,
        basisDigest: computed.basisDigest,
        reads: computed.reads,
        report: computed.canonical,
        sha256: computed.sha256,
        summary: computed.report.summary,
        createdBy: actor.username,
        createdAt: sql`date_trunc('milliseconds', now())`,
        durationMs,
        replay: replay.canonical,
        replaySha256: replay.sha256,
        replayDurationMs,
      })
      .returning({ id: impactAnalyses.id, createdAt: impactAnalyses.createdAt });
    await appendAudit(tx, {
      actor: actor.username,
      action: "impact_analysis.run",
      entityType: "change_request",
      entityId: number,
      after: {
        analysisId: stored!.id,
        sha256: computed.sha256,
        dataPoint: computed.report.dataPoint,
        revision: cr.revision,
        summary: computed.report.summary,
        durationMs,
        replay: { sha256: replay.sha256, totals: replay.report.totals, durationMs: replayDurationMs },
      },
    });
    return {
      id: stored!.id,
      sha256: computed.sha256,
      dataPoint: computed.report.dataPoint.auditSeq,
      createdAt: stored!.createdAt,
      summary: computed.report.summary,
      replaySha256: replay.sha256,
    };
  });
}

/** The replay of the analysis's proposal, read through the same snapshot and timed on its own (ADR 041). */
async function replayIn(read: Reader, input: AnalysisInput): Promise<ComputedReplay> {
  const started = performance.now();
  const report = replayProposal(await readReplayInput(read, input));
  const canonical = canonicalReplay(report);
  return { report, canonical, sha256: sha256(canonical), durationMs: performance.now() - started };
}

/** A replay computed with an analysis (ADR 041): the report, its stored bytes, their SHA-256 and its own duration. */
export interface ComputedReplay {
  report: ReplayReport;
  canonical: string;
  sha256: string;
  durationMs: number;
}
