/**
 * ERP / PLM snapshot import (issue 10 part 3, docs/decisions/015). A CSV file is streamed through
 * csv-parse; every row is checked (app/domain/external-snapshot.ts). In one transaction: a file
 * with any error stores nothing and comes back with every error located (line and field; the list
 * capped, the count not); a good file becomes a new append-only snapshot (digest, who, when, all
 * its rows) and replaces that system's current view (external_master_records), audited.
 */
import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CsvError, parse } from "csv-parse";
import { sql } from "drizzle-orm";
import { externalSnapshots, materials, sites } from "../../db/schema";
import { SnapshotChecker, type CheckSummary, type ExternalSystem, type LocatedError, type SnapshotRow } from "../domain/external-snapshot";
import type { Db, Tx } from "../utils/db.server";
import { appendAudit } from "./audit.server";

/** One advisory lock per system: two imports of one system run one after the other. */
const IMPORT_LOCK: Record<ExternalSystem, number> = { erp: 981_000_101, plm: 981_000_102 };
/** Rows sent to PostgreSQL per statement (arrays through unnest: one round trip per batch). */
const BATCH = 10_000;

export interface ImportInput {
  system: ExternalSystem;
  fileName: string;
  /** The file's bytes, streamed (a Node stream, a web ReadableStream, or any async iterable of chunks). */
  source: AsyncIterable<Uint8Array | string>;
}

export type ImportResult =
  | {
      ok: true;
      system: ExternalSystem;
      snapshotId: number;
      fileName: string;
      digest: string;
      rows: number;
      unknownCount: number;
      unknown: CheckSummary["unknown"];
      replaced: { snapshotId: number | null; rows: number };
    }
  | { ok: false; system: ExternalSystem; fileName: string; digest: string; rows: number; errorCount: number; errors: LocatedError[] };

class Refused extends Error {
  constructor(readonly result: Extract<ImportResult, { ok: false }>) {
    super("refused");
  }
}

export async function importExternalSnapshot(db: Db, actor: string, input: ImportInput): Promise<ImportResult> {
  const fileName = input.fileName.trim().slice(0, 255) || "(unnamed)";
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${IMPORT_LOCK[input.system]})`);
      const [siteRows, materialRows] = await Promise.all([
        tx.select({ id: sites.id, code: sites.code }).from(sites),
        tx.select({ id: materials.id, partNumber: materials.partNumber }).from(materials),
      ]);
      const checker = new SnapshotChecker(input.system, {
        sites: new Map(siteRows.map((s) => [s.code, s.id])),
        materials: new Map(materialRows.map((m) => [m.partNumber, m.id])),
      });
      await tx.execute(sql.raw(`create temporary table snapshot_staging (
        line integer not null, part_number text not null, site text, site_id integer, material_id integer,
        tracking_flag text not null, tracking_mode tracking_mode not null) on commit drop`));

      let batch: SnapshotRow[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const rows = batch;
        batch = [];
        await stage(tx, rows);
      };
      const digest = await parseFile(input.source, checker, async (row) => {
        // After the first error nothing more is staged (it will all be rolled back), but every row is still checked.
        if (!checker.ok) return;
        batch.push(row);
        if (batch.length >= BATCH) await flush();
      });
      if (!checker.ok) {
        throw new Refused({ ok: false, system: input.system, fileName, digest, rows: checker.summary.rows, errorCount: checker.summary.errorCount, errors: checker.summary.errors });
      }
      await flush();

      const [previous] = await tx.execute<{ id: number | null; rows: number }>(sql`
        select (select id from external_snapshots where system = ${input.system} order by id desc limit 1) as id,
               (select count(*)::int from external_master_records where system = ${input.system}) as rows`);
      const [snapshot] = await tx
        .insert(externalSnapshots)
        .values({
          system: input.system,
          fileName,
          digest,
          rowCount: checker.summary.rows,
          unknownCount: checker.summary.unknownCount,
          importedBy: actor,
          importedAt: sql`date_trunc('milliseconds', clock_timestamp())`,
        })
        .returning({ id: externalSnapshots.id });
      await tx.execute(sql`
        insert into external_snapshot_rows (snapshot_id, line, external_key, site, tracking_flag, tracking_mode)
        select ${snapshot!.id}, line, part_number, site, tracking_flag, tracking_mode from snapshot_staging`);
      // The current view is the latest snapshot: replaced whole, never merged.
      await tx.execute(sql`delete from external_master_records where system = ${input.system}`);
      await tx.execute(sql`
        insert into external_master_records (system, external_key, material_id, site_id, tracking_flag, tracking_mode, payload, imported_at, source_digest)
        select ${input.system}, part_number, material_id, site_id, tracking_flag, tracking_mode,
               jsonb_build_object('snapshot', ${snapshot!.id}::int, 'line', line), s.imported_at, ${digest}
        from snapshot_staging, (select imported_at from external_snapshots where id = ${snapshot!.id}) s`);
      await appendAudit(tx, {
        actor,
        action: "external_master.import",
        entityType: "external_snapshot",
        entityId: `${input.system}/${snapshot!.id}`,
        before: { snapshot: previous?.id ?? null, rows: previous?.rows ?? 0 },
        after: {
          system: input.system,
          fileName,
          digest,
          rows: checker.summary.rows,
          unknownToC981: checker.summary.unknownCount,
          unknownSample: checker.summary.unknown.slice(0, 20).map((u) => `${u.partNumber}${u.site ? `@${u.site}` : ""}`),
        },
      });
      return {
        ok: true as const,
        system: input.system,
        snapshotId: snapshot!.id,
        fileName,
        digest,
        rows: checker.summary.rows,
        unknownCount: checker.summary.unknownCount,
        unknown: checker.summary.unknown,
        replaced: { snapshotId: previous?.id ?? null, rows: previous?.rows ?? 0 },
      };
    });
  } catch (error) {
    if (error instanceof Refused) return error.result;
    throw error;
  }
}

async function stage(tx: Tx, rows: readonly SnapshotRow[]): Promise<void> {
  await tx.execute(sql`
    insert into snapshot_staging (line, part_number, site, site_id, material_id, tracking_flag, tracking_mode)
    select * from unnest(${sql.param(rows.map((r) => r.line))}::int[], ${sql.param(rows.map((r) => r.partNumber))}::text[],
                         ${sql.param(rows.map((r) => r.site))}::text[], ${sql.param(rows.map((r) => r.siteId))}::int[],
                         ${sql.param(rows.map((r) => r.materialId))}::int[], ${sql.param(rows.map((r) => r.trackingFlag))}::text[],
                         ${sql.param(rows.map((r) => r.trackingMode))}::tracking_mode[])`);
}

/**
 * Streams the file through csv-parse into the checker, hashing its bytes on the way; returns the
 * SHA-256. A file csv-parse cannot read (an unclosed quote, say) ends with one located error.
 */
export async function parseFile(source: AsyncIterable<Uint8Array | string>, checker: SnapshotChecker, onRow: (row: SnapshotRow) => Promise<void>): Promise<string> {
  const hash = createHash("sha256");
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
  const feeding = pipeline(Readable.from(source, { objectMode: false }), hasher, parser).catch((error: unknown) => error);
  let lastLine = 0;
  let headerOk = false;
  let headerSeen = false;
  let readable = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      lastLine = info.lines;
      if (!headerSeen) {
        headerSeen = true;
        headerOk = checker.header(record, info.lines);
        continue;
      }
      if (!headerOk) continue;
      const row = checker.row(record, info.lines);
      if (row) await onRow(row);
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    readable = false;
    checker.error((error as CsvError & { lines?: number }).lines ?? lastLine + 1, "file", `Not readable as CSV: ${error.message}`);
  }
  const failed = await feeding;
  if (failed instanceof CsvError) {
    if (readable) checker.error((failed as CsvError & { lines?: number }).lines ?? lastLine + 1, "file", `Not readable as CSV: ${failed.message}`);
    readable = false;
  } else if (failed) throw failed;
  // An unreadable file or a refused header has said all there is to say.
  if (readable && (headerOk || !headerSeen)) checker.end(lastLine);
  return hash.digest("hex");
}
