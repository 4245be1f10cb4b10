/**
 * The role vocabulary, defined once: the database enums (`role`, `reviewer_role` in db/schema),
 * the zod schemas, the CASL policies (policies/ability.ts) and the screens all take it from here.
 */

export const ROLES = ["viewer", "engineer", "quality_reviewer", "regulatory_reviewer", "release_manager", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  viewer: "Viewer",
  engineer: "Engineer",
  quality_reviewer: "Quality reviewer",
  regulatory_reviewer: "Regulatory reviewer",
  release_manager: "Release manager",
  admin: "Administrator",
};

/** The roles a change request's signatures are given in (policies/approval.ts says which it needs). */
export const REVIEWER_ROLES = ["quality_reviewer", "regulatory_reviewer"] as const satisfies readonly Role[];
export type ReviewerRole = (typeof REVIEWER_ROLES)[number];
