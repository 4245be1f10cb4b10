/**
 * Who is told of a change request's events (ADR 032). Pure, like ability.ts: the services pass
 * the candidates' grants. Permissions decide, site scope included: a quality reviewer scoped to
 * CLT is not asked to review a request that touches EIN only.
 */
import type { ReviewerRole } from "../app/domain/roles";
import { defineAbilityFor, record, type Grant } from "./ability";
import { reviewerRolesCovering } from "./review-and-release";

export interface Candidate {
  userId: number;
  grants: readonly Grant[];
}

/**
 * The users asked to review: everyone but the author who holds, at every site of the request, a
 * reviewer role the request needs (the roles a signature would count in, policies/approval.ts).
 */
export function reviewRequestRecipients(
  candidates: readonly Candidate[],
  request: { authorId: number; siteIds: readonly number[]; requiredRoles: readonly ReviewerRole[] },
): number[] {
  return candidates
    .filter((c) => c.userId !== request.authorId)
    .filter((c) => reviewerRolesCovering(c.grants, request.siteIds).some((role) => request.requiredRoles.includes(role)))
    .map((c) => c.userId)
    .sort((a, b) => a - b);
}

/**
 * Whether these grants let a user open a change request at these sites — the link every change
 * request notification carries (the detail page's rule: one of its sites is the reader's). A
 * recipient whose grants were revoked since they wrote or signed it is not told: a notification
 * would show the title of a request the link answers as not found.
 */
export function mayOpenChangeRequest(grants: readonly Grant[], siteIds: readonly number[]): boolean {
  return defineAbilityFor(grants).can("read", record("ChangeRequest", { siteIds: [...siteIds] }));
}
