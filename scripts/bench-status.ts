/**
 * `npm run bench:status`: how many runtime status reports one portal instance absorbs (ADR 026).
 * 1,000 runtime clients each send 5 activation reports over their own keep-alive connection, all
 * clients at once (5,000 reports), to `POST /api/v1/sites/EIN/ruleset/status` of the runtime API
 * (express, as `npm start` mounts it) on a throw-away embedded PostgreSQL — and, in the same run,
 * to a bare node:http server that reads the same POSTs and answers 204, the baseline. The load
 * generator runs in a child process, so it never shares the server's event loop (it does share
 * the machine's cores). Every report must be answered 204 and stored: the bench counts the rows.
 *
 * Options: --clients <n> (1000), --per-client <n> (5), --rounds <n> (best of n, default 1).
 * Prints reports/s for both, the ratio, and the CPU this process (the server) spent a report; exits
 * 0 unless something failed to run.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import express from "express";
import { createRuntimeClient } from "../app/services/runtime-clients.server";
import { metrics } from "../app/utils/metrics.server";
import { openDatabase } from "../app/utils/db.server";
import { prepareDatabase } from "../server/prepare-database";
import { createRuntimeApi } from "../server/runtime-api";

const log = (line: string) => process.stdout.write(`${line}\n`);
const SITE = "EIN";
const PATH = `/api/v1/sites/${SITE}/ruleset/status`;
const TARGET_PER_SECOND = 2000;

const { values: args } = parseArgs({
  options: { clients: { type: "string", default: "1000" }, "per-client": { type: "string", default: "5" }, rounds: { type: "string", default: "1" } },
});
const clients = Number(args.clients);
const perClient = Number(args["per-client"]);
const rounds = Number(args.rounds);
if (![clients, perClient, rounds].every((n) => Number.isInteger(n) && n >= 1))
  throw new Error("--clients, --per-client and --rounds take positive whole numbers");

/** The load generator: one keep-alive socket per client, each sending its reports one after the other. */
const RUNNER = `
const http = await import("node:http");
const [url, tokens, perClient, body] = JSON.parse(process.argv[1]);
const target = new URL(url);
const statuses = {};
let errors = 0;
const started = performance.now();
await Promise.all(tokens.map(async (token) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < perClient; i++) {
    await new Promise((resolve) => {
      const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent,
        headers: { Authorization: "Bearer " + token, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", () => { errors++; resolve(); });
      req.end(body);
    });
  }
  agent.destroy();
}));
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, statuses, errors }));
`;

interface Run {
  seconds: number;
  statuses: Record<string, number>;
  errors: number;
}

function load(url: string, tokens: string[], body: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, JSON.stringify([url, tokens, perClient, body])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited ${code}: ${err.trim()}`));
      resolve(JSON.parse(out) as Run);
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main() {
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-bench-status-"));
  await fs.chmod(tempDir, 0o755);
  const cleanups: (() => Promise<unknown>)[] = [() => fs.rm(tempDir, { recursive: true, force: true })];
  try {
    log(`bench: starting an embedded PostgreSQL in ${tempDir}`);
    const database = await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: tempDir, C981_DB_LOG: false });
    cleanups.push(() => database.close());
    await prepareDatabase(database, { seed: "demo", keysDir: path.join(tempDir, "keys"), log: (line) => log(`bench: ${line}`) });
    const [version] = await database.client<
      { version: number; digest: string }[]
    >`select v.version, v.digest from rule_set_versions v join sites s on s.id = v.site_id where s.code = ${SITE} order by v.version desc limit 1`;
    const body = JSON.stringify({ version: version!.version, digest: `sha256:${version!.digest}`, activatedAt: new Date().toISOString(), trustedKeys: [] });
    log(`bench: creating ${clients} runtime clients`);
    const tokens: string[] = [];
    for (let i = 0; i < clients; i++) {
      tokens.push((await createRuntimeClient(database.db, "bench", { name: `bench-status-${i}`, sites: [SITE], reason: "status benchmark" })).token);
    }

    const api = await createRuntimeApi(database, { statusReportsPerMinute: 1_000_000 });
    cleanups.push(() => api.close());
    const app = express();
    app.use("/api/v1", api.router);
    const portal = http.createServer(app);
    const portalUrl = await listen(portal);
    cleanups.push(() => new Promise<void>((r) => (portal.close(() => r()), portal.closeAllConnections())));
    const bare = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    const bareUrl = await listen(bare);
    cleanups.push(() => new Promise<void>((r) => (bare.close(() => r()), bare.closeAllConnections())));

    const total = clients * perClient;
    // Before ADR 026 the reports were audit rows: the same bench measures that code too.
    const [{ own } = { own: false }] = await database.client<{ own: boolean }[]>`select to_regclass('runtime_status_reports') is not null as own`;
    const storedCount = async () =>
      (
        await database.client<{ n: number }[]>`select count(*)::int as n from ${database.client(own ? "runtime_status_reports" : "audit_trail")} ${
          own ? database.client`` : database.client`where action = 'runtime_client.status'`
        }`
      )[0]!.n;
    log(`bench: ${clients} clients × ${perClient} reports = ${total} per run, all clients at once`);
    const best = new Map<string, number>();
    const cpuBest = new Map<string, number>();
    const failures: string[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const [name, url] of [
        ["bare node:http", bareUrl],
        ["portal", portalUrl],
      ] as const) {
        const before = await storedCount();
        // CPU of this process (the server under test) while the run lasts: less at the mercy of a
        // shared machine than reports/s.
        const cpuBefore = process.cpuUsage();
        const run = await load(`${url}${PATH}`, tokens, body);
        const cpu = process.cpuUsage(cpuBefore);
        const cpuPerReport = (cpu.user + cpu.system) / total;
        const ok = run.statuses["204"] ?? 0;
        if (name !== "portal" && (ok !== total || run.errors)) throw new Error(`${name}: ${JSON.stringify(run.statuses)}, ${run.errors} errors`);
        const stored = (await storedCount()) - before;
        // Only reports answered 204 count; each of them must be stored.
        if (name === "portal" && stored < ok) throw new Error(`portal: ${ok} answered 204, ${stored} stored`);
        const others = Object.entries(run.statuses).filter(([code]) => code !== "204");
        const perSecond = ok / run.seconds;
        log(
          `bench: ${name}: ${fmt(perSecond)} reports/s stored (${run.seconds.toFixed(2)} s, server CPU ${Math.round(cpuPerReport)} µs a report)${others.length || run.errors ? ` — NOT ALL STORED: ${JSON.stringify(run.statuses)}, ${run.errors} errors` : ""}`,
        );
        if (others.length || run.errors) failures.push(`${name}: ${JSON.stringify(run.statuses)}, ${run.errors} errors`);
        best.set(name, Math.max(best.get(name) ?? 0, perSecond));
        cpuBest.set(name, Math.min(cpuBest.get(name) ?? Number.POSITIVE_INFINITY, cpuPerReport));
      }
    }
    const portalRate = best.get("portal")!;
    const batches = await metrics.statusReportBatch.get();
    const sum = (suffix: string) => batches.values.find((v) => v.metricName === `c981_runtime_status_report_batch_size_${suffix}`)?.value ?? 0;
    const bareRate = best.get("bare node:http")!;
    log("");
    log(`status reports, one instance, ${total} reports from ${clients} clients (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"})`);
    const cpuOf = (name: string) => `${fmt(cpuBest.get(name)!).padStart(5)} µs server CPU a report`;
    log(`  bare node:http  ${fmt(bareRate).padStart(8)} reports/s   ${cpuOf("bare node:http")}`);
    log(`  portal          ${fmt(portalRate).padStart(8)} reports/s   ${cpuOf("portal")}   ratio ${(portalRate / bareRate).toFixed(2)}`);
    if (sum("count") > 0) log(`  ${fmt(sum("count"))} batches of ${(sum("sum") / sum("count")).toFixed(1)} reports on average (ADR 026)`);
    for (const f of failures) log(`  not every report answered 204: ${f}`);
    log(
      `  target ≥ ${fmt(TARGET_PER_SECOND)} reports/s: ${portalRate >= TARGET_PER_SECOND && failures.length === 0 ? "PASS" : "FAIL"} (issue 22: across 2–3 instances, bench:fanout)`,
    );
  } finally {
    while (cleanups.length) await cleanups.pop()!().catch((error: unknown) => console.error(`bench: cleanup: ${(error as Error).message}`));
  }
}

await main();
