/**
 * The baseline of `npm run bench:fanout`: a bare node:http server doing only what the portal's
 * long-poll path must do, with the same bytes — no database, no tokens checked, no express.
 *
 * GET /api/v1/sites/<S>/ruleset[?waitSeconds=W]: the site's current JWS with its ETag (200), 304
 * when If-None-Match names it and no wait is asked, else held until a release or the end of the
 * wait (then 304). POST …/ruleset/status: the body is read, then 204. /readyz, /livez: 200 (HAProxy's checks).
 * The parent (scripts/bench-fanout.ts) sends `{ type: "sites", sites: { S: jws } }` over IPC to set
 * the bytes and `{ type: "release", site, jws }` to release: every held poll of that site is answered
 * with the new bytes at once. It listens on PORT (127.0.0.1) and says `{ type: "listening" }`.
 */
import http from "node:http";
import { etagOf } from "../../server/runtime-cache";

interface Current {
  body: Buffer;
  etag: string;
}
const current = new Map<string, Current>();
const held = new Map<string, Set<{ res: http.ServerResponse; timer: NodeJS.Timeout }>>();
const PATH = /^\/api\/v1\/sites\/([A-Za-z0-9_-]{1,64})\/ruleset(\/status)?(?:\?waitSeconds=(\d+))?$/;

function send(res: http.ServerResponse, site: Current) {
  res.writeHead(200, {
    "Content-Type": "application/jose+json; charset=utf-8",
    "Content-Length": site.body.length,
    ETag: site.etag,
    "Cache-Control": "private, no-cache",
  });
  res.end(site.body);
}

function notModified(res: http.ServerResponse, site: Current) {
  res.writeHead(304, { ETag: site.etag, "Cache-Control": "private, no-cache" });
  res.end();
}

const server = http.createServer((req, res) => {
  if (req.url === "/readyz" || req.url === "/livez") {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"status":"ok"}');
    return;
  }
  const match = PATH.exec(req.url ?? "");
  const site = match ? current.get(match[1]!) : undefined;
  if (!match || !site) {
    res.writeHead(404);
    res.end();
    return;
  }
  if (match[2]) {
    if (req.method !== "POST") {
      res.writeHead(405);
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(204);
      res.end();
    });
    return;
  }
  const wait = Number(match[3] ?? 0);
  if (req.headers["if-none-match"] !== site.etag) return send(res, site);
  if (wait === 0) return notModified(res, site);
  const code = match[1]!;
  let set = held.get(code);
  if (!set) held.set(code, (set = new Set()));
  const entry = {
    res,
    timer: setTimeout(() => {
      set.delete(entry);
      notModified(res, current.get(code)!);
    }, wait * 1000),
  };
  set.add(entry);
  res.on("close", () => {
    clearTimeout(entry.timer);
    set.delete(entry);
  });
});
// As the portal does by default (C981_KEEP_ALIVE_SECONDS): the same keep-alive behind HAProxy.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

process.on("message", (message: { type: string; sites?: Record<string, string>; site?: string; jws?: string }) => {
  if (message.type === "sites") {
    for (const [code, jws] of Object.entries(message.sites!)) current.set(code, { body: Buffer.from(jws), etag: etagOf(jws) });
  } else if (message.type === "release") {
    const next = { body: Buffer.from(message.jws!), etag: etagOf(message.jws!) };
    current.set(message.site!, next);
    const waiting = held.get(message.site!);
    if (waiting) {
      for (const entry of waiting) {
        clearTimeout(entry.timer);
        send(entry.res, next);
      }
      waiting.clear();
    }
  }
});
process.on("disconnect", () => process.exit(0));
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send!({ type: "listening" }));
