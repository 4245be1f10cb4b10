/**
 * Read replicas for analyses at a snapshot (ADR 047), on a real streaming standby: this file
 * starts its own embedded PostgreSQL primary (the shared test server is not copied), makes a
 * standby of it from a base backup (scripts/bench-replica/standby.ts) and checks waitForReplica
 * against a lag it controls — replay paused with pg_wal_replay_pause(), resumed with
 * pg_wal_replay_resume() — so nothing depends on how fast the machine replays. The replication lag
 * itself is measured by `npm run bench:replica`.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGenealogyIndex } from "../../app/services/genealogy-index.server";
import { openDatabase, type Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { pauseReplay, primaryPosition, replicaLag, waitForReplica } from "../../app/utils/replica.server";
import { prepareDatabase } from "../../server/prepare-database";
import { dbCommands } from "../../scripts/cli/db";
import { freePort, makeStandby, prepareReplication, type Standby } from "../../scripts/bench-replica/standby";

let dir: string;
let database: Database;
let standby: Standby;
let primary: postgres.Sql;
let replica: postgres.Sql;
let round = 0;

/** One genealogy write: a lot and the edge from the previous one, in one transaction (two counted statements). */
async function writeGenealogy(): Promise<void> {
  round++;
  await primary.begin(async (tx) => {
    const [item] = await tx`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
      select 'lot', ${`REPL-${round}`}, m.id, s.id, 1, 'EA', 'stock', now(), 'seed' from materials m, sites s where m.part_number = 'REPL-1' and s.code = 'REPL'
      returning id, site_id`;
    await tx`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
      select ${`REPL-${round}`}, 'consume', p.id, ${item!.id}, 1, 'EA', ${item!.site_id}, now(), 'seed' from trace_items p where p.identifier = ${`REPL-${round - 1}`}`;
  });
}

/** The primary's own counts, by plain SQL (the oracle for what the standby must show). */
async function primaryCounts() {
  const [row] =
    await primary`select (select changes from genealogy_state where id = 1)::int as changes, (select count(*) from trace_items)::int as items, (select count(*) from genealogy_edges)::int as edges`;
  return row!;
}

async function standbyCounts() {
  const [row] = await replica.begin(
    "isolation level repeatable read read only",
    (tx) =>
      tx`select (select changes from genealogy_state where id = 1)::int as changes, (select count(*) from trace_items)::int as items, (select count(*) from genealogy_edges)::int as edges`,
  );
  return row!;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-test-replica-"));
  await fs.chmod(dir, 0o755);
  database = await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: dir, C981_DB_LOG: false }, { notice: () => {} });
  await prepareDatabase(database, { seed: "none" });
  primary = postgres(database.ownerUrl!, { max: 2, onnotice: () => {} });
  await primary`insert into sites (code, name, time_zone) values ('REPL', 'Replica test site', 'UTC')`;
  await primary`insert into material_families (code, name) values ('REPL', 'Replica test family')`;
  await primary`insert into materials (part_number, description, unit_of_measure, risk_class, family_id)
    select 'REPL-1', 'Replica test material', 'EA', 'low', id from material_families where code = 'REPL'`;
  await writeGenealogy();
  const [{ dir: pgData }] = (await primary`select current_setting('data_directory') as dir`) as unknown as [{ dir: string }];
  await prepareReplication(database.ownerUrl!, pgData);
  standby = await makeStandby(database.ownerUrl!, pgData, path.join(dir, "standby"));
  replica = postgres(standby.url, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await replica?.end({ timeout: 2 });
  await primary?.end({ timeout: 2 });
  await standby?.stop();
  await database?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("a streaming standby of the primary", () => {
  it("is in recovery, streamed to, and refuses writes", async () => {
    const [state] = await replica`select pg_is_in_recovery() as recovery`;
    expect(state!.recovery).toBe(true);
    const streams = await primary`select state from pg_stat_replication`;
    expect(streams.map((s) => s.state)).toEqual(["streaming"]);
    await expect(replica`insert into material_families (code, name) values ('X', 'x')`).rejects.toThrow(/read-only transaction/);
  });
});

describe("waitForReplica", () => {
  it("returns once the standby has replayed a write, and the standby's snapshot is then the primary's", async () => {
    await writeGenealogy();
    const target = await primaryPosition(primary);
    const expected = await primaryCounts();
    expect(target.changes).toBe(expected.changes);
    const wait = await waitForReplica(replica, target, { timeoutMs: 30_000 });
    expect(wait.changes).toBeGreaterThanOrEqual(target.changes);
    expect(await standbyCounts()).toEqual(expected);
  });

  it("waits while replay is paused, refuses with a 503 at its bound, and returns when replay resumes", async () => {
    await waitForReplica(replica, await primaryPosition(primary), { timeoutMs: 30_000 });
    const before = await standbyCounts();
    await pauseReplay(replica);
    try {
      await writeGenealogy();
      const target = await primaryPosition(primary);
      // Two counted statements (the item, the edge): the standby stays at the count before them.
      expect(target.changes).toBe(before.changes + 2);

      const refused = await waitForReplica(replica, target, { timeoutMs: 200, pollMs: 10 }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).status).toBe(503);
      expect((refused as DomainError).message).toContain(`genealogy change ${before.changes} of ${target.changes}`);
      expect(await standbyCounts()).toEqual(before);

      // By the count alone and by the LSN alone, the standby is behind too.
      await expect(waitForReplica(replica, { changes: target.changes }, { timeoutMs: 50 })).rejects.toThrow(/has not caught up/);
      await expect(waitForReplica(replica, { lsn: target.lsn }, { timeoutMs: 50 })).rejects.toThrow(/replayed WAL to/);

      let settled = false;
      const waiting = waitForReplica(replica, target, { timeoutMs: 30_000, pollMs: 10 }).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await replica`select pg_wal_replay_resume()`;
      const wait = await waiting;
      expect(wait.waitedMs).toBeGreaterThanOrEqual(250);
      expect(wait.changes).toBe(target.changes);
      expect(await standbyCounts()).toEqual(await primaryCounts());
    } finally {
      await replica`select pg_wal_replay_resume()`;
    }
  });

  it("reports the lag PostgreSQL sees while replay is paused", async () => {
    await pauseReplay(replica);
    try {
      await writeGenealogy();
      const target = await primaryPosition(primary);
      // Received (streamed) but not replayed: poll until the WAL has arrived.
      let lag = await replicaLag(replica);
      for (let i = 0; i < 200 && lag.unreplayedBytes === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        lag = await replicaLag(replica);
      }
      expect(lag.unreplayedBytes).toBeGreaterThan(0);
      const [diff] = await primary`select pg_wal_lsn_diff(${target.lsn}::pg_lsn, ${lag.replayLsn}::pg_lsn)::float8 as behind`;
      expect(Number(diff!.behind)).toBeGreaterThan(0);
    } finally {
      await replica`select pg_wal_replay_resume()`;
    }
  });

  it("loads the genealogy index from the standby at the primary's change count", async () => {
    await writeGenealogy();
    const target = await primaryPosition(primary);
    await waitForReplica(replica, target, { timeoutMs: 30_000 });
    const index = await loadGenealogyIndex(replica);
    const expected = await primaryCounts();
    expect(index.changes).toBe(target.changes);
    expect(index.items).toBe(expected.items);
    expect(index.edges).toBe(expected.edges);
  });

  it("judges a server not in recovery by the count alone, and refuses targets that are not positions", async () => {
    const target = await primaryPosition(primary);
    const wait = await waitForReplica(primary, { lsn: target.lsn, changes: target.changes }, { timeoutMs: 100 });
    expect(wait.replayLsn).toBeNull();
    expect(wait.polls).toBe(1);
    await expect(waitForReplica(primary, { changes: target.changes + 1 }, { timeoutMs: 50 })).rejects.toMatchObject({ status: 503 });
    await expect(waitForReplica(replica, {})).rejects.toMatchObject({ code: "invalid" });
    await expect(waitForReplica(replica, { lsn: "0/zz" })).rejects.toMatchObject({ code: "invalid", fields: { lsn: ["like 0/3000148"] } });
    await expect(waitForReplica(replica, { changes: -1 })).rejects.toMatchObject({ code: "invalid" });
  });

  it("answers unavailable when the replica cannot be reached", async () => {
    const nowhere = new URL(standby.url);
    nowhere.port = String(await freePort());
    const unreachable = postgres(nowhere.toString(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await expect(waitForReplica(unreachable, { changes: 0 }, { timeoutMs: 100 })).rejects.toMatchObject({ code: "unavailable", status: 503 });
    } finally {
      await unreachable.end({ timeout: 1 });
    }
  });
});

describe("npm run c981 -- db:replica", () => {
  const withReplicaEnv = async <T>(work: () => Promise<T>): Promise<T> => {
    const before = { url: process.env.C981_REPLICA_URL, wait: process.env.C981_REPLICA_WAIT_MS };
    process.env.C981_REPLICA_URL = standby.url;
    process.env.C981_REPLICA_WAIT_MS = "300";
    try {
      return await work();
    } finally {
      for (const [key, value] of [
        ["C981_REPLICA_URL", before.url],
        ["C981_REPLICA_WAIT_MS", before.wait],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  };

  it("says the replica caught up, and refuses as unavailable (503; the CLI exits 75) while its replay is paused", async () => {
    await writeGenealogy();
    expect(await withReplicaEnv(() => dbCommands["db:replica"].run(database, []))).toBe(0);
    await pauseReplay(replica);
    try {
      await writeGenealogy();
      await expect(withReplicaEnv(() => dbCommands["db:replica"].run(database, []))).rejects.toMatchObject({ code: "unavailable", status: 503 });
    } finally {
      await replica`select pg_wal_replay_resume()`;
    }
  });
});
