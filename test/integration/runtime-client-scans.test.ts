/**
 * Scan decisions at the station (issue 26 item 2, ADR 042), driven as a station drives them: the
 * reference client's CLI as a child process (`node --import tsx clients/runtime/src/cli.ts`). The
 * client pulls schema version 2 from a portal (express in this process over the demo plant, real
 * PostgreSQL); the portal stops; `scan --lines` answers with the rule set on disk; `report` keeps
 * the batch while the portal is away; the portal returns, the batch is stored once, a resend of
 * the same batch stores nothing. Expected decisions are written by hand from the demo plant
 * (app/seed/demo-plant.ts): at EIN, SUB-1005 is serialized from version 2 (format EIN-SER,
 * "S" + 8 digits) and consumed at FIN-1005 step 10 (EIN-WC10) with ASM-1005, whose lots use
 * EIN-LOT (9 upper-case letters or digits); RES-1005 (lot, in totes: EIN-LOT + EIN-CTR, "C" + 8
 * digits) is consumed at SUB-1005 step 10 (EIN-WC30); step 20 of every parent consumes nothing.
 */
import { randomUUID } from "node:crypto";
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanVolumes } from "../../app/queries/runtime-clients.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { publicJwks } from "../../app/utils/signing.server";
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

const root = path.resolve(__dirname, "../..");
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let api: RuntimeApi;
let app: express.Express;
let portal: http.Server | null = null;
let port = 0;
let token = "";
let clientId = 0;
let stateDir = "";
const pins: string[] = [];
const tmp: string[] = [];
let keyRing: Awaited<ReturnType<typeof testKeyRing>>;
let einId = 0;

async function startPortal(): Promise<void> {
  portal = http.createServer(app);
  portal.listen(port, "127.0.0.1");
  await new Promise((r) => portal!.once("listening", r));
  port = (portal.address() as AddressInfo).port;
}

async function stopPortal(): Promise<void> {
  const p = portal!;
  portal = null;
  p.closeAllConnections();
  await new Promise<void>((r) => p.close(() => r()));
}

/** Runs the CLI; resolves with its exit code and output. */
function cli(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "clients/runtime/src/cli.ts", ...args], {
      cwd: root,
      env: { ...process.env, C981_RUNTIME_TOKEN: token },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const common = () => ["--site", "EIN", "--trust", pins.join(","), "--state-dir", stateDir];
const withUrl = () => ["--url", `http://127.0.0.1:${port}`, ...common()];

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  einId = (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number;
  // A fresh, unexpired version in force (the rules of version 2 onwards: SUB-1005 serialized).
  await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "scan test setup", changes: [], kind: "renewal" }, keyRing);
  app = express();
  app.get(
    "/.well-known/jwks.json",
    (_req, res, next) => void publicJwks(database.db).then((jwks) => void res.type("application/jwk-set+json").send(JSON.stringify(jwks)), next),
  );
  api = await createRuntimeApi(database, { statusReportsPerMinute: 10_000 });
  app.use("/api/v1", api.router);
  await startPortal();
  ({ token } = await createRuntimeClient(database.db, "station-ein-wc10", { name: "station-ein-wc10", sites: ["EIN"], reason: "scan test" }));
  clientId = (await database.client`select id from runtime_clients where name = 'station-ein-wc10'`)[0]!.id as number;
  pins.push(...keyRing.active.map((k) => k.kid));
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-scans-"));
  tmp.push(stateDir);
}, 180_000);

afterAll(async () => {
  if (portal) await stopPortal();
  await api?.close();
  for (const dir of tmp) await fs.rm(dir, { recursive: true, force: true });
});

type Answer = {
  id?: string;
  outcome?: string;
  reason?: { code: string; message: string };
  step?: number;
  decidedBy?: { ruleId: string | null; requirementId: string | null; ruleSetVersion: number; digest: string };
  error?: { code: string; field: string | null; message: string };
};

describe("runtime-client scan --lines, offline, then reported (ADR 042)", () => {
  let version = 0;
  let digest = "";

  it("pulls schema version 2 while the portal is up", async () => {
    const pulled = await cli([...withUrl(), "--once", "--wait-seconds", "0"]);
    expect(pulled.code).toBe(0);
    const status = pulled.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; version: number; digest: string })
      .find((e) => e.event === "status")!;
    const [row] =
      await database.client`select version, digest_v2 from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' order by version desc limit 1`;
    expect(status.version).toBe(row!.version);
    expect(status.digest).toBe(`sha256:${row!.digest_v2}`);
    version = status.version;
    digest = status.digest;
  }, 60_000);

  it("with the portal stopped, answers each line with the decision and the rule that decided; a bad line answers an error naming the field", async () => {
    await stopPortal();
    const lines = [
      // 1. A SUB-1005 serial where it is kitted: S + 8 digits is also a 9-character ASM-1005 lot there.
      { id: "serial-right", parent: "FIN-1005", step: 10, expected: "SUB-1005", scanned: "S00001005" },
      // 2. The same serial at step 20 (final test consumes nothing).
      { id: "serial-wrong", parent: "FIN-1005", step: 20, expected: "SUB-1005", scanned: "S00001005" },
      // 3. A legacy SUB-1005 lot (lot-tracked in version 1): not SUB-1005's format any more; ASM-1005's lot format.
      { id: "legacy-lot", parent: "FIN-1005", step: 10, expected: "SUB-1005", scanned: "L25A00001" },
      // 4. An EIN tote where resin is consumed (RES-1005 in totes): C + 8 digits is also a lot.
      { id: "tote-right", parent: "SUB-1005", step: 10, expected: "RES-1005", scanned: "C00000001" },
      // 5. The tote at FIN-1005's kitting step, as RES-1005: resin is not consumed there.
      { id: "tote-wrong", parent: "FIN-1005", step: 10, expected: "RES-1005", scanned: "C00000001" },
      // 6. A resin lot, not tote-shaped, at its step: accepted as RES-1005's lot.
      { id: "resin-lot", parent: "SUB-1005", step: 10, expected: "RES-1005", scanned: "R25A00001" },
      // 7. By work centre: EIN-WC10 holds FIN-1005's steps 10 and 20; step 10 consumes SUB-1005.
      { id: "by-centre", parent: "FIN-1005", workCentre: "EIN-WC10", expected: "SUB-1005", scanned: "S00001005" },
    ].map((l) => JSON.stringify(l));
    const bad = [
      "not json at all",
      JSON.stringify({ id: "no-expected", parent: "FIN-1005", step: 10, scanned: "S1" }),
      JSON.stringify({ id: "step-text", parent: "FIN-1005", step: "ten", expected: "SUB-1005", scanned: "S1" }),
    ];
    const input = [...lines.slice(0, 3), ...bad, ...lines.slice(3)].join("\n");
    const run = await cli(["scan", "--lines", ...common()], `${input}\n`);
    expect(run.code).toBe(0);
    const answers = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Answer);
    expect(answers).toHaveLength(10);
    const by = new Map(answers.filter((a) => a.id).map((a) => [a.id, a]));
    const decided = (id: string) => {
      const a = by.get(id)!;
      return [a.outcome, a.reason?.code, a.decidedBy?.ruleId, a.decidedBy?.requirementId, a.decidedBy?.ruleSetVersion, a.decidedBy?.digest];
    };
    expect(decided("serial-right")).toEqual(["ambiguous", "ambiguous", "EIN/SUB-1005", "EIN/FIN-1005/10/SUB-1005", version, digest]);
    expect(decided("serial-wrong")).toEqual(["refuse", "not-consumed-here", "EIN/FIN-1005", null, version, digest]);
    expect(decided("legacy-lot")).toEqual(["refuse", "wrong-material", "EIN/SUB-1005", "EIN/FIN-1005/10/SUB-1005", version, digest]);
    expect(by.get("legacy-lot")!.reason!.message).toBe("reads as lot of ASM-1005 (EIN-LOT), not SUB-1005");
    expect(decided("tote-right")).toEqual(["ambiguous", "ambiguous", "EIN/RES-1005", "EIN/SUB-1005/10/RES-1005", version, digest]);
    expect(decided("tote-wrong")).toEqual(["refuse", "not-consumed-here", "EIN/FIN-1005", null, version, digest]);
    expect(decided("resin-lot")).toEqual(["accept", "accepted", "EIN/RES-1005", "EIN/SUB-1005/10/RES-1005", version, digest]);
    expect([by.get("by-centre")!.step, ...decided("by-centre")]).toEqual([
      10,
      "ambiguous",
      "ambiguous",
      "EIN/SUB-1005",
      "EIN/FIN-1005/10/SUB-1005",
      version,
      digest,
    ]);
    // The bad lines, in their places, each an error naming the field; the loop went on.
    expect(answers[3]!.error).toMatchObject({ code: "bad-json", field: null });
    expect([by.get("no-expected")!.error?.code, by.get("no-expected")!.error?.field]).toEqual(["bad-request", "expected"]);
    expect([by.get("step-text")!.error?.code, by.get("step-text")!.error?.field]).toEqual(["bad-request", "step"]);

    // One-shot form: the exit code says refused (4).
    const one = await cli(["scan", ...common(), "--parent", "FIN-1005", "--step", "20", "--material", "SUB-1005", "S00001005"]);
    expect(one.code).toBe(4);
    expect((JSON.parse(one.stdout) as Answer).reason?.code).toBe("not-consumed-here");

    // Every decision is in the log, with the raw string (the station's own log).
    const log = (await fs.readFile(path.join(stateDir, "scans", "decisions.jsonl"), "utf8")).trim().split("\n");
    expect(log).toHaveLength(8);
  }, 60_000);

  it("keeps the decisions on disk while the portal is away, reports them once it is back, and a resent batch stores nothing", async () => {
    const away = await cli(["report", ...withUrl()]);
    expect(away.code).toBe(1);
    const batches = path.join(stateDir, "scans", "batches");
    const held = await fs.readdir(batches);
    expect(held).toHaveLength(1);
    const kept = await fs.readFile(path.join(batches, held[0]!));

    await startPortal();
    const back = await cli(["report", ...withUrl()]);
    expect(back.code).toBe(0);
    const reported = back.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; batchId: string; decisions: number; duplicate: boolean })
      .filter((e) => e.event === "scans-reported");
    expect(reported).toEqual([expect.objectContaining({ batchId: held[0]!.slice(0, 36), decisions: 8, duplicate: false })]);
    expect(await fs.readdir(batches)).toEqual([]);

    // Stored counts, by plain SQL, equal what the station decided (by hand above).
    const counts = await database.client`
      select parent, step, expected, outcome, reason, sum(count)::int as n
      from scan_report_counts where runtime_client_id = ${clientId}
      group by parent, step, expected, outcome, reason order by parent, step, expected, outcome, reason`;
    expect(counts.map((r) => [r.parent, r.step, r.expected, r.outcome, r.reason, r.n])).toEqual([
      ["FIN-1005", 10, "RES-1005", "refuse", "not-consumed-here", 1],
      ["FIN-1005", 10, "SUB-1005", "ambiguous", "ambiguous", 2],
      ["FIN-1005", 10, "SUB-1005", "refuse", "wrong-material", 1],
      ["FIN-1005", 20, "SUB-1005", "refuse", "not-consumed-here", 2],
      ["SUB-1005", 10, "RES-1005", "accept", "accepted", 1],
      ["SUB-1005", 10, "RES-1005", "ambiguous", "ambiguous", 1],
    ]);
    const [refusals] = await database.client`
      select count(*)::int as n, count(scanned)::int as raw, count(*) filter (where scanned_hash ~ '^hmac-sha256:[0-9a-f]{64}$')::int as hashed
      from scan_report_refusals where runtime_client_id = ${clientId}`;
    // 7 of the 8 decisions stop the line; none is stored raw (not configured).
    expect([refusals!.n, refusals!.raw, refusals!.hashed]).toEqual([7, 0, 7]);

    // A crash after the send, before the file left the disk: the same batch again stores nothing.
    await fs.writeFile(path.join(batches, held[0]!), kept);
    const again = await cli(["report", ...withUrl()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"duplicate":true');
    const [total] =
      await database.client`select coalesce(sum(count), 0)::int as n, (select count(*)::int from scan_report_batches where runtime_client_id = ${clientId}) as batches from scan_report_counts where runtime_client_id = ${clientId}`;
    expect([total!.n, total!.batches]).toEqual([8, 1]);

    // What the Runtime clients screen shows for this station (its query), by hand from the decisions above.
    const volumes = (await scanVolumes(database.db, { at: new Date() })).filter((r) => r.client === "station-ein-wc10");
    expect(volumes.map((r) => [r.site, r.parent, r.step, r.scans24h, r.refused24h, r.scans7d, r.refused7d])).toEqual([
      ["EIN", "FIN-1005", 10, 4, 4, 4, 4],
      ["EIN", "FIN-1005", 20, 2, 2, 2, 2],
      ["EIN", "SUB-1005", 10, 2, 1, 2, 1],
    ]);

    // Append-only: the database refuses to change a stored count.
    await expect(database.client`update scan_report_counts set count = 99 where runtime_client_id = ${clientId}`).rejects.toThrow();
  }, 60_000);

  it("a scan process beside the puller decides with the version the puller took meanwhile (one state folder, two processes)", async () => {
    if (!portal) await startPortal();
    const scanner = spawn(process.execPath, ["--import", "tsx", "clients/runtime/src/cli.ts", "scan", "--lines", ...common()], {
      cwd: root,
      env: { ...process.env, C981_RUNTIME_TOKEN: token },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const answers: string[] = [];
    let wake: (() => void) | null = null;
    readline.createInterface({ input: scanner.stdout }).on("line", (l) => {
      answers.push(l);
      wake?.();
    });
    const ask = async (request: object) => {
      const n = answers.length;
      scanner.stdin.write(`${JSON.stringify(request)}\n`);
      while (answers.length === n) await new Promise<void>((r) => (wake = r));
      return JSON.parse(answers[n]!) as { decidedBy?: { ruleSetVersion: number; digest: string } };
    };
    const resinLot = { parent: "SUB-1005", step: 10, expected: "RES-1005", scanned: "R25A00001" };
    expect((await ask(resinLot)).decidedBy?.ruleSetVersion).toBe(version);
    // Meanwhile a new version is published and the pulling process takes it.
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "scan beside puller", changes: [], kind: "renewal" }, keyRing);
    expect((await cli([...withUrl(), "--once", "--wait-seconds", "0"])).code).toBe(0);
    const [latest] = await database.client`select version, digest_v2 from rule_set_versions where site_id = ${einId} order by version desc limit 1`;
    expect(latest!.version).toBe(version + 1);
    expect((await ask(resinLot)).decidedBy).toMatchObject({ ruleSetVersion: version + 1, digest: `sha256:${latest!.digest_v2}` });
    scanner.stdin.end();
    await new Promise((r) => scanner.once("close", r));
  }, 90_000);

  it("with only a schema-1 rule set on disk: an error saying there is no scan data", async () => {
    const v1Dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-scans-v1-"));
    tmp.push(v1Dir);
    const args = ["--site", "EIN", "--trust", pins.join(","), "--state-dir", v1Dir];
    expect((await cli(["--url", `http://127.0.0.1:${port}`, ...args, "--once", "--wait-seconds", "0", "--schema-version", "1"])).code).toBe(0);
    const run = await cli(["scan", "--lines", ...args], `${JSON.stringify({ parent: "FIN-1005", step: 10, expected: "SUB-1005", scanned: "S00001005" })}\n`);
    const answer = JSON.parse(run.stdout.trim()) as Answer;
    expect(answer.error?.code).toBe("no-scan-data");
    expect(answer.error?.message).toMatch(/schema version 1 and has no scan data: pull a v2/);
  }, 60_000);
});

describe("one scan request schema for the station and the API (ADR 042, Amendment 2)", () => {
  it("the same bad lines are refused by `scan --lines` and by POST scan-decisions, naming the same field", async () => {
    if (!portal) await startPortal();
    const good = { parent: "FIN-1005", step: 10, expected: "SUB-1005", scanned: "S00001005" };
    // Each line has one fault; the field each names is written by hand.
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, scanned: "" }, "scanned"],
      [{ ...good, scanned: "S0000\u00001005" }, "scanned"],
      [{ ...good, scanned: "S".repeat(513) }, "scanned"],
      [{ ...good, scanned: "S\uD800" }, "scanned"],
      [{ ...good, expected: "" }, "expected"],
      [{ ...good, parent: "FIN\u00001005" }, "parent"],
      [{ ...good, workCentre: "" }, "workCentre"],
      [{ ...good, step: -1 }, "step"],
      [{ ...good, step: 1.5 }, "step"],
      [{ parent: "FIN-1005", expected: "SUB-1005", scanned: "S00001005" }, "step"],
      [{ ...good, symbologyId: "C1" }, "symbologyId"],
      [{ ...good, expected: "E".repeat(65) }, "expected"],
      [{ ...good, colour: "red" }, ""],
    ];
    const run = await cli(["scan", "--lines", ...common()], `${cases.map(([l]) => JSON.stringify(l)).join("\n")}\n`);
    const station = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Answer);
    expect(station).toHaveLength(cases.length);
    for (const [i, [line, field]] of cases.entries()) {
      expect([station[i]!.error?.code, station[i]!.error?.field ?? ""], JSON.stringify(line)).toEqual(["bad-request", field]);
      const online = await fetch(`http://127.0.0.1:${port}/api/v1/sites/EIN/scan-decisions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ scans: [line] }),
      });
      expect(online.status, JSON.stringify(line)).toBe(400);
      const body = (await online.json()) as { errors: { pointer: string }[] };
      expect(
        body.errors.map((e) => e.pointer),
        JSON.stringify(line),
      ).toEqual([field ? `#/scans/0/${field}` : "#/scans/0"]);
    }
    // And a good line is decided by both.
    const ok = await cli(["scan", "--lines", ...common()], `${JSON.stringify(good)}\n`);
    expect((JSON.parse(ok.stdout) as Answer).outcome).toBe("ambiguous");
  }, 60_000);
});

describe("POST /api/v1/sites/{site}/scan-reports refuses what it must", () => {
  const post = (body: string, headers: Record<string, string> = {}, site = "EIN") =>
    fetch(`http://127.0.0.1:${port}/api/v1/sites/${site}/scan-reports`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
      body,
    });
  const thisHour = `${new Date().toISOString().slice(0, 13)}:00:00.000Z`;
  const valid = {
    batchId: "0b5f9c3e-1d2a-4c7b-8e9f-0a1b2c3d4e5f",
    bucketMinutes: 60,
    counts: [{ bucket: thisHour, parent: "FIN-1005", step: 10, expected: "SUB-1005", outcome: "accept", reason: "accepted", count: 3 }],
    refusals: [],
    refusalsOmitted: 0,
  };
  const hourAt = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00:00.000Z`;

  it("an unknown member, __proto__, a site outside the token, no token, too large; the same batch id with other content", async () => {
    if (!portal) await startPortal();
    expect((await post(JSON.stringify({ ...valid, extra: 1 }))).status).toBe(400);
    expect((await post(`{"__proto__":{"x":1},${JSON.stringify(valid).slice(1)}`)).status).toBe(400);
    expect((await post(JSON.stringify(valid), {}, "CLT")).status).toBe(404);
    expect((await post(JSON.stringify(valid), { Authorization: "Bearer nope-nope-nope" })).status).toBe(401);
    expect((await post(`{"pad":"${"x".repeat(2 * 1024 * 1024)}"}`)).status).toBe(413);
    expect((await post(JSON.stringify(valid))).status).toBe(201);
    expect((await post(JSON.stringify(valid))).status).toBe(200);
    expect((await post(JSON.stringify({ ...valid, counts: [{ ...valid.counts[0]!, count: 4 }] }))).status).toBe(409);
    const [n] = await database.client`select count(*)::int as n from scan_report_batches where batch_id = ${valid.batchId}`;
    expect(n!.n).toBe(1);
  }, 60_000);

  it("a row naming a parent or step that no version of the site's rule sets has: 422 naming the row, nothing stored", async () => {
    if (!portal) await startPortal();
    // The oracle, in plain SQL over the signed schema-2 documents: EIN's (parent, step) pairs in any version.
    const pairs = await database.client`
      select distinct r->>'partNumber' as parent, (s->>'step')::int as step
      from rule_set_versions v join sites x on x.id = v.site_id,
           jsonb_array_elements(convert_from(v.canonical_v2, 'UTF8')::jsonb->'rules') r,
           jsonb_array_elements(r->'routing') s
      where x.code = 'EIN' and v.canonical_v2 is not null`;
    const ein = new Set(pairs.map((r) => `${r.parent}/${r.step}`));
    expect(ein.has("FIN-1005/10")).toBe(true);
    expect(ein.has("FIN-1005/999")).toBe(false);
    // A part number no site of the demo plant has (the demo plant's sites share their routings).
    expect(pairs.some((r) => r.parent === "ZZZ-0001")).toBe(false);
    const [{ version }] = (await database.client`
      select max(version)::int as version from rule_set_versions v join sites x on x.id = v.site_id where x.code = 'EIN' and canonical_v2 is not null`) as unknown as [
      { version: number },
    ];
    const row = (over: Record<string, unknown>) => ({ ...valid.counts[0]!, ...over });
    const refusal = (over: Record<string, unknown>) => ({
      at: `${thisHour.slice(0, 14)}12:13.456Z`,
      parent: "FIN-1005",
      step: 10,
      expected: "SUB-1005",
      outcome: "refuse",
      reason: "wrong-material",
      ruleId: "EIN/SUB-1005",
      ruleSetVersion: version,
      scannedHash: `hmac-sha256:${"d".repeat(64)}`,
      ...over,
    });
    const [before] = await database.client`select (select count(*) from scan_report_batches)::int as b, (select count(*) from scan_report_counts)::int as c`;
    const bad = await post(
      JSON.stringify({
        ...valid,
        batchId: randomUUID(),
        counts: [
          row({}),
          row({ reason: "accepted-alternate" }),
          row({ outcome: "refuse", reason: "wrong-material" }),
          row({ step: 999 }),
          row({ parent: "ZZZ-0001", step: 10 }),
        ],
        refusals: [refusal({}), refusal({ ruleSetVersion: version + 50 })],
      }),
    );
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as { status: number; errors: { pointer: string }[] };
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual(["#/counts/3/step", "#/counts/4/parent", "#/refusals/1/ruleSetVersion"]);
    const [after] = await database.client`select (select count(*) from scan_report_batches)::int as b, (select count(*) from scan_report_counts)::int as c`;
    expect(after).toEqual(before);
    // What the station itself refused as unknown is what it was asked: an unknown parent, or a known
    // parent's unknown step, is stored as reported.
    const asked = await post(
      JSON.stringify({
        ...valid,
        batchId: randomUUID(),
        counts: [
          row({ parent: "NO-SUCH-PART", step: 10, outcome: "refuse", reason: "unknown-parent" }),
          row({ step: 999, outcome: "refuse", reason: "unknown-step" }),
        ],
        refusals: [refusal({ step: 999, reason: "unknown-step", ruleId: "EIN/FIN-1005" })],
      }),
    );
    expect(asked.status).toBe(201);
  }, 60_000);

  it("an hour outside the window, a path in upper case, a batch counting more than a million: refused, nothing stored", async () => {
    if (!portal) await startPortal();
    const [before] = await database.client`select count(*)::int as n from scan_report_counts`;
    const other = (over: Record<string, unknown>, count = 3) =>
      JSON.stringify({ ...valid, batchId: randomUUID(), counts: [{ ...valid.counts[0]!, count, ...over }] });
    // 36 days ago and two hours ahead (the window is 35 days back, one hour ahead).
    const old = await post(other({ bucket: hourAt(Date.now() - 36 * 86_400_000) }));
    expect(old.status).toBe(400);
    expect(JSON.stringify(await old.json())).toContain("counts/0/bucket");
    expect((await post(other({ bucket: hourAt(Date.now() + 2 * 3_600_000) }))).status).toBe(400);
    // Two rows of a million each: over the batch's total.
    const big = JSON.parse(other({}, 1_000_000)) as typeof valid;
    big.counts.push({ ...big.counts[0]!, reason: "accepted-twice" });
    expect((await post(JSON.stringify(big))).status).toBe(400);
    // The route's own path in another case is still read by the route's own parser (after the token).
    const upper = await fetch(`http://127.0.0.1:${port}/api/v1/sites/EIN/SCAN-REPORTS`, {
      method: "POST",
      headers: { Authorization: "Bearer nope-nope-nope", "Content-Type": "application/json" },
      body: `{"pad":"${"x".repeat(100 * 1024)}"}`,
    });
    expect(upper.status).toBe(401);
    const [after] = await database.client`select count(*)::int as n from scan_report_counts`;
    expect(after!.n).toBe(before!.n);
  }, 60_000);
  it("a step known only in an older version of the site is accepted (a batch may hold decisions of any version); one in none is refused", async () => {
    if (!portal) await startPortal();
    // FIN-1005 gets a step 40 at EIN for one version only.
    const [fin] = await database.client`select id from materials where part_number = 'FIN-1005'`;
    await database.client`insert into routing_operations (site_id, material_id, step, work_centre, description)
      values (${einId}, ${fin!.id as number}, 40, 'EIN-WC50', 'Rework (one version only)')`;
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "step 40 added", changes: [], kind: "renewal" }, keyRing);
    await database.client`delete from routing_operations where site_id = ${einId} and material_id = ${fin!.id as number} and step = 40`;
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "step 40 gone", changes: [], kind: "renewal" }, keyRing);
    // The oracle in plain SQL: step 40 is in an older version's signed document, not in the latest.
    const having = await database.client`
      select v.version from rule_set_versions v,
           jsonb_array_elements(convert_from(v.canonical_v2, 'UTF8')::jsonb->'rules') r,
           jsonb_array_elements(r->'routing') s
      where v.site_id = ${einId} and r->>'partNumber' = 'FIN-1005' and (s->>'step')::int = 40`;
    const [latest] = await database.client`select max(version)::int as v from rule_set_versions where site_id = ${einId}`;
    expect(having.length).toBe(1);
    expect(having[0]!.version).toBe(latest!.v - 1);
    const report = (step: number) =>
      JSON.stringify({ ...valid, batchId: randomUUID(), counts: [{ ...valid.counts[0]!, step, outcome: "not-required", reason: "not-required" }] });
    expect((await post(report(40))).status).toBe(201);
    const none = await post(report(50));
    expect(none.status).toBe(422);
    expect(((await none.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual(["#/counts/0/step"]);
  }, 60_000);
});
