import { z } from "zod";
import { ruleSetDocumentSchema, ruleSetDocumentV2Schema } from "./rule-set";
import { statusReportSchema } from "./status-report";

/**
 * Response schemas of the runtime API (kept apart from request schemas). The OpenAPI 3.1 document
 * at /api/v1/openapi.json is generated from these and the request schemas.
 */
export const generalJwsSchema = z
  .object({
    payload: z.string().regex(/^[A-Za-z0-9_-]+$/, "base64url of the RFC 8785 canonical rule set"),
    signatures: z
      .array(
        z.object({
          protected: z.string().regex(/^[A-Za-z0-9_-]+$/),
          signature: z.string().regex(/^[A-Za-z0-9_-]+$/),
        }),
      )
      .min(1),
  })
  .meta({ id: "GeneralJWS", description: "JWS JSON General Serialization (RFC 7515 §7.2.1); protected header {alg: EdDSA, kid, typ: c981-ruleset+jws}" });

export const versionListSchema = z
  .object({
    site: z.string(),
    versions: z.array(
      z.object({
        version: z.number().int().min(1),
        effectiveFrom: z.string(),
        issuedAt: z.string(),
        expiresAt: z.string().nullable(),
        kind: z.enum(["release", "renewal"]),
        digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
        /** The digest of the version's schema-version-2 form; null for versions made before it (ADR 039). */
        digestV2: z
          .string()
          .regex(/^sha256:[0-9a-f]{64}$/)
          .nullable(),
      }),
    ),
  })
  .meta({ id: "VersionList" });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string().optional() })).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const jwksSchema = z
  .object({
    keys: z.array(
      z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), kid: z.string(), alg: z.literal("EdDSA"), use: z.literal("sig") }),
    ),
  })
  .meta({ id: "JWKS" });

export { ruleSetDocumentSchema, ruleSetDocumentV2Schema, statusReportSchema };
