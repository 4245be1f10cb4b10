/**
 * A runtime client's batch of scan decisions (issue 26 item 2, ADR 042), as the reference client
 * sends it (clients/runtime/src/scan.ts): counts per hour, parent, step, expected material, outcome
 * and reason, and refusal samples with the scanned string as an HMAC. Strict: an unknown member is
 * refused; read by zod from JSON.parse output, so no prototype is ever consulted.
 */
import { z } from "zod";

/** The largest scan report the runtime API reads (checked before parsing). */
export const SCAN_REPORT_MAX_BYTES = 2 * 1024 * 1024;

const storable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000\uD800-\uDFFF]*$/u, "text without NUL characters or lone surrogates");
const hourUtc = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/, "the start of an hour, ISO-8601 UTC with milliseconds");
const isoUtc = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "an ISO-8601 UTC time with milliseconds");
const step = z.number().int().min(0).max(2_147_483_647).nullable();
export const SCAN_OUTCOMES = ["accept", "refuse", "ambiguous", "not-required"] as const;
const reason = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "a reason code");

export const scanReportSchema = z
  .strictObject({
    batchId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "a UUID (lower case)"),
    bucketMinutes: z.literal(60),
    counts: z
      .array(
        z.strictObject({
          bucket: hourUtc,
          parent: storable(64),
          step,
          expected: storable(64),
          outcome: z.enum(SCAN_OUTCOMES),
          reason,
          count: z.number().int().min(1).max(1_000_000),
        }),
      )
      .min(1)
      .max(5000),
    refusals: z
      .array(
        z.strictObject({
          at: isoUtc,
          parent: storable(64),
          step,
          expected: storable(64),
          outcome: z.enum(["refuse", "ambiguous"]),
          reason,
          ruleId: storable(200).nullable(),
          ruleSetVersion: z.number().int().min(1).max(2_147_483_647),
          scannedHash: z.string().regex(/^hmac-sha256:[0-9a-f]{64}$/, "hmac-sha256:<64 hex digits>"),
          scanned: storable(4096).optional(),
        }),
      )
      .max(1000),
    refusalsOmitted: z.number().int().min(0).max(10_000_000),
  })
  .superRefine((report, ctx) => {
    // The batch's total is stored as an integer and summed on the Runtime clients screen: bounded here.
    const total = report.counts.reduce((n, c) => n + c.count, 0);
    if (total > SCAN_REPORT_MAX_DECISIONS)
      ctx.addIssue({
        code: "custom",
        path: ["counts"],
        message: `a batch holds at most ${SCAN_REPORT_MAX_DECISIONS} decisions (this one ${total}); send more batches`,
      });
  });

/** The most decisions one batch may count. */
export const SCAN_REPORT_MAX_DECISIONS = 1_000_000;
export type ScanReportBody = z.infer<typeof scanReportSchema>;
