import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { runtimeClients } from "./people";
import { sites } from "./sites";

/**
 * Scan decisions reported by runtime clients (issue 26 item 2, ADR 042): one row per batch as
 * received, its id chosen by the client (a resend carries the same id and stores nothing), the
 * counts per hour, parent, step, expected material, outcome and reason, and the refusal samples
 * (scanned string as an HMAC under the client's salt; raw only when the client is so configured).
 * Telemetry, apart from the audit trail; append-only (triggers in migration 0039; the application
 * role may only insert and read), like runtime_status_reports (ADR 026).
 */
export const scanReportBatches = pgTable(
  "scan_report_batches",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** The client's batch id (a UUID). */
    batchId: text().notNull(),
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    receivedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    /** Decisions counted in the batch (the sum of its counts). */
    decisions: integer().notNull(),
    refusalsOmitted: integer().notNull(),
    /** SHA-256 (hex) of the report as validated: the same batch id with other content is refused (409). */
    hash: text().notNull(),
  },
  (t) => [
    uniqueIndex("scan_report_batches_client_batch").on(t.runtimeClientId, t.batchId),
    check("scan_report_batches_hash_hex", sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
  ],
);

export const scanReportCounts = pgTable(
  "scan_report_counts",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    batchRef: bigint({ mode: "number" })
      .notNull()
      .references(() => scanReportBatches.id),
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    /** The start of the hour the decisions were made in (client clock, UTC). */
    bucket: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    parent: text().notNull(),
    /** The routing step decided at; null when the step was unknown. */
    step: integer(),
    expected: text().notNull(),
    outcome: text().notNull(),
    reason: text().notNull(),
    count: integer().notNull(),
  },
  (t) => [
    index("scan_report_counts_client_bucket").on(t.runtimeClientId, t.bucket),
    check("scan_report_counts_outcome", sql`${t.outcome} in ('accept', 'refuse', 'ambiguous', 'not-required')`),
    check("scan_report_counts_positive", sql`${t.count} > 0`),
  ],
);

export const scanReportRefusals = pgTable(
  "scan_report_refusals",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    batchRef: bigint({ mode: "number" })
      .notNull()
      .references(() => scanReportBatches.id),
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    scannedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    parent: text().notNull(),
    step: integer(),
    expected: text().notNull(),
    outcome: text().notNull(),
    reason: text().notNull(),
    ruleId: text(),
    ruleSetVersion: integer().notNull(),
    /** hmac-sha256:<hex> of the scanned string under the client's salt. */
    scannedHash: text().notNull(),
    /** The raw string, only when the client reports raw refusals. */
    scanned: text(),
  },
  (t) => [
    index("scan_report_refusals_client_at").on(t.runtimeClientId, t.scannedAt),
    check("scan_report_refusals_outcome", sql`${t.outcome} in ('refuse', 'ambiguous')`),
  ],
);
