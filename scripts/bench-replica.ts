/**
 * npm run bench:replica [-- --scale 0.1] [--rounds 20] [--items 1000] [--runs 5] [--keep] [--pg-bin DIR]
 *
 * Beyond one machine, measured on one (ADR 047):
 * 1. Read replicas for analyses at a snapshot: starts its own embedded PostgreSQL primary, loads
 *    the demo plant (or, with --scale S, the large plant's generator at scale S: 1 = 1M items),
 *    makes a streaming standby of it with a base backup and starts it on another port. Then, round
 *    after round, writes genealogy on the primary (N trace items and their edges in one
 *    transaction: the trigger bumps genealogy_state.changes), takes the primary's WAL position and
 *    change count, and waits on the standby until it has replayed them — the replication lag a
 *    reader sees (ms), checked by a repeatable-read read on the standby that must find the
 *    primary's count and rows. With replay paused the wait times out with a 503; resumed, it
 *    returns. Last, the genealogy index (ADR 011) is loaded from the standby at the primary's count.
 * 2. Per-site partitioning tried on one table: a LIST-partitioned copy of genealogy_edges by
 *    site_id — rows per partition against plain per-site counts, partition pruning in the plan of a
 *    per-site query, and the impact analysis's recursive reach on both tables: same answer, time.
 *
 * --pg-bin DIR runs primary and standby on another PostgreSQL installation (initdb, postgres and
 * pg_basebackup of one version, e.g. Debian's /usr/lib/postgresql/15/bin), so the standby is made
 * with `pg_basebackup -R` itself; by default the embedded server, whose package ships no
 * pg_basebackup, and the low-level backup API (scripts/bench-replica/standby.ts).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { loadGenealogyIndex } from "../app/services/genealogy-index.server";
import { connect, openDatabase, type Database } from "../app/utils/db.server";
import { DomainError } from "../app/utils/errors.server";
import { pauseReplay, primaryPosition, replicaLag, waitForReplica } from "../app/utils/replica.server";
import { prepareDatabase } from "../server/prepare-database";
import {
  createPartitionedEdges,
  crossSiteEdges,
  executedTables,
  PARTITIONED,
  reach,
  reachWithinSiteStatement,
  rowsPerPartition,
  scannedTables,
} from "./bench-replica/partition";
import { makeStandby, prepareReplication, startInstalledPrimary } from "./bench-replica/standby";

const { values } = parseArgs({
  options: {
    scale: { type: "string" },
    rounds: { type: "string", default: "20" },
    items: { type: "string", default: "1000" },
    runs: { type: "string", default: "5" },
    keep: { type: "boolean", default: false },
    "pg-bin": { type: "string" },
  },
  strict: true,
});
const SCALE = values.scale === undefined ? undefined : Number(values.scale);
if (SCALE !== undefined && !(SCALE > 0 && SCALE <= 1)) throw new Error("--scale must be in (0, 1]");
const ROUNDS = Math.max(1, Number(values.rounds));
const ITEMS = Math.max(1, Number(values.items));
const RUNS = Math.max(1, Number(values.runs));

const log = (line: string) => console.log(line);
const fmt = (n: number, digits = 1) => n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)]!;

let failures = 0;
const check = (ok: boolean, what: string) => {
  log(`${ok ? "PASS" : "FAIL"} ${what}`);
  if (!ok) failures++;
};

/** One genealogy write on the primary: `items` new lots made from existing ones, in one transaction. */
async function writeGenealogy(primary: postgres.Sql, round: number, items: number): Promise<void> {
  await primary.begin(async (tx) => {
    await tx`
      with m as (select id from materials order by id limit 1), s as (select id from sites order by id limit 1),
      made as (
        insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind)
        select 'lot', 'REPL-' || ${round} || '-' || g, (select id from m), (select id from s), 1, 'EA', 'stock', now(), 'seed'
        from generate_series(1, ${items}) g
        returning id, site_id
      ), inputs as (select id, row_number() over (order by id) as n from trace_items where identifier not like 'REPL-%' order by id limit ${items})
      insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind)
      select 'REPL-' || ${round} || '-' || i.n, 'consume', i.id, made.id, 1, 'EA', made.site_id, now(), 'seed'
      from (select id, site_id, row_number() over (order by id) as n from made) made join inputs i on i.n = made.n`;
  });
}

/** A primary from an installed PostgreSQL (--pg-bin), as a Database whose close also stops it. */
async function installedPrimary(binDir: string, tempDir: string): Promise<Database> {
  const server = await startInstalledPrimary(binDir, path.join(tempDir, "primary"));
  const database = connect(server.url, { ownerUrl: server.url });
  return {
    ...database,
    close: async () => {
      await database.close();
      await server.stop();
    },
  };
}

async function main(): Promise<number> {
  const started = performance.now();
  const loadBefore = os.loadavg()[0]!;
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-bench-replica-"));
  await fs.chmod(tempDir, 0o755);
  const binDir = values["pg-bin"];
  log(`bench:replica: primary (${binDir ? `PostgreSQL from ${binDir}` : "embedded PostgreSQL"}) in ${tempDir}`);
  const database: Database = binDir
    ? await installedPrimary(binDir, tempDir)
    : await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: tempDir, C981_DB_LOG: false }, { notice: log });
  let standby: Awaited<ReturnType<typeof makeStandby>> | undefined;
  const clients: postgres.Sql[] = [];
  try {
    const keysDir = path.join(tempDir, "keys");
    const seedStarted = performance.now();
    await prepareDatabase(database, { seed: SCALE === undefined ? "demo" : "none", keysDir });
    if (SCALE !== undefined) {
      const { seedLargePlant } = await import("../app/seed/large-plant.server");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      await seedLargePlant(database, await loadKeyRing(database.db, keysDir), { scale: SCALE, log });
    }
    const ownerUrl = database.ownerUrl!;
    const primary = postgres(ownerUrl, { max: 4, onnotice: () => {} });
    clients.push(primary);
    const [plant] =
      await primary`select (select count(*) from trace_items)::int as items, (select count(*) from genealogy_edges)::int as edges, current_setting('data_directory') as dir, version() as version`;
    log(
      `plant: ${plant!.items.toLocaleString("en")} trace items, ${plant!.edges.toLocaleString("en")} edges (${SCALE === undefined ? "demo" : `large generator at scale ${SCALE}`}), loaded in ${fmt((performance.now() - seedStarted) / 1000)} s; ${String(plant!.version).split(" on ")[0]}`,
    );

    // ---- 1. a streaming standby -------------------------------------------------------------
    log("\n1. read replica for analyses at a snapshot");
    const replication = await prepareReplication(ownerUrl, String(plant!.dir));
    log(`primary: wal_level ${replication.walLevel}, max_wal_senders ${replication.maxWalSenders}, pg_hba: ${replication.hba}`);
    standby = await makeStandby(ownerUrl, String(plant!.dir), path.join(tempDir, "standby"), { log, binDir });
    log(
      `standby on port ${standby.port}: base backup by ${standby.method} in ${fmt(standby.backupMs / 1000, 2)} s, ready in ${fmt(standby.startMs / 1000, 2)} s`,
    );
    const replica = postgres(standby.url, { max: 2, onnotice: () => {} });
    clients.push(replica);
    const [streaming] = await primary`select application_name, state, sync_state from pg_stat_replication`;
    check(
      streaming?.state === "streaming",
      `the primary streams to the standby (pg_stat_replication: ${streaming?.application_name} ${streaming?.state} ${streaming?.sync_state})`,
    );

    const waits: number[] = [];
    const polls: number[] = [];
    const writes: number[] = [];
    let exact = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const t = performance.now();
      await writeGenealogy(primary, round, ITEMS);
      const committed = performance.now();
      writes.push(committed - t);
      const target = await primaryPosition(primary);
      const wait = await waitForReplica(replica, target, { timeoutMs: 10_000, pollMs: 1 });
      // From the commit's return on the primary to the standby showing it (includes reading the position).
      waits.push(performance.now() - committed);
      polls.push(wait.polls);
      const [counts] = await primary`select (select count(*) from trace_items)::int as items, (select count(*) from genealogy_edges)::int as edges`;
      // The analysis's read on the standby, in one snapshot: the primary's count and rows.
      const [seen] = await replica.begin(
        "isolation level repeatable read read only",
        (tx) =>
          tx`select (select changes from genealogy_state where id = 1)::int as changes, (select count(*) from trace_items)::int as items, (select count(*) from genealogy_edges)::int as edges`,
      );
      if (seen!.changes === target.changes && seen!.items === counts!.items && seen!.edges === counts!.edges) exact++;
    }
    log(
      `${ROUNDS} writes of ${ITEMS.toLocaleString("en")} items + ${ITEMS.toLocaleString("en")} edges on the primary (median ${fmt(median(writes))} ms each); wait on the standby until it replayed the write (commit → readable there):`,
    );
    log(
      `  replication lag seen by a reader: median ${fmt(median(waits), 2)} ms, p95 ${fmt(pct(waits, 0.95), 2)} ms, max ${fmt(Math.max(...waits), 2)} ms; polls median ${median(polls)}`,
    );
    check(exact === ROUNDS, `after each wait the standby's snapshot held the primary's change count and rows (${exact}/${ROUNDS})`);

    // Paused replay: a lagging standby. The wait gives up with a 503, then returns once replay resumes.
    await pauseReplay(replica);
    await writeGenealogy(primary, ROUNDS + 1, ITEMS);
    const paused = await primaryPosition(primary);
    const lagWhilePaused = await (async () => {
      for (let i = 0; i < 100; i++) {
        const lag = await replicaLag(replica);
        if (lag.unreplayedBytes > 0) return lag;
        await new Promise((r) => setTimeout(r, 20));
      }
      return replicaLag(replica);
    })();
    let refused: unknown;
    const refusedStarted = performance.now();
    try {
      await waitForReplica(replica, paused, { timeoutMs: 300 });
    } catch (error) {
      refused = error;
    }
    const refusedMs = performance.now() - refusedStarted;
    check(
      refused instanceof DomainError && refused.status === 503,
      `replay paused: the wait gives up after ${fmt(refusedMs, 0)} ms with ${refused instanceof DomainError ? `${refused.status}: ${refused.message}` : String(refused)}`,
    );
    log(
      `  while paused: ${lagWhilePaused.unreplayedBytes.toLocaleString("en")} bytes received but not replayed (received ${lagWhilePaused.receivedLsn}, replayed ${lagWhilePaused.replayLsn})`,
    );
    const resumeAfter = 500;
    const waiting = waitForReplica(replica, paused, { timeoutMs: 10_000 });
    setTimeout(() => void replica`select pg_wal_replay_resume()`.catch(() => {}), resumeAfter);
    const resumed = await waiting;
    check(
      resumed.waitedMs >= resumeAfter - 50 && resumed.changes >= paused.changes,
      `replay resumed after ${resumeAfter} ms: the waiting read returned after ${fmt(resumed.waitedMs, 0)} ms at change ${resumed.changes} (≥ ${paused.changes})`,
    );

    // The genealogy index loaded from the standby, at the primary's count (ADR 011's tag).
    await writeGenealogy(primary, ROUNDS + 2, ITEMS);
    const indexTarget = await primaryPosition(primary);
    const indexWait = await waitForReplica(replica, indexTarget, { timeoutMs: 10_000, pollMs: 1 });
    const index = await loadGenealogyIndex(replica);
    check(
      index.changes === indexTarget.changes,
      `genealogy index loaded from the standby after a ${fmt(indexWait.waitedMs, 2)} ms wait: change ${index.changes} (primary ${indexTarget.changes}), ${index.items.toLocaleString("en")} items, ${index.edges.toLocaleString("en")} edges in ${fmt(index.loadMs, 0)} ms`,
    );

    // ---- 2. per-site partitioning of one table -----------------------------------------------
    log(`\n2. genealogy_edges partitioned by site (LIST on site_id), a copy beside the original`);
    const copy = await createPartitionedEdges(primary);
    log(`copy: ${copy.partitions.length} site partitions + default, filled, keyed, indexed and analysed in ${fmt(copy.copyMs / 1000, 2)} s`);
    const perSite = new Map(
      (await primary<{ site_id: number; n: number }[]>`select site_id, count(*)::int as n from genealogy_edges group by site_id`).map((r) => [r.site_id, r.n]),
    );
    const perPartition = await rowsPerPartition(primary);
    const [codes] = [new Map((await primary<{ id: number; code: string }[]>`select id, code from sites`).map((r) => [r.id, r.code]))];
    const mismatches = [...perPartition].filter(([site, n]) => (site === null ? n !== 0 : (perSite.get(site) ?? 0) !== n));
    log(`  rows per partition: ${[...perPartition].map(([site, n]) => `${site === null ? "default" : codes.get(site)} ${n.toLocaleString("en")}`).join(", ")}`);
    check(
      mismatches.length === 0 && perSite.size <= perPartition.size,
      "rows per partition = plain per-site counts of genealogy_edges (default partition empty)",
    );
    const busiest = [...perSite].sort((a, b) => b[1] - a[1])[0]![0];
    const scanned = await scannedTables(primary, `select count(*) from ${PARTITIONED} where site_id = ${busiest}`);
    check(
      scanned.length === 1 && scanned[0] === `${PARTITIONED}_s${busiest}`,
      `a per-site query is pruned to one partition (EXPLAIN scans ${scanned.join(", ")})`,
    );
    const scannedAll = await scannedTables(primary, `select count(*) from ${PARTITIONED}`);
    log(`  (without the site: ${scannedAll.length} partitions scanned)`);

    const cases: [string, string][] =
      SCALE === undefined
        ? [
            ["SUB-1003", "EIN"],
            ["RAW-1001", "EIN"],
            ["MCH-1002", "CLT"],
          ]
        : [
            ["SUB-1003", "EIN"],
            ["RAW-1001", "EIN"],
            ["ASM-1001", "EIN"],
          ];
    const crossing = await crossSiteEdges(primary);
    log(`  edges whose input or output is at another site than the edge: ${crossing.toLocaleString("en")}`);
    for (const [material, site] of cases) {
      const plain: number[] = [];
      const parted: number[] = [];
      const pruned: number[] = [];
      let a = await reach(primary, "genealogy_edges", material, site);
      let b = await reach(primary, PARTITIONED, material, site);
      let c = await reach(primary, PARTITIONED, material, site, reachWithinSiteStatement);
      for (let i = 0; i < RUNS; i++) {
        a = await reach(primary, "genealogy_edges", material, site);
        plain.push(a.ms);
        b = await reach(primary, PARTITIONED, material, site);
        parted.push(b.ms);
        c = await reach(primary, PARTITIONED, material, site, reachWithinSiteStatement);
        pruned.push(c.ms);
      }
      check(
        a.n === b.n && a.digest === b.digest,
        `impact reach of ${material} at ${site}: ${a.n.toLocaleString("en")} items on both tables, same ids; median ${fmt(median(plain))} ms plain, ${fmt(median(parted))} ms partitioned (${RUNS} runs)`,
      );
      if (crossing === 0) {
        const executed = await executedTables(
          primary,
          reachWithinSiteStatement(PARTITIONED, material, site).replace(/select count\(\*\)::int as n.*$/s, "select count(*) from wanted"),
        );
        const edgePartitions = executed.filter((t) => t.startsWith(PARTITIONED));
        check(
          c.n === a.n && c.digest === a.digest && edgePartitions.length === 1,
          `  with the site in the recursive join: same ids, run-time pruning to ${edgePartitions.join(", ")}; median ${fmt(median(pruned))} ms`,
        );
      }
    }

    log(
      `\nmachine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load average ${fmt(loadBefore, 2)} before, ${fmt(os.loadavg()[0]!, 2)} after; ${fmt((performance.now() - started) / 1000)} s in all`,
    );
    log(failures === 0 ? "bench:replica: all checks PASS" : `bench:replica: ${failures} check(s) FAILED`);
    return failures === 0 ? 0 : 1;
  } finally {
    for (const client of clients) await client.end({ timeout: 2 }).catch(() => {});
    await standby?.stop();
    await database.close();
    if (!values.keep) await fs.rm(tempDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
