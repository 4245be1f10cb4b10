/**
 * Read replicas for analyses at a snapshot (ADR 047). A streaming standby serves reads at whatever
 * WAL position it has replayed; an analysis pinned to a genealogy state of the primary (its
 * `genealogy_state.changes`, ADR 011) may run there only once the standby has replayed at least that
 * state. `primaryPosition` takes the position on the primary after the write (or when the analysis
 * is asked for); `waitForReplica` polls the standby until it has replayed it, within a bounded wait,
 * and otherwise refuses with a 503 `unavailable` — the caller asks again or asks the primary, never
 * answers from an older genealogy.
 */
import type postgres from "postgres";
import { DomainError } from "./errors.server";

/** A state of the primary an analysis is pinned to. Either part may be given; both is the norm. */
export interface ReplicaTarget {
  /** A WAL position on the primary (`pg_current_wal_lsn()` after the write), e.g. "0/3000148". */
  lsn?: string;
  /** The genealogy change count the analysis reads (genealogy_state.changes, ADR 011). */
  changes?: number;
}

export interface ReplicaWait {
  /** Milliseconds from the first poll until the standby had replayed the target. */
  waitedMs: number;
  /** Polls made (1 when it was there at once). */
  polls: number;
  /** The standby's replay position when it was reached (null on a server not in recovery). */
  replayLsn: string | null;
  /** genealogy_state.changes on the standby then (≥ the target's). */
  changes: number;
}

/** postgres.js and Node's codes for a server that cannot be reached (SQLSTATE class 08 and 57P03 "cannot connect now" besides). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

const LSN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;

/** The primary's current WAL position and genealogy change count, read together. */
export async function primaryPosition(primary: postgres.Sql): Promise<Required<ReplicaTarget>> {
  const [row] = await primary`select pg_current_wal_lsn()::text as lsn, (select changes from genealogy_state where id = 1)::text as changes`;
  return { lsn: String(row!.lsn), changes: Number(row!.changes) };
}

/**
 * Waits until the standby at `replica` has replayed `target`: its replay LSN at or past
 * `target.lsn`, and its genealogy change count at or past `target.changes` (the counter is written
 * in the transaction of every genealogy write, so a standby showing the count has replayed that
 * write's commit). Polls every `pollMs` (default 20 ms) up to `timeoutMs` (default 5,000 ms), then
 * throws DomainError `unavailable` (503) naming how far behind it was. A server not in recovery
 * (a primary, or a promoted standby) has nothing to replay: it is judged by the count alone.
 */
export async function waitForReplica(
  replica: postgres.Sql,
  target: ReplicaTarget,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<ReplicaWait> {
  if (target.lsn === undefined && target.changes === undefined)
    throw new DomainError("invalid", "a replica wait needs an LSN or a change count", { target: ["lsn or changes"] });
  if (target.lsn !== undefined && !LSN.test(target.lsn)) throw new DomainError("invalid", `not a WAL position: ${target.lsn}`, { lsn: ["like 0/3000148"] });
  if (target.changes !== undefined && (!Number.isSafeInteger(target.changes) || target.changes < 0))
    throw new DomainError("invalid", `not a change count: ${target.changes}`, { changes: ["a whole number ≥ 0"] });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pollMs = options.pollMs ?? 20;
  const started = performance.now();
  for (let polls = 1; ; polls++) {
    let row: postgres.Row | undefined;
    try {
      [row] = await replica`select pg_is_in_recovery() as recovery, pg_last_wal_replay_lsn()::text as replay,
        case when ${target.lsn ?? null}::pg_lsn is null then null else pg_last_wal_replay_lsn() >= ${target.lsn ?? null}::pg_lsn end as lsn_reached,
        (select changes from genealogy_state where id = 1)::text as changes`;
    } catch (error) {
      // A replica that cannot be reached is as unavailable as one that lags: the caller asks the primary.
      const code = (error as { code?: string }).code ?? "";
      if (UNREACHABLE.has(code) || /^08/.test(code) || code === "57P03") {
        throw new DomainError("unavailable", `The read replica cannot be reached (${(error as Error).message}); ask again or ask the primary.`);
      }
      throw error;
    }
    const recovery = Boolean(row!.recovery);
    const replayLsn = row!.replay === null ? null : String(row!.replay);
    const changes = Number(row!.changes);
    const lsnReached = target.lsn === undefined || !recovery || row!.lsn_reached === true;
    const changesReached = target.changes === undefined || changes >= target.changes;
    if (lsnReached && changesReached) return { waitedMs: performance.now() - started, polls, replayLsn, changes };
    const waited = performance.now() - started;
    if (waited >= timeoutMs) {
      const behind = [
        target.lsn !== undefined && !lsnReached ? `replayed WAL to ${replayLsn ?? "nothing"} of ${target.lsn}` : null,
        target.changes !== undefined && !changesReached ? `genealogy change ${changes} of ${target.changes}` : null,
      ].filter(Boolean);
      throw new DomainError(
        "unavailable",
        `The read replica has not caught up with the primary after ${Math.round(waited)} ms (${behind.join(", ")}); ask again or ask the primary.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, timeoutMs - waited))));
  }
}

/**
 * Pauses replay on a standby and waits until it has paused (pg_get_wal_replay_pause_state() says
 * 'paused', not only 'pause requested'), so that nothing written afterwards is replayed — how the
 * tests and the bench make a lagging standby. Resume with `select pg_wal_replay_resume()`.
 */
export async function pauseReplay(replica: postgres.Sql, timeoutMs = 10_000): Promise<void> {
  await replica`select pg_wal_replay_pause()`;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const [row] = await replica`select pg_get_wal_replay_pause_state() as state`;
    if (row!.state === "paused") return;
    if (performance.now() > deadline) throw new Error(`replay did not pause within ${timeoutMs} ms (${String(row!.state)})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The standby's replication lag as PostgreSQL sees it: bytes of WAL received but not replayed, and
 * the time since the last replayed transaction's commit (null when nothing was replayed yet).
 */
export async function replicaLag(
  replica: postgres.Sql,
): Promise<{ receivedLsn: string | null; replayLsn: string | null; unreplayedBytes: number; replayAgeMs: number | null }> {
  const [row] = await replica`select pg_last_wal_receive_lsn()::text as received, pg_last_wal_replay_lsn()::text as replay,
      coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8 as unreplayed,
      (extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000)::float8 as age`;
  return {
    receivedLsn: row!.received === null ? null : String(row!.received),
    replayLsn: row!.replay === null ? null : String(row!.replay),
    unreplayedBytes: Number(row!.unreplayed),
    replayAgeMs: row!.age === null ? null : Number(row!.age),
  };
}
