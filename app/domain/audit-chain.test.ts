import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chainHash, findChainBreak, GENESIS_HASH, type StoredAuditRow } from "./audit-chain";

function chain(n: number): StoredAuditRow[] {
  const rows: StoredAuditRow[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const content = {
      seq,
      recordedAt: `2026-01-01T00:00:0${seq}.123Z`,
      actor: "a",
      action: "x",
      entityType: "e",
      entityId: String(seq),
      before: null,
      after: { v: seq, z: [1, 2] },
      reason: null,
    };
    const hash = chainHash(prev, content);
    rows.push({ ...content, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe("the audit hash chain", () => {
  it("hashes the previous hash followed by the RFC 8785 form of the content", () => {
    const content = {
      seq: 1,
      recordedAt: "2026-01-01T00:00:00.000Z",
      actor: "a",
      action: "x",
      entityType: "e",
      entityId: "1",
      before: null,
      after: { b: 1, a: "é" },
      reason: null,
    };
    const canonical =
      '{"action":"x","actor":"a","after":{"a":"é","b":1},"before":null,"entityId":"1","entityType":"e","reason":null,"recordedAt":"2026-01-01T00:00:00.000Z","seq":1}';
    expect(chainHash(GENESIS_HASH, content)).toBe(
      createHash("sha256")
        .update(GENESIS_HASH + canonical)
        .digest("hex"),
    );
  });

  it("verifies an intact chain, also continued from a cursor", () => {
    const rows = chain(6);
    expect(findChainBreak(rows)).toBeUndefined();
    expect(findChainBreak(rows.slice(3), { seq: 3, hash: rows[2]!.hash })).toBeUndefined();
  });

  it("names the first changed, relinked or missing row", () => {
    const changed = chain(5);
    changed[2] = { ...changed[2]!, actor: "mallory" };
    expect(findChainBreak(changed)).toMatchObject({ seq: 3, problem: "hash_mismatch" });

    const rehashed = chain(5);
    const forged = { ...rehashed[2]!, actor: "mallory" };
    forged.hash = chainHash(forged.prevHash, forged);
    rehashed[2] = forged;
    expect(findChainBreak(rehashed)).toMatchObject({ seq: 4, problem: "prev_hash_mismatch" });

    const gap = chain(5);
    gap.splice(1, 1);
    expect(findChainBreak(gap)).toMatchObject({ seq: 3, problem: "sequence_gap" });
  });
});
