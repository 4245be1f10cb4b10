import {
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
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
});

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
