/**
 * Serving the Prometheus exposition (ADR 025): on a port of its own (C981_METRICS_PORT, bound to
 * C981_METRICS_HOST, loopback by default) and/or on the main port at `/metrics` behind
 * `Authorization: Bearer <C981_METRICS_TOKEN>`. Without a token the main port has no /metrics
 * (404), so a portal on the internet never tells strangers its pull counts per site.
 *
 * The values themselves live in app/utils/metrics.server.ts; gauges read at scrape time are set by
 * hooks their owners register (`metrics.onScrape`).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { logger } from "../app/utils/logger.server";
import { metrics } from "../app/utils/metrics.server";

const PATH = /^\/metrics(?:\?.*)?$/;

async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("GET only\n");
    return;
  }
  try {
    const { contentType, body } = await metrics.scrape();
    res.writeHead(200, { "Content-Type": contentType, "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, "metrics: the scrape failed");
    res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("scrape failed\n");
  }
}

/** The metrics listener of its own: `/metrics` (and `/`) answer, anything else 404. Not yet listening. */
export function createMetricsServer(): http.Server {
  const server = http.createServer((req, res) => {
    if (req.url === "/" || PATH.test(req.url ?? "")) void answer(req, res);
    else res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found: GET /metrics\n");
  });
  server.keepAliveTimeout = 5000;
  return server;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * `/metrics` on the main port: answers it (and returns true) only when a token is configured; the
 * bearer token is compared in constant time. Without a token it returns false: the request goes on
 * to express, where no such page exists (404).
 */
export function metricsOnMainPort(token: string | undefined): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  if (!token) return () => false;
  const expected = digest(`Bearer ${token}`);
  return (req, res) => {
    if (!PATH.test(req.url ?? "")) return false;
    const given = req.headers.authorization;
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      res
        .writeHead(401, { "WWW-Authenticate": 'Bearer realm="c981-metrics"', "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" })
        .end("send Authorization: Bearer <C981_METRICS_TOKEN>\n");
      return true;
    }
    void answer(req, res);
    return true;
  };
}
