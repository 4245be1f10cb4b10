import { describe, expect, it } from "vitest";
import { holdsReleaseManagerRole, holdsReviewerRole, mayReleaseAt, releaserConflict, releaseSiteIds, reviewerRolesCovering } from "./review-and-release";

const EIN = 1;
const CLT = 2;

describe("review and release", () => {
  it("covers a request's sites with the reviewer roles held at every one of them", () => {
    const grants = [
      { role: "quality_reviewer", siteId: EIN },
      { role: "regulatory_reviewer", siteId: null },
      { role: "engineer", siteId: CLT },
    ] as const;
    expect(reviewerRolesCovering(grants, [EIN])).toEqual(["quality_reviewer", "regulatory_reviewer"]);
    expect(reviewerRolesCovering(grants, [EIN, CLT])).toEqual(["regulatory_reviewer"]);
    expect(reviewerRolesCovering([{ role: "admin", siteId: null }], [EIN])).toEqual([]);
  });

  it("knows whether someone reviews at all", () => {
    expect(holdsReviewerRole([{ role: "regulatory_reviewer", siteId: CLT }])).toBe(true);
    expect(
      holdsReviewerRole([
        { role: "engineer", siteId: null },
        { role: "release_manager", siteId: EIN },
      ]),
    ).toBe(false);
    expect(holdsReviewerRole([])).toBe(false);
  });

  it("releases only where a release manager grant reaches", () => {
    const atEin = [
      { role: "release_manager", siteId: EIN },
      { role: "quality_reviewer", siteId: CLT },
    ] as const;
    expect(mayReleaseAt(atEin, EIN)).toBe(true);
    expect(mayReleaseAt(atEin, CLT)).toBe(false);
    expect(releaseSiteIds(atEin)).toEqual([EIN]);
    expect(
      releaseSiteIds([
        { role: "release_manager", siteId: CLT },
        { role: "release_manager", siteId: EIN },
      ]),
    ).toEqual([EIN, CLT]);
    expect(releaseSiteIds([{ role: "release_manager", siteId: null }])).toBeNull();
    expect(releaseSiteIds([{ role: "engineer", siteId: null }])).toEqual([]);
    expect(mayReleaseAt([{ role: "release_manager", siteId: null }], CLT)).toBe(true);
  });
});

describe("who may release a change request", () => {
  it("only a release manager", () => {
    expect(holdsReleaseManagerRole(["release_manager", "viewer"])).toBe(true);
    expect(holdsReleaseManagerRole(["quality_reviewer", "administrator"])).toBe(false);
  });

  it("never its author nor one of its signers, whoever else holds the role", () => {
    expect(releaserConflict(7, { authorId: 7, signerIds: [] })).toBe("author");
    expect(releaserConflict(7, { authorId: 7, signerIds: [7] })).toBe("author");
    expect(releaserConflict(8, { authorId: 7, signerIds: [3, 8] })).toBe("reviewer");
    expect(releaserConflict(9, { authorId: 7, signerIds: [3, 8] })).toBeNull();
  });
});
