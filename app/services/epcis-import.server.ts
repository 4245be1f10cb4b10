/**
 * EPCIS 2.0 import (ADR 014), in one transaction: the bytes are digested, then parsed as a
 * stream; every event is checked against GS1's schema and C-981's semantic rules as it arrives and,
 * while the document is clean, applied in batches (identity, declarations, quarantine of unknown
 * GTINs, trace items and genealogy edges with provenance: file digest + event id). Any error — or an
 * event id reused with other content — refuses the whole document with every error located: the
 * transaction is rolled back and only an `epcis.import_refused` audit row records the attempt.
 * Storing and applying events is in epcis-apply.server.ts (shared with the quarantine release,
 * epcis-quarantine.server.ts); genealogy cycles (ADR 024) in epcis-cycles.server.ts.
 */
import { eq, sql } from "drizzle-orm";
import { sites } from "../../db/schema";
import {
  contentHash,
  declarationOf,
  eventKey,
  identityHash,
  planEvent,
  checkEventSemantics,
  checkHeaderSemantics,
  type EpcisEvent,
  type EventPlan,
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
import { executePrepared, type Db, type Tx } from "../utils/db.server";
import { DomainError, type Refusal } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import {
  applyPlans,
  loadLogisticsUnit,
  loadMaterials,
  lockEpcisImports,
  storeEvents,
  supersede,
  type ApplyContext,
  type EpcisImportSummary,
  type StoredEvent,
} from "./epcis-apply.server";
import { cycleIssue, findNewCycles, lastEdgeId } from "./epcis-cycles.server";
import { digestAndScan, streamEpcisDocument, type ByteSource } from "./epcis-stream.server";

export type { EpcisImportSummary } from "./epcis-apply.server";

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
    // Another site's document is not named to this site's importer (who may not see that site).
    const where = (held: Held) =>
      held.digest === ctx.digest
        ? `event ${held.index} of this document (/epcisBody/eventList/${held.index})`
        : held.siteId !== ctx.siteId
          ? "held at another site"
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
            message: `event ${prior.key} is held at another site: an error declaration is imported into the site that holds the event`,
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
          // Said, not silently skipped: the event changes nothing here, and a reader should know why.
          if (prior.siteId !== ctx.siteId)
            duplicates.push({
              eventIndex: e.index,
              path: `/epcisBody/eventList/${e.index}`,
              message: `event ${prior.key} is already held at another site: its items and edges stay there and nothing is placed at ${ctx.summary.site}`,
            });
          else if (prior.status === "superseded" && !e.declaration && prior.digest !== ctx.digest)
            duplicates.push({
              eventIndex: e.index,
              path: `/epcisBody/eventList/${e.index}`,
              message: `event ${prior.key} was declared erroneous earlier (${where(prior)}): it stays superseded and is not applied again`,
            });
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
  const outcome = await streamEpcisDocument(
    input.source,
    {
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
    },
    { scanned: true },
  );
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
