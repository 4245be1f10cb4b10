/**
 * What operators watch (ADR 025): /metrics on its own port and behind a token on the main port, the
 * counters a pull moves (both paths: the fast path and express), the gauges read at scrape time
 * checked against plain SQL, and the structured logs — a request id on every line said while a
 * request is handled, echoed in `X-Request-Id`, one access line per request (runtime pulls at debug).
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { genealogyIndexOf } from "../../app/services/genealogy-index.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import type { Database } from "../../app/utils/db.server";
import { logger } from "../../app/utils/logger.server";
import { createPortalServer, type PortalServer } from "../../server/app";
import { createMetricsServer } from "../../server/metrics";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

const METRICS_TOKEN = "scrape-token-0123456789abcdef";

let database: Database;
let token = "";
interface Running {
  portal: PortalServer;
  base: string;
}
let fast: Running;
let viaExpress: Running;
let noToken: Running;
let metricsServer: http.Server;
let metricsBase = "";

async function start(options: Partial<Parameters<typeof createPortalServer>[0]> = {}): Promise<Running> {
  const portal = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined, C981_METRICS_TOKEN: METRICS_TOKEN }, ...options });
  portal.server.listen(0, "127.0.0.1");
  await new Promise((r) => portal.server.once("listening", r));
  return { portal, base: `http://127.0.0.1:${(portal.server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  ({ token } = await createRuntimeClient(database.db, "test", { name: "mes-ein-metrics", sites: ["EIN"], reason: "test" }));
  fast = await start();
  viaExpress = await start({ fastPath: false });
  noToken = await start({ env: { C981_TRUST_PROXY: undefined } });
  metricsServer = createMetricsServer();
  metricsServer.listen(0, "127.0.0.1");
  await new Promise((r) => metricsServer.once("listening", r));
  metricsBase = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const running of [fast, viaExpress, noToken]) await running?.portal.close();
  metricsServer?.close();
  metricsServer?.closeAllConnections();
});

/** One sample's value from the exposition text (Prometheus text format 0.0.4); absent: 0. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(",") : [];
    if (wanted.length === have.length && wanted.every((w) => have.includes(w))) return Number(match[3]);
  }
  return 0;
}

const scrape = async () => {
  const answer = await fetch(`${metricsBase}/metrics`);
  expect(answer.status).toBe(200);
  return answer.text();
};

const pull = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/api/v1/sites/EIN/ruleset`, { headers: { Authorization: `Bearer ${token}`, ...headers } });

describe("/metrics", () => {
  it("is served on its own port, and on the main port only with the token (404 without one configured)", async () => {
    const own = await fetch(`${metricsBase}/metrics`);
    expect(own.status).toBe(200);
    expect(own.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await own.text();
    expect(body).toMatch(/^# HELP c981_runtime_pulls_total /m);
    expect(body).toMatch(/^c981_process_resident_memory_bytes \d+/m);
    expect((await fetch(`${metricsBase}/other`)).status).toBe(404);

    const withToken = await fetch(`${fast.base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toMatch(/^# TYPE c981_http_request_duration_seconds histogram$/m);
    const refusedHeaders: Record<string, string>[] = [
      {},
      { Authorization: `Bearer ${METRICS_TOKEN}x` },
      { Authorization: `Bearer ${METRICS_TOKEN.slice(1)}` },
      { Authorization: METRICS_TOKEN },
    ];
    for (const headers of refusedHeaders) {
      const refused = await fetch(`${fast.base}/metrics`, { headers });
      expect(refused.status, JSON.stringify(headers)).toBe(401);
      expect(await refused.text()).not.toMatch(/c981_/);
    }
    const none = await fetch(`${noToken.base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(none.status).toBe(404);
  });

  it("counts pulls by site and status on both paths, exactly", async () => {
    const before = await scrape();
    // express: a 200, then a 304 for the ETag it gave.
    const first = await pull(viaExpress.base);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    expect((await pull(viaExpress.base, { "If-None-Match": etag })).status).toBe(304);
    // The fast-path portal: a 200 (express fills the cache if it is cold), then 304 and 200 from the fast path.
    expect((await pull(fast.base)).status).toBe(200);
    const served = fast.portal.fastPath!.stats.served;
    expect((await pull(fast.base, { "If-None-Match": etag })).status).toBe(304);
    expect((await pull(fast.base)).status).toBe(200);
    expect(fast.portal.fastPath!.stats.served).toBe(served + 2);
    // Not a pull: a wrong token (401) is no pull answered.
    expect((await fetch(`${fast.base}/api/v1/sites/EIN/ruleset`, { headers: { Authorization: "Bearer wrong-token-000" } })).status).toBe(401);
    const after = await scrape();
    const delta = (status: string) =>
      sample(after, "c981_runtime_pulls_total", { site: "EIN", status }) - sample(before, "c981_runtime_pulls_total", { site: "EIN", status });
    expect({ 200: delta("200"), 304: delta("304") }).toEqual({ 200: 3, 304: 2 });

    // Every request, fast path included, lands in the duration histogram by method and status class
    // (observed when the response is done, so a moment after the client has it).
    const requests = (text: string, status: string) => sample(text, "c981_http_request_duration_seconds_count", { method: "GET", status });
    await expect
      .poll(async () => {
        const now = await scrape();
        return {
          "2xx": requests(now, "2xx") - requests(before, "2xx"),
          "3xx": requests(now, "3xx") - requests(before, "3xx"),
          "4xx": requests(now, "4xx") - requests(before, "4xx"),
        };
      })
      .toEqual({ "2xx": 3, "3xx": 2, "4xx": 1 });
  });

  it("times each audit append, and reads the pool, the connections, the cache and the genealogy index at scrape time", async () => {
    const before = await scrape();
    await createRuntimeClient(database.db, "test", { name: "mes-ein-metrics-2", sites: ["EIN"], reason: "one audited write" });
    const [audited] =
      await database.client`select count(*)::int as n from audit_trail where entity_type = 'runtime_client' and action like '%create%' and after->>'name' = 'mes-ein-metrics-2'`;
    expect(audited!.n).toBe(1);

    const genealogy = genealogyIndexOf(database.client);
    await genealogy.listen();
    try {
      await genealogy.refresh();
      const name = (database.client.options as unknown as { connection: { application_name: string } }).connection.application_name;
      expect(name).toMatch(/^c981-.+-\d+(-\d+)?$/);
      const heldNow = async () =>
        (await database.client`select count(*)::int as n from pg_stat_activity where application_name = ${name} and datname = current_database()`)[0]!
          .n as number;
      const heldBefore = await heldNow();
      const after = await scrape();
      const heldAfter = await heldNow();
      expect(sample(after, "c981_audit_append_seconds_count") - sample(before, "c981_audit_append_seconds_count")).toBe(1);

      expect(sample(after, "c981_db_pool_size")).toBe(database.client.options.max);
      const active = sample(after, "c981_db_connections", { state: "active" });
      const idle = sample(after, "c981_db_connections", { state: "idle" });
      expect(active).toBeGreaterThanOrEqual(1); // the scrape's own query
      // Against plain SQL: the pool only opens connections (it never closes idle ones), one may
      // open for the scrape's concurrent queries, so the scraped total lies between a count taken
      // just before and one just after.
      const total = active + idle + sample(after, "c981_db_connections", { state: "idle in transaction" });
      expect(total).toBeGreaterThanOrEqual(heldBefore);
      expect(total).toBeLessThanOrEqual(heldAfter);
      expect(heldAfter).toBeLessThanOrEqual(database.client.options.max + 1);

      const staleness = sample(after, "c981_runtime_cache_staleness_seconds");
      expect(staleness).toBeGreaterThanOrEqual(0);
      expect(staleness).toBeLessThan(10);

      const [edges] = await database.client`select count(*)::int as n from genealogy_edges where superseded_at is null`;
      expect(edges!.n).toBeGreaterThan(0);
      expect(sample(after, "c981_genealogy_index_edges")).toBe(edges!.n);
      expect(sample(after, "c981_genealogy_index_age_seconds")).toBeLessThan(2);
    } finally {
      await genealogy.close();
    }
  });
});

describe("structured logs", () => {
  /** The JSON lines the logger writes while `work` runs, at debug (its destination captured). */
  async function captured(work: () => Promise<void>): Promise<Record<string, unknown>[]> {
    const stream = (logger as unknown as Record<symbol, { write: (line: string) => boolean }>)[pino.symbols.streamSym]!;
    const write = stream.write;
    const level = logger.level;
    const lines: string[] = [];
    stream.write = (line: string) => (lines.push(line), true);
    logger.level = "debug";
    try {
      await work();
      // The access line is written when the response is done, a moment after the client has it.
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      stream.write = write;
      logger.level = level;
    }
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it("carries the request id on every line said while handling it, and echoes X-Request-Id", async () => {
    // A handler that says something after an await, as a service deep in a call would.
    fast.portal.app.get("/ops-test/log", async (_req, res) => {
      await new Promise((r) => setTimeout(r, 20));
      logger.info({ step: "deep" }, "said inside the request");
      res.send("ok");
    });
    let echoed: (string | null)[] = [];
    const lines = await captured(async () => {
      const given = await fetch(`${fast.base}/ops-test/log?secret=hunter2&b=1`, { headers: { "X-Request-Id": "lb-7f3a.42:x" } });
      const hostile = await fetch(`${fast.base}/ops-test/log`, { headers: { "X-Request-Id": `${"a".repeat(65)}` } });
      const spaces = await fetch(`${fast.base}/ops-test/log`, { headers: { "X-Request-Id": "two words" } });
      const none = await fetch(`${fast.base}/ops-test/log`);
      echoed = [given, hostile, spaces, none].map((r) => r.headers.get("x-request-id"));
    });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(echoed[0]).toBe("lb-7f3a.42:x");
    for (const id of echoed.slice(1)) expect(id).toMatch(uuid);
    expect(new Set(echoed).size).toBe(4);

    const deep = lines.filter((l) => l.step === "deep");
    expect(deep.map((l) => l.reqId)).toEqual(echoed);
    for (const l of deep) expect(l).toMatchObject({ level: "info", msg: "said inside the request", app: "c981", pid: process.pid, time: expect.any(String) });
    const access = lines.filter((l) => l.path === "/ops-test/log");
    expect(access.map((l) => l.reqId)).toEqual(echoed);
    expect(access[0]).toMatchObject({ level: "info", method: "GET", status: 200, query: ["secret", "b"], ms: expect.any(Number) });
    // Query values may hold secrets: never logged.
    expect(JSON.stringify(lines)).not.toContain("hunter2");
  });

  it("logs runtime pulls (both paths) at debug only, each with its request id", async () => {
    const lines = await captured(async () => {
      expect((await pull(fast.base, { "X-Request-Id": "pull-fast-1" })).headers.get("x-request-id")).toBe("pull-fast-1");
      expect((await pull(viaExpress.base, { "X-Request-Id": "pull-express-1" })).headers.get("x-request-id")).toBe("pull-express-1");
    });
    const pulls = lines.filter((l) => l.path === "/api/v1/sites/EIN/ruleset");
    expect(pulls.map((l) => [l.reqId, l.level, l.status])).toEqual([
      ["pull-fast-1", "debug", 200],
      ["pull-express-1", "debug", 200],
    ]);
  });
});
