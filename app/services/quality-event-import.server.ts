/**
 * Quality events from a QMS export (ADR 038). The file is read by the pure parser
 * (app/domain/quality-event-csv.ts); every row is then raised, or — for a qms_id imported before —
 * compared and, when its status or disposition moved on in the QMS, changed through the audited
 * status change (app/services/quality-events.server.ts). All in ONE transaction: any problem in
 * any row and nothing is written; every problem is listed with its row and column. A file that
 * changes nothing (the same export again) writes nothing and says so. A file that changes
 * something writes one audit row for the import (file name, SHA-256, counts) beside the rows the
 * raise and the status change write for each event.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { record } from "../../policies/ability";
import { describeNeeded, neededFor } from "../../policies/refusal";
import type { QualityDisposition, QualityEventKind, QualityEventStatus } from "../domain/quality-event";
import { parseQmsCsv, QmsErrorList, type QmsCsvError, type QmsCsvRow } from "../domain/quality-event-csv";
import type { Db, Tx } from "../utils/db.server";
import { DomainError, type Refusal } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { changeQualityEventStatus, raiseQualityEvent, type QualityEventActor, type QualityEventOptions } from "./quality-events.server";

/** Two imports run one after the other: a qms_id is looked up and raised under the lock. */
const QMS_IMPORT_LOCK = 981_000_301;

export interface ImportedEvent {
  row: number;
  qmsId: string;
  number: string;
}

export interface ChangedEvent extends ImportedEvent {
  from: { status: QualityEventStatus; disposition: QualityDisposition };
  to: { status: QualityEventStatus; disposition: QualityDisposition };
}

export type QualityImportResult =
  | {
      ok: true;
      fileName: string;
      digest: string;
      rows: number;
      created: ImportedEvent[];
      changed: ChangedEvent[];
      unchanged: ImportedEvent[];
      /** True when the file changed nothing (nothing written, no audit row). */
      nothingChanged: boolean;
      /** Rows whose other fields differ from the event held: not updated by an import, said here. */
      notes: QmsCsvError[];
    }
  // Returned, not thrown: the refusal is the import's report (every row's problems) that the
  // screen and the CLI show as they show a success; nothing was written.
  | Refusal<{ fileName: string; digest: string; rows: number; errorCount: number; errors: QmsCsvError[] }>;

class Refused extends Error {
  constructor(readonly errors: QmsErrorList) {
    super("refused");
  }
}

type HeldEvent = {
  id: number;
  number: string;
  kind: QualityEventKind;
  site: string;
  status: QualityEventStatus;
  disposition: QualityDisposition;
  severity: string;
  title: string;
  rowVersion: number;
};

/** Null: the importer may raise quality events at the site (the CLI everywhere); else the refusal's sentence. */
function mayNotRaiseAt(actor: QualityEventActor, site: { id: number; code: string }): string | null {
  if (actor.ability === null || actor.ability.can("create", record("QualityEvent", { siteId: site.id }))) return null;
  return describeNeeded(neededFor("create", "QualityEvent", [site.code]));
}

/**
 * Imports a QMS export as `actor` (the signed-in user with their ability; the CLI with none: every
 * site). Every row's site must be one where the actor may raise quality events; a status change
 * needs the right to change them there (the status change checks it).
 */
export async function importQualityEvents(
  db: Db,
  actor: QualityEventActor,
  input: { fileName: string; bytes: Uint8Array },
  options: QualityEventOptions = {},
): Promise<QualityImportResult> {
  const fileName = input.fileName.trim().slice(0, 255) || "(unnamed)";
  const digest = createHash("sha256").update(input.bytes).digest("hex");
  const parsed = parseQmsCsv(input.bytes);
  const errors = new QmsErrorList();
  for (const e of parsed.errors) errors.add(e.row, e.column, e.message);
  // The parser counted more than it kept.
  errors.count = parsed.errorCount;
  const refusal = (): QualityImportResult => ({
    ok: false,
    fileName,
    digest,
    rows: parsed.rowCount,
    errorCount: errors.count,
    errors: [...errors.errors].sort((a, b) => a.row - b.row),
  });
  // A file that could not be read as a whole (size, encoding, header) has no row to check further.
  if (parsed.rows.length === 0 && errors.count > 0) return refusal();

  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${QMS_IMPORT_LOCK})`);
      const siteRows = await tx.execute<{ id: number; code: string }>(sql`select id, code from sites`);
      const sites = new Map(siteRows.map((s) => [s.code, s.id]));
      const held = await heldEvents(
        tx,
        parsed.rows.map((r) => r.qmsId),
      );
      const created: ImportedEvent[] = [];
      const changed: ChangedEvent[] = [];
      const unchanged: ImportedEvent[] = [];
      const notes: QmsCsvError[] = [];

      for (const row of parsed.rows) {
        const siteId = sites.get(row.site);
        if (siteId === undefined) {
          errors.add(row.row, "site", `There is no site ${row.site}`);
          continue;
        }
        // Every row, a known one included: the file speaks for the site it names.
        const refusedHere = mayNotRaiseAt(actor, { id: siteId, code: row.site });
        if (refusedHere) {
          errors.add(row.row, "site", refusedHere);
          continue;
        }
        const known = held.get(row.qmsId);
        if (!known) {
          const number = await attempt(errors, row, () => raise(tx, actor, row, options));
          if (number) created.push({ row: row.row, qmsId: row.qmsId, number });
          continue;
        }
        // Imported before: the identity must hold; status and disposition follow the QMS.
        if (known.site !== row.site) {
          // Not named (number, site): the importer may not see the site it was imported at.
          errors.add(row.row, "site", `${row.qmsId} was imported before at another site; an import does not move it to ${row.site}`);
          continue;
        }
        if (known.kind !== row.kind) {
          errors.add(row.row, "kind", `${row.qmsId} was imported as ${known.number}, a ${known.kind}; an import does not make it a ${row.kind}`);
          continue;
        }
        for (const [column, differs] of [
          ["title", known.title !== row.title],
          ["severity", known.severity !== row.severity],
        ] as const)
          if (differs) notes.push({ row: row.row, column, message: `Differs from ${known.number}'s; an import changes only status and disposition` });
        const to = { status: row.status ?? known.status, disposition: row.disposition ?? known.disposition };
        if (to.status === known.status && to.disposition === known.disposition) {
          unchanged.push({ row: row.row, qmsId: row.qmsId, number: known.number });
          continue;
        }
        // The status change checks the right to change quality events at the site (the quality reviewer's).
        const done = await attempt(errors, row, () => change(tx, actor, known, to, fileName, options));
        if (done)
          changed.push({
            row: row.row,
            qmsId: row.qmsId,
            number: known.number,
            from: { status: known.status, disposition: known.disposition },
            to,
          });
      }

      if (errors.count > 0) throw new Refused(errors);
      const nothingChanged = created.length === 0 && changed.length === 0;
      if (!nothingChanged) {
        await appendAudit(tx, {
          actor: actor.username,
          action: "quality_event.import",
          entityType: "qms_export",
          entityId: digest,
          after: {
            fileName,
            digest,
            rows: parsed.rowCount,
            created: created.length,
            changed: changed.length,
            unchanged: unchanged.length,
            events: [...created, ...changed].map((e) => `${e.qmsId}=${e.number}`).slice(0, 200),
          },
        });
      }
      return { ok: true as const, fileName, digest, rows: parsed.rowCount, created, changed, unchanged, nothingChanged, notes };
    });
  } catch (error) {
    if (error instanceof Refused) return refusal();
    throw error;
  }
}

async function heldEvents(tx: Tx, qmsIds: readonly string[]): Promise<Map<string, HeldEvent>> {
  if (qmsIds.length === 0) return new Map();
  const rows = await tx.execute<Omit<HeldEvent, "rowVersion"> & { external_id: string; row_version: number }>(sql`
    select e.external_id, e.id, e.number, e.kind, s.code as site, e.status, e.disposition, e.severity, e.title, e.row_version
    from quality_events e join sites s on s.id = e.site_id
    where e.external_id in (select unnest(${sql.param([...qmsIds])}::text[]))
    for update of e`);
  return new Map(
    rows.map((r) => [
      r.external_id,
      {
        id: r.id,
        number: r.number,
        kind: r.kind,
        site: r.site,
        status: r.status,
        disposition: r.disposition,
        severity: r.severity,
        title: r.title,
        rowVersion: r.row_version,
      },
    ]),
  );
}

/**
 * One row's write: the raise and the status change each run in their own savepoint (their
 * `db.transaction` inside this transaction), so a DomainError (a reference that resolves to nothing,
 * a transition the lifecycle refuses) becomes the row's errors and the import goes on to check the
 * next row; any error rolls the whole import back at the end.
 */
async function attempt<T>(errors: QmsErrorList, row: QmsCsvRow, write: () => Promise<T>): Promise<T | null> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const fields = Object.entries(error.fields);
    if (fields.length === 0) errors.add(row.row, "row", error.message);
    for (const [field, messages] of fields) for (const message of messages) errors.add(row.row, columnOf(field), message);
    return null;
  }
}

/** The service's field path (`references.2.identifier`, `raisedAt`) → the file's column. */
function columnOf(field: string): string {
  const head = field.split(".")[0] ?? "";
  const columns: Record<string, string> = {
    externalId: "qms_id",
    kind: "kind",
    site: "site",
    severity: "severity",
    status: "status",
    disposition: "disposition",
    title: "title",
    description: "description",
    raisedAt: "raised_at",
    references: "references",
  };
  return Object.hasOwn(columns, head) ? columns[head]! : "row";
}

async function raise(tx: Tx, actor: QualityEventActor, row: QmsCsvRow, options: QualityEventOptions): Promise<string> {
  const raised = await raiseQualityEvent(
    tx,
    actor,
    {
      kind: row.kind,
      site: row.site,
      severity: row.severity,
      title: row.title,
      description: row.description,
      externalId: row.qmsId,
      ...(row.raisedAt ? { raisedAt: row.raisedAt } : {}),
      ...(row.status ? { status: row.status } : {}),
      ...(row.disposition ? { disposition: row.disposition } : {}),
      references: row.references.map((r) => ({ ...r })),
    },
    options,
  );
  return raised.number;
}

async function change(
  tx: Tx,
  actor: QualityEventActor,
  known: HeldEvent,
  to: { status: QualityEventStatus; disposition: QualityDisposition },
  fileName: string,
  options: QualityEventOptions,
): Promise<true> {
  await changeQualityEventStatus(
    tx,
    actor,
    known.number,
    { status: to.status, disposition: to.disposition, comment: `As in the QMS export ${fileName}`, rowVersion: known.rowVersion },
    options,
  );
  return true;
}
