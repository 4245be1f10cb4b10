import fs from "node:fs/promises";
import { DEMO_VERSION_DATES, generateDemoPlant } from "../../app/seed/demo-plant";
import { expect, signIn, test } from "./support";

/**
 * The demo plant is deterministic: from its generator, pick a shipped EIN device whose genealogy
 * reaches back to a raw lot received before the site's first rule-set version (legacy), made under
 * version 2 and packed on a pallet.
 */
function pickDevice() {
  const plant = generateDemoPlant();
  const items = plant.traceItems;
  const inputsOf = new Map<number, number[]>();
  const packed = new Set<number>();
  for (const e of plant.edges) {
    if (e.input === e.output) continue;
    (inputsOf.get(e.output) ?? inputsOf.set(e.output, []).get(e.output)!).push(e.input);
    if (e.kind === "aggregate") packed.add(e.input);
  }
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.site !== "EIN" || it.kind !== "serial" || !it.partNumber.startsWith("FIN-") || it.status !== "shipped" || !packed.has(i)) continue;
    if (it.createdAt < DEMO_VERSION_DATES[1]) continue; // made under version 2
    const seen = new Set([i]);
    const queue = [i];
    for (let k = 0; k < queue.length; k++) {
      for (const input of inputsOf.get(queue[k]!) ?? []) if (!seen.has(input)) seen.add(input), queue.push(input);
    }
    const legacyRaw = [...seen].find((j) => items[j]!.partNumber.startsWith("RAW-") && items[j]!.createdAt < DEMO_VERSION_DATES[0]);
    if (legacyRaw !== undefined) return { device: it, rawLot: items[legacyRaw]! };
  }
  throw new Error("the demo plant has no such device");
}

test("search an identifier, trace it both ways with the rule in force at each step, and export a recall", async ({ page }) => {
  const { device, rawLot } = pickDevice();
  await signIn(page, "vera.viewer");
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Genealogy" }).click();
  await page.getByLabel("Identifier").fill(device.identifier);
  await page.getByRole("button", { name: "Search" }).click();
  const matches = page.getByRole("table", { name: new RegExp(`^Items identified as ${device.identifier}`) });
  await matches.getByRole("link", { name: new RegExp(`^${device.identifier} \\(serial of ${device.partNumber} at EIN\\)`) }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(device.identifier);

  // Backward: every tier down to the raw lot, which was received before version 1 (legacy).
  const backward = page.getByRole("table", { name: /^Backward trace/ });
  // Cells after the item's row header: tier, kind, material, site, event, quantity, time, tracking then, rule set then, precision.
  const self = backward.getByRole("row").filter({ hasText: "(this item)" });
  await expect(self).toContainText(device.partNumber);
  await expect(self.getByRole("cell").nth(7)).toHaveText("serial");
  await expect(self.getByRole("cell").nth(8)).toHaveText("v2");
  await expect(self.getByRole("cell").nth(9)).toHaveText("unit");
  const rawRow = backward.getByRole("row").filter({ has: page.getByRole("link", { name: rawLot.identifier, exact: true }) });
  await expect(rawRow).toContainText(rawLot.partNumber);
  await expect(rawRow.getByRole("cell").nth(7)).toHaveText("legacy");
  await expect(rawRow.getByRole("cell").nth(8)).toHaveText("legacy");
  await expect(rawRow.getByRole("cell").nth(9)).toHaveText("lot");
  const graph = page.getByRole("group", { name: /Backward trace graph/ });
  await expect(graph).toBeVisible();
  await expect(graph).toContainText(device.identifier);
  await expect(graph).toContainText("legacy");

  // Forward: the device went onto a pallet.
  const forward = page.getByRole("table", { name: /^Forward trace/ });
  await expect(forward.getByRole("row").filter({ hasText: "container" })).toHaveCount(1);
  await expect(forward.getByRole("row").filter({ hasText: "aggregate from" })).toContainText(device.identifier);

  // Recall from the legacy raw lot: the device is among the finished items it may be in.
  await rawRow.getByRole("link", { name: rawLot.identifier, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(rawLot.identifier);
  const recall = page.getByRole("table", { name: /^Finished items reached forward/ });
  const deviceRow = recall.getByRole("row").filter({ has: page.getByRole("link", { name: device.identifier, exact: true }) });
  await expect(deviceRow).toContainText(/certain|candidate/);
  await expect(page.getByRole("table", { name: /^Recall by site/ }).getByRole("row", { name: /EIN/ })).toBeVisible();

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export recall (CSV)" }).click()]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^c981-recall-${rawLot.identifier}-\\d+\\.csv$`));
  const csv = await fs.readFile((await download.path())!, "utf8");
  const lines = csv.trim().split("\r\n");
  expect(lines[0]).toMatch(/^recalled_from,.*,recall,trace_precision,/);
  const line = lines.find((l) => l.split(",")[4] === device.identifier);
  expect(line).toBeDefined();
  expect(line!.split(",")[0]).toBe(rawLot.identifier);
  expect(["certain", "candidate"]).toContain(line!.split(",")[10]);
  // A header line and one line per finished item, as many as the table's rows (its header row included).
  expect(lines).toHaveLength(await recall.getByRole("row").count());
});

test("an unknown identifier finds nothing and an item of no site answers 404", async ({ page }) => {
  await signIn(page, "vera.viewer");
  await page.goto("/genealogy?q=NO-SUCH-LOT");
  await expect(page.getByRole("table", { name: /^Items identified as NO-SUCH-LOT/ })).toContainText("No item has this identifier.");
  const response = await page.goto("/genealogy/999999999");
  expect(response?.status()).toBe(404);
});
