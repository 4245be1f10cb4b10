import fs from "node:fs";
import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { DEMO_PASSWORD, expect, proposeSerialization, runAnalysis, signIn, signOut, test } from "./support";

/**
 * The review panel (issue 23): an engineer submits a request; a quality reviewer reviews it from
 * the sticky panel at the top with the keyboard only — Tab to Review, Enter opens the signature
 * dialog, Escape closes it and focus returns, a signature with another person's user name comes
 * back in the reopened dialog with focus on that field, the right one signs — and the panel's
 * stepper and approvals follow. The findings are acknowledged by keyboard too (Tab, Space). Without scripts, Review is a link to the same form inline.
 * Writes docs/screens/change-request.png and docs/screens/review-dialog.png.
 */
const SCREENS = path.resolve(import.meta.dirname, "../../docs/screens");

/** Presses Tab until `target` has focus (at most `limit` times): how a keyboard user gets there. */
async function tabTo(page: Page, target: Locator, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`Tab did not reach ${target} in ${limit} presses`);
}

const focused = (locator: Locator) => expect(locator).toBeFocused();

test("review from the panel with the keyboard only; the stepper and approvals follow; a wrong user name reopens the dialog", async ({
  page,
  browser,
  baseURL,
}) => {
  // Two sign-ins, an impact analysis, a page without scripts and two signing attempts.
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, "emil.engineer");
  const number = await proposeSerialization(page, "ASM-1008", "EIN");
  const panel = page.getByRole("region", { name: `Review of ${number}` });
  const stepper = panel.getByRole("list", { name: "Lifecycle" });
  await expect(stepper.locator('[aria-current="step"]')).toContainText("In review");
  // The author's panel offers no Review; Withdraw lives apart, in its own disclosure lower down.
  await expect(panel.getByRole("button", { name: `Review ${number}` })).toHaveCount(0);
  await expect(panel.getByRole("button", { name: /Withdraw/ })).toHaveCount(0);
  await expect(page.locator("details.withdraw-disclosure summary")).toHaveText("Withdraw this change request");
  await signOut(page);

  await signIn(page, "quinn.quality");
  const url = new URL(`/change-requests/${number}`, baseURL).toString();
  await page.goto(url);
  await runAnalysis(page);

  // Without scripts: Review is a link to the inline form, which is the same form.
  const noScript = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    const plain = await noScript.newPage();
    await signIn(plain, "quinn.quality");
    await plain.goto(url);
    await expect(plain.getByRole("link", { name: `Review ${number}` })).toHaveAttribute("href", "#sign");
    await expect(plain.locator("section#sign")).toContainText(`Sign ${number}`);
    await expect(plain.locator("section#sign").getByLabel("Password")).toBeVisible();
  } finally {
    await noScript.close();
  }

  // From the top of a fresh page, keyboard only.
  await page.goto(url);
  await expect(panel).toContainText("Quality reviewer: needed");
  await fs.promises.mkdir(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, "change-request.png") });

  const review = panel.getByRole("button", { name: `Review ${number}` });
  await tabTo(page, review);
  // The focus is visible (the one :focus-visible outline of the app).
  expect(await review.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe("none");
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Sign ${number}` });
  await expect(dialog).toBeVisible();
  // The content hash and the analysis hash are shown in the dialog.
  await expect(dialog).toContainText("the signed content has the SHA-256");
  await expect(dialog.getByText(/^You sign with impact analysis/)).toBeVisible();
  const meaning = dialog.getByLabel(/^Approved:/);
  await focused(meaning);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await focused(review);
  await page.keyboard.press("Enter");
  await expect(dialog).toBeVisible();
  await focused(meaning);
  await page.keyboard.press("Space");
  await expect(meaning).toBeChecked();
  await page.keyboard.press("Tab");
  await focused(dialog.getByLabel("Role you sign in"));

  // Each critical and warning finding is acknowledged by keyboard: Tab to its checkbox, Space (ADR 029).
  const acknowledgements = dialog.getByRole("group", { name: "Findings you acknowledge" });
  const boxes = acknowledgements.getByRole("checkbox");
  const findings = await boxes.count();
  expect(findings).toBeGreaterThan(0);
  for (let i = 0; i < findings; i++) {
    await page.keyboard.press("Tab");
    await focused(boxes.nth(i));
    await page.keyboard.press("Space");
    await expect(boxes.nth(i)).toBeChecked();
  }
  // The screenshot shows the acknowledgements ticked (the dialog scrolls to the focused one).
  await expect(acknowledgements).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENS, "review-dialog.png") });

  // Another person's user name: refused, shown in the reopened dialog with focus on that field.
  await page.keyboard.press("Tab");
  const username = dialog.getByLabel("User name");
  await focused(username);
  await page.keyboard.type("remy.release");
  await page.keyboard.press("Tab");
  await focused(dialog.getByLabel("Password"));
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press("Enter");
  await expect(dialog.locator("#sign-username-error")).toBeVisible();
  await expect(dialog.locator("#sign-username-error")).toContainText(/user name|signed in as/i);
  await expect(dialog).toBeVisible();
  await focused(username);
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("listitem", { name: /^Signature of / })).toHaveCount(0);

  // The right user name (the password is asked again), and sign with Enter.
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("quinn.quality");
  await page.keyboard.press("Tab");
  await focused(dialog.getByLabel("Password"));
  await expect(dialog.getByLabel("Password")).toHaveValue("");
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true })).toBeVisible();
  await expect(dialog).toHaveCount(0);

  // The panel follows: approved now, the quality approval given by Quinn Quality, nothing left to review.
  await expect(stepper.locator('[aria-current="step"]')).toContainText("Approved");
  await expect(stepper.getByRole("listitem").nth(1)).toContainText("(done)");
  await expect(panel).toContainText("Quality reviewer: given by Quinn Quality");
  await expect(panel.getByRole("button", { name: `Review ${number}` })).toHaveCount(0);

  // Sticky: at 1366x768, scrolled to the foot of the page, the panel is still at the top and stays short.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  const box = await panel.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.y).toBeLessThan(2);
  expect(box!.height).toBeLessThan(130);
  await page.screenshot({ path: test.info().outputPath("sticky-1366x768.png") });
  await signOut(page);
});
