/**
 * The runtime pull's fast path (ADR 009) answers exactly what the express router answers — same
 * status, bytes and headers — and hands everything else to express: two portals on one database,
 * one with the fast path (as `npm start` runs) and one without (the reference), asked the same.
 */
import { createHash } from "node:crypto";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient, revokeRuntimeClient } from "../../app/services/runtime-clients.server";
import type { Database } from "../../app/utils/db.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { createPortalServer, type PortalServer } from "../../server/app";
import { DRAINING_WAIT_MS } from "../../server/runtime-long-polls";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;
let token = "";
let einId = 0;
/** Every query the portals' postgres.js client sends (its `debug` hook sees each one). */
const queries: string[] = [];
/**
 * …less those no request causes: the batched "last seen" write every 30 s (ADR 008), the change
 * counter read every few seconds (ADR 017), and the type lookup postgres.js sends when its pool
 * opens a connection (for that write, say).
 */
const requestQueries = (from: number) =>
  queries.slice(from).filter((q) => !/^update "runtime_clients" set "last_seen_at"/.test(q) && !/from pg_catalog\.pg_type/.test(q) && !/ as rulesets,/.test(q));

interface Running {
  portal: PortalServer;
  base: string;
}
let fast: Running;
let reference: Running;
let behindProxy: Running;

async function start(options: Partial<Parameters<typeof createPortalServer>[0]> = {}): Promise<Running> {
  const portal = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined }, ...options });
  portal.server.listen(0, "127.0.0.1");
  await new Promise((r) => portal.server.once("listening", r));
  return { portal, base: `http://127.0.0.1:${(portal.server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  ({ token } = await createRuntimeClient(database.db, "test", { name: "mes-ein-fast", sites: ["EIN"], reason: "test" }));
  einId = (await database.client`select id from sites where code = 'EIN'`)[0]!.id as number;
  database.client.options.debug = (_connection, query) => queries.push(query);
  fast = await start();
  reference = await start({ fastPath: false });
  behindProxy = await start({ env: { C981_TRUST_PROXY: "loopback" } });
}, 120_000);

afterAll(async () => {
  for (const running of [fast, reference, behindProxy]) await running?.portal.close();
});

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string>;
}

/** node:http rather than fetch, which adds headers of its own (Cache-Control with If-None-Match). */
function pull(running: Running, path = "/api/v1/sites/EIN/ruleset", headers: Record<string, string> = {}, method = "GET", body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
    const req = request(`${running.base}${path}`, { method, headers: { Authorization: `Bearer ${token}`, ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        // Date changes by the second; the CSP's nonce and the request id are new for every response, on both paths.
        const comparable = Object.fromEntries(
          Object.entries(res.headers)
            .filter(([name]) => name !== "date" && name !== "x-request-id")
            .map(([name, value]) => [name, name === "content-security-policy" ? String(value).replace(/'nonce-[^']+'/, "'nonce-…'") : String(value)]),
        );
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: comparable });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs `request`, returning what it got and whether the fast path answered it. */
async function viaFastPath(request: () => Promise<Answer>): Promise<Answer & { fastPath: boolean }> {
  const before = fast.portal.fastPath!.stats.served;
  const answer = await request();
  return { ...answer, fastPath: fast.portal.fastPath!.stats.served === before + 1 };
}

describe("the runtime pull's fast path", () => {
  it("answers the second pull itself with the very bytes and headers express sent for the first", async () => {
    const { fastPath: firstByFastPath, ...first } = await viaFastPath(() => pull(fast));
    expect(firstByFastPath).toBe(false);
    expect(first.status).toBe(200);
    const { fastPath: secondByFastPath, ...second } = await viaFastPath(() => pull(fast));
    expect(secondByFastPath).toBe(true);
    expect(second).toEqual(first);
    expect(second.headers).toMatchObject({
      "content-type": "application/jose+json; charset=utf-8",
      "cache-control": "private, no-cache",
      "content-length": String(second.body.length),
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      "cross-origin-opener-policy": "same-origin",
    });
    expect(second.headers.etag).toMatch(/^"sha256-[A-Za-z0-9_-]{43}"$/);
    expect(second.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(second.headers).not.toHaveProperty("strict-transport-security");
    // …and the same as a portal without the fast path answers.
    expect(await pull(reference)).toEqual(first);
    // Each response has a nonce of its own, as from express (16 random bytes).
    const nonces = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const csp = (await fetch(`${fast.base}/api/v1/sites/EIN/ruleset`, { method: "HEAD", headers: { Authorization: `Bearer ${token}` } })).headers.get(
        "content-security-policy",
      )!;
      nonces.add(/'nonce-([A-Za-z0-9+/]{22}==)'/.exec(csp)![1]!);
    }
    expect(nonces.size).toBe(300);
  });

  it("answers 304 for the current ETag, and HEAD and ?waitSeconds=0, exactly as express does", async () => {
    const etag = (await pull(fast)).headers.etag!;
    const etagV2 = (await pull(fast, "/api/v1/sites/EIN/ruleset?schemaVersion=2")).headers.etag!;
    // Two forms of one version, two ETags (ADR 039).
    expect(etagV2).not.toBe(etag);
    const cases: [string, Record<string, string>, string][] = [
      ["/api/v1/sites/EIN/ruleset", { "If-None-Match": etag }, "GET"],
      ["/api/v1/sites/EIN/ruleset", {}, "HEAD"],
      ["/api/v1/sites/EIN/ruleset", { "If-None-Match": etag }, "HEAD"],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=0", { "If-None-Match": etag }, "GET"],
      // A long poll for another version than the one in force answers at once.
      ["/api/v1/sites/EIN/ruleset?waitSeconds=1", {}, "GET"],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=60", { "If-None-Match": '"sha256-an-older-version"' }, "GET"],
      ["/api/v1/sites/ein/ruleset", {}, "GET"],
      ["/api/v1/sites/EIN/ruleset", { "If-None-Match": '"sha256-an-older-version"' }, "GET"],
      // Schema version 2 (ADR 039), asked for with the query parameter, alone or with waitSeconds.
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2", {}, "GET"],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2", {}, "HEAD"],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2", { "If-None-Match": etagV2 }, "GET"],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2", { "If-None-Match": etag }, "GET"],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2&waitSeconds=0", { "If-None-Match": etagV2 }, "GET"],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=1&schemaVersion=2", {}, "GET"],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=1", { "If-None-Match": etag }, "GET"],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=1", {}, "GET"],
    ];
    for (const [path, headers, method] of cases) {
      // The cache serves only what it verified within checkMs: on a loaded machine a late periodic
      // check could leave one of these many cases to express. Checked before each, as warm() does elsewhere.
      await fast.portal.runtimeApi.cache.check();
      const answer = await viaFastPath(() => pull(fast, path, headers, method));
      expect(answer.fastPath, `${method} ${path} ${JSON.stringify(headers)}`).toBe(true);
      expect(answer, `${method} ${path} ${JSON.stringify(headers)}`).toEqual({ ...(await pull(reference, path, headers, method)), fastPath: true });
    }
    const notModified = await pull(fast, "/api/v1/sites/EIN/ruleset", { "If-None-Match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect(notModified.headers).toMatchObject({ etag, "cache-control": "private, no-cache", "x-content-type-options": "nosniff" });
  });

  it("hands to express what it is not sure of, and express's answer stands", async () => {
    const etag = (await pull(fast)).headers.etag!;
    const other = await createRuntimeClient(database.db, "test", { name: "mes-pen-fast", sites: ["PEN"], reason: "test" });
    const cases: [string, Record<string, string>, number][] = [
      // Bad and unknown tokens: 401 problem details.
      ["/api/v1/sites/EIN/ruleset", { Authorization: "Bearer c981_not-a-real-token-at-all" }, 401],
      ["/api/v1/sites/EIN/ruleset", { Authorization: "Basic abc" }, 401],
      // A site outside the client's scope, or none at all: 404.
      ["/api/v1/sites/CLT/ruleset", {}, 404],
      ["/api/v1/sites/NOPE/ruleset", {}, 404],
      ["/api/v1/sites/EIN/ruleset", { Authorization: `Bearer ${other.token}` }, 404],
      // Conditional forms that express's `fresh` decides, and bad query parameters.
      ["/api/v1/sites/EIN/ruleset", { "If-None-Match": `"x", ${etag}` }, 304],
      ["/api/v1/sites/EIN/ruleset", { "If-None-Match": "*" }, 304],
      ["/api/v1/sites/EIN/ruleset", { "If-None-Match": `"x", ${etag}`, "Cache-Control": "no-cache" }, 200],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=61", {}, 400],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=abc", {}, 400],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=-1", {}, 400],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=1.5", {}, 400],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=", {}, 200],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=01", {}, 200],
      ["/api/v1/sites/EIN/ruleset?waitSeconds=1&x=1", {}, 200],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=3", {}, 400],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=02", {}, 400],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2&schemaVersion=2", {}, 400],
      ["/api/v1/sites/EIN/ruleset?schemaVersion=2&waitSeconds=61", {}, 400],
      ["/api/v1/sites/EIN/ruleset/versions/1?schemaVersion=2", {}, 200],
      // Other endpoints.
      ["/api/v1/sites/EIN/ruleset/versions/1", {}, 200],
      ["/api/v1/sites/EIN/ruleset/", {}, 200],
    ];
    for (const [path, headers, status] of cases) {
      const answer = await viaFastPath(() => pull(fast, path, headers));
      const label = `${path} ${JSON.stringify(headers)}`;
      expect(answer.fastPath, label).toBe(false);
      expect(answer.status, label).toBe(status);
      expect(answer, label).toEqual({ ...(await pull(reference, path, headers)), fastPath: false });
    }
    const problem = await pull(fast, "/api/v1/sites/EIN/ruleset", { Authorization: "Bearer c981_not-a-real-token-at-all" });
    expect(problem.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(problem.headers["www-authenticate"]).toMatch(/invalid_token/);
    expect(JSON.parse(problem.body.toString())).toMatchObject({ status: 401, title: "Unauthorized" });
    // A GET with a body goes to express's JSON parser, which refuses malformed JSON.
    const withBody = await pull(fast, "/api/v1/sites/EIN/ruleset", { "Content-Type": "application/json" }, "GET", "{nope");
    expect(withBody.status).toBe(400);
  });

  it("sends Strict-Transport-Security behind a trusted HTTPS proxy, as express does", async () => {
    await pull(behindProxy);
    const before = behindProxy.portal.fastPath!.stats.served;
    const forwarded = await pull(behindProxy, "/api/v1/sites/EIN/ruleset", { "X-Forwarded-Proto": "https" });
    expect(behindProxy.portal.fastPath!.stats.served).toBe(before + 1);
    expect(forwarded.headers["strict-transport-security"]).toBe("max-age=31536000");
    const plain = await pull(behindProxy);
    expect(plain.headers).not.toHaveProperty("strict-transport-security");
    // The untrusted (no proxy configured) portal ignores the header.
    expect((await pull(fast, "/api/v1/sites/EIN/ruleset", { "X-Forwarded-Proto": "https" })).headers).not.toHaveProperty("strict-transport-security");
  });

  it("holds long polls as express does: 304 when the wait ends, 200 after a release, at once when draining", async () => {
    await fast.portal.runtimeApi.cache.check();
    const etag = (await pull(fast)).headers.etag!;
    await pull(reference);
    const held = (running: Running) => running.portal.runtimeApi.cache.longPolls.held;

    // The wait ends: 304 with the ETag the client has, after waitSeconds, GET and HEAD.
    for (const method of ["GET", "HEAD"]) {
      const started = Date.now();
      const served = fast.portal.fastPath!.stats.served;
      const [answer, expected] = await Promise.all([
        pull(fast, "/api/v1/sites/EIN/ruleset?waitSeconds=1", { "If-None-Match": etag }, method),
        pull(reference, "/api/v1/sites/EIN/ruleset?waitSeconds=1", { "If-None-Match": etag }, method),
      ]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(fast.portal.fastPath!.stats.served, method).toBe(served + 1);
      expect(answer.status).toBe(304);
      expect(answer, method).toEqual(expected);
    }

    // A release while both hold: the new version (200), the same bytes and headers on both paths.
    const path = "/api/v1/sites/EIN/ruleset?waitSeconds=30";
    const served = fast.portal.fastPath!.stats.served;
    const waiting = Promise.all([pull(fast, path, { "If-None-Match": etag }), pull(reference, path, { "If-None-Match": etag })]);
    await expect.poll(() => held(fast) + held(reference)).toBe(2);
    expect(fast.portal.fastPath!.stats.served).toBe(served);
    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    const [released, expected] = await waiting;
    expect(fast.portal.fastPath!.stats.served).toBe(served + 1);
    expect(released.status).toBe(200);
    expect(released).toEqual(expected);
    const [newest] = await database.client<{ jws: string }[]>`select jws from rule_set_versions where site_id = ${einId} order by version desc limit 1`;
    expect(released.body.toString("utf8")).toBe(newest!.jws);
    expect(released.headers.etag).toBe(`"sha256-${createHash("sha256").update(newest!.jws).digest("base64url")}"`);
    expect(held(fast) + held(reference)).toBe(0);

    // Stopping: held long polls answer at once (304), and new ones wait a second at most (answered
    // at once, a client polling again at once would loop until the balancer takes the instance out).
    const a = await start();
    const b = await start({ fastPath: false });
    try {
      const now = released.headers.etag!;
      await pull(a);
      await pull(b);
      const holding = Promise.all([pull(a, path, { "If-None-Match": now }), pull(b, path, { "If-None-Match": now })]);
      await expect.poll(() => held(a) + held(b)).toBe(2);
      const drained = Date.now();
      a.portal.drain();
      b.portal.drain();
      const [first, reference304] = await holding;
      expect(Date.now() - drained).toBeLessThan(2000);
      expect(first.status).toBe(304);
      expect(first).toEqual(reference304);
      const servedA = a.portal.fastPath!.stats.served;
      const lateStarted = Date.now();
      const timed = (running: Running) => pull(running, path, { "If-None-Match": now }).then((answer) => ({ answer, ms: Date.now() - lateStarted }));
      const [lateA, lateB] = await Promise.all([timed(a), timed(b)]);
      const [late, lateReference] = [lateA.answer, lateB.answer];
      for (const { ms } of [lateA, lateB]) expect(ms).toBeGreaterThanOrEqual(DRAINING_WAIT_MS - 50);
      expect(Date.now() - drained).toBeLessThan(4000);
      expect(a.portal.fastPath!.stats.served).toBe(servedA + 1);
      expect(late.status).toBe(304);
      expect(late).toEqual(lateReference);
    } finally {
      await a.portal.close();
      await b.portal.close();
    }
  });

  it("costs no database query in steady state; a new release and a revocation reach it by NOTIFY", async () => {
    // The change counter read once, so earlier tests' changes are not dropped meanwhile (ADR 017).
    await fast.portal.runtimeApi.cache.check();
    const etag = (await pull(fast)).headers.etag!;
    const loads = fast.portal.runtimeApi.cache.loads;
    const queriesBefore = queries.length;
    const served = fast.portal.fastPath!.stats.served;
    for (let i = 0; i < 200; i++) {
      const answer = await pull(fast, "/api/v1/sites/EIN/ruleset", i % 2 ? { "If-None-Match": etag } : {});
      expect(answer.status).toBe(i % 2 ? 304 : 200);
    }
    expect(fast.portal.fastPath!.stats.served).toBe(served + 200);
    expect(fast.portal.runtimeApi.cache.loads).toBe(loads);
    expect(requestQueries(queriesBefore)).toEqual([]);
    // The counter is real: a query through the same client is seen.
    await database.db.execute(sql`select 1 as counted`);
    expect(requestQueries(queriesBefore)).toEqual(["select 1 as counted"]);

    await createRuleSetVersion(database.db, { siteId: einId, actor: "test", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    await expect.poll(async () => (await pull(fast, "/api/v1/sites/EIN/ruleset", { "If-None-Match": etag })).status, { timeout: 5000 }).toBe(200);
    const renewed = await pull(fast);
    expect(renewed.headers.etag).not.toBe(etag);
    expect(renewed).toEqual(await pull(reference));
    // Filled once by express, then steady again.
    const afterRelease = queries.length;
    expect((await viaFastPath(() => pull(fast, "/api/v1/sites/EIN/ruleset", { "If-None-Match": renewed.headers.etag! }))).fastPath).toBe(true);
    expect(requestQueries(afterRelease)).toEqual([]);
    expect((await pull(fast, "/api/v1/sites/EIN/ruleset", { "If-None-Match": etag })).status).toBe(200);

    await revokeRuntimeClient(database.db, "test", "mes-ein-fast", "decommissioned");
    await expect.poll(async () => (await pull(fast)).status, { timeout: 5000 }).toBe(401);
    expect((await viaFastPath(() => pull(fast))).fastPath).toBe(false);
  });
});
