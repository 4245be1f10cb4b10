/**
 * `npm run bench:status`: how many runtime status reports one portal instance absorbs (ADR 026).
 * 1,000 runtime clients each send 5 activation reports over their own keep-alive connection, all
 * clients at once (5,000 reports), to `POST /api/v1/sites/EIN/ruleset/status` of a portal built as
 * `npm start` builds it (server/app.ts, without Remix) on a throw-away embedded PostgreSQL — once
 * through express (the status reports' fast path off, as C981_STATUS_FAST_PATH=0 runs it) and once
 * with the fast path ahead of express (the default) — and, in the same run, to a bare node:http
 * server that reads the same POSTs and answers 204, the baseline. The load generator runs in a
 * child process, so it never shares the server's event loop (it does share the machine's cores).
 * Every report must be answered 204 and stored: the bench counts the rows.
 *
 * Options: --clients <n> (1000), --per-client <n> (5), --rounds <n> (best of n, default 1; the
 * three servers alternate within a round), --profile <dir> (a V8 CPU profile of each portal run,
 * `<dir>/<name>-<round>.cpuprofile`, for Chrome DevTools).
 * Prints reports/s for each, the CPU this process (the servers) spent a report — steadier than
 * reports/s on a shared machine — and the fast path's CPU against express's; exits 0 unless
 * something failed to run.
 */
import { spawn } from "node:child_process";
import { Session } from "node:inspector/promises";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createRuntimeClient } from "../app/services/runtime-clients.server";
import { metrics } from "../app/utils/metrics.server";
import { openDatabase } from "../app/utils/db.server";
import { prepareDatabase } from "../server/prepare-database";
import { createPortalServer } from "../server/app";

const log = (line: string) => process.stdout.write(`${line}\n`);
const SITE = "EIN";
const PATH = `/api/v1/sites/${SITE}/ruleset/status`;
const TARGET_PER_SECOND = 2000;

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    "per-client": { type: "string", default: "5" },
    rounds: { type: "string", default: "1" },
    profile: { type: "string" },
  },
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

    // Two portals on the same database, as `npm start` builds them: express only, and the fast path.
    const portal = async (statusFastPath: boolean) => {
      const built = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined, C981_STATUS_REPORTS_PER_MINUTE: 10_000 }, statusFastPath });
      cleanups.push(() => built.close());
      // The site list is read by a runtime's first request through express; here before the clock starts.
      await built.runtimeApi.cache.site(SITE);
      return { built, url: await listen(built.server) };
    };
    const viaExpress = await portal(false);
    const viaFastPath = await portal(true);
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
    const BARE = "bare node:http";
    const EXPRESS = "portal, express";
    const FAST = "portal, fast path";
    for (let round = 0; round < rounds; round++) {
      for (const [name, url] of [
        [BARE, bareUrl],
        [EXPRESS, viaExpress.url],
        [FAST, viaFastPath.url],
      ] as const) {
        const before = await storedCount();
        const taken = viaFastPath.built.statusFastPath!.stats.served;
        // CPU of this process (the servers under test) while the run lasts: less at the mercy of a
        // shared machine than reports/s.
        const profiler = args.profile && name !== BARE ? new Session() : undefined;
        if (profiler) {
          profiler.connect();
          await profiler.post("Profiler.enable");
          await profiler.post("Profiler.start");
        }
        const cpuBefore = process.cpuUsage();
        const run = await load(`${url}${PATH}`, tokens, body);
        const cpu = process.cpuUsage(cpuBefore);
        if (profiler) {
          const { profile } = await profiler.post("Profiler.stop");
          await fs.mkdir(args.profile!, { recursive: true });
          await fs.writeFile(path.join(args.profile!, `${name.replace(/\W+/g, "-")}-${round}.cpuprofile`), JSON.stringify(profile));
          profiler.disconnect();
        }
        const cpuPerReport = (cpu.user + cpu.system) / total;
        const ok = run.statuses["204"] ?? 0;
        if (name === BARE && (ok !== total || run.errors)) throw new Error(`${name}: ${JSON.stringify(run.statuses)}, ${run.errors} errors`);
        const stored = (await storedCount()) - before;
        // Only reports answered 204 count; each of them must be stored.
        if (name !== BARE && stored < ok) throw new Error(`${name}: ${ok} answered 204, ${stored} stored`);
        // The fast path must have taken the reports (not handed them to express).
        if (name === FAST && viaFastPath.built.statusFastPath!.stats.served - taken < total)
          failures.push(`${name}: only ${viaFastPath.built.statusFastPath!.stats.served - taken} of ${total} taken by the fast path`);
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
    const batches = await metrics.statusReportBatch.get();
    const sum = (suffix: string) => batches.values.find((v) => v.metricName === `c981_runtime_status_report_batch_size_${suffix}`)?.value ?? 0;
    const bareRate = best.get(BARE)!;
    const fastRate = best.get(FAST)!;
    log("");
    log(
      `status reports, one instance, ${total} reports from ${clients} clients, best of ${rounds} (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")})`,
    );
    const cpuOf = (name: string) => `${fmt(cpuBest.get(name)!).padStart(5)} µs server CPU a report`;
    log(`  bare node:http     ${fmt(bareRate).padStart(8)} reports/s   ${cpuOf(BARE)}`);
    log(
      `  portal, express    ${fmt(best.get(EXPRESS)!).padStart(8)} reports/s   ${cpuOf(EXPRESS)}   ratio to bare ${(best.get(EXPRESS)! / bareRate).toFixed(2)}`,
    );
    log(`  portal, fast path  ${fmt(fastRate).padStart(8)} reports/s   ${cpuOf(FAST)}   ratio to bare ${(fastRate / bareRate).toFixed(2)}`);
    log(
      `  fast path / express: ${(cpuBest.get(FAST)! / cpuBest.get(EXPRESS)!).toFixed(2)} × the CPU a report, ${(fastRate / best.get(EXPRESS)!).toFixed(2)} × the reports/s`,
    );
    if (sum("count") > 0) log(`  ${fmt(sum("count"))} batches of ${(sum("sum") / sum("count")).toFixed(1)} reports on average (ADR 026)`);
    for (const f of failures) log(`  not as expected: ${f}`);
    log(
      `  target ≥ ${fmt(TARGET_PER_SECOND)} reports/s: ${fastRate >= TARGET_PER_SECOND && failures.length === 0 ? "PASS" : "FAIL"} (issue 22: across 2–3 instances, bench:fanout)`,
    );
  } finally {
    while (cleanups.length) await cleanups.pop()!().catch((error: unknown) => console.error(`bench: cleanup: ${(error as Error).message}`));
  }
}

await main();
