import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { expect, signIn, signOut, test } from "./support";

/**
 * The EPCIS import screen (issue 24 item 3, ADR 033): no site preselected; a document imported into
 * the chosen site shows its counts, the items it created (linked to their genealogy) and the GTINs
 * it quarantined (linked to their quarantine row); the history lists it and opens its record; a bad
 * document is refused with its error located, styled and announced as an error, and is in the
 * history too. The document is test/fixtures/epcis-quarantine/quarantine-release.json, counted by
 * hand: 4 events, event 0 commissions K1001 and K1002 of GTIN 04012345111118 (a demo material),
 * events 1–3 name GTINs 04012345555554 and 04012345888881 (no materials: quarantined).
 */
const SCREENS = path.resolve(import.meta.dirname, "../../docs/screens");
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const GOOD = path.join(FIXTURES, "epcis-quarantine/quarantine-release.json");
const BAD = path.join(FIXTURES, "epcis-screen/refused-bad-action.json");
const U1 = "04012345555554";

test("import into a chosen site: counts, created items and quarantined GTINs linked, history with records, a refusal located and styled as an error", async ({
  page,
}) => {
  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, "emil.engineer");
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "EPCIS import" }).click();
  await expect(page.getByRole("heading", { name: "EPCIS import", level: 1 })).toBeVisible();

  // No site is preselected: sent without one, the server names the field.
  const site = page.getByLabel("Site", { exact: true });
  await expect(site).toHaveValue("");
  await expect(site.locator("option:checked")).toHaveText("Choose a site");
  await page.getByLabel("EPCIS document").setInputFiles(GOOD);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(site).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#epcis-site-error")).toHaveText("Choose a site");
  await expect(page.getByRole("heading", { name: /^Imported/ })).toHaveCount(0);

  await site.selectOption("EIN");
  await page.getByLabel("EPCIS document").setInputFiles(GOOD);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  const result = page.getByRole("region", { name: "Imported into EIN" });
  await expect(result).toBeVisible();
  await expect(result.getByRole("status")).toHaveText(
    "quarantine-release.json: 4 event(s) read, 2 trace item(s) and 0 edge(s) created, 3 event(s) quarantined.",
  );
  const figure = (label: string) =>
    result
      .locator(".stat")
      .filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) })
      .locator("dd");
  await expect(figure("Events read")).toHaveText("4");
  await expect(figure("Trace items created")).toHaveText("2");
  await expect(figure("Edges created")).toHaveText("0");
  await expect(figure("Quarantined \\(unknown GTIN\\)")).toHaveText("3");
  await expect(figure("Already held \\(skipped\\)")).toHaveText("0");
  // Quarantined GTINs lead to their row in the quarantine list on this screen.
  const quarantined = result.getByRole("link", { name: U1 });
  await expect(quarantined).toHaveAttribute("href", `#quarantine-${U1}`);
  await expect(page.locator(`#quarantine-${U1}`)).toContainText(U1);
  // The history has the import, newest first.
  const history = page.getByRole("table", { name: /Import history/ });
  const row = history.getByRole("row").filter({ hasText: "quarantine-release.json" });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("emil.engineer");
  await expect(row).toContainText("EIN");
  await expect(row).toContainText("imported 4 events · 2 items · 3 quarantined");

  await fs.promises.mkdir(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, "epcis-import.png"), fullPage: true });

  // A created item opens its genealogy.
  await result.getByRole("link", { name: "K1001" }).click();
  await expect(page).toHaveURL(/\/genealogy\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("K1001");

  // The history row opens the record of the import, with its items linked.
  await page.goto("/imports/epcis");
  await page
    .getByRole("table", { name: /Import history/ })
    .getByRole("link", { name: /quarantine-release\.json \(imported/ })
    .click();
  await expect(page).toHaveURL(/\/imports\/epcis\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("quarantine-release.json");
  const now = page.getByRole("region", { name: "In the genealogy now" });
  await expect(now.getByRole("link", { name: "K1002" })).toHaveAttribute("href", /\/genealogy\/\d+$/);
  await expect(now.getByRole("link", { name: U1 })).toHaveAttribute("href", `/imports/epcis#quarantine-${U1}`);
  await page.screenshot({ path: test.info().outputPath("epcis-import-record.png"), fullPage: true });
  await now.getByRole("link", { name: "K1002" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("K1002");

  // A bad document: refused whole, its error located, styled and announced as an error.
  await page.goto("/imports/epcis");
  await page.getByLabel("Site", { exact: true }).selectOption("EIN");
  await page.getByLabel("EPCIS document").setInputFiles(BAD);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Refused: nothing was imported" })).toBeVisible();
  const alert = page.getByRole("alert").filter({ hasText: "refused whole" });
  await expect(alert).toHaveClass(/form-error/);
  await expect(alert).toContainText("No event, trace item or edge was stored");
  const errors = page.getByRole("table", { name: /^Errors/ });
  const located = errors.getByRole("row").filter({ hasText: "/epcisBody/eventList/1/action" });
  await expect(located).toHaveCount(1);
  await expect(located).toContainText("event 1");
  // Nothing of it reached the genealogy: event 0 (valid) is not there either.
  await page.goto("/genealogy?q=K2001");
  await expect(page.getByRole("link", { name: /K2001/ })).toHaveCount(0);

  // The refused attempt is in the history, and its record keeps the location.
  await page.goto("/imports/epcis");
  const refusedRow = page
    .getByRole("table", { name: /Import history/ })
    .getByRole("row")
    .filter({ hasText: "refused-bad-action.json" });
  await expect(refusedRow).toContainText("refused");
  await refusedRow.getByRole("link", { name: /refused-bad-action\.json/ }).click();
  await expect(page.getByRole("alert")).toContainText("refused whole");
  await expect(
    page
      .getByRole("table", { name: /^Errors/ })
      .getByRole("row")
      .filter({ hasText: "/epcisBody/eventList/1/action" }),
  ).toHaveCount(1);

  // A quality engineer (no import right) finds the refused attempt in the audit trail and opens its record.
  await signOut(page);
  await signIn(page, "quinn.quality");
  // Other specs import and refuse documents into the same portal: the row is found by this file's digest.
  const digest = createHash("sha256").update(fs.readFileSync(BAD)).digest("hex");
  await page.goto(`/audit?entityType=epcis_document&entityId=${digest}`);
  const auditRow = page.getByRole("row").filter({ hasText: "epcis.import_refused" });
  await expect(auditRow).toHaveCount(1);
  await auditRow.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/imports\/epcis\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("refused-bad-action.json");
  await expect(page.getByRole("alert")).toContainText("refused whole");
});
