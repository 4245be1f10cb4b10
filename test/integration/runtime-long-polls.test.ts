/**
 * Held long polls and single-flight (issue 22; ADR 009 amendment): concurrent cache misses for one
 * key make one database read; after a release every held long poll of a site, on the fast path and
 * on express, is answered with the new version from one reload per site per instance; a scheduled
 * version reaches held polls when it takes effect; a client that goes away is dropped; the metrics
 * (pulls by site and status, held long polls, cache hits/misses/coalesced, reconnects) follow.
 */
import { createHash } from "node:crypto";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient, revokeRuntimeClient } from "../../app/services/runtime-clients.server";
import { connect, type Database } from "../../app/utils/db.server";
import { metrics } from "../../app/utils/metrics.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { createPortalServer, type PortalServer } from "../../server/app";
import { RuntimeCache } from "../../server/runtime-cache";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;
let token = "";
const siteIds: Record<string, number> = {};

interface Running {
  portal: PortalServer;
  port: number;
}
const running: Running[] = [];

async function start(fastPath: boolean): Promise<Running> {
  const portal = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined }, fastPath });
  portal.server.listen(0, "127.0.0.1");
  await new Promise((r) => portal.server.once("listening", r));
  const started = { portal, port: (portal.server.address() as AddressInfo).port };
  running.push(started);
  return started;
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  ({ token } = await createRuntimeClient(database.db, "test", { name: "mes-two-sites", sites: ["EIN", "PEN"], reason: "test" }));
  for (const row of await database.client<{ id: number; code: string }[]>`select id, code from sites`) siteIds[row.code] = row.id;
}, 120_000);

afterAll(async () => {
  for (const r of running) await r.portal.close();
});

/** The oracle: the newest version's JWS of the site in force now, and its ETag, by plain SQL. */
async function inForce(code: string): Promise<{ jws: string; etag: string }> {
  const [row] = await database.client<{ jws: string }[]>`
    select v.jws from rule_set_versions v join sites s on s.id = v.site_id
    where s.code = ${code} and v.effective_from <= now() order by v.version desc limit 1`;
  return { jws: row!.jws, etag: `"sha256-${createHash("sha256").update(row!.jws).digest("base64url")}"` };
}

function pull(port: number, code: string, headers: Record<string, string> = {}): Promise<{ status: number; etag: string; body: string }> {
  return new Promise((resolve, reject) => {
    const path = `/api/v1/sites/${code}/ruleset${headers["If-None-Match"] ? "?waitSeconds=30" : ""}`;
    const req = request({ host: "127.0.0.1", port, path, agent: false, headers: { Authorization: `Bearer ${token}`, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, etag: String(res.headers.etag), body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A counter's value for these labels (the registry is the process's: tests look at differences). */
async function value(metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string> = {}) {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

describe("single-flight cache reads", () => {
  it("concurrent misses for one key make one database read, and a NOTIFY meanwhile starts a new one", async () => {
    const cache = new RuntimeCache(database);
    await cache.start();
    try {
      const ein = siteIds.EIN!;
      const expected = await inForce("EIN");
      const cases: [string, "rulesets" | "clients" | "keys", () => Promise<unknown>][] = [
        ["ruleset", "rulesets", () => cache.current(ein)],
        ["token", "clients", () => cache.client(token)],
        ["site", "clients", () => cache.site("EIN")],
        ["keys", "keys", () => cache.jwks()],
      ];
      for (const [part, cachePart, lookup] of cases) {
        // Dropping clients also starts the token preload: for the site list, let it finish first.
        const preloaded = part === "token";
        const dropFirst = cachePart === "clients" && !preloaded;
        if (dropFirst) {
          cache.invalidate([cachePart]);
          await cache.preloadClients();
        }
        const [loads, misses, coalesced, hits] = [
          cache.loads,
          await value(metrics.cacheMisses, { part }),
          await value(metrics.cacheCoalesced, { part }),
          await value(metrics.cacheHits, { part }),
        ];
        if (!dropFirst) cache.invalidate([cachePart]);
        const answers = await Promise.all(Array.from({ length: 50 }, lookup));
        expect(cache.loads, part).toBe(loads + 1);
        expect(new Set(answers).size, part).toBe(1);
        expect(await value(metrics.cacheMisses, { part }), part).toBe(misses + 1);
        // Tokens: the drop starts the one read of every active client's token (preloadClients),
        // and all 50 lookups wait for it and then find theirs (hits); the other parts join the
        // first lookup's read (coalesced).
        expect(await value(metrics.cacheCoalesced, { part }), part).toBe(coalesced + (preloaded ? 0 : 49));
        // Kept: the next lookup is a hit.
        await lookup();
        expect(cache.loads, part).toBe(loads + 1);
        expect(await value(metrics.cacheHits, { part }), part).toBe(hits + (preloaded ? 51 : 1));
      }
      const current = (await cache.current(ein))!;
      expect(current.jws).toBe(expected.jws);
      expect(current.etag).toBe(expected.etag);
      expect((await cache.client(token))?.siteIds).toEqual(new Set([siteIds.EIN, siteIds.PEN]));

      // A NOTIFY (here: the same drop) while a read is in flight: a later miss does not join it,
      // and what the first read returns is not kept.
      cache.invalidate(["rulesets"]);
      const loads = cache.loads;
      const first = cache.current(ein);
      await new Promise((r) => setImmediate(r));
      expect(cache.loads).toBe(loads + 1);
      cache.invalidate(["rulesets"]);
      const second = cache.current(ein);
      const [a, b] = await Promise.all([first, second]);
      expect(cache.loads).toBe(loads + 2);
      expect(a).not.toBe(b);
      expect(cache.peekCurrent(ein)).toBe(b);
      expect(cache.staleness()).toBeLessThan(cache.checkMs / 1000 + 1);
    } finally {
      await cache.stop();
    }
  });
});

describe("every active token held from the start", () => {
  it("a runtime's first pull finds its token in memory; a client made or revoked elsewhere follows by NOTIFY", async () => {
    const cache = new RuntimeCache(database);
    await cache.start();
    try {
      // Loaded at start, before any lookup: the fast path can answer the first pull (as soon as
      // the check that follows the LISTEN has run: peek* serves only what was verified since).
      await until(() => cache.peekClient(token) !== undefined);
      expect(cache.peekClient(token)?.siteIds).toEqual(new Set([siteIds.EIN, siteIds.PEN]));
      // …from the one read of every token at start, not a read of this one.
      expect(cache.loads).toBe(1);
      const made = await createRuntimeClient(database.db, "test", { name: "mes-preload", sites: ["EIN"], reason: "test" });
      await until(() => cache.peekClient(made.token) !== undefined);
      expect(cache.peekClient(made.token)?.siteIds).toEqual(new Set([siteIds.EIN]));
      await revokeRuntimeClient(database.db, "test", "mes-preload", "test");
      await until(() => cache.peekClient(made.token) === undefined && cache.peekClient(token) !== undefined);
      // Revoked means unknown, also when asked through the database path.
      expect(await cache.client(made.token)).toBeNull();
      // A guessed token is never cached.
      expect(await cache.client("x".repeat(43))).toBeNull();
      expect(cache.peekClient("x".repeat(43))).toBeUndefined();
    } finally {
      await cache.stop();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("held long polls", () => {
  it("a release answers every held poll of the site with the new version, from one reload per site per instance", async () => {
    const fast = await start(true);
    const viaExpress = await start(false);
    const portals = [fast, viaExpress];
    const before = { ein: await inForce("EIN"), pen: await inForce("PEN") };
    for (const p of portals) {
      // Fill each cache (token, site, rule set) and read the change counter once.
      for (const code of ["EIN", "PEN"]) expect((await pull(p.port, code)).status).toBe(200);
      await p.portal.runtimeApi.cache.check();
    }
    const pulls = {
      ein200: await value(metrics.pulls, { site: "EIN", status: "200" }),
      pen304: await value(metrics.pulls, { site: "PEN", status: "304" }),
    };
    const gauge = await value(metrics.heldLongPolls);
    const served = fast.portal.fastPath!.stats.served;

    const M = 30;
    const held = portals.map((p) => ({
      ein: Array.from({ length: M }, () => pull(p.port, "EIN", { "If-None-Match": before.ein.etag })),
      pen: Array.from({ length: 10 }, () => pull(p.port, "PEN", { "If-None-Match": before.pen.etag })),
    }));
    for (const p of portals) await expect.poll(() => p.portal.runtimeApi.cache.longPolls.held, { timeout: 10_000 }).toBe(M + 10);
    expect(await value(metrics.heldLongPolls)).toBe(gauge + 2 * (M + 10));
    const loads = portals.map((p) => p.portal.runtimeApi.cache.loads);

    await createRuleSetVersion(database.db, { siteId: siteIds.EIN!, actor: "test", reason: "renewal", changes: [], kind: "renewal" }, keyRing);
    const committed = Date.now();
    const after = await inForce("EIN");
    expect(after.etag).not.toBe(before.ein.etag);
    for (const [i, p] of portals.entries()) {
      const answers = await Promise.all(held[i]!.ein);
      expect(answers.map((a) => a.status)).toEqual(Array(M).fill(200));
      expect(new Set(answers.map((a) => a.etag))).toEqual(new Set([after.etag]));
      expect(answers.every((a) => a.body === after.jws)).toBe(true);
      // The release dropped every site's rule set: one read for each site someone waits at (EIN, PEN).
      expect(p.portal.runtimeApi.cache.loads - loads[i]!).toBe(2);
      // PEN did not change: its polls are still held.
      expect(p.portal.runtimeApi.cache.longPolls.held).toBe(10);
    }
    expect(Date.now() - committed).toBeLessThan(5000);
    expect(fast.portal.fastPath!.stats.served).toBe(served + M);
    expect(await value(metrics.pulls, { site: "EIN", status: "200" })).toBe(pulls.ein200 + 2 * M);
    expect(await value(metrics.heldLongPolls)).toBe(gauge + 20);

    // Stopping answers the rest: 304 with PEN's ETag; the gauge is back where it was.
    for (const p of portals) p.portal.drain();
    for (const h of held) for (const answer of await Promise.all(h.pen)) expect(answer).toMatchObject({ status: 304, etag: before.pen.etag, body: "" });
    expect(await value(metrics.pulls, { site: "PEN", status: "304" })).toBe(pulls.pen304 + 20);
    expect(await value(metrics.heldLongPolls)).toBe(gauge);
  });

  it("a scheduled version reaches held polls when it takes effect", async () => {
    const portals = [await start(true), await start(false)];
    const before = await inForce("PEN");
    for (const p of portals) expect((await pull(p.port, "PEN")).status).toBe(200);
    const waiting = portals.map((p) => pull(p.port, "PEN", { "If-None-Match": before.etag }));
    for (const p of portals) await expect.poll(() => p.portal.runtimeApi.cache.longPolls.held).toBe(1);
    const effectiveFrom = new Date(Date.now() + 2500);
    await createRuleSetVersion(database.db, { siteId: siteIds.PEN!, actor: "test", reason: "scheduled", changes: [], effectiveFrom }, keyRing);
    // Announced by NOTIFY but not in force yet: still held.
    await new Promise((r) => setTimeout(r, 1000));
    for (const p of portals) expect(p.portal.runtimeApi.cache.longPolls.held).toBe(1);
    const answers = await Promise.all(waiting);
    const answeredAt = Date.now();
    expect(answeredAt).toBeGreaterThanOrEqual(effectiveFrom.getTime());
    expect(answeredAt - effectiveFrom.getTime()).toBeLessThan(2000);
    const after = await inForce("PEN");
    expect(after.etag).not.toBe(before.etag);
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, etag: after.etag, body: after.jws });
  });

  it("a client that goes away is dropped without an answer; the gauge follows", async () => {
    const portals = [await start(true), await start(false)];
    const { etag } = await inForce("EIN");
    const gauge = await value(metrics.heldLongPolls);
    for (const p of portals) {
      expect((await pull(p.port, "EIN")).status).toBe(200);
      const socket = net.connect(p.port, "127.0.0.1");
      let received = "";
      socket.on("data", (c: Buffer) => (received += c.toString()));
      socket.write(`GET /api/v1/sites/EIN/ruleset?waitSeconds=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nIf-None-Match: ${etag}\r\n\r\n`);
      await expect.poll(() => p.portal.runtimeApi.cache.longPolls.held).toBe(1);
      expect(await value(metrics.heldLongPolls)).toBe(gauge + 1);
      socket.destroy();
      await expect.poll(() => p.portal.runtimeApi.cache.longPolls.held).toBe(0);
      expect(await value(metrics.heldLongPolls)).toBe(gauge);
      expect(received).toBe("");
    }
  });

  it("counts a LISTEN re-established after its connection was lost", async () => {
    const p = await start(true);
    const reconnects = await value(metrics.dbReconnects);
    const terminated = await database.client`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`;
    expect(terminated.length).toBeGreaterThan(0);
    await expect.poll(() => value(metrics.dbReconnects), { timeout: 10_000 }).toBeGreaterThanOrEqual(reconnects + 1);
    // …and it serves on.
    expect((await pull(p.port, "EIN")).status).toBe(200);
  });

  it("counts the database errors the cache meets, and says how stale it is", async () => {
    // A port nothing listens on: the LISTEN and the change counter both fail.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const away = connect(`postgres://nobody@127.0.0.1:${port}/none`, { max: 1 });
    const errors = await value(metrics.dbErrors, { where: "runtime-cache" });
    const cache = new RuntimeCache(away, { checkMs: 1000 });
    try {
      await cache.start();
      expect(await value(metrics.dbErrors, { where: "runtime-cache" })).toBeGreaterThanOrEqual(errors + 2);
      expect(cache.staleness()).toBe(Number.POSITIVE_INFINITY);
      await expect(cache.current(siteIds.EIN!)).rejects.toMatchObject({ name: expect.stringMatching(/Unavailable/) });
    } finally {
      await cache.stop();
      await away.close();
    }
  }, 30_000);
});
