import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { approve, c981, DEMO_PASSWORD, E2E_PORT, expect, proposeSerialization, signIn, signOut, test } from "./support";

/**
 * The browser story continues: an approved change request is released at a pilot site by a
 * release manager, and a runtime with a client token receives the new, signed version.
 */
test("an approved change request is released at a pilot site; curl and the reference runtime client receive the new version", async ({ page }) => {
  // Proposal, impact analysis, signature, release, the signed record, three CLI runs and the runtime
  // client: more than one page's story (on a shared 2-core machine 90 s ran out at the last sign-in).
  test.setTimeout(150_000);
  await signIn(page, "emil.engineer");
  const number = await proposeSerialization(page, "ASM-1006", "EIN");
  await signOut(page);
  await signIn(page, "quinn.quality");
  await approve(page, number, "quinn.quality");
  await signOut(page);

  await signIn(page, "remy.release");
  await page.goto("/releases");
  const ein = page.locator("section", { has: page.getByRole("heading", { name: /^EIN/ }) });
  // The diff follows the ticks: nothing before one is ticked, exactly the ticked request after.
  const diff = ein.locator("#release-ein-diff");
  await expect(diff).toContainText("Tick the change requests to release");
  await ein.getByLabel(`Release ${number} at EIN`).check();
  await expect(diff).toContainText(number);
  await expect(diff).toContainText("ASM-1006");
  await expect(ein.locator("#release-ein-made-stale")).toBeVisible();
  if (await ein.getByLabel("User name").count()) await ein.getByLabel("User name").fill("remy.release");
  await ein.getByLabel("Password").fill(DEMO_PASSWORD);
  // The demo plant's deliberate ERP/PLM disagreements remain at EIN: the release carries a waiver.
  await expect(ein).toContainText(/known ERP\/PLM disagreement\(s\) at EIN/);
  const waiver = "PLM and ERP corrections are planned separately (e2e).";
  await ein.getByLabel("Waiver for unresolved ERP/PLM disagreements").fill(waiver);
  await ein.getByRole("button", { name: "Sign and release at EIN" }).click();
  await page.waitForURL(/\/rule-sets\/EIN\/\d+\?released=1/);
  const version = Number(page.url().match(/\/rule-sets\/EIN\/(\d+)/)![1]);
  await expect(page.getByRole("main")).toContainText(number);
  await expect(page.getByRole("main")).toContainText("Remy Release");
  // The version names the waiver with its reason.
  await expect(page.locator("#version-waiver")).toContainText(waiver);

  // The released request's page and printable record still show what was signed: the diff against
  // its signed base (lot → serial, not "nothing would change"), the version, the waiver, the analysis as signed.
  await page.goto(`/change-requests/${number}`);
  await expect(page.locator("#cr-diff")).toContainText("signed base");
  await expect(page.locator("#cr-diff")).toContainText(/lot\s*serial/);
  await expect(page.locator("#cr-bases")).toContainText(`v${version}`);
  await expect(page.locator("#cr-waivers")).toContainText(waiver);
  await expect(page.locator(".analysis-currency")).toContainText("As signed");
  await page.goto(`/change-requests/${number}/record`);
  await expect(page.locator("#record-diff")).toContainText(/lot\s*serial/);
  await expect(page.locator("#record-waivers")).toContainText(waiver);

  const created = c981(["clients:create", "--name", "e2e-line-ein", "--sites", "EIN", "--reason", "e2e runtime"]);
  const token = created.match(/token \(shown once[^)]*\): (\S+)/)![1]!;
  const curl = spawnSync("curl", ["-sS", "-H", `Authorization: Bearer ${token}`, `http://127.0.0.1:${E2E_PORT}/api/v1/sites/EIN/ruleset`], {
    encoding: "utf8",
  });
  expect(curl.status).toBe(0);
  const jws = JSON.parse(curl.stdout) as { payload: string; signatures: { protected: string }[] };
  const document = JSON.parse(Buffer.from(jws.payload, "base64url").toString("utf8"));
  expect(document).toMatchObject({ type: "c981.ruleset", site: "EIN", version, changeRequests: [number] });
  expect(document.rules.find((r: { partNumber: string }) => r.partNumber === "ASM-1006")).toMatchObject({ trackingMode: "serial" });
  expect(JSON.parse(Buffer.from(jws.signatures[0]!.protected, "base64url").toString())).toMatchObject({ alg: "EdDSA", typ: "c981-ruleset+jws" });

  // The reference runtime client, pinned to the keys the administrator lists, verifies and activates
  // the new version and reports it; the runtime-clients page shows the line on that version.
  const trust = c981(["keys:list"])
    .split("\n")
    .filter((line) => /\sactive\s/.test(line))
    .map((line) => line.split(/\s+/)[0]!);
  expect(trust.length).toBeGreaterThan(0);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-e2e-runtime-"));
  try {
    const root = path.resolve(import.meta.dirname, "../..");
    const client = spawnSync(
      path.join(root, "node_modules", ".bin", "tsx"),
      ["clients/runtime/src/cli.ts", "--url", `http://127.0.0.1:${E2E_PORT}`, "--site", "EIN", "--trust", trust.join(","), "--state-dir", stateDir, "--once"],
      { cwd: root, encoding: "utf8", env: { ...process.env, C981_RUNTIME_TOKEN: token } },
    );
    expect(client.status, client.stdout + client.stderr).toBe(0);
    const events = client.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; version?: number });
    expect(events).toContainEqual(expect.objectContaining({ event: "activated", version }));
    expect(events).toContainEqual(expect.objectContaining({ event: "reported", version }));
    expect(JSON.parse(fs.readFileSync(path.join(stateDir, "ruleset.json"), "utf8"))).toMatchObject({ site: "EIN", version });
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  await signOut(page);
  await signIn(page, "ada.admin");
  await page.goto("/runtime-clients");
  const row = page.locator("#runtime-client-sites tbody tr", { has: page.getByRole("rowheader", { name: "e2e-line-ein" }) });
  await expect(row).toHaveCount(1);
  await expect(row.locator("td").nth(2)).toContainText(`v${version}`);
  await expect(row.locator("td").nth(2)).toContainText("current");
  await expect(row.locator("td").nth(6)).toContainText("none");
});
