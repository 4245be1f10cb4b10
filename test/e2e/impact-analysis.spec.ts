import { createHash } from "node:crypto";
import fs from "node:fs";
import { acknowledgeFindings, DEMO_PASSWORD, expect, openSignatureDialog, runAnalysis, proposeAndSubmit, signIn, signOut, test } from "./support";

/**
 * ADR 010 in the browser: an engineer proposes lot-tracking a serialized, regulated subassembly
 * (SUB-1008 at EIN); a reviewer cannot sign before an impact analysis exists and is told why; the
 * engineer runs it, reads its severities, opens a finding, sees the charts and downloads the JSON
 * whose SHA-256 is the one shown; the reviewer signs with that analysis — and a newer analysis
 * run meanwhile makes the server refuse the signature in the dialog until the page shows it.
 */
test("impact analysis: severities, findings, charts, exports; signing needs a current analysis and names it", async ({ page, baseURL }) => {
  // Four sign-ins, two analyses, two downloads and two signatures: longer than one page's story.
  test.setTimeout(120_000);
  await signIn(page, "emil.engineer");
  const number = await proposeAndSubmit(page, {
    title: "Lot-track SUB-1008 at EIN",
    justification: "The supplier ships the subassembly in lots; serials are not printed any more.",
    risk: "High: regulated finished devices lose unit-level trace of this part.",
    material: "SUB-1008",
    site: "EIN",
    trackingMode: "lot",
    scanAtConsumption: "identify",
    format: "EIN-LOT",
  });
  const url = new URL(`/change-requests/${number}`, baseURL).toString();
  const analysis = page.getByRole("region", { name: "Impact analysis" });
  await expect(analysis).toContainText(`No impact analysis has been run for ${number} yet.`);
  await signOut(page);

  // No analysis yet: the reviewer is told why signing is not offered, and cannot sign.
  await signIn(page, "quinn.quality");
  await page.goto(url);
  const dialog = await openSignatureDialog(page, number);
  await expect(dialog).toContainText("Not ready to sign: No impact analysis has been run for it yet.");
  await expect(dialog.getByRole("link", { name: "run a fresh one" })).toHaveAttribute("href", "#impact-analysis");
  await expect(dialog.getByRole("button", { name: `Sign ${number}` })).toBeDisabled();
  // Escape closes the modal (the page behind it is inert while it is open).
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await signOut(page);

  // The engineer runs it and reads it.
  await signIn(page, "emil.engineer");
  await page.goto(url);
  const hash = await runAnalysis(page);
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  await expect(analysis.getByText("Current:", { exact: true })).toBeVisible();
  await expect(analysis.locator(".analysis-facts")).toContainText("Run by");
  await expect(analysis.locator(".analysis-facts")).toContainText("emil.engineer");
  await expect(analysis.locator(".analysis-facts")).toContainText(/EIN v\d/);
  const summary = analysis.getByRole("list", { name: "Summary" });
  // PRECISION_LOSS, and LOOK_ALIKE_FORMATS: EIN-LOT sits beside EIN-SER and EIN-CTR on WC30-SHOP.
  await expect(summary).toContainText("2 critical");
  await expect(summary).toContainText(/\d+ warning/);
  await expect(summary).toContainText(/\d+ info/);

  const change1008 = analysis.getByRole("region", { name: /^SUB-1008 at EIN: serial → lot/ });
  await expect(change1008).toContainText("coarser (downgrade)");
  for (const code of ["PRECISION_LOSS", "LOOK_ALIKE_FORMATS", "LABELS", "SCAN_STEPS", "ERP_PLM_DISAGREEMENT", "REACH"])
    await expect(change1008.getByText(code, { exact: true })).toBeVisible();
  // The most severe first; a finding opens to its counts and sample identifiers.
  const precision = change1008.locator("details", { hasText: "PRECISION_LOSS" });
  await expect(change1008.locator("details").first()).toContainText("PRECISION_LOSS");
  await expect(precision.locator("summary")).toContainText("critical");
  await expect(precision.getByText("Finished units that would lose unit-level or lot-level trace")).toBeHidden();
  await precision.locator("summary").click();
  await expect(precision.getByText("Finished units that would lose unit-level or lot-level trace")).toBeVisible();
  await expect(precision.locator(".finding-counts")).toContainText("regulated");
  await expect(precision.getByRole("listitem").first()).toBeVisible();
  const lookAlike = change1008.locator("details", { hasText: "LOOK_ALIKE_FORMATS" });
  await expect(lookAlike.locator("summary")).toContainText("critical");
  await lookAlike.locator("summary").click();
  const lookAlikes = lookAlike.getByRole("table", { name: /Look-alike formats/ });
  await expect(lookAlikes.getByRole("row").filter({ hasText: "EIN-LOT and EIN-SER" })).toContainText("S00000000");
  await expect(lookAlikes.getByRole("row").filter({ hasText: "EIN-CTR and EIN-LOT" })).toContainText("C00000000");
  const erp = change1008.locator("details", { hasText: "ERP_PLM_DISAGREEMENT" });
  await erp.locator("summary").click();
  await expect(erp.locator(".finding-sample")).toContainText("SERNP=ZSER");

  // Charts: a figure with its title, an SVG image named by it, and the numbers as a table.
  const tiers = analysis.getByRole("figure", { name: "Affected items of SUB-1008 at EIN by tier and status" });
  await expect(tiers.getByRole("img", { name: "Affected items of SUB-1008 at EIN by tier and status" })).toBeVisible();
  // Tier 0 is the material's own 50 serials, all consumed into what comes next.
  await expect(tiers.locator("svg rect.seg-consumed title")).toHaveText("tier 0: 50 consumed");
  await expect(tiers.getByRole("table").locator("tbody tr").first()).toContainText("50");
  const volume = analysis.getByRole("figure", { name: /Label and scan volume per day, before and after/ });
  await expect(volume.getByRole("img")).toBeVisible();
  await expect(volume.getByRole("table").getByRole("row", { name: /SUB-1008 at EIN/ })).toHaveCount(2);
  // The demo plant runs up to the day before it was first started: the 30 days before the data
  // point hold real labels and scans, so some "before" figure is above zero.
  const before = await volume
    .getByRole("table")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => Number(r.querySelectorAll("td")[1]?.textContent)));
  expect(
    before.some((v) => v > 0),
    `volume rows: ${before.join(", ")}`,
  ).toBe(true);

  // The JSON export is the signed bytes: its SHA-256 is the hash shown.
  const [json] = await Promise.all([page.waitForEvent("download"), analysis.getByRole("link", { name: /^JSON/ }).click()]);
  expect(json.suggestedFilename()).toBe(`c981-${number}-impact-analysis-${hash.slice(0, 12)}.json`);
  const bytes = fs.readFileSync((await json.path())!);
  expect(createHash("sha256").update(bytes).digest("hex")).toBe(hash);
  expect(JSON.parse(bytes.toString("utf8"))).toMatchObject({ type: "c981.impact-analysis", changeRequest: { number }, summary: { critical: 2 } });
  // (Chromium holds back a second download from the same page: the CSV is fetched as the link says.)
  const csvResponse = await page.request.get(new URL((await analysis.getByRole("link", { name: /^CSV/ }).getAttribute("href"))!, baseURL).toString());
  expect(csvResponse.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  const csvText = await csvResponse.text();
  expect(csvText.split("\r\n")[0]).toBe("change_request,analysis_sha256,data_point,data_point_at,part_number,site,from,to,code,severity,message,count,sample");
  expect(csvText).toContain(`${number},${hash},`);
  expect(csvText).toMatch(/,SUB-1008,EIN,serial,lot,PRECISION_LOSS,critical,/);
  await signOut(page);

  // The reviewer signs with it; a newer analysis run after the page loaded is refused in the dialog.
  await signIn(page, "quinn.quality");
  await page.goto(url);
  await openSignatureDialog(page, number);
  await expect(dialog.getByText(/^You sign with impact analysis/)).toContainText(hash.slice(0, 12));
  await expect(dialog.locator('input[name="analysisHash"]')).toHaveValue(hash);
  const rerun = await page.request.post(url, { headers: { Origin: baseURL! }, form: { intent: "analyse" }, maxRedirects: 0 });
  expect(rerun.status()).toBe(302);
  await dialog.getByLabel(/^Approved:/).check();
  await acknowledgeFindings(dialog);
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  await expect(dialog.getByRole("alert")).toContainText("A newer impact analysis exists than the one on your page: review it, then sign.");
  await expect(page.getByRole("listitem", { name: /^Signature of / })).toHaveCount(0);
  await dialog.getByRole("link", { name: `Reload ${number} to see the latest analysis` }).click();
  await expect(analysis.locator(".analysis-facts code.digest")).not.toHaveText(hash);
  const newer = (await analysis.locator(".analysis-facts code.digest").textContent())!.trim();
  await openSignatureDialog(page, number);
  await expect(dialog.getByText(/^You sign with impact analysis/)).toContainText(newer.slice(0, 12));
  await dialog.getByLabel(/^Approved:/).check();
  await acknowledgeFindings(dialog);
  if (await dialog.getByLabel("User name").count()) await dialog.getByLabel("User name").fill("quinn.quality");
  await dialog.getByLabel("Password").fill(DEMO_PASSWORD);
  await dialog.getByRole("button", { name: `Sign ${number}` }).click();
  const signature = page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true });
  await expect(signature).toContainText("Impact analysis (SHA-256)");
  // The signature names the analysis it was made on (and, after it, the replay beside that analysis).
  await expect(signature.locator(`code.digest[title="${newer}"]`)).toHaveCount(1);
});
