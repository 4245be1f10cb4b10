/**
 * Who may do what in C-981, declared once. Pure and isomorphic: the server checks it in every
 * loader and action (app/services/signed-in.server.ts), the browser rebuilds it from the same rules only
 * to show or hide. 21 CFR 11.10(d) limited access, 11.10(g) authority checks.
 */
import { AbilityBuilder, createMongoAbility, subject, type ForcedSubject, type MongoAbility, type RawRuleOf } from "@casl/ability";
import type { Role } from "../app/domain/roles";

// The role vocabulary lives in the domain (app/domain/roles.ts); re-exported for the policy's callers.
export { ROLE_LABELS, ROLES, type Role } from "../app/domain/roles";

export const ACTIONS = ["read", "create", "update", "deactivate", "export", "sign", "release"] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Site-bound subjects carry the site they belong to; a site-scoped grant reaches only those.
 * Global subjects (materials are master data shared by all sites; the audit trail and users are
 * administered centrally) are reached by site-scoped grants only where the table below says so.
 */
export const SUBJECTS = ["Site", "RuleSetVersion", "TraceItem", "Material", "AuditTrail", "User", "ChangeRequest", "ExternalMaster", "QualityEvent"] as const;
export type SubjectType = (typeof SUBJECTS)[number];
const SITE_BOUND = new Set<SubjectType>(["Site", "RuleSetVersion", "TraceItem", "ChangeRequest", "QualityEvent"]);
/**
 * The field naming the site on each site-bound subject. A change request names its sites
 * (`siteIds`): a record check passes when one of them is in scope, so a change request spanning
 * sites is checked site by site where all must be (app/utils/auth.server.ts requireEverySite).
 */
const SITE_FIELD: Partial<Record<SubjectType, string>> = {
  Site: "id",
  RuleSetVersion: "siteId",
  TraceItem: "siteId",
  ChangeRequest: "siteIds",
  QualityEvent: "siteId",
};

export type SubjectRecord = ForcedSubject<SubjectType> & Record<string, unknown>;
export type AppAbility = MongoAbility<[Action, SubjectType | SubjectRecord]>;
export type AbilityRules = RawRuleOf<AppAbility>[];

interface Permission {
  action: Action;
  subject: SubjectType;
  /** Granted only by a grant for all sites (never by a site-scoped one). */
  allSitesOnly?: boolean;
}

const read = (subject: SubjectType, allSitesOnly = false): Permission => ({ action: "read", subject, allSitesOnly });
/** ExternalMaster: the ERP/PLM snapshots and the reconciliation report (global, like materials). */
const SEE_THE_PLANT: Permission[] = [
  read("Site"),
  read("Material"),
  read("RuleSetVersion"),
  read("TraceItem"),
  read("ChangeRequest"),
  read("ExternalMaster"),
  read("QualityEvent"),
];
/**
 * Quality events (ADR 034), site-bound: anyone who works on the product raises one (create); the quality
 * reviewer contains, dispositions and closes them (update) and imports a QMS export (create).
 */
const RAISE_QUALITY_EVENT: Permission = { action: "create", subject: "QualityEvent" };
const HANDLE_QUALITY_EVENT: Permission = { action: "update", subject: "QualityEvent" };
/** Signing is approve, reject or request changes (21 CFR 11.50); the approval policy says which reviewer roles a request needs. */
const SIGN: Permission = { action: "sign", subject: "ChangeRequest" };

/** Import EPCIS genealogy into a site (site-bound: a site-scoped grant imports into its own site). */
const IMPORT_GENEALOGY: Permission = { action: "create", subject: "TraceItem" };

/** The one table of permissions. Change requests, signatures and releases add rows in later issues. */
export const PERMISSIONS: Record<Role, Permission[]> = {
  viewer: [...SEE_THE_PLANT],
  // Engineers propose; editing, submitting and withdrawing stay with the author (services check).
  // Importing genealogy (EPCIS) creates trace items at a site; it never creates materials (ADR 014).
  engineer: [
    ...SEE_THE_PLANT,
    { action: "create", subject: "ChangeRequest" },
    { action: "update", subject: "ChangeRequest" },
    IMPORT_GENEALOGY,
    RAISE_QUALITY_EVENT,
  ],
  quality_reviewer: [
    ...SEE_THE_PLANT,
    SIGN,
    read("AuditTrail", true),
    { action: "export", subject: "AuditTrail", allSitesOnly: true },
    RAISE_QUALITY_EVENT,
    HANDLE_QUALITY_EVENT,
  ],
  regulatory_reviewer: [...SEE_THE_PLANT, SIGN, read("AuditTrail", true), { action: "export", subject: "AuditTrail", allSitesOnly: true }, RAISE_QUALITY_EVENT],
  // Releasing is the release manager's signature on a site's next rule set (site-bound).
  release_manager: [...SEE_THE_PLANT, { action: "release", subject: "ChangeRequest" }],
  admin: [
    ...SEE_THE_PLANT,
    IMPORT_GENEALOGY,
    read("AuditTrail", true),
    { action: "export", subject: "AuditTrail", allSitesOnly: true },
    read("User", true),
    { action: "create", subject: "User", allSitesOnly: true },
    { action: "update", subject: "User", allSitesOnly: true },
    { action: "deactivate", subject: "User", allSitesOnly: true },
    // Importing ERP/PLM snapshots replaces what every site is reconciled against; the system of
    // record per identifier type is a plant-wide setting (docs/decisions/015).
    { action: "create", subject: "ExternalMaster", allSitesOnly: true },
    { action: "update", subject: "ExternalMaster", allSitesOnly: true },
  ],
};

/** A role held by a user, at all sites (siteId null) or at one site. */
export interface Grant {
  role: Role;
  siteId: number | null;
}

/**
 * What a user may still do while their password must change (set by someone else, or past its
 * maximum age — ADR 020): browse and export, and reach the signature and release forms, where the
 * one credential check refuses with the reason and an audit row. Everything else that acts —
 * grants and their confirmation, creating, changing or deactivating users, acknowledging alerts,
 * drafting, importing — waits for the owner's own password: whoever chose the password could
 * otherwise act as its owner (21 CFR 11.300(b); a review found a second administrator with an
 * operator-set password confirmed another administrator's grant).
 */
export const ACTIONS_WHILE_PASSWORD_CHANGE_DUE: readonly Action[] = ["read", "export", "sign", "release"];

export interface AbilityOptions {
  /** The user's password must change before they act (ADR 020): only ACTIONS_WHILE_PASSWORD_CHANGE_DUE. */
  passwordChangeDue?: boolean;
}

export function defineAbilityFor(grants: readonly Grant[], options: AbilityOptions = {}): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  for (const grant of grants) {
    for (const p of PERMISSIONS[grant.role]) {
      if (options.passwordChangeDue && !ACTIONS_WHILE_PASSWORD_CHANGE_DUE.includes(p.action)) continue;
      if (grant.siteId === null) {
        can(p.action, p.subject);
      } else if (!p.allSitesOnly) {
        // String subject types carry no field types for CASL to check conditions against.
        if (SITE_BOUND.has(p.subject)) can(p.action, p.subject, { [SITE_FIELD[p.subject]!]: grant.siteId } as never);
        else can(p.action, p.subject);
      }
    }
  }
  return build();
}

/**
 * Whether the grants allow this at every site, present and future — through a grant without a
 * site. For actions whose effect is not bound to one site (the EPCIS quarantine release of a GTIN
 * releases its events wherever they wait): a CLT-scoped engineer may not trigger it.
 */
export function mayEverywhere(grants: readonly Grant[], action: Action, subject: SubjectType): boolean {
  return defineAbilityFor(grants.filter((g) => g.siteId === null)).can(action, subject);
}

/** The browser rebuilds the same ability from the rules the server sends. */
export function abilityFromRules(rules: AbilityRules): AppAbility {
  return createMongoAbility<AppAbility>(rules);
}

/** A site-bound record for a record-level check: `can('read', record('TraceItem', { siteId }))`. */
export function record(type: SubjectType, fields: Record<string, unknown>): SubjectRecord {
  return subject(type, { ...fields }) as SubjectRecord;
}

/**
 * The roles a user holds at every one of these sites (a grant without a site holds everywhere).
 * A signature or a release counts in a role only where the signer holds it (21 CFR 11.10(g)):
 * `quality_reviewer@CLT` does not make one a quality reviewer of an EIN request.
 */
export function rolesHeldAtEverySite(grants: readonly Grant[], siteIds: readonly number[]): Role[] {
  const roles = [...new Set(grants.map((g) => g.role))];
  return roles.filter((role) => {
    const held = grants.filter((g) => g.role === role);
    if (held.some((g) => g.siteId === null)) return true;
    return siteIds.length > 0 && siteIds.every((id) => held.some((g) => g.siteId === id));
  });
}

/** The sites a user's grants reach: all, or a list of site ids. */
export function siteScope(grants: readonly Grant[]): "all" | number[] {
  if (grants.some((g) => g.siteId === null)) return "all";
  return [...new Set(grants.map((g) => g.siteId!))].sort((a, b) => a - b);
}
