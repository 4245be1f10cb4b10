/**
 * Structured logs (ADR 025): one JSON object per line on stdout (pino), each with `time`, `level`,
 * `msg`, and — for anything said while a request is being handled — that request's `reqId`
 * (carried by AsyncLocalStorage, so a service deep in the call logs it without being handed it).
 * `C981_LOG_FORMAT=text` prints the plain "C-981: …" lines a person reads in a terminal instead
 * (the default when stdout is a terminal; `json` otherwise); `C981_LOG_LEVEL` sets the threshold. One logger per process, on globalThis (the server entry and
 * the built Remix bundle are separate module instances).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";

export interface RequestContext {
  reqId: string;
}

const KEY = Symbol.for("c981.logger");
type Holder = { [KEY]?: { logger: Logger; context: AsyncLocalStorage<RequestContext> } };

function build() {
  const context = new AsyncLocalStorage<RequestContext>();
  const wanted = process.env.C981_LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "warn" : "info");
  // An unknown level is the environment's mistake, named by readEnv (env.server.ts): not a crash here.
  const level = wanted in pino.levels.values || wanted === "silent" ? wanted : "info";
  // JSON for machines (a service manager, a container runtime, a log shipper: stdout is a pipe or
  // a file); a person at a terminal reads text. C981_LOG_FORMAT decides when set.
  const format = process.env.C981_LOG_FORMAT ?? (process.stdout.isTTY ? "text" : "json");
  const text = format === "text";
  const logger = pino(
    {
      level,
      base: { pid: process.pid, app: "c981" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Every line said inside a request carries its id.
      mixin: () => {
        const store = context.getStore();
        return store ? { reqId: store.reqId } : {};
      },
    },
    text ? textDestination() : pino.destination({ dest: 1, sync: true }),
  );
  return { logger, context };
}

/** A person at a terminal: "C-981: message" lines, the level when it is not info. */
function textDestination(): { write(line: string): void } {
  return {
    write(line: string) {
      try {
        const record = JSON.parse(line) as { level?: string; msg?: string; reqId?: string };
        const prefix = record.level && record.level !== "info" ? `${record.level}: ` : "";
        process.stdout.write(`C-981: ${prefix}${record.msg ?? ""}${record.reqId ? ` [${record.reqId}]` : ""}\n`);
      } catch {
        process.stdout.write(line);
      }
    },
  };
}

const holder = globalThis as Holder;
const state = (holder[KEY] ??= build());

/** The process's logger; inside a request, its lines carry the request id. */
export const logger: Logger = state.logger;

/**
 * A line written the old way ("C-981: …", as the CLI and the start-up steps phrase them) said
 * through the logger: the prefix goes (the text format puts it back), the rest is `msg`.
 */
export function logLine(line: string, level: "info" | "warn" | "error" = "info", fields: Record<string, unknown> = {}): void {
  state.logger[level](fields, line.replace(/^C-981:\s*/, ""));
}

/** An incoming `X-Request-Id` is kept when it is short and plain; otherwise a new one is made. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

/** Runs `work` with this request's context: every log line inside it carries `reqId`. */
export function withRequestContext<T>(context: RequestContext, work: () => T): T {
  return state.context.run(context, work);
}

/** The request being handled, if any. */
export function currentRequest(): RequestContext | undefined {
  return state.context.getStore();
}
