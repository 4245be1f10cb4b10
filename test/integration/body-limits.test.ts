/**
 * ADR 016: size limits before parsing. A body over its path's limit is answered 413 naming the
 * limit before the server reads it — at once from Content-Length, or as soon as a chunked body
 * passes the limit — and the connection is closed so the rest is never read. Raw sockets, so the
 * test controls exactly what is sent and when.
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/utils/db.server";
import { bodyLimitFor, DEFAULT_FORM_MAX_BYTES, EPCIS_UPLOAD_MAX_BYTES, pageOf, SNAPSHOT_UPLOAD_MAX_BYTES } from "../../app/utils/body-limits";
import { createPortalServer, type PortalServer } from "../../server/app";
import { createTestDatabase } from "../setup/database";

let database: Database;
let portal: PortalServer;
let small: PortalServer;
let port = 0;
let smallPort = 0;

const MiB = 1024 * 1024;

interface Exchange {
  /** The status line and headers, as received. */
  head: string;
  body: string;
  status: number;
  /** Milliseconds from the end of the request head to the first byte of the answer. */
  answeredAfterMs: number;
  /** Body bytes the client had written when the answer came. */
  writtenWhenAnswered: number;
  /** The server closed the connection while the client still had body to send. */
  closedEarly: boolean;
}

/**
 * Sends a request head, then body bytes in 64 KiB pieces (up to `bodyBytes`, chunked or not) as
 * fast as the socket takes them, and stops writing once the answer has come.
 */
function send(targetPort: number, head: string, bodyBytes: number, chunked = false): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(targetPort, "127.0.0.1");
    const piece = Buffer.alloc(64 * 1024, "a");
    let written = 0;
    let received = Buffer.alloc(0);
    let answeredAt = 0;
    let writtenWhenAnswered = 0;
    let headSentAt = 0;
    let done = false;
    const finish = (closedEarly: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      const text = received.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const headPart = split >= 0 ? text.slice(0, split) : text;
      resolve({
        head: headPart,
        body: split >= 0 ? text.slice(split + 4) : "",
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headPart)?.[1] ?? 0),
        answeredAfterMs: answeredAt ? answeredAt - headSentAt : Infinity,
        writtenWhenAnswered,
        closedEarly,
      });
    };
    const pump = () => {
      while (!answeredAt && written < bodyBytes) {
        const size = Math.min(piece.length, bodyBytes - written);
        const data = chunked ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), piece.subarray(0, size), Buffer.from("\r\n")]) : piece.subarray(0, size);
        written += size;
        if (!socket.write(data)) return void socket.once("drain", pump);
      }
      if (!answeredAt && chunked) socket.write("0\r\n\r\n");
    };
    socket.on("connect", () => {
      socket.write(head);
      headSentAt = Date.now();
      pump();
    });
    socket.on("data", (chunk: Buffer) => {
      if (!answeredAt) {
        answeredAt = Date.now();
        writtenWhenAnswered = written;
      }
      received = Buffer.concat([received, chunk]);
    });
    socket.on("error", () => finish(written < bodyBytes));
    socket.on("close", () => finish(written < bodyBytes));
    setTimeout(() => (done ? undefined : reject(new Error(`no answer within 20 s; ${written} bytes written`))), 20_000).unref();
  });
}

const formHead = (path: string, length: number | "chunked", accept = "text/html", extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nAccept: ${accept}\r\nContent-Type: application/x-www-form-urlencoded\r\n${extra}` +
  (length === "chunked" ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${length}\r\n`) +
  "\r\n";

beforeAll(async () => {
  database = await createTestDatabase();
  portal = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined } });
  portal.server.listen(0, "127.0.0.1");
  await new Promise((r) => portal.server.once("listening", r));
  port = (portal.server.address() as AddressInfo).port;
  small = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined, C981_FORM_MAX_BYTES: 64 * 1024 } });
  small.server.listen(0, "127.0.0.1");
  await new Promise((r) => small.server.once("listening", r));
  smallPort = (small.server.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await portal?.close();
  await small?.close();
});

describe("size limits before parsing", () => {
  it("the limits table: forms 1 MiB, EPCIS 512 MiB and ERP/PLM 64 MiB files with room for the envelope", () => {
    expect(DEFAULT_FORM_MAX_BYTES).toBe(1 * MiB);
    expect(bodyLimitFor("/sign-in", DEFAULT_FORM_MAX_BYTES)).toBe(1 * MiB);
    expect(bodyLimitFor("/sign-in.data", DEFAULT_FORM_MAX_BYTES)).toBe(1 * MiB);
    expect(bodyLimitFor("/imports/epcis", DEFAULT_FORM_MAX_BYTES)).toBe(EPCIS_UPLOAD_MAX_BYTES + MiB);
    expect(bodyLimitFor("/imports/epcis.data", DEFAULT_FORM_MAX_BYTES)).toBe(EPCIS_UPLOAD_MAX_BYTES + MiB);
    expect(bodyLimitFor("/external-masters", DEFAULT_FORM_MAX_BYTES)).toBe(SNAPSHOT_UPLOAD_MAX_BYTES + MiB);
    expect(bodyLimitFor("/imports/epcis/../../sign-in", DEFAULT_FORM_MAX_BYTES)).toBe(1 * MiB);
    // The page as the router sees it: resolved, decoded, any case; uploads only as multipart.
    expect(pageOf("/api/../sign-in")).toBe("/sign-in");
    expect(pageOf("/api/%2e%2e/sign-in")).toBe("/sign-in");
    expect(pageOf("/Imports/%65pcis.data?x=1")).toBe("/imports/epcis");
    expect(bodyLimitFor("/Imports/Epcis", DEFAULT_FORM_MAX_BYTES)).toBe(EPCIS_UPLOAD_MAX_BYTES + MiB);
    expect(bodyLimitFor("/imports/epcis", DEFAULT_FORM_MAX_BYTES, "application/x-www-form-urlencoded")).toBe(1 * MiB);
    expect(bodyLimitFor("/imports/epcis", DEFAULT_FORM_MAX_BYTES, "Multipart/Form-Data; boundary=x")).toBe(EPCIS_UPLOAD_MAX_BYTES + MiB);
  });

  it("a chunked form to a path that only looks like the API (/api/../sign-in) is refused with 411", async () => {
    for (const path of ["/api/../sign-in", "/api/%2e%2e/sign-in", "/api/v1/../../sign-in.data"]) {
      const answer = await send(port, formHead(path, "chunked"), 50 * MiB, true);
      expect(answer.status, path).toBe(411);
      expect(answer.closedEarly, path).toBe(true);
    }
  });

  it("a Host header that is not a host name is refused before routing (it would move the page Remix sees)", async () => {
    const head =
      `POST /imports/epcis HTTP/1.1\r\nHost: localhost/sign-in?\r\nOrigin: http://localhost/sign-in?\r\nX-Forwarded-Host: localhost\r\n` +
      `Content-Type: multipart/form-data; boundary=x\r\nContent-Length: ${20 * MiB}\r\n\r\n`;
    const answer = await send(port, head, 20 * MiB);
    expect(answer.status).toBe(400);
    expect(answer.answeredAfterMs).toBeLessThan(1000);
    const forwarded = `POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Host: evil.example/x?\r\nContent-Length: 3\r\nConnection: close\r\n\r\n`;
    expect((await send(port, forwarded, 3)).status).toBe(400);
  });

  it("an urlencoded post to an upload page has the form limit, not the upload's", async () => {
    const answer = await send(port, formHead("/imports/epcis", 20 * MiB), 20 * MiB);
    expect(answer.status).toBe(413);
    expect(answer.body).toContain("larger than 1 MiB");
  });

  it("Expect: 100-continue — an oversized body is refused without inviting it; an acceptable one is invited", async () => {
    const big = await send(port, formHead("/sign-in", 200 * MiB, "text/html", "Expect: 100-continue\r\n"), 0);
    expect(big.status).toBe(413);
    expect(big.head).not.toContain("100 Continue");
    const small = await send(smallPort, formHead("/sign-in", 10, "text/html", "Expect: 100-continue\r\nConnection: close\r\n"), 10);
    expect(small.head.startsWith("HTTP/1.1 100 Continue")).toBe(true);
  });

  it("a 200 MB form post to /sign-in is refused with 413 naming the limit at once, and the rest is never read", async () => {
    const declared = 200 * 1000 * 1000;
    const answer = await send(port, formHead("/sign-in", declared), declared);
    expect(answer.status).toBe(413);
    expect(answer.body).toContain("larger than 1 MiB");
    expect(answer.head.toLowerCase()).toContain("connection: close");
    expect(answer.answeredAfterMs).toBeLessThan(1000);
    // Answered before the client had sent a twentieth of it (loopback socket buffers alone take up to
    // 4 MiB before any answer: a CI run saw exactly 4,194,304), and the server hung up meanwhile.
    expect(answer.writtenWhenAnswered).toBeLessThan(declared / 20);
    expect(answer.closedEarly).toBe(true);
  });

  it("a page's form sent chunked (no length) is refused with 411 before it is read", async () => {
    const answer = await send(port, formHead("/sign-in", "chunked"), 50 * MiB, true);
    expect(answer.status).toBe(411);
    expect(answer.body).toContain("Content-Length");
    expect(answer.answeredAfterMs).toBeLessThan(1000);
    expect(answer.closedEarly).toBe(true);
  });

  it("a 600 MiB EPCIS upload answers 413 naming its limit", async () => {
    const declared = 600 * MiB;
    const head = `POST /imports/epcis HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: ${declared}\r\n\r\n`;
    const answer = await send(port, head, declared);
    expect(answer.status).toBe(413);
    expect(answer.body).toContain("larger than 513 MiB");
    expect(answer.answeredAfterMs).toBeLessThan(1000);
    expect(answer.closedEarly).toBe(true);
  });

  it("the runtime API answers an RFC 9457 problem", async () => {
    const answer = await send(port, formHead("/api/v1/sites/EIN/status", 5 * MiB, "application/json"), 5 * MiB);
    expect(answer.status).toBe(413);
    expect(answer.head.toLowerCase()).toContain("content-type: application/problem+json");
    const problem = JSON.parse(answer.body) as { status: number; title: string; detail: string; limitBytes: number };
    expect(problem).toMatchObject({ status: 413, title: "Request body too large", limitBytes: 1 * MiB });
  });

  it("the form limit is configurable (C981_FORM_MAX_BYTES), and a body under it passes on", async () => {
    const over = await send(smallPort, formHead("/sign-in", 100 * 1024), 100 * 1024);
    expect(over.status).toBe(413);
    expect(over.body).toContain("larger than 64 KiB");
    // Under the limit the request goes on (this test server has no pages: express answers 404).
    const under = await send(smallPort, formHead("/sign-in", 10, "text/html", "Connection: close\r\n"), 10);
    expect(under.status).toBe(404);
  });

  it("a Content-Length that is not a number is refused", async () => {
    const answer = await send(port, formHead("/sign-in", "99999999999999999999" as unknown as number), 0);
    expect([400, 413]).toContain(answer.status);
  });
});
