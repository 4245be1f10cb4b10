import { z } from "zod";
import { identifierFormatSchema } from "../../packages/identifiers/src/identifier-format";
import { RULE_SET_SCHEMA_VERSION, RULE_SET_SCHEMA_VERSION_2, RULE_SET_TYPE } from "../domain/rule-set";
import { RISK_CLASSES } from "../domain/material";
import { CONSUMPTION_SCANS, IDENTIFIES, TRACKING_MODES } from "../domain/tracking-rule";

const isoUtc = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "an ISO-8601 UTC time with milliseconds");
const partNumber = z.string().min(1).max(64);

/**
 * The signed rule-set document (the payload runtimes verify). A compiled document that fails this
 * schema is never signed; runtimes can validate with the same schema (response schema, kept apart
 * from request schemas).
 */
const ruleSchema = z.strictObject({
  partNumber,
  gtin: z
    .string()
    .regex(/^\d{14}$/)
    .nullable(),
  trackingMode: z.enum(TRACKING_MODES),
  containerTracking: z.boolean(),
  consumptionScan: z.enum(CONSUMPTION_SCANS),
  identifierFormats: z.array(z.string().min(1)),
  riskClass: z.enum(RISK_CLASSES),
  allowedAlternates: z.array(z.strictObject({ component: partNumber, alternates: z.array(partNumber) })),
  /** Optional (ADR 036): present only on a rule with an open deviation from required traceability. */
  deviation: z
    .strictObject({
      changeRequest: z.string().regex(/^CR-\d{4,}$/),
      expiresOn: z
        .string()
        .regex(/^\d{4}-\d\d-\d\d$/)
        .nullable(),
      shortfalls: z.array(z.string().min(1)),
    })
    .optional(),
});

export const ruleSetDocumentSchema = z.strictObject({
  type: z.literal(RULE_SET_TYPE),
  schemaVersion: z.literal(RULE_SET_SCHEMA_VERSION),
  site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/),
  version: z.number().int().min(1),
  effectiveFrom: isoUtc,
  issuedAt: isoUtc,
  expiresAt: isoUtc,
  kind: z.enum(["release", "renewal"]),
  changeRequests: z.array(z.string().regex(/^CR-\d{4,}$/)),
  previousDigest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .nullable(),
  signingKeys: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/)).min(1),
  identifierFormats: z.record(z.string().min(1), z.strictObject({ name: z.string(), identifies: z.enum(IDENTIFIES), definition: identifierFormatSchema })),
  rules: z.array(ruleSchema),
});
export type RuleSetDocumentPayload = z.infer<typeof ruleSetDocumentSchema>;

/**
 * Schema version 2 (ADR 039): version 1 plus, on each rule, `id` (`<SITE>/<PARTNUMBER>`) and the
 * routing of its material at the site — steps ascending, consumed components by part number, each
 * with the scan its work instruction requires and its id (`<SITE>/<PARENT>/<step>/<COMPONENT>`).
 */
export const ruleSetDocumentV2Schema = ruleSetDocumentSchema.extend({
  schemaVersion: z.literal(RULE_SET_SCHEMA_VERSION_2),
  rules: z.array(
    ruleSchema.extend({
      id: z.string().min(1).max(90),
      routing: z.array(
        z.strictObject({
          step: z.number().int(),
          workCentre: z.string(),
          consumes: z.array(z.strictObject({ component: partNumber, consumptionScan: z.enum(CONSUMPTION_SCANS), id: z.string().min(1).max(200) })),
        }),
      ),
    }),
  ),
});
export type RuleSetDocumentV2Payload = z.infer<typeof ruleSetDocumentV2Schema>;
