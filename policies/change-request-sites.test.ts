import { describe, expect, it } from "vitest";
import { defineAbilityFor } from "./ability";
import { isAuthorOf, mayAtEverySite, mayAtSite, sitePermissionProblems } from "./change-request-sites";

const EIN = 1;
const CLT = 2;
const sites = { codeOf: { [EIN]: "EIN", [CLT]: "CLT" } };
const engineerAtEin = defineAbilityFor([{ role: "engineer", siteId: EIN }]);
const engineerEverywhere = defineAbilityFor([{ role: "engineer", siteId: null }]);
const reviewerAtEin = defineAbilityFor([{ role: "quality_reviewer", siteId: EIN }]);

describe("where a user may act on a change request", () => {
  it("checks one site, and every site of a request", () => {
    expect(mayAtSite(engineerAtEin, "create", EIN)).toBe(true);
    expect(mayAtSite(engineerAtEin, "create", CLT)).toBe(false);
    expect(mayAtEverySite(engineerAtEin, "update", [EIN])).toBe(true);
    expect(mayAtEverySite(engineerAtEin, "update", [EIN, CLT])).toBe(false);
    expect(mayAtEverySite(engineerEverywhere, "update", [EIN, CLT])).toBe(true);
    expect(mayAtEverySite(reviewerAtEin, "sign", [EIN])).toBe(true);
    expect(mayAtEverySite(reviewerAtEin, "create", [EIN])).toBe(false);
    // No site at all still needs the action on change requests.
    expect(mayAtEverySite(defineAbilityFor([{ role: "viewer", siteId: null }]), "create", [])).toBe(false);
  });

  it("lets only the author edit", () => {
    expect(isAuthorOf(7, { authorId: 7 })).toBe(true);
    expect(isAuthorOf(8, { authorId: 7 })).toBe(false);
  });

  it("names the refused sites on the form rows of the changes", () => {
    const changes = [{ kind: "tracking" }, { kind: "attributes" }, { kind: "new_material" }, { kind: "alternates" }];
    const byChange = [[EIN, CLT], [EIN, CLT], [], [CLT]];
    // Filled rows 0, 1, 2, 3 sit on form rows 0, 2, 3, 5.
    const problems = sitePermissionProblems(engineerAtEin, "create", changes, { ...sites, byChange }, [0, 2, 3, 5]);
    expect(problems).toEqual({
      "changes.0.sites": ["You may not propose changes at CLT"],
      "changes.2.material": ["Attribute changes apply at every site: you may propose them only with a role at all sites"],
      "changes.5.sites": ["You may not propose changes at CLT"],
    });
    expect(sitePermissionProblems(engineerEverywhere, "update", changes, { ...sites, byChange }, [0, 1, 2, 3])).toEqual({});
    // A reviewer may sign there, not propose.
    expect(sitePermissionProblems(reviewerAtEin, "create", [{ kind: "tracking" }], { ...sites, byChange: [[EIN, 9]] }, [])).toEqual({
      "changes.0.sites": ["You may not propose changes at EIN, 9"],
    });
  });
});
