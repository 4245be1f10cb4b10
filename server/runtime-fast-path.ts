/**
 * The runtime pull's fast path (ADR 009): `GET`/`HEAD /api/v1/sites/<code>/ruleset` answered at
 * the node:http level, ahead of express, when everything it needs — the token, the site and the
 * rule set in force — is already in the RuntimeCache's memory. It answers exactly what the express
 * router would (the same bytes, status and headers; test/integration/runtime-fast-path.test.ts
 * compares them); anything it is not sure about falls through to express, which stays the source
 * of truth and fills the cache.
 *
 * Long polls (`?waitSeconds=N`, N from 1 to 60) are held here too, in the cache's registry
 * (server/runtime-long-polls.ts), with nothing but node:http's own request and response per
 * connection. When one wakes and the cache cannot answer it from memory (not verified recently, a
 * reload not kept), it is handed to express with its deadline, and express answers it.
 */
import { randomFillSync } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { metrics } from "../app/utils/metrics.server";
import { type InForce, representationOf, type RuntimeCache } from "./runtime-cache";
import { handOver, MAX_WAIT_SECONDS, type WakeReason } from "./runtime-long-polls";
import { securityHeaders } from "./security";

/**
 * Only the plain path, optionally with `waitSeconds=N` written plainly (0, or 1–99 without a
 * leading zero; beyond MAX_WAIT_SECONDS too) and/or `schemaVersion=1|2` (ADR 039), in either order;
 * any other query goes to express (400 or its own reading).
 */
const RULESET_PATH =
  /^\/api\/v1\/sites\/([A-Za-z0-9_-]{1,64})\/ruleset(?:\?(?:waitSeconds=(0|[1-9][0-9]?)(?:&schemaVersion=([12]))?|schemaVersion=([12])(?:&waitSeconds=(0|[1-9][0-9]?))?))?$/;
const PREFIX = "/api/v1/sites/";
/** The express router accepts the same token syntax. */
const BEARER = /^Bearer ([A-Za-z0-9_-]{10,200})$/;
const CONTENT_TYPE = "application/jose+json; charset=utf-8";

export interface RuntimeFastPath {
  /** Answers the request and returns true, or returns false without touching the response. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests answered here and requests for the path handed to express (tests, benchmark). */
  readonly stats: { served: number; passed: number };
}

export interface FastPathOptions {
  cache: RuntimeCache;
  /** What express's `req.secure` would be for this request (it depends on `trust proxy`). */
  isSecure(req: IncomingMessage): boolean;
  /**
   * Express, for a held long poll the cache cannot answer from memory when it wakes. Without it
   * long polls (waitSeconds ≥ 1) are left to express from the start.
   */
  express?: (req: IncomingMessage, res: ServerResponse) => void;
}

export function createRuntimeFastPath({ cache, isSecure, express }: FastPathOptions): RuntimeFastPath {
  const stats = { served: 0, passed: 0 };

  const security = securityHeaderTemplates();
  const hits = { token: metrics.cacheHits.labels("token"), site: metrics.cacheHits.labels("site"), ruleset: metrics.cacheHits.labels("ruleset") };
  /** The pull counters per site code and status, looked up once. */
  const pullCounters = new Map<string, ReturnType<typeof metrics.pulls.labels>>();
  const countPull = (code: string, status: 200 | 304) => {
    const key = `${code} ${status}`;
    let counter = pullCounters.get(key);
    if (!counter) pullCounters.set(key, (counter = metrics.pulls.labels(code, String(status))));
    counter.inc();
  };

  /** The answer for a client that has `ifNoneMatch` (200 or 304), in the form it asked for, exactly as express sends it. */
  function send(req: IncomingMessage, res: ServerResponse, inForce: InForce, schemaVersion: 1 | 2, status: 200 | 304, code: string): void {
    stats.served++;
    countPull(code, status);
    const current = representationOf(inForce, schemaVersion);
    const list = security(isSecure(req));
    list.push("ETag", current.etag, "Cache-Control", "private, no-cache");
    if (status === 304) {
      res.writeHead(304, list);
      res.end();
      return;
    }
    list.push("Content-Type", CONTENT_TYPE, "Content-Length", String(current.body.length));
    res.writeHead(200, list);
    if (req.method === "HEAD") res.end();
    else res.end(current.body);
  }

  /** Holds a long poll whose client has the version in force (either form), until it wakes; then answers it. */
  function hold(req: IncomingMessage, res: ServerResponse, site: { id: number; code: string }, current: InForce, schemaVersion: 1 | 2, deadline: number): void {
    cache.longPolls.hold(site.id, current, deadline, res, (reason: WakeReason) => {
      if (reason === "closed") return;
      const now = cache.peekCurrent(site.id);
      if (!now) {
        // Not verified recently, or the reload after a change was not kept: express decides.
        stats.passed++;
        handOver(req, deadline);
        express!(req, res);
        return;
      }
      // The v1 ETag names the version, whichever form the client holds.
      if (now.etag === current.etag && reason === "changed" && Date.now() < deadline && !cache.longPolls.draining)
        return hold(req, res, site, now, schemaVersion, deadline);
      send(req, res, now, schemaVersion, now.etag === current.etag ? 304 : 200, site.code);
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (url === undefined || !url.startsWith(PREFIX)) return false;
    const match = RULESET_PATH.exec(url);
    if (!match) return false;
    const method = req.method;
    const headers = req.headers;
    // A body on a GET would reach express's JSON parser (which may refuse it): let express decide.
    const answerable =
      (method === "GET" || method === "HEAD") &&
      headers["transfer-encoding"] === undefined &&
      (headers["content-length"] === undefined || headers["content-length"] === "0");
    const bearer = answerable ? BEARER.exec(headers.authorization ?? "") : null;
    const client = bearer ? cache.peekClient(bearer[1]!) : undefined;
    const site = client ? cache.peekSite(match[1]!) : undefined;
    const inForce = site && client!.siteIds.has(site.id) ? cache.peekCurrent(site.id) : undefined;
    if (!inForce) {
      stats.passed++;
      return false;
    }
    const waitText = match[2] ?? match[5];
    const wait = waitText === undefined ? 0 : Number(waitText);
    const schemaVersion = (match[3] ?? match[4]) === "2" ? 2 : 1;
    const current = representationOf(inForce, schemaVersion);
    if (wait > MAX_WAIT_SECONDS || (wait > 0 && !express)) {
      stats.passed++;
      return false;
    }
    // Express answers 304 to exactly this ETag, and otherwise 304 only when `fresh` finds the
    // ETag in a list or sees `*`: such requests go to express; any other value gets the 200.
    const ifNoneMatch = headers["if-none-match"];
    let status: 200 | 304 = 200;
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch === current.etag) status = 304;
      else if (ifNoneMatch.includes("*") || ifNoneMatch.includes(current.etag.slice(1, -1))) {
        stats.passed++;
        return false;
      }
    }

    cache.seen(client!);
    hits.token.inc();
    hits.site.inc();
    hits.ruleset.inc();
    // A long poll for the version the client has: held (stopping: a second at most, as express does).
    if (status === 304 && wait > 0) hold(req, res, site!, inForce, schemaVersion, Date.now() + wait * 1000);
    else send(req, res, inForce, schemaVersion, status, site!.code);
    return true;
  }

  return { handle, stats };
}

/**
 * The security headers come from the very middleware express runs (server/security.ts), called
 * once per `req.secure` value on a minimal request/response at start, so the two paths cannot
 * drift apart. Per response only the CSP nonce changes: a fresh one from a pool of CSPRNG bytes
 * — a synchronous randomBytes() per request was the fast path's largest cost (ADR 009).
 */
export function securityHeaderTemplates(): (secure: boolean) => string[] {
  const NONCE_BYTES = 16;
  const pool = Buffer.alloc(NONCE_BYTES * 256);
  let offset = pool.length;
  const nonce = () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    offset += NONCE_BYTES;
    return pool.toString("base64", offset - NONCE_BYTES, offset);
  };

  const template = (secure: boolean) => {
    const list: string[] = [];
    const res = { locals: {} as { cspNonce?: string }, setHeader: (name: string, value: string) => list.push(name, value) };
    const req = { headers: {}, secure, ip: "", socket: {} };
    securityHeaders(req as unknown as Request, res as unknown as Response, (() => {}) as NextFunction);
    // The one value holding the nonce is split around it; a missing nonce leaves all fixed.
    const captured = res.locals.cspNonce ?? "\u0000";
    const at = list.findIndex((value, i) => i % 2 === 1 && value.includes(captured));
    const [before, after] = at < 0 ? [] : list[at]!.split(captured);
    return () => {
      const copy = list.slice();
      if (at >= 0) copy[at] = before + nonce() + after;
      return copy;
    };
  };
  const plain = template(false);
  const secure = template(true);
  return (isSecure) => (isSecure ? secure() : plain());
}
