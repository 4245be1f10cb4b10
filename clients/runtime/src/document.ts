/**
 * The signed rule-set document as a runtime sees it (schema versions 1 and 2, ADR 039). Kept here, apart from the
 * portal's code, so that this client can be copied out of the repository; the conformance suite
 * checks it against every document the portal signs.
 */
import { z } from "zod";

export const RULE_SET_TYPE = "c981.ruleset";
export const RULE_SET_JWS_TYPE = "c981-ruleset+jws";

const isoUtc = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "an ISO-8601 UTC time with milliseconds");
const partNumber = z.string().min(1).max(64);
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "sha256:<64 hex digits>");
export const thumbprint = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "an RFC 7638 SHA-256 JWK thumbprint (43 base64url characters)");

const identifierFormat = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("gs1"), ais: z.array(z.string().regex(/^\d{2,4}$/)).min(1) }),
  z.strictObject({
    kind: z.literal("pattern"),
    segments: z
      .array(
        z.union([
          z.strictObject({ literal: z.string().min(1) }),
          z.strictObject({ class: z.string().min(1), min: z.number().int().min(1), max: z.number().int().min(1) }),
        ]),
      )
      .min(1),
  }),
]);

const consumptionScan = z.enum(["none", "verify", "identify"]);

/** Schema version 1: what every portal serves by default. */
export const ruleSetDocumentV1Schema = z.strictObject({
  type: z.literal(RULE_SET_TYPE),
  schemaVersion: z.literal(1),
  site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/),
  version: z.number().int().min(1),
  effectiveFrom: isoUtc,
  issuedAt: isoUtc,
  expiresAt: isoUtc,
  kind: z.enum(["release", "renewal"]),
  changeRequests: z.array(z.string()),
  previousDigest: digest.nullable(),
  signingKeys: z.array(thumbprint).min(1),
  identifierFormats: z.record(
    z.string().min(1),
    z.strictObject({ name: z.string(), identifies: z.enum(["serial", "lot", "container"]), definition: identifierFormat }),
  ),
  rules: z.array(
    z.strictObject({
      partNumber,
      gtin: z
        .string()
        .regex(/^\d{14}$/)
        .nullable(),
      trackingMode: z.enum(["serial", "lot", "none"]),
      containerTracking: z.boolean(),
      consumptionScan: z.enum(["none", "verify", "identify"]),
      identifierFormats: z.array(z.string().min(1)),
      riskClass: z.enum(["low", "medium", "high"]),
      allowedAlternates: z.array(z.strictObject({ component: partNumber, alternates: z.array(partNumber) })),
      // Added without a schemaVersion change (ADR 036): present only on a rule with an open deviation
      // from required traceability. A client from before it refuses such a document and keeps its last good one.
      deviation: z
        .strictObject({
          changeRequest: z.string(),
          expiresOn: z
            .string()
            .regex(/^\d{4}-\d\d-\d\d$/)
            .nullable(),
          shortfalls: z.array(z.string()),
        })
        .optional(),
    }),
  ),
});

/**
 * Schema version 2 (ADR 039): version 1 plus, on each rule, its id (`<SITE>/<PARTNUMBER>`) and the
 * routing of its material at the site (steps ascending; at each, the components consumed with the
 * scan required and their id `<SITE>/<PARENT>/<step>/<COMPONENT>`).
 */
export const ruleSetDocumentV2Schema = ruleSetDocumentV1Schema.extend({
  schemaVersion: z.literal(2),
  rules: z.array(
    ruleSetDocumentV1Schema.shape.rules.element.extend({
      id: z.string().min(1).max(90),
      routing: z.array(
        z.strictObject({
          step: z.number().int(),
          workCentre: z.string(),
          consumes: z.array(z.strictObject({ component: partNumber, consumptionScan, id: z.string().min(1).max(200) })),
        }),
      ),
    }),
  ),
});

/** Either schema version; `schemaVersion` tells them apart. */
export const ruleSetDocumentSchema = z.discriminatedUnion("schemaVersion", [ruleSetDocumentV1Schema, ruleSetDocumentV2Schema]);
export type RuleSetDocumentV1 = z.infer<typeof ruleSetDocumentV1Schema>;
export type RuleSetDocumentV2 = z.infer<typeof ruleSetDocumentV2Schema>;
export type RuleSetDocument = z.infer<typeof ruleSetDocumentSchema>;

/** The JWS JSON General Serialization as C-981 signs it: nothing else is accepted (no unprotected header). */
export const generalJwsSchema = z.strictObject({
  payload: z.string().regex(/^[A-Za-z0-9_-]+$/, "base64url"),
  signatures: z
    .array(z.strictObject({ protected: z.string().regex(/^[A-Za-z0-9_-]+$/, "base64url"), signature: z.string().regex(/^[A-Za-z0-9_-]+$/, "base64url") }))
    .min(1)
    .max(16),
});

/** The protected header of each signature, exactly (a `crit`, `b64`, `jku`, `jwk` or `x5u` is refused). */
export const protectedHeaderSchema = z.strictObject({
  alg: z.literal("EdDSA"),
  kid: thumbprint,
  typ: z.string(),
});
