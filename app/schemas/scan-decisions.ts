/**
 * The scan-decisions endpoint of the runtime API (issue 26, item 3; ADR 043): the request (a batch
 * of scans, strict) and the answer (the decisions of packages/identifiers' `compileScanner`, ADR 040).
 * The request schema checks the request; the response schema only describes it in OpenAPI.
 */
import { z } from "zod";
import { scanRequestSchema } from "../../packages/identifiers/src/scan-request";

/** At most this many scans in one request. */
export const SCAN_DECISIONS_MAX_SCANS = 1000;
/** The largest body the endpoint reads (checked before parsing): 1,000 scans of long GS1 strings fit. */
export const SCAN_DECISIONS_MAX_BYTES = 512 * 1024;

/** One scan: the schema the reference client checks each `scan --lines` request with (packages/identifiers). */
export const scanInputSchema = scanRequestSchema.meta({ id: "ScanInput" });

export const scanDecisionsRequestSchema = z
  .strictObject({
    scans: z.array(scanInputSchema).min(1).max(SCAN_DECISIONS_MAX_SCANS),
  })
  .meta({ id: "ScanDecisionsRequest", description: `At most ${SCAN_DECISIONS_MAX_SCANS} scans, at most ${SCAN_DECISIONS_MAX_BYTES} bytes` });

export type ScanDecisionsRequest = z.infer<typeof scanDecisionsRequestSchema>;

const identifies = z.enum(["serial", "lot", "container"]);
const reading = z.object({
  kind: z.enum(["serial", "lot", "container", "gs1"]),
  syntax: z.enum(["pattern", "gs1"]),
  format: z.string().nullable(),
  materials: z.array(z.string()),
  value: z.string(),
  elementString: z.string().optional(),
  ais: z.array(z.object({ ai: z.string(), value: z.string() })).optional(),
  gtin: z.string().optional(),
  gtinOf: z.string().nullable().optional(),
  standard: z.boolean().optional(),
});

export const scanDecisionSchema = z
  .object({
    outcome: z.enum(["accept", "refuse", "ambiguous", "not-required"]),
    reason: z.object({ code: z.string(), message: z.string() }),
    readings: z.array(reading),
    reading: reading.nullable(),
    required: z
      .object({
        consumptionScan: z.enum(["none", "verify", "identify"]),
        trackingMode: z.enum(["serial", "lot", "none"]).nullable(),
        level: identifies.nullable(),
        accepts: z.array(identifies),
      })
      .nullable(),
    alternates: z.array(z.object({ partNumber: z.string(), trackingMode: z.enum(["serial", "lot", "none"]).nullable(), compatible: z.boolean() })),
    substitutedBy: z.string().optional(),
    step: z.number().int().optional(),
    decidedBy: z.object({
      ruleId: z.string().nullable(),
      requirementId: z.string().nullable(),
      ruleSetVersion: z.number().int(),
      digest: z.string(),
    }),
  })
  .meta({ id: "ScanDecision", description: "A scan decision as packages/identifiers compileScanner gives it (ADR 040)" });

export const scanDecisionsResponseSchema = z
  .object({
    ruleSet: z.object({
      version: z.number().int().min(1),
      digest: z
        .string()
        .regex(/^sha256:[0-9a-f]{64}$/)
        .describe("The digest of the schema-version-2 document that decided"),
    }),
    decisions: z.array(scanDecisionSchema).describe("One per scan, in the request's order"),
  })
  .meta({ id: "ScanDecisions" });
