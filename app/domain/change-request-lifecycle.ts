/**
 * The change-request lifecycle as a transition table (21 CFR 11.10(f): permitted sequencing of
 * steps). Pure: services look up a transition here, then guard it in SQL
 * (`UPDATE … WHERE status = <from>`), so a lost race changes nothing and answers 409.
 *
 *   draft ──submit──▶ in_review ──approve (all required roles signed)──▶ approved
 *     ▲                 │  ▲                                              │
 *     └──revise── changes_requested ◀──request_changes                    ├─release_site──▶ partly_released ─▶ released
 *                       │  └───── edit / rebase (signatures voided) ◀─────┘
 *                       └──reject──▶ rejected            withdraw (before release) ──▶ withdrawn
 */

export const CHANGE_REQUEST_STATUSES = ["draft", "in_review", "changes_requested", "approved", "partly_released", "released", "rejected", "withdrawn"] as const;
export type ChangeRequestStatus = (typeof CHANGE_REQUEST_STATUSES)[number];

export const CHANGE_REQUEST_EVENTS = ["edit", "submit", "approve", "reject", "request_changes", "revise", "rebase", "withdraw", "release_site"] as const;
export type ChangeRequestEvent = (typeof CHANGE_REQUEST_EVENTS)[number];

/** Facts a transition's target may depend on. */
export interface TransitionContext {
  /** After this approval, has every required role signed? */
  allRequiredApprovalsGiven?: boolean;
  /** After this site's release, is every site of the change request released? */
  allSitesReleased?: boolean;
}

type Target = ChangeRequestStatus | ((ctx: TransitionContext) => ChangeRequestStatus);

export const TRANSITIONS: Record<ChangeRequestEvent, Partial<Record<ChangeRequestStatus, Target>>> = {
  // Editing signed content sends an approved request back to review; its signatures are voided.
  edit: { draft: "draft", in_review: "in_review", approved: "in_review" },
  submit: { draft: "in_review" },
  approve: { in_review: (ctx) => (ctx.allRequiredApprovalsGiven ? "approved" : "in_review") },
  reject: { in_review: "rejected" },
  request_changes: { in_review: "changes_requested" },
  revise: { changes_requested: "draft" },
  // Another release moved a base this request stands on: recompute, void signatures, review again.
  rebase: { draft: "draft", in_review: "in_review", approved: "in_review", changes_requested: "changes_requested" },
  withdraw: { draft: "withdrawn", in_review: "withdrawn", changes_requested: "withdrawn", approved: "withdrawn" },
  release_site: {
    approved: (ctx) => (ctx.allSitesReleased ? "released" : "partly_released"),
    partly_released: (ctx) => (ctx.allSitesReleased ? "released" : "partly_released"),
  },
};

export type TransitionResult = { ok: true; from: ChangeRequestStatus; to: ChangeRequestStatus } | { ok: false; message: string };

export function transition(from: ChangeRequestStatus, event: ChangeRequestEvent, ctx: TransitionContext = {}): TransitionResult {
  const target = TRANSITIONS[event][from];
  if (target === undefined) {
    const allowed = Object.keys(TRANSITIONS[event]).map((s) => s.replace("_", " "));
    return {
      ok: false,
      message: `cannot ${event.replace("_", " ")} a change request that is ${from.replace("_", " ")} (only when ${allowed.join(", ")})`,
    };
  }
  return { ok: true, from, to: typeof target === "function" ? target(ctx) : target };
}

/** Statuses in which a change request still competes for its materials and sites. */
export const OPEN_STATUSES: readonly ChangeRequestStatus[] = ["draft", "in_review", "changes_requested", "approved", "partly_released"];
export const isOpen = (status: ChangeRequestStatus) => OPEN_STATUSES.includes(status);
/** Statuses before any decision: the approvals needed follow the rules in force, and an impact analysis may still be run. */
export const UNDECIDED_STATUSES: ReadonlySet<ChangeRequestStatus> = new Set(["draft", "in_review", "changes_requested"]);
/** Statuses whose content the author may still edit. */
export const isEditable = (status: ChangeRequestStatus) => TRANSITIONS.edit[status] !== undefined;

/** What a reviewer's signature means (21 CFR 11.50(a)(3)): the values, and the words the signer sees and the record prints. */
export const SIGNATURE_MEANING_VALUES = ["approved", "rejected", "changes_requested"] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANING_VALUES)[number];
export const SIGNATURE_MEANINGS: Readonly<Record<SignatureMeaning, string>> = {
  approved: "Approved: I have reviewed this change request and its impact and approve it",
  rejected: "Rejected: this change request must not be implemented",
  changes_requested: "Changes requested: this change request must be revised before approval",
};
