/**
 * The dashboard's sections per role (issue 24, ADR 031): an engineer's own open work, a
 * reviewer's queue with due dates, a release manager's approved requests per site with what
 * releasing each would make stale, and an administrator's watch list (failed signatures and
 * sign-ins, signing keys, runtime clients not reporting). Reads only. Staleness, conflicts and
 * "would make stale" come from the same functions the change-request screens, the release board
 * and the services use (request-bases, change-request-context, releases), never a second copy.
 */
import { and, asc, count, desc, eq, gte, inArray, isNull, like, not, sql } from "drizzle-orm";
import { auditTrail, changeRequestComments, changeRequests } from "../../db/schema";
import { OPEN_STATUSES, type ChangeRequestStatus } from "../domain/change-request-lifecycle";
import { isOverdue, todayIn } from "../domain/review-due";
import type { Db, DbOrTx } from "../utils/db.server";
import { conflictsOf } from "./change-request-context.server";
import { awaitingMySignature, type Viewer } from "./change-requests.server";
import { signingKeyOverview } from "./keys.server";
import { releaseBoard } from "./releases.server";
import { staleness } from "./request-bases.server";
import { expiredDeviations } from "./traceability-deviations.server";
import { runtimeClientOverview, STALE_AFTER_HOURS } from "./runtime-clients.server";

const DAY_MS = 86_400_000;

/* ------------------------------------------------------------------------------------------ */
/* Engineer: my drafts, returned to me, stale, conflicting                                     */
/* ------------------------------------------------------------------------------------------ */

export interface EngineerWork {
  drafts: { number: string; title: string; updatedAt: Date }[];
  /** Returned to me: changes requested, with the blocking comments still open on each. */
  changesRequested: { number: string; title: string; updatedAt: Date; openBlocking: number }[];
  /** Open requests of mine whose base moved at some site: rebase them. */
  stale: { number: string; title: string; status: ChangeRequestStatus; sites: { site: string; moved: string[] }[] }[];
  /** Open requests of mine touching a material at a site another open request touches too. */
  conflicts: {
    number: string;
    title: string;
    status: ChangeRequestStatus;
    others: { number: string; status: ChangeRequestStatus; partNumber: string; site: string }[];
  }[];
}

/** The author's open change requests, sorted for the engineer's sections. */
export async function engineerWork(db: DbOrTx, params: { userId: number }): Promise<EngineerWork> {
  const mine = await db
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      title: changeRequests.title,
      status: changeRequests.status,
      updatedAt: changeRequests.updatedAt,
    })
    .from(changeRequests)
    .where(and(eq(changeRequests.authorId, params.userId), inArray(changeRequests.status, [...OPEN_STATUSES])))
    .orderBy(asc(changeRequests.number));
  if (mine.length === 0) return { drafts: [], changesRequested: [], stale: [], conflicts: [] };
  const returned = mine.filter((r) => r.status === "changes_requested");
  const [stale, conflictLists, blockingRows] = await Promise.all([
    staleness(
      db,
      mine.map((r) => r.id),
    ),
    Promise.all(mine.map(async (r) => [r.id, await conflictsOf(db, r.id)] as const)),
    returned.length
      ? db
          .select({ changeRequestId: changeRequestComments.changeRequestId, n: count() })
          .from(changeRequestComments)
          .where(
            and(
              inArray(
                changeRequestComments.changeRequestId,
                returned.map((r) => r.id),
              ),
              isNull(changeRequestComments.parentId),
              eq(changeRequestComments.blocking, true),
              isNull(changeRequestComments.resolvedAt),
            ),
          )
          .groupBy(changeRequestComments.changeRequestId)
      : Promise.resolve([]),
  ]);
  const conflicts = new Map(conflictLists);
  const blocking = new Map(blockingRows.map((b) => [b.changeRequestId, b.n]));
  const oldestFirst = <T extends { updatedAt: Date }>(rows: T[]) => [...rows].sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
  return {
    drafts: oldestFirst(mine.filter((r) => r.status === "draft")).map(({ number, title, updatedAt }) => ({ number, title, updatedAt })),
    changesRequested: oldestFirst(returned).map(({ id, number, title, updatedAt }) => ({ number, title, updatedAt, openBlocking: blocking.get(id) ?? 0 })),
    stale: mine.flatMap((r) => {
      const sites = stale.get(r.id);
      return sites?.length ? [{ number: r.number, title: r.title, status: r.status, sites: sites.map((s) => ({ site: s.site, moved: s.moved })) }] : [];
    }),
    conflicts: mine.flatMap((r) => {
      const others = conflicts.get(r.id) ?? [];
      return others.length
        ? [
            {
              number: r.number,
              title: r.title,
              status: r.status,
              others: others.map(({ number, status, partNumber, site }) => ({ number, status, partNumber, site })),
            },
          ]
        : [];
    }),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Reviewer: awaiting my signature, with due dates                                             */
/* ------------------------------------------------------------------------------------------ */

/**
 * "Awaiting my signature" (the same rule as the list's filter), oldest first, each with its review
 * due date (ADR 031) and whether that date has passed (`today`: the database clock's date in the
 * reader's time zone, UTC without one).
 */
export async function reviewerQueue(db: DbOrTx, viewer: Viewer, params: { at: Date; timeZone?: string }) {
  const rows = await awaitingMySignature(db, viewer);
  const today = todayIn(params.at, params.timeZone ?? "UTC");
  return rows.map((row) => ({ ...row, overdue: isOverdue(row.reviewDueOn, today) }));
}

/* ------------------------------------------------------------------------------------------ */
/* Release manager: approved per site, and what each release would make stale                 */
/* ------------------------------------------------------------------------------------------ */

export interface ReleaseWorkSite {
  code: string;
  name: string;
  candidates: {
    number: string;
    title: string;
    status: ChangeRequestStatus;
    authorName: string;
    /** The viewer wrote it: they may not release it. */
    mine: boolean;
    /** What it read here moved: the release would be refused until it is rebased. */
    stale: boolean;
    wouldMakeStale: { number: string; status: ChangeRequestStatus; moved: string[] }[];
  }[];
}

/**
 * Per site the viewer may release at (`siteIds` null: all), the approved or partly released
 * requests not yet released there — the release board's candidates and its "would make stale".
 */
export async function releaseWork(db: DbOrTx, params: { siteIds: readonly number[] | null; viewerId: number; at: Date }): Promise<ReleaseWorkSite[]> {
  const board = await releaseBoard(db, params);
  return board.map((s) => ({
    code: s.site.code,
    name: s.site.name,
    candidates: s.candidates.map((c) => ({
      number: c.number,
      title: c.title,
      status: c.status,
      authorName: c.authorName,
      mine: c.mine,
      stale: c.stale,
      wouldMakeStale: c.wouldMakeStale.map((w) => ({ number: w.number, status: w.status, moved: [...new Set(w.stale.flatMap((x) => x.moved))] })),
    })),
  }));
}

/* ------------------------------------------------------------------------------------------ */
/* Quality, regulatory, release: expired deviations from required traceability (ADR 036)        */
/* ------------------------------------------------------------------------------------------ */

/**
 * The open deviations whose last day is before today (`at`'s date in the reader's zone) at the sites
 * given (null: all) — the alarm that stays until a release restores the requirement or replaces them.
 */
export async function expiredDeviationAlarm(db: DbOrTx, params: { siteIds: readonly number[] | null; at: Date; timeZone?: string }) {
  const today = todayIn(params.at, params.timeZone ?? "UTC");
  const rows = await expiredDeviations(db, today, { siteIds: params.siteIds });
  return rows.map((r) => ({ material: r.partNumber, site: r.site, changeRequest: r.changeRequest, expiresOn: r.expiresOn!, shortfalls: r.shortfalls }));
}

/* ------------------------------------------------------------------------------------------ */
/* Administrator: failures, keys, clients not reporting                                        */
/* ------------------------------------------------------------------------------------------ */

/** How far back the failures panel looks. */
export const FAILURE_WINDOW_DAYS = 7;
/** A signing key is due for rotation this long after it was created (ADR 031; keys carry no expiry of their own). */
export const KEY_ROTATION_DAYS = 365;
/** A key's rotation is flagged this long before it is due. */
export const KEY_ROTATION_WARNING_DAYS = 30;
/** Retired keys stay on the dashboard this long (runtimes still pinned to them refuse new rule sets). */
export const RETIRED_KEY_SHOWN_DAYS = 30;

/** The audit actions that are failed attempts at someone's credentials. */
export const FAILURE_ACTIONS = {
  "signature.failed": "Failed signature",
  "session.sign_in_failed": "Failed sign-in",
  "session.sign_in_refused": "Refused sign-in (locked out)",
} as const;
export type FailureAction = keyof typeof FAILURE_ACTIONS;

export interface AdminWatch {
  /** Per account and kind, the failed attempts in the window: how many and the latest. */
  failures: { action: FailureAction; account: string; attempts: number; lastAt: Date }[];
  /** Active keys with their rotation due date, flagged when due soon; keys retired lately. */
  keys: { kid: string; state: "active" | "retired"; createdAt: Date; retiredAt: Date | null; rotateBy: Date | null; rotationDue: boolean; trustedBy: number }[];
  /** Active runtime clients not seen for more than STALE_AFTER_HOURS (never seen: counted from creation). */
  silentClients: { name: string; lastSeenAt: Date | null; createdAt: Date; sites: string[] }[];
}

export async function adminWatch(db: Db, params: { at: Date }): Promise<AdminWatch> {
  const since = new Date(params.at.getTime() - FAILURE_WINDOW_DAYS * DAY_MS);
  const [failures, keyOverview, clients] = await Promise.all([
    db
      .select({
        action: auditTrail.action,
        account: auditTrail.entityId,
        attempts: count(),
        lastAt: sql<Date>`max(${auditTrail.recordedAt})`.mapWith(auditTrail.recordedAt),
      })
      .from(auditTrail)
      .where(and(inArray(auditTrail.action, Object.keys(FAILURE_ACTIONS)), gte(auditTrail.recordedAt, since)))
      .groupBy(auditTrail.action, auditTrail.entityId)
      .orderBy(desc(sql`max(${auditTrail.recordedAt})`), asc(auditTrail.entityId)),
    // The keys screen's read model (keys.server.ts) and the runtime clients screen's, filtered.
    signingKeyOverview(db),
    runtimeClientOverview(db, { at: params.at }),
  ]);
  const silentBefore = params.at.getTime() - STALE_AFTER_HOURS * 3_600_000;
  const warnFrom = params.at.getTime() + KEY_ROTATION_WARNING_DAYS * DAY_MS;
  const retiredSince = params.at.getTime() - RETIRED_KEY_SHOWN_DAYS * DAY_MS;
  return {
    failures: failures.map((f) => ({ ...f, action: f.action as FailureAction })),
    keys: keyOverview.keys
      .filter((k) => k.state === "active" || (k.retiredAt !== null && k.retiredAt.getTime() >= retiredSince))
      .map((k) => {
        const rotateBy = k.state === "active" ? new Date(k.createdAt.getTime() + KEY_ROTATION_DAYS * DAY_MS) : null;
        return {
          kid: k.kid,
          state: k.state,
          createdAt: k.createdAt,
          retiredAt: k.retiredAt,
          rotateBy,
          rotationDue: rotateBy !== null && rotateBy.getTime() <= warnFrom,
          trustedBy: k.trustedBy.length,
        };
      }),
    silentClients: clients
      .filter((c) => c.revokedAt === null && (c.lastSeenAt ?? c.createdAt).getTime() < silentBefore)
      .map((c) => ({ name: c.name, lastSeenAt: c.lastSeenAt, createdAt: c.createdAt, sites: c.sites.map((s) => s.code) })),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Recent activity (for readers of the audit trail)                                            */
/* ------------------------------------------------------------------------------------------ */

/**
 * The latest audit entries that are work — change requests, releases, keys, users — without the
 * sessions (sign-ins and sign-outs drown everything else); the sign-ins of the last 24 hours are
 * counted instead.
 */
export async function recentActivity(db: DbOrTx, params: { at: Date; limit: number }) {
  const [rows, [signIns]] = await Promise.all([
    db
      .select({
        seq: auditTrail.seq,
        recordedAt: auditTrail.recordedAt,
        actor: auditTrail.actor,
        action: auditTrail.action,
        entityType: auditTrail.entityType,
        entityId: auditTrail.entityId,
        reason: auditTrail.reason,
      })
      .from(auditTrail)
      .where(not(like(auditTrail.action, "session.%")))
      .orderBy(desc(auditTrail.seq))
      .limit(params.limit),
    db
      .select({ n: count(), accounts: sql<number>`count(distinct ${auditTrail.entityId})`.mapWith(Number) })
      .from(auditTrail)
      .where(and(eq(auditTrail.action, "session.sign_in"), gte(auditTrail.recordedAt, new Date(params.at.getTime() - DAY_MS)))),
  ]);
  return { rows, signInsLastDay: { count: signIns?.n ?? 0, accounts: signIns?.accounts ?? 0 } };
}
