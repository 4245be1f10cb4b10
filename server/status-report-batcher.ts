/**
 * Group commit for runtime status reports (ADR 026): reports arriving at once on this instance are
 * written together — one transaction per batch (app/services/runtime-status-reports.server.ts),
 * at most `maxInFlight` batches in flight at a time. A batch leaves when `maxBatch` reports wait or
 * `maxWaitMs` after the first one arrived, and at once when a batch commits and reports are
 * waiting; while a batch is in flight, another leaves only full (`maxBatch` reports), so under a
 * burst the next batch is written while the previous one commits, and under light load batches
 * stay as large as with one in flight. Two batches of one instance are two concurrent writers as
 * two instances' batches are: a client's reports in both meet at its rate-limit row, locked in
 * client order, so the later batch waits for the earlier one's commit. Each
 * caller is called back with its own report's outcome only after the batch committed (204 means
 * stored); a database error fails every report of the batch with DatabaseUnavailableError (503).
 */
import { type PendingReport, recordStatusReports, type ReportOutcome } from "../app/services/runtime-status-reports.server";
import type { Db } from "../app/utils/db.server";
import { logger } from "../app/utils/logger.server";
import { metrics } from "../app/utils/metrics.server";
import { asUnavailable, DatabaseUnavailableError, describeDatabaseError, isDatabaseUnavailable, withDeadline } from "./db-faults";

export interface StatusReportBatcherOptions {
  /** Reports per minute per client, across instances (the database counts). */
  perMinute: number;
  /** A batch leaves when this many reports wait. */
  maxBatch?: number;
  /** …or this long after the first of them arrived. */
  maxWaitMs?: number;
  /** Batches written at once (2): a second leaves only full while one is in flight. */
  maxInFlight?: number;
  /** A report not answered by then: 503 (and it is not sent if its batch has not left yet). */
  deadlineMs: number;
}

/** A report's outcome once its batch has committed, or the error that failed it (then no outcome). */
export type ReportDone = (error: unknown, outcome?: ReportOutcome) => void;

interface Entry {
  pending: PendingReport;
  done: ReportDone;
  settled: boolean;
  timer: NodeJS.Timeout;
}

/** The deadline of a report whose batch has not answered: dropped if it still waits, and 503. */
function expire(batcher: StatusReportBatcher, entry: Entry): void {
  batcher.expire(entry);
}

export class StatusReportBatcher {
  private queue: Entry[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly maxInFlight: number;
  /** The outcome counters by result, looked up once (not hashed per report). */
  private readonly counters = new Map<string, { inc(): void }>();

  constructor(
    private readonly db: Db,
    private readonly options: StatusReportBatcherOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxWaitMs = options.maxWaitMs ?? 5;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /**
   * `done` is called once, after the report's batch has committed (its outcome) or failed (a
   * DatabaseUnavailableError). A callback, not a promise: one fewer allocation per report.
   */
  enqueue(pending: PendingReport, done: ReportDone): void {
    const entry: Entry = { pending, done, settled: false, timer: undefined as unknown as NodeJS.Timeout };
    entry.timer = setTimeout(expire, this.options.deadlineMs, this, entry);
    this.queue.push(entry);
    this.schedule();
  }

  /** @internal Its deadline passed: still waiting for its batch to leave, it never will. */
  expire(entry: Entry): void {
    const at = this.queue.indexOf(entry);
    if (at >= 0) this.queue.splice(at, 1);
    this.settle(entry, new DatabaseUnavailableError(`the status report was not stored within ${this.options.deadlineMs} ms`, "no answer in time"));
  }

  private settle(entry: Entry, error: unknown, outcome?: ReportOutcome): void {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    const result = outcome ? outcome.result : "unavailable";
    let counter = this.counters.get(result);
    if (!counter) this.counters.set(result, (counter = metrics.statusReports.labels(result)));
    counter.inc();
    entry.done(error, outcome);
  }

  /** Writes what waits and what is in flight, then returns. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      if (this.inFlight.size > 0) await Promise.race(this.inFlight);
      else this.flush();
    }
  }

  private schedule(): void {
    if (this.queue.length >= this.maxBatch) {
      this.flush();
      return;
    }
    // A batch in flight sends the next one when it commits.
    if (this.inFlight.size === 0) this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
  }

  /** Sends a batch if a slot is free: any when none is in flight, else only a full one. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight.size >= this.maxInFlight || this.queue.length === 0) return;
    if (this.inFlight.size > 0 && this.queue.length < this.maxBatch) return;
    const batch = this.queue.splice(0, this.maxBatch);
    metrics.statusReportBatch.observe(batch.length);
    const written: Promise<void> = this.write(batch).finally(() => {
      this.inFlight.delete(written);
      // Reports that arrived meanwhile have waited long enough: the next batch leaves now.
      if (this.queue.length > 0) this.flush();
    });
    this.inFlight.add(written);
    // A full batch may remain: it takes the other slot.
    if (this.queue.length >= this.maxBatch) this.flush();
  }

  private async write(batch: Entry[]): Promise<void> {
    try {
      // Bounded, so a batch the database never answers frees the slot for the next one.
      const outcomes = await withDeadline(
        recordStatusReports(
          this.db,
          batch.map((e) => e.pending),
          this.options.perMinute,
        ),
        2 * this.options.deadlineMs,
      );
      for (let i = 0; i < batch.length; i++) this.settle(batch[i]!, undefined, outcomes[i]!);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) {
        logger.error({ err: describeDatabaseError(error), reports: batch.length }, "C-981: status report batch failed; its reports answered 503");
      }
      const unavailable = asUnavailable(error);
      const failure =
        unavailable instanceof DatabaseUnavailableError
          ? unavailable
          : new DatabaseUnavailableError("the status reports could not be stored", describeDatabaseError(error));
      for (const entry of batch) this.settle(entry, failure);
    }
  }
}
