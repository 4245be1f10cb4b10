/**
 * ERP / PLM snapshot import (ADR 015). A CSV file is read twice, both
 * times streamed: first to hash it and keep its bytes (the snapshot's history), then through
 * csv-parse, every row checked (app/domain/external-snapshot.ts) and, while the file is still being
 * read, COPYed into the system's current view. All in one transaction: a file with any error stores
 * nothing and comes back with every error located (line and field; the list capped, the count not);
 * a good file becomes a new append-only snapshot (digest, who, when, its bytes) and the system's
 * current view (external_master_records), replaced whole, audited.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CsvError, parse } from "csv-parse";
import { sql } from "drizzle-orm";
import { externalSnapshotFiles } from "../../db/schema";
import { SnapshotChecker, type CheckSummary, type ExternalSystem, type LocatedError, type SnapshotRow } from "../domain/external-snapshot";
import { rawTransaction, type Db, type Tx } from "../utils/db.server";
import type { Refusal } from "../utils/errors.server";
import { appendAudit } from "./audit.server";

/** One advisory lock per system: two imports of one system run one after the other. */
const IMPORT_LOCK: Record<ExternalSystem, number> = { erp: 981_000_101, plm: 981_000_102 };
/** The stored file is cut into chunks of this size (one row each). */
const FILE_CHUNK = 1024 * 1024;
/** COPY data is sent in pieces of about this many characters. */
const COPY_PIECE = 64 * 1024;

export interface ImportInput {
  system: ExternalSystem;
  fileName: string;
  /**
   * The file's bytes, streamed; called twice (hash and keep, then parse). A file that reads
   * differently the second time is refused.
   */
  source: () => AsyncIterable<Uint8Array | string>;
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
  // A refused file: returned, not thrown, because the refusal is the import's report (every row's
  // error, by line) that the screen and the CLI show as they show a success; nothing was stored.
  | Refusal<{ system: ExternalSystem; fileName: string; digest: string; rows: number; errorCount: number; errors: LocatedError[] }>;

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
      const [siteRows, materialRows, [head]] = await Promise.all([
        // Locked as a foreign key would lock them (FOR KEY SHARE): a site or material the checker
        // resolves cannot be deleted before this import commits, so the statement-level reference
        // check at the end of the COPY cannot fail (an error there would be lost by postgres.js).
        tx.execute<{ id: number; code: string }>(sql`select id, code from sites for key share`),
        tx.execute<{ id: number; part_number: string }>(sql`select id, part_number from materials for key share`),
        tx.execute<{ snapshot_id: number; at: string; previous: number | null; rows: number }>(sql`
          select nextval(pg_get_serial_sequence('external_snapshots', 'id'))::int as snapshot_id,
                 to_char(date_trunc('milliseconds', clock_timestamp()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at,
                 (select id from external_snapshots where system = ${input.system} order by id desc limit 1) as previous,
                 (select count(*)::int from external_master_records where system = ${input.system}) as rows`),
      ]);
      const { snapshot_id: snapshotId, at: importedAt, previous, rows: previousRows } = head!;
      const checker = new SnapshotChecker(input.system, {
        sites: new Map(siteRows.map((s) => [s.code, s.id])),
        materials: new Map(materialRows.map((m) => [m.part_number, m.id])),
      });

      // Pass 1: the file's digest, and its bytes kept as the snapshot's history.
      const digest = await storeFile(tx, snapshotId, input.source());

      // Pass 2: parse and check; rows go straight into the current view while the file is read
      // (PostgreSQL checks keys and indexes while this process parses). The view is replaced whole.
      await tx.execute(sql`delete from external_master_records where system = ${input.system}`);
      const copy = await rawTransaction(
        tx,
      )`copy external_master_records (system, external_key, material_id, site_id, tracking_flag, tracking_mode, payload, imported_at, source_digest) from stdin`.writable();
      const copyDone = once(copy, "finish");
      copyDone.catch(() => {}); // awaited below; an early COPY error must not go unhandled meanwhile
      const fixed = `\t${importedAt}\t${digest}\n`;
      let piece = "";
      const send = async (text: string) => {
        if (!copy.write(text)) await Promise.race([once(copy, "drain"), copyDone]);
      };
      const reread = await parseFile(input.source(), checker, async (row) => {
        // After the first error nothing more is sent (it will all be rolled back), but every row is still checked.
        if (!checker.ok) return;
        piece += `${input.system}\t${row.partNumber}\t${row.materialId ?? "\\N"}\t${row.siteId ?? "\\N"}\t${copyText(row.trackingFlag)}\t${row.trackingMode}\t{"line":${row.line}}${fixed}`;
        if (piece.length >= COPY_PIECE) {
          await send(piece);
          piece = "";
        }
      });
      if (checker.ok && reread !== digest) checker.error(1, "file", "The file changed while it was being imported; import it again");
      if (checker.ok && piece) await send(piece);
      copy.end();
      await copyDone;
      if (!checker.ok) {
        throw new Refused({
          ok: false,
          system: input.system,
          fileName,
          digest,
          rows: checker.summary.rows,
          errorCount: checker.summary.errorCount,
          errors: checker.summary.errors,
        });
      }

      await tx.execute(sql`
        insert into external_snapshots (id, system, file_name, digest, row_count, unknown_count, imported_by, imported_at)
        overriding system value
        values (${snapshotId}, ${input.system}, ${fileName}, ${digest}, ${checker.summary.rows}, ${checker.summary.unknownCount}, ${actor}, ${importedAt}::timestamptz)`);
      await appendAudit(tx, {
        actor,
        action: "external_master.import",
        entityType: "external_snapshot",
        entityId: `${input.system}/${snapshotId}`,
        before: { snapshot: previous, rows: previousRows },
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
        snapshotId,
        fileName,
        digest,
        rows: checker.summary.rows,
        unknownCount: checker.summary.unknownCount,
        unknown: checker.summary.unknown,
        replaced: { snapshotId: previous, rows: previousRows },
      };
    });
  } catch (error) {
    if (error instanceof Refused) return error.result;
    throw error;
  }
}

/** COPY text format: backslash, tab, newline and carriage return escaped (the checked values hold none; kept safe anyway). */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r") : value;
}

/** Hashes the file and stores its bytes in chunks (bounded memory: one chunk at a time). */
async function storeFile(tx: Tx, snapshotId: number, source: AsyncIterable<Uint8Array | string>): Promise<string> {
  const hash = createHash("sha256");
  let parts: Buffer[] = [];
  let size = 0;
  let seq = 0;
  const flush = async () => {
    if (size === 0) return;
    const content = Buffer.concat(parts);
    parts = [];
    size = 0;
    await tx.insert(externalSnapshotFiles).values({ snapshotId, seq: seq++, content });
  };
  for await (const chunk of source) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    hash.update(bytes);
    parts.push(Buffer.from(bytes));
    size += bytes.length;
    if (size >= FILE_CHUNK) await flush();
  }
  await flush();
  return hash.digest("hex");
}

/**
 * Streams the file through csv-parse into the checker, hashing its bytes on the way; returns the
 * SHA-256. Lines are counted here rather than asked of csv-parse for every record (which costs a
 * third of the parse): one per record plus the line breaks inside quoted fields; a blank line is a
 * line without a record. A file csv-parse cannot read (an unclosed quote, say) ends with one
 * located error.
 */
export async function parseFile(
  source: AsyncIterable<Uint8Array | string>,
  checker: SnapshotChecker,
  onRow: (row: SnapshotRow) => Promise<void>,
): Promise<string> {
  const hash = createHash("sha256");
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const parser = parse({ bom: true, relax_column_count: true });
  const feeding = pipeline(Readable.from(source, { objectMode: false }), hasher, parser).catch((error: unknown) => error);
  let line = 0;
  let headerOk = false;
  let headerSeen = false;
  let readable = true;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line++;
      if (record.length === 1 && record[0] === "") continue; // a blank line
      for (const field of record) for (let i = field.indexOf("\n"); i !== -1; i = field.indexOf("\n", i + 1)) line++;
      if (!headerSeen) {
        headerSeen = true;
        headerOk = checker.header(record, line);
        continue;
      }
      if (!headerOk) continue;
      const row = checker.row(record, line);
      if (row) await onRow(row);
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    readable = false;
    checker.error((error as CsvError & { lines?: number }).lines ?? line + 1, "file", `Not readable as CSV: ${error.message}`);
  }
  const failed = await feeding;
  if (failed instanceof CsvError) {
    if (readable) checker.error((failed as CsvError & { lines?: number }).lines ?? line + 1, "file", `Not readable as CSV: ${failed.message}`);
    readable = false;
  } else if (failed) throw failed;
  // An unreadable file or a refused header has said all there is to say.
  if (readable && (headerOk || !headerSeen)) checker.end(line);
  return hash.digest("hex");
}
