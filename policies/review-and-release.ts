/**
 * Who may review and who may release where, as the screens ask it: the reviewer roles a person
 * holds at every site of a change request, and the sites they may release at. Pure, like
 * ability.ts; the queries and routes pass the signed-in person's grants.
 */
import { defineAbilityFor, PERMISSIONS, record, rolesHeldAtEverySite, type Grant } from "./ability";
import { REVIEWER_ROLES, type ReviewerRole } from "../app/domain/roles";

export { REVIEWER_ROLES };

/** Whether the grants include a reviewer role at some site. */
export function holdsReviewerRole(grants: readonly Grant[]): boolean {
  return grants.some((g) => (REVIEWER_ROLES as readonly string[]).includes(g.role));
}

/** The reviewer roles a viewer holds at every one of `siteIds` (a role at all sites always does). */
export function reviewerRolesCovering(grants: readonly Grant[], siteIds: readonly number[]): ReviewerRole[] {
  const held = rolesHeldAtEverySite(grants, siteIds);
  return REVIEWER_ROLES.filter((role) => held.includes(role));
}

/** Whether the grants allow releasing at this site (ability.ts: release ChangeRequest). */
export function mayReleaseAt(grants: readonly Grant[], siteId: number): boolean {
  return defineAbilityFor(grants).can("release", record("ChangeRequest", { siteIds: [siteId] }));
}

/** The sites the grants allow releasing at: null for all, else their ids (empty: none). */
export function releaseSiteIds(grants: readonly Grant[]): number[] | null {
  const held = grants.filter((g) => PERMISSIONS[g.role].some((p) => p.action === "release"));
  if (held.some((g) => g.siteId === null)) return null;
  return [...new Set(held.map((g) => g.siteId!))].sort((a, b) => a - b);
}

/** Whether the signer's roles (those valid at the release's site) include release manager. */
export function holdsReleaseManagerRole(roles: readonly string[]): boolean {
  return roles.includes("release_manager");
}

/**
 * Why this person may not release this change request, or null (21 CFR 11.10(g), separation of
 * duties with no exemption): the author never releases it, nor does anyone who signed it as a reviewer.
 */
export function releaserConflict(releaserId: number, request: { authorId: number; signerIds: readonly number[] }): "author" | "reviewer" | null {
  if (request.authorId === releaserId) return "author";
  if (request.signerIds.includes(releaserId)) return "reviewer";
  return null;
}
