/**
 * The runtime API's request schemas: a runtime's status report (activation or refusal; ADR 008).
 * Shared by the service that records reports and the OpenAPI document (app/schemas/runtime-api.ts).
 */
import { z } from "zod";

const digestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, "sha256:<64 hex digits>");
/** A version number as the database stores it (integer): a larger one is no version of anything. */
const versionSchema = z.number().int().min(1).max(2_147_483_647);
/**
 * Free text as the database stores it: no NUL (PostgreSQL text and jsonb refuse it) and no lone
 * UTF-16 surrogate (it would be stored as U+FFFD, and the stored report would no longer hash to
 * what was received). Reports are written in batches: one unstorable report must not fail the others.
 */
const storableText = z
  .string()
  .max(2000)
  .regex(/^[^\u0000\uD800-\uDFFF]*$/u, "text without NUL characters or lone surrogates");

/** "I run this version": it must be a version of the site, with its digest (else 422). */
export const activationReportSchema = z.strictObject({
  kind: z.literal("activation").optional(),
  version: versionSchema,
  digest: digestSchema,
  activatedAt: z.string().datetime({ offset: true, message: "an ISO-8601 time" }),
  trustedKeys: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, "an RFC 7638 thumbprint")).max(20),
  error: storableText.optional(),
});

/** Why a runtime refused an update: the reference client's codes (clients/runtime/src/verify.ts). */
export const REFUSAL_CODES = [
  "oversized",
  "malformed",
  "signature-fields",
  "wrong-type",
  "untrusted-key",
  "retired-key",
  "bad-signature",
  "schema",
  "wrong-site",
  "expired",
  "rollback",
  "mix-and-match",
  "chain-break",
  "premature",
] as const;

/**
 * "I refused what I was offered": the version and digest as the offered document claimed them
 * (null when it was too broken to tell), the reason code, and what the runtime kept running.
 * Accepted whatever the version — a forged one is the point.
 */
export const refusalReportSchema = z.strictObject({
  kind: z.literal("refusal"),
  offered: z.strictObject({
    version: versionSchema.nullable(),
    digest: digestSchema.nullable(),
    /** The key the refused signature names, as claimed (optional: clients before it send none). */
    kid: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, "a key id (base64url, at most 128 characters)")
      .nullable()
      .optional(),
  }),
  code: z.enum(REFUSAL_CODES),
  source: z.enum(["current", "upcoming"]),
  message: storableText.optional(),
  runningVersion: versionSchema.nullable(),
});

/** Either report; without `kind` (clients before refusal reports) it is an activation. */
export const statusReportSchema = z.union([activationReportSchema, refusalReportSchema]);
export type StatusReport = z.infer<typeof statusReportSchema>;
export type RefusalReport = z.infer<typeof refusalReportSchema>;

/** Parses a report with the schema its `kind` selects, so errors name the fields of that kind. */
export function parseStatusReport(body: unknown) {
  const refusal = typeof body === "object" && body !== null && (body as { kind?: unknown }).kind === "refusal";
  return refusal ? refusalReportSchema.safeParse(body) : activationReportSchema.safeParse(body);
}
