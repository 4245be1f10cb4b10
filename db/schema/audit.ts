import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The append-only audit trail: every write in C-981 adds a row here in the same transaction.
 * `seq` is gap-free and assigned under an advisory lock held to commit, so it is commit-ordered:
 * it is the "data point" analyses and caches name. `hash` = SHA-256(prevHash || RFC 8785 of the
 * row's content). Triggers refuse UPDATE, DELETE and TRUNCATE (migration audit_trail_append_only).
 * The Part 11 tables change only in a transaction that also inserts here (migration 0018, ADR 018).
 */
export const auditTrail = pgTable(
  "audit_trail",
  {
    seq: bigint({ mode: "number" }).primaryKey(),
    recordedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    actor: text().notNull(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text().notNull(),
    before: jsonb(),
    after: jsonb(),
    reason: text(),
    prevHash: text().notNull(),
    hash: text().notNull(),
    /**
     * The transaction that wrote the row (txid_current(), set by a trigger whatever the insert
     * says; null on rows older than migration 0018). The audited tables' commit-time triggers
     * look for a row of their own transaction here (ADR 018). Not part of the chained content.
     */
    txid: bigint({ mode: "number" }),
  },
  (t) => [index("audit_trail_entity").on(t.entityType, t.entityId), index("audit_trail_actor").on(t.actor), index("audit_trail_txid").on(t.txid)],
);
