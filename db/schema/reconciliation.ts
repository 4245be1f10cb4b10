import { sql } from "drizzle-orm";
import { check, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { externalSystem } from "./enums";
import { releaseSignatures } from "./releases";

/**
 * One imported ERP or PLM snapshot file (docs/decisions/015): append-only, never changed. The
 * latest snapshot of a system is that system's current view (external_master_records is rebuilt
 * from it in the same transaction).
 */
export const externalSnapshots = pgTable(
  "external_snapshots",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    system: externalSystem().notNull(),
    fileName: text().notNull(),
    /** SHA-256 of the file's bytes, lowercase hex. */
    digest: text().notNull(),
    rowCount: integer().notNull(),
    /** Rows whose part number C-981 does not know (imported, listed as "unknown to C-981"). */
    unknownCount: integer().notNull(),
    importedBy: text().notNull(),
    importedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index("external_snapshots_system_id").on(t.system, t.id), check("external_snapshots_digest_hex", sql`${t.digest} ~ '^[0-9a-f]{64}$'`)],
);

const bytea = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => "bytea",
  toDriver: (v) => Buffer.from(v),
  fromDriver: (v) => new Uint8Array(v),
});

/**
 * The bytes of every imported snapshot file, in chunks of about 1 MiB, in order: the history is the
 * file itself (its SHA-256 is the snapshot's digest), so any past view can be read again exactly.
 * No foreign key to external_snapshots: the import writes the chunks first and the snapshot row
 * last, in the same transaction (docs/decisions/015).
 */
export const externalSnapshotFiles = pgTable(
  "external_snapshot_files",
  {
    snapshotId: integer().notNull(),
    seq: integer().notNull(),
    content: bytea().notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.seq] })],
);

/**
 * Which system is the system of record for each identifier type: whose tracking wins when ERP,
 * PLM and C-981 disagree. A missing row means the default (app/domain/reconciliation.ts).
 */
export const systemOfRecord = pgTable(
  "system_of_record",
  {
    identifierType: text().primaryKey(),
    system: text().notNull(),
    updatedBy: text().notNull(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    check("system_of_record_identifier_type", sql`${t.identifierType} in ('serial', 'lot')`),
    check("system_of_record_system", sql`${t.system} in ('erp', 'plm', 'c981')`),
  ],
);

/**
 * The release manager's waiver recorded with a release signature: the release left these known
 * ERP/PLM/C-981 disagreements unresolved at the site, for this reason. Never changed.
 */
export const releaseWaivers = pgTable(
  "release_waivers",
  {
    releaseSignatureId: integer()
      .primaryKey()
      .references(() => releaseSignatures.id),
    reason: text().notNull(),
    /** The disagreement keys (PART@SITE) waived, with what each system said. */
    disagreements: jsonb().notNull(),
  },
  (t) => [check("release_waivers_reason_given", sql`length(trim(${t.reason})) >= 10`)],
);
