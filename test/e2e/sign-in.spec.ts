import { attemptSignIn, c981, DEMO_PASSWORD, expect, signIn, signOut, test } from "./support";

const NAVIGATION_BY_USER: Record<string, string[]> = {
  "vera.viewer": [
    "Dashboard",
    "Materials",
    "Sites",
    "Label templates",
    "Rule sets",
    "Genealogy",
    "Change requests",
    "Quality",
    "Reconciliation",
    "Traceability",
    "ERP / PLM",
  ],
  "emil.engineer": [
    "Dashboard",
    "Materials",
    "Sites",
    "Label templates",
    "Rule sets",
    "Genealogy",
    "EPCIS import",
    "Change requests",
    "Quality",
    "Reconciliation",
    "Traceability",
    "ERP / PLM",
  ],
  "quinn.quality": [
    "Dashboard",
    "Materials",
    "Sites",
    "Label templates",
    "Rule sets",
    "Genealogy",
    "Change requests",
    "Quality",
    "Reconciliation",
    "Traceability",
    "ERP / PLM",
    "Audit trail",
  ],
  "rita.regulatory": [
    "Dashboard",
    "Materials",
    "Sites",
    "Label templates",
    "Rule sets",
    "Genealogy",
    "Change requests",
    "Quality",
    "Reconciliation",
    "Traceability",
    "ERP / PLM",
    "Audit trail",
  ],
  "remy.release": [
    "Dashboard",
    "Materials",
    "Sites",
    "Label templates",
    "Rule sets",
    "Genealogy",
    "Change requests",
    "Quality",
    "Releases",
    "Reconciliation",
    "Traceability",
    "ERP / PLM",
  ],
  "ada.admin": [
    "Dashboard",
    "Materials",
    "Sites",
    "Label templates",
    "Rule sets",
    "Genealogy",
    "EPCIS import",
    "Change requests",
    "Quality",
    "Reconciliation",
    "Traceability",
    "ERP / PLM",
    // In the Administration menu, listed once it is open.
    "Audit trail",
    "Users",
    "Runtime clients",
    "Keys",
  ],
};

for (const [username, links] of Object.entries(NAVIGATION_BY_USER)) {
  test(`${username} signs in and sees the navigation of their role`, async ({ page }) => {
    await signIn(page, username);
    await expect(page).toHaveURL(/\/$/);
    const nav = page.getByRole("navigation", { name: "Primary" });
    // An administrator's administration entries sit in a closed menu: open it to list them.
    const menu = nav.getByText("Administration", { exact: true });
    if (username === "ada.admin") await menu.click();
    else await expect(menu).toHaveCount(0);
    await expect(nav.getByRole("link")).toHaveText(links);
    // The open menu lies over the user menu below it: Escape closes it.
    if (username === "ada.admin") await page.keyboard.press("Escape");
    await signOut(page);
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto("/materials");
    await expect(page).toHaveURL(/\/sign-in\?redirectTo=%2Fmaterials/);
  });
}

test("a wrong password shows an error and creates no session", async ({ page, context }) => {
  await attemptSignIn(page, "vera.viewer", "not-the-password");
  await expect(page.getByRole("alert")).toContainText("Wrong user name or password");
  expect((await context.cookies()).filter((c) => c.name === "c981_session")).toEqual([]);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the same schema checks the form in the browser: an empty password is named next to its field", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("User name").fill("vera.viewer");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Enter your password")).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
});

test("a user created with the CLI while the portal runs signs in at once; once deactivated, cannot", async ({ page }) => {
  const password = "cli-created-password-1";
  expect(c981(["users:create", "--username", "cora.cli", "--name", "Cora CLI", "--role", "engineer", "--reason", "e2e", "--password-stdin"], password)).toMatch(
    /created cora.cli/,
  );
  await signIn(page, "cora.cli", password);
  // The operator chose this password: she is asked to choose her own first (ADR 020).
  await expect(page).toHaveURL(/\/account\/password/);
  await expect(page.getByRole("navigation", { name: "Primary" })).toBeVisible();
  await expect(page.getByText("Cora CLI")).toBeVisible();

  c981(["users:deactivate", "cora.cli", "--reason", "e2e: left the project"]);
  // Deactivation ends her session: the next page asks her to sign in.
  await page.goto("/materials");
  await expect(page).toHaveURL(/\/sign-in/);
  await attemptSignIn(page, "cora.cli", password);
  await expect(page.getByRole("alert")).toContainText("Wrong user name or password, or the account is deactivated");
});

test("a site-scoped user sees only their sites", async ({ page }) => {
  c981(["users:create", "--username", "sam.site", "--name", "Sam Site", "--role", "viewer@CLT", "--reason", "e2e", "--password-stdin"], "scoped-viewer-phrase");
  await signIn(page, "sam.site", "scoped-viewer-phrase");
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Sites" }).click();
  const table = page.getByRole("table").first();
  await expect(table.getByRole("row", { name: /CLT/ })).toBeVisible();
  await expect(table.getByRole("row", { name: /EIN/ })).toHaveCount(0);
  await expect(table.getByRole("row", { name: /PEN/ })).toHaveCount(0);
  const other = await page.goto("/rule-sets/EIN/1");
  expect(other?.status()).toBe(404);
  const own = await page.goto("/rule-sets/CLT/1");
  expect(own?.status()).toBe(200);
});

test("a form posted from another site is refused", async ({ request }) => {
  const response = await request.post("/sign-in", {
    headers: { Origin: "https://evil.example" },
    form: { username: "ada.admin", password: DEMO_PASSWORD },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(403);
  expect(response.headers()["set-cookie"]).toBeUndefined();
});

test("a user given a password by the operator changes it in the portal, then signs in with the new one", async ({ page }) => {
  c981(
    ["users:create", "--username", "pia.portal", "--name", "Pia Portal", "--role", "viewer", "--reason", "e2e", "--password-stdin"],
    "operator-chosen-phrase-1",
  );
  await signIn(page, "pia.portal", "operator-chosen-phrase-1");
  await expect(page).toHaveURL(/\/account\/password/);
  await expect(page.getByText("You cannot sign anything until you")).toBeVisible();
  // The browser checks the policy with the server's schema: aaaaaaaaaaaa is named next to its field.
  await page.getByLabel("Current password").fill("operator-chosen-phrase-1");
  await page.getByLabel("New password", { exact: true }).fill("aaaaaaaaaaaa");
  await page.getByLabel("New password again").fill("aaaaaaaaaaaa");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Use at least 5 different characters")).toBeVisible();
  await page.getByLabel("New password", { exact: true }).fill("her-own-secret-lantern-8");
  await page.getByLabel("New password again").fill("her-own-secret-lantern-8");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/account"));
  await expect(page.getByText("You cannot sign anything until you")).toHaveCount(0);
  await signOut(page);
  await signIn(page, "pia.portal", "her-own-secret-lantern-8");
  await expect(page).not.toHaveURL(/\/account\/password/);
});
