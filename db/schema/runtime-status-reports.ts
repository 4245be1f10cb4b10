import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { runtimeClients } from "./people";
import { sites } from "./sites";

/**
 * Every status report a runtime sent that was stored (activations and refusals), as received:
 * telemetry kept apart from the hash-chained audit trail (ADR 026). Append-only (triggers in the
 * migration; the application role may only insert and read). Each row carries the SHA-256 of its
 * content (app/domain/status-report-telemetry.ts); the audit trail's signed anchors sign a running
 * digest of these hashes in id order up to a row every report below it has committed (ADR 026).
 * What a runtime runs now stays in runtime_client_status, its refusals in runtime_client_refusals.
 */
export const runtimeStatusReports = pgTable(
  "runtime_status_reports",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    /** "activation" or "refusal". */
    kind: text().notNull(),
    /** The activated version, or the version a refused update claimed (null: too broken to tell). */
    version: integer(),
    /** Its digest as reported (sha256:…), or null. */
    digest: text(),
    /** The report as received (validated), its kind included. */
    report: jsonb().notNull(),
    receivedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    /** SHA-256 (hex) of the row's content (ADR 026). */
    hash: text().notNull(),
  },
  (t) => [
    index("runtime_status_reports_client").on(t.runtimeClientId, t.id),
    check("runtime_status_reports_kind", sql`${t.kind} in ('activation', 'refusal')`),
    check("runtime_status_reports_hash_hex", sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
  ],
);
