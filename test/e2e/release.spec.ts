import { spawnSync } from "node:child_process";
import { approve, c981, DEMO_PASSWORD, E2E_PORT, expect, proposeSerialization, signIn, signOut, test } from "./support";

/**
 * The browser story continues: an approved change request is released at a pilot site by a
 * release manager, and a runtime with a client token receives the new, signed version.
 */
test("an approved change request is released at a pilot site; curl with a client token receives the new version", async ({ page }) => {
  await signIn(page, "emil.engineer");
  const number = await proposeSerialization(page, "ASM-1006", "EIN");
  await signOut(page);
  await signIn(page, "quinn.quality");
  await approve(page, number, "quinn.quality");
  await signOut(page);

  await signIn(page, "remy.release");
  await page.goto("/releases");
  const ein = page.locator("section", { has: page.getByRole("heading", { name: /^EIN/ }) });
  await ein.getByLabel(`Release ${number} at EIN`).check();
  if (await ein.getByLabel("User name").count()) await ein.getByLabel("User name").fill("remy.release");
  await ein.getByLabel("Password").fill(DEMO_PASSWORD);
  await ein.getByRole("button", { name: "Sign and release at EIN" }).click();
  await page.waitForURL(/\/rule-sets\/EIN\/\d+\?released=1/);
  const version = Number(page.url().match(/\/rule-sets\/EIN\/(\d+)/)![1]);
  await expect(page.getByRole("main")).toContainText(number);
  await expect(page.getByRole("main")).toContainText("Remy Release");

  const created = c981(["clients:create", "--name", "e2e-line-ein", "--sites", "EIN", "--reason", "e2e runtime"]);
  const token = created.match(/token \(shown once[^)]*\): (\S+)/)![1]!;
  const curl = spawnSync("curl", ["-sS", "-H", `Authorization: Bearer ${token}`, `http://127.0.0.1:${E2E_PORT}/api/v1/sites/EIN/ruleset`], { encoding: "utf8" });
  expect(curl.status).toBe(0);
  const jws = JSON.parse(curl.stdout) as { payload: string; signatures: { protected: string }[] };
  const document = JSON.parse(Buffer.from(jws.payload, "base64url").toString("utf8"));
  expect(document).toMatchObject({ type: "c981.ruleset", site: "EIN", version, changeRequests: [number] });
  expect(document.rules.find((r: { partNumber: string }) => r.partNumber === "ASM-1006")).toMatchObject({ trackingMode: "serial" });
  expect(JSON.parse(Buffer.from(jws.signatures[0]!.protected, "base64url").toString())).toMatchObject({ alg: "EdDSA", typ: "c981-ruleset+jws" });
});
