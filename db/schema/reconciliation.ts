import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { externalSystem, trackingMode } from "./enums";
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

/**
 * Every row of every snapshot, as imported (the history behind external_master_records). Plain
 * text keys, no references to materials or sites: history says what the file said, and a
 * 100,000-row import does not pay two foreign-key checks per row for it.
 */
export const externalSnapshotRows = pgTable(
  "external_snapshot_rows",
  {
    snapshotId: integer()
      .notNull()
      .references(() => externalSnapshots.id),
    /** The row's line in the file (the header is line 1). */
    line: integer().notNull(),
    externalKey: text().notNull(),
    /** C-981 site code; null for a record that holds at every site (all PLM rows, ERP rows without a site). */
    site: text(),
    trackingFlag: text().notNull(),
    trackingMode: trackingMode().notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.line] })],
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
