/**
 * The status reports' fast path (server/status-report-fast-path.ts, ADR 026) answers exactly what
 * the express router answers — status, headers and body — and leaves to express what it is not
 * sure of: two portals on one database, one with the fast path (as `npm start` runs) and one
 * without (the reference), sent the same good and hostile requests, each by a client of its own
 * (the rate limit counts per client, so both see the same counts).
 */
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { TELEMETRY_LOCK } from "../../app/services/runtime-status-reports.server";
import type { Database } from "../../app/utils/db.server";
import { logger } from "../../app/utils/logger.server";
import { metrics } from "../../app/utils/metrics.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { createPortalServer, type PortalServer } from "../../server/app";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let keyRing: KeyRing;
let v2 = "";

interface Running {
  portal: PortalServer;
  base: string;
  /** A client of this portal's own, scoped to EIN. */
  token: string;
}
const running: Running[] = [];

async function start(name: string, options: Partial<Parameters<typeof createPortalServer>[0]> & { perMinute?: number } = {}): Promise<Running> {
  const { token } = await createRuntimeClient(database.db, "test", { name, sites: ["EIN"], reason: "test" });
  const portal = await createPortalServer({
    database: database as Database,
    env: { C981_TRUST_PROXY: undefined, C981_STATUS_REPORTS_PER_MINUTE: options.perMinute ?? 1000, C981_CACHE_CHECK_SECONDS: 1 },
    ...options,
  });
  portal.server.listen(0, "127.0.0.1");
  await new Promise((r) => portal.server.once("listening", r));
  // The token preload (and its NOTIFY) seen, so the fast path may trust what it holds.
  await portal.runtimeApi.cache.preloadClients();
  await portal.runtimeApi.cache.check();
  const entry = { portal, base: `http://127.0.0.1:${(portal.server.address() as AddressInfo).port}`, token };
  running.push(entry);
  return entry;
}

/** Until the portal's cache holds the token and the site as the fast path reads them (a NOTIFY from a client made meanwhile drops them). */
async function warm(r: Running): Promise<void> {
  const cache = r.portal.runtimeApi.cache;
  await vi.waitFor(
    async () => {
      // What express's first request would fill (the site list is read on demand, not preloaded).
      // A check now: the fast path trusts what was verified within checkMs + 1 s, so this leaves the
      // whole bound for the request that follows, however late the periodic check runs under load.
      await cache.check();
      await cache.client(r.token);
      await cache.site("EIN");
      if (!cache.peekClient(r.token) || !cache.peekSite("EIN")) throw new Error("the token is not in memory yet");
    },
    { timeout: 10_000, interval: 20 },
  );
}

/** A pair: with the fast path, and without it (the reference). */
async function pair(label: string, perMinute?: number): Promise<[Running, Running]> {
  const fast = await start(`mes-${label}-fast`, { perMinute });
  const reference = await start(`mes-${label}-ref`, { perMinute, statusFastPath: false });
  await warm(fast);
  return [fast, reference];
}

let fast: Running;
let reference: Running;

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const [row] = await database.client<
    { digest: string }[]
  >`select v.digest from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' and v.version = 2`;
  v2 = row!.digest;
  [fast, reference] = await pair("eq");
}, 120_000);

afterAll(async () => {
  for (const r of running) await r.portal.close();
});

interface Sent {
  path?: string;
  headers?: Record<string, string>;
  /** A function when it needs the seeded data (the table is made before the database). */
  body?: string | Buffer | (() => string | Buffer);
  /** Sent without Content-Length, in two chunks. */
  chunked?: boolean;
  /** Wait for 100 Continue before sending the body. */
  expectContinue?: boolean;
  method?: string;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const STATUS = "/api/v1/sites/EIN/ruleset/status";

/** node:http, so nothing is added or normalised on the way; Date and the request id left out, the CSP nonce masked. */
function send(to: Running, sent: Sent, token = to.token): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const given = typeof sent.body === "function" ? sent.body() : sent.body;
    const body = given === undefined ? undefined : Buffer.isBuffer(given) ? given : Buffer.from(given, "utf8");
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...sent.headers };
    if (body && !sent.chunked && headers["Content-Length"] === undefined) headers["Content-Length"] = String(body.length);
    if (sent.expectContinue) headers.Expect = "100-continue";
    const req = request(`${to.base}${sent.path ?? STATUS}`, { method: sent.method ?? "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const comparable = Object.fromEntries(
          Object.entries(res.headers)
            .filter(([name]) => name !== "date" && name !== "x-request-id")
            .map(([name, value]) => [name, name === "content-security-policy" ? String(value).replace(/'nonce-[^']+'/, "'nonce-…'") : String(value)]),
        );
        resolve({ status: res.statusCode!, headers: comparable, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", reject);
    if (sent.expectContinue) req.on("continue", () => req.end(body));
    else if (sent.chunked && body) {
      req.write(body.subarray(0, 5));
      req.end(body.subarray(5));
    } else req.end(body);
  });
}

const activation = (over: Record<string, unknown> = {}) => ({
  version: 2,
  digest: `sha256:${v2}`,
  activatedAt: "2026-12-07T10:00:00.000Z",
  trustedKeys: [keyRing.active[0]!.kid],
  ...over,
});
const json = (value: unknown) => JSON.stringify(value);

/**
 * Sends to both (the fast portal first), returns both answers and whether the fast path took it.
 * `expectTaken`: the fast path serves only what its cache verified within the last two seconds
 * and no NOTIFY dropped since; on a loaded machine a late NOTIFY (another client made by the test)
 * or a check delayed past that bound can land between warm() and the request, and the fast path
 * then rightly leaves the request to express. Such a pass is retried (at most twice, each request
 * still sent to both portals so their stored counts stay equal); a fast path that never takes it fails.
 */
async function both(sent: Sent, tokens?: { fast: string; reference: string }, expectTaken = false) {
  for (let attempt = 1; ; attempt++) {
    await warm(fast);
    const before = fast.portal.statusFastPath!.stats.served;
    const a = await send(fast, sent, tokens?.fast);
    const took = fast.portal.statusFastPath!.stats.served === before + 1;
    const b = await send(reference, sent, tokens?.reference);
    if (took || !expectTaken || attempt === 3) return { fast: a, reference: b, took };
  }
}

const valid = () => json(activation());
/** Requests the fast path takes, with the status express answers them with (the oracle: ADR 008's contract). */
const TAKEN: [string, Sent, number][] = [
  ["an activation", { body: () => valid() }, 204],
  ["an activation with its kind", { body: () => json(activation({ kind: "activation" })) }, 204],
  ["a refusal", { body: json({ kind: "refusal", offered: { version: 9, digest: null }, code: "rollback", source: "current", runningVersion: 2 }) }, 204],
  ["charset=utf-8", { body: () => valid(), headers: { "Content-Type": "application/json; charset=utf-8" } }, 204],
  ["CHARSET=UTF-8, upper case", { body: () => valid(), headers: { "Content-Type": "Application/JSON;charset=UTF-8" } }, 204],
  ["a site in lower case", { body: () => valid(), path: "/api/v1/sites/ein/ruleset/status" }, 204],
  ["a byte order mark first", { body: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid())]) }, 204],
  ["whitespace around", { body: () => ` \n\t${valid()}\r\n ` }, 204],
  ["invalid UTF-8 in a text", { body: () => Buffer.from(valid().replace(/}$/, ',"error":"bad \u00ff byte"}'), "latin1") }, 204],
  ["a version the site does not have", { body: () => json(activation({ version: 99 })) }, 422],
  ["another version's digest", { body: () => json(activation({ version: 1 })) }, 422],
  ["a missing field", { body: () => json({ version: 2, digest: `sha256:${v2}` }) }, 400],
  ["an unknown field", { body: () => json(activation({ extra: 1 })) }, 400],
  ["__proto__", { body: () => valid().replace(/^\{/, '{"__proto__":{"polluted":true},') }, 400],
  ["constructor.prototype", { body: () => valid().replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},') }, 400],
  [
    "__proto__ inside offered",
    { body: '{"kind":"refusal","offered":{"__proto__":{"polluted":true},"version":1,"digest":null},"code":"rollback","source":"current","runningVersion":2}' },
    400,
  ],
  ["a version beyond 32 bits", { body: () => json(activation({ version: 2_147_483_648 })) }, 400],
  ["1e400", { body: () => valid().replace('"version":2', '"version":1e400') }, 400],
  ["a NUL in a text", { body: () => json(activation({ error: "a\u0000b" })) }, 400],
  ["a lone surrogate", { body: () => valid().replace(/}$/, ',"error":"\\ud800"}') }, 400],
  [
    "an unknown refusal code",
    { body: json({ kind: "refusal", offered: { version: 1, digest: null }, code: "nope", source: "current", runningVersion: 2 }) },
    400,
  ],
  ["an array", { body: "[1,2]" }, 400],
  ["an empty body", { body: "", headers: { "Content-Length": "0" } }, 400],
  ["nesting 20,000 deep", { body: `${"[".repeat(20_000)}${"]".repeat(20_000)}` }, 400],
  ["not JSON", { body: "{nope" }, 400],
  ["a string", { body: '"text"' }, 400],
  ["null", { body: "null" }, 400],
  ["whitespace only", { body: "   " }, 400],
  ["a BOM only", { body: Buffer.from([0xef, 0xbb, 0xbf]) }, 400],
  ["64 KiB exactly", { body: () => valid().replace(/}$/, `,"error":"${"x".repeat(65_536 - valid().length - 11)}"}`) }, 400],
];

/** Requests left to express (each for a reason the fast path cannot judge alone), with express's status. */
const LEFT: [string, Sent, number][] = [
  ["one byte over 64 KiB", { body: () => valid().replace(/}$/, `,"error":"${"x".repeat(65_537 - valid().length - 11)}"}`) }, 413],
  ["chunked", { body: () => valid(), chunked: true }, 204],
  ["gzip", { body: () => gzipSync(valid()), headers: { "Content-Encoding": "gzip" } }, 204],
  ["Expect: 100-continue", { body: () => valid(), expectContinue: true }, 204],
  ["text/plain", { body: () => valid(), headers: { "Content-Type": "text/plain" } }, 400],
  ["charset=latin1", { body: () => valid(), headers: { "Content-Type": "application/json; charset=latin1" } }, 415],
  ["a JSON type with a parameter", { body: () => valid(), headers: { "Content-Type": "application/json; foo=bar" } }, 204],
  ["a malformed Host", { body: () => valid(), headers: { Host: "localhost/sign-in?" } }, 400],
  ["a query", { body: () => valid(), path: `${STATUS}?x=1` }, 204],
  ["a trailing slash", { body: () => valid(), path: `${STATUS}/` }, 204],
  ["a site of another client", { body: () => valid(), path: "/api/v1/sites/CLT/ruleset/status" }, 404],
  ["no such site", { body: () => valid(), path: "/api/v1/sites/NOPE/ruleset/status" }, 404],
  ["not JSON from a stranger", { body: "{nope", headers: { Authorization: "Bearer c981_not-a-real-token-at-all" } }, 400],
  ["a stranger", { body: () => valid(), headers: { Authorization: "Bearer c981_not-a-real-token-at-all" } }, 401],
  ["no token", { body: () => valid(), headers: { Authorization: "" } }, 401],
  ["a PUT", { body: () => valid(), method: "PUT" }, 404],
];

describe("the status reports' fast path", () => {
  it.each(TAKEN)("takes %s and answers as express does", async (label, sent, status) => {
    const { fast: a, reference: b, took } = await both(sent, undefined, true);
    expect(took, label).toBe(true);
    expect(a.status, label).toBe(status);
    expect(a, label).toEqual(b);
    if (status !== 204) {
      expect(a.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
      expect(JSON.parse(a.body)).toMatchObject({ type: "about:blank", status });
      expect(a.headers.etag).toMatch(/^W\/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$/);
    } else expect(a.body).toBe("");
    expect(a.headers).toMatchObject({ "x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin" });
    // Nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(LEFT)("leaves %s to express", async (label, sent, status) => {
    const { fast: a, reference: b, took } = await both(sent);
    expect(took, label).toBe(false);
    expect(a.status, label).toBe(status);
    expect(a, label).toEqual(b);
  });

  it("names the same fields on both paths (a hand-counted case)", async () => {
    const { fast: a } = await both({ body: json({ version: 0, digest: "md5:x", activatedAt: "yesterday", trustedKeys: ["short"], extra: 1 }) });
    const pointers = (JSON.parse(a.body) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer).sort();
    expect(pointers).toEqual(["#/", "#/activatedAt", "#/digest", "#/trustedKeys/0", "#/version"]);
  });

  it("stores every report it answered 204, as express does", async () => {
    const count = async (name: string) =>
      (
        await database.client<
          { n: number }[]
        >`select count(*)::int as n from runtime_status_reports r join runtime_clients c on c.id = r.runtime_client_id where c.name = ${name}`
      )[0]!.n;
    // Every request so far went to both: as many stored on each path (each 204, in the tables above, stored once).
    expect(await count("mes-eq-fast")).toBe(await count("mes-eq-ref"));
    const before = await count("mes-eq-fast");
    const answers = await Promise.all(Array.from({ length: 30 }, () => send(fast, { body: valid })));
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(204));
    expect((await count("mes-eq-fast")) - before).toBe(30);
  });

  it("answers 429 past the client's allowance, with Retry-After, as express does", async () => {
    const [f, r] = await pair("limit", 3);
    // One minute's window (of the database clock): not started within 15 s of its end.
    const [clock] = await database.client<{ s: number }[]>`select extract(second from now())::float8 as s`;
    if (clock!.s > 45) await new Promise((resolve) => setTimeout(resolve, (61 - clock!.s) * 1000));
    const served = f.portal.statusFastPath!.stats.served;
    const answers: [Answer, Answer][] = [];
    for (let i = 0; i < 5; i++) {
      await warm(f);
      answers.push([await send(f, { body: valid }), await send(r, { body: valid })]);
    }
    expect(f.portal.statusFastPath!.stats.served).toBe(served + 5);
    expect(answers.map(([a]) => a.status)).toEqual([204, 204, 204, 429, 429]);
    for (const [a, b] of answers) {
      // The seconds left in the minute may tick between the two.
      expect(Math.abs(Number(a.headers["retry-after"] ?? 0) - Number(b.headers["retry-after"] ?? 0))).toBeLessThanOrEqual(1);
      expect({ ...a, headers: { ...a.headers, "retry-after": "" } }).toEqual({ ...b, headers: { ...b.headers, "retry-after": "" } });
    }
    expect(JSON.parse(answers[3]![0].body)).toMatchObject({ status: 429, title: "Too Many Requests", detail: "At most 3 status reports a minute per client." });
  });

  it("answers 503 with Retry-After when the batch is not stored within the deadline, as express does", async () => {
    // An anchor's exclusive lock holds every batch at its first statement, past the 1 s deadline.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const anchor = database.owner.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${TELEMETRY_LOCK})`;
      locked();
      await held;
    });
    await isLocked;
    try {
      await warm(fast);
      const served = fast.portal.statusFastPath!.stats.served;
      const [a, b] = await Promise.all([send(fast, { body: valid }), send(reference, { body: valid })]);
      expect(fast.portal.statusFastPath!.stats.served).toBe(served + 1);
      expect(a.status).toBe(503);
      expect(a.headers["retry-after"]).toBe("1");
      expect(a).toEqual(b);
      expect(JSON.parse(a.body)).toMatchObject({ status: 503, title: "Service Unavailable" });
    } finally {
      release();
      await anchor;
    }
  });

  it("is counted and logged as express's requests are: request id, duration, an access line at debug", async () => {
    const stream = (logger as unknown as Record<symbol, { write: (line: string) => boolean }>)[pino.symbols.streamSym]!;
    const write = stream.write;
    const level = logger.level;
    const lines: string[] = [];
    stream.write = (line: string) => (lines.push(line), true);
    logger.level = "debug";
    const stored = async () => (await metrics.statusReports.get()).values.find((v) => v.labels.result === "stored")?.value ?? 0;
    const storedBefore = await stored();
    const ids: (string | undefined)[] = [];
    try {
      for (const [to, id] of [
        [fast, "report-fast-1"],
        [reference, "report-express-1"],
      ] as const) {
        const answer = await new Promise<{ status: number; id?: string }>((resolve, reject) => {
          const req = request(
            `${to.base}${STATUS}`,
            { method: "POST", headers: { Authorization: `Bearer ${to.token}`, "Content-Type": "application/json", "X-Request-Id": id } },
            (res) => {
              res.resume();
              res.on("end", () => resolve({ status: res.statusCode!, id: res.headers["x-request-id"] as string | undefined }));
            },
          );
          req.on("error", reject);
          req.end(valid());
        });
        expect(answer.status).toBe(204);
        ids.push(answer.id);
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      stream.write = write;
      logger.level = level;
    }
    expect(ids).toEqual(["report-fast-1", "report-express-1"]);
    const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.path === STATUS);
    expect(access.map((l) => [l.reqId, l.level, l.status, l.method])).toEqual([
      ["report-fast-1", "debug", 204, "POST"],
      ["report-express-1", "debug", 204, "POST"],
    ]);
    expect((await stored()) - storedBefore).toBe(2);
    const durations = (await metrics.httpRequests.get()).values.find(
      (v) => v.metricName?.endsWith("_count") && v.labels.method === "POST" && v.labels.status === "2xx",
    );
    expect(durations?.value).toBeGreaterThanOrEqual(2);
  });
});
