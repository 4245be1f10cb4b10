import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { NOTIFICATION_KINDS } from "../../app/domain/notifications";
import { users } from "./people";

/**
 * One notification for one user: written in the transaction of the event that caused it, shown in
 * the user's inbox, and — when the user wants it and has an address — e-mailed by the outbox sender
 * (email_status pending → sent, or failed after the last attempt). ADR 032.
 */
export const notifications = pgTable(
  "notifications",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    recipientId: integer()
      .notNull()
      .references(() => users.id),
    kind: text({ enum: NOTIFICATION_KINDS }).notNull(),
    title: text().notNull(),
    body: text().notNull(),
    /** The object, as a path in the portal (/change-requests/CR-2026-0001); the e-mail makes it absolute. */
    link: text().notNull(),
    /** The change request's number, a user name, … — what the notification is about, for filtering. */
    subject: text().notNull(),
    /** Whether it shows in the inbox (the preference when it was made). */
    inInbox: boolean().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    readAt: timestamp({ withTimezone: true, precision: 3 }),
    emailTo: text(),
    emailStatus: text({ enum: ["not_wanted", "not_sent", "pending", "sent", "failed"] }).notNull(),
    emailAttempts: integer().notNull().default(0),
    emailNextAttemptAt: timestamp({ withTimezone: true, precision: 3 }),
    emailSentAt: timestamp({ withTimezone: true, precision: 3 }),
    emailLastError: text(),
  },
  (t) => [
    index("notifications_recipient").on(t.recipientId, t.id),
    // The header's unread count runs on every page a signed-in user opens: it reads only the
    // unread inbox rows, not every notification the user ever had.
    index("notifications_unread").on(t.recipientId).where(sql`${t.inInbox} and ${t.readAt} is null`),
    index("notifications_email_pending").on(t.emailNextAttemptAt).where(sql`${t.emailStatus} = 'pending'`),
    check("notifications_email_to", sql`${t.emailStatus} <> 'pending' or ${t.emailTo} is not null`),
  ],
);

/** Per user and kind: inbox and e-mail on or off. No row: both on (ADR 032). */
export const notificationPreferences = pgTable(
  "notification_preferences",
  {
    userId: integer()
      .notNull()
      .references(() => users.id),
    kind: text({ enum: NOTIFICATION_KINDS }).notNull(),
    inbox: boolean().notNull(),
    email: boolean().notNull(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.kind] })],
);
