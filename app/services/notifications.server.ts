/**
 * Notifications (ADR 032): written inside the transaction of the event that causes them (a
 * rolled-back event notifies nobody), shown in the recipient's inbox, and queued for e-mail when
 * the recipient wants it, has an address and an SMTP server is configured (the outbox: the
 * sender in app/services/notification-sender.server.ts delivers rows with email_status pending).
 * Marking read, preferences and the e-mail address are the user's writes: audited.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { changeRequestBases, notificationPreferences, notifications, userRoles, users } from "../../db/schema";
import { mayOpenChangeRequest, reviewRequestRecipients } from "../../policies/notifications";
import { changeRequestHead } from "../queries/change-requests.server";
import type { ReviewerRole } from "../domain/roles";
import { NOTIFICATION_KINDS, notificationMessage, type NotificationEvent, type NotificationKind } from "../domain/notifications";
import { notificationPreferencesSchema, emailAddressSchema, type NotificationPreferencesInput } from "../schemas/notifications";
import type { Db, Tx } from "../utils/db.server";
import { readEnv } from "../utils/env.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";

/** Whether e-mail can be sent at all (C981_SMTP_URL set). */
export const emailConfigured = () => readEnv().C981_SMTP_URL !== undefined;

/**
 * Notifies these users (deactivated ones are skipped) of one event, in the caller's transaction.
 * Per recipient and kind: no preference row means inbox and e-mail on; both off means no row.
 */
export async function notify(tx: Tx, recipientIds: readonly number[], event: NotificationEvent): Promise<number> {
  const ids = [...new Set(recipientIds)];
  if (ids.length === 0) return 0;
  const message = notificationMessage(event);
  const recipients = await tx
    .select({
      id: users.id,
      email: users.email,
      inbox: notificationPreferences.inbox,
      wantsEmail: notificationPreferences.email,
    })
    .from(users)
    .leftJoin(notificationPreferences, and(eq(notificationPreferences.userId, users.id), eq(notificationPreferences.kind, message.kind)))
    .where(and(inArray(users.id, ids), eq(users.active, true)))
    .orderBy(users.id);
  const smtp = emailConfigured();
  const mayOpen = await openersOfLink(
    tx,
    recipients.map((r) => r.id),
    event,
  );
  const rows = recipients
    .filter((r) => mayOpen(r.id))
    .flatMap((r) => {
      const inbox = r.inbox ?? true;
      const wantsEmail = (r.wantsEmail ?? true) && r.email !== null;
      if (!inbox && !wantsEmail) return [];
      return [
        {
          recipientId: r.id,
          kind: message.kind,
          title: message.title,
          body: message.body,
          link: message.link,
          subject: message.subject,
          inInbox: inbox,
          emailTo: wantsEmail ? r.email : null,
          // Without an SMTP server the e-mail is not sent, and says so (the preferences screen too).
          emailStatus: !wantsEmail ? ("not_wanted" as const) : smtp ? ("pending" as const) : ("not_sent" as const),
        },
      ];
    });
  if (rows.length) {
    await tx.insert(notifications).values(rows);
    // Wakes the sender at commit (nothing is delivered if the transaction rolls back).
    if (rows.some((r) => r.emailStatus === "pending")) await tx.execute(sql`select pg_notify('c981_notifications', '')`);
  }
  return rows.length;
}

/**
 * Who may open the notification's link: for a change request, the recipients whose grants let them
 * read it now (policies/notifications.ts); a notification about no stored request — or about an
 * account — is not filtered.
 */
async function openersOfLink(tx: Tx, ids: readonly number[], event: NotificationEvent): Promise<(userId: number) => boolean> {
  if (!("request" in event) || ids.length === 0) return () => true;
  const head = await changeRequestHead(tx, event.request.number);
  if (!head) return () => true;
  const grants = await tx
    .select({ userId: userRoles.userId, role: userRoles.role, siteId: userRoles.siteId })
    .from(userRoles)
    .where(inArray(userRoles.userId, [...ids]));
  return (userId) =>
    mayOpenChangeRequest(
      grants.filter((g) => g.userId === userId),
      head.siteIds,
    );
}

/**
 * The users asked to review a submitted change request: active users holding, at every site it
 * touches, a reviewer role it needs (policies/notifications.ts), never its author.
 */
export async function reviewRecipients(tx: Tx, request: { id: number; authorId: number; requiredRoles: readonly ReviewerRole[] }): Promise<number[]> {
  const [bases, grants] = await Promise.all([
    tx.select({ siteId: changeRequestBases.siteId }).from(changeRequestBases).where(eq(changeRequestBases.changeRequestId, request.id)),
    tx
      .select({ userId: userRoles.userId, role: userRoles.role, siteId: userRoles.siteId })
      .from(userRoles)
      .innerJoin(users, eq(users.id, userRoles.userId))
      .where(eq(users.active, true)),
  ]);
  const byUser = new Map<number, { role: (typeof grants)[number]["role"]; siteId: number | null }[]>();
  for (const g of grants) byUser.set(g.userId, [...(byUser.get(g.userId) ?? []), { role: g.role, siteId: g.siteId }]);
  return reviewRequestRecipients(
    [...byUser].map(([userId, held]) => ({ userId, grants: held })),
    { authorId: request.authorId, siteIds: bases.map((b) => b.siteId), requiredRoles: request.requiredRoles },
  );
}

/** The user's id by name (null: no such user), for events that name a user. */
export async function userIdByName(tx: Tx, username: string): Promise<number | null> {
  const [row] = await tx.select({ id: users.id }).from(users).where(eq(users.username, username));
  return row?.id ?? null;
}

// ---------------------------------------------------------------------------------------------
// The recipient's own writes (audited)

export async function markNotificationRead(db: Db, user: { id: number; username: string }, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(notifications)
      .set({ readAt: sql`now()` })
      .where(and(eq(notifications.id, id), eq(notifications.recipientId, user.id), isNull(notifications.readAt)))
      .returning({ id: notifications.id, kind: notifications.kind, subject: notifications.subject });
    // Someone else's notification is not found (404), never revealed.
    if (updated.length === 0) {
      const [mine] = await tx
        .select({ id: notifications.id })
        .from(notifications)
        .where(and(eq(notifications.id, id), eq(notifications.recipientId, user.id)));
      if (!mine) throw new DomainError("not_found", "No such notification in your inbox");
      return;
    }
    await appendAudit(tx, {
      actor: user.username,
      action: "notification.read",
      entityType: "user",
      entityId: user.username,
      after: { notifications: updated.map((u) => ({ id: u.id, kind: u.kind, subject: u.subject })) },
    });
  });
}

export async function markAllNotificationsRead(db: Db, user: { id: number; username: string }): Promise<number> {
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(notifications)
      .set({ readAt: sql`now()` })
      .where(and(eq(notifications.recipientId, user.id), isNull(notifications.readAt), eq(notifications.inInbox, true)))
      .returning({ id: notifications.id });
    if (updated.length === 0) return 0;
    await appendAudit(tx, {
      actor: user.username,
      action: "notification.read_all",
      entityType: "user",
      entityId: user.username,
      after: { notifications: updated.map((u) => u.id).sort((a, b) => a - b) },
    });
    return updated.length;
  });
}

/** Saves the user's preferences (every kind: inbox and e-mail) and their e-mail address. */
export async function saveNotificationPreferences(
  db: Db,
  user: { id: number; username: string },
  input: NotificationPreferencesInput | Record<string, unknown>,
): Promise<void> {
  const parsed = notificationPreferencesSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The preferences have problems", fieldErrorsFromIssues(parsed.error.issues));
  const { email, kinds } = parsed.data;
  await db.transaction(async (tx) => {
    const [before] = await tx.select({ email: users.email }).from(users).where(eq(users.id, user.id)).for("update");
    const previous = await tx
      .select({ kind: notificationPreferences.kind, inbox: notificationPreferences.inbox, email: notificationPreferences.email })
      .from(notificationPreferences)
      .where(eq(notificationPreferences.userId, user.id));
    const was = (kind: NotificationKind) => previous.find((p) => p.kind === kind) ?? { kind, inbox: true, email: true };
    const after = NOTIFICATION_KINDS.map((kind) => ({ kind, inbox: kinds[kind]?.inbox ?? false, email: kinds[kind]?.email ?? false }));
    const changed = after.filter((a) => a.inbox !== was(a.kind).inbox || a.email !== was(a.kind).email);
    if (changed.length) {
      await tx
        .insert(notificationPreferences)
        .values(changed.map((c) => ({ userId: user.id, ...c })))
        .onConflictDoUpdate({
          target: [notificationPreferences.userId, notificationPreferences.kind],
          set: { inbox: sql`excluded.inbox`, email: sql`excluded.email`, updatedAt: sql`now()` },
        });
      await appendAudit(tx, {
        actor: user.username,
        action: "notification.preferences",
        entityType: "user",
        entityId: user.username,
        before: { preferences: changed.map((c) => was(c.kind)) },
        after: { preferences: changed },
      });
    }
    if ((before?.email ?? null) !== email) await setEmailIn(tx, user.username, user.username, before?.email ?? null, email);
  });
}

/** An administrator sets a user's e-mail address (the users page). */
export async function setUserEmail(db: Db, actor: string, username: string, rawEmail: unknown, reason: string | null = null): Promise<void> {
  const parsed = emailAddressSchema.safeParse(rawEmail);
  if (!parsed.success) throw new DomainError("invalid", "The e-mail address has problems", { email: parsed.error.issues.map((i) => i.message) });
  await db.transaction(async (tx) => {
    const [before] = await tx.select({ email: users.email }).from(users).where(eq(users.username, username)).for("update");
    if (!before) throw new DomainError("not_found", `user ${username} does not exist`);
    if (before.email !== parsed.data) await setEmailIn(tx, actor, username, before.email, parsed.data, reason);
  });
}

async function setEmailIn(tx: Tx, actor: string, username: string, before: string | null, email: string | null, reason: string | null = null): Promise<void> {
  // The audit row first: the commit-time check (migration 0032) finds it for the users row.
  await appendAudit(tx, { actor, action: "user.set_email", entityType: "user", entityId: username, before: { email: before }, after: { email }, reason });
  await tx.update(users).set({ email }).where(eq(users.username, username));
}
