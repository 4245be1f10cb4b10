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
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
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
    const started = Date.now();
    const waiting = get("/sites/EIN/ruleset?waitSeconds=10", { "If-None-Match": etag });
    await new Promise((r) => setTimeout(r, 1200));
    await createRuleSetVersion(database.db, { siteId: (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number, actor: "test", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).not.toBe(etag);
    expect(Date.now() - started).toBeLessThan(8000);
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
    const body = { version: 3, digest: `sha256:${"a".repeat(64)}`, activatedAt: new Date().toISOString(), trustedKeys: [keyRing.active[0]!.kid] };
    const ok = await fetch(`${base}/sites/EIN/ruleset/status`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect(ok.status).toBe(204);
    const [row] = await database.client`select version, trusted_keys from runtime_client_status`;
    expect(row).toMatchObject({ version: 3, trusted_keys: [keyRing.active[0]!.kid] });
    const bad = await fetch(`${base}/sites/EIN/ruleset/status`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ ...body, version: 0, digest: "x" }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = await bad.json();
    expect(problem.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(["#/digest", "#/version"]);
    const notJson = await fetch(`${base}/sites/EIN/ruleset/status`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: "{nope" });
    expect(notJson.status).toBe(400);
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
    check("JWKS", await publicJwks(database.db));
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
      expect((await fetch(`${base}/sites/EIN${path}`)).status, `EIN${path} without token`).toBe(401);
      expect((await fetch(`${base}/sites/EIN${path}`, { headers: { Authorization: "Bearer c981_wrong-token-000000" } })).status).toBe(401);
    }
    const report = { version: 1, digest: `sha256:${"d".repeat(64)}`, activatedAt: new Date().toISOString(), trustedKeys: [] };
    const post = (site: string, headers: Record<string, string>) =>
      fetch(`${base}/sites/${site}/ruleset/status`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(report) });
    expect((await post("CLT", { Authorization: `Bearer ${token}` })).status).toBe(404);
    expect((await post("EIN", {})).status).toBe(401);
    await revokeRuntimeClient(database.db, "test", "mes-ein-line-1", "decommissioned");
    await expect.poll(async () => (await get("/sites/EIN/ruleset")).status, { timeout: 5000 }).toBe(401);
  });
});
