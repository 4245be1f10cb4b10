import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { NextFunction, Request, Response } from "express";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Response headers for every response: a Content-Security-Policy with a per-response nonce for
 * Remix's inline scripts, no framing, no MIME sniffing. The nonce reaches Remix through
 * getLoadContext (res.locals.cspNonce).
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction) {
  const nonce = randomBytes(16).toString("base64");
  res.locals.cspNonce = nonce;
  res.setHeader(
    "Content-Security-Policy",
    [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}'`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
  );
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "same-origin");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  if (req.secure) res.setHeader("Strict-Transport-Security", "max-age=31536000");
  // The client address for the audit trail, set here only: a header sent by the client is dropped.
  req.headers["x-c981-client-ip"] = req.ip ?? req.socket.remoteAddress ?? "";
  next();
}

/**
 * Cross-site request forgery: besides SameSite=Lax cookies, a state-changing request must come
 * from a page of this origin — its Origin header (or, lacking one, its Referer) must match.
 */
export function sameOriginForWrites(req: Request, res: Response, next: NextFunction) {
  if (SAFE_METHODS.has(req.method)) return next();
  const expected = `${req.protocol}://${req.get("host")}`;
  const origin = req.get("origin") ?? (req.get("referer") ? safeOrigin(req.get("referer")!) : undefined);
  if (origin === expected) return next();
  res.status(403).type("text/plain").send("Cross-site request refused: this form must be sent from a C-981 page.");
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL text cannot hold NUL; an address carrying one is refused here with 400 instead of
 * failing deep in a query with 500. (Form values are checked in parseForm.)
 */
export function refuseNulInAddress(req: Request, res: Response, next: NextFunction) {
  if (/%00/i.test(req.originalUrl)) {
    res.status(400).type("text/plain").send("The address contains a NUL character.");
    return;
  }
  next();
}

const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:\d{1,5})?$/;

/**
 * The Host (and X-Forwarded-Host) header must be a host name or address with an optional port:
 * Remix builds the request's address from it, and `Host: localhost/sign-in?` would route a post
 * the server checked as `/imports/epcis` to `/sign-in` (a hostile-input review, ADR 016). Anything else is 400.
 */
export function refuseMalformedHost(req: Request, res: Response, next: NextFunction) {
  if (!wellFormedHosts(req.headers)) {
    res.status(400).setHeader("Connection", "close");
    res.type("text/plain").send("The Host header is not a host name.");
    return;
  }
  next();
}

/** The check refuseMalformedHost makes (also asked by the status reports' fast path). */
export function wellFormedHosts(headers: IncomingHttpHeaders): boolean {
  const hosts = [headers.host, headers["x-forwarded-host"]].flat().filter((h): h is string => h !== undefined);
  for (const host of hosts) {
    for (const one of host.split(",")) if (!HOST_HEADER.test(one.trim())) return false;
  }
  return true;
}
