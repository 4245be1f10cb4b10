import { acknowledgeFindings, DEMO_PASSWORD, expect, openSignatureDialog, runAnalysis, signIn, signOut, test } from "./support";

/**
 * The change-control story in the browser: an engineer proposes serializing a lot-tracked
 * assembly at one site, a quality reviewer signs with password and meaning, the manifestation
 * shows, the author cannot approve their own request, and an edit after approval voids it.
 */
test("propose, sign, see the manifestation; the author cannot approve; an edit voids the approval", async ({ page, baseURL }) => {
  // Three sign-ins, an impact analysis and two signing attempts.
  test.setTimeout(60_000);
  await signIn(page, "emil.engineer");
  await page.goto("/change-requests/new");
  await page.getByLabel("Title").fill("Serialize ASM-1004 at EIN");
  await page.getByLabel("Justification").fill("Field returns need unit-level traceability of tubing sets.");
  await page.getByLabel("Risk assessment", { exact: true }).fill("Medium: new labels at WC20, scanners already read AI 21.");
  await page.getByLabel("Grandfather existing lots and serials").check();
  const change = page.getByRole("group", { name: "Change 1" });
  await change.getByLabel("Material (part number)").first().fill("ASM-1004");
  await change.getByRole("checkbox", { name: "EIN", exact: true }).check();
  await change.getByLabel("Tracking mode").selectOption("serial");
  await change.getByLabel("Scan at consumption").selectOption("identify");
  await change.getByRole("checkbox", { name: "EIN-SER", exact: true }).check();
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.waitForURL(/\/change-requests\/CR-\d{4}(\?.*)?$/);
  const number = page.url().match(/CR-\d{4}/)![0];
  const url = new URL(`/change-requests/${number}`, baseURL).toString();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(number);
  await page.getByRole("button", { name: "Submit for review" }).click();
  await expect(page.getByRole("button", { name: "Submit for review" })).toHaveCount(0);
  await expect(page.getByText(/in review/i).first()).toBeVisible();
  // The author has no signature dialog, and the server refuses a signature sent by hand.
  await expect(page.getByRole("heading", { name: `Sign ${number}` })).toHaveCount(0);
  const forged = await page.request.post(url, {
    headers: { Origin: baseURL! },
    form: { intent: "sign", meaning: "approved", role: "quality_reviewer", username: "emil.engineer", password: DEMO_PASSWORD, comment: "", rowVersion: "2" },
    maxRedirects: 0,
  });
  expect(forged.status()).toBe(403);
  await signOut(page);

  await signIn(page, "quinn.quality");
  await page.goto(url);
  // A reviewer signs together with a current impact analysis.
  await runAnalysis(page);
  const dialog = await openSignatureDialog(page, number);
  await dialog.getByLabel(/^Approved:/).check();
  await acknowledgeFindings(dialog);
  await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill("a wrong password");
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  await expect(dialog.getByText("Wrong password: nothing was signed")).toBeVisible();
  await openSignatureDialog(page, number);
  await dialog.getByLabel(/^Approved:/).check();
  await acknowledgeFindings(dialog);
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  const signature = page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true });
  await expect(signature).toContainText("Quinn Quality");
  await expect(signature).toContainText("Approved: I have reviewed this change request");
  await expect(signature.locator("time").first()).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  await expect(page.getByText(/approved/i).first()).toBeVisible();
  await signOut(page);

  await signIn(page, "emil.engineer");
  await page.goto(`${url}/edit`);
  await page.getByLabel("Title").fill("Serialize ASM-1004 at EIN (labels at WC20)");
  await page.getByRole("button", { name: /Save revision 2/ }).click();
  await page.waitForURL((u) => u.pathname === `/change-requests/${number}`);
  await expect(page.getByRole("listitem", { name: "Void signature of Quinn Quality" })).toContainText("content edited (revision 2)");
  await expect(page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true })).toHaveCount(0);
});
