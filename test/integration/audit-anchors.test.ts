/**
 * ADR 019: the audit chain anchored by signed heads (ADR 019). The attacker here is a
 * PostgreSQL superuser who knows the hash algorithm: they rewrite a row and re-hash every row
 * after it (the chain alone then verifies), or delete the tail.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { generalVerify, importJWK, type GeneralJWS } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditAnchors, identifierFormats, materialFamilies, materials, sites } from "../../db/schema";
import { chainHash, type StoredAuditRow } from "../../app/domain/audit-chain";
import { readAnchorLog } from "../../app/utils/anchor-log.server";
import {
  checkpointRound,
  screenChainStatus,
  verifyAnchoredChain,
  verifyIncrementally,
  writeAnchor,
  writeCheckpointIfDue,
} from "../../app/services/audit-anchors.server";
import { appendAudit, lockedAuditHead, verifyAuditChain } from "../../app/services/audit.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { connect } from "../../app/utils/db.server";
import { publicJwks, type KeyRing } from "../../app/utils/signing.server";
import { loader as anchorsTarLoader } from "../../app/routes/audit.anchors[.]tar";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

const run = promisify(execFile);

/** A test database: `db`/`client` as the application role, `owner` as the superuser attacker. */
type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

async function append(database: TestDatabase, n: number) {
  for (let i = 0; i < n; i++) {
    await database.db.transaction((tx) =>
      appendAudit(tx, { actor: "test", action: "material.update", entityType: "material", entityId: `M-${i}`, after: { n: i, note: "é ✓" }, reason: "test" }),
    );
  }
}

const checkpoint = (database: TestDatabase, keyRing: KeyRing) => writeCheckpointIfDue(database.db, keyRing, { actor: "test", force: true });

/** What a superuser can do: change row `seq` and re-hash it and every row after it. */
async function rewriteAndRehash(database: TestDatabase, seq: number) {
  const rows = await database.owner<
    {
      seq: string;
      recorded_at: string;
      actor: string;
      action: string;
      entity_type: string;
      entity_id: string;
      before: string | null;
      after: string | null;
      reason: string | null;
      prev_hash: string;
      hash: string;
    }[]
  >`
    select seq::text, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded_at,
           actor, action, entity_type, entity_id, before::text as before, after::text as after, reason, prev_hash, hash
    from audit_trail where audit_trail.seq >= ${seq - 1} order by audit_trail.seq`;
  let prevHash = rows[0]!.hash;
  await database.owner.begin(async (tx) => {
    await tx`alter table audit_trail disable trigger audit_trail_no_update_delete`;
    for (const r of rows.slice(1)) {
      const row: StoredAuditRow = {
        seq: Number(r.seq),
        recordedAt: r.recorded_at,
        actor: Number(r.seq) === seq ? "mallory" : r.actor,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        before: r.before === null ? null : JSON.parse(r.before),
        after: r.after === null ? null : JSON.parse(r.after),
        reason: r.reason,
        prevHash,
        hash: "",
      };
      const hash = chainHash(prevHash, row);
      await tx`update audit_trail set actor = ${row.actor}, prev_hash = ${prevHash}, hash = ${hash} where seq = ${row.seq}`;
      prevHash = hash;
    }
    await tx`alter table audit_trail enable trigger audit_trail_no_update_delete`;
  });
}

async function deleteFrom(database: TestDatabase, seq: number) {
  await database.owner.begin(async (tx) => {
    await tx`alter table audit_trail disable trigger audit_trail_no_update_delete`;
    await tx`delete from audit_trail where seq >= ${seq}`;
    await tx`alter table audit_trail enable trigger audit_trail_no_update_delete`;
  });
}

/** What a superuser can do to the anchors: delete those with id >= `fromId` (or only `onlyId`). */
async function deleteAnchors(database: TestDatabase, where: { fromId?: number; onlyId?: number }) {
  await database.owner.begin(async (tx) => {
    await tx`alter table audit_anchors disable trigger audit_anchors_no_update_delete`;
    if (where.onlyId !== undefined) await tx`delete from audit_anchors where id = ${where.onlyId}`;
    else await tx`delete from audit_anchors where id >= ${where.fromId ?? 1}`;
    await tx`alter table audit_anchors enable trigger audit_anchors_no_update_delete`;
  });
}

/** A trail of 12 rows with checkpoint anchors at rows 5 and 10. */
async function anchoredTrail(): Promise<{ database: TestDatabase; keyRing: KeyRing }> {
  const database = await createTestDatabase();
  const keyRing = await testKeyRing(database.db); // row 1: the key's creation
  await append(database, 4);
  expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { seq: 5 } });
  await append(database, 5);
  expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { seq: 10 } });
  await append(database, 2);
  return { database, keyRing };
}

describe("anchors are written", () => {
  let database: TestDatabase;
  let keyRing: KeyRing;
  beforeAll(async () => {
    database = await createTestDatabase();
    keyRing = await testKeyRing(database.db);
  });

  it("with every rule-set version: the version's own audit row, signed by the portal's key (JWKS)", async () => {
    const [site] = await database.db.insert(sites).values({ code: "A1", name: "Anchor site", timeZone: "UTC" }).returning({ id: sites.id });
    const [family] = await database.db.insert(materialFamilies).values({ code: "F", name: "Family" }).returning({ id: materialFamilies.id });
    const [material] = await database.db
      .insert(materials)
      .values({ partNumber: "P-1", description: "Part", unitOfMeasure: "EA", riskClass: "low", familyId: family!.id })
      .returning({ id: materials.id });
    await database.db
      .insert(identifierFormats)
      .values({ code: "T-LOT", name: "lot", identifies: "lot", siteId: null, definition: { kind: "gs1", ais: ["01", "10"] } });
    const version = await createRuleSetVersion(
      database.db,
      {
        siteId: site!.id,
        actor: "test",
        reason: "first",
        changes: [{ materialId: material!.id, trackingMode: "lot", containerTracking: false, consumptionScan: "identify", identifierFormatCodes: ["T-LOT"] }],
      },
      keyRing,
    );
    const anchors = await database.db.select().from(auditAnchors).where(eq(auditAnchors.ruleSetVersionId, version.id));
    expect(anchors).toHaveLength(1);
    const [row] = await database.client`select hash from audit_trail where seq = ${version.auditSeq}`;
    expect(anchors[0]).toMatchObject({ kind: "release", seq: version.auditSeq, hash: row!.hash });

    // Anyone holding the JWKS checks it with a standard JOSE library.
    const jwks = await publicJwks(database.db);
    const jws = JSON.parse(anchors[0]!.jws) as GeneralJWS;
    const verified = await generalVerify(jws, await importJWK(jwks.keys[0]!, "EdDSA"));
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual({
      type: "c981.audit-anchor",
      kind: "release",
      seq: version.auditSeq,
      hash: row!.hash,
      issuedAt: anchors[0]!.createdAt.toISOString(),
      ruleSet: { site: "A1", version: 1, digest: version.digest },
      // No runtime status report stored yet: the telemetry head of nothing (ADR 026).
      telemetry: { through: 0, digest: "0".repeat(64) },
    });
    expect(verified.protectedHeader).toMatchObject({ alg: "EdDSA", typ: "c981-audit-anchor+jws", kid: keyRing.active[0]!.kid });
  });

  it("at checkpoints: every 1,000 rows or hour, never twice for one head", async () => {
    const [latest] = await database.client`select max(seq)::int as seq from audit_anchors`;
    await append(database, 3);
    const notDue = await writeCheckpointIfDue(database.db, keyRing, { actor: "test" });
    expect(notDue).toMatchObject({ written: false, reason: expect.stringMatching(/^not due: 3 row/) });
    const byRows = await writeCheckpointIfDue(database.db, keyRing, { actor: "test", everyRows: 3 });
    expect(byRows).toMatchObject({ written: true, anchor: { kind: "checkpoint", seq: latest!.seq + 3 } });
    expect(await writeCheckpointIfDue(database.db, keyRing, { actor: "test", everyMs: 0 })).toMatchObject({
      written: false,
      reason: expect.stringMatching(/already anchored/),
    });
    await append(database, 1);
    expect(await writeCheckpointIfDue(database.db, keyRing, { actor: "test", everyMs: 0 })).toMatchObject({ written: true, anchor: { seq: latest!.seq + 4 } });
    // The server's round: nothing new, nothing written, nothing thrown.
    const logged: string[] = [];
    expect(await checkpointRound(database.db, keyRing.dir, (l) => logged.push(l))).toMatchObject({ written: false });
  });

  it("the server's checkpoint round survives a database that is away", async () => {
    const gone = connect("postgres://nobody@127.0.0.1:1/none", { max: 1 });
    const logged: string[] = [];
    await expect(checkpointRound(gone.db, keyRing.dir, (l) => logged.push(l))).resolves.toBeUndefined();
    expect(logged[0]).toMatch(/audit checkpoint postponed to the next round/);
    await gone.close();
  });

  it("the anchors are append-only", async () => {
    // Refused to the portal's own role, and by the triggers even to the owner.
    await expect(database.client`update audit_anchors set seq = 1`).rejects.toThrow(/append-only|permission denied/);
    await expect(database.client`delete from audit_anchors`).rejects.toThrow(/append-only|permission denied/);
    await expect(database.client`truncate audit_anchors`).rejects.toThrow(/append-only|permission denied/);
    await expect(database.owner`update audit_anchors set seq = 1`).rejects.toThrow(/append-only/);
    await expect(database.owner`delete from audit_anchors`).rejects.toThrow(/append-only/);
    await expect(database.owner`truncate audit_anchors`).rejects.toThrow(/append-only/);
  });
});

describe("audit:verify against the signed anchors", () => {
  it("an intact trail is intact, naming its latest anchor and the rows not anchored yet", async () => {
    const { database } = await anchoredTrail();
    const result = await verifyAnchoredChain(database.db);
    expect(result.ok).toBe(true);
    expect(result.chain).toMatchObject({ rowsChecked: 12, headSeq: 12 });
    expect(result.trusted.map((a) => a.seq)).toEqual([5, 10]);
    expect(result.judgement).toMatchObject({ state: "intact", lastAnchor: { seq: 10 }, unanchoredRows: 2 });
  });

  it("a superuser's rewrite-and-rehash from a middle row is detected and located between anchors", async () => {
    const { database } = await anchoredTrail();
    await rewriteAndRehash(database, 7);
    // The chain alone cannot see it: every row links to the one before.
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
    const result = await verifyAnchoredChain(database.db);
    expect(result.ok).toBe(false);
    expect(result.judgement).toMatchObject({ state: "rewritten", lastGood: { seq: 5 }, firstBad: { seq: 10 }, from: 6, to: 10 });
  });

  it("a rewrite before the first anchor is located from row 1", async () => {
    const { database } = await anchoredTrail();
    await rewriteAndRehash(database, 2);
    const result = await verifyAnchoredChain(database.db);
    expect(result.judgement).toMatchObject({ state: "rewritten", firstBad: { seq: 5 }, from: 1, to: 5 });
    expect(result.judgement).not.toHaveProperty("lastGood.seq");
  });

  it("a deleted tail is detected: the head is before the latest signed anchor", async () => {
    const { database } = await anchoredTrail();
    await deleteFrom(database, 9);
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
    const result = await verifyAnchoredChain(database.db);
    expect(result.ok).toBe(false);
    expect(result.judgement).toMatchObject({ state: "truncated", headSeq: 8, anchor: { seq: 10 }, lastGood: { seq: 5 } });
  });

  it("a deleted tail written over with new rows is detected as a rewrite", async () => {
    const { database } = await anchoredTrail();
    await deleteFrom(database, 9);
    await append(database, 6);
    const result = await verifyAnchoredChain(database.db);
    expect(result.judgement).toMatchObject({ state: "rewritten", firstBad: { seq: 10 }, from: 6, to: 10 });
  });

  it("an anchor not signed by the portal's keys is not trusted", async () => {
    const { database } = await anchoredTrail();
    const [real] = await database.client<{ jws: string; payload: Buffer }[]>`select jws, payload from audit_anchors order by id limit 1`;
    const jws = JSON.parse(real!.jws) as GeneralJWS;
    const forged = { ...jws, signatures: jws.signatures.map((s) => ({ ...s, signature: Buffer.alloc(64, 7).toString("base64url") })) };
    await database.owner`insert into audit_anchors (kind, seq, hash, payload, jws, created_at, created_by)
      select kind, seq, hash, payload, ${JSON.stringify(forged)}, now(), 'mallory' from audit_anchors order by id limit 1`;
    const result = await verifyAnchoredChain(database.db);
    expect(result.ok).toBe(false);
    expect(result.anchorProblems).toEqual([{ id: 3, source: "database", problem: expect.stringMatching(/does not verify/) }]);
  });

  it("the CLI exits 2 and names the rewritten range", async () => {
    const { database, keyRing } = await anchoredTrail();
    await rewriteAndRehash(database, 7);
    const failed = await run(process.execPath, ["--import", "tsx", "scripts/c981.ts", "audit:verify"], {
      env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SIGNING_KEYS_DIR: keyRing.dir },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/REWRITTEN: row 10 hashes to .* the rewrite begins in rows 6–10 \(after anchor #1 \(row 5/);
  });
});

const cli = (database: TestDatabase, keyRing: KeyRing, args: string[]) =>
  run(process.execPath, ["--import", "tsx", "scripts/c981.ts", ...args], {
    env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SIGNING_KEYS_DIR: keyRing.dir },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe("the signing side's anchor log (keys folder): no forged head is signed", () => {
  it("records every anchor this instance signed, owner-only like the keys", async () => {
    const { keyRing } = await anchoredTrail();
    const log = await readAnchorLog(keyRing.dir);
    expect(log).toMatchObject({
      state: "read",
      problems: [],
      entries: [
        { id: 1, seq: 5, kind: "checkpoint" },
        { id: 2, seq: 10, kind: "checkpoint" },
      ],
    });
    expect((await fs.stat(path.join(keyRing.dir, "audit-anchors.log"))).mode & 0o777).toBe(0o600);
  });

  it("a rewrite from row k with the anchors after k deleted: the server's round refuses to sign, logs, raises a security alert", async () => {
    const { database, keyRing } = await anchoredTrail();
    await rewriteAndRehash(database, 7);
    await deleteAnchors(database, { fromId: 2 });
    // The database alone: anchor #1 (row 5) matches; without the id check the trail would look intact.
    const logged: string[] = [];
    const round = await checkpointRound(database.db, keyRing.dir, (l) => logged.push(l));
    expect(round).toMatchObject({
      written: false,
      refused: [
        expect.stringMatching(/anchor #2: signed by this instance .* MISSING from the database/),
        expect.stringMatching(/row 10 no longer hashes to what anchor #2 signed/),
      ],
    });
    expect(logged).toEqual([expect.stringMatching(/^C-981: SECURITY: audit checkpoint REFUSED to sign row \d+/)]);
    const [anchors] = await database.owner`select count(*)::int as n from audit_anchors`;
    expect(anchors!.n).toBe(1);
    const alerts = await database.owner`select kind, username, occurrences from security_alerts where acknowledged_at is null`;
    expect(alerts).toEqual([{ kind: "audit_anchor_refused", username: "system:checkpoint", occurrences: 1 }]);
    // audit:checkpoint refuses too (exit 2); the alert counts it.
    const forced = await cli(database, keyRing, ["audit:checkpoint"]);
    expect(forced.code).toBe(2);
    expect(forced.stderr).toMatch(/no anchor written: REFUSED to sign/);
    const [after] = await database.owner`select count(*)::int as n from audit_anchors`;
    expect(after!.n).toBe(1);
    // audit:verify without --anchors: the log and the issued ids show it.
    const verify = await cli(database, keyRing, ["audit:verify"]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(/anchor id #2 was issued and is not in the database/);
    expect(verify.stderr).toMatch(/anchor #2 \(anchor log\) NOT TRUSTED: signed by this instance \(row 10, anchor log\) but MISSING/);
    expect(verify.stderr).toMatch(/REWRITTEN: row 10 .* rows 6–10/);
  });

  it("only the latest anchor deleted, the rows left alone: refused as well, and audit:verify names the missing anchor", async () => {
    const { database, keyRing } = await anchoredTrail();
    await deleteAnchors(database, { onlyId: 2 });
    expect(await writeCheckpointIfDue(database.db, keyRing, { actor: "test", force: true })).toMatchObject({
      written: false,
      refused: [expect.stringMatching(/anchor #2: .* MISSING/)],
    });
    // The database alone only says the id is missing (a sequence also skips ids); the log judges it.
    expect(await verifyAnchoredChain(database.db)).toMatchObject({ ok: true, missingAnchors: [{ from: 2, to: 2 }] });
    const log = await readAnchorLog(keyRing.dir);
    expect(await verifyAnchoredChain(database.db, { anchorLog: log.state === "read" ? log.entries : [] })).toMatchObject({
      ok: false,
      missingAnchors: [{ from: 2, to: 2 }],
    });
  });

  it("a gap in the anchor ids is said on the screen, and judged as a deletion where the anchor log shows it was signed", async () => {
    const { database, keyRing } = await anchoredTrail();
    expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { id: 3, seq: 12 } });
    await deleteAnchors(database, { onlyId: 2 });
    const result = await verifyAnchoredChain(database.db);
    expect(result).toMatchObject({ ok: true, missingAnchors: [{ from: 2, to: 2 }], judgement: { state: "intact" } });
    expect(await screenChainStatus(database.db)).toMatchObject({
      intact: true,
      notices: [expect.stringMatching(/^The anchor id #2 was issued and is not in the database: rolled back .* or deleted/)],
    });
    expect(await screenChainStatus(database.db, keyRing.dir)).toMatchObject({
      intact: false,
      problems: expect.arrayContaining([expect.stringMatching(/Anchor #2 is not trusted: signed by this instance .* MISSING/)]),
    });
  });

  it("an untouched trail: the log is consistent, the checkpoint is signed and logged, audit:verify exits 0", async () => {
    const { database, keyRing } = await anchoredTrail();
    expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { id: 3, seq: 12 } });
    expect(await readAnchorLog(keyRing.dir)).toMatchObject({ state: "read", entries: [{ id: 1 }, { id: 2 }, { id: 3, seq: 12 }] });
    const verify = await cli(database, keyRing, ["audit:verify"]);
    expect(verify).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/signed anchors: 3 of 3 verified against the public keys \(3 in this instance's anchor log\)/),
    });
  });

  it("a log line a crash cut short neither glues onto the next entry nor stops signing", async () => {
    const { database, keyRing } = await anchoredTrail();
    const file = path.join(keyRing.dir, "audit-anchors.log");
    const text = await fs.readFile(file, "utf8");
    await fs.writeFile(file, text.slice(0, -20)); // the last entry cut mid-line, as a crash leaves it
    await append(database, 1);
    expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { id: 3, seq: 13 } });
    await append(database, 1);
    expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { id: 4, seq: 14 } });
    expect(await readAnchorLog(keyRing.dir)).toMatchObject({ state: "read", problems: [], entries: [{ id: 1 }, { id: 3 }, { id: 4 }] });
  });

  it("an anchor whose transaction rolled back (a release that failed later) is no deleted anchor", async () => {
    const { database, keyRing } = await anchoredTrail();
    await expect(
      database.db.transaction(async (tx) => {
        await writeAnchor(tx, keyRing, { kind: "checkpoint", actor: "test", head: (await lockedAuditHead(tx))! });
        throw new Error("the caller's transaction fails after the anchor");
      }),
    ).rejects.toThrow(/fails after the anchor/);
    expect(await readAnchorLog(keyRing.dir)).toMatchObject({ entries: [{ id: 1 }, { id: 2 }, { id: 3, seq: 12 }] });
    await append(database, 1);
    expect(await checkpoint(database, keyRing)).toMatchObject({ written: true, anchor: { id: 4, seq: 13 } });
    expect(await readAnchorLog(keyRing.dir)).toMatchObject({ entries: [{ id: 1 }, { id: 2 }, { id: 4 }], rolledBack: [3] });
    const verify = await cli(database, keyRing, ["audit:verify"]);
    expect(verify).toMatchObject({ code: 0, stdout: expect.stringMatching(/signed anchors: 3 of 3 verified/) });
    // Without this instance's log, the gap of #3 is said (not judged): the log explains it.
    expect(await verifyAnchoredChain(database.db)).toMatchObject({ ok: true, missingAnchors: [{ from: 3, to: 3 }] });
    // The screen reads the server's log too.
    expect(await screenChainStatus(database.db, keyRing.dir)).toMatchObject({ intact: true, anchorsVerified: 3, lastAnchor: { id: 4, seq: 13 } });
    expect(await screenChainStatus(database.db)).toMatchObject({
      intact: true,
      notices: [expect.stringMatching(/^The anchor id #3 was issued and is not in the database/)],
    });
  });

  it("a release is refused too when the trail no longer extends the signed anchors", async () => {
    const { database, keyRing } = await anchoredTrail();
    await rewriteAndRehash(database, 7);
    await deleteAnchors(database, { fromId: 2 });
    const [site] = await database.db.insert(sites).values({ code: "R1", name: "Release site", timeZone: "UTC" }).returning({ id: sites.id });
    await expect(createRuleSetVersion(database.db, { siteId: site!.id, actor: "test", reason: "release", changes: [] }, keyRing)).rejects.toThrow(
      /not released: the audit trail does not extend the anchors this server signed/,
    );
    const [anchors] = await database.owner`select count(*)::int as n from audit_anchors`;
    expect(anchors!.n).toBe(1);
    const alerts = await database.owner`select kind, username from security_alerts`;
    expect(alerts).toEqual([{ kind: "audit_anchor_refused", username: "test" }]);
  });
});

describe("the /audit page verifies incrementally", () => {
  it("recomputes everything once, then only the rows after the last proven anchor, and still sees a later rewrite", async () => {
    const { database } = await anchoredTrail();
    const first = await verifyIncrementally(database.db);
    expect(first).toMatchObject({ ok: true, startedFrom: undefined, chain: { rowsChecked: 12 }, provenNow: { seq: 10 } });
    await append(database, 3);
    const second = await verifyIncrementally(database.db);
    expect(second).toMatchObject({ ok: true, startedFrom: { seq: 10 }, chain: { rowsChecked: 5, headSeq: 15 } });
    await rewriteAndRehash(database, 3);
    const third = await verifyIncrementally(database.db);
    expect(third.ok).toBe(false);
    expect(third.judgement).toMatchObject({ state: "rewritten", from: 1, to: 5 });
    // After a failure the next view starts from the beginning again.
    expect((await verifyIncrementally(database.db)).startedFrom).toBeUndefined();
  });
});

describe("the /audit page remembers the anchors it has verified", () => {
  it("a superuser who deletes the anchors and then rewrites the trail is still caught on the next view", async () => {
    const { database } = await anchoredTrail();
    expect((await verifyIncrementally(database.db)).ok).toBe(true);
    await deleteAnchors(database, { fromId: 1 });
    await rewriteAndRehash(database, 2);
    const view = await verifyIncrementally(database.db);
    expect(view.ok).toBe(false);
    expect(view.judgement).toMatchObject({ state: "rewritten", from: 1, to: 5 });
  });
});

describe("the /audit chain badge", () => {
  it("says what it verified now and from where, and names a rewrite", async () => {
    const { database } = await anchoredTrail();
    const first = await screenChainStatus(database.db);
    expect(first).toEqual({
      intact: true,
      headSeq: 12,
      rowsChecked: 12,
      fromSeq: 0,
      provenAt: null,
      anchorsVerified: 2,
      lastAnchor: { id: 2, seq: 10, issuedAt: expect.stringMatching(/Z$/) },
      unanchoredRows: 2,
      notices: [],
    });
    const second = await screenChainStatus(database.db);
    expect(second).toMatchObject({ intact: true, rowsChecked: 2, fromSeq: 10, provenAt: expect.stringMatching(/Z$/) });
    await rewriteAndRehash(database, 11);
    // After the latest anchor: the rows still link up, and no signature covers them yet.
    expect(await screenChainStatus(database.db)).toMatchObject({ intact: true, unanchoredRows: 2 });
    await rewriteAndRehash(database, 4);
    const broken = await screenChainStatus(database.db);
    expect(broken).toEqual({
      intact: false,
      problems: [
        expect.stringMatching(/^The trail REWRITTEN: row 5 .* rows 1–5 \(after the start of the trail\)\.$/),
        // Recomputing from the proven anchor at row 10: row 11 no longer links to its signed hash.
        expect.stringMatching(/^At row 11: row 11 links to /),
      ],
    });
  });
});

describe("the anchor export", () => {
  let dir: string;
  let database: TestDatabase;
  let keyRing: KeyRing;
  beforeAll(async () => {
    ({ database, keyRing } = await anchoredTrail());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-anchors-"));
    await run(process.execPath, ["--import", "tsx", "scripts/c981.ts", "audit:anchors", "--out", dir], {
      env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SIGNING_KEYS_DIR: keyRing.dir },
    });
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const kid = () => keyRing.active[0]!.kid;

  it("verifies with openssl alone, as README.txt says", async () => {
    const readme = await fs.readFile(path.join(dir, "README.txt"), "utf8");
    expect(readme).toContain("openssl pkeyutl -verify -pubin -inkey keys/KID.pem -rawin -in anchors/ID.KID.signed -sigfile anchors/ID.KID.sig");
    for (const id of ["000001", "000002"]) {
      const { stdout } = await run(
        "openssl",
        [
          "pkeyutl",
          "-verify",
          "-pubin",
          "-inkey",
          `keys/${kid()}.pem`,
          "-rawin",
          "-in",
          `anchors/${id}.${kid()}.signed`,
          "-sigfile",
          `anchors/${id}.${kid()}.sig`,
        ],
        { cwd: dir },
      );
      expect(stdout).toMatch(/Signature Verified Successfully/);
    }
    const payload = JSON.parse(await fs.readFile(path.join(dir, "anchors/000002.payload.json"), "utf8"));
    const [row] = await database.client`select hash from audit_trail where seq = 10`;
    expect(payload).toMatchObject({ seq: 10, hash: row!.hash, kind: "checkpoint" });
    const { stdout } = await run("sh", [path.join(dir, "verify.sh")]);
    expect(stdout).toBe(`anchor 000001 key ${kid()}: verified\nanchor 000002 key ${kid()}: verified\n`);
  });

  it("audit:verify --anchors DIR counts each anchor once (database and export)", async () => {
    const verify = await cli(database, keyRing, ["audit:verify", "--anchors", dir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/signed anchors: 2 of 2 verified/);
  });

  it("fails after tampering with a payload or a signature", async () => {
    const copy = await fs.mkdtemp(path.join(os.tmpdir(), "c981-anchors-tampered-"));
    try {
      await fs.cp(dir, copy, { recursive: true });
      const payloadFile = path.join(copy, "anchors/000002.payload.json");
      await fs.writeFile(payloadFile, (await fs.readFile(payloadFile, "utf8")).replace(/"seq":10/, '"seq":11'));
      const sigFile = path.join(copy, `anchors/000001.${kid()}.sig`);
      const sig = await fs.readFile(sigFile);
      sig[0] = sig[0]! ^ 1;
      await fs.writeFile(sigFile, sig);
      const result = await run("sh", [path.join(copy, "verify.sh")]).then(
        () => ({ code: 0, stdout: "" }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(
        `anchor 000001 key ${kid()}: SIGNATURE DOES NOT VERIFY\nanchor 000002 key ${kid()}: anchors/000002.payload.json IS NOT WHAT WAS SIGNED\n`,
      );
      await expect(
        run(
          "openssl",
          [
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            `keys/${kid()}.pem`,
            "-rawin",
            "-in",
            `anchors/000001.${kid()}.signed`,
            "-sigfile",
            `anchors/000001.${kid()}.sig`,
          ],
          { cwd: copy },
        ),
      ).rejects.toMatchObject({ code: 1 });
    } finally {
      await fs.rm(copy, { recursive: true, force: true });
    }
  });

  it("audit:verify --anchors DIR catches a rewrite whose anchors were also removed from the database", async () => {
    await rewriteAndRehash(database, 7);
    await deleteAnchors(database, { fromId: 1 });
    // The database alone can only say that anchors #1–#2 were issued and are not there.
    expect(await verifyAnchoredChain(database.db)).toMatchObject({ ok: true, missingAnchors: [{ from: 1, to: 2 }], judgement: { state: "intact" } });
    const failed = await run(process.execPath, ["--import", "tsx", "scripts/c981.ts", "audit:verify", "--anchors", dir], {
      env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SIGNING_KEYS_DIR: keyRing.dir },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/REWRITTEN: row 10 .* rows 6–10/);
  });
});

describe("the anchors download on the audit screen", () => {
  it("is a tar of the same export, verifiable with openssl after tar -xf; refused without the export permission", async () => {
    const { database } = await anchoredTrail();
    registerDatabase(Promise.resolve(database));
    await createUser(
      database.db,
      "test",
      { username: "rita.r", displayName: "Rita", password: "anchor-password-1", grants: [{ role: "regulatory_reviewer", site: null }], reason: "test" },
      "fixture",
    );
    await createUser(
      database.db,
      "test",
      { username: "emil.e", displayName: "Emil", password: "anchor-password-2", grants: [{ role: "engineer", site: null }], reason: "test" },
      "fixture",
    );
    const cookieOf = async (username: string, password: string) => {
      const session = await signIn(database.db, { username, password, ip: null, maxHours: 1 });
      if (!session.ok) throw new Error("sign-in failed");
      return `${SESSION_COOKIE}=${session.sessionId}`;
    };
    const get = async (cookie: string) =>
      anchorsTarLoader({ request: new Request("http://127.0.0.1/audit/anchors.tar", { headers: { Cookie: cookie } }), params: {}, context: {} }).then(
        (r) => r as Response,
        (thrown: unknown) => thrown as Response,
      );
    expect((await get(await cookieOf("emil.e", "anchor-password-2"))).status).toBe(403);
    const response = await get(await cookieOf("rita.r", "anchor-password-1"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="c981-audit-anchors-2.tar"');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-anchors-tar-"));
    try {
      await fs.writeFile(path.join(dir, "anchors.tar"), Buffer.from(await response.arrayBuffer()));
      await run("tar", ["-xf", "anchors.tar"], { cwd: dir });
      const { stdout } = await run(path.join(dir, "c981-audit-anchors/verify.sh"), []);
      expect(stdout.match(/: verified$/gm)).toHaveLength(2);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
