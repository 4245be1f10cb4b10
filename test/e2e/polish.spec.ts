import { generateDemoPlant } from "../../app/seed/demo-plant";
import { expect, signIn, test } from "./support";

/** The viewport the issue measured: a common laptop screen. */
test.use({ viewport: { width: 1366, height: 768 } });

test("the administrator's primary navigation is one line at 1366 px, and the Administration menu opens by keyboard", async ({ page }) => {
  await signIn(page, "ada.admin");
  const nav = page.getByRole("navigation", { name: "Primary" });
  const items = nav.locator(":scope > ul > li");
  await expect(items.first()).toBeVisible();
  // One line: every top-level entry starts at the same height, and the list is one entry tall.
  const boxes = await items.evaluateAll((lis) => lis.map((li) => ({ top: (li as HTMLElement).offsetTop, height: (li as HTMLElement).offsetHeight })));
  expect(boxes.length).toBeGreaterThan(5);
  expect(new Set(boxes.map((b) => b.top)).size).toBe(1);
  const listHeight = await nav.locator(":scope > ul").evaluate((ul) => (ul as HTMLElement).offsetHeight);
  expect(listHeight).toBeLessThanOrEqual(Math.max(...boxes.map((b) => b.height)) + 1);

  // Closed, its entries are hidden; Tab to its summary and Enter opens it; Escape closes it.
  const keys = nav.getByRole("link", { name: "Keys" });
  await expect(keys).toBeHidden();
  const summary = nav.getByText("Administration", { exact: true });
  await summary.focus();
  await page.keyboard.press("Enter");
  await expect(keys).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(keys).toBeHidden();
  await expect(summary).toBeFocused();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(nav.getByRole("link", { name: "Users" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/users$/);
  // The menu closes on navigation and shows as current on its pages.
  await expect(keys).toBeHidden();
  await expect(summary).toHaveClass(/current/);
  // A press outside closes it.
  await summary.click();
  await expect(keys).toBeVisible();
  await page.getByRole("heading", { level: 1 }).click();
  await expect(keys).toBeHidden();
});

for (const username of ["vera.viewer", "emil.engineer", "quinn.quality", "remy.release"]) {
  test(`${username}'s primary navigation is one line at 1366 px`, async ({ page }) => {
    await signIn(page, username);
    const items = page.getByRole("navigation", { name: "Primary" }).locator(":scope > ul > li");
    // evaluateAll does not wait: wait for the navigation to be on screen first.
    await expect(items.first()).toBeVisible();
    const tops = await items.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).offsetTop));
    expect(tops.length).toBeGreaterThan(5);
    expect(new Set(tops).size).toBe(1);
  });
}

test("a broad genealogy search has a second page that differs from the first, and the page links keep the query", async ({ page }) => {
  // The oracle: a five-character prefix the demo plant's generator gives 41 to 200 identifiers.
  const counts = new Map<string, number>();
  for (const item of generateDemoPlant().traceItems) counts.set(item.identifier.slice(0, 5), (counts.get(item.identifier.slice(0, 5)) ?? 0) + 1);
  const [prefix, count] = [...counts].filter(([p, n]) => n > 40 && n <= 200 && /^[A-Z0-9]+$/.test(p)).sort((a, b) => b[1] - a[1])[0]!;
  await signIn(page, "vera.viewer");
  await page.goto("/genealogy");
  await page.getByLabel("Identifier").fill(prefix);
  await page.getByRole("button", { name: "Search" }).click();
  const pages = page.getByRole("navigation", { name: "Pages of identifiers starting with the text" });
  await expect(pages).toContainText(`Page 1 of ${Math.ceil(count / 20)}`);
  await expect(pages).toContainText(`${count} in all`);
  const table = page.getByRole("table", { name: new RegExp(`^Identifiers starting with ${prefix}`) });
  const identifiers = () => table.locator("tbody th").allTextContents();
  const first = await identifiers();
  expect(first).toHaveLength(20);
  await pages.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${prefix}.*page=2|page=2.*q=${prefix}`));
  await expect(pages).toContainText(`Page 2 of ${Math.ceil(count / 20)}`);
  const second = await identifiers();
  expect(second.length).toBeGreaterThan(0);
  expect(second.filter((id) => first.includes(id))).toEqual([]);
});

test("the trace graphs fit their boxes at 1366 px", async ({ page }) => {
  const device = generateDemoPlant().traceItems.find(
    (it) => it.site === "EIN" && it.kind === "serial" && it.partNumber.startsWith("FIN-") && it.status === "shipped",
  )!;
  await signIn(page, "vera.viewer");
  await page.goto(`/genealogy?q=${encodeURIComponent(device.identifier)}`);
  await page
    .getByRole("table", { name: new RegExp(`^Items identified as ${device.identifier}`) })
    .getByRole("link", { name: new RegExp(`^${device.identifier} `) })
    .click();
  const svgs = page.locator("svg.trace-graph-svg");
  await expect(svgs.first()).toBeVisible();
  for (const svg of await svgs.all()) {
    const fit = await svg.evaluate((el) => {
      const box = el.parentElement!;
      return { svg: el.getBoundingClientRect().width, box: box.clientWidth, scroll: box.scrollWidth };
    });
    expect(fit.svg).toBeLessThanOrEqual(fit.box + 0.5);
    expect(fit.scroll).toBeLessThanOrEqual(fit.box);
  }
});

test("a 403 page names the role and scope needed", async ({ page }) => {
  await signIn(page, "emil.engineer");
  const response = await page.goto("/keys");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Not allowed");
  await expect(page.getByText("You need the administrator role for all sites to administer users, keys and runtime clients.")).toBeVisible();
  await expect(page.getByRole("definition").first()).toHaveText("Administrator");
});
