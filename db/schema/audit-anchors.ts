import { sql } from "drizzle-orm";
import { bigint, check, customType, index, integer, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { ruleSetVersions } from "./rule-sets";

export const auditAnchorKind = pgEnum("audit_anchor_kind", ["release", "checkpoint"]);

const bytea = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => "bytea",
  toDriver: (v) => Buffer.from(v),
  fromDriver: (v) => new Uint8Array(v),
});

/**
 * Signed statements of the audit trail's head (ADR 019): "row `seq` hashes to `hash`", signed with
 * the portal's rule-set signing keys (JWS, EdDSA). Written at each rule-set version (in the
 * version's transaction, right after its audit row) and at checkpoints. Append-only (triggers in
 * the migration): an anchor is evidence, never edited. `seq`/`hash` repeat what the signed payload
 * says, for queries; verification reads the payload.
 */
export const auditAnchors = pgTable(
  "audit_anchors",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    kind: auditAnchorKind().notNull(),
    seq: bigint({ mode: "number" }).notNull(),
    hash: text().notNull(),
    /** For a release anchor: the version it was written with. */
    ruleSetVersionId: integer().references(() => ruleSetVersions.id),
    /** RFC 8785 canonical JSON of the anchor statement: the JWS payload. */
    payload: bytea().notNull(),
    /** JWS JSON General Serialization of `payload`, one signature per active key. */
    jws: text().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    createdBy: text().notNull(),
    /** The runtime status reports' head the payload signs (ADR 026), repeated for queries; null on anchors before it. */
    telemetryThrough: bigint({ mode: "number" }),
    telemetryDigest: text(),
  },
  (t) => [
    index("audit_anchors_seq").on(t.seq),
    index("audit_anchors_telemetry_through").on(t.telemetryThrough),
    check("audit_anchors_hash_hex", sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
    check("audit_anchors_seq_positive", sql`${t.seq} >= 1`),
  ],
);
