import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { securityAlerts } from "../../db/schema";
import type { Db, Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { notify, userIdByName } from "./notifications.server";

/**
 * Alerts on repeated failed sign-ins and signatures for one account (21 CFR 11.300(d)): raised in
 * the transaction that records the failure reaching the lockout threshold, shown on the
 * administrators' dashboard until one acknowledges it. One open alert per kind and account; later
 * failures while it is open count on it. ADR 020. `audit_anchor_refused`: this instance refused to
 * sign an audit checkpoint or release whose head does not extend the anchors it signed (ADR 019).
 */
export type AlertKind = "sign_in_failures" | "signature_failures" | "password_change_failures" | "audit_anchor_refused";

export async function raiseAlert(tx: Tx, alert: { kind: AlertKind; username: string; detail: Record<string, unknown> }): Promise<void> {
  const rows = await tx.execute<{ id: number; occurrences: number }>(sql`
    insert into security_alerts (kind, username, raised_at, last_at, occurrences, detail)
    values (${alert.kind}, ${alert.username}, now(), now(), 1, ${JSON.stringify(alert.detail)}::jsonb)
    on conflict (kind, username) where acknowledged_at is null
    do update set last_at = now(), occurrences = security_alerts.occurrences + 1
    returning id, occurrences`);
  const row = rows[0]!;
  await appendAudit(tx, {
    actor: "system:alerts",
    action: row.occurrences === 1 ? "security_alert.raise" : "security_alert.repeat",
    entityType: "security_alert",
    entityId: String(row.id),
    after: { kind: alert.kind, username: alert.username, occurrences: row.occurrences, ...alert.detail },
  });
  // The account's owner is told once per alert that signing on their account is locked (ADR 032).
  if (alert.kind === "signature_failures" && row.occurrences === 1) {
    const userId = await userIdByName(tx, alert.username);
    if (userId !== null) {
      await notify(tx, [userId], {
        kind: "signature_failures",
        username: alert.username,
        failures: Number(alert.detail.failures ?? 0),
        windowMinutes: Number(alert.detail.windowMinutes ?? 0),
      });
    }
  }
}

const acknowledgeSchema = z.object({
  id: z.coerce.number().int().positive(),
  note: z.string().trim().min(3, "Say what was found or done (at least 3 characters)").max(500),
});

export async function acknowledgeAlert(db: Db, actor: string, input: { id: number | string; note: string }): Promise<void> {
  const parsed = acknowledgeSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The acknowledgement has problems", { note: parsed.error.issues.map((i) => i.message) });
  const { id, note } = parsed.data;
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(securityAlerts)
      .set({ acknowledgedBy: actor, acknowledgedAt: sql`now()`, acknowledgeNote: note })
      .where(and(eq(securityAlerts.id, id), isNull(securityAlerts.acknowledgedAt)))
      .returning({ kind: securityAlerts.kind, username: securityAlerts.username, occurrences: securityAlerts.occurrences });
    if (updated.length === 0) throw new DomainError("conflict", "This alert was acknowledged already or does not exist", { form: ["Acknowledged already"] });
    await appendAudit(tx, {
      actor,
      action: "security_alert.acknowledge",
      entityType: "security_alert",
      entityId: String(id),
      before: { acknowledged: false },
      after: { acknowledged: true, ...updated[0]! },
      reason: note,
    });
  });
}
