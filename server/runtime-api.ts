/**
 * The runtime API for MES systems (machine clients only), a lean express router in front of Remix.
 * Errors are RFC 9457 problem details. Rule sets are served as the exact stored JWS bytes with a
 * strong ETag derived from them.
 */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { ruleSetVersionJws, ruleSetVersionList, upcomingRuleSetJws } from "../app/queries/runtime-api.server";
import type { AuthenticatedClient } from "../app/services/runtime-clients.server";
import { parseStatusReport } from "../app/schemas/status-report";
import { DomainError } from "../app/utils/errors.server";
import type { Database } from "../app/utils/db.server";
import { logger } from "../app/utils/logger.server";
import { metrics } from "../app/utils/metrics.server";
import { asUnavailable, isDatabaseUnavailable, withDeadline } from "./db-faults";
import { etagOf, RuntimeCache, type RuntimeCacheOptions } from "./runtime-cache";
import { heldUntil, MAX_WAIT_SECONDS, type WakeReason } from "./runtime-long-polls";
import { openApiDocument } from "./openapi";
import { StatusReportBatcher } from "./status-report-batcher";

function problem(res: Response, status: number, title: string, detail?: string, extra: Record<string, unknown> = {}) {
  res
    .status(status)
    .type("application/problem+json")
    .send(JSON.stringify({ type: "about:blank", title, status, ...(detail ? { detail } : {}), ...extra }));
}

const TITLES: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Content" };
const titleOf = (status: number) => TITLES[status] ?? "Error";

type Authed = Request & { client?: AuthenticatedClient; site?: { id: number; code: string } };
type Handler = (req: Authed, res: Response, next: NextFunction) => Promise<unknown>;

/** Express 4 does not catch a rejected handler: every async handler hands its error to next(). */
const handled =
  (handler: Handler) =>
  (req: Authed, res: Response, next: NextFunction): void => {
    handler(req, res, next).catch(next);
  };

export interface RuntimeApi {
  router: Router;
  cache: RuntimeCache;
  /** Stopping: held long polls answer now (304 with the current ETag, or the newer version). */
  drain(): void;
  close(): Promise<void>;
}

export interface RuntimeApiOptions extends RuntimeCacheOptions {
  /** Status reports (activations and refusals) one client may send per minute; beyond: 429. */
  statusReportsPerMinute?: number;
  /** Group commit of status reports (ADR 026): a batch leaves at `maxBatch` reports or `maxWaitMs` after the first. */
  statusReportBatch?: { maxBatch?: number; maxWaitMs?: number };
}

/** The reference client reports only when what it runs changes: a handful a minute is plenty. */
export const DEFAULT_STATUS_REPORTS_PER_MINUTE = 10;

export async function createRuntimeApi(database: Pick<Database, "db" | "client">, options: RuntimeApiOptions = {}): Promise<RuntimeApi> {
  const reportsPerMinute = options.statusReportsPerMinute ?? DEFAULT_STATUS_REPORTS_PER_MINUTE;
  const db = database.db;
  const cache = new RuntimeCache(database, options);
  await cache.start();
  const longPolls = cache.longPolls;
  /** A query the API needs now: bounded in time; a lost database becomes DatabaseUnavailableError (503). */
  const query = async <T>(work: PromiseLike<T>): Promise<T> => {
    try {
      return await withDeadline(work, cache.deadlineMs);
    } catch (error) {
      throw asUnavailable(error);
    }
  };
  const retryAfter = String(Math.max(1, Math.ceil(cache.checkMs / 1000)));
  const reports = new StatusReportBatcher(db, { perMinute: reportsPerMinute, deadlineMs: cache.deadlineMs, ...options.statusReportBatch });
  const router = express.Router();
  router.use(express.json({ limit: "64kb" }));
  // The description of this API is public: tools discover it before they hold a token.
  const document = JSON.stringify(openApiDocument());
  router.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(document);
  });

  router.use(
    handled(async (req: Authed, res: Response, next: NextFunction) => {
      const header = req.get("authorization") ?? "";
      const match = /^Bearer ([A-Za-z0-9_-]{10,200})$/.exec(header);
      if (!match) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="c981"');
        return problem(res, 401, "Unauthorized", "Send the runtime client's token as `Authorization: Bearer <token>`.");
      }
      // A database error is never "unknown token" (401): it reaches the error handler (503).
      const client = await cache.client(match[1]!);
      if (!client) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="c981", error="invalid_token"');
        return problem(res, 401, "Unauthorized", "The token is unknown or revoked.");
      }
      req.client = client;
      cache.seen(client);
      next();
    }),
  );

  /** A site outside the client's scope does not exist for it (404), like an unknown site. */
  router.param("site", (req: Authed, res, next, code: string) => {
    handled(async () => {
      const site = await cache.site(String(code));
      if (!site || !req.client!.siteIds.has(site.id)) return problem(res, 404, "Not Found", `No site ${code} for this client.`);
      req.site = site;
      next();
    })(req, res, next);
  });

  /** Sends the JWS (200) or 304 when the client has it; returns the status. */
  const sendJws = (req: Request, res: Response, jws: string, cacheControl: string, etag = etagOf(jws)): 200 | 304 => {
    res.setHeader("ETag", etag);
    res.setHeader("Cache-Control", cacheControl);
    // express's `fresh` (If-None-Match lists, `*`) may still turn the 200 into a 304.
    if (req.get("if-none-match") === etag || req.fresh) {
      res.status(304).end();
      return 304;
    }
    res.status(200).type("application/jose+json").send(jws);
    return 200;
  };

  // Steady-state pulls of this endpoint are answered ahead of express by server/runtime-fast-path.ts
  // (ADR 009), which must answer exactly as this route does: change both together
  // (test/integration/runtime-fast-path.test.ts compares them).
  router.get(
    "/sites/:site/ruleset",
    handled(async (req: Authed, res) => {
      const wait = req.query.waitSeconds === undefined ? 0 : Number(req.query.waitSeconds);
      if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
        return problem(res, 400, "Bad Request", `waitSeconds must be an integer from 0 to ${MAX_WAIT_SECONDS}.`, {
          errors: [{ pointer: "#/query/waitSeconds" }],
        });
      }
      // A long poll the fast path held first keeps its deadline.
      const deadline = heldUntil(req) ?? Date.now() + wait * 1000;
      const ifNoneMatch = req.get("if-none-match");
      const site = req.site!;
      // Held once already (here or on the fast path): stopping, it is answered now.
      let held = heldUntil(req) !== undefined;
      for (;;) {
        const current = await cache.current(site.id);
        if (!current) return problem(res, 404, "Not Found", `Site ${site.code} has no rule set in force.`);
        // Long poll: hold the answer while the client already has this version and time remains.
        // Held without polling (server/runtime-long-polls.ts): woken when a release anywhere
        // reaches the cache (NOTIFY, change counter), the wait ends or the instance drains, which
        // answers at once (304 for the version the client has); one arriving while it drains waits
        // a second at most (DRAINING_WAIT_MS). A client gone gets nothing.
        if (ifNoneMatch !== current.etag || Date.now() >= deadline || (longPolls.draining && held)) {
          const status = sendJws(req, res, current.jws, "private, no-cache", current.etag);
          metrics.pulls.inc({ site: site.code, status: String(status) });
          return;
        }
        const reason = await new Promise<WakeReason>((wake) => longPolls.hold(site.id, current, deadline, res, wake));
        if (reason === "closed") return;
        held = true;
      }
    }),
  );

  router.get(
    "/sites/:site/ruleset/upcoming",
    handled(async (req: Authed, res) => {
      const next = await query(upcomingRuleSetJws(db, req.site!.id, new Date()));
      if (!next) return problem(res, 404, "Not Found", `Site ${req.site!.code} has no scheduled rule set.`);
      sendJws(req, res, next, "private, no-cache");
    }),
  );

  router.get(
    "/sites/:site/ruleset/versions",
    handled(async (req: Authed, res) => {
      const rows = await query(ruleSetVersionList(db, req.site!.id));
      res.setHeader("Cache-Control", "private, no-cache");
      res.type("application/json").send(JSON.stringify({ site: req.site!.code, versions: rows.map((r) => ({ ...r, digest: `sha256:${r.digest}` })) }));
    }),
  );

  router.get(
    "/sites/:site/ruleset/versions/:version",
    handled(async (req: Authed, res) => {
      const version = Number(req.params.version);
      if (!/^[1-9]\d{0,8}$/.test(req.params.version ?? ""))
        return problem(res, 400, "Bad Request", "version must be a positive integer.", { errors: [{ pointer: "#/path/version" }] });
      const jws = await query(ruleSetVersionJws(db, req.site!.id, version));
      if (!jws) return problem(res, 404, "Not Found", `Site ${req.site!.code} has no version ${version}.`);
      // A published version never changes — but it is served behind a bearer token, so only the
      // client's own cache may keep it (RFC 9111 §3.5, §5.2.2.7; ADR 017): never a shared cache.
      sendJws(req, res, jws, "private, max-age=31536000, immutable");
    }),
  );

  // Written in batches (group commit, ADR 026): answered once the report's batch has committed.
  router.post(
    "/sites/:site/ruleset/status",
    handled(async (req: Authed, res) => {
      const parsed = parseStatusReport(req.body);
      // Counted before anything else, so refused and malformed reports cost their sender too.
      const outcome = await reports.submit({ client: req.client!, site: req.site!, report: parsed.success ? parsed.data : undefined });
      switch (outcome.result) {
        case "rate_limited":
          res.setHeader("Retry-After", String(outcome.retryAfterSeconds));
          return problem(res, 429, "Too Many Requests", `At most ${reportsPerMinute} status reports a minute per client.`);
        case "malformed":
          return problem(res, 400, "Bad Request", "The status report is invalid.", {
            errors: (parsed.error?.issues ?? []).map((i) => ({ pointer: `#/${i.path.join("/")}`, detail: i.message })),
          });
        case "refused":
          throw outcome.error;
        case "stored":
          return res.status(204).end();
      }
    }),
  );

  router.use((_req, res) => problem(res, 404, "Not Found", "No such endpoint."));
  // Malformed JSON bodies and anything unexpected: problem details, never a stack trace.
  router.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === "entity.parse.failed") return problem(res, 400, "Bad Request", "The body is not valid JSON.");
    if (error.type === "entity.too.large") return problem(res, 413, "Content Too Large", "The body is too large.");
    if (res.headersSent) return res.destroy();
    // A service's typed refusal (e.g. 422: a status report naming a version the site does not have).
    if (error instanceof DomainError) {
      return problem(res, error.status, titleOf(error.status), error.message, {
        errors: Object.entries(error.fields).flatMap(([field, details]) => details.map((detail) => ({ pointer: `#/${field.replaceAll(".", "/")}`, detail }))),
      });
    }
    // The database is away and what is cached cannot answer this (or is older than the
    // stale-if-error bound): come back later (RFC 9110 §15.6.4, §10.2.3). Never 401 or 500.
    if (isDatabaseUnavailable(error)) {
      metrics.dbErrors.inc({ where: "runtime-api" });
      res.setHeader("Retry-After", retryAfter);
      return problem(res, 503, "Service Unavailable", "The portal cannot reach its database just now; try again later.");
    }
    const path = _req.originalUrl.split("?")[0];
    logger.error({ err: error.message, method: _req.method, path }, `runtime API: ${_req.method} ${path}: ${error.message}`);
    problem(res, 500, "Internal Server Error");
  });
  return {
    router,
    cache,
    drain: () => longPolls.drain(),
    close: async () => {
      await reports.close();
      await cache.stop();
    },
  };
}
