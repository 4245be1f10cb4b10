/**
 * Schema version 2 of the rule-set document (ADR 039): every version is compiled, stored, digested and
 * signed in both forms; the runtime API serves v1 by default, byte for byte as before, and v2 on
 * `?schemaVersion=2`; the reference client asks for v2 and verifies both; an old (v1) client is
 * unaffected; status reports accept either digest. Real PostgreSQL, the demo plant.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import express from "express";
import { createLocalJWKSet, generalVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULE_SET_FILE, ruleSetDocumentSchema, RuntimeClient, type ClientEvent, type RuntimeClientOptions } from "../../clients/runtime/src";
import { sameContent } from "../../clients/runtime/src/verify";
import { canonicalBytes } from "../../app/domain/canonical-json";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { publicJwks, signRuleSet, type KeyRing } from "../../app/utils/signing.server";
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let keyRing: KeyRing;
let api: RuntimeApi;
let portal: http.Server;
let portalUrl = "";
let token = "";
let einId = 0;
const pins: string[] = [];
const tmp: string[] = [];
/** Every request path the portal saw (to tell what a client asked for). */
const seen: string[] = [];

type Doc = Record<string, unknown> & { schemaVersion: number; version: number; previousDigest: string | null; rules: Record<string, unknown>[] };
const payloadOf = (jws: string) => JSON.parse(Buffer.from((JSON.parse(jws) as { payload: string }).payload, "base64url").toString("utf8")) as Doc;
const payloadBytes = (jws: string) => Buffer.from((JSON.parse(jws) as { payload: string }).payload, "base64url");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const get = (p: string, headers: Record<string, string> = {}) =>
  fetch(`${portalUrl}/api/v1/sites/EIN/ruleset${p}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });

async function latest() {
  const [row] = await database.client`
    select version, digest, digest_v2, canonical, canonical_v2, jws, jws_v2, previous_digest
    from rule_set_versions where site_id = ${einId} order by version desc limit 1`;
  return row as {
    version: number;
    digest: string;
    digest_v2: string | null;
    canonical: Uint8Array;
    canonical_v2: Uint8Array | null;
    jws: string;
    jws_v2: string | null;
    previous_digest: string | null;
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  einId = (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number;
  // A fresh, unexpired version in force.
  await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "schema v2 setup", changes: [], kind: "renewal" }, keyRing);
  const app = express();
  app.use((req, _res, next) => {
    seen.push(req.url);
    next();
  });
  app.get(
    "/.well-known/jwks.json",
    (_req, res, next) => void publicJwks(database.db).then((jwks) => void res.type("application/jwk-set+json").send(JSON.stringify(jwks)), next),
  );
  api = await createRuntimeApi(database, { statusReportsPerMinute: 10_000 });
  app.use("/api/v1", api.router);
  portal = http.createServer(app);
  portal.listen(0, "127.0.0.1");
  await new Promise((r) => portal.once("listening", r));
  portalUrl = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
  ({ token } = await createRuntimeClient(database.db, "test", { name: "schema-v2-ein", sites: ["EIN"], reason: "schema v2 test" }));
  pins.push(...keyRing.active.map((k) => k.kid));
}, 120_000);

afterAll(async () => {
  portal?.closeAllConnections();
  await new Promise<void>((r) => (portal ? portal.close(() => r()) : r()));
  await api?.close();
  for (const dir of tmp) await fs.rm(dir, { recursive: true, force: true });
});

async function open(options: Partial<RuntimeClientOptions> = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-schema-v2-"));
  tmp.push(dir);
  const events: ClientEvent[] = [];
  const client = await RuntimeClient.open({
    url: portalUrl,
    site: "EIN",
    token,
    trust: pins,
    stateDir: dir,
    waitSeconds: 0,
    retryMs: 50,
    maxRetryMs: 200,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { client, events, dir };
}

describe("rule-set schema version 2 (ADR 039)", () => {
  it("carries the routing of each material at the site, as plain SQL reads it from routing_operations and routing_operation_materials", async () => {
    const row = await latest();
    expect(row.canonical_v2).not.toBeNull();
    const v2 = JSON.parse(Buffer.from(row.canonical_v2!).toString("utf8")) as Doc;
    expect(v2.schemaVersion).toBe(2);
    const ops = await database.client`
      select m.part_number as parent, o.step, o.work_centre, c.part_number as component, rom.consumption_scan
      from routing_operations o
      join sites s on s.id = o.site_id
      join materials m on m.id = o.material_id
      left join routing_operation_materials rom on rom.operation_id = o.id
      left join materials c on c.id = rom.material_id
      where s.code = 'EIN'
      order by m.part_number, o.step, c.part_number`;
    // Expected, per parent part number: steps ascending, consumed components by part number.
    const expected = new Map<string, { step: number; workCentre: string; consumes: { component: string; consumptionScan: string; id: string }[] }[]>();
    for (const op of ops) {
      const steps = expected.get(op.parent as string) ?? [];
      expected.set(op.parent as string, steps);
      let step = steps.find((s) => s.step === op.step);
      if (!step) steps.push((step = { step: op.step as number, workCentre: op.work_centre as string, consumes: [] }));
      if (op.component !== null)
        step.consumes.push({
          component: op.component as string,
          consumptionScan: op.consumption_scan as string,
          id: `EIN/${op.parent}/${op.step}/${op.component}`,
        });
    }
    let withRouting = 0;
    let withConsumption = 0;
    for (const rule of v2.rules) {
      expect(rule.id).toBe(`EIN/${rule.partNumber}`);
      expect(rule.routing, String(rule.partNumber)).toEqual(expected.get(rule.partNumber as string) ?? []);
      if ((rule.routing as unknown[]).length > 0) withRouting++;
      if ((rule.routing as { consumes: unknown[] }[]).some((s) => s.consumes.length > 0)) withConsumption++;
    }
    // The demo plant's EIN produces materials with routings, and consumes at them.
    expect(withRouting).toBeGreaterThan(0);
    expect(withConsumption).toBeGreaterThan(0);
    expect(v2.rules.some((r) => (r.routing as unknown[]).length === 0)).toBe(true);
  });

  it("keeps the v1 form exactly as it was: v1 keys only, the same rules, its own chain, served by default byte for byte", async () => {
    const row = await latest();
    const v1 = JSON.parse(Buffer.from(row.canonical).toString("utf8")) as Doc;
    const v2 = JSON.parse(Buffer.from(row.canonical_v2!).toString("utf8")) as Doc;
    // The digests, computed here over the stored bytes.
    expect(sha256(row.canonical)).toBe(row.digest);
    expect(sha256(row.canonical_v2!)).toBe(row.digest_v2);
    expect(row.digest_v2).not.toBe(row.digest);
    // Schema version 1 as ADR 004/007/036 wrote it, nothing more.
    expect(v1.schemaVersion).toBe(1);
    expect(Object.keys(v1).sort()).toEqual(
      [
        "changeRequests",
        "effectiveFrom",
        "expiresAt",
        "identifierFormats",
        "issuedAt",
        "kind",
        "previousDigest",
        "rules",
        "schemaVersion",
        "signingKeys",
        "site",
        "type",
        "version",
      ].sort(),
    );
    const v1RuleKeys = ["allowedAlternates", "consumptionScan", "containerTracking", "gtin", "identifierFormats", "partNumber", "riskClass", "trackingMode"];
    for (const rule of v1.rules) expect(Object.keys(rule).filter((k) => k !== "deviation")).toEqual(v1RuleKeys);
    // The same rules and envelope in both forms; each form chains to its own predecessor.
    const { rules: rules2, previousDigest: p2, schemaVersion: _s2, ...envelope2 } = v2;
    const { rules: rules1, previousDigest: p1, schemaVersion: _s1, ...envelope1 } = v1;
    expect(envelope2).toEqual(envelope1);
    expect(rules2.map(({ id: _id, routing: _routing, ...rule }) => rule)).toEqual(rules1);
    const [previous] = await database.client`select digest, digest_v2 from rule_set_versions where site_id = ${einId} and version = ${row.version - 1}`;
    expect(p1).toBe(`sha256:${previous!.digest}`);
    expect(p2).toBe(`sha256:${previous!.digest_v2 ?? previous!.digest}`);
    // Served by default (and with schemaVersion=1): the stored v1 JWS, byte for byte, its payload the stored canonical bytes.
    for (const query of ["", "?schemaVersion=1"]) {
      const response = await get(query);
      const body = await response.text();
      expect(body).toBe(row.jws);
      expect(response.headers.get("etag")).toBe(`"sha256-${createHash("sha256").update(row.jws).digest("base64url")}"`);
      expect(payloadBytes(body).equals(Buffer.from(row.canonical))).toBe(true);
    }
    const v2Response = await get("?schemaVersion=2");
    expect(await v2Response.text()).toBe(row.jws_v2);
    expect(v2Response.headers.get("etag")).toBe(`"sha256-${createHash("sha256").update(row.jws_v2!).digest("base64url")}"`);
    expect((await get(`/versions/${row.version}?schemaVersion=2`).then((r) => r.text())) === row.jws_v2).toBe(true);
    expect((await get(`/versions/${row.version}`).then((r) => r.text())) === row.jws).toBe(true);
    expect((await get("?schemaVersion=3")).status).toBe(400);
    const list = (await (await get("/versions")).json()) as { versions: { version: number; digest: string; digestV2: string | null }[] };
    expect(list.versions.at(-1)).toMatchObject({ version: row.version, digest: `sha256:${row.digest}`, digestV2: `sha256:${row.digest_v2}` });
  });

  it("signs both forms: each JWS verifies with the JWKS and its payload is the stored canonical form", async () => {
    const row = await latest();
    const jwks = createLocalJWKSet((await (await fetch(`${portalUrl}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0]);
    for (const [jws, canonical] of [
      [row.jws, row.canonical],
      [row.jws_v2!, row.canonical_v2!],
    ] as const) {
      const parsed = JSON.parse(jws) as { payload: string; signatures: { protected: string; signature: string }[] };
      expect(parsed.signatures).toHaveLength(keyRing.active.length);
      for (const signature of parsed.signatures) {
        const { payload, protectedHeader } = await generalVerify({ payload: parsed.payload, signatures: [signature] }, jwks);
        expect(protectedHeader).toMatchObject({ alg: "EdDSA", typ: "c981-ruleset+jws" });
        expect(Buffer.from(payload).equals(Buffer.from(canonical))).toBe(true);
      }
    }
  });

  it("the reference client asks for v2, verifies and activates it, and reports its v2 digest (accepted); an old client pulls v1, unaffected", async () => {
    const row = await latest();
    const v2 = await open();
    seen.length = 0;
    expect(await v2.client.syncOnce()).toEqual({ ok: true });
    expect(seen.some((u) => /\/ruleset\?schemaVersion=2$/.test(u))).toBe(true);
    expect(v2.events).toContainEqual(expect.objectContaining({ event: "activated", version: row.version, digest: `sha256:${row.digest_v2}` }));
    expect(v2.client.ruleSet()).toMatchObject({ schemaVersion: 2, version: row.version });
    expect(JSON.parse(await fs.readFile(path.join(v2.dir, RULE_SET_FILE), "utf8"))).toEqual(payloadOf(row.jws_v2!));
    // The status report with the v2 digest was accepted and recorded as the version it runs.
    expect(v2.events).toContainEqual(expect.objectContaining({ event: "reported", version: row.version }));
    const [status] =
      await database.client`select s.version, s.digest from runtime_client_status s join runtime_clients c on c.id = s.runtime_client_id where c.name = 'schema-v2-ein'`;
    expect(status).toEqual({ version: row.version, digest: `sha256:${row.digest_v2}` });

    // An old client: asks without the parameter, gets the v1 bytes, verifies them, reports the v1 digest.
    const old = await open({ schemaVersion: 1 });
    seen.length = 0;
    expect(await old.client.syncOnce()).toEqual({ ok: true });
    expect(seen.filter((u) => u.includes("/ruleset")).every((u) => !u.includes("schemaVersion"))).toBe(true);
    expect(old.events).toContainEqual(expect.objectContaining({ event: "activated", version: row.version, digest: `sha256:${row.digest}` }));
    expect(JSON.parse(await fs.readFile(path.join(old.dir, RULE_SET_FILE), "utf8"))).toEqual(payloadOf(row.jws));
    expect(old.client.ruleSet()).toMatchObject({ schemaVersion: 1 });

    // A release reaches both, each in its form, each chain checked.
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "schema v2 next", changes: [], kind: "release" }, keyRing);
    const next = await latest();
    expect(await v2.client.syncOnce()).toEqual({ ok: true });
    expect(await old.client.syncOnce()).toEqual({ ok: true });
    expect(v2.client.status()).toMatchObject({ version: next.version, digest: `sha256:${next.digest_v2}` });
    expect(old.client.status()).toMatchObject({ version: next.version, digest: `sha256:${next.digest}` });
    expect(v2.events.filter((e) => e.event === "refused")).toEqual([]);
    expect(old.events.filter((e) => e.event === "refused")).toEqual([]);
  });

  it("status reports: either digest of the version is accepted, any other refused (422)", async () => {
    const row = await latest();
    const report = (digest: string) =>
      fetch(`${portalUrl}/api/v1/sites/EIN/ruleset/status`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ version: row.version, digest, activatedAt: new Date().toISOString(), trustedKeys: pins }),
      });
    expect((await report(`sha256:${row.digest_v2}`)).status).toBe(204);
    expect((await report(`sha256:${row.digest}`)).status).toBe(204);
    const wrong = await report(`sha256:${"0".repeat(64)}`);
    expect(wrong.status).toBe(422);
    // The digest of the previous version's v2 form does not name this version.
    const [previous] = await database.client`select digest_v2 from rule_set_versions where site_id = ${einId} and version = ${row.version - 1}`;
    expect((await report(`sha256:${previous!.digest_v2}`)).status).toBe(422);
  });

  it("a version made before schema version 2 (no v2 form) is served as v1 to both; the next version's v2 chains to its v1 digest", async () => {
    // A version as the portal made it before migration 0037: v1 only (written as the owner with
    // triggers off, as no application path can write one any more).
    const before = await latest();
    const document = { ...payloadOf(before.jws), version: before.version + 1, previousDigest: `sha256:${before.digest}`, kind: "renewal" };
    const bytes = canonicalBytes(document);
    const jws = JSON.stringify(await signRuleSet(bytes, keyRing));
    await database.owner.begin(async (sql) => {
      await sql`set local session_replication_role = replica`;
      await sql`
        insert into rule_set_versions (site_id, version, effective_from, issued_at, canonical, digest, previous_digest, kind, expires_at, change_request_numbers, jws, created_by, reason)
        select site_id, ${before.version + 1}, effective_from, now(), ${Buffer.from(bytes)}, ${sha256(bytes)}, ${before.digest}, 'renewal', expires_at, '{}', ${jws}, 'test', 'a version from before 0037'
        from rule_set_versions where site_id = ${einId} and version = ${before.version}`;
      await sql`select pg_notify('c981_rulesets', 'EIN')`;
    });
    const legacy = await latest();
    expect(legacy.version).toBe(before.version + 1);
    expect(legacy.jws_v2).toBeNull();
    const v2Client = await open();
    await expect.poll(async () => (await get("?schemaVersion=2")).headers.get("etag")).toBe(`"sha256-${createHash("sha256").update(jws).digest("base64url")}"`);
    expect(await (await get("?schemaVersion=2")).text()).toBe(jws);
    expect(await (await get("")).text()).toBe(jws);
    expect(await v2Client.client.syncOnce()).toEqual({ ok: true });
    expect(v2Client.client.status()).toMatchObject({ version: legacy.version, digest: `sha256:${legacy.digest}` });
    expect(v2Client.client.ruleSet()).toMatchObject({ schemaVersion: 1 });

    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "after a v1-only version", changes: [], kind: "release" }, keyRing);
    const next = await latest();
    expect(payloadOf(next.jws_v2!).previousDigest).toBe(`sha256:${legacy.digest}`);
    expect(payloadOf(next.jws).previousDigest).toBe(`sha256:${legacy.digest}`);
    // The client holding the v1 form checks the v2 chain against it, and moves to v2.
    expect(await v2Client.client.syncOnce()).toEqual({ ok: true });
    expect(v2Client.client.status()).toMatchObject({ version: next.version, digest: `sha256:${next.digest_v2}` });
    expect(v2Client.events.filter((e) => e.event === "refused")).toEqual([]);
  });

  it("a client that held v1 and now asks for v2 takes the v2 form of the same version, once its rules are seen to be the same", async () => {
    const row = await latest();
    const old = await open({ schemaVersion: 1 });
    expect(await old.client.syncOnce()).toEqual({ ok: true });
    expect(old.client.status().digest).toBe(`sha256:${row.digest}`);
    old.client.stop();
    // The same state directory, opened by a client that asks for v2.
    const events: ClientEvent[] = [];
    const upgraded = await RuntimeClient.open({
      url: portalUrl,
      site: "EIN",
      token,
      trust: pins,
      stateDir: old.dir,
      waitSeconds: 0,
      onEvent: (e) => events.push(e),
    });
    expect(await upgraded.syncOnce()).toEqual({ ok: true });
    expect(upgraded.status()).toMatchObject({ version: row.version, digest: `sha256:${row.digest_v2}` });
    expect(upgraded.ruleSet()).toMatchObject({ schemaVersion: 2 });
    expect(events.filter((e) => e.event === "refused")).toEqual([]);
    // The content check it made before switching: the two forms of this version carry the same rules;
    // a v2 form with another rule (signed, say, by a compromised key) does not.
    const v1 = ruleSetDocumentSchema.parse(payloadOf(row.jws));
    const v2 = ruleSetDocumentSchema.parse(payloadOf(row.jws_v2!));
    expect(sameContent(v1, v2)).toBe(true);
    const altered = structuredClone(v2);
    altered.rules[0]!.consumptionScan = altered.rules[0]!.consumptionScan === "none" ? "identify" : "none";
    expect(sameContent(v1, altered)).toBe(false);
    expect(sameContent(v1, { ...v2, changeRequests: ["CR-9999"] })).toBe(false);
  });
});
