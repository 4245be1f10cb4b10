import type { ReactNode } from "react";
import { isOverdue } from "~/domain/review-due";
import { Badge } from "./badge";
import { openBlocking, threadElementId, type Thread } from "~/domain/comment-threads";
import type { ChangeRequestStatus } from "~/domain/change-request-lifecycle";
import { lifecycleSteps, type LifecycleStep, type StepState } from "~/domain/change-request-steps";
import type { ApprovalView } from "./change-request-signatures";
import { reviewerRoleLabel } from "./change-request-status";

const STATE_WORDS: Record<StepState, string> = {
  done: "done",
  current: "current step",
  returned: "returned to the author",
  partial: "partly done",
  upcoming: "not yet",
  skipped: "not reached",
};

const STATE_MARKS: Record<StepState, string> = { done: "✓", current: "●", returned: "↩", partial: "◐", upcoming: "○", skipped: "–" };

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Draft → in review → approved → released, with the request's place, returns, staleness and end. */
export function LifecycleStepper({
  status,
  staleSites,
  sites,
}: {
  status: ChangeRequestStatus;
  staleSites: readonly string[];
  sites: readonly { site: string; released: boolean }[];
}) {
  const view = lifecycleSteps(status, { staleSites, sites });
  return (
    <ol className="stepper" aria-label="Lifecycle">
      {view.steps.map((step) => (
        <Step key={step.id} step={step} current={view.currentStep === step.id} stale={view.stale !== null && view.currentStep === step.id} />
      ))}
      {view.terminal ? (
        <li className={`step step-terminal step-${view.terminal.status}`} aria-current="step">
          <span className="step-mark" aria-hidden="true">
            ✕
          </span>
          <span className="step-label">{view.terminal.label}</span>
          <span className="visually-hidden"> (ended)</span>
        </li>
      ) : null}
    </ol>
  );
}

function Step({ step, current, stale }: { step: LifecycleStep; current: boolean; stale: boolean }) {
  return (
    <li className={`step step-${step.state}${stale ? " step-stale" : ""}`} aria-current={current ? "step" : undefined}>
      <span className="step-mark" aria-hidden="true">
        {stale ? "!" : STATE_MARKS[step.state]}
      </span>
      <span className="step-label">{step.label}</span>
      <span className="visually-hidden"> ({STATE_WORDS[step.state]})</span>
      {step.note ? <span className="step-note">{step.note}</span> : null}
    </li>
  );
}

/** "Quality reviewer: given by Quinn Quality · Regulatory reviewer: needed" — the long form is further down. */
export function ApprovalsSummary({ approvals }: { approvals: readonly ApprovalView[] }) {
  if (approvals.length === 0) return <p className="panel-approvals muted">No approvals needed.</p>;
  return (
    <p className="panel-approvals">
      {approvals.map((a, i) => (
        <span key={a.role} className={a.givenBy.length ? "approval-given" : "approval-pending"}>
          {i > 0 ? <span aria-hidden="true"> · </span> : null}
          <strong>{capitalized(reviewerRoleLabel(a.role))}:</strong> {a.givenBy.length ? `given by ${a.givenBy.join(", ")}` : "needed"}
        </span>
      ))}{" "}
      <a href="#cr-approvals-heading" className="small">
        why
      </a>
    </p>
  );
}

/** "Review due 2026-12-14", marked overdue after that day (`today`: the reader's date, in their time zone). */
export function ReviewDue({ dueOn, today }: { dueOn: string; today?: string }) {
  const overdue = today !== undefined && isOverdue(dueOn, today);
  return (
    <p className={overdue ? "panel-due due-overdue" : "panel-due"}>
      <strong>Review due:</strong> <time dateTime={dueOn}>{dueOn}</time>
      {overdue ? (
        <>
          {" "}
          <Badge tone="bad">overdue</Badge>
        </>
      ) : null}
    </p>
  );
}

/** "1 blocking comment open", linked to the (first) thread: while there is one, an approval is refused (ADR 030). */
export function BlockingSummary({ threads }: { threads: readonly Thread[] }) {
  const blocking = openBlocking(threads);
  if (blocking.length === 0) return null;
  return (
    <p className="panel-blocking">
      <a href={`#${threadElementId(blocking[0]!.root.id)}`}>
        {blocking.length === 1 ? "1 blocking comment open" : `${blocking.length} blocking comments open`}
      </a>{" "}
      <span className="small">— holds back approval until resolved</span>
    </p>
  );
}

/**
 * The review panel at the top of a change request, sticky while the page scrolls: where it stands
 * (stepper), which approvals it needs and has, and the one thing the reader does next (Review for
 * a reviewer who may sign; Submit, Revise or Rebase for its author).
 */
export function ReviewPanel({
  number,
  status,
  staleSites,
  sites,
  approvals,
  threads,
  reviewDueOn = null,
  today,
  action,
  note,
}: {
  number: string;
  status: ChangeRequestStatus;
  staleSites: readonly string[];
  sites: readonly { site: string; released: boolean }[];
  approvals: readonly ApprovalView[];
  /** The discussion's threads: open blocking ones hold back approval, and the panel says so. */
  threads: readonly Thread[];
  /** The date the review should be done by (ADR 031; workflow metadata, not signed) and today (in the reader's time zone), to mark it overdue. */
  reviewDueOn?: string | null;
  today?: string;
  /** The reader's primary action, if any. */
  action: ReactNode;
  /** One line under the action: why there is none, or what it needs first. */
  note?: ReactNode;
}) {
  return (
    <section className="review-panel" aria-label={`Review of ${number}`}>
      <LifecycleStepper status={status} staleSites={staleSites} sites={sites} />
      <div className="panel-middle">
        <ApprovalsSummary approvals={approvals} />
        {status === "in_review" && reviewDueOn ? <ReviewDue dueOn={reviewDueOn} today={today} /> : null}
        {status === "in_review" ? <BlockingSummary threads={threads} /> : null}
      </div>
      <div className="panel-action">
        {action}
        {note ? <p className="panel-note small muted">{note}</p> : null}
      </div>
    </section>
  );
}
