/**
 * A second process on one scans folder, for test/unit/runtime-client-scan-journal.test.ts (ADR 042,
 * Amendment 2). `salt DIR GO`: once GO exists, opens the journal and prints the hash of "x" (or the error).
 * `write DIR N`: records N decisions as fast as it can. `seal DIR STOPFILE`: until STOPFILE exists,
 * seals, reads and removes every batch, then once more; prints the decisions it counted.
 */
import fs from "node:fs";
import { ScanJournal } from "../../clients/runtime/src/scan";
import type { ScanDecision } from "../../packages/identifiers/src/index";

const [mode, dir, arg] = process.argv.slice(2);
const decision = {
  outcome: "accept",
  reason: { code: "accepted", message: "accepted" },
  readings: [],
  reading: null,
  required: null,
  alternates: [],
  step: 10,
  decidedBy: { ruleId: "EIN/SUB-1005", requirementId: "EIN/FIN-1005/10/SUB-1005", ruleSetVersion: 7, digest: `sha256:${"a".repeat(64)}` },
} as unknown as ScanDecision;
const request = { parent: "FIN-1005", step: 10, expected: "SUB-1005", scanned: "S00001005" };

if (mode === "salt") {
  // Every process waits for the go file, so they open the journal at the same instant.
  process.stdout.write("ready\n");
  while (!fs.existsSync(arg!));
  try {
    process.stdout.write(ScanJournal.open(dir!).hash("x"));
  } catch (error) {
    process.stdout.write(`error: ${(error as Error).message}`);
  }
} else if (mode === "write") {
  const journal = ScanJournal.open(dir!, { maxLogBytes: 1 << 30, batchDecisions: 1e9 });
  for (let i = 0; i < Number(arg); i++) journal.record(new Date("2026-12-07T10:00:00.000Z"), request, decision);
} else if (mode === "seal") {
  const journal = ScanJournal.open(dir!, { maxLogBytes: 1 << 30 });
  let counted = 0;
  let batches = 0;
  const drain = () => {
    journal.seal();
    for (const id of journal.pending()) {
      counted += journal.reportOf(id).counts.reduce((n, c) => n + c.count, 0);
      journal.done(id);
      batches++;
    }
  };
  while (!fs.existsSync(arg!)) drain();
  drain();
  process.stdout.write(JSON.stringify({ counted, batches }));
}
