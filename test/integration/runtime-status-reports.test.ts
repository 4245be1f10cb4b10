/**
 * Runtime status reports as telemetry (ADR 026): written in batches by a group-commit writer, each
 * report answered with its own outcome once its batch committed; the rate limit counted exactly
 * across instances in the batch's transaction; the table append-only by trigger and privilege; and
 * covered by the audit trail's signed anchors, so a report changed by an owner is found.
 */
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import express from "express";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { statusReportHash } from "../../app/domain/status-report-telemetry";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { verifyAnchoredChain, writeCheckpointIfDue } from "../../app/services/audit-anchors.server";
import { RENEWAL_LOCK } from "../../app/services/keys.server";
import { createRuntimeClient, recordStatus, authenticateClient } from "../../app/services/runtime-clients.server";
import { HORIZON_WAIT_MS, recordStatusReports, TELEMETRY_LOCK, telemetryHead } from "../../app/services/runtime-status-reports.server";
import type { Database } from "../../app/utils/db.server";
import { metrics } from "../../app/utils/metrics.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let keyRing: KeyRing;
let ein: { id: number; v2: string };
const servers: { api: RuntimeApi; server: ReturnType<express.Express["listen"]>; base: string }[] = [];

async function instance(options: Parameters<typeof createRuntimeApi>[1]) {
  const api = await createRuntimeApi(database as Database, options);
  const app = express();
  app.use("/api/v1", api.router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const entry = { api, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1` };
  servers.push(entry);
  return entry;
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const [row] = await database.client<
    { id: number; digest: string }[]
  >`select s.id, v.digest from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' and v.version = 2`;
  ein = { id: row!.id, v2: row!.digest };
}, 120_000);

afterAll(async () => {
  for (const s of servers) {
    await new Promise<void>((r) => s.server.close(() => r()));
    await s.api.close();
  }
});

const activation = (version = 2, digest = `sha256:${ein.v2}`) => ({
  version,
  digest,
  activatedAt: new Date().toISOString(),
  trustedKeys: [keyRing.active[0]!.kid],
});
const post = (base: string, token: string, report: object) =>
  fetch(`${base}/sites/EIN/ruleset/status`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(report),
  });

async function clients(prefix: string, n: number): Promise<{ name: string; token: string }[]> {
  const made: { name: string; token: string }[] = [];
  for (let i = 0; i < n; i++) {
    const { name, token } = await createRuntimeClient(database.db, "test", { name: `${prefix}-${i}`, sites: ["EIN"], reason: "test" });
    made.push({ name, token });
  }
  return made;
}

async function batchStats() {
  const m = await metrics.statusReportBatch.get();
  const value = (suffix: string) => m.values.find((v) => v.metricName === `c981_runtime_status_report_batch_size_${suffix}`)?.value ?? 0;
  return { batches: value("count"), reports: value("sum") };
}

describe("runtime status reports, written in batches (ADR 026)", () => {
  it("stores every one of many concurrent reports from many clients, in far fewer transactions than reports", async () => {
    const { base } = await instance({ statusReportsPerMinute: 1000 });
    const fleet = await clients("mes-fleet", 40);
    const before = await batchStats();
    // 40 clients × 8 reports, all at once: 320 requests.
    const answers = await Promise.all(fleet.flatMap((c) => Array.from({ length: 8 }, () => post(base, c.token, activation()))));
    expect(answers.map((a) => a.status)).toEqual(Array(320).fill(204));
    const [stored] = await database.client<
      { n: number; clients: number }[]
    >`select count(*)::int as n, count(distinct r.runtime_client_id)::int as clients from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name like 'mes-fleet-%'`;
    expect(stored).toEqual({ n: 320, clients: 40 });
    // What each runs: one row per client and site, as the screen reads it.
    const [status] = await database.client<
      { n: number }[]
    >`select count(*)::int as n from runtime_client_status s join runtime_clients c on c.id = s.runtime_client_id where c.name like 'mes-fleet-%' and s.version = 2`;
    expect(status!.n).toBe(40);
    const [seen] = await database.client<
      { n: number }[]
    >`select count(*)::int as n from runtime_clients where name like 'mes-fleet-%' and last_seen_at is not null`;
    expect(seen!.n).toBe(40);
    const after = await batchStats();
    expect(after.reports - before.reports).toBe(320);
    expect(after.batches - before.batches).toBeLessThan(320);
  });

  it("answers each report of one batch on its own: valid ones stored, an unknown version 422 naming the field", async () => {
    // A batch leaves only after 300 ms (or 4 reports): the four requests below share one.
    const { base } = await instance({ statusReportsPerMinute: 1000, statusReportBatch: { maxWaitMs: 300, maxBatch: 4 } });
    const [a, b] = await clients("mes-mixed", 2);
    const before = await batchStats();
    const answers = await Promise.all([
      post(base, a!.token, activation()),
      post(base, a!.token, activation(999, `sha256:${"e".repeat(64)}`)),
      post(base, b!.token, activation(1)), // version 1 exists, not with version 2's digest
      post(base, b!.token, { kind: "refusal", offered: { version: 7, digest: null }, code: "rollback", source: "current", runningVersion: 2 }),
    ]);
    const after = await batchStats();
    expect(after.batches - before.batches).toBe(1);
    expect(after.reports - before.reports).toBe(4);
    expect(answers.map((r) => r.status)).toEqual([204, 422, 422, 204]);
    expect((await answers[1]!.json()).errors.map((e: { pointer: string }) => e.pointer)).toEqual(["#/version"]);
    expect((await answers[2]!.json()).errors.map((e: { pointer: string }) => e.pointer)).toEqual(["#/digest"]);
    const kept = await database.client<
      { name: string; kind: string; version: number }[]
    >`select c.name, r.kind, r.version from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name like 'mes-mixed-%' order by c.name`;
    expect(kept).toEqual([
      { name: "mes-mixed-0", kind: "activation", version: 2 },
      { name: "mes-mixed-1", kind: "refusal", version: 7 },
    ]);
  });

  it("rate-limits exactly across two instances on one database: limit × clients accepted, the rest 429", async () => {
    const limit = 7;
    const one = await instance({ statusReportsPerMinute: limit });
    const two = await instance({ statusReportsPerMinute: limit });
    const chatty = await clients("mes-chatty", 20);
    // One minute's window (of the database clock): not started within 20 s of its end.
    const [clock] = await database.client<{ s: number }[]>`select extract(second from now())::float8 as s`;
    if (clock!.s > 40) await new Promise((r) => setTimeout(r, (61 - clock!.s) * 1000));
    // 20 clients × 15 reports, alternating between the instances, all at once.
    const answers = await Promise.all(chatty.flatMap((c) => Array.from({ length: 15 }, (_, i) => post(i % 2 ? one.base : two.base, c.token, activation()))));
    const statuses = answers.map((a) => a.status);
    // Oracle, by hand: 7 a minute for each of 20 clients = 140 accepted; 300 − 140 = 160 refused.
    expect(statuses.filter((s) => s === 204)).toHaveLength(140);
    expect(statuses.filter((s) => s === 429)).toHaveLength(160);
    const refused = answers.find((a) => a.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    const perClient = await database.client<
      { n: number }[]
    >`select count(r.id)::int as n from runtime_clients c left join runtime_status_reports r on r.runtime_client_id = c.id where c.name like 'mes-chatty-%' group by c.id`;
    expect(perClient.map((r) => r.n)).toEqual(Array(20).fill(limit));
    const [counted] = await database.client<
      { n: number }[]
    >`select sum(w.count)::int as n from runtime_client_report_windows w join runtime_clients c on c.id = w.runtime_client_id where c.name like 'mes-chatty-%'`;
    expect(counted!.n).toBe(300);
  });

  it("writes a second full batch while the first commits; the rate limit stays exact for a client in both", async () => {
    const limit = 5;
    const { base } = await instance({ statusReportsPerMinute: limit, statusReportBatch: { maxWaitMs: 200, maxBatch: 3 } });
    const [c] = await clients("mes-overlap", 1);
    // One minute's window (of the database clock): not started within 20 s of its end.
    const [clock] = await database.client<{ s: number }[]>`select extract(second from now())::float8 as s`;
    if (clock!.s > 40) await new Promise((r) => setTimeout(r, (61 - clock!.s) * 1000));
    const before = await batchStats();
    // An anchor's exclusive lock holds every batch at its first statement, in the database.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const anchor = database.owner.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${TELEMETRY_LOCK})`;
      locked();
      await held;
    });
    await isLocked;
    const answers = Promise.all(Array.from({ length: 9 }, () => post(base, c!.token, activation())));
    // 9 reports, batches of 3: two batches wait in the database at once, the third in the queue.
    const waiting = async () =>
      (
        await database.client<{ n: number }[]>`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
          where d.datname = current_database() and l.locktype = 'advisory' and not l.granted`
      )[0]!.n;
    await vi.waitFor(async () => expect(await waiting()).toBe(2), { timeout: 10_000, interval: 50 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await waiting()).toBe(2);
    release();
    await anchor;
    const statuses = (await answers).map((a) => a.status);
    // Oracle, by hand: 5 a minute for the one client: 5 stored, 9 − 5 = 4 refused.
    expect(statuses.filter((s) => s === 204)).toHaveLength(limit);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9 - limit);
    const after = await batchStats();
    expect(after.batches - before.batches).toBe(3);
    const [stored] = await database.client<
      { n: number }[]
    >`select count(*)::int as n from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-overlap-0'`;
    expect(stored!.n).toBe(limit);
    const [counted] = await database.client<
      { n: number }[]
    >`select w.count as n from runtime_client_report_windows w join runtime_clients c on c.id = w.runtime_client_id where c.name = 'mes-overlap-0'`;
    expect(counted!.n).toBe(9);
  });

  it("fails every report of a batch the database refuses with 503, and goes on afterwards", async () => {
    const { base } = await instance({ statusReportsPerMinute: 1000, statusReportBatch: { maxWaitMs: 200, maxBatch: 3 } });
    const [c] = await clients("mes-refused", 1);
    await database.owner`revoke insert on runtime_status_reports from c981_app`;
    try {
      const answers = await Promise.all([post(base, c!.token, activation()), post(base, c!.token, activation()), post(base, c!.token, activation())]);
      expect(answers.map((a) => a.status)).toEqual([503, 503, 503]);
      expect(Number(answers[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await database.owner`grant insert on runtime_status_reports to c981_app`;
    }
    expect((await post(base, c!.token, activation())).status).toBe(204);
    const [n] = await database.client<
      { n: number }[]
    >`select count(*)::int as n from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-refused-0'`;
    expect(n!.n).toBe(1);
  });
});

describe("the status reports table is append-only", () => {
  it("refuses update, delete and truncate — to the application role by privilege, to an owner by trigger", async () => {
    const [c] = await clients("mes-append", 1);
    const client = (await authenticateClient(database.db, c!.token))!;
    await recordStatus(database.db, client, { id: ein.id, code: "EIN" }, activation());
    await expect(database.client`update runtime_status_reports set kind = 'refusal'`).rejects.toThrow(/permission denied/);
    await expect(database.client`delete from runtime_status_reports`).rejects.toThrow(/permission denied/);
    await expect(database.owner`update runtime_status_reports set version = 3`).rejects.toThrow(/append-only/);
    await expect(database.owner`delete from runtime_status_reports`).rejects.toThrow(/append-only/);
    await expect(database.owner`truncate runtime_status_reports`).rejects.toThrow(/append-only/);
  });
});

describe("the audit trail's anchors cover the status reports", () => {
  it("signs the reports' head; a report changed by an owner afterwards is named by anchor verification", async () => {
    const [c] = await clients("mes-anchored", 1);
    const client = (await authenticateClient(database.db, c!.token))!;
    for (let i = 0; i < 3; i++) await recordStatus(database.db, client, { id: ein.id, code: "EIN" }, activation());
    const written = await writeCheckpointIfDue(database.db, keyRing, { actor: "test", force: true });
    if (!written.written) throw new Error(`no anchor: ${written.reason}`);
    const [max] = await database.client<{ id: number }[]>`select max(id)::int as id from runtime_status_reports`;
    const clean = await verifyAnchoredChain(database.db);
    expect(clean.telemetry.problems).toEqual([]);
    expect(clean.ok).toBe(true);
    expect(clean.telemetry.proven?.through).toBe(max!.id);
    const [{ n: total } = { n: 0 }] = await database.client<{ n: number }[]>`select count(*)::int as n from runtime_status_reports`;

    expect(clean.telemetry.rowsChecked).toBe(total);

    const [target] = await database.client<
      { id: number }[]
    >`select min(r.id)::int as id from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-anchored-0'`;
    const tamper = async (change: string) => {
      await database.owner.begin(async (sql) => {
        await sql`alter table runtime_status_reports disable trigger runtime_status_reports_no_update_delete`;
        await sql.unsafe(change);
        await sql`alter table runtime_status_reports enable trigger runtime_status_reports_no_update_delete`;
      });
    };
    // Edited without re-hashing: the row itself is named.
    await tamper(`update runtime_status_reports set report = jsonb_set(report, '{version}', '1'), version = 1 where id = ${target!.id}`);
    const edited = await verifyAnchoredChain(database.db);
    expect(edited.ok).toBe(false);
    expect(edited.telemetry.problems.map((p) => p.row)).toContain(target!.id);
    expect(edited.telemetry.problems.find((p) => p.row === target!.id)!.detail).toMatch(new RegExp(`status report ${target!.id} does not hash`));
    // And the CLI an auditor runs says so, exit 2.
    const cli = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/c981.ts", "audit:verify"], {
      env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SIGNING_KEYS_DIR: keyRing.dir },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(new RegExp(`status reports NOT AS SIGNED: status report ${target!.id} does not hash to its stored hash`));

    // Edited and re-hashed to match: the signed digest no longer holds, and the anchor says so.
    const [row] = await database.owner<
      { runtime_client_id: number; site_id: number; kind: "activation"; version: number; digest: string; report: string; received_at: string }[]
    >`select runtime_client_id, site_id, kind, version, digest, report::text as report, to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as received_at from runtime_status_reports where id = ${target!.id}`;
    const rehashed = statusReportHash({
      clientId: row!.runtime_client_id,
      siteId: row!.site_id,
      kind: row!.kind,
      version: row!.version,
      digest: row!.digest,
      report: JSON.parse(row!.report),
      receivedAt: row!.received_at,
    });
    await tamper(`update runtime_status_reports set hash = '${rehashed}' where id = ${target!.id}`);
    const rewritten = await verifyAnchoredChain(database.db);
    expect(rewritten.ok).toBe(false);
    expect(rewritten.telemetry.problems.some((p) => p.row !== undefined)).toBe(false);
    const signed = rewritten.telemetry.problems.find((p) => p.anchorId === written.anchor.id);
    expect(signed?.detail).toMatch(new RegExp(`up to id ${max!.id} no longer give the digest signed anchor #${written.anchor.id}`));
    expect(signed?.detail).toMatch(new RegExp(`id \\d+–${max!.id}`));
  });

  it("anchors only ids below which every report has committed: an anchor waits a bounded time for a report still committing, then covers nothing new; the next one covers it", async () => {
    const [c] = await clients("mes-slow", 1);
    const client = (await authenticateClient(database.db, c!.token))!;
    const report = { ...activation(), kind: "activation" };
    const [clientRow] = await database.client<{ id: number }[]>`select id from runtime_clients where name = 'mes-slow-0'`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let heldId = 0;
    let inserted!: () => void;
    const insertedYet = new Promise<void>((r) => (inserted = r));
    // A writer that took the shared lock and its id, and has not committed yet.
    const slow = database.client.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock_shared(${TELEMETRY_LOCK})`;
      const [now] = await sql<{ now: string }[]>`select to_char(date_trunc('milliseconds', now()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`;
      const content = { clientId: clientRow!.id, siteId: ein.id, kind: "activation" as const, version: 2, digest: report.digest, report, receivedAt: now!.now };
      const [row] = await sql<{ id: number }[]>`
        insert into runtime_status_reports (runtime_client_id, site_id, kind, version, digest, report, received_at, hash)
        values (${content.clientId}, ${content.siteId}, 'activation', 2, ${content.digest}, ${JSON.stringify(report)}::jsonb, ${content.receivedAt}::timestamptz, ${statusReportHash(content)})
        returning id::int`;
      heldId = row!.id;
      inserted();
      await gate;
    });
    await insertedYet;
    // A later report commits first, with a higher id.
    await recordStatus(database.db, client, { id: ein.id, code: "EIN" }, activation());
    const [later] = await database.client<{ id: number }[]>`select max(id)::int as id from runtime_status_reports`;
    expect(later!.id).toBeGreaterThan(heldId);
    const [before] = await database.client<{ through: number }[]>`select coalesce(max(telemetry_through), 0)::int as through from audit_anchors`;
    // The writer stays uncommitted past the anchor's bounded wait: the anchor signs, but not past
    // the previous head (never over the uncommitted id, nor the later one above it).
    const started = Date.now();
    const first = await writeCheckpointIfDue(database.db, keyRing, { actor: "test", force: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(HORIZON_WAIT_MS);
    expect(first.written).toBe(true);
    const [firstHead] = await database.client<
      { through: number }[]
    >`select telemetry_through::int as through from audit_anchors where id = ${first.written ? first.anchor.id : -1}`;
    expect(firstHead!.through).toBe(before!.through);
    expect(firstHead!.through).toBeLessThan(heldId);
    release();
    await slow;
    // Committed now: the next anchor covers both.
    const result = await writeCheckpointIfDue(database.db, keyRing, { actor: "test", force: true });
    expect(result.written).toBe(true);
    const verified = await verifyAnchoredChain(database.db);
    expect(verified.telemetry.problems.filter((p) => p.row === undefined && p.anchorId === (result.written ? result.anchor.id : -1))).toEqual([]);
    expect(verified.telemetry.proven?.through).toBeGreaterThanOrEqual(later!.id);
  });

  it("holds the exclusive lock only for the horizon read, not for the anchor's transaction", async () => {
    await database.db.transaction(async (tx) => {
      const head = await telemetryHead(tx, undefined);
      expect(head.through).toBeGreaterThan(0);
      // Another session can take the writers' shared lock while this transaction is still open.
      const [probe] = await database.owner<{ ok: boolean }[]>`select pg_try_advisory_lock_shared(${TELEMETRY_LOCK}) as ok`;
      expect(probe!.ok).toBe(true);
      await database.owner`select pg_advisory_unlock_shared(${TELEMETRY_LOCK})`;
    });
  });

  it("goes on while another session holds the renewal round's lock (held for a whole renewal, whose anchor reads the horizon)", async () => {
    const [c] = await clients("mes-renewal", 1);
    const client = (await authenticateClient(database.db, c!.token))!;
    const within = <T>(work: Promise<T>, what: string) =>
      Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} waited on the renewal lock`)), 3000))]);
    // As server/main.ts's renewal round holds it (a session lock on a connection of its own).
    const [got] = await database.owner<{ ok: boolean }[]>`select pg_try_advisory_lock(${RENEWAL_LOCK}) as ok`;
    expect(got!.ok).toBe(true);
    try {
      const outcomes = await within(
        recordStatusReports(database.db, [{ client, site: { id: ein.id, code: "EIN" }, report: { ...activation(), kind: "activation" } }], 100),
        "a report batch",
      );
      expect(outcomes).toEqual([{ result: "stored" }]);
      const anchor = await within(writeCheckpointIfDue(database.db, keyRing, { actor: "test", force: true }), "an anchor");
      expect(anchor.written).toBe(true);
      const [max] = await database.client<{ id: number }[]>`select max(id)::int as id from runtime_status_reports`;
      const [signed] = await database.client<{ through: number }[]>`select telemetry_through::int as through from audit_anchors order by id desc limit 1`;
      expect(signed!.through).toBe(max!.id);
    } finally {
      await database.owner`select pg_advisory_unlock(${RENEWAL_LOCK})`;
    }
  });

  it("still verifies anchors written before status reports were covered (no telemetry in their payload)", async () => {
    const { anchorPayload } = await import("../../app/domain/audit-anchor");
    const { signAuditAnchor } = await import("../../app/utils/signing.server");
    const [head] = await database.client<{ seq: number; hash: string }[]>`select seq::int, hash from audit_trail order by seq desc limit 1`;
    const statement = {
      type: "c981.audit-anchor" as const,
      kind: "checkpoint" as const,
      seq: head!.seq,
      hash: head!.hash,
      issuedAt: new Date().toISOString(),
      ruleSet: null,
    };
    const payload = anchorPayload(statement);
    const jws = JSON.stringify(await signAuditAnchor(payload, keyRing));
    await database.client`insert into audit_anchors (kind, seq, hash, payload, jws, created_at, created_by)
      values ('checkpoint', ${statement.seq}, ${statement.hash}, ${Buffer.from(payload)}, ${jws}, ${statement.issuedAt}, 'test')`;
    const result = await verifyAnchoredChain(database.db);
    expect(result.anchorProblems).toEqual([]);
    expect(result.trusted.some((a) => a.seq === statement.seq && !a.telemetry)).toBe(true);
  });
});

describe("recordStatusReports, one batch", () => {
  it("takes the k-th report of a client iff the count before the batch + k is within the limit", async () => {
    const [c] = await clients("mes-k", 1);
    const client = (await authenticateClient(database.db, c!.token))!;
    const site = { id: ein.id, code: "EIN" };
    const first = await recordStatusReports(
      database.db,
      [1, 2, 3].map(() => ({ client, site, report: activation() })),
      4,
    );
    expect(first.map((o) => o.result)).toEqual(["stored", "stored", "stored"]);
    // The count is 3: of these three, only the first fits in 4; a malformed one counts too.
    const second = await recordStatusReports(
      database.db,
      [
        { client, site, report: undefined },
        { client, site, report: activation() },
        { client, site, report: activation() },
      ],
      4,
    );
    expect(second.map((o) => o.result)).toEqual(["malformed", "rate_limited", "rate_limited"]);
  });

  it("counts a batch that began in the minute before the client's window in that window, never resetting it", async () => {
    const [c] = await clients("mes-late", 1);
    const client = (await authenticateClient(database.db, c!.token))!;
    // Another instance's batch of the next minute committed first, using up the allowance (as when
    // this batch's transaction began at :59.99 and waited for a lock while the minute turned).
    const [next] = await database.client<{ start: string }[]>`insert into runtime_client_report_windows (runtime_client_id, window_start, count)
      values (${client.id}, date_trunc('minute', now()) + interval '1 minute', 4) returning window_start::text as start`;
    const late = await recordStatusReports(database.db, [{ client, site: { id: ein.id, code: "EIN" }, report: activation() }], 4);
    expect(late.map((o) => o.result)).toEqual(["rate_limited"]);
    const [row] = await database.client<{ count: number; start: string }[]>`
      select count, window_start::text as start from runtime_client_report_windows where runtime_client_id = ${client.id}`;
    expect(row).toEqual({ count: 5, start: next!.start });
  });
});
