/**
 * The status reports' fast path (ADR 026, amendment "Ahead of express"): `POST
 * /api/v1/sites/<code>/ruleset/status` answered at the node:http level, ahead of express, when the
 * token and the site are already in the RuntimeCache's memory and the request is sent plainly (a
 * Content-Length within the API's JSON limit, `Content-Type: application/json`, no
 * Content-Encoding, no `Expect`). It reads the body as express.json() does (UTF-8, a leading BOM
 * dropped, an empty body read as `{}`, only an object or array at the top), then hands it to the
 * very code the express route runs (RuntimeApi.receiveStatusReport: the schema, the batcher, the
 * answer), and sends that answer with the headers express would add (the security headers, the
 * problem's Content-Type, Content-Length and weak ETag by express's own ETag function).
 *
 * Anything it is not sure of is left untouched for express, which stays the source of truth:
 * test/integration/status-report-fast-path.test.ts sends the same good and hostile requests to a
 * portal with and without this path and compares status, headers and bodies.
 *
 * Why: per report the express path cost ~600–660 µs of CPU, of which express's layers,
 * body-parser and the garbage they leave were most (ADR 026, "Measured").
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { metrics } from "../app/utils/metrics.server";
import type { RuntimeCache } from "./runtime-cache";
import { securityHeaderTemplates } from "./runtime-fast-path";
import { type ApiAnswer, bodyErrorAnswer, RUNTIME_JSON_MAX_BYTES, type RuntimeApi } from "./runtime-api";
import { wellFormedHosts } from "./security";

/** Only the plain path: no query, no trailing slash, no escapes (express decodes those). */
const STATUS_PATH = /^\/api\/v1\/sites\/([A-Za-z0-9_-]{1,64})\/ruleset\/status$/;
const PREFIX = "/api/v1/sites/";
/** The express router accepts the same token syntax. */
const BEARER = /^Bearer ([A-Za-z0-9_-]{10,200})$/;
/** What express.json() reads as UTF-8 JSON; any other form of the header goes to express. */
const JSON_TYPE = /^application\/json(?:; ?charset=utf-8)?$/i;
const LENGTH = /^\d{1,6}$/;
/** body-parser's strict mode: the first character other than JSON's whitespace. */
const FIRST_CHAR = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/;
const PROBLEM_TYPE = "application/problem+json; charset=utf-8";

export interface StatusReportFastPath {
  /** Takes the request (and answers it once its batch committed) and returns true, or returns false without touching it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Reports taken here, and reports to the path left to express (tests, benchmark). */
  readonly stats: { served: number; passed: number };
}

export interface StatusReportFastPathOptions {
  cache: RuntimeCache;
  receiveStatusReport: RuntimeApi["receiveStatusReport"];
  /** What express's `req.secure` would be for this request (it depends on `trust proxy`). */
  isSecure(req: IncomingMessage): boolean;
  /** express's `etag fn` (a weak ETag of every body `res.send` sends). */
  etag(body: Buffer, encoding?: BufferEncoding): string | undefined;
}

export function createStatusReportFastPath({ cache, receiveStatusReport, isSecure, etag }: StatusReportFastPathOptions): StatusReportFastPath {
  const stats = { served: 0, passed: 0 };
  const security = securityHeaderTemplates();
  const hits = { token: metrics.cacheHits.labels("token"), site: metrics.cacheHits.labels("site") };

  /** Sends `answer` as express's router would (server/runtime-api.ts, `send`). */
  function send(req: IncomingMessage, res: ServerResponse, answer: ApiAnswer): void {
    const list = security(isSecure(req));
    if (answer.headers) for (const name in answer.headers) list.push(name, answer.headers[name]!);
    if (answer.problem === undefined) {
      res.writeHead(answer.status, list);
      res.end();
      return;
    }
    const body = Buffer.from(answer.problem, "utf8");
    list.push("Content-Type", PROBLEM_TYPE, "Content-Length", String(body.length));
    const tag = etag(body);
    if (tag) list.push("ETag", tag);
    res.writeHead(answer.status, list);
    res.end(body);
  }

  /** express.json()'s reading of a complete body: the value, or undefined when it is not JSON (400). */
  function parse(body: Buffer): { value: unknown } | undefined {
    let text = body.toString("utf8");
    // iconv-lite, which body-parser decodes with, drops a leading byte order mark.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.length === 0) return { value: {} };
    const first = FIRST_CHAR.exec(text)?.[1];
    if (first !== "{" && first !== "[") return undefined;
    try {
      // Objects with __proto__ or constructor keys hold them as their own properties (JSON.parse
      // defines, never assigns); the schema is strict, so such a key is refused (400), never copied.
      return { value: JSON.parse(text) as unknown };
    } catch {
      return undefined;
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (req.method !== "POST" || url === undefined || !url.startsWith(PREFIX)) return false;
    const match = STATUS_PATH.exec(url);
    if (!match) return false;
    const headers = req.headers;
    const declared = headers["content-length"];
    const length = declared !== undefined && LENGTH.test(declared) ? Number(declared) : -1;
    const plain =
      length >= 0 &&
      length <= RUNTIME_JSON_MAX_BYTES &&
      headers["transfer-encoding"] === undefined &&
      headers["content-encoding"] === undefined &&
      headers.expect === undefined &&
      JSON_TYPE.test(headers["content-type"] ?? "") &&
      wellFormedHosts(headers);
    const bearer = plain ? BEARER.exec(headers.authorization ?? "") : null;
    const client = bearer ? cache.peekClient(bearer[1]!) : undefined;
    const site = client ? cache.peekSite(match[1]!) : undefined;
    if (!site || !client!.siteIds.has(site.id)) {
      stats.passed++;
      return false;
    }
    stats.served++;
    cache.seen(client!);
    hits.token.inc();
    hits.site.inc();

    const where = { method: "POST", path: url };
    const done = (answer: ApiAnswer) => send(req, res, answer);
    const received = (body: Buffer) => {
      const parsed = parse(body);
      // As express.json() refuses it, before the report is counted.
      if (!parsed) return send(req, res, NOT_JSON);
      receiveStatusReport(client!, site, parsed.value, where, done);
    };
    if (length === 0) {
      // Nothing to read, but the request must still end (node reads it as ended at once).
      req.resume();
      req.once("end", () => received(EMPTY));
      return true;
    }
    // Node's parser stops at Content-Length, so at most `length` bytes arrive: usually one chunk.
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    req.on("data", (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    });
    req.once("end", () => received(chunks ? Buffer.concat(chunks) : (first ?? EMPTY)));
    return true;
  }

  return { handle, stats };
}

const EMPTY = Buffer.alloc(0);
/** The router's answer to a body express.json() cannot parse. */
const NOT_JSON = bodyErrorAnswer({ type: "entity.parse.failed" })!;
