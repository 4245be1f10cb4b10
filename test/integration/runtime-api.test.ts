/**
 * The runtime API as a runtime MES system uses it: bearer tokens scoped to sites, the signed rule
 * set in force with a strong ETag and 304, long-poll, versions (immutable), upcoming, status
 * reports — and problem+json for bad input, bad tokens and other sites.
 */
import type { AddressInfo } from "node:net";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import express from "express";
import { createLocalJWKSet, generalVerify, type GeneralJWS } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient, revokeRuntimeClient } from "../../app/services/runtime-clients.server";
import type { Database } from "../../app/utils/db.server";
import { publicJwks, type KeyRing } from "../../app/utils/signing.server";
import { createRuntimeApi, DEFAULT_STATUS_REPORTS_PER_MINUTE, type RuntimeApi } from "../../server/runtime-api";
import { runtimeClientOverview } from "../../app/queries/runtime-clients.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;
let base = "";
let token = "";
let server: ReturnType<express.Express["listen"]>;
let api: RuntimeApi;

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const app = express();
  api = await createRuntimeApi(database);
  app.use("/api/v1", api.router);
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  ({ token } = await createRuntimeClient(database.db, "test", { name: "mes-ein-line-1", sites: ["EIN"], reason: "test" }));
}, 120_000);

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await api.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });

describe("the runtime API", () => {
  it("serves the signed rule set in force, verifiable with the JWKS, with a strong ETag and 304", async () => {
    const response = await get("/sites/EIN/ruleset");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/jose\+json/);
    const etag = response.headers.get("etag")!;
    expect(etag).toMatch(/^"sha256-[A-Za-z0-9_-]{43}"$/);
    const jws = (await response.json()) as GeneralJWS;
    const { payload } = await generalVerify(jws, createLocalJWKSet(await publicJwks(database.db)));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ type: "c981.ruleset", site: "EIN", version: 2 });
    const again = await get("/sites/EIN/ruleset", { "If-None-Match": etag });
    expect(again.status).toBe(304);
  });

  it("long-polls until a newer version is in force", async () => {
    const first = await get("/sites/EIN/ruleset");
    const etag = first.headers.get("etag")!;
    const siteId = (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number;
    // The route holds the request in the cache's registry while the client has the version in force
    // (server/runtime-long-polls.ts): seen there, and not answered — no fixed wait.
    const started = Date.now();
    let answeredAt: number | undefined;
    const waiting = get("/sites/EIN/ruleset?waitSeconds=10", { "If-None-Match": etag }).then((r) => {
      answeredAt = Date.now();
      return r;
    });
    await expect.poll(() => api.cache.longPolls.held, { timeout: 5000, interval: 10, message: "the long-poll was never held" }).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    expect(answeredAt, "answered before any release: the long-poll did not hold").toBeUndefined();
    const released = Date.now();
    await createRuleSetVersion(database.db, { siteId, actor: "test", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).not.toBe(etag);
    // Held from the request until the release (at least the 250 ms it was seen held), then answered
    // soon after the release reached the cache by NOTIFY, well before waitSeconds ran out.
    expect(answeredAt!).toBeGreaterThanOrEqual(released);
    expect(released - started).toBeGreaterThanOrEqual(200);
    expect(answeredAt! - released).toBeLessThan(8000);
    expect(api.cache.longPolls.held).toBe(0);
    const timedOut = await get("/sites/EIN/ruleset?waitSeconds=1", { "If-None-Match": response.headers.get("etag")! });
    expect(timedOut.status).toBe(304);
  });

  it("costs no database query in steady state; a release or a revocation reaches the cache by NOTIFY", async () => {
    // A check of the change counter first, so the previous test's release is not dropped meanwhile.
    await api.cache.check();
    await get("/sites/EIN/ruleset");
    const loads = api.cache.loads;
    const etags = new Set<string>();
    for (let i = 0; i < 50; i++) etags.add((await get("/sites/EIN/ruleset")).headers.get("etag")!);
    expect(api.cache.loads).toBe(loads);
    expect(etags.size).toBe(1);
    const [ein] = await database.client`select id from sites where code = 'EIN'`;
    await createRuleSetVersion(database.db, { siteId: ein!.id as number, actor: "test", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    // The NOTIFY arrives asynchronously; within a moment the next pull serves the new version.
    await expect.poll(async () => (await get("/sites/EIN/ruleset")).headers.get("etag"), { timeout: 5000 }).not.toBe([...etags][0]);
    expect(api.cache.loads).toBeGreaterThan(loads);
  });

  it("lists versions and serves each one immutably; no upcoming version answers 404", async () => {
    const list = await (await get("/sites/EIN/ruleset/versions")).json();
    expect(list.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3, 4]);
    const v1 = await get("/sites/EIN/ruleset/versions/1");
    expect(v1.status).toBe(200);
    expect(v1.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect((await get("/sites/EIN/ruleset/versions/99")).status).toBe(404);
    expect((await get("/sites/EIN/ruleset/upcoming")).status).toBe(404);
  });

  it("records status reports, validated field by field", async () => {
    const [v2] = await database.client<
      { digest: string }[]
    >`select v.digest from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' and v.version = 2`;
    const body = { version: 2, digest: `sha256:${v2!.digest}`, activatedAt: new Date().toISOString(), trustedKeys: [keyRing.active[0]!.kid] };
    const ok = await fetch(`${base}/sites/EIN/ruleset/status`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(ok.status).toBe(204);
    const [row] = await database.client`select version, trusted_keys from runtime_client_status`;
    expect(row).toMatchObject({ version: 2, trusted_keys: [keyRing.active[0]!.kid] });
    const bad = await fetch(`${base}/sites/EIN/ruleset/status`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, version: 0, digest: "x" }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = await bad.json();
    expect(problem.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(["#/digest", "#/version"]);
    const notJson = await fetch(`${base}/sites/EIN/ruleset/status`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
  });

  it("refuses an activation report of a version the site does not have, or with another digest (422 naming the field)", async () => {
    const { token: own } = await createRuntimeClient(database.db, "test", { name: "mes-ein-liar", sites: ["EIN"], reason: "test" });
    const post = (report: object) =>
      fetch(`${base}/sites/EIN/ruleset/status`, {
        method: "POST",
        headers: { Authorization: `Bearer ${own}`, "Content-Type": "application/json" },
        body: JSON.stringify(report),
      });
    const report = { version: 999, digest: `sha256:${"e".repeat(64)}`, activatedAt: new Date().toISOString(), trustedKeys: [] };
    const invented = await post(report);
    expect(invented.status).toBe(422);
    expect(invented.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await invented.json()).errors.map((e: { pointer: string }) => e.pointer)).toEqual(["#/version"]);
    // Version 1 exists at EIN, but not with this digest.
    const forged = await post({ ...report, version: 1 });
    expect(forged.status).toBe(422);
    expect((await forged.json()).errors.map((e: { pointer: string }) => e.pointer)).toEqual(["#/digest"]);
    const stored =
      await database.client`select 1 from runtime_client_status s join runtime_clients c on c.id = s.runtime_client_id where c.name = 'mes-ein-liar'`;
    expect(stored).toHaveLength(0);
    const kept =
      await database.client`select 1 from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-ein-liar'`;
    expect(kept).toHaveLength(0);
  });

  it("accepts a refusal report as such: stored apart from activations, kept as telemetry (ADR 026), on the runtime clients screen", async () => {
    const { token: own } = await createRuntimeClient(database.db, "test", { name: "mes-ein-refuser", sites: ["EIN"], reason: "test" });
    const refusal = {
      kind: "refusal",
      offered: { version: 999, digest: `sha256:${"f".repeat(64)}` },
      code: "bad-signature",
      source: "current",
      message: "bad-signature: no pinned key verifies it",
      runningVersion: 2,
    };
    const response = await fetch(`${base}/sites/EIN/ruleset/status`, {
      method: "POST",
      headers: { Authorization: `Bearer ${own}`, "Content-Type": "application/json" },
      body: JSON.stringify(refusal),
    });
    expect(response.status).toBe(204);
    const rows =
      await database.client`select r.offered_version, r.offered_digest, r.code, r.source, r.running_version from runtime_client_refusals r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-ein-refuser'`;
    expect(rows).toEqual([{ offered_version: 999, offered_digest: refusal.offered.digest, code: "bad-signature", source: "current", running_version: 2 }]);
    // Not an activation: what the client runs is untouched.
    expect(
      await database.client`select 1 from runtime_client_status s join runtime_clients c on c.id = s.runtime_client_id where c.name = 'mes-ein-refuser'`,
    ).toHaveLength(0);
    // Kept as received in the status reports' own append-only table, no longer in the audit trail (ADR 026).
    const kept =
      await database.client`select r.kind, r.version, r.digest, r.report from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-ein-refuser'`;
    expect(kept).toEqual([{ kind: "refusal", version: 999, digest: refusal.offered.digest, report: refusal }]);
    expect(await database.client`select 1 from audit_trail where actor = 'runtime:mes-ein-refuser'`).toHaveLength(0);
    const overview = await runtimeClientOverview(database.db, { at: new Date() });
    const ein = overview.find((c) => c.name === "mes-ein-refuser")!.sites.find((s) => s.code === "EIN")!;
    expect(ein.refusals).toMatchObject({ count: 1, latest: { code: "bad-signature", offeredVersion: 999, offeredIsStored: false, runningVersion: 2 } });
    // A refusal with an unknown reason code, or without the offered version and digest, is refused.
    const bad = await fetch(`${base}/sites/EIN/ruleset/status`, {
      method: "POST",
      headers: { Authorization: `Bearer ${own}`, "Content-Type": "application/json" },
      body: JSON.stringify({ ...refusal, code: "felt-like-it", offered: undefined }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(["#/code", "#/offered"]);
  });

  it("rate-limits status reports per client across instances: 300 reports, at most twice the minute's allowance recorded, the rest 429", async () => {
    // A second instance on the same database: the count must be shared, not per process.
    const second = await createRuntimeApi(database);
    const app = express();
    app.use("/api/v1", second.router);
    const other = app.listen(0, "127.0.0.1");
    await new Promise((r) => other.once("listening", r));
    const bases = [base, `http://127.0.0.1:${(other.address() as AddressInfo).port}/api/v1`];
    try {
      const { token: own } = await createRuntimeClient(database.db, "test", { name: "mes-ein-chatty", sites: ["EIN"], reason: "test" });
      const refusal = { kind: "refusal", offered: { version: 3, digest: `sha256:${"0".repeat(64)}` }, code: "rollback", source: "current", runningVersion: 2 };
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let batch = 0; batch < 6; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            fetch(`${bases[i % 2]}/sites/EIN/ruleset/status`, {
              method: "POST",
              headers: { Authorization: `Bearer ${own}`, "Content-Type": "application/json" },
              body: JSON.stringify(refusal),
            }),
          ),
        );
        for (const a of answers) {
          statuses.push(a.status);
          if (a.status === 429) {
            retryAfter = a.headers.get("retry-after");
            expect(a.headers.get("content-type")).toMatch(/^application\/problem\+json/);
          }
          await a.arrayBuffer();
        }
      }
      const accepted = statuses.filter((s) => s === 204).length;
      // A fixed window of one minute: a run crossing a minute boundary may use two allowances.
      expect(accepted).toBeGreaterThanOrEqual(DEFAULT_STATUS_REPORTS_PER_MINUTE);
      expect(accepted).toBeLessThanOrEqual(2 * DEFAULT_STATUS_REPORTS_PER_MINUTE);
      expect(statuses.filter((s) => s === 429).length).toBe(300 - accepted);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      const [kept] = await database.client<
        { n: number }[]
      >`select count(*)::int as n from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-ein-chatty'`;
      expect(kept!.n).toBe(accepted);
      const [stored] = await database.client<
        { n: number }[]
      >`select count(*)::int as n from runtime_client_refusals r join runtime_clients c on c.id = r.runtime_client_id where c.name = 'mes-ein-chatty'`;
      expect(stored!.n).toBe(accepted);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
      await second.close();
    }
  });

  it("publishes an OpenAPI 3.1 document whose schemas the real responses satisfy", async () => {
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/sites/{site}/ruleset",
      "/sites/{site}/ruleset/status",
      "/sites/{site}/ruleset/upcoming",
      "/sites/{site}/ruleset/versions",
      "/sites/{site}/ruleset/versions/{version}",
      "/sites/{site}/scan-decisions",
      "/sites/{site}/scan-reports",
    ]);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const check = (name: string, value: unknown) => {
      const validate = ajv.getSchema(`#/components/schemas/${name}`)!;
      expect(validate(value), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    };
    const { token: other } = await createRuntimeClient(database.db, "test", { name: "mes-openapi", sites: ["PEN"], reason: "test" });
    const auth = { Authorization: `Bearer ${other}` };
    const jws = await (await fetch(`${base}/sites/PEN/ruleset`, { headers: auth })).json();
    check("GeneralJWS", jws);
    check("RuleSetDocument", JSON.parse(Buffer.from(jws.payload, "base64url").toString("utf8")));
    check("VersionList", await (await fetch(`${base}/sites/PEN/ruleset/versions`, { headers: auth })).json());
    check("GeneralJWS", await (await fetch(`${base}/sites/PEN/ruleset/versions/1`, { headers: auth })).json());
    check("Problem", await (await fetch(`${base}/sites/PEN/ruleset/versions/0`, { headers: auth })).json());
    check("Problem", await (await fetch(`${base}/sites/PEN/ruleset`)).json());
    check("StatusReport", { version: 1, digest: `sha256:${"c".repeat(64)}`, activatedAt: new Date().toISOString(), trustedKeys: [keyRing.active[0]!.kid] });
    check("StatusReport", { kind: "refusal", offered: { version: null, digest: null }, code: "malformed", source: "upcoming", runningVersion: null });
    check("JWKS", await publicJwks(database.db));
    // ADR 042: a batch of scan decisions as the reference client sends it, and the answer it gets.
    const scanReport = {
      batchId: "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
      bucketMinutes: 60,
      counts: [
        { bucket: "2026-12-01T10:00:00.000Z", parent: "FIN-1005", step: 10, expected: "SUB-1005", outcome: "refuse", reason: "wrong-material", count: 1 },
      ],
      refusals: [
        {
          at: "2026-12-01T10:12:13.456Z",
          parent: "FIN-1005",
          step: 10,
          expected: "SUB-1005",
          outcome: "refuse",
          reason: "wrong-material",
          ruleId: "PEN/SUB-1005",
          ruleSetVersion: 1,
          scannedHash: `hmac-sha256:${"d".repeat(64)}`,
        },
      ],
      refusalsOmitted: 0,
    };
    check("ScanReport", scanReport);
    const stored = await fetch(`${base}/sites/PEN/scan-reports`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify(scanReport),
    });
    expect(stored.status).toBe(201);
    check("ScanReportStored", await stored.json());
  });

  it("answers bad input, bad tokens and other sites as specified", async () => {
    expect((await get("/sites/EIN/ruleset?waitSeconds=61")).status).toBe(400);
    expect((await get("/sites/EIN/ruleset?waitSeconds=abc")).status).toBe(400);
    expect((await get("/sites/EIN/ruleset/versions/-1")).status).toBe(400);
    expect((await fetch(`${base}/sites/EIN/ruleset`)).status).toBe(401);
    const bad = await fetch(`${base}/sites/EIN/ruleset`, { headers: { Authorization: "Bearer c981_not-a-real-token-at-all" } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/invalid_token/);
    // A site outside the client's scope, like an unknown one, does not exist for it — on every endpoint.
    for (const path of ["/ruleset", "/ruleset/upcoming", "/ruleset/versions", "/ruleset/versions/1"]) {
      expect((await get(`/sites/CLT${path}`)).status, `CLT${path}`).toBe(404);
      expect((await get(`/sites/NOPE${path}`)).status, `NOPE${path}`).toBe(404);
      // …and says so (a runtime reports it as `forbidden`, not as a portal it cannot reach).
      expect(await (await get(`/sites/CLT${path}`)).json(), `CLT${path}`).toMatchObject({ status: 404, reason: "site-not-in-scope" });
      expect((await fetch(`${base}/sites/EIN${path}`)).status, `EIN${path} without token`).toBe(401);
      expect((await fetch(`${base}/sites/EIN${path}`, { headers: { Authorization: "Bearer c981_wrong-token-000000" } })).status).toBe(401);
    }
    const report = { version: 1, digest: `sha256:${"d".repeat(64)}`, activatedAt: new Date().toISOString(), trustedKeys: [] };
    const post = (site: string, headers: Record<string, string>) =>
      fetch(`${base}/sites/${site}/ruleset/status`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify(report),
      });
    expect((await post("CLT", { Authorization: `Bearer ${token}` })).status).toBe(404);
    expect((await post("EIN", {})).status).toBe(401);
    await revokeRuntimeClient(database.db, "test", "mes-ein-line-1", "decommissioned");
    await expect.poll(async () => (await get("/sites/EIN/ruleset")).status, { timeout: 5000 }).toBe(401);
  });
});
