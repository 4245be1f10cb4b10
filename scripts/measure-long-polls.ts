/**
 * Memory per held long poll (issue 22): one portal (no Remix build) on a throw-away embedded
 * PostgreSQL, N clients holding `GET /api/v1/sites/EIN/ruleset?waitSeconds=60` with the current
 * ETag. The clients are raw `net` sockets in a child process, so their memory is not counted.
 * Prints the portal process's RSS and heap before and while the polls are held (after a GC), the
 * CPU it spends holding them, and — after one release — how soon every client got the new version
 * and how many database reads that cost. A measurement, not a test: figures move with the machine.
 *
 *   node --expose-gc --import tsx scripts/measure-long-polls.ts [--clients 3000] [--express]
 *
 * --express: the portal without its fast path (every long poll held by express).
 * --bare: a bare node:http server holding the same requests (the floor: a socket, node:http's
 * request and response), answering them all with the new bytes once the release has committed.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import fs from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRuleSetVersion } from "../app/services/rule-sets.server";
import { createRuntimeClient } from "../app/services/runtime-clients.server";
import { openDatabase, registerDatabase } from "../app/utils/db.server";
import { loadKeyRing } from "../app/utils/signing.server";
import { createPortalServer } from "../server/app";
import { withoutVitest } from "../server/build-if-needed";
import { prepareDatabase } from "../server/prepare-database";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stdout.write(`${line}\n`);
const { values: args } = parseArgs({
  options: { clients: { type: "string", default: "3000" }, express: { type: "boolean", default: false }, bare: { type: "boolean", default: false } },
});
const clients = Number(args.clients);
if (!Number.isInteger(clients) || clients < 1) throw new Error("--clients takes a positive whole number");

/** The clients: N sockets, opened in batches, each sending one long poll; reports over IPC. */
const CLIENTS = `
import net from "node:net";
const [port, count, path, token, etag] = JSON.parse(process.argv[1]);
const request = "GET " + path + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAuthorization: Bearer " + token + "\\r\\nIf-None-Match: " + etag + "\\r\\n\\r\\n";
const answers = [];
const sockets = [];
let errors = 0;
for (let i = 0; i < count; i++) {
  const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
  let first = true;
  socket.on("data", (chunk) => {
    if (!first) return;
    first = false;
    answers.push([Date.now(), Number(chunk.toString("latin1", 9, 12))]);
  });
  socket.on("error", () => errors++);
  sockets.push(socket);
  if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
}
process.send({ opened: count });
process.on("message", (m) => {
  if (m === "report") process.send({ answers, errors });
  if (m === "end") { for (const s of sockets) s.destroy(); process.disconnect(); }
});
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function settle(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function main() {
  if (!(globalThis as { gc?: unknown }).gc) log("measure: run with node --expose-gc for steadier figures");
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-longpolls-"));
  await fs.chmod(tempDir, 0o755);
  const database = await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: tempDir, C981_DB_LOG: false });
  try {
    const keysDir = path.join(tempDir, "keys");
    await prepareDatabase(database, { seed: "demo", keysDir, log: () => {} });
    registerDatabase(Promise.resolve(database));
    const keyRing = await loadKeyRing(database.db, keysDir);
    const { token } = await createRuntimeClient(database.db, "measure", { name: "measure-long-polls", sites: ["EIN"], reason: "measurement" });
    const portal = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined }, fastPath: !args.express });
    portal.server.listen(0, "127.0.0.1");
    await new Promise((r) => portal.server.once("listening", r));
    const port = (portal.server.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}/api/v1/sites/EIN/ruleset`;
    const headers = { Authorization: `Bearer ${token}` };
    const first = await fetch(base, { headers });
    const etag = first.headers.get("etag")!;
    // Warm both paths (fills the cache; the fast path answers from then on).
    for (let i = 0; i < 50; i++) await (await fetch(`${base}?waitSeconds=${i % 2}`, { headers: { ...headers, "If-None-Match": etag } })).arrayBuffer();
    // The bare baseline: holds every request for the ETag it was given; the release answers them.
    const heldByBare = new Set<http.ServerResponse>();
    const bare = http.createServer((req, res) => {
      if (req.headers["if-none-match"] !== etag) return void res.writeHead(400).end();
      heldByBare.add(res);
      res.on("close", () => heldByBare.delete(res));
    });
    const answerBare = (body: Buffer, newEtag: string) => {
      for (const res of heldByBare) {
        res.writeHead(200, {
          "Content-Type": "application/jose+json; charset=utf-8",
          "Content-Length": body.length,
          ETag: newEtag,
          "Cache-Control": "private, no-cache",
        });
        res.end(body);
      }
      heldByBare.clear();
    };
    const server = args.bare ? bare : portal.server;
    if (args.bare) {
      bare.listen(0, "127.0.0.1");
      await new Promise((r) => bare.once("listening", r));
    }
    const target = (server.address() as AddressInfo).port;
    await sleep(1000);
    const before = await settle();

    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", CLIENTS, JSON.stringify([target, clients, "/api/v1/sites/EIN/ruleset?waitSeconds=60", token, etag])],
      {
        cwd: root,
        env: withoutVitest(process.env),
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
    const messages: { opened?: number; answers?: [number, number][]; errors?: number }[] = [];
    child.on("message", (m) => messages.push(m as (typeof messages)[number]));
    const opening = Date.now();
    while (!messages.some((m) => m.opened)) await sleep(50);
    // Every connection accepted and its request read (the express route holds from its first look).
    for (;;) {
      const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
      if (open >= clients) break;
      if (Date.now() - opening > 30_000) throw new Error(`only ${open} of ${clients} connections after 30 s`);
      await sleep(100);
    }
    await sleep(2000);
    const held = await settle();
    const cpuFrom = process.cpuUsage();
    const wallFrom = Date.now();
    await sleep(5000);
    const cpu = process.cpuUsage(cpuFrom);
    const cpuShare = (cpu.user + cpu.system) / 1000 / (Date.now() - wallFrom);
    child.send("report");
    while (!messages.some((m) => m.answers)) await sleep(50);
    const answeredEarly = messages.find((m) => m.answers)!.answers!.length;
    messages.splice(0);

    const loads = portal.runtimeApi.cache.loads;
    const siteId = (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number;
    await createRuleSetVersion(database.db, { siteId, actor: "measure", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    const committed = Date.now();
    if (args.bare) {
      const renewed = (await portal.runtimeApi.cache.current(siteId))!;
      answerBare(renewed.body, renewed.etag);
    }
    let report: { answers: [number, number][]; errors: number } | undefined;
    for (let i = 0; i < 200; i++) {
      await sleep(100);
      child.send("report");
      while (!messages.some((m) => m.answers)) await sleep(20);
      report = messages.pop() as typeof report;
      messages.splice(0);
      if (report!.answers.length >= clients) break;
    }
    const delays = report!.answers
      .filter(([, status]) => status === 200)
      .map(([at]) => at - committed)
      .sort((a, b) => a - b);
    const statuses: Record<number, number> = {};
    for (const [, status] of report!.answers) statuses[status] = (statuses[status] ?? 0) + 1;
    const at = (q: number) => delays[Math.min(delays.length - 1, Math.ceil(q * delays.length) - 1)] ?? Number.NaN;
    child.send("end");

    const perPoll = (held.rss - before.rss) / clients;
    log(
      `measure: ${args.bare ? "bare node:http" : args.express ? "express only" : "portal with fast path"}, ${clients} long polls held, Node ${process.version}`,
    );
    log(`  RSS   before ${mb(before.rss)}, held ${mb(held.rss)}: ${(perPoll / 1024).toFixed(1)} KB per held long poll`);
    log(`  heap  before ${mb(before.heap)}, held ${mb(held.heap)}: ${((held.heap - before.heap) / clients / 1024).toFixed(1)} KB per held long poll`);
    log(`  CPU while holding: ${(cpuShare * 100).toFixed(1)} % of one core (answered before the release: ${answeredEarly})`);
    log(
      `  release: ${delays.length}/${clients} got the new version (200); after the commit p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms; ` +
        `${portal.runtimeApi.cache.loads - loads} cache loads; statuses ${JSON.stringify(statuses)}; client errors ${report!.errors}`,
    );
    bare.close();
    await portal.close();
  } finally {
    await database.close();
    await fs.rm(tempDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
