/**
 * One scan request, as the runtime API's `POST /sites/{site}/scan-decisions` (ADR 043) and the
 * reference client's `scan` / `scan --lines` (ADR 042) both check it: one schema, so the station
 * refuses exactly what the API refuses, with the same field names (ADR 042, Amendment 2).
 */
import { z } from "zod";

/** The longest scanned string either side reads. */
export const SCAN_MAX_SCANNED = 512;
/** The longest material or work-centre code. */
export const SCAN_MAX_CODE = 64;

/** Text without NUL or lone surrogates (GS, U+001D, is allowed: it separates GS1 fields). */
export const scanText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000\uD800-\uDFFF]*$/u, "text without NUL characters or lone surrogates");

/** The members of a scan request, for a caller that adds its own (the client's `id`). */
export const scanRequestShape = {
  parent: scanText(SCAN_MAX_CODE).describe("The material being made"),
  step: z.number().int().min(0).max(2_147_483_647).optional().describe("The routing step (or give workCentre)"),
  workCentre: scanText(SCAN_MAX_CODE).optional().describe("The work centre: the step there that consumes `expected`"),
  expected: scanText(SCAN_MAX_CODE).describe("The component the BOM line expects"),
  scanned: scanText(SCAN_MAX_SCANNED).describe("The data as scanned, without its symbology identifier (GS as U+001D)"),
  symbologyId: z
    .string()
    .regex(/^\][A-Za-z][0-9A-Za-z]$/, "a symbology identifier such as ]C1")
    .optional()
    .describe("`]C1`, `]e0`, `]d2`, `]Q3`, `]J1`, `]E0`, `]E4` mean GS1 data; any other identifier means not GS1 element data"),
};

/** A step or a work centre must be given (both: the step must be at that work centre, ADR 040). */
export const stepOrWorkCentre = (scan: { step?: number; workCentre?: string }, ctx: z.RefinementCtx) => {
  if (scan.step === undefined && scan.workCentre === undefined) ctx.addIssue({ code: "custom", path: ["step"], message: "give the step or the work centre" });
};

/** One scan: strict (an unknown member is refused), checked by both the API and the client. */
export const scanRequestSchema = z.strictObject(scanRequestShape).superRefine(stepOrWorkCentre);
export type ScanRequestInput = z.infer<typeof scanRequestSchema>;
