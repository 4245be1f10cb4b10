import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uniqueIndex } from "drizzle-orm/pg-core";
import { role } from "./enums";
import { sites } from "./sites";

/** Users are deactivated, never deleted, and a user name is never reused (21 CFR 11.300(a)). */
export const users = pgTable("users", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  username: text().notNull().unique(),
  displayName: text().notNull(),
  /** scrypt, see app/utils/password.server.ts */
  passwordHash: text().notNull(),
  active: boolean().notNull().default(true),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  deactivatedAt: timestamp({ withTimezone: true, precision: 3 }),
  /**
   * The password was set by an administrator or the CLI (created, reset): it must be changed by
   * its owner before they sign anything (21 CFR 11.300(b), ADR 020). Safe default: true.
   */
  passwordMustChange: boolean().notNull().default(true),
  /** When the password was last set, for the maximum age (C981_PASSWORD_MAX_AGE_DAYS). */
  passwordChangedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  /** Who created the account (a user name, `cli:<os user>`, `seed`); null for accounts created before it was recorded (ADR 020). */
  createdBy: text(),
  /** Where notifications are e-mailed (ADR 032); null: inbox only. Set by the user or an administrator. */
  email: text(),
});

/** Earlier password hashes, newest first by setAt, for the reuse rule (C981_PASSWORD_HISTORY). */
export const passwordHistory = pgTable(
  "password_history",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    userId: integer()
      .notNull()
      .references(() => users.id),
    passwordHash: text().notNull(),
    setAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index("password_history_user").on(t.userId, t.setAt)],
);

/**
 * A role grant asked for by one administrator, which gives no authority until a different
 * administrator confirms it (then a user_roles row is made) or anyone declines it (ADR 020).
 */
export const pendingRoleGrants = pgTable(
  "pending_role_grants",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    userId: integer()
      .notNull()
      .references(() => users.id),
    role: role().notNull(),
    siteId: integer().references(() => sites.id),
    requestedBy: text().notNull(),
    requestedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    reason: text().notNull(),
    decision: text({ enum: ["confirmed", "declined"] }),
    decidedBy: text(),
    decidedAt: timestamp({ withTimezone: true, precision: 3 }),
    decisionReason: text(),
  },
  (t) => [
    uniqueIndex("pending_role_grants_open").on(t.userId, t.role, sql`coalesce(${t.siteId}, 0)`).where(sql`${t.decidedAt} is null`),
    check("pending_role_grants_decided", sql`(${t.decision} is null) = (${t.decidedAt} is null) and (${t.decision} is null) = (${t.decidedBy} is null)`),
    check("pending_role_grants_second_person", sql`${t.decision} is distinct from 'confirmed' or ${t.decidedBy} <> ${t.requestedBy}`),
  ],
);

/**
 * A security alert for the administrators (21 CFR 11.300(d)): repeated failed sign-ins or
 * signatures for one account. It stays on the dashboard until an administrator acknowledges it;
 * one open alert per kind and account, counting what follows.
 */
export const securityAlerts = pgTable(
  "security_alerts",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    kind: text({ enum: ["sign_in_failures", "signature_failures", "audit_anchor_refused"] }).notNull(),
    username: text().notNull(),
    raisedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    lastAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    occurrences: integer().notNull().default(1),
    detail: jsonb().notNull(),
    acknowledgedBy: text(),
    acknowledgedAt: timestamp({ withTimezone: true, precision: 3 }),
    acknowledgeNote: text(),
  },
  (t) => [
    uniqueIndex("security_alerts_open").on(t.kind, t.username).where(sql`${t.acknowledgedAt} is null`),
    check("security_alerts_acknowledged", sql`(${t.acknowledgedAt} is null) = (${t.acknowledgedBy} is null)`),
  ],
);

/** A role held by a user, at all sites (siteId null) or at one site. */
export const userRoles = pgTable(
  "user_roles",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    userId: integer()
      .notNull()
      .references(() => users.id),
    role: role().notNull(),
    siteId: integer().references(() => sites.id),
  },
  (t) => [unique("user_roles_grant").on(t.userId, t.role, t.siteId).nullsNotDistinct()],
);

export const sessions = pgTable(
  "sessions",
  {
    /** SHA-256 of the session id held in the cookie; the id itself is never stored. */
    idHash: text().primaryKey(),
    userId: integer()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    lastSeenAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    expiresAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    endedAt: timestamp({ withTimezone: true, precision: 3 }),
    /** The session's last electronic signature: within a continuous series only the password is asked again. */
    lastSignatureAt: timestamp({ withTimezone: true, precision: 3 }),
  },
  (t) => [index("sessions_user").on(t.userId)],
);

/** A runtime MES system that pulls rule sets for its sites; only the token's hash is kept. */
export const runtimeClients = pgTable("runtime_clients", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  name: text().notNull().unique(),
  /** SHA-256 (hex) of the bearer token; the token itself is shown once, at creation. */
  tokenHash: text().notNull().unique(),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  revokedAt: timestamp({ withTimezone: true, precision: 3 }),
  lastSeenAt: timestamp({ withTimezone: true, precision: 3 }),
});

/** The sites a runtime client may pull (others answer 404). */
export const runtimeClientSites = pgTable(
  "runtime_client_sites",
  {
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
  },
  (t) => [primaryKey({ columns: [t.runtimeClientId, t.siteId] })],
);

/** What each runtime last reported: the version it activated and the keys it trusts. */
export const runtimeClientStatus = pgTable(
  "runtime_client_status",
  {
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    version: integer().notNull(),
    digest: text().notNull(),
    activatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    trustedKeys: text().array().notNull(),
    error: text(),
    reportedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runtimeClientId, t.siteId] })],
);

/**
 * A runtime's refusal of an update it was offered (a forged, tampered or broken rule set): what it
 * was offered (as claimed — it failed verification), why (the reference client's refusal code) and
 * what it kept running. Kept apart from the activation reports: a refusal is evidence of an attack
 * or a fault on the way, not a state. Append-only; bounded by the report rate limit (ADR 008).
 */
export const runtimeClientRefusals = pgTable(
  "runtime_client_refusals",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    runtimeClientId: integer()
      .notNull()
      .references(() => runtimeClients.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    offeredVersion: integer(),
    offeredDigest: text(),
    /** The key the refused signature named, as the runtime reported it (null: not reported or unreadable). */
    offeredKid: text(),
    code: text().notNull(),
    source: text().notNull(),
    message: text(),
    runningVersion: integer(),
    reportedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index("runtime_client_refusals_client_site").on(t.runtimeClientId, t.siteId, t.id)],
);

/**
 * Status reports per client in the current minute: one row per client, counted by one upsert so
 * that every instance sees the same count (ADR 008). Bookkeeping, not audited.
 */
export const runtimeClientReportWindows = pgTable("runtime_client_report_windows", {
  runtimeClientId: integer()
    .primaryKey()
    .references(() => runtimeClients.id),
  windowStart: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  count: integer().notNull(),
});
