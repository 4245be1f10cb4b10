/**
 * The discussion of a change request beside what it is about (ADR 030): on each diff row and each
 * finding a count of its threads, the threads themselves and a form to open one; general threads in
 * the Discussion section. Every form is a plain Remix <Form> (works without JavaScript, by
 * keyboard), told apart by `intent`: comment, reply, resolve, reopen.
 */
import { Form, useNavigation } from "@remix-run/react";
import { createContext, useContext, type ReactNode } from "react";
import { anchorKey, anchorLabel, threadElementId, type CommentAnchor, type Thread } from "~/domain/comment-threads";
import { commentSchema, replySchema } from "~/schemas/change-request-comments";
import { Badge } from "./badge";
import { TextAreaField } from "./form-fields";
import { FormError, useSchemaForm, type FieldErrors } from "./forms";
import { UtcTime } from "./time";

export interface ThreadWithRights extends Thread {
  /** Whether the viewer may resolve or reopen it (policies/change-request-comments.ts). */
  mayResolve: boolean;
}

export interface DiscussionState {
  number: string;
  threads: readonly ThreadWithRights[];
  /** The viewer may mark a new thread blocking (a reviewer, not the author). */
  canBlock: boolean;
  /** Keys of the anchors the page shows (diff rows, findings): threads on others are listed in Discussion. */
  shownAnchors: ReadonlySet<string>;
  fieldLabel: (field: string) => string;
  /** The action's field errors for one form (`discussionTarget`), if it answered that form. */
  errorsFor: (target: string) => FieldErrors | undefined;
}

const DiscussionContext = createContext<DiscussionState | null>(null);
export const DiscussionProvider = DiscussionContext.Provider;
function useDiscussion(): DiscussionState {
  const state = useContext(DiscussionContext);
  if (!state) throw new Error("The discussion's components are used inside a DiscussionProvider");
  return state;
}
/** For components that show a discussion only where one is provided (the impact analysis is also shown elsewhere). */
export const useOptionalDiscussion = () => useContext(DiscussionContext);

/**
 * Which form a posted discussion form was (from its raw fields, valid or not): a new thread on an
 * anchor, or a thread's reply/resolve/reopen form. Lets the action's errors show at that form only.
 */
export function discussionTarget(intent: string | null, field: (name: string) => string): string | null {
  if (intent === "comment") {
    const kind = field("anchor.kind") || "request";
    if (kind === "diff_row")
      return `new:${anchorKey({ kind, site: field("anchor.site") || null, material: field("anchor.material"), field: field("anchor.field") })}`;
    if (kind === "finding")
      return `new:${anchorKey({ kind, code: field("anchor.code"), material: field("anchor.material") || null, site: field("anchor.site") || null })}`;
    return "new:request";
  }
  if (intent === "reply" || intent === "resolve" || intent === "reopen") return `${intent}:${field("threadId")}`;
  return null;
}

const idOf = (text: string) => text.replace(/[^A-Za-z0-9_-]+/g, "-");
const flat = (errors: FieldErrors | undefined) => (errors ? Object.values(errors).flatMap((e) => e ?? []) : undefined);

function useThreadsOn(anchor: CommentAnchor) {
  const { threads, fieldLabel } = useDiscussion();
  const key = anchorKey(anchor);
  return { here: threads.filter((t) => anchorKey(t.root.anchor) === key), label: anchorLabel(anchor, fieldLabel) };
}

/** The threads on one anchor with a count, and a form to open another (in a disclosure): beside a finding. */
export function AnchorDiscussion({ anchor }: { anchor: CommentAnchor }) {
  const { here, label } = useThreadsOn(anchor);
  return (
    <div className="anchor-discussion">
      <ThreadCount threads={here} />
      {here.map((t) => (
        <ThreadCard key={t.root.id} thread={t} />
      ))}
      {/* Keyed by the count: once a thread is added, the form starts empty and closed again (no duplicate by a second click). */}
      <NewThreadForm key={here.length} anchor={anchor} label={label} />
    </div>
  );
}

/** A diff row's discussion cell: the count of its threads and the form to open one. */
export function AnchorCell({ anchor }: { anchor: CommentAnchor }) {
  const { here, label } = useThreadsOn(anchor);
  return (
    <>
      <ThreadCount threads={here} />
      <NewThreadForm key={here.length} anchor={anchor} label={label} />
    </>
  );
}

/** The threads of a diff row, in a table row right after it (none: nothing). */
export function AnchorThreadsRow({ anchor, colSpan }: { anchor: CommentAnchor; colSpan: number }) {
  const { here } = useThreadsOn(anchor);
  if (here.length === 0) return null;
  return (
    <tr className="diff-threads">
      <td colSpan={colSpan}>
        {here.map((t) => (
          <ThreadCard key={t.root.id} thread={t} />
        ))}
      </td>
    </tr>
  );
}

/** "2 threads · 1 blocking open": the badge beside a diff row or finding. */
export function ThreadCount({ threads }: { threads: readonly Thread[] }) {
  if (threads.length === 0) return null;
  const open = threads.filter((t) => t.root.resolvedAt === null);
  const blocking = open.filter((t) => t.root.blocking).length;
  return (
    <p className="thread-count small">
      <Badge tone={blocking > 0 ? "bad" : open.length > 0 ? "warn" : "neutral"}>
        {threads.length} {threads.length === 1 ? "thread" : "threads"}
        {open.length > 0 ? ` · ${open.length} open` : " · all resolved"}
        {blocking > 0 ? ` · ${blocking} blocking` : ""}
      </Badge>
    </p>
  );
}

/** A form that opens a thread on `anchor`; a reviewer may mark it blocking. */
export function NewThreadForm({ anchor, label, open = false }: { anchor: CommentAnchor; label: string; open?: boolean }) {
  const { canBlock, errorsFor } = useDiscussion();
  const navigation = useNavigation();
  const key = anchorKey(anchor);
  const serverErrors = errorsFor(`new:${key}`);
  const { onSubmit, errors } = useSchemaForm(commentSchema, serverErrors);
  const id = `comment-${idOf(key)}`;
  // A finding's own text (its code) stays in the finding: beside it, the form says "this finding"
  // and carries the full anchor in its accessible name only.
  const visible = anchor.kind === "request" ? "Add a comment" : anchor.kind === "finding" ? "Comment on this finding" : `Comment on ${label}`;
  const anchorFields =
    anchor.kind === "request" ? null : anchor.kind === "diff_row" ? (
      <>
        <input type="hidden" name="anchor.site" value={anchor.site ?? ""} />
        <input type="hidden" name="anchor.material" value={anchor.material} />
        <input type="hidden" name="anchor.field" value={anchor.field} />
      </>
    ) : (
      <>
        <input type="hidden" name="anchor.code" value={anchor.code} />
        <input type="hidden" name="anchor.material" value={anchor.material ?? ""} />
        <input type="hidden" name="anchor.site" value={anchor.site ?? ""} />
      </>
    );
  const form = (
    <Form method="post" onSubmit={onSubmit} noValidate className="comment-form" aria-label={`Comment on ${label}`}>
      <input type="hidden" name="intent" value="comment" />
      <input type="hidden" name="anchor.kind" value={anchor.kind} />
      {anchorFields}
      <FormError errors={[...(errors.form ?? []), ...Object.entries(errors).flatMap(([k, v]) => (k.startsWith("anchor") ? (v ?? []) : []))]} />
      <TextAreaField label={visible} name="body" id={id} rows={3} maxLength={5000} required errors={errors.body} />
      {canBlock ? (
        <div className="field field-checkbox">
          <input type="checkbox" name="blocking" id={`${id}-blocking`} aria-describedby={`${id}-blocking-hint`} />{" "}
          <label htmlFor={`${id}-blocking`}>Blocking</label>{" "}
          <small id={`${id}-blocking-hint`} className="hint">
            The request cannot be approved until this thread is resolved.
          </small>
          <FormError errors={errors.blocking} />
        </div>
      ) : null}
      <button type="submit" disabled={navigation.state === "submitting"}>
        {anchor.kind === "request" ? "Add comment" : "Add comment here"}
      </button>
    </Form>
  );
  if (open || serverErrors) return form;
  return (
    <details className="comment-disclosure">
      <summary>{visible}</summary>
      {form}
    </details>
  );
}

/** One thread: its state, its comments, a reply form and (for those who may) resolve or reopen. */
export function ThreadCard({ thread }: { thread: ThreadWithRights }) {
  const { number, fieldLabel, errorsFor } = useDiscussion();
  const navigation = useNavigation();
  const { root } = thread;
  const resolved = root.resolvedAt !== null;
  const replyErrors = errorsFor(`reply:${root.id}`);
  const stateErrors = errorsFor(`${resolved ? "reopen" : "resolve"}:${root.id}`);
  const { onSubmit, errors } = useSchemaForm(replySchema, replyErrors);
  const headingId = `${threadElementId(root.id)}-heading`;
  return (
    <article
      id={threadElementId(root.id)}
      className={`comment-thread${root.blocking ? " comment-thread-blocking" : ""}${resolved ? " comment-thread-resolved" : ""}`}
      aria-labelledby={headingId}
    >
      <h4 id={headingId} className="comment-thread-heading">
        Thread #{root.id} on {anchorLabel(root.anchor, fieldLabel)} {root.blocking ? <Badge tone={resolved ? "neutral" : "bad"}>blocking</Badge> : null}{" "}
        <Badge tone={resolved ? "good" : "warn"}>{resolved ? "resolved" : "open"}</Badge>
      </h4>
      <ol className="comment-list">
        {[root, ...thread.replies].map((c) => (
          <li key={c.id}>
            <p className="comment-meta">
              <strong>{c.authorName}</strong> <span className="muted">({c.authorUsername})</span> · <UtcTime value={c.createdAt} />
              {c.revision !== null ? <span className="muted"> · revision {c.revision}</span> : null}
            </p>
            <p className="comment-body">{c.body}</p>
          </li>
        ))}
      </ol>
      {resolved ? (
        <p className="muted small">
          Resolved by {root.resolvedByName} · <UtcTime value={root.resolvedAt!} />
        </p>
      ) : null}
      {/* Keyed by the replies: a reply sent leaves the box empty. */}
      <Form
        key={thread.replies.length}
        method="post"
        onSubmit={onSubmit}
        noValidate
        className="comment-form reply-form"
        aria-label={`Reply to thread #${root.id}`}
      >
        <input type="hidden" name="intent" value="reply" />
        <input type="hidden" name="threadId" value={root.id} />
        <FormError errors={[...(errors.form ?? []), ...(errors.threadId ?? [])]} />
        <TextAreaField label={`Reply to thread #${root.id}`} name="body" id={`reply-${root.id}`} rows={2} maxLength={5000} required errors={errors.body} />
        <button type="submit" className="button-secondary" disabled={navigation.state === "submitting"}>
          Reply
        </button>
      </Form>
      {thread.mayResolve ? (
        <Form method="post" className="inline-form" aria-label={`${resolved ? "Reopen" : "Resolve"} thread #${root.id} of ${number}`}>
          <input type="hidden" name="intent" value={resolved ? "reopen" : "resolve"} />
          <input type="hidden" name="threadId" value={root.id} />
          <FormError errors={flat(stateErrors)} />
          <button type="submit" className="button-secondary" disabled={navigation.state === "submitting"}>
            {resolved ? `Reopen thread #${root.id}` : `Resolve thread #${root.id}`}
          </button>
        </Form>
      ) : null}
    </article>
  );
}

/**
 * The Discussion section: threads on the request as a whole, then threads whose anchor this page
 * no longer shows (a diff row of an earlier revision, a finding of an earlier analysis), and the
 * form to open a general thread.
 */
export function DiscussionSection() {
  const { threads, shownAnchors } = useDiscussion();
  const general = threads.filter((t) => t.root.anchor.kind === "request");
  const elsewhere = threads.filter((t) => t.root.anchor.kind !== "request" && !shownAnchors.has(anchorKey(t.root.anchor)));
  return (
    <section aria-labelledby="cr-discussion-heading" className="card" id="cr-discussion">
      <h2 id="cr-discussion-heading">Discussion</h2>
      <p className="muted small">
        Comments are not part of the signed content. Threads on a diff row or a finding are shown beside it; a thread a reviewer marked blocking holds back
        approval until it is resolved.
      </p>
      {general.length === 0 ? <p className="muted">No comments on the request as a whole yet.</p> : null}
      {general.map((t) => (
        <ThreadCard key={t.root.id} thread={t} />
      ))}
      {elsewhere.length > 0 ? (
        <>
          <h3>On what this page no longer shows</h3>
          <p className="muted small">A diff row of an earlier revision or a finding of an earlier impact analysis.</p>
          {elsewhere.map((t) => (
            <ThreadCard key={t.root.id} thread={t} />
          ))}
        </>
      ) : null}
      <NewThreadForm key={general.length} anchor={{ kind: "request" }} label="the request" open />
    </section>
  );
}

/** Beside a finding of the impact analysis, when the page provides a discussion. */
export function FindingDiscussion({ anchor }: { anchor: CommentAnchor }): ReactNode {
  return useOptionalDiscussion() ? <AnchorDiscussion anchor={anchor} /> : null;
}
