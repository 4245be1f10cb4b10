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
import { copyField, copyRows, executePrepared, type Tx } from "../utils/db.server";

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
  /** The transaction's now() as text, once read (rows written by COPY carry it). */
  now?: string;
  /** Set once the temporary staging tables of applyPlans exist in this transaction. */
  staged?: boolean;
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

/** The transaction's `now()`, read once: rows written by COPY carry it as the statements' `now()` would. */
async function transactionNow(ctx: ApplyContext): Promise<string> {
  if (ctx.now === undefined) {
    const [row] = await executePrepared<{ now: string }>(ctx.tx, sql`select now()::text as now`);
    ctx.now = row!.now;
  }
  return ctx.now;
}

/** A text[] in COPY's text format. */
const textArray = (values: readonly string[]) => copyField(`{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`);

/**
 * Stores events with one COPY straight into epcis_events (ADR 045): the caller has looked up what
 * C-981 holds by key and identity under the import lock, so every row is new; a key or identity
 * held after all is refused by the unique indexes and fails the transaction.
 */
export async function storeEvents(ctx: ApplyContext, events: readonly StoredEvent[]): Promise<void> {
  if (!events.length) return;
  const now = await transactionNow(ctx);
  const digest = copyField(ctx.digest);
  const rows = events.map(
    (e) =>
      `${copyField(e.key)}\t${e.fromEventId}\t${copyField(e.type)}\t${copyField(e.eventTime)}\t${copyField(e.contentHash)}\t${copyField(e.identityHash)}\t${digest}\t${e.index}\t${ctx.siteId}\t${e.status}\t${textArray(e.unknownGtins)}\t${copyField(JSON.stringify(e.body))}\t${e.declaration === null || e.declaration === undefined ? "\\N" : copyField(JSON.stringify(e.declaration))}\t${e.status === "superseded" ? now : "\\N"}\t${now}\t${e.status === "applied" ? now : "\\N"}\n`,
  );
  await copyRows(
    ctx.tx,
    `epcis_events (event_key, from_event_id, type, event_time, content_hash, identity_hash, file_digest, event_index, site_id, status,
                   unknown_gtins, body, declaration, superseded_at, imported_at, applied_at)`,
    rows,
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
  // An item is placed when it has a material (a container always has: the logistics unit), and
  // every item staged exists once the upserts below ran (inserted, or held under its unique key).
  const placed = (item: PlannedItem) => item.level === "container" || (item.gtin !== null && ctx.materials.has(item.gtin));
  const edgeRows: string[] = [];
  for (const { stored, plan, digest } of applied) {
    for (const edge of plan.edges) {
      const input = plan.items[edge.input]!;
      const output = plan.items[edge.output]!;
      if (!placed(input) || !placed(output)) continue;
      // An end: a container by its SSCC (material \N), any other item by (material, identifier).
      const end = (item: PlannedItem) => `${item.level === "container" ? "\\N" : ctx.materials.get(item.gtin!)!}\t${copyField(item.identifier)}`;
      edgeRows.push(
        `${edge.kind}\t${end(input)}\t${end(output)}\t${edge.quantity}\t${copyField(edge.unit)}\t${copyField(stored.key)}\t${copyField(stored.eventTime)}\t${copyField(digest ?? ctx.digest)}\n`,
      );
    }
    ctx.summary.notPlaced += plan.notPlaced.length + plan.items.filter((i) => !placed(i)).length;
  }
  if (!items.size) return;

  // Staging (ADR 045): the batch's items and edges go by COPY into temporary tables (no WAL, no
  // index, dropped at commit), then into trace_items and genealogy_edges by one set-based
  // statement each — statement-level triggers fire once per table and batch.
  if (!ctx.staged) {
    // `if not exists`: a quarantine release applies site by site in one transaction.
    await ctx.tx.execute(sql`
      create temporary table if not exists c981_epcis_stage_items (kind trace_item_kind, material_id int, identifier text, quantity numeric,
        unit text, event_key text, digest text, first_at timestamptz) on commit drop`);
    await ctx.tx.execute(sql`
      create temporary table if not exists c981_epcis_stage_edges (kind genealogy_kind, in_m int, in_i text, out_m int, out_i text,
        quantity numeric, unit text, event_key text, occurred_at timestamptz, digest text) on commit drop`);
    ctx.staged = true;
  }
  await ctx.tx.execute(sql`truncate pg_temp.c981_epcis_stage_items, pg_temp.c981_epcis_stage_edges`);
  const itemRows: string[] = [];
  for (const i of items.values()) {
    itemRows.push(
      `${i.kind}\t${i.material_id}\t${copyField(i.identifier)}\t${i.kind === "container" ? 1 : i.quantity}\t${copyField(i.kind === "container" ? "EA" : i.unit)}\t${copyField(i.event_key)}\t${copyField(i.digest)}\t${copyField(i.first_at)}\n`,
    );
  }
  await copyRows(ctx.tx, "pg_temp.c981_epcis_stage_items (kind, material_id, identifier, quantity, unit, event_key, digest, first_at)", itemRows);

  // Items are created once: one already held is reused (its first provenance stays), and moves
  // back to this event's time when it is an imported item of this site that the event predates.
  // The statement's snapshot still holds a moved item's time before the move (the subquery).
  const at = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
  for (const containers of [false, true]) {
    const [written] = await executePrepared<{ created: number; moved: MovedItem[] }>(
      ctx.tx,
      sql`
    with ins as (
      insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
      select x.kind, x.identifier, x.material_id, ${ctx.siteId}, x.quantity, x.unit, 'stock', x.first_at, 'import', x.digest, x.event_key
      from pg_temp.c981_epcis_stage_items x where ${containers ? sql`x.kind = 'container'` : sql`x.kind <> 'container'`}
      ${
        containers ? sql`on conflict (identifier) where kind = 'container'` : sql`on conflict (material_id, identifier) where kind <> 'container'`
      } do update set created_at = excluded.created_at
        where trace_items.provenance_kind = 'import' and trace_items.site_id = ${ctx.siteId} and trace_items.created_at > excluded.created_at
      returning id, identifier, created_at, xmax = 0 as created)
    select (count(*) filter (where ins.created))::int as created,
      coalesce(json_agg(json_build_object('itemId', ins.id, 'identifier', ins.identifier,
        'from', (select ${at("t.created_at")} from trace_items t where t.id = ins.id), 'to', ${at("ins.created_at")}) order by ins.id)
        filter (where not ins.created), '[]') as moved
    from ins`,
    );
    ctx.summary.itemsCreated += Number(written!.created);
    ctx.summary.itemsMovedEarlier += written!.moved.length;
    ctx.moved.push(...written!.moved.map((m) => ({ ...m, itemId: Number(m.itemId) })));
  }
  if (!edgeRows.length) return;
  await copyRows(ctx.tx, "pg_temp.c981_epcis_stage_edges (kind, in_m, in_i, out_m, out_i, quantity, unit, event_key, occurred_at, digest)", edgeRows);
  // Each end found by one index probe on its unique key (a scalar subquery: a join over the
  // staging table, which has no statistics, could be planned as a scan of all trace items).
  const endId = (m: string, i: string) =>
    sql.raw(`case when x.${m} is null then (select t.id from trace_items t where t.identifier = x.${i} and t.kind = 'container')
      else (select t.id from trace_items t where t.material_id = x.${m} and t.identifier = x.${i} and t.kind <> 'container') end`);
  const [inserted] = await executePrepared<{ n: number }>(
    ctx.tx,
    sql`
    with ins as (
      insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind, provenance_file_digest, provenance_event_id)
      select x.event_key, x.kind, ${endId("in_m", "in_i")}, ${endId("out_m", "out_i")}, x.quantity, x.unit, ${ctx.siteId}, x.occurred_at, 'import', x.digest, x.event_key
      from pg_temp.c981_epcis_stage_edges x
      returning 1)
    select count(*)::int as n from ins`,
  );
  // Every end was inserted above or existed: a missing one would be a null id, which the NOT NULL
  // columns refuse (the whole import is then rolled back) rather than an edge silently dropped.
  ctx.summary.edgesCreated += Number(inserted!.n);
}
