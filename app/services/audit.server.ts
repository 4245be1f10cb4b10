import { sql } from "drizzle-orm";
import { chainHash, findChainBreak, GENESIS_HASH, type ChainBreak, type StoredAuditRow } from "../domain/audit-chain";
import { canonicalize } from "../domain/canonical-json";
import type { DbOrTx, Tx } from "../utils/db.server";
import { metrics } from "../utils/metrics.server";

/** Transaction-scoped advisory lock: appends are serialized to commit, so the chain never forks. */
export const AUDIT_APPEND_LOCK = 981_000_002;

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

/** JSON as it will come back from jsonb: Dates as ISO strings, undefined members dropped. */
function asStoredJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return canonicalize(JSON.parse(JSON.stringify(value)));
}

/**
 * Appends one row to the audit trail inside the caller's transaction (the only way to write it).
 * Returns the row's seq: the data point the change is visible at once the transaction commits.
 */
export async function appendAudit(tx: Tx, entry: AuditEntry): Promise<{ seq: number; hash: string }> {
  // Its duration, the chain lock's wait included, is what operators watch (c981_audit_append_seconds).
  const done = metrics.auditAppend.startTimer();
  try {
    return await appendLocked(tx, entry);
  } finally {
    done();
  }
}

async function appendLocked(tx: Tx, entry: AuditEntry): Promise<{ seq: number; hash: string }> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
  const head = await tx.execute<{ seq: string | null; hash: string | null; now: string }>(sql`
    select (select seq from audit_trail order by seq desc limit 1)::text as seq,
           (select hash from audit_trail order by seq desc limit 1) as hash,
           to_char(date_trunc('milliseconds', clock_timestamp()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`);
  const last = head[0]!;
  const seq = last.seq === null ? 1 : Number(last.seq) + 1;
  const prevHash = last.hash ?? GENESIS_HASH;
  const before = asStoredJson(entry.before);
  const after = asStoredJson(entry.after);
  const content = {
    seq,
    recordedAt: last.now,
    actor: entry.actor,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    before: before === null ? null : JSON.parse(before),
    after: after === null ? null : JSON.parse(after),
    reason: entry.reason ?? null,
  };
  const hash = chainHash(prevHash, content);
  await tx.execute(sql`
    insert into audit_trail (seq, recorded_at, actor, action, entity_type, entity_id, before, after, reason, prev_hash, hash)
    values (${seq}, ${content.recordedAt}::timestamptz, ${content.actor}, ${content.action}, ${content.entityType},
            ${content.entityId}, ${before}::jsonb, ${after}::jsonb, ${content.reason}, ${prevHash}, ${hash})`);
  return { seq, hash };
}

/**
 * The head of the chain, with appends held off until the caller's transaction ends (the append
 * lock): what an anchor signs is then the head, not a row some concurrent append has passed.
 */
export async function lockedAuditHead(tx: Tx): Promise<{ seq: number; hash: string } | undefined> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
  const rows = await tx.execute<{ seq: string; hash: string }>(
    sql`select audit_trail.seq::text as seq, hash from audit_trail order by audit_trail.seq desc limit 1`,
  );
  const head = rows[0];
  return head ? { seq: Number(head.seq), hash: head.hash } : undefined;
}

export interface ChainVerification {
  rowsChecked: number;
  headSeq: number;
  firstBreak?: ChainBreak;
}

/**
 * Recomputes the chain in pages and names the first row that does not hold: from the start, or
 * from a row already proven (`from`: its seq and the hash it is known to have, e.g. a signed
 * anchor's) — then only the rows after it are read.
 */
export async function verifyAuditChain(db: DbOrTx, options: { pageSize?: number; from?: { seq: number; hash: string } } = {}): Promise<ChainVerification> {
  const pageSize = options.pageSize ?? 5000;
  let cursor = options.from ?? { seq: 0, hash: GENESIS_HASH };
  let rowsChecked = 0;
  for (;;) {
    const page = await db.execute<{
      seq: string;
      recorded_at: string;
      actor: string;
      action: string;
      entity_type: string;
      entity_id: string;
      before: string | null;
      after: string | null;
      reason: string | null;
      prev_hash: string;
      hash: string;
    }>(sql`
      select seq::text, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded_at,
             actor, action, entity_type, entity_id, before::text as before, after::text as after, reason, prev_hash, hash
      from audit_trail where audit_trail.seq > ${cursor.seq} order by audit_trail.seq limit ${pageSize}`);
    if (page.length === 0) break;
    const rows: StoredAuditRow[] = page.map((r) => ({
      seq: Number(r.seq),
      recordedAt: r.recorded_at,
      actor: r.actor,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      before: r.before === null ? null : JSON.parse(r.before),
      after: r.after === null ? null : JSON.parse(r.after),
      reason: r.reason,
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
    const firstBreak = findChainBreak(rows, cursor);
    if (firstBreak) return { rowsChecked: rowsChecked + rows.findIndex((r) => r.seq === firstBreak.seq), headSeq: Number(page.at(-1)!.seq), firstBreak };
    rowsChecked += rows.length;
    const last = rows.at(-1)!;
    cursor = { seq: last.seq, hash: last.hash };
  }
  return { rowsChecked, headSeq: cursor.seq };
}
