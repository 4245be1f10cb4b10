/**
 * Notifications (ADR 032): what each kind is called, what it says, and when a failed e-mail is
 * tried again. Pure: the services write the rows, the sender sends them.
 */

export const NOTIFICATION_KINDS = ["review_requested", "changes_requested", "approved", "released", "made_stale", "signature_failures"] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The names on the preferences screen and in the inbox. */
export const NOTIFICATION_KIND_LABELS: Readonly<Record<NotificationKind, string>> = {
  review_requested: "Review requested",
  changes_requested: "Changes requested",
  approved: "Approved",
  released: "Released",
  made_stale: "Made stale by a release",
  signature_failures: "Signature failures on my account",
};

/** Who gets each kind, in words (the preferences screen). */
export const NOTIFICATION_KIND_AUDIENCE: Readonly<Record<NotificationKind, string>> = {
  review_requested: "a change request you may sign as a required reviewer is submitted",
  changes_requested: "a reviewer requests changes to your change request",
  approved: "your change request has every approval it needs",
  released: "your change request, or one you approved, is released at a site",
  made_stale: "a release moved what your open change request read: rebase it",
  signature_failures: "signing on your account is locked after repeated failed attempts",
};

export interface NotificationMessage {
  kind: NotificationKind;
  /** The subject line and the inbox title. */
  title: string;
  /** Plain text, without the link (the e-mail appends the absolute link). */
  body: string;
  /** A path in the portal. */
  link: string;
  /** What it is about: a change request number, or a user name. */
  subject: string;
}

export interface ChangeRequestRef {
  number: string;
  title: string;
}

const crLink = (number: string) => `/change-requests/${encodeURIComponent(number)}`;

export type NotificationEvent =
  | { kind: "review_requested"; request: ChangeRequestRef; author: string; sites: readonly string[] }
  | { kind: "changes_requested"; request: ChangeRequestRef; reviewer: string; comment: string | null }
  | { kind: "approved"; request: ChangeRequestRef }
  | { kind: "released"; request: ChangeRequestRef; site: string; version: number; releasedBy: string }
  | { kind: "made_stale"; request: ChangeRequestRef; releasedAt: string; releasedBy: string; sites: readonly string[]; by: readonly string[] }
  | { kind: "signature_failures"; username: string; failures: number; windowMinutes: number };

/** The words of a notification. */
export function notificationMessage(event: NotificationEvent): NotificationMessage {
  switch (event.kind) {
    case "review_requested":
      return {
        kind: event.kind,
        title: `Review requested: ${event.request.number} ${event.request.title}`,
        body: `${event.author} submitted ${event.request.number} "${event.request.title}" for review (sites: ${event.sites.join(", ") || "none"}). Your signature may be required.`,
        link: crLink(event.request.number),
        subject: event.request.number,
      };
    case "changes_requested":
      return {
        kind: event.kind,
        title: `Changes requested: ${event.request.number} ${event.request.title}`,
        body: `${event.reviewer} requested changes to ${event.request.number} "${event.request.title}".${event.comment ? ` Comment: ${event.comment}` : ""}`,
        link: crLink(event.request.number),
        subject: event.request.number,
      };
    case "approved":
      return {
        kind: event.kind,
        title: `Approved: ${event.request.number} ${event.request.title}`,
        body: `${event.request.number} "${event.request.title}" has every approval it needs and may be released.`,
        link: crLink(event.request.number),
        subject: event.request.number,
      };
    case "released":
      return {
        kind: event.kind,
        title: `Released at ${event.site}: ${event.request.number} ${event.request.title}`,
        body: `${event.releasedBy} released ${event.request.number} "${event.request.title}" at ${event.site} as rule set version ${event.version}.`,
        link: crLink(event.request.number),
        subject: event.request.number,
      };
    case "made_stale":
      return {
        kind: event.kind,
        title: `Made stale by a release: ${event.request.number} ${event.request.title}`,
        body: `${event.releasedBy} released ${event.by.join(", ")} at ${event.releasedAt}; what ${event.request.number} "${event.request.title}" read at ${event.sites.join(", ")} moved. Rebase it before it is reviewed or released.`,
        link: crLink(event.request.number),
        subject: event.request.number,
      };
    case "signature_failures":
      return {
        kind: event.kind,
        title: "Signing on your account is locked after failed attempts",
        body: `${event.failures} signatures with your account failed within ${event.windowMinutes} minutes; signing is locked for a while. If these were not you, tell an administrator.`,
        link: "/account/notifications",
        subject: event.username,
      };
  }
}

/** The e-mail's text: the body, then the absolute link to the object. */
export function emailText(message: { body: string; link: string }, publicUrl: string): string {
  return `${message.body}\n\nOpen it: ${new URL(message.link, publicUrl).href}\n\n— C-981 (change your notifications: ${new URL("/account/notifications", publicUrl).href})\n`;
}

/** Attempts before an e-mail is given up (status failed), and the wait before attempt n+1. */
export const MAX_EMAIL_ATTEMPTS = 8;
export function emailRetryDelaySeconds(attempts: number): number {
  // 5 s, 10 s, 20 s … at most 30 minutes.
  return Math.min(1800, 5 * 2 ** Math.max(0, attempts - 1));
}
