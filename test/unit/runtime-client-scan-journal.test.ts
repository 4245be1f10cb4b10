/**
 * The reference client's scan journal (clients/runtime/src/scan.ts, ADR 042): the decision log
 * rotates and keeps its files; the spool is sealed into batches with fixed ids; a report counts
 * per hour and key and hashes refused strings (raw only when configured). Real files in a
 * temporary folder; decisions written by hand (the journal stores, it does not decide).
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
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

/** Runs test/setup/scan-journal-process.ts as a child process; resolves with its stdout. */
const child = (...args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", "test/setup/scan-journal-process.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d));
    p.stderr.on("data", (d: Buffer) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });

describe("scan journal, several processes on one folder (ADR 042, Amendment 2)", () => {
  it("two processes writing while a third seals and reports: every decision counted exactly once", { timeout: 120_000 }, async () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, "scans", "batches"), { recursive: true });
    ScanJournal.open(dir); // the salt made once, before the race
    const stop = path.join(dir, "stop");
    const perWriter = 20_000;
    const sealer = child("seal", dir, stop);
    await Promise.all([child("write", dir, String(perWriter)), child("write", dir, String(perWriter))]);
    fs.writeFileSync(stop, "");
    const { counted, batches } = JSON.parse(await sealer) as { counted: number; batches: number };
    // Sealed while the writers wrote, many times over (else this tested nothing)…
    expect(batches).toBeGreaterThan(20);
    // …and the decisions written, counted by hand: two writers × 20,000.
    expect(counted).toBe(2 * perWriter);
  });

  it("processes starting at once agree on one salt, made whole (mode 0600)", { timeout: 90_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const dir = tmp();
      const go = path.join(dir, "go");
      const children = Array.from({ length: 8 }, () => child("salt", dir, go));
      // Started (tsx loaded) before the gun, then all at once.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      fs.writeFileSync(go, "");
      const hashes = (await Promise.all(children)).map((out) => out.replace(/^ready\n/, ""));
      expect(new Set(hashes).size, hashes.join("\n")).toBe(1);
      expect(hashes[0]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
      const salt = path.join(dir, "scans", "scan-salt");
      expect(fs.readFileSync(salt, "utf8")).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.statSync(salt).mode & 0o777).toBe(0o600);
      // No temporary file left behind.
      expect(fs.readdirSync(path.join(dir, "scans")).filter((f) => f.includes("tmp"))).toEqual([]);
    }
  });

  it("refuses a salt file that is not exactly 64 lowercase hex characters, naming the file", () => {
    for (const bad of ["", "abc", "A".repeat(64), `${"a".repeat(63)}g`, `${"a".repeat(64)}0`, ` ${"a".repeat(64)}`]) {
      const dir = tmp();
      fs.mkdirSync(path.join(dir, "scans"), { recursive: true });
      fs.writeFileSync(path.join(dir, "scans", "scan-salt"), bad);
      expect(() => ScanJournal.open(dir), JSON.stringify(bad)).toThrow(/scan-salt is not 64 lowercase hex characters/);
    }
    // A good one (a trailing newline allowed, as an editor leaves it) is used as it is.
    const dir = tmp();
    fs.mkdirSync(path.join(dir, "scans"), { recursive: true });
    fs.writeFileSync(path.join(dir, "scans", "scan-salt"), `${"0".repeat(64)}\n`);
    const expected = `hmac-sha256:${createHmac("sha256", Buffer.alloc(32)).update("x", "utf8").digest("hex")}`;
    expect(ScanJournal.open(dir).hash("x")).toBe(expected);
  });
});
