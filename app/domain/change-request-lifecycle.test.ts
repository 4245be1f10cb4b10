import { describe, expect, it } from "vitest";
import {
  CHANGE_REQUEST_EVENTS,
  CHANGE_REQUEST_STATUSES,
  isEditable,
  isOpen,
  transition,
  type ChangeRequestEvent,
  type ChangeRequestStatus,
} from "./change-request-lifecycle";

/** Every (status, event) pair, written out: the expected target, or null when refused. */
const EXPECTED: Record<ChangeRequestStatus, Record<ChangeRequestEvent, ChangeRequestStatus | "approve?" | "release?" | null>> = {
  draft: {
    edit: "draft",
    submit: "in_review",
    approve: null,
    reject: null,
    request_changes: null,
    revise: null,
    rebase: "draft",
    withdraw: "withdrawn",
    release_site: null,
  },
  in_review: {
    edit: "in_review",
    submit: null,
    approve: "approve?",
    reject: "rejected",
    request_changes: "changes_requested",
    revise: null,
    rebase: "in_review",
    withdraw: "withdrawn",
    release_site: null,
  },
  changes_requested: {
    edit: null,
    submit: null,
    approve: null,
    reject: null,
    request_changes: null,
    revise: "draft",
    rebase: "changes_requested",
    withdraw: "withdrawn",
    release_site: null,
  },
  approved: {
    edit: "in_review",
    submit: null,
    approve: null,
    reject: null,
    request_changes: null,
    revise: null,
    rebase: "in_review",
    withdraw: "withdrawn",
    release_site: "release?",
  },
  partly_released: {
    edit: null,
    submit: null,
    approve: null,
    reject: null,
    request_changes: null,
    revise: null,
    rebase: null,
    withdraw: null,
    release_site: "release?",
  },
  released: { edit: null, submit: null, approve: null, reject: null, request_changes: null, revise: null, rebase: null, withdraw: null, release_site: null },
  rejected: { edit: null, submit: null, approve: null, reject: null, request_changes: null, revise: null, rebase: null, withdraw: null, release_site: null },
  withdrawn: { edit: null, submit: null, approve: null, reject: null, request_changes: null, revise: null, rebase: null, withdraw: null, release_site: null },
};

describe("the change-request lifecycle", () => {
  for (const status of CHANGE_REQUEST_STATUSES) {
    for (const event of CHANGE_REQUEST_EVENTS) {
      const expected = EXPECTED[status][event];
      it(`${status} --${event}--> ${expected ?? "refused"}`, () => {
        if (expected === null) {
          const result = transition(status, event);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.message).toMatch(/^cannot /);
        } else if (expected === "approve?") {
          expect(transition(status, event, { allRequiredApprovalsGiven: false })).toEqual({ ok: true, from: status, to: "in_review" });
          expect(transition(status, event, { allRequiredApprovalsGiven: true })).toEqual({ ok: true, from: status, to: "approved" });
        } else if (expected === "release?") {
          expect(transition(status, event, { allSitesReleased: false })).toEqual({ ok: true, from: status, to: "partly_released" });
          expect(transition(status, event, { allSitesReleased: true })).toEqual({ ok: true, from: status, to: "released" });
        } else {
          expect(transition(status, event)).toEqual({ ok: true, from: status, to: expected });
        }
      });
    }
  }

  it("says why a transition is refused", () => {
    expect(transition("released", "edit")).toEqual({
      ok: false,
      message: "cannot edit a change request that is released (only when draft, in review, approved)",
    });
  });

  it("knows which statuses are open and editable", () => {
    expect(CHANGE_REQUEST_STATUSES.filter(isOpen)).toEqual(["draft", "in_review", "changes_requested", "approved", "partly_released"]);
    expect(CHANGE_REQUEST_STATUSES.filter(isEditable)).toEqual(["draft", "in_review", "approved"]);
  });
});
