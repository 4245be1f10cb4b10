import fs from "node:fs";
import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { acknowledgeFindings, DEMO_PASSWORD, expect, openSignatureDialog, runAnalysis, proposeAndSubmit, signIn, signOut, test } from "./support";

/**
 * Comments anchored where reviewers look (ADR 030): a reviewer opens a blocking thread on a diff
 * row, the approval is refused naming it, the reviewer asks for changes; the author sees "Changes
 * requested" at the top with the thread, resolves it, revises and submits again; the approval works.
 * The review panel and the signature dialog say while a blocking thread holds back approval.
 * Writes docs/screens/comments.png.
 */

const SCREENS = path.resolve(import.meta.dirname, "../../docs/screens");

function signForm(page: Page, number: string): Locator {
  return page.getByRole("dialog", { name: `Sign ${number}` });
}

/** Signs from the review panel's Review button; an approval acknowledges the findings (ADR 029). */
async function sign(page: Page, number: string, meaning: RegExp, comment?: string) {
  const dialog = await openSignatureDialog(page, number);
  await dialog.getByLabel(meaning).check();
  if (meaning.source.startsWith("^Approved")) await acknowledgeFindings(dialog);
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  if (comment) await dialog.getByLabel("Comment").fill(comment);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
}

test("a blocking comment on a diff row holds back approval until the author resolves it", async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  await signIn(page, "emil.engineer");
  const number = await proposeAndSubmit(page, {
    title: "Serialize ASM-1002 at EIN",
    justification: "Field returns need unit-level traceability of the assembly.",
    risk: "Medium: new labels at WC20, scanners already read AI 21.",
    material: "ASM-1002",
    site: "EIN",
    trackingMode: "serial",
    scanAtConsumption: "identify",
    format: "EIN-SER",
  });
  const url = new URL(`/change-requests/${number}`, baseURL).toString();
  // The author may comment but not mark a thread blocking.
  await expect(page.getByRole("checkbox", { name: "Blocking" })).toHaveCount(0);
  await signOut(page);

  // The reviewer opens a blocking thread on the tracking-mode row of the diff, by keyboard.
  await signIn(page, "quinn.quality");
  await page.goto(url);
  await runAnalysis(page);
  const rowLabel = "EIN · ASM-1002 · tracking mode";
  const disclosure = page.locator("summary", { hasText: `Comment on ${rowLabel}` });
  await disclosure.focus();
  await page.keyboard.press("Enter");
  const form = page.getByRole("form", { name: `Comment on ${rowLabel}` });
  await form.getByLabel(`Comment on ${rowLabel}`).fill("The legacy-data plan must say how open work orders at WC20 are labelled.");
  await form.getByRole("checkbox", { name: "Blocking" }).check();
  await form.getByRole("button", { name: "Add comment here" }).press("Enter");
  await page.waitForURL(/[?&]done=comment/);
  const thread = page.getByRole("article", { name: /^Thread #\d+ on EIN · ASM-1002 · tracking mode/ });
  await expect(thread).toContainText("open work orders at WC20");
  await expect(thread).toContainText("blocking");
  // The form it was written in starts empty and closed again (a second click would duplicate it).
  await expect(form.getByLabel(`Comment on ${rowLabel}`)).toBeHidden();
  // Shown beside its row: the row's discussion cell counts it.
  await expect(page.locator("#cr-diff").getByText("1 thread · 1 open · 1 blocking")).toBeVisible();
  // The review panel says what holds back approval, linked to the thread.
  const panel = page.getByRole("region", { name: `Review of ${number}` });
  const held = panel.getByRole("link", { name: "1 blocking comment open" });
  await expect(held).toHaveAttribute("href", /^#comment-thread-\d+$/);
  expect(await held.getAttribute("href")).toBe(`#${await thread.getAttribute("id")}`);
  // docs/screens/comments.png: the blocking thread beside its diff row, the panel above.
  await page.setViewportSize({ width: 1366, height: 900 });
  await thread.evaluate((el) => el.scrollIntoView({ block: "center" }));
  await fs.promises.mkdir(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, "comments.png") });

  // The dialog warns before signing that an approval will be refused; signing one anyway is refused, naming the thread.
  const dialog = await openSignatureDialog(page, number);
  await expect(dialog.locator(".sign-blocking")).toContainText(
    /An approval will be refused while a blocking comment thread is open: thread #\d+ on EIN · ASM-1002 · tracking mode/,
  );
  await sign(page, number, /^Approved:/);
  await expect(
    signForm(page, number).getByText(/Not approved: a blocking comment thread is unresolved — #\d+ on EIN · ASM-1002 · tracking mode/),
  ).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true })).toHaveCount(0);

  // "Changes requested" returns it to its author with the comment.
  await page.goto(url);
  await sign(page, number, /^Changes requested:/, "Cover the open work orders in the legacy-data plan.");
  await page.waitForURL(/[?&]done=sign/);
  await expect(page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true })).toContainText("Changes requested");
  await signOut(page);

  await signIn(page, "emil.engineer");
  await page.goto(url);
  const notice = page.getByRole("region", { name: /^Changes requested by Quinn Quality/ });
  await expect(notice.getByRole("heading")).toContainText(
    /Changes requested by Quinn Quality \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+\-\d:]*\): Cover the open work orders/,
  );
  const link = notice.getByRole("link", { name: /^Thread #\d+ on EIN · ASM-1002 · tracking mode$/ });
  await expect(link).toBeVisible();
  await expect(notice).toContainText("blocking");
  await link.click();
  await expect(page).toHaveURL(/#comment-thread-\d+$/);
  // The author answers and resolves the thread, then revises, edits and submits again.
  await thread.getByRole("textbox", { name: /^Reply to thread #\d+$/ }).fill("Added: open work orders keep lot labels until closed.");
  await thread.getByRole("button", { name: "Reply" }).click();
  await page.waitForURL(/[?&]done=reply/);
  await thread.getByRole("button", { name: /^Resolve thread #\d+$/ }).click();
  await page.waitForURL(/[?&]done=resolve/);
  await expect(thread).toContainText("Resolved by Emil Engineer");
  await page.getByRole("button", { name: "Revise (back to draft)" }).click();
  await page.waitForURL(/[?&]done=revise/);
  await page.goto(`${url}/edit`);
  await page.getByLabel("Title").fill("Serialize ASM-1002 at EIN (open work orders keep lot labels)");
  await page.getByRole("button", { name: /Save revision 2/ }).click();
  await page.waitForURL((u) => u.pathname === `/change-requests/${number}`);
  await page.getByRole("button", { name: "Submit for review" }).click();
  await expect(page.getByRole("button", { name: "Submit for review" })).toHaveCount(0);
  await expect(page.getByRole("region", { name: /^Changes requested by/ })).toHaveCount(0);
  await signOut(page);

  // Now the approval works.
  await signIn(page, "quinn.quality");
  await page.goto(url);
  await runAnalysis(page);
  await sign(page, number, /^Approved:/);
  await expect(page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true })).toContainText("Approved: I have reviewed this change request");
});
