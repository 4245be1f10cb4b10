import { describe, expect, it } from "vitest";
import { reviewRequestRecipients } from "./notifications";

const EIN = 1;
const CLT = 2;

describe("who is asked to review", () => {
  const candidates = [
    { userId: 1, grants: [{ role: "engineer" as const, siteId: null }] },
    { userId: 2, grants: [{ role: "quality_reviewer" as const, siteId: null }] },
    { userId: 3, grants: [{ role: "quality_reviewer" as const, siteId: CLT }] },
    { userId: 4, grants: [{ role: "quality_reviewer" as const, siteId: EIN }] },
    { userId: 5, grants: [{ role: "regulatory_reviewer" as const, siteId: null }] },
    {
      userId: 6,
      grants: [
        { role: "quality_reviewer" as const, siteId: EIN },
        { role: "quality_reviewer" as const, siteId: CLT },
      ],
    },
    {
      userId: 7,
      grants: [
        { role: "quality_reviewer" as const, siteId: null },
        { role: "engineer" as const, siteId: null },
      ],
    },
  ];

  it("asks holders of a needed role at every site of the request, never the author", () => {
    // Hand-counted: EIN only, quality needed; 7 is the author.
    expect(reviewRequestRecipients(candidates, { authorId: 7, siteIds: [EIN], requiredRoles: ["quality_reviewer"] })).toEqual([2, 4, 6]);
    // EIN and CLT: a reviewer scoped to one of them does not count at both.
    expect(reviewRequestRecipients(candidates, { authorId: 1, siteIds: [EIN, CLT], requiredRoles: ["quality_reviewer"] })).toEqual([2, 6, 7]);
    // A downgrade needs the regulatory reviewer too.
    expect(reviewRequestRecipients(candidates, { authorId: 1, siteIds: [CLT], requiredRoles: ["quality_reviewer", "regulatory_reviewer"] })).toEqual([
      2, 3, 5, 6, 7,
    ]);
  });

  it("asks no one for a request touching no site a scoped reviewer holds", () => {
    expect(reviewRequestRecipients(candidates.slice(2, 4), { authorId: 1, siteIds: [3], requiredRoles: ["quality_reviewer"] })).toEqual([]);
  });
});
