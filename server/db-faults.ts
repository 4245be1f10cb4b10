/**
 * Telling "the database cannot be reached right now" apart from a bug, for the runtime API (503 +
 * Retry-After instead of a crash or a 500), the health checks and start-up (retry with backoff)
 * — ADR 017. Nothing here ever puts SQL or a stack into what it returns.
 */

/** The database could not be reached (or did not answer in time): try again later. */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
  constructor(
    message: string,
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/** Node/postgres.js connection error codes and PostgreSQL SQLSTATEs that mean "not reachable now". */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The error, or the one drizzle wrapped ("Failed query: …" carries the driver's error as `cause`). */
function causes(error: unknown): unknown[] {
  const list: unknown[] = [];
  for (let e = error; e && list.length < 5; e = (e as { cause?: unknown }).cause) list.push(e);
  return list;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return causes(error).some((e) => {
    if (e instanceof DatabaseUnavailableError) return true;
    const code = codeOf(e);
    if (!code) return false;
    // 08: connection exception; 57P01–57P05: shutdown, crash, cannot connect now…; 53300: too many connections.
    return NETWORK_CODES.has(code) || code.startsWith("08") || /^57P0[1-5]$/.test(code) || code === "53300";
  });
}

/** A short reason without SQL: the error code, or the unavailability's own reason. */
export function describeDatabaseError(error: unknown): string {
  for (const e of causes(error)) {
    if (e instanceof DatabaseUnavailableError) return e.reason;
    const code = codeOf(e);
    if (code) return isDatabaseUnavailable(e) ? `unreachable (${code})` : `error ${code}`;
  }
  return "error";
}

/** The promise's value, or a DatabaseUnavailableError after `ms` (the query itself is not cancelled). */
export function withDeadline<T>(work: PromiseLike<T>, ms: number, what = "the database"): Promise<T> {
  // One real promise: a drizzle query is a thenable that runs again for every then() called on it.
  const promise = Promise.resolve(work);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`${what} did not answer within ${ms} ms`, `no answer within ${ms} ms`)), ms);
  });
  // A late rejection of the losing promise must not become an unhandled rejection.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A database error as a DatabaseUnavailableError when it is one, else unchanged. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || !isDatabaseUnavailable(error)) return error;
  return new DatabaseUnavailableError(`the database cannot be reached: ${describeDatabaseError(error)}`, describeDatabaseError(error));
}
