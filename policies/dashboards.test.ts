import { describe, expect, it } from "vitest";
import { dashboardSections } from "./dashboards";

describe("dashboard sections per role", () => {
  it("gives each demo role its own section, and a viewer none", () => {
    expect(dashboardSections([{ role: "viewer", siteId: null }])).toEqual([]);
    expect(dashboardSections([{ role: "engineer", siteId: null }])).toEqual(["engineer"]);
    expect(dashboardSections([{ role: "quality_reviewer", siteId: null }])).toEqual(["reviewer"]);
    expect(dashboardSections([{ role: "regulatory_reviewer", siteId: 2 }])).toEqual(["reviewer"]);
    expect(dashboardSections([{ role: "release_manager", siteId: 1 }])).toEqual(["release_manager"]);
    expect(dashboardSections([{ role: "admin", siteId: null }])).toEqual(["admin"]);
  });

  it("shows a section per role held, own work first, whatever order the grants come in", () => {
    expect(
      dashboardSections([
        { role: "admin", siteId: null },
        { role: "release_manager", siteId: null },
        { role: "quality_reviewer", siteId: 1 },
        { role: "engineer", siteId: 3 },
      ]),
    ).toEqual(["engineer", "reviewer", "release_manager", "admin"]);
  });

  it("gives no administrator section to a site-scoped admin grant (users are administered for all sites)", () => {
    expect(dashboardSections([{ role: "admin", siteId: 1 }])).toEqual([]);
  });
});
