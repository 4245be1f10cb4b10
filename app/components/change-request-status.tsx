import type { ChangeRequestStatus } from "~/domain/change-request-lifecycle";
import type { ReviewerRole } from "../../policies/approval";
import { ROLE_LABELS } from "../../policies/ability";
import { Badge, type BadgeTone } from "./badge";

export const STATUS_LABELS: Record<ChangeRequestStatus, string> = {
  draft: "draft",
  in_review: "in review",
  changes_requested: "changes requested",
  approved: "approved",
  partly_released: "partly released",
  released: "released",
  rejected: "rejected",
  withdrawn: "withdrawn",
};

const STATUS_TONES: Record<ChangeRequestStatus, BadgeTone> = {
  draft: "neutral",
  in_review: "info",
  changes_requested: "warn",
  approved: "good",
  partly_released: "good",
  released: "good",
  rejected: "bad",
  withdrawn: "neutral",
};

/** A change request's status as a badge (the word always says it; the colour only helps). */
export function ChangeRequestStatusBadge({ status }: { status: ChangeRequestStatus }) {
  return <Badge tone={STATUS_TONES[status]}>{STATUS_LABELS[status]}</Badge>;
}

/** "stale" (a base moved: rebase) and "conflict" (another open request on the same material and site). */
export function ChangeRequestFlags({ stale, conflict }: { stale: readonly string[]; conflict: boolean }) {
  return (
    <>
      {stale.length > 0 ? (
        <Badge tone="warn">
          stale<span className="visually-hidden">: the rules at {stale.join(", ")} changed since it was written</span>
        </Badge>
      ) : null}
      {conflict ? (
        <Badge tone="bad">
          conflict<span className="visually-hidden">: another open change request changes the same material at the same site</span>
        </Badge>
      ) : null}
    </>
  );
}

export function reviewerRoleLabel(role: ReviewerRole | string): string {
  return (ROLE_LABELS as Record<string, string>)[role]?.toLowerCase() ?? role.replace("_", " ");
}

/** The sites shown to this reader, and how many others the change request also touches. */
export function SiteCodes({ sites }: { sites: { shown: readonly string[]; hidden: number } }) {
  return (
    <>
      {sites.shown.join(", ") || <span className="muted">—</span>}
      {sites.hidden > 0 ? (
        <span className="muted">
          {" "}
          +{sites.hidden} other{sites.hidden === 1 ? "" : "s"}
        </span>
      ) : null}
    </>
  );
}
