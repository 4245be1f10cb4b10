/**
 * Typed domain errors, mapped to HTTP in one place. A service throws these; a route or the API
 * turns them into a response, the CLI into a message and exit code.
 */
/** `unprocessable`: well-formed input that names something that does not exist as stated (422). */
/** `too_many`: refused by a lockout after repeated failures (429). */
export type DomainErrorCode = "not_found" | "invalid" | "conflict" | "forbidden" | "unprocessable" | "too_many";

const STATUS: Record<DomainErrorCode, number> = { not_found: 404, invalid: 400, conflict: 409, forbidden: 403, unprocessable: 422, too_many: 429 };

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Field (or row) → problems, for forms and API clients. */
    readonly fields: Record<string, string[]> = {},
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export function toResponse(error: unknown): Response {
  if (error instanceof DomainError) {
    return Response.json({ error: error.code, message: error.message, fields: error.fields }, { status: error.status });
  }
  throw error;
}
