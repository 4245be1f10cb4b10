/**
 * The runtime API for MES systems (machine clients only), a lean express router in front of Remix.
 * Errors are RFC 9457 problem details. Rule sets are served as the exact stored JWS bytes with a
 * strong ETag derived from them.
 */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { ruleSetVersionJws, ruleSetVersionList, upcomingRuleSetJws } from "../app/queries/runtime-api.server";
import type { AuthenticatedClient } from "../app/services/runtime-clients.server";
import { parseStatusReport } from "../app/schemas/status-report";
import { SCAN_REPORT_MAX_BYTES, scanReportSchema } from "../app/schemas/scan-report";
import { recordScanReport } from "../app/services/scan-reports.server";
import { SCAN_DECISIONS_MAX_BYTES, SCAN_DECISIONS_MAX_SCANS, scanDecisionsRequestSchema } from "../app/schemas/scan-decisions";
import { DomainError } from "../app/utils/errors.server";
import type { Database } from "../app/utils/db.server";
import { logger } from "../app/utils/logger.server";
import { metrics } from "../app/utils/metrics.server";
import { asUnavailable, isDatabaseUnavailable, withDeadline } from "./db-faults";
import { etagOf, representationOf, RuntimeCache, scannerOf, type RuntimeCacheOptions } from "./runtime-cache";
import { heldUntil, MAX_WAIT_SECONDS, type WakeReason } from "./runtime-long-polls";
import { openApiDocument } from "./openapi";
import { type RateLimit, TokenBuckets } from "./rate-limits";
import { StatusReportBatcher } from "./status-report-batcher";

/** An RFC 9457 problem's JSON text. */
const problemText = (status: number, title: string, detail?: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "about:blank", title, status, ...(detail ? { detail } : {}), ...extra });

function problem(res: Response, status: number, title: string, detail?: string, extra: Record<string, unknown> = {}) {
  res
    .status(status)
    .type("application/problem+json")
    .send(problemText(status, title, detail, extra));
}

/**
 * An answer of the status-report endpoint, as the router sends it and as its fast path
 * (server/status-report-fast-path.ts) copies it: one mapping, so the two cannot differ in what
 * they say — only in how they send it (test/integration/status-report-fast-path.test.ts).
 */
export interface ApiAnswer {
  status: number;
  /** Headers besides the security headers and the body's Content-Type, Content-Length and ETag. */
  headers?: Record<string, string>;
  /** An RFC 9457 problem's JSON text (sent as application/problem+json); none: no body (204). */
  problem?: string;
}

function send(res: Response, answer: ApiAnswer): void {
  if (answer.headers) for (const name in answer.headers) res.setHeader(name, answer.headers[name]!);
  if (answer.problem === undefined) res.status(answer.status).end();
  else res.status(answer.status).type("application/problem+json").send(answer.problem);
}

/** The body express.json() cannot read: its error as the router answers it (else undefined). */
export function bodyErrorAnswer(error: { type?: string; code?: unknown }): ApiAnswer | undefined {
  if (error.type === "entity.parse.failed") return { status: 400, problem: problemText(400, "Bad Request", "The body is not valid JSON.") };
  // A body sent as gzip or deflate that does not inflate (zlib's Z_DATA_ERROR, Z_BUF_ERROR…): the client's mistake, not ours (500).
  if (typeof error.code === "string" && error.code.startsWith("Z_"))
    return { status: 400, problem: problemText(400, "Bad Request", "The body is not valid gzip or deflate data, as its Content-Encoding says.") };
  if (error.type === "entity.too.large") return { status: 413, problem: problemText(413, "Content Too Large", "The body is too large.") };
  // A charset or Content-Encoding express.json() does not read: the client's mistake, not ours (500).
  if (error.type === "charset.unsupported" || error.type === "encoding.unsupported")
    return {
      status: 415,
      problem: problemText(415, "Unsupported Media Type", "Send the body as JSON in UTF-8, without a Content-Encoding other than gzip or deflate."),
    };
  return undefined;
}

const TITLES: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Content" };
const titleOf = (status: number) => TITLES[status] ?? "Error";

/** Anything else: logged, and a 500 without details (never a stack trace). */
function unexpected(error: unknown, { method, path }: { method: string; path: string }): ApiAnswer {
  const message = error instanceof Error ? error.message : String(error);
  logger.error({ err: message, method, path }, `runtime API: ${method} ${path}: ${message}`);
  return { status: 500, problem: problemText(500, "Internal Server Error") };
}

/**
 * A typed refusal (DomainError: e.g. 422, a status report naming a version the site does not
 * have) or a lost database (503, Retry-After) as problem details; undefined for anything else.
 */
function errorAnswer(error: unknown, retryAfter: string): ApiAnswer | undefined {
  if (error instanceof DomainError) {
    return {
      status: error.status,
      problem: problemText(error.status, titleOf(error.status), error.message, {
        errors: Object.entries(error.fields).flatMap(([field, details]) => details.map((detail) => ({ pointer: `#/${field.replaceAll(".", "/")}`, detail }))),
      }),
    };
  }
  // The database is away and what is cached cannot answer this (or is older than the
  // stale-if-error bound): come back later (RFC 9110 §15.6.4, §10.2.3). Never 401 or 500.
  if (isDatabaseUnavailable(error)) {
    metrics.dbErrors.inc({ where: "runtime-api" });
    return {
      status: 503,
      headers: { "Retry-After": retryAfter },
      problem: problemText(503, "Service Unavailable", "The portal cannot reach its database just now; try again later."),
    };
  }
  return undefined;
}

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
  /** The status route's work after authentication and body parsing, for its fast path. */
  receiveStatusReport(
    client: AuthenticatedClient,
    site: { id: number; code: string },
    body: unknown,
    where: { method: string; path: string },
    done: (answer: ApiAnswer) => void,
  ): void;
  /** Stopping: held long polls answer now (304 with the current ETag, or the newer version). */
  drain(): void;
  close(): Promise<void>;
}

export interface RuntimeApiOptions extends RuntimeCacheOptions {
  /** Status reports (activations and refusals) one client may send per minute; beyond: 429. */
  statusReportsPerMinute?: number;
  /** Scan-decision batches per runtime client, per instance (token bucket); beyond: 429 (ADR 042, Amendment 2). */
  scanDecisionsRate?: RateLimit;
  /** Scan reports per runtime client, per instance (token bucket); beyond: 429. */
  scanReportsRate?: RateLimit;
  /** Group commit of status reports (ADR 026): a batch leaves at `maxBatch` reports or `maxWaitMs` after the first. */
  statusReportBatch?: { maxBatch?: number; maxWaitMs?: number };
}

/** The largest JSON body the runtime API reads (express.json() and the status reports' fast path). */
export const RUNTIME_JSON_MAX_BYTES = 64 * 1024;

const SCAN_REPORTS_PATH = /^\/sites\/[^/]+\/scan-reports\/?$/i;
/** The scan-decisions route, as the router sees its path: its body is read by the route, after authentication. */
const SCAN_DECISIONS_PATH = /^\/sites\/[^/]+\/scan-decisions\/?$/i;

/** The reference client reports only when what it runs changes: a handful a minute is plenty. */
export const DEFAULT_STATUS_REPORTS_PER_MINUTE = 10;

/**
 * Scan-decision batches a client may send: 200 a second, 400 at once — `npm run bench:scan` sends
 * about 60 batches of 1,000 scans a second over 4 connections with one token and is not throttled;
 * a station decides its scans offline and calls this only when it cannot.
 */
export const DEFAULT_SCAN_DECISIONS_RATE: RateLimit = { perSecond: 200, burst: 400 };
/** Scan reports: the reference client sends one per pull and a backlog after an outage; 10 a second, 20 at once. */
export const DEFAULT_SCAN_REPORTS_RATE: RateLimit = { perSecond: 10, burst: 20 };

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
  const scanDecisionBuckets = new TokenBuckets(options.scanDecisionsRate ?? DEFAULT_SCAN_DECISIONS_RATE);
  const scanReportBuckets = new TokenBuckets(options.scanReportsRate ?? DEFAULT_SCAN_REPORTS_RATE);
  /**
   * A client over its scan endpoint's rate: 429 with Retry-After before its body is read. Counted
   * (c981_runtime_throttled_total) by endpoint.
   */
  const throttle =
    (buckets: TokenBuckets, endpoint: "scan-decisions" | "scan-reports", what: string) =>
    (req: Authed, res: Response, next: NextFunction): void => {
      const taken = buckets.take(req.client!.id);
      if (taken.ok) {
        next();
        return;
      }
      metrics.throttled.inc({ endpoint });
      const { perSecond, burst } = buckets.limit;
      send(res, {
        status: 429,
        headers: { "Retry-After": String(taken.retryAfterSeconds) },
        problem: problemText(429, "Too Many Requests", `At most ${perSecond} ${what} a second per client (${burst} at once).`, { reason: "rate-limited" }),
      });
    };
  const router = express.Router();
  // Scan reports (ADR 042) and scan decisions (ADR 043) are read by their own routes, after
  // authentication, with their own limits; every other body is read here, under the runtime API's own limit.
  const json = express.json({ limit: RUNTIME_JSON_MAX_BYTES });
  router.use((req, res, next) => (SCAN_REPORTS_PATH.test(req.path) || SCAN_DECISIONS_PATH.test(req.path) ? next() : json(req, res, next)));
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
      if (!site || !req.client!.siteIds.has(site.id))
        return problem(res, 404, "Not Found", `No site ${code} for this client.`, { reason: "site-not-in-scope" });
      req.site = site;
      next();
    })(req, res, next);
  });

  /**
   * The schema version a request asks for (ADR 039): `?schemaVersion=1` or `2`, absent → 1; anything
   * else (another value, the parameter twice) answers 400 and returns undefined.
   */
  const schemaVersionOf = (req: Request, res: Response): 1 | 2 | undefined => {
    const asked = req.query.schemaVersion;
    if (asked === undefined || asked === "1") return 1;
    if (asked === "2") return 2;
    problem(res, 400, "Bad Request", "schemaVersion must be 1 or 2.", { errors: [{ pointer: "#/query/schemaVersion" }] });
    return undefined;
  };

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
      const schemaVersion = schemaVersionOf(req, res);
      if (schemaVersion === undefined) return;
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
        // The form asked for (ADR 039); the long poll is held on the version (its v1 ETag) either way.
        const served = representationOf(current, schemaVersion);
        if (ifNoneMatch !== served.etag || Date.now() >= deadline || (longPolls.draining && held)) {
          const status = sendJws(req, res, served.jws, "private, no-cache", served.etag);
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
      const schemaVersion = schemaVersionOf(req, res);
      if (schemaVersion === undefined) return;
      const next = await query(upcomingRuleSetJws(db, req.site!.id, new Date(), schemaVersion));
      if (!next) return problem(res, 404, "Not Found", `Site ${req.site!.code} has no scheduled rule set.`);
      sendJws(req, res, next, "private, no-cache");
    }),
  );

  router.get(
    "/sites/:site/ruleset/versions",
    handled(async (req: Authed, res) => {
      const rows = await query(ruleSetVersionList(db, req.site!.id));
      res.setHeader("Cache-Control", "private, no-cache");
      res.type("application/json").send(
        JSON.stringify({
          site: req.site!.code,
          versions: rows.map((r) => ({ ...r, digest: `sha256:${r.digest}`, digestV2: r.digestV2 === null ? null : `sha256:${r.digestV2}` })),
        }),
      );
    }),
  );

  router.get(
    "/sites/:site/ruleset/versions/:version",
    handled(async (req: Authed, res) => {
      const version = Number(req.params.version);
      if (!/^[1-9]\d{0,8}$/.test(req.params.version ?? ""))
        return problem(res, 400, "Bad Request", "version must be a positive integer.", { errors: [{ pointer: "#/path/version" }] });
      const schemaVersion = schemaVersionOf(req, res);
      if (schemaVersion === undefined) return;
      const jws = await query(ruleSetVersionJws(db, req.site!.id, version, schemaVersion));
      if (!jws) return problem(res, 404, "Not Found", `Site ${req.site!.code} has no version ${version}.`);
      // A published version never changes — but it is served behind a bearer token, so only the
      // client's own cache may keep it (RFC 9111 §3.5, §5.2.2.7; ADR 017): never a shared cache.
      sendJws(req, res, jws, "private, max-age=31536000, immutable");
    }),
  );

  /**
   * A status report received — its body as express.json() or the fast path read it — counted,
   * checked with the schema and written in its batch (group commit, ADR 026); `done` gets the
   * answer once the batch has committed. Callbacks rather than promises: this runs per report.
   */
  const receiveStatusReport = (
    client: AuthenticatedClient,
    site: { id: number; code: string },
    body: unknown,
    where: { method: string; path: string },
    done: (answer: ApiAnswer) => void,
  ): void => {
    const parsed = parseStatusReport(body);
    // Counted before anything else, so refused and malformed reports cost their sender too.
    reports.enqueue({ client, site, report: parsed.success ? parsed.data : undefined }, (error, outcome) => {
      if (!outcome) return done(errorAnswer(error, retryAfter) ?? unexpected(error, where));
      switch (outcome.result) {
        case "rate_limited":
          return done({
            status: 429,
            headers: { "Retry-After": String(outcome.retryAfterSeconds) },
            problem: problemText(429, "Too Many Requests", `At most ${reportsPerMinute} status reports a minute per client.`),
          });
        case "malformed":
          return done({
            status: 400,
            problem: problemText(400, "Bad Request", "The status report is invalid.", {
              errors: (parsed.error?.issues ?? []).map((i) => ({ pointer: `#/${i.path.join("/")}`, detail: i.message })),
            }),
          });
        case "refused":
          return done(errorAnswer(outcome.error, retryAfter)!);
        case "stored":
          return done({ status: 204 });
      }
    });
  };

  // Written in batches (group commit, ADR 026): answered once the report's batch has committed.
  // Status reports sent plainly by a client whose token is in memory are answered ahead of express
  // by server/status-report-fast-path.ts, through the same receiveStatusReport: what it reads
  // before (the body, its size, its JSON) must agree with express.json() and this router
  // (test/integration/status-report-fast-path.test.ts compares them).
  router.post("/sites/:site/ruleset/status", (req: Authed, res) => {
    receiveStatusReport(req.client!, req.site!, req.body, { method: req.method, path: req.originalUrl.split("?")[0]! }, (answer) => send(res, answer));
  });

  // A station's batch of scan decisions (ADR 042): read only after the token and the site are
  // known, refused past SCAN_REPORT_MAX_BYTES before parsing (Content-Length, else while reading),
  // checked with a strict schema, stored once per batch id: 201 stored, 200 already stored.
  router.post(
    "/sites/:site/scan-reports",
    throttle(scanReportBuckets, "scan-reports", "scan reports"),
    express.json({ limit: SCAN_REPORT_MAX_BYTES }),
    handled(async (req: Authed, res) => {
      const parsed = scanReportSchema.safeParse(req.body);
      if (!parsed.success)
        return problem(res, 400, "Bad Request", "The scan report is invalid.", {
          errors: parsed.error.issues.map((i) => ({ pointer: `#/${i.path.join("/")}`, detail: i.message })),
        });
      try {
        const outcome = await query(recordScanReport(db, { runtimeClientId: req.client!.id, siteId: req.site!.id, report: parsed.data }));
        res
          .status(outcome.result === "stored" ? 201 : 200)
          .type("application/json")
          .send(JSON.stringify({ batchId: parsed.data.batchId, result: outcome.result, decisions: outcome.decisions }));
      } catch (error) {
        const answer = errorAnswer(error, retryAfter);
        if (!answer) throw error;
        send(res, answer);
      }
    }),
  );

  /**
   * Scan decisions online (issue 26, item 3; ADR 043): the decisions the runtime client makes
   * offline (packages/identifiers compileScanner, ADR 040), from the schema-version-2 document in
   * force at the site, compiled once per cached version (server/runtime-cache.ts scannerOf). The
   * body's size is judged from its length before it is read (413); the schema is strict and its
   * errors name the row (`#/scans/17/scanned`).
   */
  router.post(
    "/sites/:site/scan-decisions",
    throttle(scanDecisionBuckets, "scan-decisions", "scan-decision requests"),
    express.json({ limit: SCAN_DECISIONS_MAX_BYTES }),
    handled(async (req: Authed, res) => {
      const parsed = scanDecisionsRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        const issues = parsed.error.issues;
        if (issues.some((i) => i.code === "too_big" && i.path.length === 1 && i.path[0] === "scans"))
          return problem(res, 413, "Content Too Large", `At most ${SCAN_DECISIONS_MAX_SCANS} scans in one request.`, { errors: [{ pointer: "#/scans" }] });
        return problem(res, 400, "Bad Request", "The scans are invalid.", {
          errors: issues.map((i) => ({ pointer: `#/${i.path.join("/")}`, detail: i.message })),
        });
      }
      const site = req.site!;
      const current = await cache.current(site.id);
      if (!current) return problem(res, 404, "Not Found", `Site ${site.code} has no rule set in force.`);
      const scanner = scannerOf(current);
      if (!scanner)
        return problem(
          res,
          409,
          "Conflict",
          `Version ${current.version} in force at ${site.code} has no schema-version-2 form (it predates ADR 039): scans cannot be decided on it. A renewal publishes one.`,
          { reason: "no-schema-version-2" },
        );
      // Decided in slices of 100, letting other requests in between: a batch of strings that are
      // slow to read (long digit runs, bounded by MAX_ENUMERATION_WORK) cannot hold the process.
      const decisions: ReturnType<typeof scanner.decide>[] = [];
      const scans = parsed.data.scans;
      for (let i = 0; i < scans.length; i++) {
        if (i > 0 && i % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        decisions.push(scanner.decide(scans[i]!));
      }
      metrics.scanDecisions.inc({ site: site.code }, decisions.length);
      // Written as is: `res.send` would hash the whole answer (~0.8 KB a decision) for an ETag that
      // no client of a POST answered no-store can use.
      const body = Buffer.from(JSON.stringify({ ruleSet: { version: scanner.version, digest: scanner.digest }, decisions }));
      res.status(200);
      res.setHeader("Cache-Control", "no-store");
      res.setHeader("Content-Type", "application/json; charset=utf-8");
      res.setHeader("Content-Length", body.length);
      res.end(body);
    }),
  );

  router.use((_req, res) => problem(res, 404, "Not Found", "No such endpoint."));
  // Malformed JSON bodies and anything unexpected: problem details, never a stack trace.
  router.use((error: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const body = bodyErrorAnswer(error);
    if (body) return send(res, body);
    if (res.headersSent) return res.destroy();
    send(res, errorAnswer(error, retryAfter) ?? unexpected(error, { method: req.method, path: req.originalUrl.split("?")[0]! }));
  });
  return {
    router,
    cache,
    receiveStatusReport,
    drain: () => longPolls.drain(),
    close: async () => {
      await reports.close();
      await cache.stop();
    },
  };
}
