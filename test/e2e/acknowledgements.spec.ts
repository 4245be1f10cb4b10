import { DEMO_PASSWORD, expect, openSignatureDialog, runAnalysis, proposeAndSubmit, signIn, signOut, test } from "./support";

/**
 * Acknowledged findings (issue 23, ADR 029): a reviewer ticks each critical and warning finding
 * of the impact analysis before approving — trying without is refused, naming them — and the
 * printable record shows what each signature acknowledged. The sign form names the real problem
 * with the user name. Located by role and label (the dialog's opening may change around it).
 */
test("a reviewer acknowledges the findings before approving; the record shows them", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  await signIn(page, "emil.engineer");
  const number = await proposeAndSubmit(page, {
    title: "Lot-track SUB-1007 at EIN",
    justification: "The supplier ships the subassembly in lots.",
    risk: "High: finished devices lose unit-level trace of this part.",
    material: "SUB-1007",
    site: "EIN",
    trackingMode: "lot",
    scanAtConsumption: "identify",
    format: "EIN-LOT",
  });
  const url = new URL(`/change-requests/${number}`, baseURL).toString();
  await signOut(page);

  await signIn(page, "quinn.quality");
  await page.goto(url);
  await runAnalysis(page);
  // Findings carry a plain title and an explanation; the code stays visible for export users.
  const analysis = page.getByRole("region", { name: "Impact analysis" });
  await expect(analysis.locator(".finding-title").first()).not.toBeEmpty();
  await expect(analysis.locator("code.finding-code").first()).toHaveText(/^[A-Z_]+$/);

  // The signature dialog, opened from the review panel's Review button; Cancel closes it and
  // gives the focus back to the Review button.
  let dialog = await openSignatureDialog(page, number);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("button", { name: `Review ${number}` })).toBeFocused();
  dialog = await openSignatureDialog(page, number);
  const findings = dialog.getByRole("group", { name: "Findings you acknowledge" });
  const boxes = findings.getByRole("checkbox");
  const n = await boxes.count();
  expect(n).toBeGreaterThan(0);

  // An empty form flags the user name (first signature of the series) with the password, before anything is sent.
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  await expect(dialog.getByText("Enter your user name (this is the first signature of a continuous series)")).toBeVisible();
  await expect(dialog.getByText("Enter your password")).toBeVisible();

  // Someone else's user name: the answer says whose session it is.
  await dialog.getByLabel(/^Approved:/).check();
  await dialog.getByLabel("User name").fill("rita.regulatory");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  await expect(dialog.getByText("You are signed in as quinn.quality: sign with your own user name")).toBeVisible();

  // Approving without the acknowledgements is refused, naming the findings not acknowledged.
  await dialog.getByLabel(/^Approved:/).check();
  await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  const refusal = findings.getByRole("list").last();
  await expect(refusal).toContainText("Acknowledge every critical and warning finding before you approve");
  const codes = (await findings.locator("code.finding-code").allTextContents()).map((c) => c.trim());
  for (const code of codes) await expect(refusal).toContainText(code);
  await expect(page.getByRole("listitem", { name: /^Signature of / })).toHaveCount(0);

  // Ticked, signed.
  await dialog.getByLabel(/^Approved:/).check();
  for (const box of await boxes.all()) await box.check();
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  const signature = page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true });
  await expect(signature).toContainText("Findings acknowledged by Quinn Quality");

  // The printable record: per signature, which findings were acknowledged, by whom.
  await page.goto(`${url}/record`);
  const recorded = page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true });
  await expect(recorded).toContainText("Findings acknowledged by Quinn Quality");
  await expect(recorded.locator(".signature-acknowledgements li")).toHaveCount(n);
  for (const code of codes) await expect(recorded.locator(".signature-acknowledgements")).toContainText(code);
});
