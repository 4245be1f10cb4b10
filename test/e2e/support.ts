import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test as base, type Locator, type Page } from "@playwright/test";

/**
 * The port of the portal under test: E2E_PORT when set, else a port free right now. The runner
 * loads this module first and its workers inherit the variable, so all agree on one port. A fixed
 * default once met a leftover process on it and the whole browser run failed with EADDRINUSE.
 */
function freePort(): number {
  const probe = spawnSync(
    process.execPath,
    ["-e", "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"],
    { encoding: "utf8" },
  );
  const port = Number(probe.stdout);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port for the browser tests: ${probe.stderr}`);
  return port;
}
process.env.E2E_PORT ??= String(freePort());
export const E2E_PORT = Number(process.env.E2E_PORT);
/**
 * The port of the SMTP server test/e2e/notifications.spec.ts starts (ADR 032); the portal under
 * test sends to it (C981_SMTP_URL). While nothing listens there, the portal's sender retries.
 */
process.env.E2E_SMTP_PORT ??= String(freePort());
export const E2E_SMTP_PORT = Number(process.env.E2E_SMTP_PORT);
/** The embedded database folder of the portal the browser tests run against. */
export const E2E_DATA_DIR = path.join(os.tmpdir(), `c981-e2e-${E2E_PORT}`);
export const DEMO_PASSWORD = "c981-demo-2026";

/** The admin CLI against the running portal's embedded database, as an operator would run it. */
export function c981(args: string[], stdin?: string) {
  const root = path.resolve(import.meta.dirname, "../..");
  const result = spawnSync(path.join(root, "node_modules", ".bin", "tsx"), ["scripts/c981.ts", ...args], {
    cwd: root,
    env: { ...process.env, C981_DATA_DIR: E2E_DATA_DIR },
    input: stdin,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`c981 ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export async function signIn(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.goto("/sign-in");
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/sign-in"));
}

/** Submits the sign-in form and stays on it (for failures). */
export async function attemptSignIn(page: Page, username: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Every page must load without console errors — a Content-Security-Policy violation is one. */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        // Answers with a 4xx status are deliberate (validation, permissions); the browser logs them anyway.
        const text = message.text();
        if (message.type() === "error" && !/Failed to load resource: .*status of 4\d\d/.test(text) && !text.startsWith("AbortError:")) errors.push(text);
      });
      // A navigation the test starts while the app is still loading aborts the app's fetch; the
      // router reports that AbortError, which is the test moving on, not a fault of the app.
      page.on("pageerror", (error) => {
        if (error.name !== "AbortError") errors.push(error.message);
      });
      // CSP violations raise an event but need not log anything: report them explicitly.
      await page.exposeFunction("__c981CspViolation", (text: string) => errors.push(`CSP violation: ${text}`));
      await page.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (event) => {
          (window as unknown as { __c981CspViolation: (t: string) => void }).__c981CspViolation(
            `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`,
          );
        });
      });
      await use(errors);
      expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** What a proposal in the browser tests changes: one material at one site, to one tracking mode. */
export interface Proposal {
  material: string;
  site: string;
  trackingMode: "serial" | "lot" | "none";
  scanAtConsumption: "identify" | "verify" | "none";
  /** The identifier format's code ticked for the change, e.g. EIN-SER. */
  format: string;
  title: string;
  justification?: string;
  risk?: string;
}

/** As the signed-in engineer: fill the proposal form and create the draft. Returns its number (CR-0001). */
export async function proposeDraft(page: Page, proposal: Proposal): Promise<string> {
  await page.goto("/change-requests/new");
  await page.getByLabel("Title").fill(proposal.title);
  await page.getByLabel("Justification").fill(proposal.justification ?? "Field returns need unit-level traceability.");
  await page.getByLabel("Risk assessment", { exact: true }).fill(proposal.risk ?? "Medium: labels and scanners are in place.");
  await page.getByLabel("Grandfather existing lots and serials").check();
  const change = page.getByRole("group", { name: "Change 1" });
  await change.getByLabel("Material (part number)").first().fill(proposal.material);
  await change.getByRole("checkbox", { name: proposal.site, exact: true }).check();
  await change.getByLabel("Tracking mode").selectOption(proposal.trackingMode);
  await change.getByLabel("Scan at consumption").selectOption(proposal.scanAtConsumption);
  await change.getByRole("checkbox", { name: proposal.format, exact: true }).check();
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.waitForURL(/\/change-requests\/CR-\d{4}(\?.*)?$/);
  return page.url().match(/CR-\d{4}/)![0];
}

/** As the signed-in engineer: propose a change and submit it for review. Returns its number. */
export async function proposeAndSubmit(page: Page, proposal: Proposal): Promise<string> {
  const number = await proposeDraft(page, proposal);
  await page.getByRole("button", { name: "Submit for review" }).click();
  // Wait until the submission and its revalidation are done before the caller moves on.
  await expect(page.getByRole("button", { name: "Submit for review" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: `Sign ${number}` })).toHaveCount(0);
  return number;
}

/** As the signed-in engineer: propose serializing a lot-tracked material at one site, and submit it. */
export function proposeSerialization(page: Page, material: string, site: string): Promise<string> {
  return proposeAndSubmit(page, {
    title: `Serialize ${material} at ${site}`,
    material,
    site,
    trackingMode: "serial",
    scanAtConsumption: "identify",
    format: `${site}-SER`,
  });
}

/** The WCAG 2.1 A and AA rules of axe-core (issue 24: no serious or critical violation on any screen). */
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Runs axe-core on the page as it is now (an open dialog or menu included) and fails, listing
 * each serious or critical violation with its rule, impact, the elements' selectors and the
 * help text, so that the message alone says what to fix. Minor and moderate ones are not gated.
 * The failure is soft (the test goes on and fails at its end).
 */
export async function expectNoSeriousA11yViolations(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = serious.flatMap((v) => [
    `${v.id} (${v.impact}): ${v.help} — ${v.helpUrl}`,
    ...v.nodes.map((n) => `    ${n.target.join(" ")}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, " ")}` : ""}`),
  ]);
  // Soft: a test checking many screens reports every one that fails, not only the first.
  expect.soft(report, `serious or critical accessibility violations on ${label} (${page.url()})`).toEqual([]);
}

/**
 * On a change request's page: run its impact analysis and wait for the result (the page shows it
 * as current). Returns the analysis's SHA-256 as shown.
 */
export async function runAnalysis(page: Page): Promise<string> {
  const section = page.getByRole("region", { name: "Impact analysis" });
  await section.getByRole("button", { name: /^Run (a fresh )?impact analysis$/ }).click();
  await page.waitForURL(/[?&]done=analyse/);
  // The run and the page's revalidation are over when the button is back (and names a fresh run).
  await expect(section.getByRole("button", { name: "Run a fresh impact analysis" })).toBeEnabled();
  await expect(section.getByText("Current:", { exact: true })).toBeVisible();
  return (await section.locator(".analysis-facts code.digest").textContent())!.trim();
}

/**
 * As a reviewer on a change request's page: the signature dialog, opened from the review panel's
 * Review button unless it is open already (it stays open after a refused attempt).
 */
export async function openSignatureDialog(page: Page, number: string) {
  const dialog = page.getByRole("dialog", { name: `Sign ${number}` });
  if (!(await dialog.isVisible())) await page.getByRole("button", { name: `Review ${number}` }).click();
  await expect(dialog).toBeVisible();
  return dialog;
}

/** In a signature dialog: tick every critical and warning finding it lists (an approval needs them, ADR 029). */
export async function acknowledgeFindings(dialog: Locator) {
  const group = dialog.getByRole("group", { name: "Findings you acknowledge" });
  if ((await group.count()) === 0) return;
  for (const box of await group.getByRole("checkbox").all()) await box.check();
}

/** As a reviewer: run the impact analysis, then approve with user name, password and meaning. */
export async function approve(page: Page, number: string, username: string) {
  await page.goto(`/change-requests/${number}`);
  await runAnalysis(page);
  const dialog = await openSignatureDialog(page, number);
  await dialog.getByLabel(/^Approved:/).check();
  await acknowledgeFindings(dialog);
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill(username);
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  await expect(page.getByRole("listitem", { name: /^Signature of / }).first()).toBeVisible();
}

/** True when the element the locator finds has the keyboard focus. */
export const isFocused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

/**
 * Presses Tab (keyboard only, no click) until the element has the focus; fails after `max` presses,
 * which says the element is not in the tab order.
 */
export async function tabTo(page: Page, locator: Locator, max = 150) {
  for (let presses = 0; presses < max; presses++) {
    if ((await locator.count()) === 1 && (await isFocused(locator))) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`${locator} was not reached by ${max} presses of Tab`);
}
