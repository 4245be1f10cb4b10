import { describe, expect, it } from "vitest";
import { CHANGE_REQUEST_STATUSES, type ChangeRequestStatus } from "./change-request-lifecycle";
import { lifecycleSteps, type StepState } from "./change-request-steps";

/** The four steps' states per status, written out by hand (draft, in review, approved, released). */
const EXPECTED: Record<ChangeRequestStatus, { states: [StepState, StepState, StepState, StepState]; current: string | null; terminal: string | null }> = {
  draft: { states: ["current", "upcoming", "upcoming", "upcoming"], current: "draft", terminal: null },
  in_review: { states: ["done", "current", "upcoming", "upcoming"], current: "in_review", terminal: null },
  changes_requested: { states: ["done", "returned", "upcoming", "upcoming"], current: "in_review", terminal: null },
  approved: { states: ["done", "done", "current", "upcoming"], current: "approved", terminal: null },
  partly_released: { states: ["done", "done", "done", "partial"], current: "released", terminal: null },
  released: { states: ["done", "done", "done", "done"], current: "released", terminal: null },
  rejected: { states: ["done", "done", "skipped", "skipped"], current: null, terminal: "Rejected" },
  withdrawn: { states: ["done", "skipped", "skipped", "skipped"], current: null, terminal: "Withdrawn" },
};

describe("lifecycleSteps", () => {
  it.each(CHANGE_REQUEST_STATUSES)("%s: the four steps, the current one and the end", (status) => {
    const view = lifecycleSteps(status);
    expect(view.steps.map((s) => s.id)).toEqual(["draft", "in_review", "approved", "released"]);
    expect(view.steps.map((s) => s.state)).toEqual(EXPECTED[status].states);
    expect(view.currentStep).toBe(EXPECTED[status].current);
    expect(view.terminal?.label ?? null).toBe(EXPECTED[status].terminal);
    expect(view.stale).toBeNull();
  });

  it("changes requested is shown as a return to the author on the review step", () => {
    expect(lifecycleSteps("changes_requested").steps[1]!.note).toBe("changes requested: back to the author");
  });

  it("partly released names the sites released and those pending", () => {
    const view = lifecycleSteps("partly_released", {
      sites: [
        { site: "EIN", released: true },
        { site: "CLT", released: false },
      ],
    });
    expect(view.steps[3]!.note).toBe("at EIN; pending at CLT");
  });

  it("stale is shown on the current step while a rebase applies, and not on a decided request", () => {
    const inReview = lifecycleSteps("in_review", { staleSites: ["EIN"] });
    expect(inReview.steps[1]!.note).toBe("awaiting signatures; stale at EIN: needs a rebase");
    expect(inReview.stale?.sites).toEqual(["EIN"]);
    expect(lifecycleSteps("approved", { staleSites: ["CLT"] }).stale?.note).toMatch(/back to review/);
    // Partly released: a rebase no longer applies (the lifecycle has no rebase from it).
    expect(lifecycleSteps("partly_released", { staleSites: ["EIN"] }).stale).toBeNull();
    expect(lifecycleSteps("rejected", { staleSites: ["EIN"] }).stale).toBeNull();
  });
});
