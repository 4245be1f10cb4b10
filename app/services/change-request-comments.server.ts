/**
 * The discussion of a change request (ADR 030): open a thread on an anchor, reply, resolve, reopen.
 * Comments are outside the signed content — nothing here touches the content hash, the revision or
 * the row version — but each write is audited in its own transaction. The request's row is read
 * FOR SHARE, so a thread marked blocking (or reopened) and an approval are serialised: the
 * approval's check (signChangeRequest) either sees the open thread or the thread comes after it.
 */
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import { changeRequestCommentResolutions, changeRequestComments, changeRequests } from "../../db/schema";
import { mayMarkBlocking, mayResolveThread } from "../../policies/change-request-comments";
import { UNDECIDED_STATUSES, type ChangeRequestStatus } from "../domain/change-request-lifecycle";
import { anchorKey, anchorProblem, REQUEST_ANCHOR, type CommentAnchor } from "../domain/comment-threads";
import { changeRequestDetail } from "../queries/change-requests.server";
import { storedAnalysis } from "../queries/impact-analysis-currency.server";
import { commentSchema, replySchema, type CommentInput } from "../schemas/change-request-comments";
import type { Db, Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";

export interface Commenter {
  id: number;
  username: string;
  displayName: string;
  /** The roles held at every site of the request (a reviewer role there may mark a thread blocking). */
  roles: readonly string[];
}

interface Request {
  id: number;
  number: string;
  status: ChangeRequestStatus;
  authorId: number;
  revision: number;
}

async function shareLock(tx: Tx, number: string): Promise<Request> {
  const [row] = await tx
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      status: changeRequests.status,
      authorId: changeRequests.authorId,
      revision: changeRequests.revision,
    })
    .from(changeRequests)
    .where(eq(changeRequests.number, number))
    .for("share");
  if (!row) throw new DomainError("not_found", `change request ${number} does not exist`);
  return row;
}

/** Checks the anchor names a diff row of this revision or a finding of the latest analysis. */
async function requireAnchor(tx: Tx, request: Request, anchor: CommentAnchor): Promise<void> {
  if (anchor.kind === "request") return;
  const world =
    anchor.kind === "diff_row"
      ? { diff: (await changeRequestDetail(tx, request.number, { historyLimit: 1 }))?.diff ?? [], report: null }
      : { diff: [], report: (await storedAnalysis(tx, request.number))?.report ?? null };
  const problem = anchorProblem(anchor, world);
  if (problem) throw new DomainError("invalid", "The comment is anchored on something this change request does not show", problem);
}

/** Opens a thread on the request, a diff row or a finding; a reviewer may mark it blocking. Returns its id. */
export async function addComment(db: Db, person: Commenter, number: string, rawInput: CommentInput | Record<string, unknown>): Promise<number> {
  const parsed = commentSchema.omit({ intent: true }).safeParse(rawInput);
  if (!parsed.success) throw new DomainError("invalid", "The comment has problems", fieldErrorsFromIssues(parsed.error.issues));
  const { body, blocking = false } = parsed.data;
  const anchor: CommentAnchor = parsed.data.anchor ?? REQUEST_ANCHOR;
  return db.transaction(async (tx) => {
    const request = await shareLock(tx, number);
    if (blocking && !mayMarkBlocking(person, request)) {
      throw new DomainError("forbidden", "Only a reviewer of every site of this change request (not its author) marks a thread blocking", {
        blocking: ["Only a reviewer of every site of this change request (not its author) marks a thread blocking"],
      });
    }
    if (blocking && !UNDECIDED_STATUSES.has(request.status)) {
      const message = `${number} is ${request.status.replace("_", " ")}: a blocking thread holds back an approval, so it is opened only while the request is undecided`;
      throw new DomainError("conflict", message, { blocking: [message] });
    }
    await requireAnchor(tx, request, anchor);
    const [row] = await tx
      .insert(changeRequestComments)
      .values({ changeRequestId: request.id, authorId: person.id, body, createdAt: sql`now()`, anchor, revision: request.revision, blocking })
      .returning({ id: changeRequestComments.id });
    await appendAudit(tx, {
      actor: person.username,
      action: "change_request.comment",
      entityType: "change_request",
      entityId: number,
      after: { commentId: row!.id, body, anchor, revision: request.revision, blocking },
    });
    return row!.id;
  });
}

async function lockThread(tx: Tx, request: Request, threadId: number) {
  const [row] = await tx
    .select({
      id: changeRequestComments.id,
      parentId: changeRequestComments.parentId,
      authorId: changeRequestComments.authorId,
      anchor: changeRequestComments.anchor,
      blocking: changeRequestComments.blocking,
      resolvedAt: changeRequestComments.resolvedAt,
    })
    .from(changeRequestComments)
    .where(and(eq(changeRequestComments.id, threadId), eq(changeRequestComments.changeRequestId, request.id)))
    .for("update");
  if (!row)
    throw new DomainError("invalid", `${request.number} has no comment thread #${threadId}`, {
      threadId: [`No comment thread #${threadId} on ${request.number}`],
    });
  return row;
}

/** Replies to a thread (a reply to a reply joins the reply's thread: one level). Returns its id. */
export async function replyToThread(db: Db, person: Commenter, number: string, rawInput: { threadId: unknown; body: unknown }): Promise<number> {
  const parsed = replySchema.omit({ intent: true }).safeParse(rawInput);
  if (!parsed.success) throw new DomainError("invalid", "The reply has problems", fieldErrorsFromIssues(parsed.error.issues));
  return db.transaction(async (tx) => {
    const request = await shareLock(tx, number);
    const target = await lockThread(tx, request, parsed.data.threadId);
    const rootId = target.parentId ?? target.id;
    const [row] = await tx
      .insert(changeRequestComments)
      .values({
        changeRequestId: request.id,
        authorId: person.id,
        body: parsed.data.body,
        createdAt: sql`now()`,
        parentId: rootId,
        anchor: target.anchor as CommentAnchor,
        revision: request.revision,
      })
      .returning({ id: changeRequestComments.id });
    await appendAudit(tx, {
      actor: person.username,
      action: "change_request.comment_reply",
      entityType: "change_request",
      entityId: number,
      after: { commentId: row!.id, threadId: rootId, body: parsed.data.body },
    });
    return row!.id;
  });
}

/**
 * Resolves or reopens a thread: by whoever opened it or by the request's author (policies). The
 * root's columns say how it stands, guarded in SQL (resolving a resolved thread is a conflict, not
 * a silent overwrite); the event is appended to the resolutions and audited.
 */
export async function setThreadResolution(db: Db, person: Commenter, number: string, threadId: number, action: "resolve" | "reopen"): Promise<void> {
  if (!Number.isInteger(threadId) || threadId < 1) throw new DomainError("invalid", "Name the thread", { threadId: ["Name the thread"] });
  await db.transaction(async (tx) => {
    const request = await shareLock(tx, number);
    const thread = await lockThread(tx, request, threadId);
    if (thread.parentId !== null) {
      throw new DomainError("invalid", `#${threadId} is a reply: resolve its thread #${thread.parentId}`, {
        threadId: [`#${threadId} is a reply, not a thread`],
      });
    }
    if (!mayResolveThread(person.id, thread, request)) {
      throw new DomainError("forbidden", `Only whoever opened thread #${threadId} or the author of ${number} may ${action} it.`);
    }
    const resolving = action === "resolve";
    if (!resolving && thread.blocking && !UNDECIDED_STATUSES.has(request.status)) {
      // Reopening a blocking thread would leave a decided request with an unresolved blocking thread.
      const message = `${number} is ${request.status.replace("_", " ")}: a blocking thread holds back an approval, so it is reopened only while the request is undecided`;
      throw new DomainError("conflict", message, { threadId: [message] });
    }
    const updated = await tx
      .update(changeRequestComments)
      .set(resolving ? { resolvedAt: sql`date_trunc('milliseconds', now())`, resolvedById: person.id } : { resolvedAt: null, resolvedById: null })
      .where(and(eq(changeRequestComments.id, threadId), resolving ? isNull(changeRequestComments.resolvedAt) : isNotNull(changeRequestComments.resolvedAt)))
      .returning({ id: changeRequestComments.id });
    if (updated.length === 0) {
      throw new DomainError("conflict", `Thread #${threadId} is ${resolving ? "resolved" : "open"} already.`, {
        threadId: [`Thread #${threadId} is ${resolving ? "resolved" : "open"} already`],
      });
    }
    await tx
      .insert(changeRequestCommentResolutions)
      .values({ threadId, action: resolving ? "resolved" : "reopened", actorId: person.id, at: sql`date_trunc('milliseconds', now())` });
    await appendAudit(tx, {
      actor: person.username,
      action: resolving ? "change_request.comment_resolve" : "change_request.comment_reopen",
      entityType: "change_request",
      entityId: number,
      before: { threadId, resolved: !resolving },
      after: { threadId, resolved: resolving, blocking: thread.blocking, anchor: anchorKey(thread.anchor as CommentAnchor) },
    });
  });
}
