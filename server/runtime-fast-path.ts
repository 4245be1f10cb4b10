/**
 * The runtime pull's fast path (ADR 009): `GET`/`HEAD /api/v1/sites/<code>/ruleset` answered at
 * the node:http level, ahead of express, when everything it needs — the token, the site and the
 * rule set in force — is already in the RuntimeCache's memory. It answers exactly what the express
 * router would (the same bytes, status and headers; test/integration/runtime-fast-path.test.ts
 * compares them); anything it is not sure about falls through to express, which stays the source
 * of truth and fills the cache.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
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

  /**
   * The security headers come from the very middleware express runs (server/security.ts), called
   * on a minimal request/response, so the two paths cannot drift apart.
   */
  const securityHeaderList = (req: IncomingMessage, secure: boolean): string[] => {
    const list: string[] = [];
    const res = { locals: {}, setHeader: (name: string, value: string) => list.push(name, value) };
    const shim = { headers: req.headers, secure, ip: req.socket.remoteAddress, socket: req.socket };
    securityHeaders(shim as unknown as Request, res as unknown as Response, (() => {}) as NextFunction);
    return list;
  };

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
    const list = securityHeaderList(req, isSecure(req));
    list.push("ETag", current.etag, "Cache-Control", "no-cache");
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
