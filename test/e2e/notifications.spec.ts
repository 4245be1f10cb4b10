import { startSmtpServer, type ReceivedMail } from "../setup/smtp";
import { approve, DEMO_PASSWORD, E2E_SMTP_PORT, expect, proposeSerialization, signIn, signOut, test } from "./support";

/**
 * Notifications (ADR 032): the portal under test sends its e-mail to the SMTP server this spec
 * starts on E2E_SMTP_PORT (playwright.config.ts passes C981_SMTP_URL); other specs run while
 * nothing listens there, and the portal's sender just retries.
 */
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
test.beforeAll(async () => {
  smtp = await startSmtpServer(E2E_SMTP_PORT);
});
test.afterAll(async () => {
  await smtp?.close();
});

/** The e-mail to this address whose subject starts so, once the portal's sender has delivered it. */
async function mailTo(address: string, subject: string): Promise<ReceivedMail> {
  await expect
    .poll(() => smtp.messages.some((m) => m.to.includes(address) && m.subject.startsWith(subject)), {
      timeout: 20_000,
      message: `e-mail "${subject}" to ${address}`,
    })
    .toBe(true);
  return smtp.messages.find((m) => m.to.includes(address) && m.subject.startsWith(subject))!;
}

/** The unread count the header's Inbox link announces. */
async function unreadInHeader(page: import("@playwright/test").Page): Promise<number> {
  const label = await page.getByRole("link", { name: /^Inbox, \d+ unread$/ }).getAttribute("aria-label");
  return Number(label!.match(/(\d+) unread/)![1]);
}

test("review requested, approved and made stale reach their people by e-mail and in the inbox", async ({ page }) => {
  test.setTimeout(150_000);
  // Emil proposes two requests on ASM-1009 at PEN; releasing the first makes the second stale.
  await signIn(page, "emil.engineer");
  const first = await proposeSerialization(page, "ASM-1009", "PEN");
  const second = await proposeSerialization(page, "ASM-1009", "PEN");
  await signOut(page);

  // The quality reviewer is asked by e-mail, with a link to the request.
  const asked = await mailTo("quinn.quality@plant.example", `[C-981] Review requested: ${first} `);
  expect(asked.text).toContain("Emil Engineer submitted");
  const link = asked.text.match(/Open it: (\S+)/)![1]!;
  expect(new URL(link).pathname).toBe(`/change-requests/${first}`);
  // …and in the inbox: the header's count is the inbox's unread notifications.
  await signIn(page, "quinn.quality");
  const unread = await unreadInHeader(page);
  expect(unread).toBeGreaterThanOrEqual(2);
  await page.getByRole("link", { name: /^Inbox, \d+ unread$/ }).click();
  await expect(page.getByRole("heading", { name: "Inbox", level: 1 })).toBeVisible();
  const list = page.getByRole("list", { name: "Notifications" });
  await expect(list.getByRole("listitem", { name: /^Unread: / })).toHaveCount(unread);
  const item = list.getByRole("listitem", { name: `Unread: Review requested: ${first} Serialize ASM-1009 at PEN` });
  await expect(item).toBeVisible();
  await item.getByRole("button", { name: /^Mark read/ }).click();
  await expect(page.getByRole("link", { name: `Inbox, ${unread - 1} unread` })).toBeVisible();
  await expect(list.getByRole("listitem", { name: `Review requested: ${first} Serialize ASM-1009 at PEN` })).toBeVisible();
  // The e-mail's link opens the request.
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(first);
  await approve(page, first, "quinn.quality");
  await signOut(page);

  // The author is told of the approval.
  const approvedMail = await mailTo("emil.engineer@plant.example", `[C-981] Approved: ${first} `);
  expect(approvedMail.text).toContain(`/change-requests/${first}`);

  // A release at PEN moves what the second request read: its author is told it is stale.
  await signIn(page, "remy.release");
  await page.goto("/releases");
  const pen = page.locator("section", { has: page.getByRole("heading", { name: /^PEN/ }) });
  await pen.getByLabel(`Release ${first} at PEN`).check();
  if (await pen.getByLabel("User name").count()) await pen.getByLabel("User name").fill("remy.release");
  await pen.getByLabel("Password").fill(DEMO_PASSWORD);
  const waiver = pen.getByLabel("Waiver for unresolved ERP/PLM disagreements");
  if (await waiver.count()) await waiver.fill("PLM and ERP corrections are planned separately (e2e).");
  await pen.getByRole("button", { name: "Sign and release at PEN" }).click();
  await page.waitForURL(/\/rule-sets\/PEN\/\d+\?released=1/);
  await signOut(page);

  const stale = await mailTo("emil.engineer@plant.example", `[C-981] Made stale by a release: ${second} `);
  expect(stale.text).toContain(first);
  expect(new URL(stale.text.match(/Open it: (\S+)/)![1]!).pathname).toBe(`/change-requests/${second}`);
  await mailTo("emil.engineer@plant.example", `[C-981] Released at PEN: ${first} `);

  // Emil's inbox holds them too; Mark all read empties the count.
  await signIn(page, "emil.engineer");
  await page.getByRole("link", { name: /^Inbox, \d+ unread$/ }).click();
  const mine = page.getByRole("list", { name: "Notifications" });
  await expect(mine.getByRole("listitem", { name: `Unread: Made stale by a release: ${second} Serialize ASM-1009 at PEN` })).toBeVisible();
  await expect(mine.getByRole("listitem", { name: `Unread: Approved: ${first} Serialize ASM-1009 at PEN` })).toBeVisible();
  // Only this request's notice: other specs' releases at PEN made other requests of Emil's stale too.
  await mine
    .getByRole("listitem", { name: `Unread: Made stale by a release: ${second} Serialize ASM-1009 at PEN`, exact: true })
    .getByRole("link")
    .click();
  await expect(page).toHaveURL(new RegExp(`/change-requests/${second}$`));
  await page.getByRole("link", { name: /^Inbox, \d+ unread$/ }).click();
  await page.getByRole("button", { name: "Mark all read" }).click();
  await expect(page.getByRole("link", { name: "Inbox, 0 unread" })).toBeVisible();

  // Preferences: e-mail is configured here, so the screen does not warn of inbox-only.
  await page.getByRole("link", { name: "Notification settings" }).click();
  await expect(page.getByLabel("E-mail address")).toHaveValue("emil.engineer@plant.example");
  await expect(page.getByText(/No mail server is configured/)).toHaveCount(0);
  await page.getByLabel("Approved: e-mail").uncheck();
  await page.getByRole("button", { name: "Save notification settings" }).click();
  await expect(page.getByRole("status")).toContainText("Notification settings saved.");
  await expect(page.getByLabel("Approved: e-mail")).not.toBeChecked();
  await expect(page.getByLabel("Approved: inbox")).toBeChecked();
});
