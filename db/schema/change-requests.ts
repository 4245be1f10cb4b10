import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgSequence, pgTable, primaryKey, text, timestamp, unique } from "drizzle-orm/pg-core";
import { CHANGE_REQUEST_STATUSES, SIGNATURE_MEANING_VALUES } from "../../app/domain/change-request-lifecycle";
import { REVIEWER_ROLES } from "../../app/domain/roles";
import { materials } from "./materials";
import { users } from "./people";
import { ruleSetVersions } from "./rule-sets";
import { sites } from "./sites";

// The lifecycle's statuses, defined once in the domain.
export const changeRequestStatus = pgEnum("change_request_status", CHANGE_REQUEST_STATUSES);

export const signatureMeaning = pgEnum("signature_meaning", SIGNATURE_MEANING_VALUES);
export const reviewerRole = pgEnum("reviewer_role", REVIEWER_ROLES);

/** CR-0001, CR-0002, … (gaps possible after a rolled-back create; numbers are never reused). */
export const changeRequestNumberSeq = pgSequence("change_request_number_seq", { startWith: 1 });

/**
 * A proposed change to tracking rules and governed material attributes. `content` is what the
 * author wrote (app/schemas/change-request.ts); `expandedChanges` the per-material changes it
 * stands for (families expanded at submit and rebase). `rowVersion` increases with every change
 * of the row, for optimistic concurrency: a form sends the rowVersion it was rendered from.
 */
export const changeRequests = pgTable(
  "change_requests",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    number: text().notNull().unique(),
    title: text().notNull(),
    status: changeRequestStatus().notNull(),
    authorId: integer()
      .notNull()
      .references(() => users.id),
    content: jsonb().notNull(),
    expandedChanges: jsonb().notNull(),
    /** SHA-256 of the signed content (app/domain/change-request.ts: signedContentHash). */
    contentHash: text().notNull(),
    /** Increases with each edit of the content (signatures name it). */
    revision: integer().notNull().default(1),
    rowVersion: integer().notNull().default(1),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index("change_requests_status").on(t.status), check("change_requests_number_format", sql`${t.number} ~ '^CR-[0-9]{4,}$'`)],
);

/** Per site: the compiled rules the change request was written against (their digest). */
export const changeRequestBases = pgTable(
  "change_request_bases",
  {
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    /** The site's version when written (null: the site had none yet). */
    baseVersionId: integer().references(() => ruleSetVersions.id),
    /** SHA-256 of the site's compiled rules (not of the version envelope): a renewal moves nothing. */
    baseRulesDigest: text().notNull(),
    /**
     * What the request's proposal and analysis read at the site (app/domain/request-base.ts): the
     * base staleness compares and the signed diff's "before". Null for bases written before bases recorded it
     * (they fall back to the whole site's rules digest).
     */
    touched: jsonb(),
  },
  (t) => [primaryKey({ columns: [t.changeRequestId, t.siteId] })],
);

/** Which materials at which sites a change request touches: conflict detection between open ones. */
export const changeRequestTargets = pgTable(
  "change_request_targets",
  {
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
  },
  (t) => [primaryKey({ columns: [t.changeRequestId, t.materialId, t.siteId] }), index("change_request_targets_material_site").on(t.materialId, t.siteId)],
);

/**
 * Electronic signatures (21 CFR 11.50, 11.70, 11.200): signer, printed name, role, meaning, time and
 * the hash of the exact signed revision. An edit voids them: kept, marked void, never deleted.
 */
export const signatures = pgTable(
  "signatures",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    signerId: integer()
      .notNull()
      .references(() => users.id),
    printedName: text().notNull(),
    role: reviewerRole().notNull(),
    meaning: signatureMeaning().notNull(),
    signedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    contentHash: text().notNull(),
    revision: integer().notNull(),
    /** SHA-256 of the impact analysis the signer saw and signed with (null for signatures before analyses existed). */
    analysisHash: text(),
    comment: text(),
    voidedAt: timestamp({ withTimezone: true, precision: 3 }),
    voidReason: text(),
  },
  (t) => [
    index("signatures_change_request").on(t.changeRequestId),
    check("signatures_reject_has_comment", sql`${t.meaning} <> 'rejected' OR length(coalesce(${t.comment}, '')) > 0`),
    check("signatures_void_has_reason", sql`(${t.voidedAt} IS NULL) = (${t.voidReason} IS NULL)`),
  ],
);

export const changeRequestComments = pgTable("change_request_comments", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  changeRequestId: integer()
    .notNull()
    .references(() => changeRequests.id),
  authorId: integer()
    .notNull()
    .references(() => users.id),
  body: text().notNull(),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
});

/** Revalidation tasks, closed with evidence before release (release issue). */
export const revalidationTasks = pgTable(
  "revalidation_tasks",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    description: text().notNull(),
    evidenceUrl: text(),
    closedAt: timestamp({ withTimezone: true, precision: 3 }),
    closedById: integer().references(() => users.id),
    position: integer().notNull(),
  },
  (t) => [unique("revalidation_tasks_position").on(t.changeRequestId, t.position)],
);
