import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useOutlet, useSearchParams } from "@remix-run/react";
import { useMemo } from "react";
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
import { StatusMessage } from "~/components/form-fields";
import { Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { ReportedScans } from "~/components/reported-scans";
import { ReviewPanel } from "~/components/review-panel";
import { ReviewButton, SignatureDialog } from "~/components/signature-dialog";
import { UtcTime } from "~/components/time";
import { isOpen, transition, UNDECIDED_STATUSES, type ChangeRequestEvent } from "~/domain/change-request-lifecycle";
import { changeRequestActionSchema, submitSchema, withdrawSchema } from "~/schemas/change-request-actions";
import { changeRequestDetail, changeRequestHead } from "~/queries/change-requests.server";
import { impactAnalysisView } from "~/queries/impact-analysis.server";
import { findingsToAcknowledge } from "~/domain/impact-analysis/acknowledgements";
import { changeRequestLiveAt } from "~/queries/releases.server";
import { reportedScansOf } from "~/queries/runtime-clients.server";
import { signatureNeedsUsername } from "~/queries/signing-session.server";
import { rebaseChangeRequest, reviseChangeRequest, signChangeRequest, submitChangeRequest, withdrawChangeRequest } from "~/services/change-requests.server";
import { runImpactAnalysis } from "~/services/impact-analysis.server";
import { addComment, replyToThread, setThreadResolution } from "~/services/change-request-comments.server";
import { changesRequested } from "~/queries/change-request-comments.server";
import { reviewDueDefault } from "~/queries/change-request-context.server";
import { todayIn } from "~/domain/review-due";
import { AnchorCell, AnchorThreadsRow, DiscussionProvider, DiscussionSection, discussionTarget } from "~/components/comment-threads";
import { ChangesRequestedNotice } from "~/components/changes-requested-notice";
import { FIELD_LABELS } from "~/components/change-request-diff";
import { anchorKey, anchorLabel, diffRowAnchor, findingAnchors, openBlocking, threadsOf } from "~/domain/comment-threads";
import { mayMarkBlocking, mayResolveThread } from "../../policies/change-request-comments";
import { requirePermission, requireUser } from "~/services/signed-in.server";
import { requireEverySite, requireRecord, signerOf } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { accountProvenanceFlags, SAME_CREATOR_WINDOW_DAYS } from "~/queries/account-provenance.server";
import { getDb } from "~/utils/db.server";
import { timeZoneOf } from "~/utils/time-zone.server";
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
  reply: "Reply added.",
  resolve: "Thread resolved.",
  reopen: "Thread reopened.",
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
  const { id, authorId, siteIds, comments, ...shown } = detail;
  const isAuthor = isAuthorOf(signedIn.user.id, { authorId });
  const analysis = await impactAnalysisView(db, shown.cr.number);
  // What stations reported at the steps that consume the analysed materials (ADR 042): beside the
  // analysis, not in it.
  const scansAt = await databaseNow(db);
  const reportedScans = analysis.latest
    ? {
        at: scansAt.toISOString(),
        rows: await reportedScansOf(db, { at: scansAt, lines: analysis.latest.report.changes.map((c) => ({ site: c.site, partNumber: c.partNumber })) }),
      }
    : null;
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
    analysis,
    reportedScans,
    /** The findings a reviewer acknowledges to approve, from the analysis the dialog signs with (ADR 029). */
    findingsToAcknowledge: signRoles.length > 0 && analysis.latest ? findingsToAcknowledge(analysis.latest.report) : [],
    /** The discussion (ADR 030): threads with whether the viewer may resolve them, and where the page shows anchors. */
    threads: threadsOf(comments).map((t) => ({ ...t, mayResolve: mayResolveThread(signedIn.user.id, t.root, { authorId }) })),
    canBlock:
      UNDECIDED_STATUSES.has(shown.cr.status) &&
      mayMarkBlocking({ id: signedIn.user.id, roles: reviewerRolesCovering(signedIn.grants, siteIds) }, { authorId }),
    shownAnchors: [
      ...shown.diff.map((row) => anchorKey(diffRowAnchor(row))),
      ...(analysis.latest ? findingAnchors(analysis.latest.report).map(anchorKey) : []),
    ],
    changesRequested: await changesRequested(db, id, shown.cr.status),
    /** The submit form's due date (ADR 031): its default and the earliest and latest days it accepts, in the reader's time zone. */
    reviewDue: isAuthor && shown.cr.status === "draft" ? await reviewDueDefault(db, id, shown.expanded, timeZoneOf(request)) : null,
    /** Today in the reader's time zone (UTC without the c981_tz cookie), to mark an overdue review. */
    today: todayIn(await databaseNow(db), timeZoneOf(request)),
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
  // Which discussion form answered (errors show at that form only).
  const target = discussionTarget(intent, (name) => {
    const v = formData.get(name);
    return typeof v === "string" ? v : "";
  });
  // Authorized before the form is read: signing needs `sign` at every site of the request, the
  // author's actions `update` there (the service adds: only the author). Commenting needs only
  // to see the request (so do replying, resolving and reopening: the service asks the policies who
  // may mark blocking or resolve); an unknown intent is refused by the parse below.
  if (intent === "sign") requireEverySite(signedIn, "sign", head.siteIds);
  else if (intent === "analyse") {
    invariantResponse(mayAnalyse(signedIn.ability, head.siteIds), "You do not have permission to analyse it at every site of this change request.", 403);
  } else if (!DISCUSSION_INTENTS.has(intent ?? "")) requireEverySite(signedIn, "update", head.siteIds);
  const form = parseForm(changeRequestActionSchema, formData);
  // Only problems go back, never the values: the password must not travel back in a response.
  if (!form.ok) return data({ intent, target, fieldErrors: form.fieldErrors, conflict: null as string | null }, { status: 400 });
  const person = signerOf(signedIn, head.siteIds);
  const number = head.number;
  try {
    switch (form.data.intent) {
      case "sign": {
        const { intent: _intent, ...signature } = form.data;
        const result = await signChangeRequest(db, person, number, signature);
        if (!result.ok) {
          // 423 Locked: too many failed attempts; signing is refused for a while.
          return data({ intent, target, fieldErrors: result.fields as FieldErrors, conflict: null as string | null }, { status: result.locked ? 423 : 400 });
        }
        break;
      }
      case "comment": {
        const { intent: _intent, ...comment } = form.data;
        await addComment(db, person, number, comment);
        break;
      }
      case "reply":
        await replyToThread(db, person, number, form.data);
        break;
      case "resolve":
      case "reopen":
        await setThreadResolution(db, person, number, form.data.threadId, form.data.intent);
        break;
      case "analyse":
        if (!ANALYSABLE.has(head.status)) throw new DomainError("conflict", `${number} is decided: its impact analyses stay as they were signed with.`);
        await runImpactAnalysis(db, { username: person.username }, number);
        break;
      case "submit":
        await submitChangeRequest(db, person, number, form.data.rowVersion, { reviewDueOn: form.data.reviewDueOn, timeZone: timeZoneOf(request) });
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
    return actionError(error, (fieldErrors, conflict) => ({ intent, target, fieldErrors, conflict }), { pageNotFound: true, conflictApart: true });
  }
  // Post/Redirect/Get: a reload does not repeat the action. A discussion form returns to its thread or anchor.
  const back = form.data.intent === "reply" || form.data.intent === "resolve" || form.data.intent === "reopen" ? `#comment-thread-${form.data.threadId}` : "";
  throw redirect(`/change-requests/${number}?done=${form.data.intent}${back}`);
}

const DISCUSSION_INTENTS: ReadonlySet<string> = new Set(["comment", "reply", "resolve", "reopen"]);

function useErrorsFor(intent: Intent, target?: string): FieldErrors | undefined {
  const actionData = useActionData<typeof action>();
  // One object per answer: the signature dialog reopens (and moves focus) once per refused attempt.
  return useMemo(() => {
    if (!actionData || actionData.intent !== intent) return undefined;
    if (target !== undefined && actionData.target !== target) return undefined;
    // A 409 is also said at the form that met it: the top of the page may be far away. When it names
    // a field (the signature's analysis hash), the form shows it there, once.
    if (actionData.conflict && Object.keys(actionData.fieldErrors).length > 0) return actionData.fieldErrors;
    if (actionData.conflict) return { ...actionData.fieldErrors, form: [`${actionData.conflict} Reload the page (link at the top) and try again.`] };
    return actionData.fieldErrors;
  }, [actionData, intent, target]);
}

const fieldLabel = (field: string) => FIELD_LABELS[field] ?? field;

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
    "reply",
    "resolve",
    "reopen",
    ...authorForms,
    ...(view.canAnalyse ? (["analyse"] as const) : []),
    ...(signShown ? (["sign"] as const) : []),
  ];
  // Errors of a form that is no longer on the page (the request moved on) are shown at the top.
  // A discussion form is on the page when its anchor or thread is (a forged or outdated one is not).
  const discussionForms = new Set([
    "new:request",
    ...view.shownAnchors.map((key) => `new:${key}`),
    ...view.threads.flatMap((t) => ["reply", "resolve", "reopen"].map((i) => `${i}:${t.root.id}`)),
  ]);
  const orphan =
    actionData &&
    !actionData.conflict &&
    (!shownForms.includes(actionData.intent as Intent) || (DISCUSSION_INTENTS.has(actionData.intent ?? "") && !discussionForms.has(actionData.target ?? "")))
      ? Object.values(actionData.fieldErrors).flatMap((e) => e ?? [])
      : undefined;
  const open = isOpen(cr.status);
  const discussionErrors = useErrorsFor((actionData && DISCUSSION_INTENTS.has(actionData.intent ?? "") ? actionData.intent : "comment") as Intent);
  const discussion = {
    number: cr.number,
    threads: view.threads,
    canBlock: view.canBlock,
    shownAnchors: new Set(view.shownAnchors),
    fieldLabel,
    errorsFor: (target: string) => (actionData?.target === target ? discussionErrors : undefined),
  };
  return (
    <DiscussionProvider value={discussion}>
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

      <ReviewPanel
        number={cr.number}
        status={cr.status}
        staleSites={view.stale}
        sites={view.liveAt.map((l) => ({ site: l.site, released: l.state !== "pending" }))}
        approvals={view.approvals}
        threads={view.threads}
        reviewDueOn={cr.reviewDueOn}
        today={view.today}
        action={signShown ? <ReviewButton number={cr.number} /> : view.canAct ? <AuthorActions key={formKey} /> : null}
        note={
          signShown && !view.analysis.current
            ? "Run a current impact analysis before you sign."
            : cr.status === "in_review" && !signShown && !view.canAct
              ? view.reviewerAuthor
                ? "You wrote it: its author never signs it."
                : "Quality and regulatory reviewers of every site sign it."
              : null
        }
      />

      <ChangesRequestedNotice notice={view.changesRequested} threads={view.threads} fieldLabel={fieldLabel} />

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
          {view.canAct && can(cr.status, "rebase") ? <p>Rebase it from the review panel at the top.</p> : null}
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
            <dt>Created</dt>
            <dd>
              <UtcTime value={cr.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Updated</dt>
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
        <StructuredDiff
          rows={view.diff}
          basis={view.diffBasis}
          discussion={{
            cell: (row) => <AnchorCell anchor={diffRowAnchor(row)} />,
            after: (row, colSpan) => <AnchorThreadsRow anchor={diffRowAnchor(row)} colSpan={colSpan} />,
          }}
        />
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

      {view.reportedScans ? <ReportedScans view={view.reportedScans} /> : null}

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
                  replaySha256: view.analysis.latest.replay?.sha256 ?? null,
                  createdAt: view.analysis.latest.createdAt,
                  problem: view.analysis.current ? null : view.analysis.staleReason,
                }
              : null
          }
          findings={view.findingsToAcknowledge}
          blocking={openBlocking(view.threads).map((t) => ({ id: t.root.id, label: anchorLabel(t.root.anchor, fieldLabel) }))}
          deviations={cr.content.deviations ?? []}
          serverErrors={signErrors}
        />
      ) : cr.status === "in_review" ? (
        <p className="muted signing-note">
          {view.reviewerAuthor
            ? "You wrote this change request: its author never signs it."
            : "Quality and regulatory reviewers of every site of this change request sign it."}
        </p>
      ) : null}

      <DiscussionSection />

      {view.canAct && can(cr.status, "withdraw") ? <WithdrawDisclosure key={formKey} /> : null}

      <AuditTable
        entity={false}
        changes
        id="cr-history"
        caption={`History of ${cr.number}`}
        captionDetail={`newest first${view.history.more ? `, latest ${HISTORY_LIMIT}` : ""}`}
        rows={view.history.rows}
        empty="No audit entries."
      />
    </DiscussionProvider>
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

/** Submit for review with the date the review should be done by (ADR 031), defaulted by what the request needs. */
function SubmitForm({ secondary }: { secondary: boolean }) {
  const { cr, reviewDue } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const serverErrors = useErrorsFor("submit");
  const { onSubmit, errors } = useSchemaForm(submitSchema, serverErrors);
  return (
    <Form method="post" onSubmit={onSubmit} noValidate className="inline-form submit-form" aria-label={`Submit ${cr.number} for review`}>
      <input type="hidden" name="intent" value="submit" />
      <input type="hidden" name="rowVersion" value={cr.rowVersion} />
      <FormError errors={[...(errors.form ?? []), ...(errors.rowVersion ?? [])]} />
      <Field
        label="Review due on"
        name="reviewDueOn"
        type="date"
        defaultValue={reviewDue?.defaultDueOn}
        min={reviewDue?.today}
        max={reviewDue?.latestDueOn}
        required
        hint={reviewDue ? `${reviewDue.urgent ? "2 working days: it needs a regulatory reviewer" : "5 working days"} by default` : undefined}
        errors={errors.reviewDueOn}
      />
      <button type="submit" className={secondary ? "button-secondary" : undefined} disabled={navigation.state === "submitting"}>
        Submit for review
      </button>
    </Form>
  );
}

/**
 * The author's next step, in the review panel: Rebase when a base moved, else Submit or Revise;
 * Edit beside it. Withdrawing is kept apart, lower on the page (WithdrawDisclosure).
 */
function AuthorActions() {
  const { cr, stale } = useLoaderData<typeof loader>();
  const rebase = stale.length > 0 && can(cr.status, "rebase") && isOpen(cr.status);
  const canSubmit = can(cr.status, "submit");
  const canRevise = can(cr.status, "revise");
  const canEdit = can(cr.status, "edit");
  if (!rebase && !canSubmit && !canRevise && !canEdit) return null;
  return (
    <div className="action-row panel-author-actions">
      {rebase ? <IntentButton intent="rebase" label={`Rebase ${cr.number}`} rowVersion={cr.rowVersion} /> : null}
      {canSubmit ? <SubmitForm secondary={rebase} /> : null}
      {canRevise ? <IntentButton intent="revise" label="Revise (back to draft)" rowVersion={cr.rowVersion} secondary={rebase} /> : null}
      {canEdit ? (
        <Link to={`/change-requests/${cr.number}/edit`} className="button-link button-link-secondary">
          Edit{cr.status === "draft" ? "" : " (voids signatures)"}
        </Link>
      ) : null}
    </div>
  );
}

/** Withdrawing ends the request for good: a disclosure of its own, far from the primary action. */
function WithdrawDisclosure() {
  const { cr } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const serverErrors = useErrorsFor("withdraw");
  const { onSubmit, errors } = useSchemaForm(withdrawSchema, serverErrors);
  return (
    <details className="card withdraw-disclosure" open={serverErrors !== undefined}>
      <summary>Withdraw this change request</summary>
      <p className="muted small">Withdrawing ends {cr.number} for good: it cannot be reopened. Say why.</p>
      <Form method="post" onSubmit={onSubmit} noValidate className="inline-form withdraw-form" aria-label={`Withdraw ${cr.number}`}>
        <input type="hidden" name="intent" value="withdraw" />
        <input type="hidden" name="rowVersion" value={cr.rowVersion} />
        <FormError errors={[...(errors.form ?? []), ...(errors.rowVersion ?? [])]} />
        <Field label="Reason for withdrawing" name="reason" id="withdraw-reason" type="text" maxLength={500} required errors={errors.reason} />
        <button type="submit" className="button-danger" disabled={navigation.state === "submitting"}>
          Withdraw {cr.number}
        </button>
      </Form>
    </details>
  );
}
