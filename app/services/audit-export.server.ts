import type { AuditFilters } from "../queries/audit.server";
import { actorName, type SignedIn } from "../utils/auth.server";
import type { Db } from "../utils/db.server";
import { appendAudit } from "./audit.server";

/**
 * Who took an inspection copy of which records is itself recorded (after the copy's data point, so
 * the copy stays the same file for the same data point): a write, so a service. The route reads the
 * data point and streams the copy (queries).
 */
export async function recordAuditExport(db: Db, signedIn: SignedIn, dataPoint: number, filters: AuditFilters): Promise<void> {
  await db.transaction((tx) =>
    appendAudit(tx, {
      actor: actorName(signedIn),
      action: "audit.export",
      entityType: "audit_trail",
      entityId: `up-to-${dataPoint}`,
      after: { dataPoint, filters: JSON.parse(JSON.stringify(filters)) },
    }),
  );
}
