import { PassThrough } from "node:stream";
import type { AppLoadContext, EntryContext } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { NonceProvider } from "./components/nonce";
import { logger } from "./utils/logger.server";

export const streamTimeout = 5_000;

declare module "@remix-run/node" {
  interface AppLoadContext {
    /** Set by the production server for its Content-Security-Policy; absent under `vite dev`. */
    cspNonce?: string;
  }
}

/**
 * An error a loader or action threw (Remix logs it with console.error by default): one structured
 * log line carrying the request id (ADR 025). Aborted requests (the client left) are not errors.
 */
export function handleError(error: unknown, { request }: { request: Request }) {
  if (request.signal.aborted) return;
  const stack = error instanceof Error ? error.stack : undefined;
  logger.error(
    { err: error instanceof Error ? error.message : String(error), stack, method: request.method, path: new URL(request.url).pathname },
    "request failed",
  );
}

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const nonce = loadContext.cspNonce ?? "";
  const readyEvent = isbot(request.headers.get("user-agent") ?? "") ? "onAllReady" : "onShellReady";
  return new Promise((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(
      <NonceProvider value={nonce}>
        <RemixServer context={remixContext} url={request.url} abortDelay={streamTimeout} nonce={nonce} />
      </NonceProvider>,
      {
        nonce,
        [readyEvent]() {
          shellRendered = true;
          const body = new PassThrough();
          responseHeaders.set("Content-Type", "text/html");
          resolve(new Response(createReadableStreamFromReadable(body), { headers: responseHeaders, status: responseStatusCode }));
          pipe(body);
        },
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          // Errors while streaming after the shell are logged; before it, the promise rejects.
          if (shellRendered) logger.error({ err: error instanceof Error ? error.message : String(error) }, "rendering failed after the shell was sent");
        },
      },
    );
    setTimeout(abort, streamTimeout + 1000);
  });
}
