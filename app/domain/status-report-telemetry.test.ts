import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { statusReportHash, TELEMETRY_GENESIS, TelemetryWalk, type StoredStatusReport } from "./status-report-telemetry";

const sha = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

function row(id: number, version: number): StoredStatusReport {
  const content = {
    clientId: 1,
    siteId: 2,
    kind: "activation" as const,
    version,
    digest: `sha256:${"a".repeat(64)}`,
    report: { kind: "activation", version },
    receivedAt: "2026-12-07T10:00:00.000Z",
  };
  return { id, ...content, hash: statusReportHash(content) };
}

describe("the status reports' telemetry digest (ADR 026)", () => {
  it("hashes a report's canonical content, whatever the key order", () => {
    const a = row(1, 2);
    // By hand: RFC 8785 sorts the keys.
    const canonical =
      '{"clientId":1,"digest":"sha256:' +
      "a".repeat(64) +
      '","kind":"activation","receivedAt":"2026-12-07T10:00:00.000Z","report":{"kind":"activation","version":2},"siteId":2,"version":2}';
    expect(a.hash).toBe(sha(canonical));
  });

  it("chains rows in id order, gaps skipped, and checks each signed head", () => {
    const rows = [row(1, 1), row(2, 2), row(4, 3)];
    // By hand: digest(n) = sha256(digest(previous) ":" id ":" hash).
    const d1 = sha(`${TELEMETRY_GENESIS}:1:${rows[0]!.hash}`);
    const d2 = sha(`${d1}:2:${rows[1]!.hash}`);
    const d4 = sha(`${d2}:4:${rows[2]!.hash}`);
    const walk = new TelemetryWalk([
      { anchorId: 7, head: { through: 2, digest: d2 } },
      { anchorId: 9, head: { through: 4, digest: d4 } },
    ]);
    walk.feed(rows);
    walk.finish();
    expect(walk.problems).toEqual([]);
    expect(walk.proven).toEqual({ anchorId: 9, through: 4 });
    expect(walk.rowsChecked).toBe(3);

    // Row 2 edited without re-hashing: named; the head over it no longer holds; the later head, judged on its own rows, does.
    const edited = new TelemetryWalk([
      { anchorId: 7, head: { through: 2, digest: d2 } },
      { anchorId: 9, head: { through: 4, digest: d4 } },
    ]);
    edited.feed([rows[0]!, { ...rows[1]!, version: 5 }, rows[2]!]);
    edited.finish();
    expect(edited.problems.map((p) => [p.row, p.anchorId])).toEqual([
      [2, undefined],
      [undefined, 7],
    ]);
    expect(edited.problems[1]!.detail).toMatch(/id 1–2/);

    // Row 4 deleted: the head at 4 no longer holds, and says the highest id left.
    const deleted = new TelemetryWalk([{ anchorId: 9, head: { through: 4, digest: d4 } }], { through: 2, digest: d2 });
    deleted.feed([]);
    deleted.finish();
    expect(deleted.problems).toHaveLength(1);
    expect(deleted.problems[0]!.detail).toMatch(/id 3–4 was changed, inserted or deleted \(the highest stored id is 2\)/);
  });
});
