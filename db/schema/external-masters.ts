import { integer, jsonb, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { externalSystem, trackingMode } from "./enums";

/** A material master as last imported from ERP or PLM, with that system's own tracking flag. */
export const externalMasterRecords = pgTable(
  "external_master_records",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    system: externalSystem().notNull(),
    /** The record's key in its own system (usually its part number). */
    externalKey: text().notNull(),
    /**
     * The C-981 material it describes, matched by part number; null when none matches. Checked
     * once per statement, not per row (migration 0014, ADR 015): an import writes 100,000 rows.
     */
    materialId: integer(),
    /** ERP plant mapped to a site; null for global (PLM) records. Checked once per statement, as materialId. */
    siteId: integer(),
    /** The flag exactly as the system states it, e.g. SAP `SERNP=ZSER` or `XCHPF=X`. */
    trackingFlag: text().notNull(),
    /** That flag read as a tracking mode. */
    trackingMode: trackingMode().notNull(),
    payload: jsonb().notNull(),
    importedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    sourceDigest: text().notNull(),
  },
  (t) => [unique("external_master_records_key").on(t.system, t.externalKey, t.siteId).nullsNotDistinct()],
);
