import { describe, expect, it } from "vitest";
import { PERMISSIONS, ROLES } from "./ability";
import { describeNeeded, neededFor, rolesGranting } from "./refusal";

describe("what a refusal needed, derived from the permission table", () => {
  it("names the roles that grant an action, counted by hand from the table", () => {
    expect(rolesGranting("sign", "ChangeRequest")).toEqual({ roles: ["quality_reviewer", "regulatory_reviewer"], allSitesOnly: false });
    expect(rolesGranting("release", "ChangeRequest")).toEqual({ roles: ["release_manager"], allSitesOnly: false });
    expect(rolesGranting("create", "TraceItem")).toEqual({ roles: ["engineer", "admin"], allSitesOnly: false });
    expect(rolesGranting("read", "User")).toEqual({ roles: ["admin"], allSitesOnly: true });
    expect(rolesGranting("read", "AuditTrail")).toEqual({ roles: ["quality_reviewer", "regulatory_reviewer", "admin"], allSitesOnly: true });
    expect(rolesGranting("read", "Material").roles).toEqual([...ROLES]);
    expect(rolesGranting("deactivate", "ChangeRequest")).toEqual({ roles: [], allSitesOnly: false });
  });

  it("agrees with the table for every action and subject: a role is named exactly when its permissions list the pair", () => {
    for (const role of ROLES) {
      for (const p of PERMISSIONS[role]) expect(rolesGranting(p.action, p.subject).roles).toContain(role);
    }
  });

  it("says the sentence the 403 page shows", () => {
    expect(describeNeeded(neededFor("read", "User"))).toBe("You need the administrator role for all sites to administer users, keys and runtime clients.");
    expect(describeNeeded(neededFor("sign", "ChangeRequest", ["EIN"]))).toBe(
      "You need the quality reviewer or regulatory reviewer role at EIN to sign this change request.",
    );
    expect(describeNeeded(neededFor("update", "ChangeRequest", ["CLT", "EIN"]))).toBe(
      "You need the engineer role at each of CLT and EIN to edit this change request.",
    );
    expect(describeNeeded(neededFor("release", "ChangeRequest"))).toBe("You need the release manager role to release change requests.");
    expect(describeNeeded(neededFor("read", "AuditTrail"))).toBe(
      "You need the quality reviewer, regulatory reviewer or administrator role for all sites to see the audit trail.",
    );
    expect(describeNeeded(neededFor("deactivate", "ChangeRequest"))).toBe("No role may deactivate change requests.");
  });
});
