import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAudit, verifyAuditChain } from "../../app/services/audit.server";
import { currentDataPoint } from "../../app/queries/audit.server";
import { createTestDatabase } from "../setup/database";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});

async function append(n: number, actor = "test") {
  for (let i = 0; i < n; i++) {
    await database.db.transaction((tx) =>
      appendAudit(tx, {
        actor,
        action: "material.update",
        entityType: "material",
        entityId: `M-${i}`,
        before: { description: "old", quantity: 1.5, at: new Date("2025-01-01T00:00:00Z") },
        after: { description: `new ${i} — é ✓`, quantity: 2, nested: { b: [1, "x", null], a: true } },
        reason: i % 2 ? "because" : undefined,
      }),
    );
  }
}

describe("audit trail", () => {
  it("appends a gap-free hash chain that verifies", async () => {
    await append(5);
    const result = await verifyAuditChain(database.db);
    expect(result.firstBreak).toBeUndefined();
    expect(result.rowsChecked).toBe(5);
    expect(await currentDataPoint(database.db)).toBe(5);
    const rows = await database.client`select seq, prev_hash, hash, recorded_at from audit_trail order by seq`;
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
  });

  it("never forks under concurrent writers: seq stays gap-free and commit-ordered", async () => {
    const before = await currentDataPoint(database.db);
    await Promise.all(Array.from({ length: 12 }, (_, i) => append(1, `writer-${i}`)));
    const result = await verifyAuditChain(database.db);
    expect(result.firstBreak).toBeUndefined();
    expect(result.headSeq).toBe(before + 12);
  });

  it("a rolled-back transaction leaves no audit row", async () => {
    const before = await currentDataPoint(database.db);
    await expect(
      database.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: "t", action: "x", entityType: "e", entityId: "1" });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await currentDataPoint(database.db)).toBe(before);
  });

  it("refuses UPDATE, DELETE and TRUNCATE, to the application role by privilege and to the owner by trigger", async () => {
    await expect(database.client`update audit_trail set actor = 'mallory' where seq = 2`).rejects.toThrow(/permission denied/);
    await expect(database.client`delete from audit_trail where seq = 2`).rejects.toThrow(/permission denied/);
    await expect(database.client`truncate audit_trail`).rejects.toThrow(/permission denied/);
    await expect(database.owner`update audit_trail set actor = 'mallory' where seq = 2`).rejects.toThrow(/append-only/);
    await expect(database.owner`delete from audit_trail where seq = 2`).rejects.toThrow(/append-only/);
    await expect(database.owner`truncate audit_trail`).rejects.toThrow(/append-only/);
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
  });

  it("names the first changed row when someone edits behind the application's back", async () => {
    // Only the owner can disable the trigger (the application role owns nothing: ADR 018).
    await database.owner.begin(async (tx) => {
      await tx`alter table audit_trail disable trigger audit_trail_no_update_delete`;
      await tx`update audit_trail set after = jsonb_set(after, '{description}', '"forged"') where seq = 3`;
      await tx`update audit_trail set reason = 'edited' where seq = 7`;
      await tx`alter table audit_trail enable trigger audit_trail_no_update_delete`;
    });
    const result = await verifyAuditChain(database.db);
    expect(result.firstBreak).toMatchObject({ seq: 3, problem: "hash_mismatch" });
    expect(result.rowsChecked).toBe(2);
  });

  it("names a deleted row as a gap", async () => {
    const other = await createTestDatabase();
    for (let i = 0; i < 4; i++) {
      await other.db.transaction((tx) => appendAudit(tx, { actor: "t", action: "a", entityType: "e", entityId: String(i) }));
    }
    await other.owner.begin(async (tx) => {
      await tx`alter table audit_trail disable trigger audit_trail_no_update_delete`;
      await tx`delete from audit_trail where seq = 2`;
      await tx`alter table audit_trail enable trigger audit_trail_no_update_delete`;
    });
    const result = await verifyAuditChain(other.db, { pageSize: 2 });
    expect(result.firstBreak).toMatchObject({ seq: 3, problem: "sequence_gap" });
  });

  it("stores server time with millisecond precision", async () => {
    const [row] = await database.db.execute<{ ms: string }>(
      sql`select extract(milliseconds from recorded_at)::text as ms from audit_trail order by seq desc limit 1`,
    );
    expect(row!.ms).toMatch(/^\d+(\.\d{1,3})?$/);
  });
});
