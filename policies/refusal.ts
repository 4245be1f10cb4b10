/**
 * What a refused request needed, derived from the permission table (policies/ability.ts): the
 * action and subject, the roles that grant it, whether only a grant for all sites does, and the
 * sites it was asked for. The 403 page names them ("You need the administrator role to …"), so
 * the role names come from the policy, never from a route. Pure and isomorphic.
 */
import { PERMISSIONS, ROLE_LABELS, ROLES, type Action, type Role, type SubjectType } from "./ability";

export interface Needed {
  action: Action;
  subject: SubjectType;
  /** The roles that grant the action on the subject, in the role vocabulary's order. */
  roles: Role[];
  /** Only a grant for all sites grants it (a site-scoped grant of these roles does not). */
  allSitesOnly: boolean;
  /** The sites it was asked at (codes), when the refusal is site-scoped; else empty. */
  sites: string[];
  /** What the action does, for the sentence ("sign this change request"). */
  doing: string;
}

const NOUNS: Record<SubjectType, string> = {
  Site: "sites",
  RuleSetVersion: "rule sets",
  TraceItem: "trace items",
  Material: "materials",
  AuditTrail: "the audit trail",
  User: "users, keys and runtime clients",
  ChangeRequest: "change requests",
  ExternalMaster: "ERP and PLM snapshots",
  QualityEvent: "quality events",
};

const VERBS: Record<Action, string> = {
  read: "see",
  create: "create",
  update: "change",
  deactivate: "deactivate",
  export: "export",
  sign: "sign",
  release: "release",
};

/** What an action on a subject reads as; a change request at named sites is "this change request". */
function doing(action: Action, subject: SubjectType, atSites: boolean): string {
  if (subject === "User") return action === "read" ? "administer users, keys and runtime clients" : `${VERBS[action]} users, keys and runtime clients`;
  if (subject === "TraceItem" && action === "create") return "import genealogy";
  if (subject === "ChangeRequest" && atSites) return `${action === "update" ? "edit" : VERBS[action]} this change request`;
  return `${VERBS[action]} ${NOUNS[subject]}`;
}

/** The roles whose permissions include `action` on `subject`, and whether only an all-sites grant of them does. */
export function rolesGranting(action: Action, subject: SubjectType): { roles: Role[]; allSitesOnly: boolean } {
  const granting = ROLES.flatMap((role) => PERMISSIONS[role].filter((p) => p.action === action && p.subject === subject).map((p) => ({ role, p })));
  return {
    roles: [...new Set(granting.map((g) => g.role))],
    allSitesOnly: granting.length > 0 && granting.every((g) => g.p.allSitesOnly === true),
  };
}

export function neededFor(action: Action, subject: SubjectType, sites: readonly string[] = []): Needed {
  const { roles, allSitesOnly } = rolesGranting(action, subject);
  return { action, subject, roles, allSitesOnly, sites: [...sites], doing: doing(action, subject, sites.length > 0) };
}

/** "a or b" / "a, b or c". */
function either(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

/** The sentence a 403 page shows: "You need the quality reviewer or regulatory reviewer role at EIN to sign this change request." */
export function describeNeeded(needed: Needed): string {
  if (needed.roles.length === 0) return `No role may ${needed.doing}.`;
  const roles = either(needed.roles.map((r) => ROLE_LABELS[r].toLowerCase()));
  // A change request spanning sites needs the role at each of them, not at any one.
  const sites = needed.sites.length > 1 ? `each of ${needed.sites.slice(0, -1).join(", ")} and ${needed.sites[needed.sites.length - 1]}` : needed.sites[0];
  const where = needed.allSitesOnly ? " for all sites" : sites ? ` at ${sites}` : "";
  return `You need the ${roles} role${where} to ${needed.doing}.`;
}
