/**
 * EPCIS 2.0 import (ADR 014), in one transaction: the bytes are digested, then parsed as a
 * stream; every event is checked against GS1's schema and C-981's semantic rules as it arrives and,
 * while the document is clean, applied in batches (identity, declarations, quarantine of unknown
 * GTINs, trace items and genealogy edges with provenance: file digest + event id). Any error — or an
 * event id reused with other content — refuses the whole document with every error located: the
 * transaction is rolled back and only an `epcis.import_refused` audit row records the attempt.
 */
import { sql } from "drizzle-orm";
import { sites } from "../../db/schema";
import {
  contentHash,
  declarationOf,
  eventKey,
  identityHash,
  itemKey,
  planEvent,
  checkEventSemantics,
  checkHeaderSemantics,
  type EpcisEvent,
  type EventPlan,
  type PlannedItem,
} from "../domain/epcis/events";
import {
  checkDocumentTime,
  checkEventTimes,
  checkSelfRelations,
  DEFAULT_CLOCK_SKEW_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  type TimeLimit,
} from "../domain/epcis/plausibility";
import { mergeEventIssues, validateEventSchema, validateHeader, type EpcisIssue } from "../domain/epcis/validate";
import { LOGISTICS_UNIT_MATERIAL } from "../domain/material";
import { executePrepared, type Db, type Tx } from "../utils/db.server";
import { DomainError, type Refusal } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { cycleText, findNewCycles, lastEdgeId } from "./epcis-cycles.server";
import { digestAndScan, streamEpcisDocument, type ByteSource } from "./epcis-stream.server";
import { eq } from "drizzle-orm";

/** Errors listed in full; beyond this only counted (a broken 100,000-event file stays readable). */
export const MAX_LISTED_ERRORS = 1_000;
const BATCH = 2_000;

export interface EpcisImportInput {
  fileName: string;
  siteCode: string;
  source: ByteSource;
  /** Events applied per batch (default 2,000); tests set it small to cross batch boundaries. */
  batchSize?: number;
  /**
   * Times (eventTime, recordTime, declarationTime, creationDate) up to this many seconds after the
   * import time are accepted; later ones refuse the document (ADR 024). Default one day.
   */
  clockSkewSeconds?: number;
}

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

/**
 * A refused document: returned, not thrown, because the refusal is a report (every error located)
 * that its callers show as they show a success; its epcis.import_refused audit row is committed on
 * its own after the import's rollback.
 */
export type EpcisImportRefusal = Refusal<{
  fileName: string;
  fileDigest: string;
  errors: EpcisIssue[];
  /** All errors, listed or not. */
  errorCount: number;
  warnings: EpcisIssue[];
}>;

export type EpcisImportResult = EpcisImportSummary | EpcisImportRefusal;

class RefusedDocument extends Error {
  constructor(
    readonly errors: EpcisIssue[],
    readonly errorCount: number,
    readonly digest: string,
    readonly warnings: EpcisIssue[],
  ) {
    super("refused");
  }
}

export async function importEpcisDocument(db: Db, actor: string, input: EpcisImportInput): Promise<EpcisImportResult> {
  const [site] = await db.select({ id: sites.id, code: sites.code }).from(sites).where(eq(sites.code, input.siteCode.toUpperCase()));
  if (!site) throw new DomainError("not_found", `site ${input.siteCode} does not exist`);
  const skew = input.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    throw new DomainError("invalid", `clock skew ${skew}: a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}`);
  }
  try {
    return await db.transaction((tx) => applyDocument(tx, actor, { ...input, siteId: site.id, siteCode: site.code }));
  } catch (error) {
    if (!(error instanceof RefusedDocument)) throw error;
    // The transaction is rolled back: nothing of a refused document is stored but the record that
    // it was refused, and why.
    await db.transaction((tx) =>
      appendAudit(tx, {
        actor,
        action: "epcis.import_refused",
        entityType: "epcis_document",
        entityId: error.digest,
        after: { fileName: input.fileName, site: site.code, errorCount: error.errorCount, errors: error.errors.slice(0, 20) },
      }),
    );
    return { ok: false, fileName: input.fileName, fileDigest: error.digest, errors: error.errors, errorCount: error.errorCount, warnings: error.warnings };
  }
}

interface ApplyContext {
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
interface MovedItem {
  itemId: number;
  identifier: string;
  from: string;
  to: string;
}

interface StoredEvent {
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

/** An event C-981 holds (stored earlier, or earlier in this document). */
interface Held {
  key: string;
  fromEventId: boolean;
  /** Null only for a row stored before migration 0025 whose identity an earlier row holds. */
  identity: string | null;
  contentHash: string;
  status: string;
  digest: string;
  index: number;
  /** The site it was imported into: only an import into that site may declare it erroneous. */
  siteId: number;
}

async function loadMaterials(tx: Tx): Promise<Map<string, number>> {
  const rows = await tx.execute<{ id: number; gtin: string }>(sql`select id, gtin from materials where gtin is not null`);
  return new Map(rows.map((r) => [r.gtin, Number(r.id)]));
}

/** The logistics-unit material migration 0024 creates; its absence is a broken installation. */
async function loadLogisticsUnit(tx: Tx): Promise<number> {
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

async function applyDocument(tx: Tx, actor: string, input: EpcisImportInput & { siteId: number; siteCode: string }): Promise<EpcisImportSummary> {
  // One import at a time: identity checks read what earlier imports stored.
  await lockEpcisImports(tx);
  // The import's clock, read once: every time the document states is compared with it (ADR 024).
  const timeLimit: TimeLimit = { now: Date.now(), skewSeconds: input.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS };
  const sinceEdgeId = await lastEdgeId(tx);
  // Known once the whole file is read; rows carry it from the first batch, so it is computed by a
  // first read of the bytes (cheap next to parsing), which also checks them byte by byte (ADR 016):
  // a hostile document is refused before anything is parsed.
  const scan = await digestAndScan(input.source);
  if (scan.refusal) throw new RefusedDocument([scan.refusal], 1, scan.digest, scan.notices);
  const ctx: ApplyContext = {
    tx,
    siteId: input.siteId,
    digest: scan.digest,
    materials: await loadMaterials(tx),
    logisticsUnit: await loadLogisticsUnit(tx),
    moved: [],
    summary: {
      ok: true,
      fileName: input.fileName,
      fileDigest: "",
      site: input.siteCode,
      events: 0,
      applied: 0,
      quarantined: 0,
      supersededOnArrival: 0,
      declared: 0,
      unchanged: 0,
      itemsCreated: 0,
      itemsMovedEarlier: 0,
      edgesCreated: 0,
      notPlaced: 0,
      pendingCorrectiveEventIds: [],
      unknownGtins: [],
      warnings: [],
      unchangedDocument: false,
    },
  };
  const conflicts: EpcisIssue[] = [];
  const correctiveIds = new Set<string>();
  const unknownGtins = new Set<string>();
  let buffer: { index: number; value: unknown }[] = [];

  /** Events of this document that C-981 holds under another event id (warned "likely duplicate"). */
  const aliasIds = new Set<string>();
  const duplicates: EpcisIssue[] = [];

  const processBatch = async (batch: { index: number; value: unknown }[]) => {
    const entries = batch.map(({ index, value }) => {
      const event = value as EpcisEvent;
      const hash = identityHash(event);
      const { key, fromEventId } = eventKey(event, hash);
      return { index, event, hash, key, fromEventId, declaration: declarationOf(event) };
    });
    // What C-981 holds of these events: by identity (the same fact under any id or none), and by
    // key (an event id used before, possibly for other content).
    const existingRows = await executePrepared<{
      event_key: string;
      from_event_id: boolean;
      identity_hash: string | null;
      content_hash: string;
      status: string;
      file_digest: string;
      event_index: number;
      site_id: number;
    }>(
      tx,
      // Two index lookups (an OR of the two would scan the table once per batch).
      sql`select event_key, from_event_id, identity_hash, content_hash, status::text as status, file_digest, event_index, site_id from epcis_events
          where identity_hash in (select jsonb_array_elements_text(${JSON.stringify(entries.map((e) => e.hash))}::jsonb))
          union
          select event_key, from_event_id, identity_hash, content_hash, status::text as status, file_digest, event_index, site_id from epcis_events
          where event_key in (select jsonb_array_elements_text(${JSON.stringify(entries.map((e) => e.key))}::jsonb))`,
    );
    const byKey = new Map<string, Held>();
    const byIdentity = new Map<string, Held>();
    const hold = (held: Held) => {
      byKey.set(held.key, held);
      if (held.identity !== null) byIdentity.set(held.identity, held);
    };
    for (const r of existingRows) {
      hold({
        key: r.event_key,
        fromEventId: r.from_event_id,
        identity: r.identity_hash,
        contentHash: r.content_hash,
        status: r.status,
        digest: r.file_digest,
        index: Number(r.event_index),
        siteId: Number(r.site_id),
      });
    }
    const where = (held: Held) =>
      held.digest === ctx.digest
        ? `event ${held.index} of this document (/epcisBody/eventList/${held.index})`
        : `event ${held.index} of the document with SHA-256 ${held.digest}, imported earlier`;
    let toStore: StoredEvent[] = [];
    let toApply: { stored: StoredEvent; plan: EventPlan }[] = [];
    const flush = async () => {
      await storeEvents(ctx, toStore);
      await applyPlans(ctx, toApply);
      toStore = [];
      toApply = [];
    };
    for (const e of entries) {
      ctx.summary.events += 1;
      for (const id of e.declaration?.correctiveEventIDs ?? []) correctiveIds.add(id);
      // An event id names one fact: held for another one, the document is refused. A row stored
      // before migration 0025 without an identity (its fact was already held) is compared as then.
      const sameKey = byKey.get(e.key);
      const sameFact = (held: Held) => (held.identity !== null ? held.identity === e.hash : held.contentHash === contentHash(e.event));
      if (sameKey && !sameFact(sameKey)) {
        conflicts.push({
          eventIndex: e.index,
          path: `/epcisBody/eventList/${e.index}`,
          message: `event ${e.key} differs from ${where(sameKey)}: the same event id with other content (neither is dropped; the document is refused)`,
        });
        continue;
      }
      const prior = byIdentity.get(e.hash) ?? sameKey;
      if (prior) {
        if (e.fromEventId && prior.fromEventId && prior.key !== e.key) {
          aliasIds.add(e.key);
          duplicates.push({
            eventIndex: e.index,
            path: `/epcisBody/eventList/${e.index}/eventID`,
            message: `likely duplicate: event ${e.key} states the same as event ${prior.key} (${where(prior)}); kept as one event, ${prior.key}`,
          });
        }
        if (e.declaration && prior.status !== "superseded" && prior.siteId !== ctx.siteId) {
          // An import changes only its own site's rows: the importer may not even see the other site.
          conflicts.push({
            eventIndex: e.index,
            path: `/epcisBody/eventList/${e.index}/errorDeclaration`,
            message: `event ${prior.key} (${where(prior)}) is held at another site: an error declaration is imported into the site that holds the event`,
          });
          continue;
        }
        if (e.declaration && prior.status !== "superseded") {
          if (toStore.some((s) => s.key === prior.key)) await flush();
          await supersede(ctx, prior.key, e.event.errorDeclaration);
          prior.status = "superseded";
          ctx.summary.declared += 1;
        } else {
          ctx.summary.unchanged += 1;
        }
        continue;
      }
      const stored: StoredEvent = {
        key: e.key,
        fromEventId: e.fromEventId,
        type: String(e.event.type),
        eventTime: String(e.event.eventTime),
        // The hash it is compared by: its identity (before migration 0025, the hash as received).
        contentHash: e.hash,
        identityHash: e.hash,
        index: e.index,
        status: "applied",
        unknownGtins: [],
        body: e.event,
        declaration: e.declaration ? e.event.errorDeclaration : null,
      };
      const held: Held = {
        key: e.key,
        fromEventId: e.fromEventId,
        identity: e.hash,
        contentHash: stored.contentHash,
        status: "applied",
        digest: ctx.digest,
        index: e.index,
        siteId: ctx.siteId,
      };
      hold(held);
      if (e.declaration) {
        stored.status = "superseded";
        held.status = "superseded";
        ctx.summary.supersededOnArrival += 1;
        toStore.push(stored);
        continue;
      }
      const plan = planEvent(e.event);
      const missing = plan.gtins.filter((g) => !ctx.materials.has(g));
      if (missing.length) {
        stored.status = "quarantined";
        stored.unknownGtins = missing;
        for (const g of missing) unknownGtins.add(g);
        ctx.summary.quarantined += 1;
      } else {
        toApply.push({ stored, plan });
        ctx.summary.applied += 1;
      }
      toStore.push(stored);
    }
    await flush();
  };

  ctx.summary.fileDigest = ctx.digest;
  // One pass: each event is checked (schema + semantics) as it is parsed; while the document is
  // clean, checked events are applied in batches, one batch in flight in the database while the
  // next is parsed and checked. Any error stops applying but not checking (every error is listed),
  // and refuses the document: the transaction is rolled back.
  const checkErrors: EpcisIssue[] = [];
  const warnings: EpcisIssue[] = [];
  let errorCount = 0;
  const note = (list: readonly EpcisIssue[], into: EpcisIssue[], counted: boolean) => {
    if (counted) errorCount += list.length;
    for (const e of list) if (into.length < MAX_LISTED_ERRORS) into.push(e);
  };
  const batchSize = Math.max(1, Math.floor(input.batchSize ?? BATCH));
  let inflight: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const launch = async (batch: { index: number; value: unknown }[]) => {
    await inflight;
    if (failure) throw failure;
    inflight = processBatch(batch).catch((error: unknown) => {
      failure = error;
    });
  };
  const outcome = await streamEpcisDocument(input.source, {
    async onEvents(events) {
      for (const item of events) {
        const schema = validateEventSchema(item.value, item.index);
        note(schema.warnings, warnings, false);
        if (item.value && typeof item.value === "object" && !Array.isArray(item.value)) {
          const semantic = checkEventSemantics(item.value as EpcisEvent, item.index);
          note(mergeEventIssues(schema.errors, semantic.errors), checkErrors, true);
          note(semantic.warnings, warnings, false);
          note(checkEventTimes(item.value as EpcisEvent, item.index, timeLimit), checkErrors, true);
          const self = checkSelfRelations(item.value as EpcisEvent, item.index);
          note(self.errors, checkErrors, true);
          note(self.warnings, warnings, false);
        } else note(schema.errors, checkErrors, true);
        if (errorCount === 0) buffer.push(item);
      }
      if (errorCount > 0) buffer = [];
      while (buffer.length >= batchSize) await launch(buffer.splice(0, batchSize));
    },
  });
  if (outcome.syntaxError) {
    checkErrors.unshift(outcome.syntaxError);
    errorCount += 1;
  } else {
    const header = validateHeader(outcome.header);
    const headerErrors = [...checkHeaderSemantics(outcome.header), ...header.errors, ...checkDocumentTime(outcome.header, timeLimit)];
    checkErrors.unshift(...headerErrors);
    errorCount += headerErrors.length;
    warnings.unshift(...header.warnings);
  }
  warnings.unshift(...scan.notices);
  if (errorCount === 0 && buffer.length) await launch(buffer);
  buffer = [];
  await inflight;
  if (failure) throw failure;
  if (outcome.digest !== null && outcome.digest !== ctx.digest)
    throw new DomainError("conflict", "the file changed while it was being imported; import it again");
  const allErrors = [...checkErrors, ...conflicts].sort((a, b) => (a.eventIndex ?? -1) - (b.eventIndex ?? -1));
  if (errorCount + conflicts.length > 0) throw new RefusedDocument(allErrors.slice(0, MAX_LISTED_ERRORS), errorCount + conflicts.length, ctx.digest, warnings);
  // Every edge is written now (inside this transaction): a cycle through one of them refuses the document.
  const cycles = ctx.summary.edgesCreated ? await findNewCycles(tx, { sinceEdgeId, fileDigest: ctx.digest }, ctx.digest) : [];
  if (cycles.length) throw new RefusedDocument(cycles.map(cycleIssue), cycles.length, ctx.digest, warnings);
  // Located warnings in document order; a likely duplicate after the checks' warnings of its event.
  ctx.summary.warnings = [...warnings, ...duplicates.slice(0, Math.max(0, MAX_LISTED_ERRORS - warnings.length))].sort(
    (a, b) => (a.eventIndex ?? -1) - (b.eventIndex ?? -1),
  );

  if (correctiveIds.size) {
    const held = await tx.execute<{ event_key: string }>(
      sql`select event_key from epcis_events where event_key in (select jsonb_array_elements_text(${JSON.stringify([...correctiveIds])}::jsonb))`,
    );
    // An id this document used for an event C-981 holds under another id names that event.
    const heldKeys = new Set([...held.map((r) => r.event_key), ...aliasIds]);
    ctx.summary.pendingCorrectiveEventIds = [...correctiveIds].filter((id) => !heldKeys.has(id));
  }
  ctx.summary.unknownGtins = [...unknownGtins].sort();
  const s = ctx.summary;
  s.unchangedDocument = s.applied + s.quarantined + s.supersededOnArrival + s.declared === 0;
  if (!s.unchangedDocument) {
    await tx.execute(sql`insert into epcis_imports (file_digest, file_name, site_id, events, actor, imported_at)
      values (${ctx.digest}, ${input.fileName}, ${ctx.siteId}, ${s.events}, ${actor}, now()) on conflict (file_digest) do nothing`);
    await appendAudit(tx, {
      actor,
      action: "epcis.import",
      entityType: "epcis_document",
      entityId: ctx.digest,
      after: {
        fileName: input.fileName,
        site: input.siteCode,
        events: s.events,
        applied: s.applied,
        quarantined: s.quarantined,
        supersededOnArrival: s.supersededOnArrival,
        declared: s.declared,
        unchanged: s.unchanged,
        itemsCreated: s.itemsCreated,
        itemsMovedEarlier: s.itemsMovedEarlier,
        itemsMoved: ctx.moved,
        edgesCreated: s.edgesCreated,
        unknownGtins: s.unknownGtins,
      },
    });
  }
  return s;
}

/** A cycle located at the earliest of this document's events it passes through (its first edge). */
function cycleIssue(cycle: Awaited<ReturnType<typeof findNewCycles>>[number]): EpcisIssue {
  const index = cycle[0]?.eventIndex ?? null;
  return {
    eventIndex: index,
    path: index === null ? "" : `/epcisBody/eventList/${index}`,
    message: `genealogy cycle: ${cycleText(cycle)}; material would flow back into its own source, and a recall over a cycle is undefined (ADR 024)`,
  };
}

async function storeEvents(ctx: ApplyContext, events: readonly StoredEvent[]): Promise<void> {
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
async function supersede(ctx: ApplyContext, key: string, declaration: unknown): Promise<void> {
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
async function applyPlans(
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

/**
 * Releases quarantined EPCIS events whose GTINs are now all C-981 materials into the genealogy.
 * Called in the transaction that creates a material or gives it a GTIN (a released change
 * request, app/services/releases.server.ts), and by the CLI `epcis:release-quarantine`.
 * Events still naming an unknown GTIN stay quarantined with the remaining GTINs.
 */
export async function releaseQuarantine(tx: Tx, gtin: string, actor: string): Promise<{ released: number; stillQuarantined: number }> {
  // Waits for an import in flight so its quarantined events are seen (a no-op when the caller holds it).
  await lockEpcisImports(tx);
  const rows = await tx.execute<{ event_key: string; event_time: string; file_digest: string; site_id: number; body: EpcisEvent }>(sql`
    select event_key, to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as event_time, file_digest, site_id, body
    from epcis_events where status = 'quarantined' and unknown_gtins @> array[${gtin}]::text[] order by id for update`);
  if (!rows.length) return { released: 0, stillQuarantined: 0 };
  const materials = await loadMaterials(tx);
  let released = 0;
  let still = 0;
  const bySite = new Map<number, { stored: { key: string; eventTime: string }; plan: EventPlan; digest: string }[]>();
  for (const r of rows) {
    const plan = planEvent(r.body);
    const missing = plan.gtins.filter((g) => !materials.has(g));
    if (missing.length) {
      still += 1;
      await tx.execute(sql`update epcis_events set unknown_gtins = ${`{${missing.join(",")}}`}::text[] where event_key = ${r.event_key}`);
      continue;
    }
    released += 1;
    const list = bySite.get(Number(r.site_id)) ?? [];
    list.push({ stored: { key: r.event_key, eventTime: String(r.body.eventTime) }, plan, digest: r.file_digest });
    bySite.set(Number(r.site_id), list);
    await tx.execute(sql`update epcis_events set status = 'applied', unknown_gtins = '{}', applied_at = now() where event_key = ${r.event_key}`);
  }
  const summary = { itemsCreated: 0, itemsMovedEarlier: 0, edgesCreated: 0, notPlaced: 0 } as EpcisImportSummary;
  const moved: MovedItem[] = [];
  const logisticsUnit = await loadLogisticsUnit(tx);
  const sinceEdgeId = await lastEdgeId(tx);
  for (const [siteId, applied] of bySite) {
    await applyPlans({ tx, siteId, digest: "", materials, logisticsUnit, summary, moved }, applied);
  }
  if (summary.edgesCreated) {
    // The released events' edges may close a cycle with the genealogy stored since they arrived (ADR 024).
    const keys = [...bySite.values()].flatMap((list) => list.map((a) => a.stored.key));
    const cycles = await findNewCycles(tx, { sinceEdgeId, eventKeys: keys }, null);
    if (cycles.length) {
      throw new DomainError(
        "conflict",
        `releasing GTIN ${gtin}'s quarantined EPCIS events would close a genealogy cycle: ${cycles.map(cycleText).join("; ")}; declare the wrong event erroneous (an EPCIS errorDeclaration) and release again`,
      );
    }
  }
  await appendAudit(tx, {
    actor,
    action: "epcis.quarantine_release",
    entityType: "gtin",
    entityId: gtin,
    after: {
      released,
      stillQuarantined: still,
      itemsCreated: summary.itemsCreated,
      itemsMovedEarlier: summary.itemsMovedEarlier,
      itemsMoved: moved,
      edgesCreated: summary.edgesCreated,
    },
  });
  return { released, stillQuarantined: still };
}

export async function releaseQuarantineNow(db: Db, gtin: string, actor: string) {
  return db.transaction((tx) => releaseQuarantine(tx, gtin, actor));
}

/**
 * Containers imported before ADR 014's containers amendment took the material of the first trade
 * item they held. This puts every imported container that is under a product back under the
 * logistics-unit material, in one transaction with one audit row naming each container and the
 * material it had (its edges, what it holds, are untouched). Containers of other provenance (seed,
 * API: the plant labelled them) are left as they are. Run from the CLI (`epcis:relabel-containers`);
 * a second run finds nothing and writes nothing.
 */
export async function relabelImportedContainers(db: Db, actor: string): Promise<{ relabelled: { identifier: string; was: string }[] }> {
  return db.transaction(async (tx) => {
    // No import in flight: it could be placing containers meanwhile.
    await lockEpcisImports(tx);
    const logisticsUnit = await loadLogisticsUnit(tx);
    const rows = await tx.execute<{ identifier: string; was: string }>(sql`
      with moved as (
        update trace_items t set material_id = ${logisticsUnit}
        from materials m
        where m.id = t.material_id and t.kind = 'container' and t.provenance_kind = 'import' and m.system_role is null
        returning t.identifier, m.part_number as was)
      select identifier, was from moved order by identifier`);
    const relabelled = rows.map((r) => ({ identifier: r.identifier, was: r.was }));
    if (relabelled.length) {
      await appendAudit(tx, {
        actor,
        action: "epcis.containers_relabelled",
        entityType: "trace_item",
        entityId: "imported-containers",
        before: { containers: relabelled.map((r) => ({ identifier: r.identifier, material: r.was })) },
        after: { material: LOGISTICS_UNIT_MATERIAL.partNumber, count: relabelled.length },
        reason: "a container is a logistics unit, never labelled with a child's material (ADR 014)",
      });
    }
    return { relabelled };
  });
}
