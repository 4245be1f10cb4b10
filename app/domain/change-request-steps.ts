/**
 * The review panel's stepper: where a change request stands on its way draft → in review →
 * approved → released, derived from the lifecycle's status (change-request-lifecycle.ts) and two
 * facts the status alone does not carry: which sites it is stale at, and where it is released.
 * Pure: the page computes it from its loader's data, and the unit test pins every status.
 */
import { isOpen, transition, type ChangeRequestStatus } from "./change-request-lifecycle";

export const STEP_IDS = ["draft", "in_review", "approved", "released"] as const;
export type StepId = (typeof STEP_IDS)[number];

/**
 * done: passed; current: where it stands (at most one step); returned: review sent it back to its
 * author (changes requested); partial: released at some sites only; upcoming: not reached yet;
 * skipped: never reached, the request ended before it (rejected, withdrawn).
 */
export type StepState = "done" | "current" | "returned" | "partial" | "upcoming" | "skipped";

export interface LifecycleStep {
  id: StepId;
  label: string;
  state: StepState;
  /** A line under the step: who has it now, where it is released, what blocks it. */
  note: string | null;
}

export interface LifecycleSteps {
  steps: LifecycleStep[];
  /** The step the request stands on (aria-current); null once it ended without release. */
  currentStep: StepId | null;
  /** Rejected or withdrawn: the end, shown after the steps it reached. */
  terminal: { status: "rejected" | "withdrawn"; label: string } | null;
  /** Sites whose rules moved since it was written: it needs a rebase before review goes on. */
  stale: { sites: readonly string[]; note: string } | null;
}

export interface StepFacts {
  /** Sites it is stale at (a base moved); only open requests can be stale. */
  staleSites?: readonly string[];
  /** Per site of the request, whether it is released there (live or scheduled). */
  sites?: readonly { site: string; released: boolean }[];
}

const LABELS: Record<StepId, string> = { draft: "Draft", in_review: "In review", approved: "Approved", released: "Released" };

/** How far along the four steps each status has come (index of its step), and what that step shows. */
const POSITION: Record<ChangeRequestStatus, { at: number; state: StepState }> = {
  draft: { at: 0, state: "current" },
  in_review: { at: 1, state: "current" },
  changes_requested: { at: 1, state: "returned" },
  approved: { at: 2, state: "current" },
  partly_released: { at: 3, state: "partial" },
  released: { at: 3, state: "done" },
  // A rejection is a review's outcome: it reached review. A withdrawal may come at any step before
  // release; the status does not say which, so only the draft is known to have been.
  rejected: { at: 1, state: "done" },
  withdrawn: { at: 0, state: "done" },
};

export function lifecycleSteps(status: ChangeRequestStatus, facts: StepFacts = {}): LifecycleSteps {
  const { at, state } = POSITION[status];
  const ended = status === "rejected" || status === "withdrawn";
  const released = (facts.sites ?? []).filter((s) => s.released).map((s) => s.site);
  const pending = (facts.sites ?? []).filter((s) => !s.released).map((s) => s.site);
  const staleSites = isOpen(status) ? [...(facts.staleSites ?? [])] : [];
  // Stale blocks the way forward only where a rebase applies (not once partly released).
  const stale = staleSites.length > 0 && transition(status, "rebase").ok ? staleSites : [];

  const steps = STEP_IDS.map((id, i): LifecycleStep => {
    const stepState: StepState = i < at ? "done" : i === at ? state : ended ? "skipped" : "upcoming";
    return { id, label: LABELS[id], state: stepState, note: noteFor(id, stepState, status, released, pending) };
  });
  if (stale.length > 0) {
    const current = steps[at]!;
    const rebaseNote = `stale at ${stale.join(", ")}: needs a rebase`;
    current.note = current.note ? `${current.note}; ${rebaseNote}` : rebaseNote;
  }
  return {
    steps,
    currentStep: ended ? null : STEP_IDS[at]!,
    terminal: ended ? { status, label: status === "rejected" ? "Rejected" : "Withdrawn" } : null,
    stale:
      stale.length > 0
        ? {
            sites: stale,
            note:
              status === "approved"
                ? `The rules at ${stale.join(", ")} moved since it was written: a rebase sends it back to review (its signatures are voided).`
                : `The rules at ${stale.join(", ")} moved since it was written: it must be rebased before review goes on.`,
          }
        : null,
  };
}

function noteFor(id: StepId, state: StepState, status: ChangeRequestStatus, released: string[], pending: string[]): string | null {
  if (state === "returned") return "changes requested: back to the author";
  if (id === "draft" && state === "current") return "with the author";
  if (id === "in_review" && state === "current") return "awaiting signatures";
  if (id === "approved" && state === "current") return "awaiting release";
  if (id === "released" && state === "partial") {
    return `at ${released.join(", ") || "some sites"}${pending.length ? `; pending at ${pending.join(", ")}` : ""}`;
  }
  if (id === "released" && state === "done" && status === "released" && released.length > 0) return `at ${released.join(", ")}`;
  return null;
}
