/**
 * Conformance of the reference runtime client (clients/runtime), modelled on
 * theupdateframework/tuf-conformance: the client runs against a real portal (the runtime API and
 * JWKS over a real database) and against a hostile server that replays, alters, truncates or
 * floods. Every attack must be refused with a message naming it, and the client must keep its last
 * good rule set — in memory, in ruleset.json and in its state file.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import express from "express";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, GeneralSign } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULE_SET_FILE, ruleSetDocumentSchema, RuntimeClient, STATE_FILE, type ClientEvent, type RuntimeClientOptions } from "../../clients/runtime/src";
import { canonicalBytes } from "../../app/domain/canonical-json";
import { runtimeClientOverview } from "../../app/queries/runtime-clients.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { retireKey, rotateKeys } from "../../app/services/keys.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import type { Database } from "../../app/utils/db.server";
import { loadKeyRing, publicJwks, signRuleSet, type KeyRing } from "../../app/utils/signing.server";
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

type Payload = Record<string, unknown> & {
  version: number;
  site: string;
  signingKeys: string[];
  previousDigest: string | null;
  expiresAt: string;
  effectiveFrom: string;
};
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

let database: Database;
let keyRing: KeyRing;
let api: RuntimeApi;
let portal: http.Server;
let portalUrl = "";
let hostile: http.Server;
let hostileUrl = "";
let token = "";
let einId = 0;
const pins: string[] = [];
const tmp: string[] = [];
/** What the hostile server answers for the rule set in force; everything else is proxied to the portal. */
let serveCurrent: Handler | null = null;
let serveUpcoming: Handler | null = null;
let serveJwks: Handler | null = null;
/** What the hostile server answers for a status report (activation or refusal); else proxied. */
let serveStatus: Handler | null = null;
let hostileDown = false;
/** Long-poll requests the portal has not answered yet, with the ETag each one already has. */
const longPolls = new Map<http.IncomingMessage, string | undefined>();

const listen = async (server: http.Server) => {
  server.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

async function proxy(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers: Record<string, string> = {};
  for (const h of ["authorization", "if-none-match", "content-type"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
  const upstream = await fetch(`${portalUrl}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
  const body = Buffer.from(await upstream.arrayBuffer());
  const out: Record<string, string> = {};
  for (const h of ["content-type", "etag", "cache-control"]) if (upstream.headers.get(h)) out[h] = upstream.headers.get(h)!;
  res.writeHead(upstream.status, out).end(body);
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const [ein] = await database.client`select id from sites where code = 'EIN'`;
  einId = ein!.id as number;
  // Two fresh versions (unexpired), so that an older genuine version can be replayed.
  for (let i = 0; i < 2; i++)
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "conformance setup", changes: [], kind: "renewal" }, keyRing);

  const app = express();
  // Read from the database on every request (a key rotated or retired below is served at once). A
  // failed read is answered (express's error handler: 500) instead of leaving the request hanging
  // until the client's timeout, an unhandled rejection besides.
  app.get(
    "/.well-known/jwks.json",
    (_req, res, next) => void publicJwks(database.db).then((jwks) => void res.type("application/jwk-set+json").send(JSON.stringify(jwks)), next),
  );
  // Dozens of refusals in a few seconds from one client: this suite tests the client, not the limit.
  api = await createRuntimeApi(database, { statusReportsPerMinute: 10_000 });
  app.use((req, res, next) => {
    if (req.query.waitSeconds !== undefined && req.query.waitSeconds !== "0") {
      longPolls.set(req, req.get("if-none-match"));
      res.once("close", () => longPolls.delete(req));
    }
    next();
  });
  app.use("/api/v1", api.router);
  portal = http.createServer(app);
  portalUrl = await listen(portal);

  hostile = http.createServer((req, res) => {
    if (hostileDown) return void res.socket?.destroy();
    const url = req.url ?? "";
    const handler = url.startsWith("/.well-known/jwks.json")
      ? serveJwks
      : /\/ruleset\/status$/.test(url)
        ? serveStatus
        : /\/ruleset\/upcoming(\?|$)/.test(url)
          ? serveUpcoming
          : /\/ruleset(\?|$)/.test(url)
            ? serveCurrent
            : null;
    void Promise.resolve((handler ?? proxy)(req, res)).catch(() => res.socket?.destroy());
  });
  hostileUrl = await listen(hostile);
  ({ token } = await createRuntimeClient(database.db, "test", { name: "conformance-ein", sites: ["EIN"], reason: "conformance" }));
  pins.push(...keyRing.active.map((k) => k.kid));
}, 120_000);

afterAll(async () => {
  hostile.closeAllConnections();
  portal.closeAllConnections();
  await new Promise<void>((r) => hostile.close(() => r()));
  await new Promise<void>((r) => portal.close(() => r()));
  await api.close();
  for (const dir of tmp) await fs.rm(dir, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-runtime-client-"));
  tmp.push(dir);
  return dir;
}

async function open(dir: string, options: Partial<RuntimeClientOptions> = {}) {
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
  return { client, events };
}

/** The client asks for schema version 2 (ADR 039): the suite reads the portal as it does. */
const portalGet = (p: string) =>
  fetch(`${portalUrl}/api/v1/sites/EIN/ruleset${p}${p.includes("?") ? "&" : "?"}schemaVersion=2`, { headers: { Authorization: `Bearer ${token}` } });
const payloadOf = (jws: string) => JSON.parse(Buffer.from((JSON.parse(jws) as { payload: string }).payload, "base64url").toString("utf8")) as Payload;
const sha256 = async (jws: string) => {
  const { createHash } = await import("node:crypto");
  return `sha256:${createHash("sha256")
    .update(Buffer.from((JSON.parse(jws) as { payload: string }).payload, "base64url"))
    .digest("hex")}`;
};
/** A document signed with the portal's own keys (what a compromised mirror cannot do, but a test of each check needs). */
const signed = async (payload: Payload, ring: KeyRing = keyRing) =>
  JSON.stringify(await signRuleSet(canonicalBytes({ ...payload, signingKeys: ring.active.map((k) => k.kid) }), ring));
const answer =
  (body: string | Buffer, status = 200, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    void res.writeHead(status, { "content-type": "application/jose+json", ...headers }).end(body);

/** A client holding the portal's current version (the last good rule set the attacks try to displace). */
let baseline = "";
let current = { jws: "", version: 0, digest: "" };
async function goodClient(options: Partial<RuntimeClientOptions> = {}) {
  const dir = await stateDir();
  await fs.cp(baseline, dir, { recursive: true });
  return { dir, ...(await open(dir, { url: hostileUrl, ...options })) };
}

/** Next version as the portal would issue it, signed with its keys; `change` alters it. */
async function nextVersion(change: (p: Payload) => void = () => {}) {
  const p = payloadOf(current.jws);
  p.version = current.version + 1;
  p.previousDigest = current.digest;
  p.kind = "renewal";
  p.issuedAt = new Date(Date.now() - 1000).toISOString();
  p.expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  change(p);
  return signed(p);
}

async function expectRefused(code: string, serve: Handler, options: Partial<RuntimeClientOptions> = {}) {
  const { client, events, dir } = await goodClient(options);
  const before = {
    ruleset: await fs.readFile(path.join(dir, RULE_SET_FILE), "utf8"),
    state: JSON.parse(await fs.readFile(path.join(dir, STATE_FILE), "utf8")).active,
  };
  // One good round first: what the client read then must not be reported as what it refused.
  expect((await client.syncOnce()).ok).toBe(true);
  serveCurrent = serve;
  try {
    const round = await client.syncOnce();
    expect(round.ok).toBe(false);
  } finally {
    serveCurrent = null;
  }
  const refused = events.find((e) => e.event === "refused");
  expect(refused, JSON.stringify(events)).toMatchObject({ event: "refused", code, keeping: current.version });
  expect((refused as { message: string }).message).toMatch(new RegExp(`^${code}: `));
  // The last good rule set stays, everywhere.
  expect(client.ruleSet()?.version).toBe(current.version);
  expect(client.status()).toMatchObject({ version: current.version, digest: current.digest });
  expect(await fs.readFile(path.join(dir, RULE_SET_FILE), "utf8")).toBe(before.ruleset);
  expect(JSON.parse(await fs.readFile(path.join(dir, STATE_FILE), "utf8")).active).toEqual(before.state);
  expect(events.some((e) => e.event === "activated")).toBe(false);
  // …and the portal holds the refusal as such: what was offered, why, what stays in service.
  const reported = events.find((e) => e.event === "refusal-reported") as Extract<ClientEvent, { event: "refusal-reported" }> | undefined;
  expect(reported, JSON.stringify(events)).toMatchObject({ code });
  const [row] =
    await database.client`select code, offered_version, offered_digest, offered_kid, running_version from runtime_client_refusals order by id desc limit 1`;
  expect(row).toEqual({
    code,
    offered_version: reported!.offeredVersion,
    offered_digest: reported!.offeredDigest,
    offered_kid: reported!.kid,
    running_version: current.version,
  });
  return (refused as { message: string }).message;
}

describe("the reference runtime client against the real portal", () => {
  it("activates the version in force, writes it atomically, and reports it to the portal", async () => {
    const response = await portalGet("");
    current.jws = await response.text();
    current.version = payloadOf(current.jws).version;
    current.digest = await sha256(current.jws);
    baseline = await stateDir();
    const { client, events } = await open(baseline);
    expect(await client.syncOnce()).toEqual({ ok: true });
    expect(events).toContainEqual(expect.objectContaining({ event: "activated", version: current.version, digest: current.digest }));
    expect(client.ruleSet()).toMatchObject({ site: "EIN", version: current.version, type: "c981.ruleset" });
    expect(JSON.parse(await fs.readFile(path.join(baseline, RULE_SET_FILE), "utf8"))).toEqual(payloadOf(current.jws));
    expect((await fs.readdir(baseline)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const [row] =
      await database.client`select s.version, s.digest, s.trusted_keys, s.error from runtime_client_status s join runtime_clients c on c.id = s.runtime_client_id where c.name = 'conformance-ein'`;
    expect(row).toMatchObject({ version: current.version, digest: current.digest, trusted_keys: pins, error: null });
    // Nothing new: a 304 (If-None-Match), no second activation.
    expect(await client.syncOnce()).toEqual({ ok: true });
    expect(events.filter((e) => e.event === "activated")).toHaveLength(1);
  });

  it("understands every document the portal has signed (its own copy of the schema agrees)", async () => {
    const rows = await database.client`select jws, jws_v2 from rule_set_versions`;
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) expect(ruleSetDocumentSchema.safeParse(payloadOf(row.jws as string)).error).toBeUndefined();
    // …in both schema versions (ADR 039).
    const v2 = rows.filter((r) => r.jws_v2 !== null);
    expect(v2.length).toBeGreaterThan(5);
    for (const row of v2) expect(ruleSetDocumentSchema.safeParse(payloadOf(row.jws_v2 as string)).data?.schemaVersion).toBe(2);
  });

  it("the README's verification example for integrators verifies a rule set from the portal as written", async () => {
    const root = path.resolve(import.meta.dirname, "../..");
    const readme = await fs.readFile(path.join(root, "README.md"), "utf8");
    const snippet = /## For MES integrators[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toContain("generalVerify");
    const file = path.join(root, `.readme-example-${randomBytes(4).toString("hex")}.mjs`);
    const prelude = `const portal = ${JSON.stringify(portalUrl)}; const token = ${JSON.stringify(token)};\n`;
    // The integrator's pinned thumbprint takes the place of the placeholder; nothing else changes.
    expect(snippet).toContain('"<thumbprint>"');
    const program = snippet!
      .replace('"<thumbprint>"', pins.map((p) => JSON.stringify(p)).join(", "))
      .replace(/^(import .*\n)+/, (imports) => imports + prelude);
    await fs.writeFile(file, `${program}console.log(JSON.stringify({ site: document.site, version: document.version }));\n`);
    try {
      const { execFile } = await import("node:child_process");
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [file], { cwd: root }, (error, out, err) => (error ? reject(new Error(err)) : resolve(out))),
      );
      expect(JSON.parse(stdout)).toEqual({ site: "EIN", version: payloadOf(await (await portalGet("")).text()).version });
    } finally {
      await fs.rm(file, { force: true });
    }
  });

  it("accepts the same version again only with the same digest", async () => {
    const { client, events } = await goodClient();
    serveCurrent = answer(current.jws);
    expect(await client.syncOnce()).toEqual({ ok: true });
    serveCurrent = null;
    expect(events.filter((e) => e.event === "refused" || e.event === "activated")).toEqual([]);
    await expectRefused("mix-and-match", answer(await signed({ ...payloadOf(current.jws), changeRequests: ["CR-9999"] })));
  });

  it("receives a release by long-poll and activates it", async () => {
    const dir = await stateDir();
    await fs.cp(baseline, dir, { recursive: true });
    const { client, events } = await open(dir, { waitSeconds: 5 });
    const running = client.run();
    // Release only once the client's long-poll for the version in force is open at the portal, which
    // holds it (ADR 008): then the new version can only arrive through that long-poll.
    const inForce = (await portalGet("")).headers.get("etag");
    await expect.poll(() => [...longPolls.values()].includes(inForce ?? ""), { timeout: 5000, interval: 10, message: "no long-poll held" }).toBe(true);
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "long-poll release", changes: [], kind: "release" }, keyRing);
    await expect.poll(() => client.status().version, { timeout: 8000 }).toBe(current.version + 1);
    client.stop();
    await running;
    const activated = events.find((e) => e.event === "activated") as { version: number; digest: string };
    expect(activated.version).toBe(current.version + 1);
    current = { jws: await (await portalGet("")).text(), version: activated.version, digest: activated.digest };
    // The new version names the previous one: the chain held.
    expect(payloadOf(current.jws).previousDigest).toBe(await sha256(await (await portalGet(`/versions/${current.version - 1}`)).text()));
    await fs.rm(baseline, { recursive: true });
    await fs.cp(dir, baseline, { recursive: true });
  });

  it("activates a scheduled version at its effectiveFrom while the portal is down", async () => {
    const dir = await stateDir();
    await fs.cp(baseline, dir, { recursive: true });
    const { client, events } = await open(dir, { url: hostileUrl });
    const effectiveFrom = new Date(Date.now() + 5000);
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "scheduled", changes: [], kind: "release", effectiveFrom }, keyRing);
    expect(await client.syncOnce()).toEqual({ ok: true });
    expect(events).toContainEqual(expect.objectContaining({ event: "scheduled", version: current.version + 1 }));
    hostileDown = true;
    try {
      const running = client.run();
      await expect.poll(() => client.status().version, { timeout: 10_000 }).toBe(current.version + 1);
      expect(Date.now()).toBeGreaterThanOrEqual(effectiveFrom.getTime());
      client.stop();
      await running;
    } finally {
      hostileDown = false;
    }
    expect(events.some((e) => e.event === "unreachable")).toBe(true);
    expect(JSON.parse(await fs.readFile(path.join(dir, RULE_SET_FILE), "utf8")).version).toBe(current.version + 1);
    // Back online: the portal serves the same version by then; the baseline moves on.
    const jws = await (await portalGet("")).text();
    current = { jws, version: payloadOf(jws).version, digest: await sha256(jws) };
    expect(current.version).toBe(client.status().version);
    await fs.rm(baseline, { recursive: true });
    await fs.cp(dir, baseline, { recursive: true });
  });
});

describe("update attacks are refused by name and the last good rule set stays", () => {
  it("rollback: a replayed older version", async () => {
    const older = await (await portalGet(`/versions/${current.version - 1}`)).text();
    expect(await expectRefused("rollback", answer(older))).toContain(`older than the active version ${current.version}`);
  });

  it("expired document (freeze)", async () => {
    const expired = await nextVersion((p) => {
      p.expiresAt = new Date(Date.now() - 60_000).toISOString();
    });
    await expectRefused("expired", answer(expired));
  });

  it("signature by an unpinned key, even when the server also serves that key in its JWKS", async () => {
    const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk, "sha256");
    const p = payloadOf(await nextVersion());
    const signer = new GeneralSign(canonicalBytes({ ...p, signingKeys: [kid] }));
    signer.addSignature(privateKey).setProtectedHeader({ alg: "EdDSA", kid, typ: "c981-ruleset+jws" });
    const body = JSON.stringify(await signer.sign());
    const portalKeys = await publicJwks(database.db);
    serveJwks = answer(JSON.stringify({ keys: [...portalKeys.keys, { ...jwk, kid, alg: "EdDSA", use: "sig" }] }), 200, { "content-type": "application/json" });
    try {
      expect(await expectRefused("untrusted-key", answer(body), { jwksEveryMs: 0 })).toContain(kid);
    } finally {
      serveJwks = null;
    }
    // The portal holds the key the document named (the test's own key, not one the portal knows),
    // the version it claimed and its digest, computed here from what was served.
    const [row] = await database.client`
      select r.code, r.offered_version, r.offered_digest, r.offered_kid, c.name as client
      from runtime_client_refusals r join runtime_clients c on c.id = r.runtime_client_id join sites s on s.id = r.site_id
      where s.code = 'EIN' order by r.id desc limit 1`;
    expect(row).toEqual({ code: "untrusted-key", offered_version: p.version, offered_digest: await sha256(body), offered_kid: kid, client: "conformance-ein" });
    // …and the Runtime clients screen shows it as that client's latest refusal at EIN.
    const overview = await runtimeClientOverview(database.db, { at: new Date() });
    const latest = overview.find((c) => c.name === "conformance-ein")?.sites.find((x) => x.code === "EIN")?.refusals.latest;
    expect(latest).toMatchObject({
      code: "untrusted-key",
      offeredVersion: p.version,
      offeredKid: kid,
      offeredIsStored: false,
      runningVersion: current.version,
    });
  });

  it("one byte changed in the payload, or in the signature", async () => {
    const good = JSON.parse(await nextVersion()) as { payload: string; signatures: { protected: string; signature: string }[] };
    const payload = Buffer.from(good.payload, "base64url");
    payload[payload.indexOf("serial")] = "S".charCodeAt(0);
    await expectRefused("bad-signature", answer(JSON.stringify({ ...good, payload: payload.toString("base64url") })));
    const signature = Buffer.from(good.signatures[0]!.signature, "base64url");
    signature[10] = signature[10]! ^ 0x01;
    await expectRefused(
      "bad-signature",
      answer(JSON.stringify({ ...good, signatures: [{ ...good.signatures[0]!, signature: signature.toString("base64url") }] })),
    );
  });

  it("a genuine rule set of another site", async () => {
    const [clt] =
      await database.client`select v.jws from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'CLT' order by v.version desc limit 1`;
    expect(await expectRefused("wrong-site", answer(clt!.jws as string))).toContain("for site CLT");
  });

  it("missing or extra signature fields, unprotected or unexpected headers, another typ", async () => {
    const good = JSON.parse(await nextVersion()) as { payload: string; signatures: { protected: string; signature: string }[] };
    const sig = good.signatures[0]!;
    await expectRefused("signature-fields", answer(JSON.stringify({ payload: good.payload, signatures: [{ signature: sig.signature }] })));
    await expectRefused("signature-fields", answer(JSON.stringify({ payload: good.payload, signatures: [{ protected: sig.protected }] })));
    await expectRefused("signature-fields", answer(JSON.stringify({ payload: good.payload })));
    await expectRefused("signature-fields", answer(JSON.stringify({ ...good, signatures: [{ ...sig, header: { kid: "x" } }] })));
    await expectRefused("signature-fields", answer(JSON.stringify({ ...good, extra: true })));
    const key = keyRing.active[0]!;
    const p = payloadOf(await nextVersion());
    const withCrit = new GeneralSign(canonicalBytes({ ...p, signingKeys: [key.kid] }));
    withCrit
      .addSignature(key.privateKey)
      .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "c981-ruleset+jws", jku: "https://attacker.example/jwks.json" });
    await expectRefused("signature-fields", answer(JSON.stringify(await withCrit.sign())));
    const asJwt = new GeneralSign(canonicalBytes({ ...p, signingKeys: [key.kid] }));
    asJwt.addSignature(key.privateKey).setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "JWT" });
    await expectRefused("wrong-type", answer(JSON.stringify(await asJwt.sign())));
  });

  it("signatures that do not match the keys the document declares (mix-and-match)", async () => {
    const key = keyRing.active[0]!;
    const p = payloadOf(await nextVersion());
    const other = "A".repeat(43);
    const signer = new GeneralSign(canonicalBytes({ ...p, signingKeys: [key.kid, other] }));
    signer.addSignature(key.privateKey).setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "c981-ruleset+jws" });
    expect(await expectRefused("mix-and-match", answer(JSON.stringify(await signer.sign())))).toContain(`missing: ${other}`);
  });

  it("truncated body: cut short, or cut off below its declared length", async () => {
    const body = await nextVersion();
    await expectRefused("malformed", answer(body.slice(0, Math.floor(body.length / 2))));
    const half = Buffer.from(body).subarray(0, Math.floor(body.length / 2));
    const cutOff: Handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/jose+json", "content-length": String(Buffer.byteLength(body)) });
      res.write(half, () => res.socket?.destroy());
    };
    expect(await expectRefused("malformed", cutOff)).toContain("truncated");
  });

  it("oversized body: declared too large, or endless without a length", async () => {
    const big = Buffer.alloc(8 * 1024 * 1024 + 1, 0x20);
    await expectRefused("oversized", answer(big));
    // Refused unread: the report says nothing was readable, not the version the client holds.
    const [refusal] = await database.client`select offered_version, offered_digest from runtime_client_refusals order by id desc limit 1`;
    expect(refusal).toEqual({ offered_version: null, offered_digest: null });
    let sent = 0;
    const endless: Handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/jose+json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
    };
    expect(await expectRefused("oversized", endless, { maxBytes: 1024 * 1024 })).toContain("exceeds the limit of 1048576 bytes");
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it("previousDigest chain break", async () => {
    await expectRefused("chain-break", answer(await nextVersion((p) => (p.previousDigest = `sha256:${randomBytes(32).toString("hex")}`))));
  });

  it("a version served as in force before its effectiveFrom", async () => {
    await expectRefused("premature", answer(await nextVersion((p) => (p.effectiveFrom = new Date(Date.now() + 3_600_000).toISOString()))));
  });

  it("a scheduled version that breaks a check is refused too, and never activated", async () => {
    const { client, events } = await goodClient();
    serveUpcoming = answer(
      await nextVersion((p) => {
        p.effectiveFrom = new Date(Date.now() + 1000).toISOString();
        p.site = "CLT";
      }),
    );
    try {
      await client.syncOnce();
    } finally {
      serveUpcoming = null;
    }
    expect(events).toContainEqual(expect.objectContaining({ event: "refused", source: "upcoming", code: "wrong-site" }));
    expect(client.status().pending).toBeNull();
  });

  it("garbage from the portal (HTML, 500, not JSON) is refused or waited out; the client keeps running", async () => {
    await expectRefused("malformed", answer("<html>maintenance</html>", 200, { "content-type": "text/html" }));
    const { client, events } = await goodClient();
    serveCurrent = answer(JSON.stringify({ type: "about:blank", title: "Internal Server Error", status: 500 }), 500);
    try {
      expect(await client.syncOnce()).toEqual({ ok: false });
    } finally {
      serveCurrent = null;
    }
    expect(events).toContainEqual(expect.objectContaining({ event: "unreachable", keeping: current.version }));
    expect(client.ruleSet()?.version).toBe(current.version);
  });
});

/** A next version signed by a key the portal never had (what an attacker with a mirror can serve). */
async function signedByStranger() {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey), "sha256");
  const p = payloadOf(await nextVersion());
  const signer = new GeneralSign(canonicalBytes({ ...p, signingKeys: [kid] }));
  signer.addSignature(privateKey).setProtectedHeader({ alg: "EdDSA", kid, typ: "c981-ruleset+jws" });
  return { body: JSON.stringify(await signer.sign()), kid, version: p.version };
}

describe("refusal reports are best effort", () => {
  it("a refusal the portal cannot take changes nothing; the report is sent on a later round", async () => {
    const { client, events } = await goodClient();
    expect((await client.syncOnce()).ok).toBe(true);
    const { body, kid, version } = await signedByStranger();
    const digest = await sha256(body);
    const rowsFor = async () => Number((await database.client`select count(*) as n from runtime_client_refusals where offered_digest = ${digest}`)[0]!.n);
    serveCurrent = answer(body);
    serveStatus = answer(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503 }), 503, {
      "content-type": "application/problem+json",
    });
    try {
      expect(await client.syncOnce()).toEqual({ ok: false });
      // Refused all the same, the last good rule set kept; nothing reached the portal.
      expect(events).toContainEqual(expect.objectContaining({ event: "refused", code: "untrusted-key", keeping: current.version }));
      expect(events).toContainEqual(expect.objectContaining({ event: "report-failed" }));
      expect(events.some((e) => e.event === "refusal-reported")).toBe(false);
      expect(client.ruleSet()?.version).toBe(current.version);
      expect(await rowsFor()).toBe(0);
      // The portal takes reports again: the next round (still offered the same document) sends it, once.
      serveStatus = null;
      expect(await client.syncOnce()).toEqual({ ok: false });
      expect(await client.syncOnce()).toEqual({ ok: false });
    } finally {
      serveCurrent = null;
      serveStatus = null;
    }
    expect(events).toContainEqual(expect.objectContaining({ event: "refusal-reported", code: "untrusted-key", offeredVersion: version, kid }));
    expect(await rowsFor()).toBe(1);
    const [row] =
      await database.client`select code, offered_version, offered_kid, running_version from runtime_client_refusals where offered_digest = ${digest}`;
    expect(row).toEqual({ code: "untrusted-key", offered_version: version, offered_kid: kid, running_version: current.version });
    expect(client.ruleSet()?.version).toBe(current.version);
  });
});

describe("a token that does not cover the site is forbidden, not unreachable", () => {
  let cltToken = "";
  beforeAll(async () => {
    ({ token: cltToken } = await createRuntimeClient(database.db, "test", { name: "conformance-clt", sites: ["CLT"], reason: "scope mismatch" }));
  });

  it("a site outside the token's scope (404) and an unknown token (401) are `forbidden`", async () => {
    for (const wrong of [cltToken, randomBytes(32).toString("base64url")]) {
      const { client, events } = await open(await stateDir(), { token: wrong });
      expect(await client.syncOnce()).toEqual({ ok: false });
      const forbidden = events.find((e) => e.event === "forbidden");
      expect(forbidden, JSON.stringify(events)).toMatchObject({ event: "forbidden", status: wrong === cltToken ? 404 : 401, keeping: null });
      expect(events.some((e) => e.event === "unreachable")).toBe(false);
      expect(client.status()).toMatchObject({ failure: "forbidden", version: null });
      expect(client.status().lastError).toMatch(/^forbidden: /);
      expect(client.ruleSet()).toBeNull();
    }
  });

  it("a client holding a rule set keeps it when its token loses the site", async () => {
    const { client, events } = await goodClient({ url: portalUrl, token: cltToken });
    expect(await client.syncOnce()).toEqual({ ok: false });
    expect(events).toContainEqual(expect.objectContaining({ event: "forbidden", status: 404, keeping: current.version }));
    expect(client.status()).toMatchObject({ failure: "forbidden", version: current.version });
    expect(client.ruleSet()?.version).toBe(current.version);
  });

  it("a portal that is down, or a site with no rule set in force yet, stays `unreachable`", async () => {
    const { client, events } = await goodClient();
    serveCurrent = answer(JSON.stringify({ type: "about:blank", title: "Not Found", status: 404, detail: "Site EIN has no rule set in force." }), 404, {
      "content-type": "application/problem+json",
    });
    try {
      expect(await client.syncOnce()).toEqual({ ok: false });
      expect(client.status().failure).toBe("unreachable");
      serveCurrent = null;
      hostileDown = true;
      expect(await client.syncOnce()).toEqual({ ok: false });
      expect(client.status().failure).toBe("unreachable");
    } finally {
      serveCurrent = null;
      hostileDown = false;
    }
    expect(events.some((e) => e.event === "forbidden")).toBe(false);
    expect(events.filter((e) => e.event === "unreachable")).toHaveLength(2);
  });

  it("a JWKS that does not answer does not hide the portal's refusal: still `forbidden`", async () => {
    // A client with no keys yet (the CLI's --once on a fresh state directory) behind a portal whose
    // /.well-known/jwks.json never answers: the rule set, asked first, is refused (404, site not in
    // the token's scope). Asked after the JWKS, the round ended `unreachable` at the JWKS's timeout.
    const hung: http.ServerResponse[] = [];
    let jwksAsked = 0;
    serveJwks = (_req, res) => {
      jwksAsked++;
      hung.push(res);
    };
    try {
      const { client, events } = await open(await stateDir(), { url: hostileUrl, token: cltToken, requestTimeoutMs: 1000 });
      expect(await client.syncOnce()).toEqual({ ok: false });
      expect(events, JSON.stringify(events)).toContainEqual(expect.objectContaining({ event: "forbidden", status: 404, keeping: null }));
      expect(events.some((e) => e.event === "unreachable")).toBe(false);
      expect(client.status()).toMatchObject({ failure: "forbidden", version: null });
      // Keys serve only to verify a document; a refused token gets none, so none were asked for.
      expect(jwksAsked).toBe(0);
    } finally {
      serveJwks = null;
      for (const res of hung) res.destroy();
    }
  });

  it("a JWKS that fails when a document must be verified: `unreachable`, not a refusal; the next round activates", async () => {
    const dir = await stateDir();
    const { client, events } = await open(dir, { url: hostileUrl });
    serveJwks = answer(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503 }), 503, { "content-type": "application/problem+json" });
    try {
      expect(await client.syncOnce()).toEqual({ ok: false });
    } finally {
      serveJwks = null;
    }
    expect(client.status()).toMatchObject({ failure: "unreachable", version: null });
    expect(events.filter((e) => e.event === "unreachable").map((e) => (e as { message: string }).message)).toEqual(["JWKS: HTTP 503"]);
    expect(events.some((e) => e.event === "refused" || e.event === "refusal-reported" || e.event === "forbidden")).toBe(false);
    expect(client.ruleSet()).toBeNull();
    await expect(fs.access(path.join(dir, RULE_SET_FILE))).rejects.toThrow();
    expect(await client.syncOnce()).toEqual({ ok: true });
    const inForce = payloadOf(await (await portalGet("")).text()).version;
    expect(client.status()).toMatchObject({ failure: null, version: inForce });
  });

  it("the CLI's --once prints status `forbidden` and exits 3", async () => {
    const dir = await stateDir();
    const result = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        path.resolve("node_modules/.bin/tsx"),
        ["clients/runtime/src/cli.ts", "--once", "--url", portalUrl, "--site", "EIN", "--trust", pins.join(","), "--state-dir", dir],
        { env: { ...process.env, C981_RUNTIME_TOKEN: cltToken }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const e = error as (Error & { code?: number; signal?: string | null }) | null;
          resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout, stderr });
        },
      );
    });
    // A failure explains itself: the exit (or the signal that ended it), every event line, and stderr.
    expect(result.code, `exit ${result.code} signal ${result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(3);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.event === "forbidden")).toBe(true);
    expect(lines.some((l) => l.event === "unreachable")).toBe(false);
    expect(lines.at(-1)).toMatchObject({ event: "status", site: "EIN", failure: "forbidden", version: null });
  }, 90_000);
});

describe("state on disk", () => {
  it("portal down at start-up with a saved state: keeps running on it", async () => {
    const dir = await stateDir();
    await fs.cp(baseline, dir, { recursive: true });
    const { client, events } = await open(dir, { url: "http://127.0.0.1:9" });
    expect(events[0]).toEqual({ event: "state-loaded", version: current.version, pending: null });
    expect(await client.syncOnce()).toEqual({ ok: false });
    expect(events).toContainEqual(expect.objectContaining({ event: "unreachable", keeping: current.version }));
    expect(client.ruleSet()?.version).toBe(current.version);
    expect(JSON.parse(await fs.readFile(path.join(dir, RULE_SET_FILE), "utf8")).version).toBe(current.version);
  });

  it("restart with a corrupt state file: refuses it, sets it aside, fetches afresh", async () => {
    const dir = await stateDir();
    await fs.cp(baseline, dir, { recursive: true });
    const text = await fs.readFile(path.join(dir, STATE_FILE), "utf8");
    await fs.writeFile(path.join(dir, STATE_FILE), text.slice(0, text.length - 100));
    const { client, events } = await open(dir);
    expect(events[0]).toMatchObject({ event: "state-refused", reason: expect.stringContaining("not JSON") });
    expect(client.ruleSet()).toBeNull();
    expect((await fs.readdir(dir)).some((f) => f.startsWith(`${STATE_FILE}.refused-`))).toBe(true);
    expect(await client.syncOnce()).toEqual({ ok: true });
    expect(client.status()).toMatchObject({ version: current.version, digest: current.digest });
  });

  it("restart with a tampered state file (a rule changed in the saved rule set): refuses it", async () => {
    const dir = await stateDir();
    await fs.cp(baseline, dir, { recursive: true });
    const state = JSON.parse(await fs.readFile(path.join(dir, STATE_FILE), "utf8"));
    const jws = JSON.parse(state.active.jws);
    jws.payload = Buffer.from(Buffer.from(jws.payload, "base64url").toString("utf8").replace('"trackingMode":"serial"', '"trackingMode":"none"')).toString(
      "base64url",
    );
    state.active.jws = JSON.stringify(jws);
    await fs.writeFile(path.join(dir, STATE_FILE), JSON.stringify(state));
    const { client, events } = await open(dir, { url: "http://127.0.0.1:9" });
    expect(events[0]).toMatchObject({ event: "state-refused", reason: expect.stringContaining("bad-signature") });
    expect(client.ruleSet()).toBeNull();
    await expect(fs.access(path.join(dir, RULE_SET_FILE))).rejects.toThrow();
  });

  it("on expiry: keeps the last good rule set and raises an alarm, or stops serving it", async () => {
    const expiresAt = Date.parse(payloadOf(current.jws).expiresAt);
    const later = () => new Date(expiresAt + 1000);
    const keep = await goodClient({ now: later, url: "http://127.0.0.1:9" });
    await keep.client.syncOnce();
    expect(keep.events).toContainEqual(expect.objectContaining({ event: "expired", version: current.version, action: "keep" }));
    expect(keep.client.ruleSet()?.version).toBe(current.version);
    expect(keep.client.status()).toMatchObject({ expired: true, lastError: expect.stringContaining("expired") });
    await fs.access(path.join(keep.dir, RULE_SET_FILE));

    const stop = await goodClient({ now: later, url: "http://127.0.0.1:9", onExpiry: "stop" });
    await stop.client.syncOnce();
    expect(stop.events).toContainEqual(expect.objectContaining({ event: "expired", action: "stop" }));
    expect(stop.client.ruleSet()).toBeNull();
    await expect(fs.access(path.join(stop.dir, RULE_SET_FILE))).rejects.toThrow();
    // The saved rule set itself stays on disk (state), so a fresh version can follow it.
    expect(JSON.parse(await fs.readFile(path.join(stop.dir, STATE_FILE), "utf8")).active).not.toBeNull();
  });
});

describe("key rotation", () => {
  it("with overlap passes; after overlap the retired key is refused", async () => {
    const oldKid = keyRing.active[0]!.kid;
    const oldRing = keyRing;
    const { kid: newKid } = await rotateKeys(database.db, keyRing.dir, "test");
    const both = [oldKid, newKid];
    // A runtime pinned to the old key only still passes during the overlap (signed by both).
    const oldOnly = await goodClient({ url: portalUrl, trust: [oldKid] });
    expect(await oldOnly.client.syncOnce()).toEqual({ ok: true });
    expect(oldOnly.events).toContainEqual(expect.objectContaining({ event: "activated", version: current.version + 1 }));
    // The integrator pins the new key too; its report tells the portal so.
    const pinnedBoth = await goodClient({ url: portalUrl, trust: both });
    expect(await pinnedBoth.client.syncOnce()).toEqual({ ok: true });
    const overlap = pinnedBoth.client.status();
    expect(overlap.version).toBe(current.version + 1);
    expect(JSON.parse(Buffer.from(JSON.parse(await (await portalGet("")).text()).payload, "base64url").toString()).signingKeys.sort()).toEqual(
      [...both].sort(),
    );

    await retireKey(database.db, keyRing.dir, "test", oldKid);
    keyRing = await loadKeyRing(database.db, keyRing.dir);
    expect(keyRing.active.map((k) => k.kid)).toEqual([newKid]);
    // The JWKS no longer lists the old key: the client records it retired and takes the new-key-only version.
    await pinnedBoth.client.refreshKeys();
    expect(pinnedBoth.events).toContainEqual({ event: "key-retired", kid: oldKid });
    expect(await pinnedBoth.client.syncOnce()).toEqual({ ok: true });
    expect(pinnedBoth.client.status().version).toBe(current.version + 2);

    // An attacker holding the retired key (or replaying its era) signs a newer version: refused.
    const p = payloadOf(await (await portalGet("")).text());
    p.version += 1;
    p.previousDigest = pinnedBoth.client.status().digest;
    const forged = JSON.stringify(
      await signRuleSet(canonicalBytes({ ...p, signingKeys: [oldKid] }), { ...oldRing, active: oldRing.active.filter((k) => k.kid === oldKid) }),
    );
    serveCurrent = answer(forged);
    const attacked = await RuntimeClient.open({
      url: hostileUrl,
      site: "EIN",
      token,
      trust: both,
      stateDir: pinnedBoth.dir,
      waitSeconds: 0,
      onEvent: (e) => pinnedBoth.events.push(e),
    });
    try {
      expect(await attacked.syncOnce()).toEqual({ ok: false });
    } finally {
      serveCurrent = null;
    }
    expect(pinnedBoth.events).toContainEqual(expect.objectContaining({ event: "refused", code: "retired-key", message: expect.stringContaining(oldKid) }));
    expect(attacked.status().version).toBe(current.version + 2);
  });
});
