/**
 * Scans reported by stations beside an impact analysis (issue 26 item 2, ADR 042): per site, changed
 * material, parent and step, the last 7 days summed over clients, refusals and ambiguous reads apart,
 * with the most frequent stop. Oracles: hand-counted figures of the reports sent here, and a plain
 * SQL sum over scan_report_counts written in the test.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportedScansOf } from "../../app/queries/runtime-clients.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { recordScanReport } from "../../app/services/scan-reports.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { ScanReportBody } from "../../app/schemas/scan-report";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
const NOW = new Date();
const hour = (msAgo: number) => `${new Date(NOW.getTime() - msAgo).toISOString().slice(0, 13)}:00:00.000Z`;
const DAY = 24 * 3600_000;

async function clientId(name: string, sites: string[]): Promise<number> {
  await createRuntimeClient(database.db, "test", { name, sites, reason: "reported scans test" });
  return Number((await database.client`select id from runtime_clients where name = ${name}`)[0]!.id);
}
const siteId = async (code: string) => Number((await database.client`select id from sites where code = ${code}`)[0]!.id);

function report(counts: ScanReportBody["counts"]): ScanReportBody {
  return { batchId: randomUUID(), bucketMinutes: 60, counts, refusals: [], refusalsOmitted: 0 };
}
const row = (
  ago: number,
  parent: string,
  step: number | null,
  expected: string,
  outcome: ScanReportBody["counts"][number]["outcome"],
  reason: string,
  count: number,
) => ({
  bucket: hour(ago),
  parent,
  step,
  expected,
  outcome,
  reason,
  count,
});

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const [ein, clt] = [await siteId("EIN"), await siteId("CLT")];
  const a = await clientId("station-a", ["EIN"]);
  const b = await clientId("station-b", ["EIN", "CLT"]);
  await recordScanReport(database.db, {
    runtimeClientId: a,
    siteId: ein,
    now: NOW,
    report: report([
      row(0, "FIN-1005", 10, "SUB-1005", "accept", "accepted", 30),
      row(0, "FIN-1005", 10, "SUB-1005", "ambiguous", "ambiguous", 6),
      row(0, "FIN-1005", 10, "SUB-1005", "refuse", "wrong-material", 4),
      row(3 * DAY, "FIN-1005", 10, "SUB-1005", "refuse", "not-consumed-here", 1),
      // Eight days ago: outside the window.
      row(8 * DAY, "FIN-1005", 10, "SUB-1005", "accept", "accepted", 500),
      // Another material at the same step: not asked for.
      row(0, "FIN-1005", 10, "SUB-1003", "accept", "accepted", 70),
    ]),
  });
  await recordScanReport(database.db, {
    runtimeClientId: b,
    siteId: ein,
    now: NOW,
    report: report([row(DAY, "FIN-1005", 10, "SUB-1005", "accept", "accepted", 50), row(DAY, "FIN-1005", 10, "SUB-1005", "refuse", "wrong-material", 5)]),
  });
  // The same material at another site: its own row.
  await recordScanReport(database.db, {
    runtimeClientId: b,
    siteId: clt,
    now: NOW,
    report: report([row(2 * DAY, "FIN-1005", 10, "SUB-1005", "accept", "accepted", 9)]),
  });
}, 120_000);

afterAll(async () => database?.close());

describe("reported scans beside an analysis", () => {
  it("sums the last 7 days per site, material, parent and step over clients (hand-counted)", async () => {
    const rows = await reportedScansOf(database.db, { at: NOW, lines: [{ site: "EIN", partNumber: "SUB-1005" }] });
    // EIN SUB-1005 at FIN-1005/10: a 30+6+4+1, b 50+5 → 96 scans; refused 4+1+5 = 10; ambiguous 6;
    // the most frequent stop: wrong-material (9) before ambiguous (6) and not-consumed-here (1).
    expect(rows).toEqual([
      { site: "EIN", parent: "FIN-1005", step: 10, expected: "SUB-1005", clients: 2, scans: 96, refused: 10, ambiguous: 6, topReason: "wrong-material" },
    ]);
    const both = await reportedScansOf(database.db, {
      at: NOW,
      lines: [
        { site: "EIN", partNumber: "SUB-1005" },
        { site: "CLT", partNumber: "SUB-1005" },
      ],
    });
    expect(both.map((r) => [r.site, r.scans, r.topReason])).toEqual([
      ["CLT", 9, null],
      ["EIN", 96, "wrong-material"],
    ]);
    expect(await reportedScansOf(database.db, { at: NOW, lines: [] })).toEqual([]);
    expect(await reportedScansOf(database.db, { at: NOW, lines: [{ site: "EIN", partNumber: "RAW-2001" }] })).toEqual([]);
  });

  it("equals a plain SQL sum over the stored counts", async () => {
    const [oracle] = await database.client`
      select sum(c.count)::int as scans,
        coalesce(sum(c.count) filter (where c.outcome = 'refuse'), 0)::int as refused,
        coalesce(sum(c.count) filter (where c.outcome = 'ambiguous'), 0)::int as ambiguous
      from scan_report_counts c join sites s on s.id = c.site_id
      where s.code = 'EIN' and c.expected = 'SUB-1005'
        and c.bucket >= ${new Date(NOW.getTime() - 7 * DAY).toISOString()}::timestamptz and c.bucket <= ${NOW.toISOString()}::timestamptz`;
    const [row] = await reportedScansOf(database.db, { at: NOW, lines: [{ site: "EIN", partNumber: "SUB-1005" }] });
    expect({ scans: row!.scans, refused: row!.refused, ambiguous: row!.ambiguous }).toEqual(oracle);
  });
});
