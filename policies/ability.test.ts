/**
 * The full role × action × subject × site-scope matrix. The expectations below are written out by
 * hand, independently of PERMISSIONS, so a change to the policy table that is not also made here
 * fails this test.
 */
import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  defineAbilityFor,
  mayEverywhere,
  record,
  ROLES,
  rolesHeldAtEverySite,
  siteScope,
  SUBJECTS,
  type Action,
  type Role,
  type SubjectType,
} from "./ability";

const SITE_A = 1;
const SITE_B = 2;

/** Allowed [action, subject] pairs per role, for a grant at all sites. */
const SEE = ["read Site", "read RuleSetVersion", "read TraceItem", "read Material", "read ChangeRequest", "read ExternalMaster", "read QualityEvent"];
const EXPECTED_ALL_SITES: Record<Role, string[]> = {
  viewer: [...SEE],
  engineer: [...SEE, "create ChangeRequest", "update ChangeRequest", "create TraceItem", "create QualityEvent"],
  quality_reviewer: [...SEE, "sign ChangeRequest", "read AuditTrail", "export AuditTrail", "create QualityEvent", "update QualityEvent"],
  regulatory_reviewer: [...SEE, "sign ChangeRequest", "read AuditTrail", "export AuditTrail", "create QualityEvent"],
  release_manager: [...SEE, "release ChangeRequest"],
  admin: [
    ...SEE,
    "create TraceItem",
    "read AuditTrail",
    "export AuditTrail",
    "read User",
    "create User",
    "update User",
    "deactivate User",
    "create ExternalMaster",
    "update ExternalMaster",
  ],
};
/** A grant limited to one site keeps only the site-bound permissions (for that site) and reading materials. */
const SITE_SCOPED_KEEPS = new Set([
  ...SEE,
  "create TraceItem",
  "create ChangeRequest",
  "update ChangeRequest",
  "sign ChangeRequest",
  "release ChangeRequest",
  "create QualityEvent",
  "update QualityEvent",
]);
const SITE_BOUND: Partial<Record<SubjectType, string>> = {
  Site: "id",
  RuleSetVersion: "siteId",
  TraceItem: "siteId",
  ChangeRequest: "siteIds",
  QualityEvent: "siteId",
};

describe("the permission matrix", () => {
  for (const role of ROLES) {
    for (const scope of ["all sites", "site A"] as const) {
      const ability = defineAbilityFor([{ role, siteId: scope === "all sites" ? null : SITE_A }]);
      for (const action of ACTIONS) {
        for (const subjectType of SUBJECTS) {
          const key = `${action} ${subjectType}`;
          const allowedAnywhere = EXPECTED_ALL_SITES[role].includes(key) && (scope === "all sites" || SITE_SCOPED_KEEPS.has(key));
          const field = SITE_BOUND[subjectType];
          it(`${role} at ${scope}: ${key}`, () => {
            expect(ability.can(action as Action, subjectType)).toBe(allowedAnywhere);
            if (field) {
              const at = (site: number) => ({ [field]: field === "siteIds" ? [site] : site });
              expect(ability.can(action as Action, record(subjectType, at(SITE_A)))).toBe(allowedAnywhere);
              expect(ability.can(action as Action, record(subjectType, at(SITE_B)))).toBe(allowedAnywhere && scope === "all sites");
            }
          });
        }
      }
    }
  }

  it("combines grants: a viewer at site A and a quality reviewer at site B reads both sites but not the audit trail", () => {
    const ability = defineAbilityFor([
      { role: "viewer", siteId: SITE_A },
      { role: "quality_reviewer", siteId: SITE_B },
    ]);
    expect(ability.can("read", record("TraceItem", { siteId: SITE_A }))).toBe(true);
    expect(ability.can("read", record("TraceItem", { siteId: SITE_B }))).toBe(true);
    expect(ability.can("read", record("TraceItem", { siteId: 3 }))).toBe(false);
    expect(ability.can("read", "AuditTrail")).toBe(false);
  });

  it("grants nothing without a role", () => {
    const ability = defineAbilityFor([]);
    for (const action of ACTIONS) for (const s of SUBJECTS) expect(ability.can(action, s)).toBe(false);
  });

  it("tells the sites a user's grants reach", () => {
    expect(
      siteScope([
        { role: "viewer", siteId: 2 },
        { role: "engineer", siteId: 1 },
      ]),
    ).toEqual([1, 2]);
    expect(
      siteScope([
        { role: "viewer", siteId: 2 },
        { role: "admin", siteId: null },
      ]),
    ).toBe("all");
    expect(siteScope([])).toEqual([]);
  });
});

describe("roles held at every site of what is signed", () => {
  const EIN = 1;
  const CLT = 2;
  // Every ordered pair of roles, one at each site: mixed-site users.
  for (const a of ROLES) {
    for (const b of ROLES) {
      if (a === b) continue;
      it(`${a}@CLT + ${b}@EIN holds only ${b} at EIN, only ${a} at CLT, neither at both`, () => {
        const grants = [
          { role: a, siteId: CLT },
          { role: b, siteId: EIN },
        ];
        expect(rolesHeldAtEverySite(grants, [EIN])).toEqual([b]);
        expect(rolesHeldAtEverySite(grants, [CLT])).toEqual([a]);
        expect(rolesHeldAtEverySite(grants, [EIN, CLT])).toEqual([]);
      });
    }
  }
  it("a grant without a site holds everywhere; one role at two sites holds at both", () => {
    expect(rolesHeldAtEverySite([{ role: "quality_reviewer", siteId: null }], [EIN, CLT])).toEqual(["quality_reviewer"]);
    expect(
      rolesHeldAtEverySite(
        [
          { role: "quality_reviewer", siteId: EIN },
          { role: "quality_reviewer", siteId: CLT },
        ],
        [EIN, CLT],
      ),
    ).toEqual(["quality_reviewer"]);
    expect(rolesHeldAtEverySite([{ role: "quality_reviewer", siteId: EIN }], [])).toEqual([]);
  });
});

describe("allowed everywhere (the quarantine release reaches every site)", () => {
  it("only a grant without a site allows it everywhere", () => {
    expect(mayEverywhere([{ role: "engineer", siteId: null }], "create", "TraceItem")).toBe(true);
    expect(mayEverywhere([{ role: "engineer", siteId: 2 }], "create", "TraceItem")).toBe(false);
    expect(
      mayEverywhere(
        [
          { role: "engineer", siteId: 1 },
          { role: "engineer", siteId: 2 },
          { role: "viewer", siteId: null },
        ],
        "create",
        "TraceItem",
      ),
    ).toBe(false);
    expect(mayEverywhere([{ role: "viewer", siteId: null }], "create", "TraceItem")).toBe(false);
  });
});

describe("while the password must change (ADR 020; review: an operator-set administrator confirmed a grant)", () => {
  for (const role of ROLES) {
    it(`${role}: only reading, exporting and reaching the signature forms (the credential check refuses there)`, () => {
      const full = defineAbilityFor([{ role, siteId: null }]);
      const due = defineAbilityFor([{ role, siteId: null }], { passwordChangeDue: true });
      for (const action of ACTIONS) {
        for (const subjectType of SUBJECTS) {
          const kept = ["read", "export", "sign", "release"].includes(action) && full.can(action, subjectType);
          expect(due.can(action, subjectType), `${action} ${subjectType}`).toBe(kept);
        }
      }
    });
  }
});

describe("mixed-site users for every role pair: role A at CLT, role B at EIN (ADR 020)", () => {
  const CLT = 11;
  const EIN = 12;
  const ELSEWHERE = 13;
  const allowedScoped = (role: Role, key: string) => EXPECTED_ALL_SITES[role].includes(key) && SITE_SCOPED_KEEPS.has(key);
  for (const a of ROLES) {
    for (const b of ROLES) {
      if (a === b) continue;
      it(`${a}@CLT + ${b}@EIN: each action on each site follows the role held there`, () => {
        const ability = defineAbilityFor([
          { role: a, siteId: CLT },
          { role: b, siteId: EIN },
        ]);
        for (const action of ACTIONS) {
          for (const subjectType of SUBJECTS) {
            const key = `${action} ${subjectType}`;
            const field = SITE_BOUND[subjectType];
            if (field) {
              const at = (site: number) => record(subjectType, { [field]: field === "siteIds" ? [site] : site });
              expect(ability.can(action, at(CLT)), `${key} at CLT`).toBe(allowedScoped(a, key));
              expect(ability.can(action, at(EIN)), `${key} at EIN`).toBe(allowedScoped(b, key));
              expect(ability.can(action, at(ELSEWHERE)), `${key} elsewhere`).toBe(false);
              if (subjectType === "ChangeRequest") {
                // A request spanning both sites: the record check passes on one site (the routes
                // check each site, requireEverySite); the role held at both is neither.
                expect(
                  rolesHeldAtEverySite(
                    [
                      { role: a, siteId: CLT },
                      { role: b, siteId: EIN },
                    ],
                    [CLT, EIN],
                  ),
                ).toEqual([]);
              }
            } else {
              // Global subjects: a site-scoped grant reaches them only where the table allows.
              expect(ability.can(action, subjectType), key).toBe(allowedScoped(a, key) || allowedScoped(b, key));
            }
          }
        }
        // Signing in a role and releasing count only where that role is held.
        expect(
          rolesHeldAtEverySite(
            [
              { role: a, siteId: CLT },
              { role: b, siteId: EIN },
            ],
            [CLT],
          ),
        ).toEqual([a]);
        expect(
          rolesHeldAtEverySite(
            [
              { role: a, siteId: CLT },
              { role: b, siteId: EIN },
            ],
            [EIN],
          ),
        ).toEqual([b]);
        expect(
          mayEverywhere(
            [
              { role: a, siteId: CLT },
              { role: b, siteId: EIN },
            ],
            "release",
            "ChangeRequest",
          ),
        ).toBe(false);
      });
    }
  }
});
