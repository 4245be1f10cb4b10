import type { NextFunction, Request, Response } from "express";
import { bodyLimitFor, formatBytes, pageOf } from "../app/utils/body-limits";

const WITHOUT_BODY = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Size limits before parsing: a body larger than its path's limit (see
 * app/utils/body-limits.ts) is refused with 413 naming the limit from its Content-Length, before
 * anything reads it; a page's form sent without a length gets 411. The connection is closed, so
 * the rest of the body is never read. Browsers get a page, the API an RFC 9457 problem.
 */
export function bodyLimits(formMaxBytes: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (WITHOUT_BODY.has(req.method)) return next();
    // The page as the router will see it (`/api/../sign-in` is /sign-in), never express's raw path.
    const page = pageOf(req.originalUrl);
    const limit = bodyLimitFor(req.originalUrl, formMaxBytes, req.headers["content-type"] ?? "");
    const declared = req.headers["content-length"];
    if (declared !== undefined) {
      if (!/^\d{1,15}$/.test(declared) || Number(declared) > limit) return refuse(req, res, limit);
      return proceed(req, res, next);
    }
    if (req.headers["transfer-encoding"] !== undefined && !page.startsWith("/api/v1/")) {
      // A page's form without a length (browsers always send one) cannot be checked before it is
      // read: 411 asks for the length. Counting it while a page reads it would race that page's
      // own answer. The runtime API's JSON parser reads chunked bodies under its own smaller limit.
      return refuse(req, res, limit, 411);
    }
    proceed(req, res, next);
  };
}

/**
 * A client that asked to wait (`Expect: 100-continue`) is told to send its body only now, after
 * its size was judged: the server hands such requests here without answering 100 itself (app.ts).
 */
function proceed(req: Request, res: Response, next: NextFunction) {
  if (/100-continue/i.test(req.headers.expect ?? "")) res.writeContinue();
  next();
}

function refuse(req: Request, res: Response, limit: number, status: 411 | 413 = 413) {
  const page = pageOf(req.originalUrl);
  const detail =
    status === 413
      ? `The request body is larger than ${formatBytes(limit)}, the limit for ${page}.`
      : `A form must be sent with its length (Content-Length) so that its size can be checked; the limit for ${page} is ${formatBytes(limit)}.`;
  const title = status === 413 ? "Request body too large" : "Length required";
  // Answer, then close: nothing reads the rest of the body.
  res.setHeader("Connection", "close");
  res.once("finish", () => {
    req.unpipe();
    req.pause();
    setTimeout(() => req.socket.destroy(), 1000).unref();
  });
  const wantsProblem = page.startsWith("/api/") || /application\/(problem\+)?json/.test(req.get("accept") ?? "");
  if (wantsProblem) {
    res
      .status(status)
      .type("application/problem+json")
      .send(JSON.stringify({ type: "about:blank", title, status, detail, limitBytes: limit }));
    return;
  }
  res
    .status(status)
    .type("text/html")
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · C-981</title></head>` +
        `<body><main><h1>${title}</h1><p>${escapeHtml(detail)}</p><p><a href="/">Back to C-981</a></p></main></body></html>`,
    );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
