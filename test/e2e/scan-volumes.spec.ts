import { randomUUID } from "node:crypto";
import { c981, E2E_PORT, expect, proposeDraft, runAnalysis, signIn, signOut, test } from "./support";

const tokenOf = (created: string) => created.match(/token \(shown once[^)]*\): (\S+)/)![1]!;
const hour = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00:00.000Z`;

/**
 * Issue 26 (ADR 042): scan decisions a station reported appear on Runtime clients per client and
 * step, last 24 h and 7 days, with refusal rates. The reports are sent through the runtime API as
 * the reference client sends them; the expected figures are counted by hand from them.
 */
test("reported scan decisions show on Runtime clients per step: volumes and refusal rates, 24 h and 7 days", async ({ page }) => {
  test.setTimeout(60_000);
  const token = tokenOf(c981(["clients:create", "--name", "e2e-scanning-station", "--sites", "EIN", "--reason", "e2e scan volumes"]));
  const now = Date.now();
  const row = (bucket: string, outcome: string, reason: string, count: number) => ({
    bucket,
    parent: "FIN-1005",
    step: 10,
    expected: "SUB-1005",
    outcome,
    reason,
    count,
  });
  const report = {
    batchId: randomUUID(),
    bucketMinutes: 60,
    counts: [
      // This hour: 40 scans, 10 stopped the line (6 ambiguous, 4 refused) → 25.0 %.
      row(hour(now), "accept", "accepted", 30),
      row(hour(now), "ambiguous", "ambiguous", 6),
      row(hour(now), "refuse", "wrong-material", 4),
      // Three days ago: 60 more, 10 refused → 7 days: 100 scans, 20 refused → 20.0 %.
      row(hour(now - 3 * 24 * 3600_000), "accept", "accepted", 50),
      row(hour(now - 3 * 24 * 3600_000), "refuse", "not-consumed-here", 10),
    ],
    refusals: [],
    refusalsOmitted: 0,
  };
  const send = () =>
    fetch(`http://127.0.0.1:${E2E_PORT}/api/v1/sites/EIN/scan-reports`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(report),
    });
  expect((await send()).status).toBe(201);
  // The same batch again (a resend after a lost answer): counted once.
  expect((await send()).status).toBe(200);

  await signIn(page, "ada.admin");
  await page.goto("/runtime-clients");
  const line = page.locator("#scan-volumes tbody tr", { has: page.getByRole("rowheader", { name: "e2e-scanning-station" }) });
  await expect(line).toHaveCount(1);
  await expect(line.locator("td")).toHaveText(["EIN", "FIN-1005", "10", "40", "10 (25.0 %)", "100", "20 (20.0 %)"]);

  // Beside the analysis of a request that changes SUB-1005 at EIN: the same reports, per step, with
  // refusals and ambiguous reads apart and the most frequent stop (not-consumed-here 10 > ambiguous 6 > wrong-material 4).
  await signOut(page);
  await signIn(page, "emil.engineer");
  await proposeDraft(page, {
    title: "Lot-track SUB-1005 at EIN (scan volumes)",
    material: "SUB-1005",
    site: "EIN",
    trackingMode: "lot",
    scanAtConsumption: "identify",
    format: "EIN-LOT",
  });
  await runAnalysis(page);
  const reported = page.locator("#reported-scans tbody tr", { has: page.getByRole("cell", { name: "FIN-1005", exact: true }) });
  await expect(reported).toHaveCount(1);
  await expect(reported.locator("th, td")).toHaveText(["EIN", "SUB-1005", "FIN-1005", "10", "1", "100", "14 (14.0 %)", "6 (6.0 %)", "not-consumed-here"]);
});
