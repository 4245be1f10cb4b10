/**
 * Read models of a change request's discussion (ADR 030): its comments as the page shows them, the
 * blocking threads still open (the approval refuses while there is one), and the "changes
 * requested" signature the author answers.
 */
import { and, asc, desc, eq, isNull } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { changeRequestComments, signatures, users } from "../../db/schema";
import type { ChangeRequestStatus } from "../domain/change-request-lifecycle";
import type { CommentAnchor, CommentRow } from "../domain/comment-threads";
import type { DbOrTx } from "../utils/db.server";

const resolvers = alias(users, "resolvers");

/** Every comment of the request, in the order written (threads are built by app/domain/comment-threads.ts). */
export async function commentRows(db: DbOrTx, changeRequestId: number): Promise<CommentRow[]> {
  const rows = await db
    .select({
      id: changeRequestComments.id,
      parentId: changeRequestComments.parentId,
      authorId: changeRequestComments.authorId,
      authorName: users.displayName,
      authorUsername: users.username,
      body: changeRequestComments.body,
      createdAt: changeRequestComments.createdAt,
      anchor: changeRequestComments.anchor,
      revision: changeRequestComments.revision,
      blocking: changeRequestComments.blocking,
      resolvedAt: changeRequestComments.resolvedAt,
      resolvedByName: resolvers.displayName,
    })
    .from(changeRequestComments)
    .innerJoin(users, eq(users.id, changeRequestComments.authorId))
    .leftJoin(resolvers, eq(resolvers.id, changeRequestComments.resolvedById))
    .where(eq(changeRequestComments.changeRequestId, changeRequestId))
    .orderBy(asc(changeRequestComments.createdAt), asc(changeRequestComments.id));
  return rows.map((r) => ({ ...r, anchor: r.anchor as CommentAnchor }));
}

/** The unresolved blocking threads' roots, oldest first. */
export async function openBlockingThreads(db: DbOrTx, changeRequestId: number) {
  const rows = await db
    .select({
      id: changeRequestComments.id,
      anchor: changeRequestComments.anchor,
      body: changeRequestComments.body,
      authorName: users.displayName,
    })
    .from(changeRequestComments)
    .innerJoin(users, eq(users.id, changeRequestComments.authorId))
    .where(
      and(
        eq(changeRequestComments.changeRequestId, changeRequestId),
        isNull(changeRequestComments.parentId),
        eq(changeRequestComments.blocking, true),
        isNull(changeRequestComments.resolvedAt),
      ),
    )
    .orderBy(asc(changeRequestComments.id));
  return rows.map((r) => ({ ...r, anchor: r.anchor as CommentAnchor }));
}

/**
 * The "changes requested" the author is answering: the request's latest signature, when it asked
 * for changes and the request is back with its author (changes requested, or revised into a draft
 * not yet submitted again). Null otherwise.
 */
export async function changesRequested(db: DbOrTx, changeRequestId: number, status: ChangeRequestStatus) {
  if (status !== "changes_requested" && status !== "draft") return null;
  const [latest] = await db
    .select({ meaning: signatures.meaning, printedName: signatures.printedName, signedAt: signatures.signedAt, comment: signatures.comment })
    .from(signatures)
    .where(eq(signatures.changeRequestId, changeRequestId))
    .orderBy(desc(signatures.signedAt), desc(signatures.id))
    .limit(1);
  if (latest?.meaning !== "changes_requested") return null;
  return { by: latest.printedName, at: latest.signedAt, reason: latest.comment };
}
