/**
 * `npm run bench:pull`: how fast the runtime pull is (ADR 009). Drives
 * `GET /api/v1/sites/EIN/ruleset` with 100 connections — without If-None-Match (200, the signed
 * bytes) and with the current ETag (304) — against the portal as `npm start` builds it, and against
 * a bare node:http server sending the same bytes, in the same run. The load generator (autocannon)
 * runs in a child process so that it never shares the servers' event loop. Every query the
 * portal's postgres.js client sends while the portal is measured is counted (its `debug` hook).
 *
 * Database: a throw-away embedded PostgreSQL in a temporary folder, or, with DATABASE_URL, a
 * throw-away database created on that server; either is removed at the end.
 *
 * Options: --duration <s> (measured seconds per run, default 8), --connections <n> (100),
 * --rounds <n> (alternate bare and portal n times and keep each one's best run, default 1; for a
 * busy machine), --with-express (also measure the portal without its fast path, i.e. express).
 * Besides req/s and p99 it prints the servers' CPU time per request, which a busy machine disturbs
 * far less than throughput.
 * Targets are printed PASS/FAIL; the exit code is 0 unless something failed to run, since a busy
 * machine can miss a target that a quiet one meets.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { ServerBuild } from "@remix-run/node";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { createRuntimeClient } from "../app/services/runtime-clients.server";
import { connect, openDatabase, registerDatabase, type Database } from "../app/utils/db.server";
import { prepareDatabase } from "../server/prepare-database";
import { createPortalServer, type PortalServer } from "../server/app";
import { buildIfNeeded, withoutVitest } from "../server/build-if-needed";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stdout.write(`${line}\n`);
const SITE = "EIN";
const PATH = `/api/v1/sites/${SITE}/ruleset`;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 50;
const WARMUP_SECONDS = 2;
/** Queries no single request causes; any query a request did cause would be counted as itself. */
const NOT_PER_REQUEST: [RegExp, string][] = [
  [/^update "runtime_clients" set "last_seen_at"/, "the batched last-seen write every 30 s (ADR 008)"],
  [/ as rulesets,/, "the change counter read every C981_CACHE_CHECK_SECONDS (ADR 017)"],
  [/from pg_catalog\.pg_type/, "postgres.js's type lookup when its pool opens a connection"],
];

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "100" },
    rounds: { type: "string", default: "1" },
    "with-express": { type: "boolean", default: false },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const rounds = Number(args.rounds);
if (![duration, connections, rounds].every((n) => Number.isInteger(n) && n >= 1)) {
  throw new Error("--duration, --connections and --rounds take positive whole numbers");
}

interface Run {
  requestsPerSecond: number;
  p99: number;
  total: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** CPU time of this process (where the servers run) per request, measured here. */
  cpuMicrosPerRequest?: number;
}

/** autocannon in its own process; the result comes back as JSON on stdout. */
const RUNNER = `
const [entry, options] = JSON.parse(process.argv[1]);
const autocannon = (await import(entry)).default;
const result = await autocannon(options);
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
process.stdout.write(JSON.stringify({
  requestsPerSecond: result.requests.average, p99: result.latency.p99, total: result.requests.total,
  statuses, errors: result.errors, timeouts: result.timeouts,
}));
`;
const autocannonEntry = pathToFileURL(createRequire(import.meta.url).resolve("autocannon")).href;

function load(url: string, headers: Record<string, string>, seconds: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const options = { url, connections, duration: seconds, headers };
    const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, JSON.stringify([autocannonEntry, options])], {
      cwd: root,
      env: withoutVitest(process.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as Run);
      } catch {
        reject(new Error(`autocannon printed no result: ${out.slice(0, 200)} ${err.trim()}`));
      }
    });
  });
}

/** The baseline: node:http with nothing but the same bytes, ETag and 304. */
function bareServer(body: Buffer, etag: string): http.Server {
  return http.createServer((req, res) => {
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { ETag: etag, "Cache-Control": "private, no-cache" });
      res.end();
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/jose+json; charset=utf-8",
      "Content-Length": body.length,
      ETag: etag,
      "Cache-Control": "private, no-cache",
    });
    res.end(body);
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A database of our own: a throw-away one on DATABASE_URL's server, else a temporary embedded one. */
async function openBenchDatabase(tempDir: string): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const name = `c981_bench_${randomBytes(4).toString("hex")}`;
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    log(`bench: database ${name} on DATABASE_URL's server (dropped at the end)`);
    return {
      database: connect(url.toString()),
      drop: async () => {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  log(`bench: starting an embedded PostgreSQL in ${tempDir}`);
  const database = await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: tempDir, C981_DB_LOG: false });
  return { database, drop: async () => {} };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main() {
  const started = Date.now();
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-bench-"));
  // As root the embedded server runs as the `postgres` OS user, who must reach pg/ inside.
  await fs.chmod(tempDir, 0o755);
  const cleanups: (() => Promise<void>)[] = [() => fs.rm(tempDir, { recursive: true, force: true })];
  const cleanup = async () => {
    while (cleanups.length) await cleanups.pop()!().catch((error: unknown) => console.error(`bench: cleanup: ${(error as Error).message}`));
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    const serverBuildPath = buildIfNeeded(root, log);
    const { database, drop } = await openBenchDatabase(tempDir);
    cleanups.push(drop, () => database.close());
    await prepareDatabase(database, { seed: "demo", keysDir: path.join(tempDir, "keys"), log: (line) => log(`bench: ${line}`) });
    registerDatabase(Promise.resolve(database));
    const { token } = await createRuntimeClient(database.db, "bench", { name: "bench-pull", sites: [SITE], reason: "pull benchmark" });

    // The portal as `npm start` builds it, with the Remix build.
    const build = (await import(pathToFileURL(serverBuildPath).href)) as ServerBuild;
    const env = { C981_TRUST_PROXY: undefined };
    const portals: { name: string; portal: PortalServer; url: string }[] = [];
    const portal = await createPortalServer({ database, env, build, root });
    cleanups.push(() => portal.close());
    portals.push({ name: "portal (fast path)", portal, url: await listen(portal.server) });
    if (args["with-express"]) {
      const viaExpress = await createPortalServer({ database, env, build, root, fastPath: false });
      cleanups.push(() => viaExpress.close());
      portals.push({ name: "portal, express only", portal: viaExpress, url: await listen(viaExpress.server) });
    }

    // The first pull fills the cache (through express); its bytes are what the bare server sends.
    const first = await fetch(`${portals[0]!.url}${PATH}`, { headers: { Authorization: `Bearer ${token}` } });
    if (first.status !== 200) throw new Error(`the portal answered ${first.status} to the first pull`);
    const etag = first.headers.get("etag")!;
    const body = Buffer.from(await first.arrayBuffer());
    const bare = bareServer(body, etag);
    const bareUrl = await listen(bare);
    cleanups.push(() => new Promise<void>((resolve) => (bare.close(() => resolve()), bare.closeAllConnections())));
    for (const p of portals.slice(1)) await fetch(`${p.url}${PATH}`, { headers: { Authorization: `Bearer ${token}` } });

    // Every query the portal's client sends is counted; a query of our own proves the hook works.
    let counting = false;
    const counted: string[] = [];
    database.client.options.debug = (_connection, query) => {
      if (counting) counted.push(query);
    };
    counting = true;
    await database.db.execute(sql`select 1`);
    counting = false;
    if (counted.length !== 1) throw new Error(`the query counter saw ${counted.length} queries for one`);
    counted.length = 0;

    log(`bench: ${body.length} bytes, ETag ${etag}; ${connections} connections, ${WARMUP_SECONDS} s warm-up + ${duration} s per run`);
    const loadBefore = os.loadavg()[0]!;
    const paths: { name: string; headers: Record<string, string>; status: string }[] = [
      { name: "200", headers: { Authorization: `Bearer ${token}` }, status: "200" },
      { name: "304", headers: { Authorization: `Bearer ${token}`, "If-None-Match": etag }, status: "304" },
    ];
    const rows: { path: string; server: string; run: Run; ratio?: number }[] = [];
    let portalRequests = 0;
    const served = portal.fastPath!.stats.served;
    const passed = portal.fastPath!.stats.passed;
    for (const p of paths) {
      const servers = [{ name: "bare node:http", url: bareUrl, isPortal: false }, ...portals.map((x) => ({ name: x.name, url: x.url, isPortal: true }))];
      const best = new Map<string, Run>();
      for (let round = 0; round < rounds; round++) {
        for (const server of servers) {
          if (round === 0) await load(`${server.url}${PATH}`, p.headers, WARMUP_SECONDS);
          counting = server.isPortal;
          // Both servers live in this process and the idle one costs nothing: its CPU time per
          // request says what the server costs, whatever else the machine is doing.
          const cpu = process.cpuUsage();
          const run = await load(`${server.url}${PATH}`, p.headers, duration);
          const used = process.cpuUsage(cpu);
          counting = false;
          run.cpuMicrosPerRequest = (used.user + used.system) / Math.max(1, run.total);
          const unexpected = Object.entries(run.statuses).filter(([code]) => code !== p.status);
          if (unexpected.length || run.errors || run.timeouts) {
            throw new Error(`${server.name}, ${p.name} path: statuses ${JSON.stringify(run.statuses)}, ${run.errors} errors, ${run.timeouts} timeouts`);
          }
          if (server.isPortal) portalRequests += run.total;
          log(`bench: ${p.name} ${server.name}: ${fmt(run.requestsPerSecond)} req/s, p99 ${run.p99} ms, ${fmt(run.cpuMicrosPerRequest)} µs CPU/request`);
          const kept = best.get(server.name);
          if (!kept || run.requestsPerSecond > kept.requestsPerSecond) best.set(server.name, run);
        }
      }
      const baseline = best.get("bare node:http")!;
      for (const server of servers) {
        const run = best.get(server.name)!;
        rows.push({ path: p.name, server: server.name, run, ratio: server.isPortal ? run.requestsPerSecond / baseline.requestsPerSecond : undefined });
      }
    }

    const table = [
      ["path", "server", "req/s", "p99 ms", "CPU µs/req", "portal/bare"],
      ...rows.map((r) => [
        r.path,
        r.server,
        fmt(r.run.requestsPerSecond),
        String(r.run.p99),
        fmt(r.run.cpuMicrosPerRequest ?? 0),
        r.ratio === undefined ? "" : `${fmt(r.ratio, 2)}×`,
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    log("");
    if (rounds > 1) log(`(the best of ${rounds} alternating rounds per server and path)`);
    for (const row of table) log(row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  "));

    const perRequest = counted.filter((q) => !NOT_PER_REQUEST.some(([pattern]) => pattern.test(q)));
    log("");
    log(`database queries while the portal was measured: ${counted.length} in ${fmt(portalRequests)} requests`);
    for (const [pattern, what] of NOT_PER_REQUEST) {
      const n = counted.filter((q) => pattern.test(q)).length;
      if (n) log(`  ${n} × ${what}`);
    }
    if (perRequest.length) log(`  ${perRequest.length} others, e.g.: ${perRequest[0]!.replace(/\s+/g, " ").slice(0, 120)}`);
    log(`fast path: ${fmt(portal.fastPath!.stats.served - served)} answered, ${fmt(portal.fastPath!.stats.passed - passed)} handed to express`);

    const fast = rows.filter((r) => r.server === "portal (fast path)");
    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    log("");
    for (const r of fast) log(`${verdict(r.ratio! >= TARGET_RATIO)}  ${r.path}: portal/bare ${fmt(r.ratio!, 2)}× (target ≥ ${TARGET_RATIO}×)`);
    for (const r of fast) log(`${verdict(r.run.p99 < TARGET_P99_MS)}  ${r.path}: p99 ${r.run.p99} ms (target < ${TARGET_P99_MS} ms)`);
    log(`${verdict(perRequest.length === 0)}  queries caused by requests: ${perRequest.length} in ${fmt(portalRequests)} (target 0)`);
    log(
      `machine: ${os.cpus().length} cores, load average ${fmt(loadBefore, 2)} before the runs, ${fmt(os.loadavg()[0]!, 2)} after (the runs themselves add about 2)`,
    );
    log(
      `(one run on a shared machine: figures move by 10–20 % between runs; a FAIL here does not fail the command. ${fmt((Date.now() - started) / 1000)} s in all)`,
    );
  } finally {
    await cleanup();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
