import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { c981, E2E_PORT, expect, signIn, test } from "./support";

const root = path.resolve(import.meta.dirname, "../..");

/** One `--once` round of the reference runtime client (CLI) against the portal under test. */
function runtimeClient(token: string, site: string, trust: string[]) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-e2e-refusal-"));
  try {
    const run = spawnSync(
      path.join(root, "node_modules", ".bin", "tsx"),
      ["clients/runtime/src/cli.ts", "--url", `http://127.0.0.1:${E2E_PORT}`, "--site", site, "--trust", trust.join(","), "--state-dir", stateDir, "--once"],
      { cwd: root, encoding: "utf8", env: { ...process.env, C981_RUNTIME_TOKEN: token } },
    );
    const events = run.stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { status: run.status, events, output: run.stdout + run.stderr };
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

const tokenOf = (created: string) => created.match(/token \(shown once[^)]*\): (\S+)/)![1]!;

/**
 * Issue 24: a runtime that refuses an update leaves a trace on Runtime clients (when, code,
 * version, kid), and a token that does not cover the site is `forbidden`, not `unreachable`.
 */
test("a runtime's refusal appears on Runtime clients with its code and kid; a token for another site is forbidden", async ({ page }) => {
  test.setTimeout(90_000);
  const portalKeys = c981(["keys:list"])
    .split("\n")
    .filter((line) => /\sactive\s/.test(line))
    .map((line) => line.split(/\s+/)[0]!);
  expect(portalKeys.length).toBeGreaterThan(0);

  // Pinned to a key the portal never used: the genuine rule set is refused as untrusted-key.
  const token = tokenOf(c981(["clients:create", "--name", "e2e-refusing-line", "--sites", "EIN", "--reason", "e2e refusal"]));
  const stranger = "A".repeat(43);
  const refusing = runtimeClient(token, "EIN", [stranger]);
  expect(refusing.status, refusing.output).toBe(1);
  const refused = refusing.events.find((e) => e.event === "refused");
  expect(refused, refusing.output).toMatchObject({ code: "untrusted-key", keeping: null });
  const reported = refusing.events.find((e) => e.event === "refusal-reported");
  expect(reported, refusing.output).toMatchObject({ code: "untrusted-key" });
  expect(portalKeys).toContain(reported!.kid);
  const offeredVersion = reported!.offeredVersion as number;

  // A token for CLT asked for EIN: forbidden (exit 3), never unreachable.
  const otherSite = tokenOf(c981(["clients:create", "--name", "e2e-clt-line", "--sites", "CLT", "--reason", "e2e scope mismatch"]));
  const mismatch = runtimeClient(otherSite, "EIN", portalKeys);
  expect(mismatch.status, mismatch.output).toBe(3);
  expect(mismatch.events.some((e) => e.event === "unreachable")).toBe(false);
  expect(mismatch.events.at(-1)).toMatchObject({ event: "status", failure: "forbidden" });

  await signIn(page, "ada.admin");
  await page.goto("/runtime-clients");
  const row = page.locator("#runtime-client-refusals tbody tr", { has: page.getByRole("rowheader", { name: "e2e-refusing-line" }) });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("EIN");
  await expect(row).toContainText(`v${offeredVersion}`);
  await expect(row).toContainText("untrusted-key");
  await expect(row).toContainText(String(reported!.kid));
  await expect(row).toContainText("a version C-981 published");
});
