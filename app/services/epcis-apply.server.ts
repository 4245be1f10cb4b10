/**
 * The apply code shared by the EPCIS import (epcis-import.server.ts) and the quarantine release
 * (epcis-quarantine.server.ts), ADR 014: the import lock, the materials an event's GTINs are looked
 * up in, storing events, superseding them on an error declaration, and writing the trace items and
 * genealogy edges of applied events in bulk. Every function runs inside its caller's transaction.
 */
import { sql } from "drizzle-orm";
import { itemKey, type EpcisEvent, type EventPlan, type PlannedItem } from "../domain/epcis/events";
import type { EpcisIssue } from "../domain/epcis/validate";
import { LOGISTICS_UNIT_MATERIAL } from "../domain/material";
import { executePrepared, type Tx } from "../utils/db.server";

export interface EpcisImportSummary {
  ok: true;
  fileName: string;
  fileDigest: string;
  site: string;
  events: number;
  applied: number;
  quarantined: number;
  /** Events that arrived already declared erroneous (stored superseded, never applied). */
  supersededOnArrival: number;
  /** Earlier events this document declared erroneous. */
  declared: number;
  /** Events C-981 already held with the same content. */
  unchanged: number;
  itemsCreated: number;
  /**
   * Items imported earlier whose first event this document predates: their created_at (the first
   * event's time, ADR 014) moved back to it.
   */
  itemsMovedEarlier: number;
  edgesCreated: number;
  /** Identifiers kept in the stored events but not placed in the genealogy (ADR 014). */
  notPlaced: number;
  /** Corrective event ids C-981 does not hold (yet). */
  pendingCorrectiveEventIds: string[];
  unknownGtins: string[];
  warnings: EpcisIssue[];
  /** True when the document changed nothing (imported before). */
  unchangedDocument: boolean;
}

export interface ApplyContext {
  tx: Tx;
  siteId: number;
  digest: string;
  materials: Map<string, number>;
  /** The logistics-unit system material: every container's material (ADR 014). */
  logisticsUnit: number;
  summary: EpcisImportSummary;
  /** Items whose created_at this import moved back: the audit row names each, before and after. */
  moved: MovedItem[];
}

/** An imported item an earlier event moved back (ADR 014): its created_at before and after. */
export interface MovedItem {
  itemId: number;
  identifier: string;
  from: string;
  to: string;
}

export interface StoredEvent {
  key: string;
  fromEventId: boolean;
  type: string;
  eventTime: string;
  contentHash: string;
  identityHash: string;
  index: number;
  status: "applied" | "quarantined" | "superseded";
  unknownGtins: string[];
  body: EpcisEvent;
  declaration: unknown;
}

export async function loadMaterials(tx: Tx): Promise<Map<string, number>> {
  const rows = await tx.execute<{ id: number; gtin: string }>(sql`select id, gtin from materials where gtin is not null`);
  return new Map(rows.map((r) => [r.gtin, Number(r.id)]));
}

/** The logistics-unit material migration 0024 creates; its absence is a broken installation. */
export async function loadLogisticsUnit(tx: Tx): Promise<number> {
  const [row] = await tx.execute<{ id: number }>(sql`select id from materials where system_role = ${LOGISTICS_UNIT_MATERIAL.systemRole}`);
  if (!row) throw new Error(`C-981: the logistics-unit system material (${LOGISTICS_UNIT_MATERIAL.partNumber}) is missing: migration 0024 has not run`);
  return Number(row.id);
}

/**
 * The EPCIS import lock (transaction-scoped): one import at a time, and a transaction that makes a
 * GTIN known (a release creating a material or giving one) waits for an import in flight — which
 * read the materials when it started — and then sees the events it quarantined. Take it before any
 * row lock an import may need (the release takes it before locking its site).
 */
export async function lockEpcisImports(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(981000014)`);
}

export async function storeEvents(ctx: ApplyContext, events: readonly StoredEvent[]): Promise<void> {
  if (!events.length) return;
  const rows = events.map((e) => ({
    event_key: e.key,
    from_event_id: e.fromEventId,
    type: e.type,
    event_time: e.eventTime,
    content_hash: e.contentHash,
    identity_hash: e.identityHash,
    event_index: e.index,
    status: e.status,
    unknown_gtins: e.unknownGtins,
    body: e.body,
    declaration: e.declaration,
  }));
  await executePrepared(
    ctx.tx,
    sql`
    insert into epcis_events (event_key, from_event_id, type, event_time, content_hash, identity_hash, file_digest, event_index, site_id, status,
                              unknown_gtins, body, declaration, superseded_at, imported_at, applied_at)
    select x.event_key, x.from_event_id, x.type, x.event_time, x.content_hash, x.identity_hash, ${ctx.digest}, x.event_index, ${ctx.siteId},
           x.status::epcis_event_status,
           case when jsonb_array_length(x.unknown_gtins) = 0 then '{}'::text[] else array(select jsonb_array_elements_text(x.unknown_gtins)) end,
           x.body, x.declaration,
           case when x.status = 'superseded' then now() end, now(), case when x.status = 'applied' then now() end
    from json_to_recordset(${JSON.stringify(rows)}::json) as x(event_key text, from_event_id boolean, type text, event_time timestamptz,
         content_hash text, identity_hash text, event_index int, status text, unknown_gtins jsonb, body jsonb, declaration jsonb)`,
  );
}

/** Marks an event (and the edges it recorded) superseded by an error declaration; never deletes. */
export async function supersede(ctx: ApplyContext, key: string, declaration: unknown): Promise<void> {
  await ctx.tx.execute(sql`update epcis_events set status = 'superseded', declaration = ${JSON.stringify(declaration)}::jsonb, superseded_at = now()
    where event_key = ${key} and status <> 'superseded'`);
  await ctx.tx.execute(sql`update genealogy_edges set superseded_at = now() where event_ref = ${key} and provenance_kind = 'import' and superseded_at is null`);
}

const TRACE_KIND = { serial: "serial", lot: "lot", class: "lot", container: "container" } as const;

/**
 * Writes the trace items and edges of applied events, in bulk (statement-level triggers count the
 * genealogy change once per statement). Items are created once: an item an event names that
 * already exists is reused (its first provenance stays).
 *
 * An item's created_at is the time of its first event (`eventTime`, as an instant), not the time
 * of the import, which stays reachable through its provenance (file digest → epcis_imports). An
 * imported item that an event of a later batch or a later import predates moves back to that
 * event's time: first seen is the earliest event C-981 holds about it, whatever order the events
 * arrived in (ADR 014). Items of other provenance (seed, API) keep their time.
 *
 * Serial, lot and class items always have a material (an event naming an unknown GTIN is
 * quarantined), so they are inserted without asking for their ids back: the edge statement finds
 * both ends by the unique key (material, identifier) itself. Containers are logistics units: their
 * material is the logistics-unit system material, never a child's (ADR 014); they come back with
 * ids, the edge statement takes them by id.
 */
export async function applyPlans(
  ctx: ApplyContext,
  applied: readonly { stored: Pick<StoredEvent, "key" | "eventTime">; plan: EventPlan; digest?: string }[],
): Promise<void> {
  if (!applied.length) return;
  const items = new Map<
    string,
    { kind: string; material_id: number; identifier: string; quantity: number; unit: string; event_key: string; digest: string; first_at: string }
  >();
  for (const { stored, plan, digest } of applied) {
    for (const item of plan.items) {
      const k = itemKey(item);
      const seen = items.get(k);
      if (seen) {
        // The same item in several events of this batch: created at the earliest of them.
        if (Date.parse(stored.eventTime) < Date.parse(seen.first_at)) seen.first_at = stored.eventTime;
        continue;
      }
      const materialId = item.level === "container" ? ctx.logisticsUnit : item.gtin ? ctx.materials.get(item.gtin) : undefined;
      if (materialId === undefined) continue;
      items.set(k, {
        kind: TRACE_KIND[item.level],
        material_id: materialId,
        identifier: item.identifier,
        quantity: item.quantity,
        unit: item.unit,
        event_key: stored.key,
        digest: digest ?? ctx.digest,
        first_at: stored.eventTime,
      });
    }
  }
  const all = [...items.values()];
  const lots = all.filter((i) => i.kind !== "container");
  if (lots.length) {
    // Only an item of this import's site moves (an import never changes another site's rows); the
    // statement's snapshot (`old`) still holds each moved item's time before the move.
    const [written] = await executePrepared<{ created: number; moved: MovedItem[] }>(
      ctx.tx,
      sql`
    with x as (select * from json_to_recordset(${JSON.stringify(lots)}::json) as x(kind text, material_id int, identifier text, quantity numeric, unit text, event_key text, digest text, first_at timestamptz)),
    ins as (
      insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
      select x.kind::trace_item_kind, x.identifier, x.material_id, ${ctx.siteId}, x.quantity, x.unit, 'stock', x.first_at, 'import', x.digest, x.event_key from x
      on conflict (material_id, identifier) where kind <> 'container' do update set created_at = excluded.created_at
        where trace_items.provenance_kind = 'import' and trace_items.site_id = ${ctx.siteId} and trace_items.created_at > excluded.created_at
      returning id, identifier, created_at, xmax = 0 as created),
    old as (select t.id, t.created_at from trace_items t join x on t.material_id = x.material_id and t.identifier = x.identifier and t.kind <> 'container')
    select (count(*) filter (where ins.created))::int as created,
      coalesce(json_agg(json_build_object('itemId', ins.id, 'identifier', ins.identifier, 'from', to_char(old.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'to', to_char(ins.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by ins.id)
        filter (where not ins.created), '[]') as moved
    from ins left join old on old.id = ins.id`,
    );
    ctx.summary.itemsCreated += Number(written!.created);
    ctx.summary.itemsMovedEarlier += written!.moved.length;
    ctx.moved.push(...written!.moved.map((m) => ({ ...m, itemId: Number(m.itemId) })));
  }
  // Containers: new ones inserted, every one's id returned — the inserted (or moved) ones from
  // RETURNING, every one named from the statement's snapshot (which cannot see the inserted rows).
  const containerIds = new Map<string, number>();
  const containerItems = all.filter((i) => i.kind === "container");
  if (containerItems.length) {
    const rows = await executePrepared<{ id: number; identifier: string; created: boolean; moved: boolean; was: string | null; now: string }>(
      ctx.tx,
      sql`
    with x as (select * from json_to_recordset(${JSON.stringify(containerItems)}::json) as x(material_id int, identifier text, event_key text, digest text, first_at timestamptz)),
    ins as (
      insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
      select 'container', x.identifier, x.material_id, ${ctx.siteId}, 1, 'EA', 'stock', x.first_at, 'import', x.digest, x.event_key from x
      on conflict (identifier) where kind = 'container' do update set created_at = excluded.created_at
        where trace_items.provenance_kind = 'import' and trace_items.site_id = ${ctx.siteId} and trace_items.created_at > excluded.created_at
      returning id, identifier, created_at, xmax = 0 as created),
    old as (select t.id, t.created_at from x join trace_items t on t.identifier = x.identifier and t.kind = 'container')
    select ins.id, ins.identifier, ins.created, not ins.created as moved,
      to_char(old.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as was, to_char(ins.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now
    from ins left join old on old.id = ins.id
    union all
    select t.id, t.identifier, false, false, null, '' from x join trace_items t on t.identifier = x.identifier and t.kind = 'container'`,
    );
    for (const r of rows) {
      containerIds.set(r.identifier, Number(r.id));
      if (r.created) ctx.summary.itemsCreated += 1;
      if (r.moved) {
        ctx.summary.itemsMovedEarlier += 1;
        ctx.moved.push({ itemId: Number(r.id), identifier: r.identifier, from: r.was ?? "", to: r.now });
      }
    }
  }
  const placed = (item: PlannedItem) => (item.level === "container" ? containerIds.has(item.identifier) : item.gtin !== null && ctx.materials.has(item.gtin));
  /** An edge's end: a container by its id, any other item by (material, identifier), found by the edge statement. */
  const end = (item: PlannedItem) =>
    item.level === "container"
      ? { id: containerIds.get(item.identifier)!, m: null, i: null }
      : { id: null, m: ctx.materials.get(item.gtin!)!, i: item.identifier };

  const edges: {
    kind: string;
    in_id: number | null;
    in_m: number | null;
    in_i: string | null;
    out_id: number | null;
    out_m: number | null;
    out_i: string | null;
    quantity: string;
    unit: string;
    event_key: string;
    occurred_at: string;
    digest: string;
  }[] = [];
  for (const { stored, plan, digest } of applied) {
    for (const edge of plan.edges) {
      const input = plan.items[edge.input]!;
      const output = plan.items[edge.output]!;
      if (!placed(input) || !placed(output)) continue;
      const a = end(input);
      const b = end(output);
      edges.push({
        kind: edge.kind,
        in_id: a.id,
        in_m: a.m,
        in_i: a.i,
        out_id: b.id,
        out_m: b.m,
        out_i: b.i,
        quantity: edge.quantity,
        unit: edge.unit,
        event_key: stored.key,
        occurred_at: stored.eventTime,
        digest: digest ?? ctx.digest,
      });
    }
    ctx.summary.notPlaced += plan.notPlaced.length + plan.items.filter((i) => !placed(i)).length;
  }
  if (!edges.length) return;
  const [inserted] = await executePrepared<{ n: number }>(
    ctx.tx,
    sql`
    with ins as (
      insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind, provenance_file_digest, provenance_event_id)
      select x.event_key, x.kind::genealogy_kind, coalesce(x.in_id, i.id), coalesce(x.out_id, o.id), x.quantity, x.unit, ${ctx.siteId}, x.occurred_at, 'import', x.digest, x.event_key
      from json_to_recordset(${JSON.stringify(edges)}::json) as x(kind text, in_id bigint, in_m int, in_i text, out_id bigint, out_m int, out_i text, quantity numeric, unit text, event_key text, occurred_at timestamptz, digest text)
      left join trace_items i on x.in_id is null and i.material_id = x.in_m and i.identifier = x.in_i and i.kind <> 'container'
      left join trace_items o on x.out_id is null and o.material_id = x.out_m and o.identifier = x.out_i and o.kind <> 'container'
      returning 1)
    select count(*)::int as n from ins`,
  );
  // Every end was inserted above or existed: a missing one would be a null id, which the NOT NULL
  // columns refuse (the whole import is then rolled back) rather than an edge silently dropped.
  ctx.summary.edgesCreated += Number(inserted!.n);
}
