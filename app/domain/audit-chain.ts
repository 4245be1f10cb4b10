import { createHash } from "node:crypto";
import { canonicalize } from "./canonical-json";

/**
 * The audit trail's hash chain (ADR 003). Pure: used by the append path and by audit:verify.
 *
 *   hash(row) = SHA-256( prevHash as 64 lowercase hex characters ‖ RFC 8785 canonical JSON of content )
 *
 * where content = { seq, recordedAt, actor, action, entityType, entityId, before, after, reason }
 * exactly as stored (recordedAt as ISO-8601 UTC with milliseconds; absent values as null).
 */

export const GENESIS_HASH = "0".repeat(64);

export interface AuditContent {
  seq: number;
  recordedAt: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

export function auditContentCanonical(content: AuditContent): string {
  return canonicalize({
    seq: content.seq,
    recordedAt: content.recordedAt,
    actor: content.actor,
    action: content.action,
    entityType: content.entityType,
    entityId: content.entityId,
    before: content.before ?? null,
    after: content.after ?? null,
    reason: content.reason ?? null,
  });
}

export function chainHash(prevHash: string, content: AuditContent): string {
  return createHash("sha256").update(prevHash, "utf8").update(auditContentCanonical(content), "utf8").digest("hex");
}

export interface StoredAuditRow extends AuditContent {
  prevHash: string;
  hash: string;
}

export type ChainBreak = {
  seq: number;
  problem: "sequence_gap" | "prev_hash_mismatch" | "hash_mismatch";
  detail: string;
};

/** Checks rows in seq order, continuing from (afterSeq, afterHash); returns the first break. */
export function findChainBreak(rows: Iterable<StoredAuditRow>, start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }): ChainBreak | undefined {
  let expectedSeq = start.seq + 1;
  let prevHash = start.hash;
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return {
        seq: row.seq,
        problem: "sequence_gap",
        detail: `expected row ${expectedSeq} next, found row ${row.seq}: rows are missing`,
      };
    }
    if (row.prevHash !== prevHash) {
      return {
        seq: row.seq,
        problem: "prev_hash_mismatch",
        detail: `row ${row.seq} links to ${row.prevHash.slice(0, 12)}…, but row ${row.seq - 1} hashes to ${prevHash.slice(0, 12)}…`,
      };
    }
    const recomputed = chainHash(row.prevHash, row);
    if (recomputed !== row.hash) {
      return {
        seq: row.seq,
        problem: "hash_mismatch",
        detail: `row ${row.seq} content does not match its hash (stored ${row.hash.slice(0, 12)}…, recomputed ${recomputed.slice(0, 12)}…): it was changed after it was written`,
      };
    }
    prevHash = row.hash;
    expectedSeq += 1;
  }
  return undefined;
}
