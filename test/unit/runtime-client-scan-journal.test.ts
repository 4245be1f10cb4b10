/**
 * The reference client's scan journal (clients/runtime/src/scan.ts, ADR 042): the decision log
 * rotates and keeps its files; the spool is sealed into batches with fixed ids; a report counts
 * per hour and key and hashes refused strings (raw only when configured). Real files in a
 * temporary folder; decisions written by hand (the journal stores, it does not decide).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ScanJournal } from "../../clients/runtime/src/scan";
import type { ScanDecision } from "../../packages/identifiers/src/index";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "c981-journal-"));
  dirs.push(d);
  return d;
};

const decision = (outcome: ScanDecision["outcome"], code: string, step = 10): ScanDecision =>
  ({
    outcome,
    reason: { code, message: code },
    readings: [],
    reading: null,
    required: null,
    alternates: [],
    step,
    decidedBy: { ruleId: "EIN/SUB-1005", requirementId: "EIN/FIN-1005/10/SUB-1005", ruleSetVersion: 7, digest: `sha256:${"a".repeat(64)}` },
  }) as unknown as ScanDecision;
const request = { parent: "FIN-1005", step: 10, expected: "SUB-1005", scanned: "S00001005" };

describe("scan journal", () => {
  it("rotates the decision log past its size, keeping the number of files asked", () => {
    const dir = tmp();
    const journal = ScanJournal.open(dir, { maxLogBytes: 1000, keepLogs: 2 });
    for (let i = 0; i < 40; i++) journal.record(new Date("2026-12-07T10:00:00.000Z"), request, decision("accept", "accepted"));
    const files = fs
      .readdirSync(path.join(dir, "scans"))
      .filter((f) => f.startsWith("decisions.jsonl"))
      .sort();
    expect(files).toEqual(["decisions.jsonl", "decisions.jsonl.1", "decisions.jsonl.2"]);
    for (const f of files) expect(fs.statSync(path.join(dir, "scans", f)).size).toBeLessThanOrEqual(1000);
  });

  it("seals the spool into one batch and reports counts per hour and key; refusals hashed, not raw", () => {
    const dir = tmp();
    const journal = ScanJournal.open(dir);
    journal.record(new Date("2026-12-07T10:05:00.000Z"), request, decision("accept", "accepted"));
    journal.record(new Date("2026-12-07T10:59:59.999Z"), request, decision("accept", "accepted"));
    journal.record(new Date("2026-12-07T11:00:00.000Z"), request, decision("ambiguous", "ambiguous"));
    const id = journal.seal()!;
    expect(journal.seal()).toBeNull(); // nothing new: no empty batch
    expect(journal.pending()).toEqual([id]);
    const report = journal.reportOf(id);
    expect(report.counts).toEqual([
      { bucket: "2026-12-07T10:00:00.000Z", parent: "FIN-1005", step: 10, expected: "SUB-1005", outcome: "accept", reason: "accepted", count: 2 },
      { bucket: "2026-12-07T11:00:00.000Z", parent: "FIN-1005", step: 10, expected: "SUB-1005", outcome: "ambiguous", reason: "ambiguous", count: 1 },
    ]);
    expect(report.refusals).toHaveLength(1);
    expect(report.refusals[0]!.scannedHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(report.refusals[0]).not.toHaveProperty("scanned");
    expect(JSON.stringify(report)).not.toContain("S00001005");
    // The same salt after a restart: the same string hashes alike; another client's salt differs.
    expect(ScanJournal.open(dir).hash("S00001005")).toBe(report.refusals[0]!.scannedHash);
    expect(ScanJournal.open(tmp()).hash("S00001005")).not.toBe(report.refusals[0]!.scannedHash);
    journal.done(id);
    expect(journal.pending()).toEqual([]);
  });

  it("reports the raw refused string only when configured", () => {
    const dir = tmp();
    const journal = ScanJournal.open(dir, { rawRefusals: true });
    journal.record(new Date("2026-12-07T10:05:00.000Z"), request, decision("refuse", "wrong-material"));
    journal.record(new Date("2026-12-07T10:06:00.000Z"), request, decision("accept", "accepted"));
    const report = journal.reportOf(journal.seal()!);
    expect(report.refusals.map((r) => r.scanned)).toEqual(["S00001005"]);
  });
});
