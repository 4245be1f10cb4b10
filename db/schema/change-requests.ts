import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
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
    /**
     * The day the review should be done by (a calendar date, UTC), set by the author at submit
     * (ADR 031). Workflow metadata: not part of the signed content or its hash; audited with the
     * submit. Null for a request never submitted (or submitted before due dates existed).
     */
    reviewDueOn: date({ mode: "string" }),
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
    /** The SHA-256 of the replay stored with that analysis (ADR 041); null when it had none. */
    replayHash: text(),
    comment: text(),
    /**
     * What the signer attests besides the meaning, in the same signature (ADR 035): `traceability_deviation`
     * = "approve deviation from required traceability" (a regulatory reviewer approving a request that carries deviations).
     */
    attestations: text().array().notNull().default(sql`'{}'::text[]`),
    voidedAt: timestamp({ withTimezone: true, precision: 3 }),
    voidReason: text(),
  },
  (t) => [
    index("signatures_change_request").on(t.changeRequestId),
    check("signatures_reject_has_comment", sql`${t.meaning} <> 'rejected' OR length(coalesce(${t.comment}, '')) > 0`),
    check("signatures_void_has_reason", sql`(${t.voidedAt} IS NULL) = (${t.voidReason} IS NULL)`),
  ],
);

/**
 * The discussion of a change request (ADR 030): outside the signed content (the content hash never
 * reads it), every write audited. A thread's root names its anchor — the request as a whole, a row
 * of the structured diff of the revision it was written on, or a finding of the impact analysis —
 * and whether a reviewer marked it blocking; replies point at their root (one level). The root
 * carries the thread's resolution as it stands; each resolve and reopen is also appended to
 * `change_request_comment_resolutions`, so no resolution is ever overwritten silently.
 */
export const changeRequestComments = pgTable(
  "change_request_comments",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    authorId: integer()
      .notNull()
      .references(() => users.id),
    body: text().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    /** The thread's root, for a reply (null: this comment opens a thread). */
    parentId: integer().references((): AnyPgColumn => changeRequestComments.id),
    /** What a thread's root is about (app/domain/comment-threads.ts: CommentAnchor); replies carry their root's. */
    anchor: jsonb().notNull().default({ kind: "request" }),
    /** The revision the comment was written on (null: written before comments recorded it). */
    revision: integer(),
    /** Marked by a reviewer when opening the thread: the request cannot be approved while it is unresolved. */
    blocking: boolean().notNull().default(false),
    resolvedAt: timestamp({ withTimezone: true, precision: 3 }),
    resolvedById: integer().references(() => users.id),
  },
  (t) => [
    index("change_request_comments_change_request").on(t.changeRequestId, t.id),
    index("change_request_comments_parent").on(t.parentId),
    check("change_request_comments_resolved_by_whom", sql`(${t.resolvedAt} IS NULL) = (${t.resolvedById} IS NULL)`),
    check("change_request_comments_reply_plain", sql`${t.parentId} IS NULL OR (NOT ${t.blocking} AND ${t.resolvedAt} IS NULL)`),
    check("change_request_comments_anchor_kind", sql`${t.anchor}->>'kind' in ('request', 'diff_row', 'finding')`),
    /** A reply's thread belongs to the same change request (the composite key below). */
    unique("change_request_comments_id_request").on(t.id, t.changeRequestId),
    foreignKey({
      name: "change_request_comments_parent_same_request",
      columns: [t.parentId, t.changeRequestId],
      foreignColumns: [t.id, t.changeRequestId],
    }),
  ],
);

/** Every resolve and reopen of a thread, appended (who and when): the history its root's columns summarise. */
export const changeRequestCommentResolutions = pgTable(
  "change_request_comment_resolutions",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    threadId: integer()
      .notNull()
      .references(() => changeRequestComments.id),
    action: text().notNull(),
    actorId: integer()
      .notNull()
      .references(() => users.id),
    at: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    index("change_request_comment_resolutions_thread").on(t.threadId, t.id),
    check("change_request_comment_resolutions_action", sql`${t.action} in ('resolved', 'reopened')`),
  ],
);

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
