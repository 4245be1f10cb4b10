/**
 * Typed domain errors, mapped to HTTP in this one place (ADR 023). A service throws these; a route
 * maps them with `actionError` (forms), `notFound` / `invariantResponse` (loaders) or `toResponse`
 * (API routes); the runtime API and the CLI map them in their own single place.
 */
import { describeNeeded, type Needed } from "../../policies/refusal";
import { data } from "@remix-run/node";
import type { FieldErrors } from "./field-errors";

/**
 * - `not_found`: this page's (or this command's) record does not exist (404).
 * - `missing_reference`: the input is well-formed but names a record that does not exist — a form
 *   or a report naming a material, site or version there is none of (422). Not the page's 404.
 * - `unprocessable`: well-formed input that does not hold as stated (e.g. a digest that is not the named version's) (422).
 * - `invalid`: the input breaks a rule (400). `conflict`: the record moved on meanwhile, or its state refuses this (409).
 * - `forbidden`: refused for who is asking (403). `too_many`: refused by a lockout after repeated failures (429).
 * - `unavailable`: what the answer needs is not there yet — a read replica that has not replayed the
 *   snapshot asked for within its bounded wait (503; ask again, or ask the primary) (ADR 047).
 */
export type DomainErrorCode = "not_found" | "missing_reference" | "invalid" | "conflict" | "forbidden" | "unprocessable" | "too_many" | "unavailable";

const STATUS: Record<DomainErrorCode, number> = {
  not_found: 404,
  missing_reference: 422,
  invalid: 400,
  conflict: 409,
  forbidden: 403,
  unprocessable: 422,
  too_many: 429,
  unavailable: 503,
};

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  422: "Unprocessable Content",
  423: "Locked",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

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

/**
 * A refusal a service returns rather than throws, because it must be committed together with its
 * audit row (a failed signature, a lockout, a refused sign-in or import): throwing inside the
 * transaction would roll the audit row back with it. A few share that shape for another stated
 * reason (the refusal is a report its callers show, or a form problem answered in the same shape as
 * a refused signature). Every use says why at the place it returns; anything else throws a `DomainError`.
 */
export type Refusal<Detail extends object = { fields: Record<string, string[]>; locked?: boolean }> = { ok: false } & Detail;

/**
 * The 404 of a page (or a file) whose record does not exist — or that the user may not see, which
 * is the same answer (ADR 005). Thrown by loaders and actions: `throw notFound()`.
 */
export function notFound(message = "Not found", init: Omit<ResponseInit, "status" | "statusText"> = {}): Response {
  return new Response(message, { ...init, status: 404, statusText: "Not Found" });
}

/**
 * The 403 of a permission refused, naming what was needed (the action, the subject, the roles
 * that grant it and the sites, derived from policies/ — never spelled in a route): a JSON body
 * `{ error: "forbidden", message, needed }` that the error page shows. `message` replaces the
 * derived sentence where the refusal has another reason (a password that must change first).
 */
export function forbidden(needed: Needed, message = describeNeeded(needed)): Response {
  return Response.json({ error: "forbidden", message, needed }, { status: 403, statusText: "Forbidden" });
}

/** epic-stack's `invariantResponse`: unless `condition` holds, throw a plain-text Response (400 unless told). */
export function invariantResponse(condition: unknown, message: string | (() => string), status: number | ResponseInit = 400): asserts condition {
  if (condition) return;
  const init = typeof status === "number" ? { status } : { status: 400, ...status };
  throw new Response(typeof message === "function" ? message() : message, { statusText: STATUS_TEXT[init.status] ?? "", ...init });
}

export interface ActionErrorOptions {
  /**
   * A `not_found` is this page's record missing: the page's 404 (`notFound()`), not the form's
   * problem. A function says which `not_found` is (the others are the form's, with their status).
   */
  pageNotFound?: boolean | ((error: DomainError) => boolean);
  /** Fields naming the page itself, not an input on it: a problem with one is said at the top, in the error's own words. */
  pageFields?: readonly string[];
  /** The service's field keys as the form's inputs (e.g. a change's place among the form's rows); called only when there are fields. */
  mapFields?: (fields: Record<string, string[]>) => FieldErrors;
  /**
   * Where the error's message goes (`form`, the top of the form): only when no field names the
   * problem (the default), always (beside the fields), instead of the fields, or never.
   */
  message?: "unless-fields" | "always" | "only" | "never";
  /**
   * A 409 is said apart, as `conflict` (the page reloads and says it at the form that met it),
   * with the fields as they are; any other error's `conflict` is null.
   */
  conflictApart?: boolean;
}

/** A refusal's field errors as a form shows them (see `ActionErrorOptions`). */
export function formErrors(error: DomainError, options: ActionErrorOptions = {}): FieldErrors {
  const pageFields = options.pageFields ?? [];
  const fields = Object.fromEntries(Object.entries(error.fields).filter(([key]) => !pageFields.includes(key)));
  const shown: FieldErrors = Object.keys(fields).length > 0 && options.mapFields ? options.mapFields(fields) : fields;
  if (options.conflictApart && error.code === "conflict") return shown;
  const message = options.message ?? "unless-fields";
  if (message === "only") return { form: [error.message] };
  if (message === "never") return shown;
  const aboutPage = pageFields.some((key) => key in error.fields);
  if (message === "always" || aboutPage || Object.keys(shown).length === 0) return { ...shown, form: [error.message] };
  return shown;
}

/**
 * An action's answer to a refused write: a `DomainError` becomes the action's data (built by
 * `body` from the field errors, and the conflict when said apart) with the error's status;
 * anything else is thrown on. Use in an action's `catch`: `return actionError(error, (fieldErrors) => ({ fieldErrors }))`.
 */
export function actionError<T>(error: unknown, body: (fieldErrors: FieldErrors, conflict: string | null) => T, options: ActionErrorOptions = {}) {
  if (!(error instanceof DomainError)) throw error;
  const { pageNotFound } = options;
  if (error.code === "not_found" && (typeof pageNotFound === "function" ? pageNotFound(error) : pageNotFound)) throw notFound();
  const conflict = options.conflictApart && error.code === "conflict" ? error.message : null;
  return data(body(formErrors(error, options), conflict), { status: error.status });
}

/** Plain text in UTF-8, for the answers of file routes (downloads), whose clients read no HTML or JSON. */
export const PLAIN_TEXT = { "Content-Type": "text/plain; charset=utf-8" } as const;

/** A `DomainError` as a file route's plain-text answer (its message, with its status); anything else is thrown on. */
export function toTextResponse(error: unknown): Response {
  if (!(error instanceof DomainError)) throw error;
  return new Response(error.message, { status: error.status, statusText: STATUS_TEXT[error.status] ?? "", headers: PLAIN_TEXT });
}

/** A `DomainError` as an API route's JSON answer (`{ error: code, message, fields }`, with its status); anything else is thrown on. */
export function toResponse(error: unknown): Response {
  if (error instanceof DomainError) {
    return Response.json({ error: error.code, message: error.message, fields: error.fields }, { status: error.status });
  }
  throw error;
}
