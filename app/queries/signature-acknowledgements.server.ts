/** The findings each signature acknowledged (ADR 029), for the change-request page and its record. */
import { asc, inArray } from "drizzle-orm";
import { signatureFindingAcknowledgements } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

export interface AcknowledgementView {
  findingKey: string;
  findingCode: string;
  partNumber: string | null;
  site: string | null;
  severity: string;
  count: number;
}

export async function acknowledgementsOf(db: DbOrTx, signatureIds: readonly number[]): Promise<Map<number, AcknowledgementView[]>> {
  const out = new Map<number, AcknowledgementView[]>();
  if (signatureIds.length === 0) return out;
  const rows = await db
    .select({
      signatureId: signatureFindingAcknowledgements.signatureId,
      findingKey: signatureFindingAcknowledgements.findingKey,
      findingCode: signatureFindingAcknowledgements.findingCode,
      partNumber: signatureFindingAcknowledgements.partNumber,
      site: signatureFindingAcknowledgements.site,
      severity: signatureFindingAcknowledgements.severity,
      count: signatureFindingAcknowledgements.count,
    })
    .from(signatureFindingAcknowledgements)
    .where(inArray(signatureFindingAcknowledgements.signatureId, [...signatureIds]))
    .orderBy(asc(signatureFindingAcknowledgements.id));
  for (const { signatureId, ...a } of rows) (out.get(signatureId) ?? out.set(signatureId, []).get(signatureId)!).push(a);
  return out;
}
