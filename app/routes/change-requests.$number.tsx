import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useOutlet, useSearchParams } from "@remix-run/react";
import type { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { ChangeRequestContentView } from "~/components/change-request-content";
import { StructuredDiff, TextDiff } from "~/components/change-request-diff";
import { ApprovalsNeeded, SignatureManifestations } from "~/components/change-request-signatures";
import { ChangeRequestFlags, ChangeRequestStatusBadge, STATUS_LABELS } from "~/components/change-request-status";
import { DataTable, EmptyRow } from "~/components/data-table";
import { AuditTable } from "~/components/audit-table";
import { ImpactAnalysisSection } from "~/components/impact-analysis";
import { LiveAt } from "~/components/release-live-at";
import { ReleaseWaivers } from "~/components/release-waivers";
import { Digest } from "~/components/digest";
import { StatusMessage, TextAreaField } from "~/components/form-fields";
import { Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { SignatureDialog } from "~/components/signature-dialog";
import { UtcTime } from "~/components/time";
import { isOpen, transition, UNDECIDED_STATUSES, type ChangeRequestEvent } from "~/domain/change-request-lifecycle";
import { changeRequestActionSchema, commentSchema, withdrawSchema } from "~/schemas/change-request-actions";
import { changeRequestDetail, changeRequestHead } from "~/queries/change-requests.server";
import { impactAnalysisView } from "~/queries/impact-analysis.server";
import { changeRequestLiveAt } from "~/queries/releases.server";
import { signatureNeedsUsername } from "~/queries/signing-session.server";
import {
  addComment,
  rebaseChangeRequest,
  reviseChangeRequest,
  signChangeRequest,
  submitChangeRequest,
  withdrawChangeRequest,
} from "~/services/change-requests.server";
import { runImpactAnalysis } from "~/services/impact-analysis.server";
import { requirePermission, requireUser } from "~/services/signed-in.server";
import { requireEverySite, requireRecord, signerOf } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { accountProvenanceFlags, SAME_CREATOR_WINDOW_DAYS } from "~/queries/account-provenance.server";
import { getDb } from "~/utils/db.server";
import { actionError, DomainError, invariantResponse, notFound } from "~/utils/errors.server";
import { reviewerRolesCovering } from "../../policies/review-and-release";
import { isAuthorOf, mayAnalyse, mayAtEverySite } from "../../policies/change-request-sites";

const HISTORY_LIMIT = 100;

type Intent = z.infer<typeof changeRequestActionSchema>["intent"];

const DONE_MESSAGES: Record<Intent | "create" | "edit", string> = {
  create: "Draft created. Submit it for review when it is complete.",
  edit: "Saved as a new revision. Signatures given before were voided.",
  submit: "Submitted for review.",
  revise: "Back to draft: revise it and submit it again.",
  rebase: "Rebased on the rules in force now. Signatures given before were voided.",
  withdraw: "Withdrawn.",
  comment: "Comment added.",
  analyse: "Impact analysis run: review it below.",
  sign: "Signed.",
};

/**
 * While it can still be signed, an impact analysis may be run — and a reviewer must have a current
 * one to sign with (ADR 010). Once decided, its analyses stay as they were signed with.
 */
const ANALYSABLE = UNDECIDED_STATUSES;

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.cr.number} ${data.cr.title} · Change requests · C-981` : "Change request not found · C-981" },
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const detail = await changeRequestDetail(db, params.number ?? "", { historyLimit: HISTORY_LIMIT });
  if (!detail) throw notFound();
  // Visible when one of its sites is the reader's; otherwise it does not exist for them.
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: detail.siteIds });
  const { id, authorId, siteIds, ...shown } = detail;
  const isAuthor = isAuthorOf(signedIn.user.id, { authorId });
  const everySite = (action: "sign" | "update") => mayAtEverySite(signedIn.ability, action, siteIds);
  // The dialog is offered to reviewers who may sign at every site; the service decides the rest.
  const signRoles = shown.cr.status === "in_review" && !isAuthor && everySite("sign") ? reviewerRolesCovering(signedIn.grants, siteIds) : [];
  return {
    ...shown,
    isAuthor,
    /** Author actions (edit, submit, revise, rebase, withdraw) are offered to the author only. */
    canAct: isAuthor && everySite("update"),
    signRoles,
    reviewerAuthor: isAuthor && everySite("sign"),
    needsUsername: signRoles.length > 0 ? await signatureNeedsUsername(db, signedIn.sessionIdHash) : false,
    analysis: await impactAnalysisView(db, shown.cr.number),
    canAnalyse: ANALYSABLE.has(shown.cr.status) && mayAnalyse(signedIn.ability, siteIds),
    /** Places held by accounts one administrator created (ADR 020): a warning, not a block. */
    provenanceFlags: await accountProvenanceFlags(db, id),
    provenanceWindowDays: SAME_CREATOR_WINDOW_DAYS,
    /** Where it is released, site by site; shown once it is approved. */
    liveAt: ["approved", "partly_released", "released"].includes(shown.cr.status)
      ? await changeRequestLiveAt(db, { changeRequestId: id, at: await databaseNow(db) })
      : [],
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const signedIn = await requireUser(request);
  const formData = await request.formData();
  const db = await getDb();
  const head = await changeRequestHead(db, params.number ?? "");
  if (!head) throw notFound();
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: head.siteIds });
  const rawIntent = formData.get("intent");
  const intent = typeof rawIntent === "string" ? rawIntent : null;
  // Authorized before the form is read: signing needs `sign` at every site of the request, the
  // author's actions `update` there (the service adds: only the author). Commenting needs only
  // to see the request; an unknown intent is refused by the parse below.
  if (intent === "sign") requireEverySite(signedIn, "sign", head.siteIds);
  else if (intent === "analyse") {
    invariantResponse(mayAnalyse(signedIn.ability, head.siteIds), "You do not have permission to analyse it at every site of this change request.", 403);
  } else if (intent !== "comment") requireEverySite(signedIn, "update", head.siteIds);
  const form = parseForm(changeRequestActionSchema, formData);
  // Only problems go back, never the values: the password must not travel back in a response.
  if (!form.ok) return data({ intent, fieldErrors: form.fieldErrors, conflict: null as string | null }, { status: 400 });
  const person = signerOf(signedIn, head.siteIds);
  const number = head.number;
  try {
    switch (form.data.intent) {
      case "sign": {
        const { intent: _intent, ...signature } = form.data;
        const result = await signChangeRequest(db, person, number, signature);
        if (!result.ok) {
          // 423 Locked: too many failed attempts; signing is refused for a while.
          return data({ intent, fieldErrors: result.fields as FieldErrors, conflict: null as string | null }, { status: result.locked ? 423 : 400 });
        }
        break;
      }
      case "comment":
        await addComment(db, person, number, form.data.body);
        break;
      case "analyse":
        if (!ANALYSABLE.has(head.status)) throw new DomainError("conflict", `${number} is decided: its impact analyses stay as they were signed with.`);
        await runImpactAnalysis(db, { username: person.username }, number);
        break;
      case "submit":
        await submitChangeRequest(db, person, number, form.data.rowVersion);
        break;
      case "revise":
        await reviseChangeRequest(db, person, number, form.data.rowVersion);
        break;
      case "rebase":
        await rebaseChangeRequest(db, person, number, form.data.rowVersion);
        break;
      case "withdraw":
        await withdrawChangeRequest(db, person, number, form.data.rowVersion, form.data.reason);
        break;
    }
  } catch (error) {
    // 409: the request moved on (another signature, an edit, a release) — said at the top, with a reload.
    return actionError(error, (fieldErrors, conflict) => ({ intent, fieldErrors, conflict }), { pageNotFound: true, conflictApart: true });
  }
  // Post/Redirect/Get: a reload does not repeat the action.
  throw redirect(`/change-requests/${number}?done=${form.data.intent}`);
}

function useErrorsFor(intent: Intent): FieldErrors | undefined {
  const actionData = useActionData<typeof action>();
  if (!actionData || actionData.intent !== intent) return undefined;
  // A 409 is also said at the form that met it: the top of the page may be far away. When it names
  // a field (the signature's analysis hash), the form shows it there, once.
  if (actionData.conflict && Object.keys(actionData.fieldErrors).length > 0) return actionData.fieldErrors;
  if (actionData.conflict) return { ...actionData.fieldErrors, form: [`${actionData.conflict} Reload the page (link at the top) and try again.`] };
  return actionData.fieldErrors;
}

const can = (status: Parameters<typeof transition>[0], event: ChangeRequestEvent) => transition(status, event).ok;

export default function ChangeRequestPage() {
  const outlet = useOutlet();
  // The edit form and the printable record are child routes: they replace this page.
  if (outlet) return outlet;
  return <ChangeRequestView />;
}

function ChangeRequestView() {
  const view = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const signErrors = useErrorsFor("sign");
  const analyseErrors = useErrorsFor("analyse");
  const [searchParams] = useSearchParams();
  const { cr } = view;
  const done = searchParams.get("done");
  const formKey = `${cr.rowVersion}`;
  const signShown = view.signRoles.length > 0;
  const authorForms: Intent[] = view.canAct ? ["submit", "revise", "rebase", "withdraw"] : [];
  const shownForms: (Intent | null)[] = [
    "comment",
    ...authorForms,
    ...(view.canAnalyse ? (["analyse"] as const) : []),
    ...(signShown ? (["sign"] as const) : []),
  ];
  // Errors of a form that is no longer on the page (the request moved on) are shown at the top.
  const orphan =
    actionData && !actionData.conflict && !shownForms.includes(actionData.intent as Intent)
      ? Object.values(actionData.fieldErrors).flatMap((e) => e ?? [])
      : undefined;
  const open = isOpen(cr.status);
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">{cr.number}</span> {cr.title}
          </>
        }
        lead={
          <>
            <ChangeRequestStatusBadge status={cr.status} /> <ChangeRequestFlags stale={view.stale} conflict={view.conflicts.length > 0} /> by {cr.authorName} ·
            revision {cr.revision} · content <Digest value={cr.contentHash} />
          </>
        }
      >
        <Link to={`/change-requests/${cr.number}/record`}>Printable record</Link>
        {view.canAct && can(cr.status, "edit") ? <Link to={`/change-requests/${cr.number}/edit`}>Edit</Link> : null}
        <Link to="/change-requests">All change requests</Link>
      </PageHeader>

      <LiveAt sites={view.liveAt} />

      <StatusMessage>{!actionData && done && done in DONE_MESSAGES ? DONE_MESSAGES[done as keyof typeof DONE_MESSAGES] : null}</StatusMessage>
      {actionData?.conflict ? (
        <div className="form-error conflict-error" role="alert">
          <p>
            <strong>Not done — conflict:</strong> {actionData.conflict}
          </p>
          <p>
            <Link to={`/change-requests/${cr.number}`}>Reload {cr.number}</Link>
          </p>
        </div>
      ) : null}
      <FormError errors={orphan} />

      {open && view.stale.length > 0 ? (
        <div className="notice notice-warn stale-banner" role="status">
          <p>
            <strong>Stale:</strong> what it reads at {view.stale.join(", ")} changed since this was written — rebase it on the rules in force now before it is
            reviewed further.
          </p>
          <ul>{view.staleDetail.flatMap((s) => s.moved.map((m) => <li key={`${s.site}|${m}`}>{m} moved</li>))}</ul>
          {view.canAct && can(cr.status, "rebase") ? (
            <IntentButton key={formKey} intent="rebase" label={`Rebase ${cr.number}`} rowVersion={cr.rowVersion} />
          ) : null}
        </div>
      ) : null}
      {open && view.conflicts.length > 0 ? (
        <div className="notice notice-warn" role="status">
          <p>
            <strong>Conflict:</strong> another open change request changes the same material at the same site.
          </p>
          <ul>
            {view.conflicts.map((c) => (
              <li key={`${c.number}|${c.partNumber}|${c.site}`}>
                also changed by <Link to={`/change-requests/${c.number}`}>{c.number}</Link> ({STATUS_LABELS[c.status]}): {c.partNumber} at {c.site}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {view.provenanceFlags.length > 0 ? (
        <div className="notice notice-warn" id="account-provenance">
          <p>
            <strong>Possibly one person in two places:</strong> accounts on this request were created by the same administrator.
          </p>
          <ul>
            {view.provenanceFlags.map((f) => (
              <li key={`${f.kind}|${f.accounts.map((a) => a.username).join("|")}`}>
                {f.kind === "same_creator"
                  ? `${f.accounts[0]!.username} (${f.accounts[0]!.place}) and ${f.accounts[1]!.username} (${f.accounts[1]!.place}) were both created by ${f.creator} within ${view.provenanceWindowDays} days`
                  : `${f.accounts[0]!.username} (${f.accounts[0]!.place}) was created by ${f.creator}, who is ${f.accounts[1]!.place} here`}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {view.canAct ? <AuthorActions key={formKey} /> : null}

      <section aria-labelledby="cr-overview-heading" className="card">
        <h2 id="cr-overview-heading">Overview</h2>
        <dl className="properties">
          <div>
            <dt>Number</dt>
            <dd>
              <code>{cr.number}</code>
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <ChangeRequestStatusBadge status={cr.status} />
            </dd>
          </div>
          <div>
            <dt>Author</dt>
            <dd>
              {cr.authorName} <span className="muted">({cr.authorUsername})</span>
            </dd>
          </div>
          <div>
            <dt>Revision</dt>
            <dd>{cr.revision}</dd>
          </div>
          <div>
            <dt>Content hash (SHA-256)</dt>
            <dd>
              <Digest value={cr.contentHash} />
            </dd>
          </div>
          <div>
            <dt>Sites</dt>
            <dd>{view.siteCodes.join(", ")}</dd>
          </div>
          <div>
            <dt>Created (UTC)</dt>
            <dd>
              <UtcTime value={cr.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Updated (UTC)</dt>
            <dd>
              <UtcTime value={cr.updatedAt} />
            </dd>
          </div>
        </dl>
      </section>

      <ChangeRequestContentView content={cr.content} />

      <ApprovalsNeeded approvals={view.approvals} />

      <section aria-labelledby="cr-diff-heading">
        <h2 id="cr-diff-heading">What changes</h2>
        <StructuredDiff rows={view.diff} basis={view.diffBasis} />
        <h3 id="cr-text-diff-heading">Rules as text</h3>
        <p className="muted small">
          {view.diffBasis === "signed"
            ? "Unified diff of the canonical rules per site: the signed base (what this revision was written against, and its signatures bind) against the proposal."
            : "Unified diff of the canonical rules per site: the rules in force now (base) against the proposal."}
        </p>
        <TextDiff text={view.textDiff} />
        <DataTable id="cr-bases" caption="Bases" captionDetail="the rule set each site had when this revision was written, and where it was released">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Version</th>
              <th scope="col">Rules digest</th>
              <th scope="col">What it reads</th>
              <th scope="col">Released in</th>
              <th scope="col">Now</th>
            </tr>
          </thead>
          <tbody>
            {view.bases.length === 0 ? <EmptyRow colSpan={6}>No bases recorded.</EmptyRow> : null}
            {view.bases.map((b) => (
              <tr key={b.site}>
                <th scope="row">
                  <abbr title={b.siteName}>{b.site}</abbr>
                </th>
                <td>
                  {b.version === null ? <span className="muted">none (legacy)</span> : <Link to={`/rule-sets/${b.site}/${b.version}`}>v{b.version}</Link>}
                </td>
                <td>
                  <Digest value={b.rulesDigest} />
                </td>
                <td>{b.touchedDigest ? <Digest value={b.touchedDigest} /> : <span className="muted">—</span>}</td>
                <td>{b.releasedIn === null ? <span className="muted">—</span> : <Link to={`/rule-sets/${b.site}/${b.releasedIn}`}>v{b.releasedIn}</Link>}</td>
                <td>
                  {view.stale.includes(b.site) ? (
                    <span className="error-text">moved since — stale ({b.moved.join("; ")})</span>
                  ) : b.releasedIn !== null ? (
                    "released"
                  ) : open ? (
                    "unchanged"
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
        <ReleaseWaivers waivers={view.waivers} id="cr-waivers" />
      </section>

      <ImpactAnalysisSection
        number={cr.number}
        view={view.analysis}
        canRun={view.canAnalyse}
        runErrors={analyseErrors ? Object.values(analyseErrors).flatMap((e) => e ?? []) : undefined}
      />

      <SignatureManifestations signatures={view.signatures} />

      {signShown ? (
        <SignatureDialog
          key={formKey}
          number={cr.number}
          revision={cr.revision}
          contentHash={cr.contentHash}
          rowVersion={cr.rowVersion}
          roles={view.signRoles}
          needsUsername={view.needsUsername}
          analysis={
            view.analysis.latest
              ? {
                  sha256: view.analysis.latest.sha256,
                  createdAt: view.analysis.latest.createdAt,
                  problem: view.analysis.current ? null : view.analysis.staleReason,
                }
              : null
          }
          serverErrors={signErrors}
        />
      ) : cr.status === "in_review" ? (
        <p className="muted signing-note">
          {view.reviewerAuthor
            ? "You wrote this change request: its author never signs it."
            : "Quality and regulatory reviewers of every site of this change request sign it."}
        </p>
      ) : null}

      <Discussion />

      <AuditTable
        entity={false}
        changes
        id="cr-history"
        caption={`History of ${cr.number}`}
        captionDetail={`newest first${view.history.more ? `, latest ${HISTORY_LIMIT}` : ""}`}
        rows={view.history.rows}
        empty="No audit entries."
      />
    </>
  );
}

/** A one-button form for an intent that needs only the row version (submit, revise, rebase). */
function IntentButton({
  intent,
  label,
  rowVersion,
  secondary = false,
}: {
  intent: "submit" | "revise" | "rebase";
  label: string;
  rowVersion: number;
  secondary?: boolean;
}) {
  const navigation = useNavigation();
  const errors = useErrorsFor(intent);
  return (
    <Form method="post" className="inline-form">
      <input type="hidden" name="intent" value={intent} />
      <input type="hidden" name="rowVersion" value={rowVersion} />
      <FormError errors={errors ? Object.values(errors).flatMap((e) => e ?? []) : undefined} />
      <button type="submit" className={secondary ? "button-secondary" : undefined} disabled={navigation.state === "submitting"}>
        {label}
      </button>
    </Form>
  );
}

function AuthorActions() {
  const { cr } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(withdrawSchema, useErrorsFor("withdraw"));
  const canSubmit = can(cr.status, "submit");
  const canRevise = can(cr.status, "revise");
  const canWithdraw = can(cr.status, "withdraw");
  if (!canSubmit && !canRevise && !canWithdraw && !can(cr.status, "edit")) return null;
  return (
    <section aria-labelledby="cr-actions-heading" className="card form-card">
      <h2 id="cr-actions-heading">Your change request</h2>
      <div className="action-row">
        {canSubmit ? <IntentButton intent="submit" label="Submit for review" rowVersion={cr.rowVersion} /> : null}
        {canRevise ? <IntentButton intent="revise" label="Revise (back to draft)" rowVersion={cr.rowVersion} /> : null}
        {can(cr.status, "edit") ? (
          <Link to={`/change-requests/${cr.number}/edit`} className="button-link button-link-secondary">
            Edit{cr.status === "draft" ? "" : " (voids signatures)"}
          </Link>
        ) : null}
      </div>
      {canWithdraw ? (
        <Form method="post" onSubmit={onSubmit} noValidate className="inline-form withdraw-form" aria-label={`Withdraw ${cr.number}`}>
          <input type="hidden" name="intent" value="withdraw" />
          <input type="hidden" name="rowVersion" value={cr.rowVersion} />
          <FormError errors={[...(errors.form ?? []), ...(errors.rowVersion ?? [])]} />
          <Field label="Reason for withdrawing" name="reason" id="withdraw-reason" type="text" maxLength={500} required errors={errors.reason} />
          <button type="submit" className="button-danger" disabled={navigation.state === "submitting"}>
            Withdraw
          </button>
        </Form>
      ) : null}
    </section>
  );
}

function Discussion() {
  const { comments } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(commentSchema, useErrorsFor("comment"));
  return (
    <section aria-labelledby="cr-discussion-heading" className="card">
      <h2 id="cr-discussion-heading">Discussion</h2>
      <p className="muted small">Comments are not part of the signed content.</p>
      {comments.length === 0 ? <p className="muted">No comments yet.</p> : null}
      <ol className="comment-list">
        {comments.map((c) => (
          <li key={c.id}>
            <p className="comment-meta">
              <strong>{c.authorName}</strong> <span className="muted">({c.authorUsername})</span> · <UtcTime value={c.createdAt} />
            </p>
            <p className="comment-body">{c.body}</p>
          </li>
        ))}
      </ol>
      <Form method="post" onSubmit={onSubmit} noValidate key={comments.length}>
        <input type="hidden" name="intent" value="comment" />
        <FormError errors={errors.form} />
        <TextAreaField label="Add a comment" name="body" id="comment-body" rows={3} maxLength={5000} required errors={errors.body} />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Add comment
        </button>
      </Form>
    </section>
  );
}
