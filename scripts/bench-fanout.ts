/**
 * `npm run bench:fanout`: scale-out, measured (issue 22, ADR 027). N portal instances (`npm start`'s
 * server/main.ts, child processes) on one PostgreSQL behind HAProxy on loopback; runtime clients,
 * each with its own token, spread over the sites, hold long polls; one release at every site; then
 * every client reports its activation. The same topology (same HAProxy, same load generator) in
 * front of bare node:http servers holding the same bytes is the baseline, in the same run.
 *
 * Prints: clients updated, latency after each site's commit (p50/p99/max), errors, RSS per instance
 * idle / held / per held long poll, database connections by application_name, the generator's CPU,
 * status reports absorbed per second (and a SQL count of the stored reports); then PASS/FAIL against
 * the targets. The exit code is 0 unless something failed to run (a busy machine can miss a target).
 *
 * The machine allows 20,000 open files per process (hard limit): each proxied connection costs
 * HAProxy two, so the clients are spread over several HAProxy processes binding the same port
 * (SO_REUSEPORT, HAProxy's default; checked with `ss`), each with `maxconn` under the limit.
 *
 * Options: --clients <n> (10000, the target run), --sites <n> (10; the demo plant's 3 and copies of
 * EIN's rule set), --instances <n> (3), --wait <s> (long-poll waitSeconds, 60), --haproxy <n>
 * (HAProxy processes; default enough for the clients, at least 2), --generators <n> (load-generator
 * processes; default one per 5,000 clients), --skip-baseline.
 * DATABASE_URL: a throw-away database on that server instead of the embedded PostgreSQL.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { ConsumptionScan, TrackingMode } from "../app/domain/tracking-rule";
import { createRuleSetVersion } from "../app/services/rule-sets.server";
import { createRuntimeClient } from "../app/services/runtime-clients.server";
import { connect, openDatabase, type Database } from "../app/utils/db.server";
import { loadKeyRing } from "../app/utils/signing.server";
import { buildIfNeeded, withoutVitest } from "../server/build-if-needed";
import { prepareDatabase } from "../server/prepare-database";
import type { GeneratorProgress, GeneratorResult } from "./bench-fanout/generator";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HAPROXY = "/usr/sbin/haproxy";
/** The machine's hard open-files limit per process; every child's soft limit is raised to it. */
const NOFILE = 20_000;
/** Client connections one HAProxy process takes (2 fds each, plus listeners and checks: < 20,000). */
const HAPROXY_MAXCONN = 9_000;
const STATS_SOCKET_VARIABLE = ["$", "{HAPROXY_STATS_SOCKET}"].join("");
const TARGETS = { p99Ms: 2000, bytesPerPoll: 20 * 1024, reportsPerSecond: 2000 };

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "10000" },
    sites: { type: "string", default: "10" },
    instances: { type: "string", default: "3" },
    wait: { type: "string", default: "60" },
    haproxy: { type: "string" },
    generators: { type: "string" },
    "skip-baseline": { type: "boolean", default: false },
    "print-haproxy-config": { type: "boolean", default: false },
    "keep-logs": { type: "string" },
  },
});
const clientCount = Number(args.clients);
const siteCount = Number(args.sites);
const instanceCount = Number(args.instances);
const waitSeconds = Number(args.wait);
/**
 * How long the clients are given to see a release: two long-poll waits and half a minute (a client
 * whose poll was refused backs off up to 16 s). Later arrivals still count, with their latency.
 */
const UPDATE_WAIT_MS = (2 * waitSeconds + 30) * 1000;
const haproxyCount = Number(args.haproxy ?? Math.max(2, Math.ceil(clientCount / (HAPROXY_MAXCONN - 1000))));
const generatorCount = Number(args.generators ?? Math.max(1, Math.ceil(clientCount / 5000)));
if (![clientCount, siteCount, instanceCount, waitSeconds, haproxyCount, generatorCount].every((n) => Number.isInteger(n) && n >= 1)) {
  throw new Error("--clients, --sites, --instances, --wait, --haproxy and --generators take positive whole numbers");
}
if (waitSeconds > 60) throw new Error("--wait: the runtime API holds a long poll at most 60 s");
if (clientCount > haproxyCount * HAPROXY_MAXCONN) throw new Error(`--haproxy ${haproxyCount} takes at most ${haproxyCount * HAPROXY_MAXCONN} clients`);

// ---------------------------------------------------------------------------------------------
// Children: every one started through `sh -c 'ulimit -n …; exec …'`, so its pid is the program's.

interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}
const children = new Set<Child>();
/** Ctrl-C: cleaning up; whatever the interrupted steps then throw is not reported. */
let interrupted = false;

function start(name: string, command: string, argv: string[], options: { env?: NodeJS.ProcessEnv; logDir: string; ipc?: boolean }): Child {
  const logFile = path.join(options.logDir, `${name}.log`);
  const out = fs.openSync(logFile, "a");
  const child = spawn("sh", ["-c", `ulimit -n ${NOFILE} && exec "$0" "$@"`, command, ...argv], {
    cwd: root,
    env: options.env ?? withoutVitest(process.env),
    stdio: options.ipc ? ["ignore", out, out, "ipc"] : ["ignore", out, out],
  });
  fs.closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const entry = { name, process: child, logFile, exited };
  children.add(entry);
  void exited.then(() => children.delete(entry));
  return entry;
}

async function stop(child: Child, graceMs = 10_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

function tail(child: Child, lines = 15): string {
  try {
    return fs.readFileSync(child.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Resident set size of a process, from /proc/<pid>/status (VmRSS), in bytes. */
function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject).listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });

// ---------------------------------------------------------------------------------------------
// HAProxy

/**
 * The configuration the bench runs, and (with its comments) docs/operations/haproxy.cfg: one
 * frontend, one backend of portal instances, balanced by least connections (long polls are long),
 * checked on /readyz, timeouts above the longest long poll (60 s).
 */
function haproxyConfig(options: { bind: string; servers: { name: string; address: string }[]; statsSocket?: string }): string {
  return `# C-981 behind HAProxy (Debian's haproxy 2.6): the configuration \`npm run bench:fanout\` runs
# (ADR 027). Runtime clients long-poll GET /api/v1/sites/<S>/ruleset?waitSeconds=W (W ≤ 60 s):
# every held poll is one open connection here and one to an instance.
global
    # Client connections this process takes. Each costs two file descriptors (client side and
    # server side); HAProxy raises its own open-files limit to about 2 × maxconn. Where the hard
    # limit is 20,000 per process, 9,000 is the most one process takes: run more processes with
    # this same file (they share the port, SO_REUSEPORT, HAProxy's default), or raise the limit.
    maxconn ${HAPROXY_MAXCONN}
${options.statsSocket ? `    # Per-server current sessions (= held long polls) for the bench: "show stat".\n    stats socket "${options.statsSocket}" mode 600 level operator\n` : ""}
defaults
    mode http
    maxconn ${HAPROXY_MAXCONN}
    timeout connect 5s
    # Above the longest long poll (60 s) with a margin: a held poll is never cut by HAProxy.
    timeout client 75s
    timeout server 75s
    # A request's headers must arrive within this; the idle time allowed between two requests on
    # one client connection (runtimes poll again at once; reports follow an activation within seconds).
    timeout http-request 10s
    timeout http-keep-alive 30s
    timeout queue 30s
    # The client's address for sign-in throttling and the audit trail's sign-in rows
    # (C981_TRUST_PROXY=loopback, or the proxy's address, on the instances).
    option forwardfor

frontend c981
    bind ${options.bind}
    # Plain HTTP here; where HAProxy terminates TLS (bind … ssl crt …) say https, so the portal
    # marks cookies Secure and sends HSTS.
    http-request set-header X-Forwarded-Proto http
    # Normally the ready instances. None ready (the database away, or every instance too busy to
    # answer /readyz in time): the live ones, which still answer pulls from their cache for
    # C981_STALE_IF_ERROR_SECONDS (ADR 017) — never HAProxy's own "no server available".
    use_backend portal if { nbsrv(portal) gt 0 }
    default_backend portal_live

backend portal
    # Long polls pile up on an instance under round robin after a restart; least connections
    # spreads the held polls evenly.
    balance leastconn
    # Ready = the database answers within 2 s and the migrations are applied (whether this instance
    # can sign is reported, not required; ADR 017); a stopping instance answers 503 here first, and
    # HAProxy stops sending before it closes (C981_SHUTDOWN_GRACE_SECONDS above inter × fall).
    option httpchk GET /readyz
    http-check expect status 200
    # A busy instance answers /readyz late: out only after 3 checks in a row failed or took more
    # than 10 s (2 s checks took every instance out at once in the first 10,000-client run, ADR 027).
    timeout check 10s
    default-server inter 3s fall 3 rise 2
${options.servers.map((s) => `    server ${s.name} ${s.address} check`).join("\n")}

backend portal_live
    balance leastconn
    option httpchk GET /livez
    http-check expect status 200
    timeout check 10s
    default-server inter 3s fall 3 rise 2
${options.servers.map((s) => `    server ${s.name} ${s.address} check`).join("\n")}
`;
}

interface HaproxyStats {
  /** Current sessions per server name, both backends (held long polls while they are held). */
  scur: Map<string, number>;
  /** Each server's status in the ready backend. */
  status: Map<string, string>;
}

function haproxyStats(socketPath: string): Promise<HaproxyStats> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let out = "";
    socket.on("data", (c: Buffer) => (out += c.toString()));
    socket.on("error", reject);
    socket.on("end", () => {
      const lines = out.trim().split("\n");
      const header = lines[0]!.replace(/^# /, "").split(",");
      const col = (name: string) => header.indexOf(name);
      const stats: HaproxyStats = { scur: new Map(), status: new Map() };
      for (const line of lines.slice(1)) {
        const cells = line.split(",");
        const proxy = cells[col("pxname")];
        const server = cells[col("svname")]!;
        if (!(proxy === "portal" || proxy === "portal_live") || server === "FRONTEND" || server === "BACKEND") continue;
        // Sessions through either backend; the status is the ready backend's.
        stats.scur.set(server, (stats.scur.get(server) ?? 0) + Number(cells[col("scur")]));
        if (proxy === "portal") stats.status.set(server, cells[col("status")]!);
      }
      resolve(stats);
    });
    socket.write("show stat\n");
  });
}

// ---------------------------------------------------------------------------------------------
// One measured run: the same for the portal and the bare baseline.

interface Backend {
  name: string;
  pid: number;
  port: number;
}

interface RunFigures {
  label: string;
  updated: number;
  latencies: number[];
  errors: Record<string, number>;
  errorSamples: string[];
  repolls: number;
  reconnects: number;
  /** Clients that met at least one error. */
  affected: number;
  rss: { name: string; idle: number; held: number; polls: number }[];
  heldTotal: number;
  connections?: { application: string; count: number }[];
  generatorCpuMs: number;
  generatorWallMs: number;
  reportsOk: number;
  reportsPerSecond: number;
  storedReports?: number;
  timeToHoldMs: number;
}

interface RunOptions {
  label: string;
  backends: Backend[];
  clients: { token: string; site: string }[];
  tempDir: string;
  /** Releases at every site; resolves with each site's commit time (ms since epoch). */
  release: () => Promise<Map<string, number>>;
  trustedKeys: string[];
  connections?: () => Promise<{ application: string; count: number }[]>;
  storedReports?: () => Promise<number>;
}

async function measure(options: RunOptions): Promise<RunFigures> {
  const { label, backends, clients, tempDir } = options;
  const tag = label.replace(/\W+/g, "-");
  const port = await freePort();
  const sockets = Array.from({ length: haproxyCount }, (_, i) => path.join(tempDir, `haproxy-${tag}-${i + 1}.sock`));
  const configFile = path.join(tempDir, `haproxy-${tag}.cfg`);
  await fsp.writeFile(
    configFile,
    haproxyConfig({
      bind: `127.0.0.1:${port}`,
      servers: backends.map((b) => ({ name: b.name, address: `127.0.0.1:${b.port}` })),
      // Each process gets its own socket through the environment (HAProxy expands "${VAR}").
      statsSocket: STATS_SOCKET_VARIABLE,
    }),
  );
  const proxies = sockets.map((socket, i) =>
    start(`haproxy-${tag}-${i + 1}`, HAPROXY, ["-db", "-f", configFile], { env: { ...process.env, HAPROXY_STATS_SOCKET: socket }, logDir: tempDir }),
  );
  const stopProxies = () => Promise.all(proxies.map((p) => stop(p)));
  const generators: Child[] = [];
  try {
    // Every HAProxy process up, listening on the one port, and every server checked UP.
    const stats = () => Promise.all(sockets.map((s) => haproxyStats(s)));
    await waitFor(
      `HAProxy (${label}) to see every server UP`,
      async () => {
        for (const p of proxies) if (p.process.exitCode !== null) throw new Error(`HAProxy exited: ${tail(p)}`);
        try {
          const all = await stats();
          return all.every((s) => backends.every((b) => s.status.get(b.name) === "UP")) ? true : undefined;
        } catch {
          return undefined;
        }
      },
      30_000,
    );
    const listening = execFileSync("ss", ["-ltnH", `sport = :${port}`], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean).length;
    log(
      `bench: ${label}: ${haproxyCount} HAProxy processes on 127.0.0.1:${port} — ${listening} listening sockets on that port (SO_REUSEPORT${listening === haproxyCount ? ", verified" : ": NOT as expected"})`,
    );

    const idle = new Map(backends.map((b) => [b.name, rssOf(b.pid)]));
    const wallStart = Date.now();
    const progress = new Map<Child, GeneratorProgress>();
    const results = new Map<Child, GeneratorResult>();
    const per = Math.ceil(clients.length / generatorCount);
    for (let g = 0; g < generatorCount; g++) {
      const part = clients.slice(g * per, (g + 1) * per);
      if (!part.length) continue;
      const child = start(`generator-${tag}-${g + 1}`, process.execPath, ["--import", "tsx", path.join(root, "scripts/bench-fanout/generator.ts")], {
        logDir: tempDir,
        ipc: true,
      });
      child.process.on("message", (m: GeneratorProgress | GeneratorResult) => {
        if (m.type === "progress") progress.set(child, m);
        else results.set(child, m);
      });
      generators.push(child);
      child.process.send({ type: "init", host: "127.0.0.1", port, waitSeconds, clients: part, concurrency: 250 });
    }
    const sum = (key: keyof Omit<GeneratorProgress, "type">) => [...progress.values()].reduce((a, p) => a + p[key], 0);
    const heldNow = async () => {
      const all = await stats();
      return backends.map((b) => all.reduce((a, s) => a + (s.scur.get(b.name) ?? 0), 0));
    };

    // All held: every client pulled and holds a poll, and HAProxy has that many sessions open.
    let lastLog = 0;
    await waitFor(
      `${clients.length} held long polls (${label})`,
      async () => {
        for (const g of generators) if (g.process.exitCode !== null) throw new Error(`a generator exited: ${tail(g)}`);
        const held = sum("held");
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(`bench: ${label}: ${fmt(sum("pulled"))} pulled, ${fmt(held)} held, ${fmt(sum("errors"))} errors, ${fmt(sum("failed"))} clients gave up`);
        }
        if (held + sum("failed") < clients.length || held === 0) return undefined;
        const server = (await heldNow()).reduce((a, b) => a + b, 0);
        return server >= held ? true : undefined;
      },
      180_000,
      250,
    );
    const timeToHoldMs = Date.now() - wallStart;
    await sleep(1000);
    const heldPer = await heldNow();
    const perProxy = (await stats()).map((st) => [...st.scur.values()].reduce((a, b) => a + b, 0));
    const rss = backends.map((b, i) => ({ name: b.name, idle: idle.get(b.name)!, held: rssOf(b.pid), polls: heldPer[i]! }));
    const heldTotal = sum("held");
    log(
      `bench: ${label}: ${fmt(heldTotal)} long polls held after ${fmt(timeToHoldMs / 1000, 1)} s (per server: ${heldPer.map((n) => fmt(n)).join(", ")}; per HAProxy process: ${perProxy.map((n) => fmt(n)).join(", ")})`,
    );
    const connections = await options.connections?.();

    // The release, and every client's 200 with the new version.
    const commits = await options.release();
    log(`bench: ${label}: released at ${commits.size} sites`);
    const expected = sum("pulled");
    await waitFor(`the new version at every client (${label})`, () => (sum("updated") >= expected ? true : undefined), UPDATE_WAIT_MS, 50).catch(
      (error: unknown) => log(`bench: ${(error as Error).message}: ${sum("updated")}/${expected}`),
    );
    await sleep(500);

    // Every updated client reports its activation, all at once.
    const updatedNow = sum("updated");
    for (const g of generators) g.process.send({ type: "report", trustedKeys: options.trustedKeys });
    const errorsBefore = sum("errors");
    await waitFor(
      `every status report answered (${label})`,
      () => (sum("reported") + sum("errors") - errorsBefore >= updatedNow ? true : undefined),
      120_000,
      50,
    ).catch((error: unknown) => log(`bench: ${(error as Error).message}`));

    for (const g of generators) g.process.send({ type: "finish" });
    await waitFor("the generators' results", () => (results.size === generators.length ? true : undefined), 30_000, 50);
    const generatorWallMs = Date.now() - wallStart;
    const all = [...results.values()];
    const latencies = all.flatMap((r) => r.updates.map(([site, at]) => at - commits.get(site)!)).sort((a, b) => a - b);
    const errors: Record<string, number> = {};
    for (const r of all) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    const windows = all.map((r) => r.reportWindow).filter((w): w is [number, number] => w !== null);
    const reportsOk = all.reduce((a, r) => a + r.reportsOk, 0);
    const reportMs = windows.length ? Math.max(...windows.map((w) => w[1])) - Math.min(...windows.map((w) => w[0])) : 0;
    return {
      label,
      updated: latencies.length,
      latencies,
      errors,
      errorSamples: all.flatMap((r) => r.errorSamples).slice(0, 8),
      repolls: all.reduce((a, r) => a + r.repolls, 0),
      reconnects: all.reduce((a, r) => a + r.reconnects, 0),
      affected: all.reduce((a, r) => a + r.affected, 0),
      rss,
      heldTotal,
      connections,
      generatorCpuMs: all.reduce((a, r) => a + (r.cpu.user + r.cpu.system) / 1000, 0),
      generatorWallMs,
      reportsOk,
      reportsPerSecond: reportMs > 0 ? reportsOk / (reportMs / 1000) : 0,
      storedReports: await options.storedReports?.(),
      timeToHoldMs,
    };
  } finally {
    await Promise.all(generators.map((g) => stop(g, 3000)));
    await stopProxies();
  }
}

// ---------------------------------------------------------------------------------------------

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : Number.NaN;
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;

/** A throw-away database: on DATABASE_URL's server, else a temporary embedded PostgreSQL. */
async function openBenchDatabase(tempDir: string): Promise<{ database: Database; ownerUrl: string; drop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const name = `c981_bench_${randomBytes(4).toString("hex")}`;
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    log(`bench: database ${name} on DATABASE_URL's server (dropped at the end)`);
    return {
      database: connect(url.toString()),
      ownerUrl: url.toString(),
      drop: async () => {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  log(`bench: starting an embedded PostgreSQL in ${tempDir}`);
  const database = await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: tempDir, C981_DB_LOG: false });
  return { database, ownerUrl: database.ownerUrl!, drop: async () => {} };
}

async function main() {
  const started = Date.now();
  const tempDir = await fsp.mkdtemp(path.join(os.tmpdir(), "c981-bench-fanout-"));
  // As root the embedded server runs as the `postgres` OS user, who must reach pg/ inside.
  await fsp.chmod(tempDir, 0o755);
  const cleanups: (() => Promise<unknown>)[] = [
    async () => {
      // --keep-logs <dir>: the instances', HAProxy's and the generators' output, kept.
      if (args["keep-logs"]) {
        await fsp.mkdir(args["keep-logs"], { recursive: true });
        for (const name of (await fsp.readdir(tempDir)).filter((n) => n.endsWith(".log") || n.endsWith(".cfg")))
          await fsp.copyFile(path.join(tempDir, name), path.join(args["keep-logs"], name));
        log(`bench: logs kept in ${args["keep-logs"]}`);
      }
      await fsp.rm(tempDir, { recursive: true, force: true });
    },
  ];
  // Once, whoever asks first (the end of the run or Ctrl-C); the other waits for the same.
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([...children].map((c) => stop(c, 5000)));
      while (cleanups.length) await cleanups.pop()!().catch((error: unknown) => console.error(`bench: cleanup: ${(error as Error).message}`));
    })());
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log("bench: interrupted; cleaning up…");
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    if (!fs.existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: apt-get install -y haproxy`);
    buildIfNeeded(root, log);
    const keysDir = path.join(tempDir, "keys");
    const { database, ownerUrl, drop } = await openBenchDatabase(tempDir);
    cleanups.push(drop, () => database.close());
    const db = database.db;
    await prepareDatabase(database, { seed: "demo", keysDir, log: (line) => log(`bench: ${line}`) });
    const keyRing = await loadKeyRing(db, keysDir);

    // ---- Setup: sites with a rule set in force, clients with their own tokens. ----
    const setupStart = Date.now();
    // Plain SQL for the bench's own reads (scripts/ reach the database through services or SQL).
    const sql = database.client;
    const [{ server_version: pgVersion } = { server_version: "?" }] = await sql<{ server_version: string }[]>`show server_version`;
    const haproxyVersion = /version (\S+)/.exec(execFileSync(HAPROXY, ["-v"], { encoding: "utf8" }))?.[1] ?? "?";
    const demoSites = [...(await sql<{ id: number; code: string }[]>`select id, code from sites order by id`)];
    const benchSites = demoSites.slice(0, siteCount);
    if (siteCount > demoSites.length) {
      // More sites: EIN's rules in force (those printed in plant-wide formats) at each new one.
      const rules = (
        await sql<
          {
            materialId: number;
            trackingMode: TrackingMode;
            containerTracking: boolean;
            identifierFormatCodes: string[];
            consumptionScan: ConsumptionScan;
          }[]
        >`
          select r.material_id as "materialId", r.tracking_mode as "trackingMode", r.container_tracking as "containerTracking",
                 r.identifier_format_codes as "identifierFormatCodes", r.consumption_scan as "consumptionScan"
          from tracking_rules r join sites s on s.id = r.site_id
          where s.code = 'EIN' and r.effective_to is null
            and not exists (select 1 from unnest(r.identifier_format_codes) c
                            where c not in (select code from identifier_formats where site_id is null))`
      ).map((r) => ({ ...r }));
      if (!rules.length) throw new Error("bench: EIN has no rules to copy to the extra sites");
      for (let i = demoSites.length + 1; i <= siteCount; i++) {
        const code = `F${String(i).padStart(2, "0")}`;
        // Sites have no service of their own (the demo seed and the tests insert them the same way).
        const [site] = await sql<{ id: number; code: string }[]>`
          insert into sites (code, name, time_zone) values (${code}, ${`Fan-out site ${i}`}, 'UTC') returning id, code`;
        await createRuleSetVersion(db, { siteId: site!.id, actor: "bench", reason: "fan-out bench: first rule set", changes: rules }, keyRing);
        benchSites.push(site!);
      }
    }
    const clients: { token: string; site: string }[] = new Array(clientCount);
    let made = 0;
    const worker = async () => {
      for (;;) {
        const i = made++;
        if (i >= clientCount) return;
        const site = benchSites[i % benchSites.length]!.code;
        const { token } = await createRuntimeClient(db, "bench", {
          name: `fanout-${String(i + 1).padStart(5, "0")}`,
          sites: [site],
          reason: "fan-out benchmark",
        });
        clients[i] = { token, site };
        if ((i + 1) % 2000 === 0) log(`bench: ${fmt(i + 1)} clients created`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const setupMs = Date.now() - setupStart;
    log(
      `bench: setup: ${benchSites.length} sites (${benchSites.map((s) => s.code).join(", ")}), ${fmt(clientCount)} runtime clients with their own tokens (createRuntimeClient, as clients:create) in ${fmt(setupMs / 1000, 1)} s`,
    );
    const currentVersions = async () =>
      new Map(
        (
          await sql<{ siteId: number; version: number; jws: string; id: number }[]>`
            select distinct on (site_id) site_id as "siteId", version, jws, id from rule_set_versions
            where site_id in ${sql(benchSites.map((s) => s.id))} order by site_id, version desc`
        ).map((r) => [r.siteId, r]),
      );
    const before = await currentVersions();
    const jwsSize = Math.max(...[...before.values()].map((v) => Buffer.byteLength(v.jws ?? "")));

    // ---- The portal: N instances of server/main.ts on the one database. ----
    const appUrl = database.url;
    const instances: { child: Child; port: number; name: string }[] = [];
    for (let i = 1; i <= instanceCount; i++) {
      const port = await freePort();
      const url = new URL(appUrl);
      url.searchParams.set("application_name", `c981-i${i}`);
      const env: NodeJS.ProcessEnv = {
        ...withoutVitest(process.env),
        NODE_ENV: "production",
        DATABASE_URL: url.toString(),
        C981_MIGRATE_URL: ownerUrl,
        PORT: String(port),
        HOST: "127.0.0.1",
        C981_TRUST_PROXY: "loopback",
        C981_SEED: "none",
        C981_SIGNING_KEYS_DIR: keysDir,
        C981_DATA_DIR: path.join(tempDir, `instance-${i}`),
      };
      const child = start(`portal-i${i}`, process.execPath, ["--import", "./server/stop-early.mjs", "--import", "tsx", "server/main.ts"], {
        env,
        logDir: tempDir,
      });
      instances.push({ child, port, name: `i${i}` });
    }
    const stopInstances = () => Promise.all(instances.map((i) => stop(i.child, 15_000)));
    cleanups.push(stopInstances);
    for (const instance of instances) {
      await waitFor(
        `portal ${instance.name} ready`,
        async () => {
          if (instance.child.process.exitCode !== null) throw new Error(`portal ${instance.name} exited: ${tail(instance.child)}`);
          const ok = await fetch(`http://127.0.0.1:${instance.port}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          );
          return ok ? true : undefined;
        },
        120_000,
        250,
      );
    }
    // Idle means settled: the genealogy index each instance loads in the background after it
    // listens is in memory (else that load lands in "held" and looks like the polls' cost).
    for (const instance of instances) {
      await waitFor(
        `portal ${instance.name}'s genealogy index`,
        // Text or JSON logs (C981_LOG_FORMAT): the message is the same.
        () => (/genealogy index/.test(fs.readFileSync(instance.child.logFile, "utf8")) ? true : undefined),
        60_000,
        250,
      ).catch((error: unknown) => log(`bench: ${(error as Error).message} (idle RSS measured anyway)`));
    }
    await sleep(2000);
    log(`bench: ${instanceCount} portal instances ready (ports ${instances.map((i) => i.port).join(", ")}), ${jwsSize}-byte JWS at most`);
    const jwks = (await (await fetch(`http://127.0.0.1:${instances[0]!.port}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const trustedKeys = jwks.keys.map((k) => k.kid);

    const owner = postgres(ownerUrl, { max: 1, onnotice: () => {}, connection: { application_name: "c981-bench-observer" } });
    cleanups.push(() => owner.end({ timeout: 5 }));
    const connectionsUsed = async () =>
      (
        await owner<{ application: string; count: number }[]>`
          select coalesce(nullif(application_name, ''), '(none)') as application, count(*)::int as count
          from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
          group by 1 order by 1`
      ).map((r) => ({
        // The bench's own pool: "c981", or "c981-<host>-<pid>" where instances name their pools so.
        application: r.application === "c981" || r.application.endsWith(`-${process.pid}`) ? `${r.application} (this bench's own pool)` : r.application,
        count: r.count,
      }));

    const releaseIds: number[] = [];
    let storedIn = "runtime_client_status";
    const portal = await measure({
      label: "portal",
      backends: instances.map((i) => ({ name: i.name, pid: i.child.process.pid!, port: i.port })),
      clients,
      tempDir,
      trustedKeys,
      connections: connectionsUsed,
      release: async () => {
        // One release per site, all at once (they queue on the audit chain's lock); each site's
        // clients are timed from the moment its own transaction committed.
        const commits = new Map<string, number>();
        await Promise.all(
          benchSites.map(async (site) => {
            const created = await createRuleSetVersion(db, { siteId: site.id, actor: "bench", reason: "fan-out bench: the release", changes: [] }, keyRing);
            commits.set(site.code, Date.now());
            releaseIds.push(created.id);
          }),
        );
        return commits;
      },
      storedReports: async () => {
        // Where the portal stores activation reports: their own append-only table where it exists
        // (issue 22, ADR 026; one row per report, so clients are counted once), else the latest
        // status per client and site.
        const [{ own } = { own: false }] = await owner<{ own: boolean }[]>`select to_regclass('public.runtime_status_reports') is not null as own`;
        const [row] = own
          ? await owner<{ count: number }[]>`
              select count(distinct s.runtime_client_id)::int as count from runtime_status_reports s
              join runtime_clients c on c.id = s.runtime_client_id
              join rule_set_versions v on v.site_id = s.site_id and v.version = s.version
              where s.kind = 'activation' and c.name like 'fanout-%' and v.id = any(${releaseIds}::int[])`
          : await owner<{ count: number }[]>`
              select count(*)::int as count from runtime_client_status s
              join runtime_clients c on c.id = s.runtime_client_id
              join rule_set_versions v on v.site_id = s.site_id and v.version = s.version
              where c.name like 'fanout-%' and v.id = any(${releaseIds}::int[])`;
        storedIn = own ? "runtime_status_reports" : "runtime_client_status";
        return row!.count;
      },
    });
    await stopInstances();

    // ---- The baseline: bare node:http servers, the same bytes, the same HAProxy and generator. ----
    let baseline: RunFigures | undefined;
    if (!args["skip-baseline"]) {
      const after = await currentVersions();
      const bare: { child: Child; port: number; name: string }[] = [];
      for (let i = 1; i <= instanceCount; i++) {
        const port = await freePort();
        const child = start(`bare-${i}`, process.execPath, ["--import", "tsx", path.join(root, "scripts/bench-fanout/bare-server.ts")], {
          env: { ...withoutVitest(process.env), PORT: String(port) },
          logDir: tempDir,
          ipc: true,
        });
        await new Promise<void>((resolve, reject) => {
          child.process.once("message", () => resolve());
          void child.exited.then(() => reject(new Error(`bare server exited: ${tail(child)}`)));
        });
        child.process.send({ type: "sites", sites: Object.fromEntries(benchSites.map((s) => [s.code, before.get(s.id)!.jws])) });
        bare.push({ child, port, name: `b${i}` });
      }
      try {
        baseline = await measure({
          label: "bare node:http",
          backends: bare.map((b) => ({ name: b.name, pid: b.child.process.pid!, port: b.port })),
          clients,
          tempDir,
          trustedKeys,
          release: async () => {
            const commits = new Map<string, number>();
            for (const site of benchSites) {
              commits.set(site.code, Date.now());
              for (const b of bare) b.child.process.send({ type: "release", site: site.code, jws: after.get(site.id)!.jws });
            }
            return commits;
          },
        });
      } finally {
        await Promise.all(bare.map((b) => stop(b.child, 3000)));
      }
    }

    // ---- Figures. ----
    const runs = [portal, ...(baseline ? [baseline] : [])];
    const errorCount = (r: RunFigures) => Object.values(r.errors).reduce((a, b) => a + b, 0);
    // All servers together: one server's figure moves with its garbage collector's timing.
    const perPoll = (r: RunFigures) =>
      r.rss.reduce((a, x) => a + x.held - x.idle, 0) /
      Math.max(
        1,
        r.rss.reduce((a, x) => a + x.polls, 0),
      );
    log("");
    log(
      `${fmt(clientCount)} clients over ${benchSites.length} sites, ${instanceCount} instances, ${haproxyCount} HAProxy processes (SO_REUSEPORT), ${generatorCount} generator process(es), waitSeconds=${waitSeconds}`,
    );
    const table: string[][] = [["", ...runs.map((r) => r.label), ...(baseline ? ["portal/bare"] : [])]];
    const row = (name: string, value: (r: RunFigures) => number, show: (n: number) => string, ratio = true) =>
      table.push([name, ...runs.map((r) => show(value(r))), ...(baseline ? [ratio ? `${fmt(value(portal) / value(baseline), 2)}×` : ""] : [])]);
    row(
      "clients updated",
      (r) => r.updated,
      (n) => `${fmt(n)}/${fmt(clientCount)}`,
      false,
    );
    row(
      "latency p50 after commit",
      (r) => percentile(r.latencies, 50),
      (n) => `${fmt(n)} ms`,
    );
    row(
      "latency p99 after commit",
      (r) => percentile(r.latencies, 99),
      (n) => `${fmt(n)} ms`,
    );
    row(
      "latency max after commit",
      (r) => r.latencies.at(-1) ?? Number.NaN,
      (n) => `${fmt(n)} ms`,
    );
    row("errors", errorCount, (n) => fmt(n), false);
    row(
      "time to hold every poll",
      (r) => r.timeToHoldMs,
      (n) => `${fmt(n / 1000, 1)} s`,
    );
    row("RSS idle, all servers", (r) => r.rss.reduce((a, x) => a + x.idle, 0), mb);
    row("RSS held, all servers", (r) => r.rss.reduce((a, x) => a + x.held, 0), mb);
    row("RSS per held poll (all servers)", perPoll, (n) => `${fmt(n / 1024, 1)} KB`);
    row(
      "status reports absorbed",
      (r) => r.reportsPerSecond,
      (n) => `${fmt(n)} /s`,
    );
    row(
      "generator CPU",
      (r) => r.generatorCpuMs,
      (n) => `${fmt(n / 1000, 1)} s`,
    );
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table) log(r.map((cell, i) => (i ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  "));
    log("");
    for (const r of runs) {
      log(`${r.label}: per server (RSS idle → held, held polls, per poll):`);
      for (const x of r.rss)
        log(`  ${x.name}: ${mb(x.idle)} → ${mb(x.held)}, ${fmt(x.polls)} held, ${x.polls ? fmt((x.held - x.idle) / x.polls / 1024, 1) : "–"} KB per poll`);
      log(
        `  errors: ${errorCount(r) ? `${JSON.stringify(r.errors)} at ${fmt(r.affected)} clients` : "none"}; long polls re-sent after a 304 (wait ended): ${fmt(r.repolls)}; reconnects: ${fmt(r.reconnects)}`,
      );
      for (const sample of r.errorSamples) log(`    e.g. ${sample.replace(/\s+/g, " ")}`);
      log(
        `  generator: ${fmt(r.generatorCpuMs / 1000, 1)} s CPU in ${fmt(r.generatorWallMs / 1000, 1)} s (${fmt((100 * r.generatorCpuMs) / r.generatorWallMs)} % of one core); status reports: ${fmt(r.reportsOk)} answered 204 at ${fmt(r.reportsPerSecond)}/s`,
      );
      if (r.connections) log(`  database connections while held: ${r.connections.map((c) => `${c.application} ${c.count}`).join(", ")}`);
      if (r.storedReports !== undefined)
        log(`  reports stored (SQL count of clients with a ${storedIn} row naming its released version): ${fmt(r.storedReports)}`);
    }

    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    const p99 = percentile(portal.latencies, 99);
    log("");
    log(`${verdict(portal.updated === clientCount)}  clients updated: ${fmt(portal.updated)}/${fmt(clientCount)}`);
    log(`${verdict(p99 <= TARGETS.p99Ms)}  p99 after the release commits: ${fmt(p99)} ms (target ≤ ${fmt(TARGETS.p99Ms)} ms)`);
    log(`${verdict(errorCount(portal) === 0)}  errors: ${fmt(errorCount(portal))} (target 0)`);
    log(
      `${perPoll(portal) > 0 ? verdict(perPoll(portal) <= TARGETS.bytesPerPoll) : "N/A "}  RSS per held long poll: ${fmt(perPoll(portal) / 1024, 1)} KB, (held − idle) / held over all instances (target ≤ 20 KB${perPoll(portal) > 0 ? "" : "; not positive: the garbage collector freed more than the polls took, no figure"})`,
    );
    log(
      `${verdict(portal.reportsPerSecond >= TARGETS.reportsPerSecond && portal.reportsOk === portal.updated && (portal.storedReports ?? 0) >= portal.reportsOk)}  status reports: ${fmt(portal.reportsPerSecond)}/s (target ≥ ${fmt(TARGETS.reportsPerSecond)}/s); ${fmt(portal.reportsOk)} answered 204 and ${fmt(portal.storedReports ?? 0)} stored (SQL count) for ${fmt(portal.updated)} updated clients`,
    );
    log(`software: Linux ${os.release()}, node ${process.version}, HAProxy ${haproxyVersion}, PostgreSQL ${pgVersion}`);
    log(
      `machine: ${os.cpus().length} cores, load average ${fmt(os.loadavg()[0]!, 2)} at the end; setup ${fmt(setupMs / 1000, 1)} s; ${fmt((Date.now() - started) / 1000)} s in all (a shared machine: figures are noisy; a FAIL does not fail the command)`,
    );
  } finally {
    await cleanup();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

if (args["print-haproxy-config"]) {
  // docs/operations/haproxy.cfg is this, for three instances on two hosts.
  process.stdout.write(
    haproxyConfig({
      bind: "*:80",
      servers: [
        { name: "portal1", address: "10.0.0.11:3000" },
        { name: "portal2", address: "10.0.0.12:3000" },
        { name: "portal3", address: "10.0.0.12:3001" },
      ],
    }),
  );
  process.exit(0);
}

main().then(
  () => {
    if (!interrupted) process.exit(0);
  },
  (error: unknown) => {
    if (interrupted) return;
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
