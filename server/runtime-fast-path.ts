/**
 * The runtime pull's fast path (ADR 009): `GET`/`HEAD /api/v1/sites/<code>/ruleset` answered at
 * the node:http level, ahead of express, when everything it needs — the token, the site and the
 * rule set in force — is already in the RuntimeCache's memory. It answers exactly what the express
 * router would (the same bytes, status and headers; test/integration/runtime-fast-path.test.ts
 * compares them); anything it is not sure about falls through to express, which stays the source
 * of truth and fills the cache.
 */
import { randomFillSync } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { metrics } from "../app/utils/metrics.server";
import type { RuntimeCache } from "./runtime-cache";
import { securityHeaders } from "./security";

/** Only the plain path, optionally with `?waitSeconds=0`; any other query goes to express. */
const RULESET_PATH = /^\/api\/v1\/sites\/([A-Za-z0-9_-]{1,64})\/ruleset(?:\?waitSeconds=0)?$/;
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
}

export function createRuntimeFastPath({ cache, isSecure }: FastPathOptions): RuntimeFastPath {
  const stats = { served: 0, passed: 0 };

  const security = securityHeaderTemplates();

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
    const current = site && client!.siteIds.has(site.id) ? cache.peekCurrent(site.id) : undefined;
    if (!current) {
      stats.passed++;
      return false;
    }
    // Express answers 304 to exactly this ETag, and otherwise 304 only when `fresh` finds the
    // ETag in a list or sees `*`: such requests go to express; any other value gets the 200.
    const ifNoneMatch = headers["if-none-match"];
    let status = 200;
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch === current.etag) status = 304;
      else if (ifNoneMatch.includes("*") || ifNoneMatch.includes(current.etag.slice(1, -1))) {
        stats.passed++;
        return false;
      }
    }

    cache.seen(client!);
    stats.served++;
    metrics.pulls.inc({ site: site!.code, status: String(status) });
    const list = security(isSecure(req));
    list.push("ETag", current.etag, "Cache-Control", "private, no-cache");
    if (status === 304) {
      res.writeHead(304, list);
      res.end();
      return true;
    }
    list.push("Content-Type", CONTENT_TYPE, "Content-Length", String(current.body.length));
    res.writeHead(200, list);
    if (method === "HEAD") res.end();
    else res.end(current.body);
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
function securityHeaderTemplates(): (secure: boolean) => string[] {
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
