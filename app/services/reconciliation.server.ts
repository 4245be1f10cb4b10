import { sql } from "drizzle-orm";
import { systemOfRecord } from "../../db/schema";
import { loadSystemOfRecord } from "../queries/reconciliation.server";
import { systemOfRecordSchema, type SystemOfRecordInput } from "../schemas/reconciliation";
import type { Db } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";

/** Sets the system of record for one identifier type (administrators; audited with before and after). */
export async function setSystemOfRecord(db: Db, actor: string, rawInput: SystemOfRecordInput | Record<string, unknown>): Promise<{ changed: boolean }> {
  const parsed = systemOfRecordSchema.safeParse(rawInput);
  if (!parsed.success) throw new DomainError("invalid", "The setting has problems", fieldErrorsFromIssues(parsed.error.issues));
  const input = parsed.data;
  return db.transaction(async (tx) => {
    // Serialize changes of the setting, so "before" in the audit row is what was replaced.
    await tx.execute(sql`select pg_advisory_xact_lock(981000103)`);
    const before = (await loadSystemOfRecord(tx))[input.identifierType];
    if (before === input.system) return { changed: false };
    await tx
      .insert(systemOfRecord)
      .values({ identifierType: input.identifierType, system: input.system, updatedBy: actor, updatedAt: sql`now()` })
      .onConflictDoUpdate({ target: systemOfRecord.identifierType, set: { system: input.system, updatedBy: actor, updatedAt: sql`now()` } });
    await appendAudit(tx, {
      actor,
      action: "system_of_record.set",
      entityType: "system_of_record",
      entityId: input.identifierType,
      before: { system: before },
      after: { system: input.system },
      reason: input.reason,
    });
    return { changed: true };
  });
}
