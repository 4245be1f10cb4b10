import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { approve, attemptSignIn, DEMO_PASSWORD, expect, openSignatureDialog, proposeSerialization, runAnalysis, signIn, signOut, test } from "./support";

/**
 * Dashboards per role (issue 24, ADR 031). Each demo role signs in and finds its own work on the
 * dashboard: the engineer their draft, the request returned with a blocking comment, the request
 * a release made stale and the conflicting pair; the reviewer the queue with due dates; the release
 * manager the approved requests at PEN and what releasing each would make stale; the administrator
 * the failed sign-in, the signing keys and the runtime clients. Times show in the browser's time
 * zone (Europe/Berlin here) with the ISO UTC instant on hover; the printable record keeps UTC.
 * Writes docs/screens/dashboard-{engineer,reviewer,release,admin}.png at 1366×900.
 */
const SCREENS = path.resolve(import.meta.dirname, "../../docs/screens");

test.use({ timezoneId: "Europe/Berlin", viewport: { width: 1366, height: 900 } });

/** As the signed-in engineer: a draft serializing a material at a site, not submitted. */
async function draft(page: Page, material: string, site: string): Promise<string> {
  await page.goto("/change-requests/new");
  await page.getByLabel("Title").fill(`Serialize ${material} at ${site} (draft)`);
  await page.getByLabel("Justification").fill("Field returns need unit-level traceability.");
  await page.getByLabel("Risk assessment", { exact: true }).fill("Medium: labels and scanners are in place.");
  await page.getByLabel("Grandfather existing lots and serials").check();
  const change = page.getByRole("group", { name: "Change 1" });
  await change.getByLabel("Material (part number)").first().fill(material);
  await change.getByRole("checkbox", { name: site, exact: true }).check();
  await change.getByLabel("Tracking mode").selectOption("serial");
  await change.getByLabel("Scan at consumption").selectOption("identify");
  await change.getByRole("checkbox", { name: `${site}-SER`, exact: true }).check();
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.waitForURL(/\/change-requests\/CR-\d{4}(\?.*)?$/);
  return page.url().match(/CR-\d{4}/)![0];
}

/** The row of a table whose row header is exactly this change request's number (other cells may name others). */
const rowOf = (table: Locator, number: string) => table.locator("tbody tr", { has: table.page().getByRole("rowheader", { name: number, exact: true }) });

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENS, name), fullPage: true });

/** A time shown in Berlin's zone, with the ISO instant as its machine value and on hover. */
async function expectBerlinTime(page: Page, scope: ReturnType<Page["locator"]>) {
  const time = scope.locator("time[title]").first();
  await expect(time).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+[12]$/);
  const iso = await time.getAttribute("dateTime");
  expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  await expect(time).toHaveAttribute("title", iso!);
  // The shown wall clock is the instant in Berlin (checked here with the browser's own Intl).
  const expected = await page.evaluate(
    (at) => new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Berlin", dateStyle: "short", timeStyle: "medium" }).format(new Date(at)),
    iso!,
  );
  await expect(time).toContainText(expected);
}

test("each role's dashboard shows its work; times in the reader's zone with UTC on hover", async ({ page }) => {
  // Five proposals, three approvals with analyses, a release and five sign-ins.
  test.setTimeout(300_000);

  // The engineer: a draft and a request in review on the same material and site (a conflict), two
  // requests on MCH-1023 at PEN (one will be released, making the other stale), one to be returned.
  await signIn(page, "emil.engineer");
  const drafted = await draft(page, "MCH-1021", "EIN");
  const inReview = await proposeSerialization(page, "MCH-1021", "EIN");
  // The review panel shows the due date the submit set (5 working days by default: medium risk).
  await expect(page.getByRole("region", { name: `Review of ${inReview}` })).toContainText(/Review due: \d{4}-\d\d-\d\d/);
  const willGoStale = await proposeSerialization(page, "MCH-1023", "PEN");
  const toRelease = await proposeSerialization(page, "MCH-1023", "PEN");
  const toReturn = await proposeSerialization(page, "MCH-1024", "CLT");
  await signOut(page);

  // The reviewer: every one waits for a quality signature, oldest first, each with a due date.
  await signIn(page, "quinn.quality");
  await page.goto("/");
  const awaiting = page.getByRole("table", { name: /^Awaiting my signature/ });
  for (const number of [inReview, willGoStale, toRelease, toReturn]) {
    await expect(rowOf(awaiting, number)).toContainText(/\d{4}-\d\d-\d\d/);
  }
  const order = await awaiting.locator("tbody th[scope=row]").allTextContents();
  expect(order.indexOf(inReview)).toBeLessThan(order.indexOf(toReturn));
  await expectBerlinTime(page, awaiting);
  await expect(page.getByRole("heading", { name: "My change requests" })).toHaveCount(0);
  await shot(page, "dashboard-reviewer.png");

  await approve(page, willGoStale, "quinn.quality");
  await approve(page, toRelease, "quinn.quality");
  // Returned to its author with a blocking comment on the request.
  await page.goto(`/change-requests/${toReturn}`);
  await runAnalysis(page);
  const comment = page.getByRole("form", { name: "Comment on the request" });
  await comment.getByLabel("Add a comment").fill("Say how the open work orders at CLT are labelled.");
  await comment.getByRole("checkbox", { name: "Blocking" }).check();
  await comment.getByRole("button", { name: "Add comment" }).click();
  await page.waitForURL(/[?&]done=comment/);
  const dialog = await openSignatureDialog(page, toReturn);
  await dialog.getByLabel(/^Changes requested:/).check();
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByLabel("Comment").fill("Answer the blocking comment.");
  await dialog.getByRole("button", { name: `Sign ${toReturn}` }).click();
  await page.waitForURL(/[?&]done=sign/);
  await signOut(page);

  // The release manager: both approved requests wait at PEN, each would make the other stale.
  await signIn(page, "remy.release");
  await page.goto("/");
  const pen = page.getByRole("table", { name: /^Approved for PEN/ });
  await expect(rowOf(pen, willGoStale)).toContainText(toRelease);
  await expect(rowOf(pen, toRelease)).toContainText(willGoStale);
  await expect(rowOf(pen, toRelease)).toContainText("MCH-1023");
  await shot(page, "dashboard-release.png");
  // Release one of them at PEN (a waiver covers the demo plant's ERP/PLM disagreements).
  await page.goto("/releases");
  const site = page.locator("section", { has: page.getByRole("heading", { name: /^PEN/ }) });
  await site.getByLabel(`Release ${toRelease} at PEN`).check();
  if (await site.getByLabel("User name").count()) await site.getByLabel("User name").fill("remy.release");
  await site.getByLabel("Password").fill(DEMO_PASSWORD);
  await site.getByLabel("Waiver for unresolved ERP/PLM disagreements").fill("PLM and ERP corrections are planned separately (e2e).");
  await site.getByRole("button", { name: "Sign and release at PEN" }).click();
  await page.waitForURL(/\/rule-sets\/PEN\/\d+\?released=1/);
  await page.goto("/");
  await expect(rowOf(page.getByRole("table", { name: /^Approved for PEN/ }), toRelease)).toHaveCount(0);
  await signOut(page);

  // The engineer's own work, first on the page.
  await signIn(page, "emil.engineer");
  await page.goto("/");
  await expect(page.locator("main h2").first()).toHaveText("My change requests");
  await expect(rowOf(page.getByRole("table", { name: /^My drafts/ }), drafted)).toBeVisible();
  const returned = rowOf(page.getByRole("table", { name: /^Returned to me/ }), toReturn);
  await expect(returned.getByRole("cell").nth(1)).toHaveText("1");
  const stale = rowOf(page.getByRole("table", { name: /^Stale: needs a rebase/ }), willGoStale);
  await expect(stale).toContainText("PEN:");
  await expect(stale).toContainText("MCH-1023");
  const conflicts = page.getByRole("table", { name: /^Conflicts/ });
  await expect(rowOf(conflicts, drafted)).toContainText(`${inReview}`);
  await expect(rowOf(conflicts, drafted)).toContainText("MCH-1021 at EIN");
  await expectBerlinTime(page, page.getByRole("table", { name: /^My drafts/ }));
  // No review or release section for an engineer.
  await expect(page.getByRole("table", { name: /^Awaiting my signature/ })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Release" })).toHaveCount(0);
  await shot(page, "dashboard-engineer.png");
  // The printable record keeps ISO 8601 UTC.
  await page.goto(`/change-requests/${inReview}/record`);
  await expect(page.locator(".cr-record time").first()).toHaveText(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})? UTC$/);
  await expect(page.locator(".cr-record")).not.toContainText(/UTC\+\d/);
  await signOut(page);

  // The administrator: a failed sign-in shows, with the keys and the runtime clients.
  await attemptSignIn(page, "vera.viewer", "not-the-password");
  await expect(page.getByRole("alert")).toBeVisible();
  await signIn(page, "ada.admin");
  await page.goto("/");
  const failures = page.getByRole("table", { name: /^Failed signatures and sign-ins/ });
  await expect(failures.getByRole("row", { name: /vera\.viewer/ })).toContainText("Failed sign-in");
  await expectBerlinTime(page, failures);
  await expect(
    page
      .getByRole("table", { name: /^Signing keys/ })
      .locator("tbody tr")
      .first(),
  ).toContainText("active");
  await expect(page.getByRole("table", { name: /^Runtime clients not reporting/ })).toBeVisible();
  // Recent activity is work, not sign-ins.
  const activity = page.getByRole("table", { name: /^Recent activity/ });
  await expect(activity).toContainText("change_request.");
  await expect(activity.locator("tbody")).not.toContainText("session.sign_in");
  await shot(page, "dashboard-admin.png");
});
