import { z } from "zod";
import { IDENTIFIER_TYPES, RECORD_SYSTEMS } from "../domain/reconciliation";

/** The system of record for one identifier type (the reconciliation page's form, and the service). */
export const systemOfRecordSchema = z.object({
  identifierType: z.enum(IDENTIFIER_TYPES, { error: "Choose serial or lot" }),
  system: z.enum(RECORD_SYSTEMS, { error: "Choose ERP, PLM or C-981" }),
  reason: z.string().trim().min(5, "Say why (at least 5 characters)").max(2000),
});
export type SystemOfRecordInput = z.input<typeof systemOfRecordSchema>;
