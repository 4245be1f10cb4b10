/**
 * Runtime status reports (activations and refusals), written in batches (ADR 026): one transaction
 * for every report a batch holds, a handful of set-based prepared statements whatever its size.
 * The reports are telemetry, not audit rows: each is stored in runtime_status_reports (append-only,
 * with its content hash) and the audit trail's signed anchors cover them (writeTelemetryHead).
 * What a runtime runs now (runtime_client_status) and its refusals (runtime_client_refusals) are
 * written as before.
 */
import { sql } from "drizzle-orm";
import type postgres from "postgres";
import { statusReportHash, TELEMETRY_GENESIS, telemetryStep, type TelemetryHead } from "../domain/status-report-telemetry";
import type { StatusReport } from "../schemas/status-report";
import { type Db, rawTransaction, type Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";

/**
 * Report writers hold it shared until they commit; an anchor takes it exclusively for an instant
 * (telemetryHorizon): then no report with a lower id is still to commit. A key of its own: it was
 * once 981_000_003, the renewal round's session lock (RENEWAL_LOCK), which the round holds while it
 * signs renewals — whose anchors then waited on their own instance's lock for ever, and every
 * report batch behind them.
 */
export const TELEMETRY_LOCK = 981_000_004;

export interface PendingReport {
  client: { id: number; name: string };
  site: { id: number; code: string };
  /** The parsed report; undefined when it did not parse (it still counts against the rate limit). */
  report: StatusReport | undefined;
}

export type ReportOutcome =
  | { result: "stored" }
  /** Over the client's allowance this minute (counted all the same). */
  | { result: "rate_limited"; retryAfterSeconds: number }
  /** Within the allowance but not stored: it did not parse (the caller has its problems). */
  | { result: "malformed" }
  /** Within the allowance but refused (e.g. 422: a version the site does not have). */
  | { result: "refused"; error: DomainError };

type Raw = postgres.TransactionSql;
const run = <T>(raw: Raw, text: string, params: unknown[]) =>
  raw.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }) as unknown as Promise<T[]>;

const NOW_MS = `to_char(date_trunc('milliseconds', now()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Counts every report against its client's allowance for the current minute (of the database
 * clock, shared by every instance: one row per client, `count += n` in one upsert; the k-th report
 * of a client in the batch is allowed iff the count before the batch + k ≤ `perMinute`; a batch
 * whose transaction began in the minute before the row's counts in the row's minute, never
 * resetting it — it may have waited for a lock while the minute turned), checks
 * the allowed activations against the site's versions, and stores what holds — all in one
 * transaction. One outcome per report, in order. A database error rejects the whole batch.
 */
export async function recordStatusReports(db: Db, reports: readonly PendingReport[], perMinute: number): Promise<ReportOutcome[]> {
  if (reports.length === 0) return [];
  return db.transaction(async (tx) => {
    const raw = rawTransaction(tx);
    // Per client, in client order (row locks always taken in one order: no deadlock between instances).
    const perClient = new Map<number, number>();
    for (const r of reports) perClient.set(r.client.id, (perClient.get(r.client.id) ?? 0) + 1);
    const clientIds = [...perClient.keys()].sort((a, b) => a - b);
    const lookups = reports.flatMap((r) => (r.report && r.report.kind !== "refusal" ? [r] : []));
    const [[clock], windows, versions] = await Promise.all([
      // Held to commit: an anchor waits for this batch before it reads the highest id (ADR 026).
      run<{ now: string }>(raw, `select pg_advisory_xact_lock_shared($1::bigint)::text as locked, ${NOW_MS} as now`, [TELEMETRY_LOCK]),
      run<{ id: number; count: number; remaining: number }>(
        raw,
        `insert into runtime_client_report_windows as w (runtime_client_id, window_start, count)
         select u.c, date_trunc('minute', now()), u.n from unnest($1::int[], $2::int[]) as u(c, n) order by u.c
         on conflict (runtime_client_id) do update set
           count = case when excluded.window_start <= w.window_start then w.count + excluded.count else excluded.count end,
           window_start = greatest(w.window_start, excluded.window_start)
         returning runtime_client_id as id, count, extract(epoch from (window_start + interval '1 minute' - now()))::float8 as remaining`,
        [clientIds, clientIds.map((id) => perClient.get(id)!)],
      ),
      lookups.length === 0
        ? Promise.resolve([])
        : run<{ site_id: number; version: number; digest: string; digest_v2: string | null }>(
            raw,
            `select v.site_id, v.version, v.digest, v.digest_v2 from rule_set_versions v
             join (select distinct s, ver from unnest($1::int[], $2::int[]) as u(s, ver)) u on v.site_id = u.s and v.version = u.ver`,
            [lookups.map((r) => r.site.id), lookups.map((r) => (r.report as { version: number }).version)],
          ),
    ]);
    const receivedAt = clock!.now;
    const window = new Map(windows.map((w) => [Number(w.id), { before: Number(w.count) - perClient.get(Number(w.id))!, remaining: Number(w.remaining) }]));
    // Either form's digest names the version (ADR 039): a runtime reports the form it verified.
    const digests = new Map(versions.map((v) => [`${v.site_id}:${v.version}`, v.digest_v2 === null ? [v.digest] : [v.digest, v.digest_v2]]));
    const taken = new Map<number, number>();

    const outcomes: ReportOutcome[] = [];
    const stored: { pending: PendingReport; report: StatusReport }[] = [];
    for (const pending of reports) {
      const k = (taken.get(pending.client.id) ?? 0) + 1;
      taken.set(pending.client.id, k);
      const w = window.get(pending.client.id)!;
      if (w.before + k > perMinute) {
        outcomes.push({ result: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil(w.remaining)) });
        continue;
      }
      const report = pending.report;
      if (!report) {
        outcomes.push({ result: "malformed" });
        continue;
      }
      const refusal = report.kind === "refusal" ? undefined : activationProblem(pending.site, report, digests.get(`${pending.site.id}:${report.version}`));
      if (refusal) {
        outcomes.push({ result: "refused", error: refusal });
        continue;
      }
      outcomes.push({ result: "stored" });
      stored.push({ pending, report });
    }
    if (stored.length > 0) await storeReports(raw, stored, receivedAt);
    return outcomes;
  });
}

/** Why an activation report does not hold (422), or undefined. */
function activationProblem(
  site: { code: string },
  report: Extract<StatusReport, { version: number }>,
  storedDigests: string[] | undefined,
): DomainError | undefined {
  if (storedDigests === undefined)
    return new DomainError("missing_reference", `Site ${site.code} has no version ${report.version}.`, { version: [`not a version of site ${site.code}`] });
  if (!storedDigests.some((d) => report.digest === `sha256:${d}`)) {
    return new DomainError("unprocessable", `The digest is not that of version ${report.version} of site ${site.code}.`, {
      digest: [`not the digest of version ${report.version}`],
    });
  }
  return undefined;
}

/** The report as stored (jsonb): the parsed report with its kind, as JSON gives it back, and that JSON (sent once). */
function storedForm(report: StatusReport): { value: Record<string, unknown>; text: string } {
  const text = JSON.stringify({ ...report, kind: report.kind ?? "activation" });
  return { value: JSON.parse(text) as Record<string, unknown>, text };
}

async function storeReports(raw: Raw, stored: { pending: PendingReport; report: StatusReport }[], receivedAt: string): Promise<void> {
  const rows = stored.map(({ pending, report }) => {
    const refusal = report.kind === "refusal" ? report : undefined;
    const form = storedForm(report);
    const content = {
      clientId: pending.client.id,
      siteId: pending.site.id,
      kind: refusal ? ("refusal" as const) : ("activation" as const),
      version: refusal ? refusal.offered.version : (report as { version: number }).version,
      digest: refusal ? refusal.offered.digest : (report as { digest: string }).digest,
      report: form.value,
      receivedAt,
    };
    return { ...content, text: form.text, hash: statusReportHash(content) };
  });
  // What each client runs at each site: the last activation of the batch for that pair, in key order.
  const latest = new Map<string, { pending: PendingReport; report: Extract<StatusReport, { version: number }> }>();
  for (const { pending, report } of stored) if (report.kind !== "refusal") latest.set(`${pending.client.id}:${pending.site.id}`, { pending, report });
  const activations = [...latest.values()].sort((a, b) => a.pending.client.id - b.pending.client.id || a.pending.site.id - b.pending.site.id);
  const refusals = stored.flatMap(({ pending, report }) => (report.kind === "refusal" ? [{ pending, report }] : []));
  const clientIds = [...new Set(stored.map((s) => s.pending.client.id))].sort((a, b) => a - b);
  // Pipelined: sent together, answered together.
  await Promise.all([
    run(
      raw,
      `insert into runtime_status_reports (runtime_client_id, site_id, kind, version, digest, report, received_at, hash)
       select u.c, u.s, u.k, u.v, u.d, u.r::jsonb, $8::timestamptz, u.h
       from unnest($1::int[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[]) with ordinality as u(c, s, k, v, d, r, h, o)
       order by u.o`,
      [
        rows.map((r) => r.clientId),
        rows.map((r) => r.siteId),
        rows.map((r) => r.kind),
        rows.map((r) => r.version),
        rows.map((r) => r.digest),
        rows.map((r) => r.text),
        rows.map((r) => r.hash),
        receivedAt,
      ],
    ),
    activations.length === 0
      ? Promise.resolve([])
      : run(
          raw,
          `insert into runtime_client_status as st (runtime_client_id, site_id, version, digest, activated_at, trusted_keys, error, reported_at)
           select u.c, u.s, u.v, u.d, u.a::timestamptz, array(select jsonb_array_elements_text(u.k::jsonb)), u.e, now()
           from unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) with ordinality as u(c, s, v, d, a, k, e, o)
           order by u.o
           on conflict (runtime_client_id, site_id) do update set
             version = excluded.version, digest = excluded.digest, activated_at = excluded.activated_at,
             trusted_keys = excluded.trusted_keys, error = excluded.error, reported_at = excluded.reported_at`,
          [
            activations.map((a) => a.pending.client.id),
            activations.map((a) => a.pending.site.id),
            activations.map((a) => a.report.version),
            activations.map((a) => a.report.digest),
            activations.map((a) => new Date(a.report.activatedAt).toISOString()),
            activations.map((a) => JSON.stringify(a.report.trustedKeys)),
            activations.map((a) => a.report.error ?? null),
          ],
        ),
    refusals.length === 0
      ? Promise.resolve([])
      : run(
          raw,
          `insert into runtime_client_refusals (runtime_client_id, site_id, offered_version, offered_digest, offered_kid, code, source, message, running_version, reported_at)
           select u.c, u.s, u.ov, u.od, u.ok, u.code, u.src, u.msg, u.rv, now()
           from unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[]) with ordinality as u(c, s, ov, od, code, src, msg, rv, ok, o)
           order by u.o`,
          [
            refusals.map((r) => r.pending.client.id),
            refusals.map((r) => r.pending.site.id),
            refusals.map((r) => r.report.offered.version),
            refusals.map((r) => r.report.offered.digest),
            refusals.map((r) => r.report.code),
            refusals.map((r) => r.report.source),
            refusals.map((r) => r.report.message ?? null),
            refusals.map((r) => r.report.runningVersion),
            refusals.map((r) => r.report.offered.kid ?? null),
          ],
        ),
    // Last seen, now (the runtime cache also writes it in batches): rows another writer holds are
    // skipped — it is setting them to about the same time — so this never waits on a row lock.
    run(
      raw,
      `update runtime_clients c set last_seen_at = greatest(coalesce(c.last_seen_at, '-infinity'), now())
       from (select id from runtime_clients where id = any($1::int[]) order by id for no key update skip locked) l
       where c.id = l.id`,
      [clientIds],
    ),
  ]);
}

/* ------------------------------------------------------------------------------------------ */
/* Covered by the audit trail's anchors                                                        */
/* ------------------------------------------------------------------------------------------ */

/**
 * The highest report id below which every report has committed: taken under the exclusive lock in
 * a savepoint rolled back at once, so report writers wait only for this one read, not for the
 * caller's transaction (a release) or the digest that follows.
 *
 * The wait for the lock is bounded (HORIZON_WAIT_MS, `lock_timeout`, undone with the savepoint):
 * the caller's transaction may hold row locks a batch in flight waits for (a release locking the
 * rows the batch's foreign keys check), and waiting without a bound would be a deadlock that
 * PostgreSQL resolves by failing one side (seen: a release failed). Not obtained in time: undefined,
 * and the anchor signs the previous telemetry head again (covers nothing new); the next anchor
 * covers what this one could not (ADR 026).
 */
export const HORIZON_WAIT_MS = 200;
async function telemetryHorizon(tx: Tx): Promise<number | undefined> {
  const raw = rawTransaction(tx);
  return raw
    .savepoint(async (sp) => {
      await sp.unsafe(`set local lock_timeout = '${HORIZON_WAIT_MS}ms'`);
      await sp`select pg_advisory_xact_lock(${TELEMETRY_LOCK})`;
      const [row] = await sp<{ max: string | null }[]>`select max(id)::text as max from runtime_status_reports`;
      // Rolled back on purpose: the lock (and the lock_timeout) go with the savepoint.
      throw Object.assign(new Error("horizon"), { horizon: Number(row?.max ?? 0) });
    })
    .catch((error: unknown) => {
      const horizon = (error as { horizon?: unknown }).horizon;
      if (typeof horizon === "number") return horizon;
      // lock_not_available: writers still committing after the bounded wait.
      if ((error as { code?: unknown }).code === "55P03") return undefined;
      throw error;
    }) as Promise<number | undefined>;
}

/**
 * The telemetry head an anchor signs: the running digest of every stored report up to the horizon,
 * continued from `previous` (the latest head already signed) over the rows after it.
 */
export async function telemetryHead(tx: Tx, previous: TelemetryHead | undefined): Promise<TelemetryHead> {
  let digest = previous?.digest ?? TELEMETRY_GENESIS;
  let after = previous?.through ?? 0;
  const through = await telemetryHorizon(tx);
  if (through === undefined || through <= after) return { through: after, digest };
  for (;;) {
    const page = await tx.execute<{ id: string; hash: string }>(
      sql`select r.id::text as id, r.hash from runtime_status_reports r where r.id > ${after} and r.id <= ${through} order by r.id limit 10000`,
    );
    if (page.length === 0) break;
    for (const row of page) digest = telemetryStep(digest, Number(row.id), row.hash);
    after = Number(page.at(-1)!.id);
  }
  return { through, digest };
}

/** Stored reports after `after` in id order, a page at a time, as the verifier reads them. */
export async function statusReportPage(db: Db | Tx, after: number, limit: number) {
  const rows = await db.execute<{
    id: string;
    runtime_client_id: number;
    site_id: number;
    kind: "activation" | "refusal";
    version: number | null;
    digest: string | null;
    report: string;
    received_at: string;
    hash: string;
  }>(sql`
    select r.id::text as id, runtime_client_id, site_id, kind, version, digest, report::text as report,
           to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as received_at, hash
    from runtime_status_reports r where r.id > ${after} order by r.id limit ${limit}`);
  return rows.map((r) => ({
    id: Number(r.id),
    clientId: r.runtime_client_id,
    siteId: r.site_id,
    kind: r.kind,
    version: r.version,
    digest: r.digest,
    report: JSON.parse(r.report) as unknown,
    receivedAt: r.received_at,
    hash: r.hash,
  }));
}
