/**
 * The load generator of `npm run bench:fanout` (scripts/bench-fanout.ts), a child process of its
 * own so it never shares an event loop with what it measures. It speaks HTTP/1.1 on raw `net`
 * sockets, one keep-alive socket per runtime client (cheaper than node:http's client at 10,000):
 *
 * 1. each client pulls its site's rule set once (200: the ETag and the version it holds), then holds
 *    a long poll (`?waitSeconds=W`, `If-None-Match`); a 304 at the end of the wait polls again;
 * 2. the 200 carrying a newer version is timed (`Date.now()`, the clock the parent stamps commits
 *    with), and the socket is left idle;
 * 3. on "report", every updated client POSTs its activation report (app/schemas/status-report.ts)
 *    over its socket, all at once, and the 204s are timed.
 *
 * Talks to its parent over IPC: `init` (where, who, how long to wait), `report`, `finish`; it sends
 * `progress` every 250 ms and `result` at the end. Anything but 200/304 (polls) or 204 (reports), a
 * reset and a request unanswered past its deadline counts as an error.
 */
import { createHash } from "node:crypto";
import net from "node:net";

export interface GeneratorClient {
  token: string;
  site: string;
}

export interface GeneratorInit {
  type: "init";
  host: string;
  port: number;
  waitSeconds: number;
  clients: GeneratorClient[];
  /** Connections opened (and first pulls in flight) at once. */
  concurrency: number;
}

export interface GeneratorProgress {
  type: "progress";
  pulled: number;
  /** Long polls sent and not answered yet. */
  held: number;
  updated: number;
  reported: number;
  /** Error answers, resets and timeouts, each counted. */
  errors: number;
  /** Clients that gave up (first pull refused, or cut or unanswered past retrying). */
  failed: number;
  /** Clients that met at least one error. */
  affected: number;
}

export interface GeneratorResult {
  type: "result";
  /** Per updated client: its site and when the 200 with the new version arrived (ms since epoch). */
  updates: [site: string, at: number][];
  reportsOk: number;
  /** First report sent and last report answered (ms since epoch). */
  reportWindow: [number, number] | null;
  errors: Record<string, number>;
  errorSamples: string[];
  repolls: number;
  reconnects: number;
  /** Clients that met at least one error. */
  affected: number;
  cpu: NodeJS.CpuUsage;
  rssBytes: number;
}

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** A minimal HTTP/1.1 response reader: Content-Length and chunked bodies, no body for 204/304. */
class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);
  private head: { status: number; headers: Map<string, string> } | undefined;

  push(chunk: Buffer): Response[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: Response[] = [];
    for (;;) {
      if (!this.head) {
        const end = this.buffer.indexOf("\r\n\r\n");
        if (end < 0) return out;
        const lines = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(lines[0]!.split(" ")[1]);
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        this.head = { status, headers };
        this.buffer = this.buffer.subarray(end + 4);
      }
      const { status, headers } = this.head;
      let body: Buffer;
      if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
        body = Buffer.alloc(0);
      } else if (headers.get("transfer-encoding")?.includes("chunked")) {
        const parts: Buffer[] = [];
        let at = 0;
        let complete = false;
        for (;;) {
          const lineEnd = this.buffer.indexOf("\r\n", at);
          if (lineEnd < 0) break;
          const size = Number.parseInt(this.buffer.subarray(at, lineEnd).toString("latin1"), 16);
          if (this.buffer.length < lineEnd + 2 + size + 2) break;
          if (size === 0) {
            at = lineEnd + 4;
            complete = true;
            break;
          }
          parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
          at = lineEnd + 2 + size + 2;
        }
        if (!complete) return out;
        body = Buffer.concat(parts);
        this.buffer = this.buffer.subarray(at);
      } else {
        const length = Number(headers.get("content-length") ?? 0);
        if (this.buffer.length < length) return out;
        body = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
      }
      this.head = undefined;
      out.push({ status, headers, body });
    }
  }
}

type Phase = "pull" | "poll" | "idle" | "report" | "done" | "failed";

interface Client extends GeneratorClient {
  socket?: net.Socket;
  reader: ResponseReader;
  phase: Phase;
  /** A request is on the wire and unanswered. */
  outstanding: boolean;
  deadline: number;
  etag?: string;
  version?: number;
  firstVersion?: number;
  digest?: string;
  updatedAt?: number;
  retried: number;
  /** Errors this client met (a refused poll is tried again after 1, 2, 4 … 16 s, as a runtime backs off). */
  errors: number;
}

let init: GeneratorInit;
const clients: Client[] = [];
const errors: Record<string, number> = {};
const errorSamples: string[] = [];
let repolls = 0;
let reconnects = 0;
let reportsOk = 0;
let reportStart = 0;
let reportEnd = 0;
let trustedKeys: string[] = [];
/** What each distinct body says: the version and digest its payload names (computed once per body). */
const documents = new Map<string, { version: number; digest: string }>();

function fail(client: Client, kind: string, detail: string) {
  client.errors++;
  errors[kind] = (errors[kind] ?? 0) + 1;
  if (errorSamples.length < 8) errorSamples.push(`${client.site}: ${kind}: ${detail}`.slice(0, 300));
}

function documentOf(etag: string, body: Buffer): { version: number; digest: string } {
  let known = documents.get(etag);
  if (!known) {
    const payload = Buffer.from((JSON.parse(body.toString("utf8")) as { payload: string }).payload, "base64url");
    known = {
      version: (JSON.parse(payload.toString("utf8")) as { version: number }).version,
      digest: `sha256:${createHash("sha256").update(payload).digest("hex")}`,
    };
    documents.set(etag, known);
  }
  return known;
}

const path = (c: Client) => `/api/v1/sites/${c.site}/ruleset`;

function send(client: Client, request: string, deadlineMs: number) {
  client.outstanding = true;
  client.deadline = Date.now() + deadlineMs;
  if (!client.socket || client.socket.destroyed) connect(client);
  client.socket!.write(request);
}

function pull(client: Client) {
  client.phase = "pull";
  send(client, `GET ${path(client)} HTTP/1.1\r\nHost: ${init.host}:${init.port}\r\nAuthorization: Bearer ${client.token}\r\n\r\n`, 30_000);
}

function poll(client: Client) {
  client.phase = "poll";
  send(
    client,
    `GET ${path(client)}?waitSeconds=${init.waitSeconds} HTTP/1.1\r\nHost: ${init.host}:${init.port}\r\nAuthorization: Bearer ${client.token}\r\nIf-None-Match: ${client.etag}\r\n\r\n`,
    (init.waitSeconds + 15) * 1000,
  );
}

function report(client: Client) {
  client.phase = "report";
  const body = JSON.stringify({ version: client.version, digest: client.digest, activatedAt: new Date(client.updatedAt!).toISOString(), trustedKeys });
  send(
    client,
    `POST ${path(client)}/status HTTP/1.1\r\nHost: ${init.host}:${init.port}\r\nAuthorization: Bearer ${client.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    60_000,
  );
}

function onResponse(client: Client, response: Response) {
  client.outstanding = false;
  const { status } = response;
  if (client.phase === "pull") {
    if (status !== 200) {
      fail(client, `pull ${status}`, response.body.toString("utf8"));
      client.phase = "failed";
      startNext();
      return;
    }
    client.etag = response.headers.get("etag");
    const doc = documentOf(client.etag!, response.body);
    client.firstVersion = client.version = doc.version;
    client.digest = doc.digest;
    poll(client);
    startNext();
  } else if (client.phase === "poll") {
    if (status === 304) {
      repolls++;
      poll(client);
    } else if (status === 200) {
      const doc = documentOf(response.headers.get("etag")!, response.body);
      client.etag = response.headers.get("etag");
      client.version = doc.version;
      client.digest = doc.digest;
      if (doc.version > client.firstVersion!) {
        client.updatedAt = Date.now();
        client.phase = "idle";
      } else poll(client);
    } else {
      fail(client, `poll ${status}`, response.body.toString("utf8"));
      const retryAfter = Number(response.headers.get("retry-after"));
      const backoff = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000 * 2 ** Math.min(4, client.errors - 1);
      setTimeout(() => poll(client), backoff);
    }
  } else if (client.phase === "report") {
    if (status === 204) {
      reportsOk++;
      reportEnd = Date.now();
    } else fail(client, `report ${status}`, response.body.toString("utf8"));
    client.phase = "done";
  }
}

function connect(client: Client) {
  const socket = net.connect({ host: init.host, port: init.port });
  socket.setNoDelay(true);
  client.socket = socket;
  client.reader = new ResponseReader();
  socket.on("data", (chunk: Buffer) => {
    let responses: Response[];
    try {
      responses = client.reader.push(chunk);
    } catch (error) {
      fail(client, "unreadable", (error as Error).message);
      socket.destroy();
      return;
    }
    for (const r of responses) {
      onResponse(client, r);
      if (r.headers.get("connection")?.toLowerCase() === "close") socket.end();
    }
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    if (client.socket !== socket) return;
    client.socket = undefined;
    if (!client.outstanding) return;
    // Cut with a request unanswered: an error; the request is sent again on a new connection.
    fail(client, `reset (${client.phase})`, "connection closed before the answer");
    client.outstanding = false;
    if (client.retried++ >= 3) {
      const wasPull = client.phase === "pull";
      client.phase = "failed";
      if (wasPull) startNext();
      return;
    }
    reconnects++;
    if (client.phase === "pull") pull(client);
    else if (client.phase === "poll") poll(client);
    else if (client.phase === "report") report(client);
  });
}

// Opening: at most `concurrency` connections being opened and first pulls in flight at once.
let nextToStart = 0;
let starting = 0;
function startNext() {
  if (starting > 0) starting--;
  while (starting < init.concurrency && nextToStart < clients.length) {
    starting++;
    pull(clients[nextToStart++]!);
  }
}

function progress(): GeneratorProgress {
  let pulled = 0;
  let held = 0;
  let updated = 0;
  let failed = 0;
  let affected = 0;
  for (const c of clients) {
    if (c.firstVersion !== undefined) pulled++;
    if (c.phase === "poll" && c.outstanding) held++;
    if (c.updatedAt !== undefined) updated++;
    if (c.phase === "failed") failed++;
    if (c.errors > 0) affected++;
  }
  return { type: "progress", pulled, held, updated, reported: reportsOk, errors: Object.values(errors).reduce((a, b) => a + b, 0), failed, affected };
}

// Deadlines: one sweep a second instead of a timer per socket.
setInterval(() => {
  const now = Date.now();
  for (const c of clients) {
    if (c.outstanding && now > c.deadline) {
      fail(c, `timeout (${c.phase})`, "no answer before the deadline");
      const wasPull = c.phase === "pull";
      c.outstanding = false;
      c.phase = "failed";
      c.socket?.destroy();
      if (wasPull) startNext();
    }
  }
}, 1000).unref();

process.on("message", (message: { type: string } & Record<string, unknown>) => {
  if (message.type === "init") {
    init = message as unknown as GeneratorInit;
    for (const c of init.clients) clients.push({ ...c, reader: new ResponseReader(), phase: "pull", outstanding: false, deadline: 0, retried: 0, errors: 0 });
    setInterval(() => process.send!(progress()), 250).unref();
    startNext();
  } else if (message.type === "report") {
    trustedKeys = message.trustedKeys as string[];
    reportStart = Date.now();
    for (const c of clients) {
      if (c.phase !== "idle") continue;
      if (!c.socket || c.socket.destroyed) reconnects++;
      report(c);
    }
  } else if (message.type === "finish") {
    const result: GeneratorResult = {
      type: "result",
      updates: clients.filter((c) => c.updatedAt !== undefined).map((c) => [c.site, c.updatedAt!]),
      reportsOk,
      reportWindow: reportStart && reportEnd ? [reportStart, reportEnd] : null,
      errors,
      errorSamples,
      repolls,
      reconnects,
      affected: clients.filter((c) => c.errors > 0).length,
      cpu: process.cpuUsage(),
      rssBytes: process.memoryUsage().rss,
    };
    for (const c of clients) c.socket?.destroy();
    process.send!(result, () => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
