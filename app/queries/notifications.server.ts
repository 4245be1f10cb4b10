import { and, count, desc, eq, isNull } from "drizzle-orm";
import { notificationPreferences, notifications, users } from "../../db/schema";
import { NOTIFICATION_KINDS, type NotificationKind } from "../domain/notifications";
import type { DbOrTx } from "../utils/db.server";

/** The query of the header's count, run on every page: the partial index notifications_unread answers it. */
export function unreadCountQuery(db: DbOrTx, userId: number) {
  return db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.recipientId, userId), eq(notifications.inInbox, true), isNull(notifications.readAt)));
}

/** The unread notifications in the user's inbox (the header's count). */
export async function unreadCount(db: DbOrTx, userId: number): Promise<number> {
  const [row] = await unreadCountQuery(db, userId);
  return row?.n ?? 0;
}

/** The user's inbox, newest first. */
export async function inbox(db: DbOrTx, userId: number, limit = 100) {
  return db
    .select({
      id: notifications.id,
      kind: notifications.kind,
      title: notifications.title,
      body: notifications.body,
      link: notifications.link,
      createdAt: notifications.createdAt,
      readAt: notifications.readAt,
      emailStatus: notifications.emailStatus,
    })
    .from(notifications)
    .where(and(eq(notifications.recipientId, userId), eq(notifications.inInbox, true)))
    .orderBy(desc(notifications.id))
    .limit(limit);
}

/** Per kind, inbox and e-mail on or off (no row: both on), and the user's address. */
export async function notificationSettings(db: DbOrTx, userId: number) {
  const [rows, [user]] = await Promise.all([
    db
      .select({ kind: notificationPreferences.kind, inbox: notificationPreferences.inbox, email: notificationPreferences.email })
      .from(notificationPreferences)
      .where(eq(notificationPreferences.userId, userId)),
    db.select({ email: users.email }).from(users).where(eq(users.id, userId)),
  ]);
  const stored = new Map(rows.map((r) => [r.kind, r]));
  return {
    email: user?.email ?? null,
    kinds: NOTIFICATION_KINDS.map((kind: NotificationKind) => ({ kind, inbox: stored.get(kind)?.inbox ?? true, email: stored.get(kind)?.email ?? true })),
  };
}
