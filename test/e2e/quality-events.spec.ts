import { generateDemoPlant } from "../../app/seed/demo-plant";
import { expect, signIn, test } from "./support";

/**
 * A quality reviewer raises a nonconformance from the genealogy explorer, on a raw-material lot of
 * the demo plant that went into finished goods: the form comes prefilled from the item, a bad row is
 * named, and the event page then shows the reference with the rule in force and the event's reach.
 */
function pickConsumedLot() {
  const plant = generateDemoPlant();
  const consumed = new Set(plant.edges.filter((e) => e.input !== e.output).map((e) => e.input));
  const index = plant.traceItems.findIndex((it, i) => it.site === "EIN" && it.kind === "lot" && it.partNumber.startsWith("RAW-") && consumed.has(i));
  if (index < 0) throw new Error("the demo plant has no consumed EIN raw lot");
  return plant.traceItems[index]!;
}

test("raise a nonconformance on a lot from the explorer, with a bad row named first", async ({ page }) => {
  const lot = pickConsumedLot();
  await signIn(page, "quinn.quality");
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Genealogy" }).click();
  await page.getByLabel("Identifier").fill(lot.identifier);
  await page.getByRole("button", { name: "Search" }).click();
  const matches = page.getByRole("table", { name: new RegExp(`^Items identified as ${lot.identifier}`) });
  await matches.getByRole("link", { name: new RegExp(`^${lot.identifier} \\(lot of ${lot.partNumber} at EIN\\)`) }).click();
  await page.getByRole("link", { name: "Raise a quality event on this lot" }).click();

  await expect(page.getByRole("heading", { name: "Raise a quality event", level: 1 })).toBeVisible();
  await expect(page.getByLabel("Site")).toHaveValue("EIN");
  await expect(page.getByLabel("Reference 1: kind")).toHaveValue("lot");
  await expect(page.getByLabel("Reference 1: material")).toHaveValue(lot.partNumber);
  await expect(page.getByLabel("Reference 1: identifier")).toHaveValue(lot.identifier);

  await page.getByLabel("Kind", { exact: true }).selectOption("nonconformance");
  await page.getByLabel("Severity", { exact: true }).selectOption("major");
  await page.getByLabel("Title", { exact: true }).fill("Incoming inspection: hardness below specification");
  // A serial named without its material: refused in the browser, on its row.
  await page.getByLabel("Reference 2: identifier").fill("NO-SUCH-SERIAL");
  await page.getByRole("button", { name: "Raise the event" }).click();
  await expect(page.getByText("Reference 2: give the material's part number")).toBeVisible();

  // A serial that does not exist at the site: refused by the server, on its row, nothing raised.
  await page.getByLabel("Reference 2: material").fill(lot.partNumber);
  await page.getByRole("button", { name: "Raise the event" }).click();
  await expect(page.getByLabel("Reference 2: identifier")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Reference 2: material").fill("");
  await page.getByLabel("Reference 2: identifier").fill("");
  await page.getByRole("button", { name: "Raise the event" }).click();

  await expect(page.getByText("The event was raised and recorded in the audit trail")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Incoming inspection: hardness below specification");
  const references = page.getByRole("table", { name: /What the event references/ });
  await expect(references).toContainText(lot.identifier);
  await expect(references).toContainText(lot.partNumber);
  await expect(page.getByRole("table", { name: /Reach: finished goods/ })).toBeVisible();
});
