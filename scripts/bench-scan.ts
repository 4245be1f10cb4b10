/**
 * `npm run bench:scan`: how fast scan decisions are (issue 26, item 5; ADR 043).
 *
 * (a) Offline, one core: `compileScanner(document, digest)` (packages/identifiers, ADR 040) on the
 *     demo plant's EIN rule set in its signed schema-version-2 form, deciding a realistic mix of
 *     strings at the steps that scan (mostly the right label, some look-alikes, wrong materials and
 *     GS1 data with and without symbology identifiers), a timer around each call for p99. Baseline
 *     in the same run: matching the same strings against the compiled patterns alone (one
 *     `compilePatternSet` DFA of the site's pattern formats), with the ratio.
 * (b) Online: `POST /api/v1/sites/EIN/scan-decisions` with batches of 1,000 of the same scans over
 *     loopback HTTP, to the runtime API (server/runtime-api.ts, the router `npm start` mounts at
 *     /api/v1) started here on a throw-away database; the load generator (autocannon) runs in a
 *     child process.
 *
 * Database: a throw-away embedded PostgreSQL in a temporary folder, or, with DATABASE_URL, a
 * throw-away database created on that server; either is removed at the end (as bench:pull).
 * Options: --scans <n> (offline scans per run, default 200,000), --rounds <n> (best of n, default 3),
 * --duration <s> (online seconds, default 8), --connections <n> (online, default 4).
 * Targets are printed PASS/FAIL; the exit code is 0 unless something failed to run.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import express from "express";
import postgres from "postgres";
import { scanDecisionsRequestSchema } from "../app/schemas/scan-decisions";
import { createRuntimeClient } from "../app/services/runtime-clients.server";
import { connect, openDatabase, type Database } from "../app/utils/db.server";
import { compilePatternSet, type PatternSegment } from "../packages/identifiers/src/identifier-format";
import { compileScanner, type ScanInput, type ScanRuleSet } from "../packages/identifiers/src/scan-decision";
import { withoutVitest } from "../server/build-if-needed";
import { prepareDatabase } from "../server/prepare-database";
import { createRuntimeApi } from "../server/runtime-api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stdout.write(`${line}\n`);
const SITE = "EIN";
const TARGET_OFFLINE_PER_SECOND = 200_000;
const TARGET_P99_MICROS = 50;
const TARGET_ONLINE_PER_SECOND = 50_000;
const BATCH = 1000;
const GS = "\u001d";

const { values: args } = parseArgs({
  options: {
    scans: { type: "string", default: "200000" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "4" },
  },
});
const scanCount = Number(args.scans);
const rounds = Number(args.rounds);
const duration = Number(args.duration);
const connections = Number(args.connections);
if (![scanCount, rounds, duration, connections].every((n) => Number.isInteger(n) && n >= 1))
  throw new Error("--scans, --rounds, --duration and --connections take positive whole numbers");

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A GS1 key with its mod-10 check digit appended. */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return body + String((10 - (sum % 10)) % 10);
}

/** A deterministic generator (mulberry32): the same mix every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLASS_CHARS: Record<string, string> = {
  digit: "0123456789",
  upper: "ABCDEFGHJKLMNPQRSTUVWXYZ",
  lower: "abcdefghijkmnpqrstuvwxyz",
  alpha: "ABCDEFGHabcdefgh",
  alnum: "ABCDEF0123456789abcdef",
  upperAlnum: "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789",
  hex: "0123456789ABCDEF",
};

/**
 * The mix: at each (parent, step, component) that scans, strings of the formats the component's rule
 * lists (85 %), a label of another material consumed at the step (10 %), and strings of no format (5 %).
 * GS1 formats give raw data with `]C1` (most), bracketed data, and raw data without an identifier.
 */
function mixFor(document: ScanRuleSet, count: number): { scans: ScanInput[]; gs1Share: number } {
  const next = random(981);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const rules = new Map(document.rules.map((r) => [r.partNumber, r]));
  const labelOf = (part: string): { scanned: string; symbologyId?: string } | null => {
    const rule = rules.get(part);
    if (!rule || rule.identifierFormats.length === 0) return null;
    const format = document.identifierFormats[pick(rule.identifierFormats)];
    if (!format) return null;
    const definition = format.definition;
    if (definition.kind === "pattern") {
      return {
        scanned: definition.segments
          .map((s) =>
            "literal" in s
              ? s.literal
              : Array.from({ length: s.min + Math.floor(next() * (s.max - s.min + 1)) }, () => pick([...CLASS_CHARS[s.class]!])).join(""),
          )
          .join(""),
      };
    }
    const value: Record<string, () => string> = {
      "01": () => rule.gtin ?? "09506000134352",
      "21": () => `S${Math.floor(next() * 1e6)}`,
      "10": () => `L${Math.floor(next() * 1e5)}`,
      "00": () => withCheckDigit(`0087123400${String(Math.floor(next() * 1e7)).padStart(7, "0")}`),
    };
    const fixed = new Set(["01", "00"]);
    const ais = definition.ais;
    const values = ais.map((ai) => value[ai]?.() ?? "X1");
    const r = next();
    if (r < 0.2) return { scanned: ais.map((ai, i) => `(${ai})${values[i]}`).join("") };
    const raw = ais.map((ai, i) => `${ai}${values[i]}${!fixed.has(ai) && i < ais.length - 1 ? GS : ""}`).join("");
    return r < 0.9 ? { scanned: raw, symbologyId: "]C1" } : { scanned: raw };
  };
  const lines: { parent: string; step: number; component: string; others: string[] }[] = [];
  for (const rule of document.rules)
    for (const step of rule.routing) {
      const scanned = step.consumes.filter((c) => c.consumptionScan !== "none");
      for (const c of scanned)
        lines.push({
          parent: rule.partNumber,
          step: step.step,
          component: c.component,
          others: step.consumes.map((x) => x.component).filter((x) => x !== c.component),
        });
    }
  const scans: ScanInput[] = [];
  let gs1 = 0;
  while (scans.length < count) {
    const line = pick(lines);
    const r = next();
    const label =
      r < 0.85 ? labelOf(line.component) : r < 0.95 && line.others.length ? labelOf(pick(line.others)) : { scanned: pick(["NOT-A-LABEL", "S0000100", "X"]) };
    if (!label) continue;
    if (label.symbologyId || label.scanned.startsWith("(") || /^\d\d/.test(label.scanned)) gs1++;
    scans.push({ parent: line.parent, step: line.step, expected: line.component, ...label });
  }
  return { scans, gs1Share: gs1 / scans.length };
}

/** autocannon in its own process; the result comes back as JSON on stdout (as bench:pull). */
const RUNNER = `
const [entry, options] = JSON.parse(process.argv[1]);
const autocannon = (await import(entry)).default;
const result = await autocannon(options);
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
process.stdout.write(JSON.stringify({ requestsPerSecond: result.requests.average, p99: result.latency.p99, total: result.requests.total, statuses, errors: result.errors, timeouts: result.timeouts }));
`;
const autocannonEntry = pathToFileURL(createRequire(import.meta.url).resolve("autocannon")).href;
interface Run {
  requestsPerSecond: number;
  p99: number;
  total: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}
function load(options: Record<string, unknown>): Promise<Run> {
  return new Promise((resolve, reject) => {
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

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Runs `work` over every scan with a timer around each call: rate (whole loop) and p50/p99 (µs). */
function measure(scans: readonly ScanInput[], work: (scan: ScanInput) => unknown): { perSecond: number; p50: number; p99: number } {
  const times = new Float64Array(scans.length);
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < scans.length; i++) {
    const t0 = process.hrtime.bigint();
    if (work(scans[i]!)) sink++;
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink < 0) log(String(sink));
  times.sort();
  return { perSecond: scans.length / seconds, p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

async function main() {
  const started = Date.now();
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-bench-scan-"));
  await fs.chmod(tempDir, 0o755);
  const cleanups: (() => Promise<void>)[] = [() => fs.rm(tempDir, { recursive: true, force: true })];
  const cleanup = async () => {
    while (cleanups.length) await cleanups.pop()!().catch((error: unknown) => console.error(`bench: cleanup: ${(error as Error).message}`));
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const loadBefore = os.loadavg()[0]!;
  try {
    const { database, drop } = await openBenchDatabase(tempDir);
    cleanups.push(drop, () => database.close());
    await prepareDatabase(database, { seed: "demo", keysDir: path.join(tempDir, "keys"), log: (line) => log(`bench: ${line}`) });
    const [row] = await database.client`
      select v.version, v.canonical_v2 from rule_set_versions v join sites s on s.id = v.site_id
      where s.code = ${SITE} and v.canonical_v2 is not null order by v.version desc limit 1`;
    if (!row) throw new Error(`${SITE} has no schema-version-2 rule set`);
    const bytes = Buffer.from(row.canonical_v2 as Uint8Array);
    const document = JSON.parse(bytes.toString("utf8")) as ScanRuleSet;
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

    // ---- (a) offline
    const compileStart = process.hrtime.bigint();
    const scanner = compileScanner(document, digest);
    const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;
    const { scans, gs1Share } = mixFor(document, scanCount);
    const patternSegments = Object.values(document.identifierFormats)
      .filter((f) => f.definition.kind === "pattern")
      .map((f) => (f.definition as { segments: readonly PatternSegment[] }).segments);
    const patterns = compilePatternSet(patternSegments);
    log(
      `bench: EIN v${document.version} (${digest.slice(0, 19)}…): ${document.rules.length} rules, ${scanner.matchers.length} steps, ${patternSegments.length} pattern formats; compiled in ${fmt(compileMs)} ms`,
    );
    log(`bench: ${fmt(scans.length)} scans, ${fmt(gs1Share * 100, 1)} % GS1 data; best of ${rounds} rounds`);
    const outcomes = new Map<string, number>();
    for (const scan of scans.slice(0, 20_000)) {
      const code = scanner.decide(scan).reason.code;
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    }
    log(`bench: outcomes (first 20,000): ${[...outcomes].map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`);
    const isGs1 = (s: ScanInput) => s.symbologyId !== undefined || s.scanned.startsWith("(") || /^\d\d/.test(s.scanned);
    const subsets = [
      { name: "decide, the mix", scans, work: (s: ScanInput) => scanner.decide(s) },
      { name: "baseline: patterns alone", scans, work: (s: ScanInput) => patterns.match(s.scanned).length },
      { name: "decide, pattern strings", scans: scans.filter((s) => !isGs1(s)), work: (s: ScanInput) => scanner.decide(s) },
      { name: "decide, GS1 strings", scans: scans.filter(isGs1), work: (s: ScanInput) => scanner.decide(s) },
    ];
    const best = new Map<string, { perSecond: number; p50: number; p99: number }>();
    for (let round = 0; round < rounds; round++)
      for (const subset of subsets) {
        const m = measure(subset.scans, subset.work);
        const kept = best.get(subset.name);
        if (!kept || m.perSecond > kept.perSecond) best.set(subset.name, m);
      }
    const baseline = best.get("baseline: patterns alone")!;
    log("");
    log("offline, one core");
    for (const subset of subsets) {
      const m = best.get(subset.name)!;
      log(
        `  ${subset.name.padEnd(26)} ${fmt(subset.scans.length).padStart(8)} scans  ${fmt(m.perSecond).padStart(11)}/s  p50 ${fmt(m.p50, 2).padStart(6)} µs  p99 ${fmt(m.p99, 2).padStart(7)} µs  ${subset.name.startsWith("baseline") ? "" : `${fmt(m.perSecond / baseline.perSecond, 3)}× baseline`}`,
      );
    }

    // Where the online path's time goes besides deciding: checking and serialising a batch.
    const batch = scans.slice(0, BATCH);
    const decided = batch.map((scan) => scanner.decide(scan));
    const text = JSON.stringify({ scans: batch });
    const perScan = (work: () => unknown, times = 50) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < times; i++) work();
      return Number(process.hrtime.bigint() - t0) / 1000 / times / BATCH;
    };
    log(
      `  per scan in a batch of ${BATCH}: JSON.parse ${fmt(
        perScan(() => JSON.parse(text)),
        2,
      )} µs, schema ${fmt(
        perScan(() => scanDecisionsRequestSchema.safeParse(JSON.parse(text))),
        2,
      )} µs (with parse), decide ${fmt(
        perScan(() => batch.map((s) => scanner.decide(s))),
        2,
      )} µs, JSON.stringify of the decisions ${fmt(
        perScan(() => JSON.stringify({ decisions: decided })),
        2,
      )} µs`,
    );

    // ---- (b) online
    const api = await createRuntimeApi(database);
    cleanups.push(() => api.close());
    const app = express();
    app.use("/api/v1", api.router);
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/sites/${SITE}/scan-decisions`;
    const { token } = await createRuntimeClient(database.db, "bench", { name: "bench-scan", sites: [SITE], reason: "scan benchmark" });
    const body = JSON.stringify({ scans: scans.slice(0, BATCH) });
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const first = await fetch(url, { method: "POST", headers, body });
    if (first.status !== 200) throw new Error(`the portal answered ${first.status}: ${await first.text()}`);
    const answer = Buffer.from(await first.arrayBuffer());
    log("");
    log(`online: batches of ${BATCH} (${fmt(body.length)} bytes in, ${fmt(answer.length)} bytes out), ${connections} connections, 2 s warm-up + ${duration} s`);
    const options = { url, method: "POST", headers, body, connections, duration };
    await load({ ...options, duration: 2 });
    const cpu = process.cpuUsage();
    const run = await load(options);
    const used = process.cpuUsage(cpu);
    if (Object.keys(run.statuses).some((s) => s !== "200") || run.errors || run.timeouts)
      throw new Error(`statuses ${JSON.stringify(run.statuses)}, ${run.errors} errors, ${run.timeouts} timeouts`);
    const online = run.requestsPerSecond * BATCH;
    log(
      `  ${fmt(run.requestsPerSecond, 1)} batches/s = ${fmt(online)} scans/s, p99 ${run.p99} ms per batch, ${fmt((used.user + used.system) / Math.max(1, run.total * BATCH), 2)} µs server CPU per scan`,
    );

    const mix = best.get("decide, the mix")!;
    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    log("");
    log(`${verdict(mix.perSecond >= TARGET_OFFLINE_PER_SECOND)}  offline: ${fmt(mix.perSecond)} decisions/s (target ≥ ${fmt(TARGET_OFFLINE_PER_SECOND)})`);
    log(`${verdict(mix.p99 <= TARGET_P99_MICROS)}  offline: p99 ${fmt(mix.p99, 2)} µs (target ≤ ${TARGET_P99_MICROS} µs)`);
    log(`${verdict(online >= TARGET_ONLINE_PER_SECOND)}  online: ${fmt(online)} scans/s (target ≥ ${fmt(TARGET_ONLINE_PER_SECOND)})`);
    log(`machine: ${os.cpus().length} cores, load average ${fmt(loadBefore, 2)} before, ${fmt(os.loadavg()[0]!, 2)} after`);
    log(`(one run on a shared machine: figures move between runs; a FAIL here does not fail the command. ${fmt((Date.now() - started) / 1000)} s in all)`);
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
