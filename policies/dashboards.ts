/**
 * Which sections the dashboard shows (issue 24, ADR 031): one per kind of work the grants give,
 * the reader's own work first — what they wrote (engineer), then what waits for their signature
 * (reviewer), their releases (release manager), and the plant's security (administrator). Pure,
 * like ability.ts: decided from the grants and the permission table, never in a route.
 */
import { defineAbilityFor, PERMISSIONS, type Grant } from "./ability";
import { holdsReviewerRole, releaseSiteIds } from "./review-and-release";

export const DASHBOARD_SECTIONS = ["engineer", "reviewer", "release_manager", "admin"] as const;
export type DashboardSection = (typeof DASHBOARD_SECTIONS)[number];

/**
 * The sections for these grants, in DASHBOARD_SECTIONS order. By role held, not by what the
 * password state allows right now (ADR 020): an engineer whose password must change still sees
 * their drafts; the forms refuse what they may not do yet.
 */
export function dashboardSections(grants: readonly Grant[]): DashboardSection[] {
  const ability = defineAbilityFor(grants);
  const held: Record<DashboardSection, boolean> = {
    engineer: grants.some((g) => PERMISSIONS[g.role].some((p) => p.action === "create" && p.subject === "ChangeRequest")),
    reviewer: holdsReviewerRole(grants),
    release_manager: releaseSiteIds(grants)?.length !== 0,
    admin: ability.can("update", "User"),
  };
  return DASHBOARD_SECTIONS.filter((section) => held[section]);
}

/** Who is alarmed by an expired deviation from required traceability (ADR 036): those who review and release tracking changes. */
export const DEVIATION_ALARM_ROLES = ["quality_reviewer", "regulatory_reviewer", "release_manager"] as const;

/** The sites whose expired deviations the dashboard shows (null: all sites; empty: no alarm section). */
export function deviationAlarmSiteIds(grants: readonly Grant[]): number[] | null {
  const held = grants.filter((g) => (DEVIATION_ALARM_ROLES as readonly string[]).includes(g.role));
  if (held.some((g) => g.siteId === null)) return null;
  return [...new Set(held.map((g) => g.siteId!))].sort((a, b) => a - b);
}
