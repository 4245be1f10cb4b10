/**
 * POST /api/v1/sites/{site}/scan-decisions (issue 26, item 3; ADR 043) on real PostgreSQL and the
 * demo plant: tokens and sites as the other runtime endpoints (401, 404 outside the client's
 * sites), the size limit judged before parsing (413), strict rows (400 naming `#/scans/n/field`),
 * a version without schema-version-2 form (409), a database out of reach (503, through a proxy the
 * test cuts), and decisions for demo-plant scans at EIN whose
 * expectations are written by hand from the seed (app/seed/demo-plant.ts: S + 8 digits is the
 * serial format EIN-SER, 9 upper-case letters or digits the lot format EIN-LOT, C + 8 digits the
 * tote format EIN-CTR; FIN-1005 step 10 at EIN-WC10 consumes SUB-1005, serialized, and ASM-1005,
 * lot-tracked; MCH-1001 step 10 at EIN-WC40 consumes RAW-1001, lot-tracked in containers, GS1 with
 * GTIN 00871234000131).
 */
import { createHash } from "node:crypto";
import net, { type AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { connect } from "../../app/utils/db.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
import { openApiDocument } from "../../server/openapi";
import { metrics } from "../../app/utils/metrics.server";
import { randomUUID } from "node:crypto";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let keyRing: KeyRing;
let base = "";
let token = "";
let server: ReturnType<express.Express["listen"]>;
let api: RuntimeApi;
let einVersion = 0;
let einDigestV2 = "";

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const [ein] = await database.client`select id from sites where code = 'EIN'`;
  await createRuleSetVersion(database.db, { siteId: ein!.id as number, actor: "test", reason: "scan decisions setup", changes: [], kind: "renewal" }, keyRing);
  const [row] = await database.client`
    select version, digest_v2, canonical_v2 from rule_set_versions where site_id = ${ein!.id as number} order by version desc limit 1`;
  einVersion = row!.version as number;
  einDigestV2 = `sha256:${row!.digest_v2 as string}`;
  expect(
    createHash("sha256")
      .update(row!.canonical_v2 as Uint8Array)
      .digest("hex"),
  ).toBe(row!.digest_v2);
  const app = express();
  api = await createRuntimeApi(database);
  app.use("/api/v1", api.router);
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  ({ token } = await createRuntimeClient(database.db, "test", { name: "mes-ein-scan", sites: ["EIN", "CLT"], reason: "test" }));
}, 120_000);

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await api.close();
});

const post = (site: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/sites/${site}/scan-decisions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const fin1005 = { parent: "FIN-1005", step: 10 };

describe("POST /sites/{site}/scan-decisions", () => {
  it("refuses a missing or unknown token (401) and a site outside the client's sites or unknown (404), as the other runtime endpoints", async () => {
    const scans = { scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }] };
    const none = await post("EIN", scans, { Authorization: "" });
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await post("EIN", scans, { Authorization: "Bearer not-a-token-at-all" })).status).toBe(401);
    const pen = await post("PEN", scans);
    expect(pen.status).toBe(404);
    expect(await pen.json()).toMatchObject({ status: 404, reason: "site-not-in-scope" });
    expect((await post("XXX", scans)).status).toBe(404);
  });

  it("judges the body's size before reading it (413), and refuses more than 1,000 scans (413)", async () => {
    const big = JSON.stringify({ scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S".repeat(600 * 1024) }] });
    const tooLarge = await post("EIN", big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const many = await post("EIN", { scans: Array.from({ length: 1001 }, () => ({ ...fin1005, expected: "SUB-1005", scanned: "S00001005" })) });
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({ status: 413, errors: [{ pointer: "#/scans" }] });
    // Exactly 1,000 is fine (and larger than the runtime API's usual 64 KiB body limit).
    const thousand = await post("EIN", { scans: Array.from({ length: 1000 }, () => ({ ...fin1005, expected: "SUB-1005", scanned: "S00001005" })) });
    expect(thousand.status).toBe(200);
    expect(((await thousand.json()) as { decisions: unknown[] }).decisions).toHaveLength(1000);
  });

  it("refuses a bad row with 400 naming it (#/scans/17/scanned), unknown fields and bad JSON too", async () => {
    const scans: Record<string, unknown>[] = Array.from({ length: 20 }, () => ({ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }));
    scans[17] = { ...fin1005, expected: "SUB-1005", scanned: "" };
    scans[3] = { ...fin1005, expected: "SUB-1005", scanned: "S00001005", colour: "red" };
    scans[5] = { parent: "FIN-1005", expected: "SUB-1005", scanned: "S00001005" };
    const response = await post("EIN", { scans });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { pointer: string }[] };
    expect(body.errors.map((e) => e.pointer).sort()).toEqual(["#/scans/17/scanned", "#/scans/3", "#/scans/5/step"]);
    expect((await post("EIN", "{not json")).status).toBe(400);
    expect((await post("EIN", { scans: [] })).status).toBe(400);
    expect((await post("EIN", { scans: [{ ...fin1005, step: "10", expected: "SUB-1005", scanned: "x" }] })).status).toBe(400);
  });

  it("answers 400, not 500, for a gzip or deflate body that does not inflate; a good gzip body is decided", async () => {
    for (const encoding of ["gzip", "deflate"]) {
      const broken = await post("EIN", "not compressed at all", { "Content-Encoding": encoding });
      expect(broken.status, encoding).toBe(400);
      expect(broken.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(await broken.json()).toMatchObject({ status: 400, detail: "The body is not valid gzip or deflate data, as its Content-Encoding says." });
    }
    // Cut short: a gzip stream that ends early.
    const whole = gzipSync(JSON.stringify({ scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }] }));
    const cut = await fetch(`${base}/sites/EIN/scan-decisions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Encoding": "gzip" },
      body: whole.subarray(0, whole.length - 12),
    });
    expect(cut.status).toBe(400);
    const good = await fetch(`${base}/sites/EIN/scan-decisions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Encoding": "gzip" },
      body: whole,
    });
    expect(good.status).toBe(200);
    expect(((await good.json()) as { decisions: { reason: { code: string } }[] }).decisions.map((d) => d.reason.code)).toEqual(["ambiguous"]);
  });

  it("decides demo-plant scans at EIN as written by hand, with the rule and version that decided", async () => {
    const response = await post("EIN", {
      scans: [
        { ...fin1005, expected: "SUB-1005", scanned: "S00001005" },
        { ...fin1005, expected: "SUB-1005", scanned: "L25A00001" },
        { ...fin1005, expected: "ASM-1005", scanned: "L25A00001" },
        { parent: "FIN-1005", step: 20, expected: "SUB-1005", scanned: "S00001005" },
        { parent: "FIN-1005", workCentre: "EIN-WC10", expected: "CON-1005", scanned: "anything" },
        { parent: "MCH-1001", step: 10, expected: "RAW-1001", scanned: "(01)00871234000131(10)AB12" },
        { parent: "MCH-1001", step: 10, expected: "RAW-1001", scanned: "0100871234000131\u001d10AB12", symbologyId: "]C1" },
        { parent: "MCH-1001", step: 10, expected: "RAW-1001", scanned: "0100871234000131\u001d10AB12", symbologyId: "]Q1" },
        { parent: "NOPE-1", step: 10, expected: "RAW-1001", scanned: "x" },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as {
      ruleSet: { version: number; digest: string };
      decisions: { outcome: string; reason: { code: string; message: string }; decidedBy: Record<string, unknown>; reading: { value: string } | null }[];
    };
    expect(body.ruleSet).toEqual({ version: einVersion, digest: einDigestV2 });
    const d = body.decisions;
    expect(d.map((x) => [x.outcome, x.reason.code])).toEqual([
      ["ambiguous", "ambiguous"],
      ["refuse", "wrong-material"],
      ["accept", "accepted"],
      ["refuse", "not-consumed-here"],
      ["not-required", "not-required"],
      ["accept", "accepted"],
      ["accept", "accepted"],
      ["refuse", "no-reading"],
      ["refuse", "unknown-parent"],
    ]);
    expect(d[0]!.reason.message).toBe("S00001005 reads as lot of ASM-1005 (EIN-LOT) and as serial of SUB-1005 (EIN-SER)");
    expect(d[0]!.decidedBy).toEqual({ ruleId: "EIN/SUB-1005", requirementId: "EIN/FIN-1005/10/SUB-1005", ruleSetVersion: einVersion, digest: einDigestV2 });
    expect(d[1]!.reason.message).toBe("reads as lot of ASM-1005 (EIN-LOT), not SUB-1005");
    expect(d[5]!.reading!.value).toBe("AB12");
    expect(d[5]!.decidedBy).toMatchObject({ ruleId: "EIN/RAW-1001", requirementId: "EIN/MCH-1001/10/RAW-1001" });
  });

  it("answers 409 for a site whose version in force has no schema-version-2 form", async () => {
    const [clt] = await database.client`select id from sites where code = 'CLT'`;
    // A version made before schema version 2 (ADR 039): its v2 columns are empty. Versions are
    // immutable and audited: the test (as the server's superuser) lifts the guards for this one update.
    await database.owner.begin(async (sql) => {
      await sql`set local session_replication_role = replica`;
      await sql`update rule_set_versions set canonical_v2 = null, digest_v2 = null, jws_v2 = null where site_id = ${clt!.id as number}`;
    });
    api.cache.invalidate(["rulesets"]);
    const response = await post("CLT", { scans: [{ parent: "SUB-2001", step: 10, expected: "MCH-2001", scanned: "S00000001" }] });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ status: 409, reason: "no-schema-version-2" });
  });

  it("is described in the OpenAPI document, and its answers validate against it", async () => {
    const document = openApiDocument();
    const operation = document.paths["/sites/{site}/scan-decisions"].post;
    expect(Object.keys(operation.responses).sort()).toEqual(["200", "400", "401", "404", "409", "413", "429", "503"]);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const validate = ajv.compile({ $ref: "#/components/schemas/ScanDecisions" });
    const response = await post("EIN", {
      scans: [
        { ...fin1005, expected: "SUB-1005", scanned: "S00001005" },
        { parent: "MCH-1001", step: 10, expected: "RAW-1001", scanned: "0100871234000131\u001d10AB12", symbologyId: "]C1" },
      ],
    });
    expect(validate(await response.json()), JSON.stringify(validate.errors)).toBe(true);
    const request = ajv.compile({ $ref: "#/components/schemas/ScanDecisionsRequest" });
    expect(request({ scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }] })).toBe(true);
  });

  it("answers 503 with Retry-After when the database cannot be reached (and what it cached is past stale-if-error)", async () => {
    // The portal reaches PostgreSQL through a proxy this test owns; cutting it cuts the database.
    const sockets = new Set<net.Socket>();
    const target = new URL(database.ownerUrl);
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => sockets.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    const viaProxy = new URL(database.ownerUrl);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String((proxy.address() as AddressInfo).port);
    const cut = connect(viaProxy.toString(), { max: 2 });
    const cutApi = await createRuntimeApi(cut, { checkMs: 200, staleIfErrorMs: 0, deadlineMs: 500 });
    const app = express();
    app.use("/api/v1", cutApi.router);
    const cutServer = app.listen(0, "127.0.0.1");
    await new Promise((r) => cutServer.once("listening", r));
    const url = `http://127.0.0.1:${(cutServer.address() as AddressInfo).port}/api/v1/sites/EIN/scan-decisions`;
    const send = () =>
      fetch(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }] }),
      });
    try {
      expect((await send()).status).toBe(200);
      proxy.close();
      for (const s of sockets) s.destroy();
      // What was checked within checkMs + 1 s still counts as fresh (ADR 017): wait past it.
      await new Promise((r) => setTimeout(r, 1700));
      const answer = await send();
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await answer.json()).toMatchObject({ status: 503, title: "Service Unavailable" });
    } finally {
      await new Promise<void>((r) => cutServer.close(() => r()));
      cutServer.closeAllConnections();
      await cutApi.close().catch(() => {});
      await cut.close().catch(() => {});
    }
  });
});

describe("a token bucket per client on the scan endpoints (ADR 042, Amendment 2)", () => {
  const throttledCount = async (endpoint: string) => (await metrics.throttled.get()).values.find((v) => v.labels.endpoint === endpoint)?.value ?? 0;

  it("answers 429 with Retry-After and a problem body past the burst, per client, counted; the defaults do not throttle the bench's rate", async () => {
    const limited = await createRuntimeApi(database, { scanDecisionsRate: { perSecond: 0.5, burst: 3 }, scanReportsRate: { perSecond: 0.5, burst: 2 } });
    const app = express();
    app.use("/api/v1", limited.router);
    const at = app.listen(0, "127.0.0.1");
    await new Promise((r) => at.once("listening", r));
    const url = `http://127.0.0.1:${(at.address() as AddressInfo).port}/api/v1`;
    const other = (await createRuntimeClient(database.db, "test", { name: "mes-ein-scan-2", sites: ["EIN"], reason: "test" })).token;
    try {
      const send = (path: string, body: unknown, bearer = token) =>
        fetch(`${url}/sites/EIN/${path}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      const scans = { scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }] };
      const before = await throttledCount("scan-decisions");
      // A burst of 3: three answered, the fourth refused; a bad body costs a token too (it was sent).
      expect((await send("scan-decisions", scans)).status).toBe(200);
      expect((await send("scan-decisions", { scans: [] })).status).toBe(400);
      expect((await send("scan-decisions", scans)).status).toBe(200);
      const refused = await send("scan-decisions", scans);
      expect(refused.status).toBe(429);
      // 0.5 a second: the next token is 2 s away.
      expect(refused.headers.get("retry-after")).toBe("2");
      expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(await refused.json()).toMatchObject({ type: "about:blank", title: "Too Many Requests", status: 429, reason: "rate-limited" });
      expect(await throttledCount("scan-decisions")).toBe(before + 1);
      // Another client has its own bucket.
      expect((await send("scan-decisions", scans, other)).status).toBe(200);

      // Scan reports: a burst of 2.
      const report = () => ({
        batchId: randomUUID(),
        bucketMinutes: 60,
        counts: [
          {
            bucket: `${new Date().toISOString().slice(0, 13)}:00:00.000Z`,
            parent: "FIN-1005",
            step: 10,
            expected: "SUB-1005",
            outcome: "accept",
            reason: "accepted",
            count: 1,
          },
        ],
        refusals: [],
        refusalsOmitted: 0,
      });
      const reportsBefore = await throttledCount("scan-reports");
      expect((await send("scan-reports", report())).status).toBe(201);
      expect((await send("scan-reports", report())).status).toBe(201);
      const third = report();
      const tooMany = await send("scan-reports", third);
      expect(tooMany.status).toBe(429);
      expect(Number(tooMany.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await throttledCount("scan-reports")).toBe(reportsBefore + 1);
      const [stored] = await database.client`select count(*)::int as n from scan_report_batches where batch_id = ${third.batchId}`;
      expect(stored!.n).toBe(0);
    } finally {
      await new Promise<void>((r) => at.close(() => r()));
      await limited.close();
    }
    // The default API above (200 a second, 400 at once): 100 batches at once from one client pass.
    const answers = await Promise.all(Array.from({ length: 100 }, () => post("EIN", { scans: [{ ...fin1005, expected: "SUB-1005", scanned: "S00001005" }] })));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
