import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, unique } from "drizzle-orm/pg-core";
import { signatures } from "./change-requests";

/**
 * The findings of the signed impact analysis a reviewer acknowledged with their signature (issue
 * 23, ADR 029): written in the signature's transaction, append-only like the signatures (a voided
 * signature keeps its acknowledgements). The finding is named within the analysis the signature
 * names (`signatures.analysis_hash`): its code and the proposed change (part number and site) it
 * belongs to, null for a general finding; severity and count as the analysis said.
 */
export const signatureFindingAcknowledgements = pgTable(
  "signature_finding_acknowledgements",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    signatureId: integer()
      .notNull()
      .references(() => signatures.id),
    /** `CODE:PART@SITE` or `CODE`: the key the sign form sent (app/domain/impact-analysis/acknowledgements.ts). */
    findingKey: text().notNull(),
    findingCode: text().notNull(),
    partNumber: text(),
    site: text(),
    severity: text().notNull(),
    count: integer().notNull(),
  },
  (t) => [
    unique("signature_finding_acknowledgements_once").on(t.signatureId, t.findingKey),
    index("signature_finding_acknowledgements_signature").on(t.signatureId),
    check("signature_finding_acknowledgements_severity", sql`${t.severity} in ('critical', 'warning')`),
    check("signature_finding_acknowledgements_scope", sql`(${t.partNumber} IS NULL) = (${t.site} IS NULL)`),
  ],
);
