/**
 * The portal's HTTP server, built the same way for `npm start` (server/main.ts), the tests and
 * the pull benchmark (scripts/bench-pull.ts): a plain express app with /healthz, the public JWKS,
 * the runtime API and — when given a Remix build — the static assets and Remix itself, behind a
 * node:http server whose first stop is the runtime pull's fast path (ADR 009).
 */
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { createRequestHandler } from "@remix-run/express";
import express from "express";
import type { Database } from "../app/utils/db.server";
import { logger, requestIdFrom, withRequestContext } from "../app/utils/logger.server";
import { metrics } from "../app/utils/metrics.server";
import type { Env } from "../app/utils/env.server";
import { DEFAULT_FORM_MAX_BYTES } from "../app/utils/body-limits";
import { bodyLimits } from "./body-limits";
import { createHealth } from "./health";
import { withDeadline } from "./db-faults";
import { metricsOnMainPort } from "./metrics";
import { createRuntimeApi, DEFAULT_SCAN_DECISIONS_RATE, DEFAULT_SCAN_REPORTS_RATE, type RuntimeApi } from "./runtime-api";
import { createRuntimeFastPath, type RuntimeFastPath } from "./runtime-fast-path";
import { refuseMalformedHost, refuseNulInAddress, sameOriginForWrites, securityHeaders } from "./security";
import { createStatusReportFastPath, type StatusReportFastPath } from "./status-report-fast-path";

const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface PortalServerOptions {
  database: Pick<Database, "db" | "client">;
  env: Pick<Env, "C981_TRUST_PROXY"> &
    Partial<
      Pick<
        Env,
        | "C981_FORM_MAX_BYTES"
        | "C981_CACHE_CHECK_SECONDS"
        | "C981_STALE_IF_ERROR_SECONDS"
        | "C981_SIGNING_KEYS_DIR"
        | "C981_STATUS_REPORTS_PER_MINUTE"
        | "C981_SCAN_DECISIONS_PER_SECOND"
        | "C981_SCAN_DECISIONS_BURST"
        | "C981_SCAN_REPORTS_PER_SECOND"
        | "C981_SCAN_REPORTS_BURST"
        | "C981_METRICS_TOKEN"
        | "C981_KEEP_ALIVE_SECONDS"
        | "C981_STATUS_FAST_PATH"
      >
    >;
  /** The Remix production build. Without it only the machine endpoints answer (tests). */
  build?: ServerBuild;
  /** Where build/client lives; the repository root by default. */
  root?: string;
  /** Answer steady-state pulls ahead of express (default). Off: everything goes through express. */
  fastPath?: boolean;
  /**
   * Take plainly sent status reports ahead of express too (default, unless `fastPath` is off or
   * C981_STATUS_FAST_PATH is 0). Off: they go through express (the reference; benchmarks).
   */
  statusFastPath?: boolean;
}

export interface PortalServer {
  /** Not yet listening: call `server.listen(port, host)`. */
  server: http.Server;
  app: express.Express;
  runtimeApi: RuntimeApi;
  fastPath: RuntimeFastPath | undefined;
  statusFastPath: StatusReportFastPath | undefined;
  /**
   * Stopping, step one: /readyz answers 503 and held long polls answer now. `close()` does it too.
   */
  drain(): void;
  /**
   * Stops accepting, lets in-flight requests finish (dropping idle keep-alive connections at once,
   * all of them after 5 s), then stops the runtime API's cache. The database stays open.
   */
  close(): Promise<void>;
}

export async function createPortalServer(options: PortalServerOptions): Promise<PortalServer> {
  const { database, env, build } = options;
  const root = options.root ?? defaultRoot;
  const db = database.db;

  const app = express();
  app.disable("x-powered-by");
  // Behind a reverse proxy terminating HTTPS, trust its X-Forwarded-* (cookies become Secure).
  if (env.C981_TRUST_PROXY) {
    app.set("trust proxy", /^\d+$/.test(env.C981_TRUST_PROXY) ? Number(env.C981_TRUST_PROXY) : env.C981_TRUST_PROXY);
  }
  app.use(securityHeaders);
  app.use(refuseNulInAddress);
  app.use(refuseMalformedHost);
  app.use(bodyLimits(env.C981_FORM_MAX_BYTES ?? DEFAULT_FORM_MAX_BYTES));
  if (build) {
    app.use("/assets", express.static(path.join(root, "build", "client", "assets"), { immutable: true, maxAge: "1y" }));
    app.use(express.static(path.join(root, "build", "client"), { maxAge: "1h" }));
  }

  const runtimeApi = await createRuntimeApi(database, {
    checkMs: (env.C981_CACHE_CHECK_SECONDS ?? 5) * 1000,
    staleIfErrorMs: (env.C981_STALE_IF_ERROR_SECONDS ?? 300) * 1000,
    statusReportsPerMinute: env.C981_STATUS_REPORTS_PER_MINUTE,
    scanDecisionsRate: {
      perSecond: env.C981_SCAN_DECISIONS_PER_SECOND ?? DEFAULT_SCAN_DECISIONS_RATE.perSecond,
      burst: env.C981_SCAN_DECISIONS_BURST ?? DEFAULT_SCAN_DECISIONS_RATE.burst,
    },
    scanReportsRate: {
      perSecond: env.C981_SCAN_REPORTS_PER_SECOND ?? DEFAULT_SCAN_REPORTS_RATE.perSecond,
      burst: env.C981_SCAN_REPORTS_BURST ?? DEFAULT_SCAN_REPORTS_RATE.burst,
    },
  });

  // /livez (the process serves), /readyz (it can do its job) and /healthz (= /readyz): ADR 017.
  const health = createHealth({ db, keysDir: env.C981_SIGNING_KEYS_DIR });
  app.get("/livez", (_req, res) => void res.setHeader("Cache-Control", "no-store").json({ status: "ok" }));
  app.get(["/readyz", "/healthz"], (_req, res, next) => {
    health.readiness().then(
      (body) =>
        res
          .setHeader("Cache-Control", "no-store")
          .status(body.status === "ok" ? 200 : 503)
          .json(body),
      next,
    );
  });

  // The public signing keys (RFC 7517), for runtimes and anyone verifying a rule set offline; held
  // by the runtime cache, so they are served while the database is away (stale-if-error).
  app.get("/.well-known/jwks.json", async (_req, res) => {
    try {
      const jwks = await runtimeApi.cache.jwks();
      res.setHeader("Cache-Control", "public, max-age=300");
      res.type("application/jwk-set+json").send(JSON.stringify(jwks));
    } catch {
      res.setHeader("Retry-After", String(Math.ceil(runtimeApi.cache.checkMs / 1000)));
      res
        .status(503)
        .type("application/problem+json")
        .send(JSON.stringify({ type: "about:blank", title: "Database unavailable", status: 503 }));
    }
  });

  // Machine clients: bearer tokens, no cookies, so ahead of the same-origin check for forms.
  app.use("/api/v1", runtimeApi.router);

  if (build) {
    app.use(sameOriginForWrites);
    app.all("*", createRequestHandler({ build, mode: "production", getLoadContext: (_req, res) => ({ cspNonce: res.locals.cspNonce as string }) }));
  }

  // express's own reading of `trust proxy`, so the fast path's `req.secure` (HSTS) is express's.
  const trustProxy = app.get("trust proxy fn") as (address: string | undefined, hop: number) => boolean;
  const isSecure = (req: http.IncomingMessage): boolean => {
    const socket = req.socket as typeof req.socket & { encrypted?: boolean };
    const own = socket.encrypted ? "https" : "http";
    if (!trustProxy(socket.remoteAddress, 0)) return own === "https";
    const header = req.headers["x-forwarded-proto"];
    const forwarded = (Array.isArray(header) ? header[0] : header) || own;
    return forwarded.split(",")[0]!.trim() === "https";
  };

  const fastPath = options.fastPath === false ? undefined : createRuntimeFastPath({ cache: runtimeApi.cache, isSecure, express: app });
  const statusFastPath =
    options.fastPath === false || (options.statusFastPath ?? env.C981_STATUS_FAST_PATH ?? true) === false
      ? undefined
      : createStatusReportFastPath({
          cache: runtimeApi.cache,
          receiveStatusReport: runtimeApi.receiveStatusReport,
          isSecure,
          etag: app.get("etag fn") as (body: Buffer, encoding?: BufferEncoding) => string | undefined,
        });
  const metricsHere = metricsOnMainPort(env.C981_METRICS_TOKEN);
  const inner: http.RequestListener =
    fastPath && statusFastPath
      ? (req, res) => fastPath.handle(req, res) || statusFastPath.handle(req, res) || app(req, res)
      : fastPath
        ? (req, res) => fastPath.handle(req, res) || app(req, res)
        : app;
  const handle = observed((req, res) => metricsHere(req, res) || inner(req, res));
  const server = http.createServer(handle);
  // `Expect: 100-continue`: the body limits judge the size first and answer 100 only when it may
  // come (server/body-limits.ts); Node would otherwise invite every body before anyone looked.
  server.on("checkContinue", handle);
  // An idle keep-alive connection stays open longer than a load balancer keeps its idle connections
  // to the instances: were the portal to close first, a request the balancer
  // sends on that connection just then is lost ("connection closed before the answer"; seen by
  // bench:fanout with Node's 5 s default). Headers must still arrive within the usual bound.
  server.keepAliveTimeout = (env.C981_KEEP_ALIVE_SECONDS ?? 65) * 1000;
  server.headersTimeout = Math.max(60_000, server.keepAliveTimeout + 1000);

  // What operators watch (ADR 025), read where the values live: this instance's pool and its
  // connections by state (pg_stat_activity, by the pool's own application_name), and how long ago
  // the runtime cache last reached the database's change counter.
  const applicationName = (database.client.options as { connection?: { application_name?: string } }).connection?.application_name;
  const unregister = metrics.onScrape(async () => {
    metrics.poolSize.set(database.client.options.max);
    metrics.cacheStaleness.set(runtimeApi.cache.staleness());
    if (!applicationName) return;
    const rows = await withDeadline(
      database.client<{ state: string; n: number }[]>`select coalesce(state, 'unknown') as state, count(*)::int as n
        from pg_stat_activity where application_name = ${applicationName} and datname = current_database() group by 1`,
      2000,
    );
    metrics.poolConnections.reset();
    for (const state of ["active", "idle", "idle in transaction"]) metrics.poolConnections.set({ state }, 0);
    for (const row of rows) metrics.poolConnections.set({ state: row.state }, row.n);
  });

  const drain = () => {
    health.stopping();
    runtimeApi.drain();
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      drain();
      if (server.listening) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        force.unref();
        await closed;
        clearTimeout(force);
      }
      unregister();
      await runtimeApi.close();
    })());

  return { server, app, runtimeApi, fastPath, statusFastPath, drain, close };
}

/** Runtime pulls and status reports (10,000 stations) and probes (a load balancer, a scraper) are logged at debug, the rest at info. */
const QUIET = /^\/(?:api\/v1\/sites\/[^/?]+\/ruleset(?:\/status)?(?:$|\?)|livez$|readyz$|healthz$|metrics$)/;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** The histogram's children by method and status class, looked up once (not hashed per request). */
const timers = new Map<string, { observe(value: number): void }>();

/**
 * Every request, the fast path's included (ADR 025): its id (`X-Request-Id` kept when short and
 * plain, else a new UUID; echoed in the response), every log line said while handling it carries
 * that id, its duration goes to c981_http_request_duration_seconds, and one access-log line says
 * method, path (query values left out: they may hold secrets), status and milliseconds.
 */
function observed(handler: http.RequestListener): http.RequestListener {
  return (req, res) => {
    const started = performance.now();
    const reqId = requestIdFrom(req.headers["x-request-id"]);
    // As it came: express rewrites req.url inside mounted routers.
    const url = req.url ?? "";
    res.setHeader("X-Request-Id", reqId);
    res.once("close", () => {
      const seconds = (performance.now() - started) / 1000;
      const finished = res.writableFinished;
      const status = finished ? `${Math.floor(res.statusCode / 100)}xx` : "aborted";
      const method = METHODS.has(req.method ?? "") ? req.method! : "other";
      const key = `${method} ${status}`;
      let timer = timers.get(key);
      if (!timer) timers.set(key, (timer = metrics.httpRequests.labels(method, status)));
      timer.observe(seconds);
      const at = url.indexOf("?");
      // Bounded: a hostile request line does not become a huge log line.
      const path = (at < 0 ? url : url.slice(0, at)).slice(0, 512);
      const query = at < 0 ? undefined : [...new URLSearchParams(url.slice(at + 1)).keys()].slice(0, 20).map((k) => k.slice(0, 64));
      const level = QUIET.test(path) ? "debug" : "info";
      if (!logger.isLevelEnabled(level)) return;
      const ms = Math.round(seconds * 10_000) / 10;
      const code = finished ? res.statusCode : 0;
      logger[level](
        { reqId, method: req.method, path, ...(query?.length ? { query } : {}), status: code, ms },
        `${req.method} ${path} ${finished ? code : "aborted"} ${ms} ms`,
      );
    });
    withRequestContext({ reqId }, () => handler(req, res));
  };
}
