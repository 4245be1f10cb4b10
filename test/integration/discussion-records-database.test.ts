/**
 * The discussion (ADR 030) and the acknowledged findings (ADR 029) as Part 11 records in the
 * database itself (migration 0029), tried as the application role c981_app, with plain SQL — what
 * a bug or a hand-typed statement could do, not what the services do:
 * - comments, their resolutions and acknowledgements need an audit row naming their change request;
 * - resolutions and acknowledgements cannot be updated nor deleted (privilege, before any trigger);
 * - an acknowledgement is written only by the transaction that inserts its signature;
 * - a comment is never rewritten: only its thread's resolution changes;
 * - a reply's thread belongs to the same change request.
 */
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../app/services/audit.server";
import { createUser } from "../../app/services/users.server";
import { createTestDatabase } from "../setup/database";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let erin = 0;
const request: Record<string, number> = {};
let signatureId = 0;
let threadId = 0;

const unaudited = /without an audit row in the same transaction is refused/;
/** A transaction through drizzle, failing with PostgreSQL's own error (drizzle wraps it as the cause). */
const inTx = (work: Parameters<typeof database.db.transaction>[0]) =>
  database.db.transaction(work).catch((error: unknown) => {
    throw error instanceof Error && error.cause instanceof Error ? error.cause : error;
  });
const audit = (number: string, action = "change_request.comment") => ({ actor: "erin", action, entityType: "change_request", entityId: number });

beforeAll(async () => {
  database = await createTestDatabase();
  await createUser(
    database.db,
    "test",
    { username: "erin", displayName: "Erin Engineer", password: "a long enough passphrase", grants: [{ role: "engineer", site: null }], reason: "test user" },
    "fixture",
  );
  erin = Number((await database.client`select id from users where username = 'erin'`)[0]!.id);
  for (const number of ["CR-9101", "CR-9102"]) {
    request[number] = await database.db.transaction(async (tx) => {
      const [row] = await tx.execute<{ id: number }>(sql`
        insert into change_requests (number, title, status, author_id, content, expanded_changes, content_hash, created_at, updated_at)
        values (${number}, 'A request', 'in_review', ${erin}, '{}', '[]', ${"0".repeat(64)}, now(), now()) returning id`);
      await appendAudit(tx, audit(number, "change_request.create"));
      return row!.id;
    });
  }
  await database.db.transaction(async (tx) => {
    const [sig] = await tx.execute<{ id: number }>(sql`
      insert into signatures (change_request_id, signer_id, printed_name, role, meaning, signed_at, content_hash, revision)
      values (${request["CR-9101"]!}, ${erin}, 'ERIN', 'quality_reviewer', 'approved', now(), ${"0".repeat(64)}, 1) returning id`);
    signatureId = sig!.id;
    await tx.execute(sql`insert into signature_finding_acknowledgements (signature_id, finding_key, finding_code, severity, count)
      values (${signatureId}, 'MIXED_HISTORY', 'MIXED_HISTORY', 'warning', 1)`);
    await appendAudit(tx, audit("CR-9101", "change_request.sign"));
  });
  threadId = await database.db.transaction(async (tx) => {
    const [row] = await tx.execute<{ id: number }>(sql`
      insert into change_request_comments (change_request_id, author_id, body, created_at, blocking)
      values (${request["CR-9101"]!}, ${erin}, 'Scanners?', now(), true) returning id`);
    await tx.execute(sql`insert into change_request_comment_resolutions (thread_id, action, actor_id, at) values (${row!.id}, 'resolved', ${erin}, now())`);
    await appendAudit(tx, audit("CR-9101"));
    return row!.id;
  });
}, 120_000);

describe("as the application role", () => {
  it("is the role these statements run as", async () => {
    expect((await database.client`select current_user as me`)[0]!.me).toBe("c981_app");
  });

  it("holds no UPDATE nor DELETE on acknowledgements and resolutions: refused by privilege", async () => {
    // The oracle: the catalogue's own answer, independent of the migration's text.
    const privileges = await database.client`
      select t, has_table_privilege('c981_app', t, 'UPDATE') as upd, has_table_privilege('c981_app', t, 'DELETE') as del,
             has_table_privilege('c981_app', t, 'INSERT') as ins
      from unnest(array['signature_finding_acknowledgements', 'change_request_comment_resolutions']) as t order by t`;
    expect(privileges.map((p) => [p.t, p.upd, p.del, p.ins])).toEqual([
      ["change_request_comment_resolutions", false, false, true],
      ["signature_finding_acknowledgements", false, false, true],
    ]);
    for (const statement of [
      database.client`update signature_finding_acknowledgements set count = 2`,
      database.client`delete from signature_finding_acknowledgements`,
      database.client`update change_request_comment_resolutions set action = 'reopened'`,
      database.client`delete from change_request_comment_resolutions`,
    ]) {
      await expect(statement).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(/permission denied for table/) });
    }
    // Even inside a transaction carrying an audit row naming the request.
    await expect(
      inTx(async (tx) => {
        await appendAudit(tx, audit("CR-9101"));
        await tx.execute(sql`delete from change_request_comment_resolutions where thread_id = ${threadId}`);
      }),
    ).rejects.toThrow(/permission denied for table change_request_comment_resolutions/);
    expect((await database.client`select count(*)::int as n from signature_finding_acknowledgements`)[0]!.n).toBe(1);
    expect((await database.client`select count(*)::int as n from change_request_comment_resolutions`)[0]!.n).toBe(1);
  });

  it("refuses an acknowledgement whose signature another transaction inserted, even with an audit row", async () => {
    await expect(
      inTx(async (tx) => {
        await appendAudit(tx, audit("CR-9101", "change_request.sign"));
        await tx.execute(sql`insert into signature_finding_acknowledgements (signature_id, finding_key, finding_code, severity, count)
          values (${signatureId}, 'REACH', 'REACH', 'critical', 3)`);
      }),
    ).rejects.toThrow(/a finding is acknowledged only by the transaction inserting its signature/);
    // Nor one on a signature voided by this transaction (voiding gives the row this transaction's xmin).
    await expect(
      inTx(async (tx) => {
        await appendAudit(tx, audit("CR-9101", "change_request.sign"));
        await tx.execute(sql`update signatures set voided_at = now(), void_reason = 'test' where id = ${signatureId}`);
        await tx.execute(sql`insert into signature_finding_acknowledgements (signature_id, finding_key, finding_code, severity, count)
          values (${signatureId}, 'REACH', 'REACH', 'critical', 3)`);
      }),
    ).rejects.toThrow(/a finding is acknowledged only by the transaction inserting its signature/);
    // Nor one on an earlier signature rewritten to itself here (a new row version, this transaction's xmin).
    await expect(
      inTx(async (tx) => {
        await appendAudit(tx, audit("CR-9101", "change_request.sign"));
        await tx.execute(sql`update signatures set comment = comment where id = ${signatureId}`);
        await tx.execute(sql`insert into signature_finding_acknowledgements (signature_id, finding_key, finding_code, severity, count)
          values (${signatureId}, 'REACH', 'REACH', 'critical', 3)`);
      }),
    ).rejects.toThrow(/a finding is acknowledged only by the transaction inserting its signature/);
    const keys = await database.client`select finding_key from signature_finding_acknowledgements where signature_id = ${signatureId}`;
    expect(keys.map((k) => k.finding_key)).toEqual(["MIXED_HISTORY"]);
  });

  it("refuses comments, resolutions and acknowledgements without an audit row naming their change request", async () => {
    const before = (await database.client`select count(*)::int as n from change_request_comments`)[0]!.n;
    await expect(
      database.client`insert into change_request_comments (change_request_id, author_id, body, created_at) values (${request["CR-9101"]!}, ${erin}, 'x', now())`,
    ).rejects.toThrow(unaudited);
    // An audit row naming another request does not do.
    await expect(
      inTx(async (tx) => {
        await appendAudit(tx, audit("CR-9102"));
        await tx.execute(
          sql`insert into change_request_comments (change_request_id, author_id, body, created_at) values (${request["CR-9101"]!}, ${erin}, 'x', now())`,
        );
      }),
    ).rejects.toThrow(unaudited);
    await expect(
      database.client`insert into change_request_comment_resolutions (thread_id, action, actor_id, at) values (${threadId}, 'reopened', ${erin}, now())`,
    ).rejects.toThrow(unaudited);
    await expect(database.client`update change_request_comments set resolved_at = now(), resolved_by_id = ${erin} where id = ${threadId}`).rejects.toThrow(
      unaudited,
    );
    await expect(
      database.client.begin(async (tx) => {
        const [sig] = await tx`insert into signatures (change_request_id, signer_id, printed_name, role, meaning, signed_at, content_hash, revision)
          values (${request["CR-9102"]!}, ${erin}, 'ERIN', 'quality_reviewer', 'approved', now(), ${"0".repeat(64)}, 1) returning id`;
        await tx`insert into signature_finding_acknowledgements (signature_id, finding_key, finding_code, severity, count) values (${sig!.id}, 'REACH', 'REACH', 'critical', 1)`;
      }),
    ).rejects.toThrow(unaudited);
    expect((await database.client`select count(*)::int as n from change_request_comments`)[0]!.n).toBe(before);
    const triggers = await database.client`
      select c.relname as t from pg_trigger g join pg_class c on c.oid = g.tgrelid
      where g.tgname = c.relname || '_audited' and c.relname in ('change_request_comments', 'change_request_comment_resolutions', 'signature_finding_acknowledgements') order by 1`;
    expect(triggers.map((r) => r.t)).toEqual(["change_request_comment_resolutions", "change_request_comments", "signature_finding_acknowledgements"]);
  });

  it("never rewrites a comment: body, anchor, blocking, parent, author and revision are refused; the resolution changes", async () => {
    for (const change of [
      sql`body = 'rewritten'`,
      sql`anchor = '{"kind":"finding","code":"REACH"}'::jsonb`,
      sql`blocking = false`,
      sql`author_id = ${erin} + 0, revision = 7`,
      sql`parent_id = ${threadId}`,
      sql`created_at = now() - interval '1 day'`,
    ]) {
      await expect(
        inTx(async (tx) => {
          await appendAudit(tx, audit("CR-9101"));
          await tx.execute(sql`update change_request_comments set ${change} where id = ${threadId}`);
        }),
      ).rejects.toThrow(/a comment is never rewritten/);
    }
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, audit("CR-9101", "change_request.comment_reopen"));
      await tx.execute(sql`update change_request_comments set resolved_at = null, resolved_by_id = null where id = ${threadId}`);
      await tx.execute(sql`insert into change_request_comment_resolutions (thread_id, action, actor_id, at) values (${threadId}, 'reopened', ${erin}, now())`);
    });
    const [row] = await database.client`select body, blocking, resolved_at from change_request_comments where id = ${threadId}`;
    expect(row).toEqual({ body: "Scanners?", blocking: true, resolved_at: null });
  });

  it("refuses a reply whose thread belongs to another change request", async () => {
    await expect(
      inTx(async (tx) => {
        await appendAudit(tx, audit("CR-9102", "change_request.comment_reply"));
        await tx.execute(sql`insert into change_request_comments (change_request_id, author_id, body, created_at, parent_id)
          values (${request["CR-9102"]!}, ${erin}, 'Elsewhere', now(), ${threadId})`);
      }),
    ).rejects.toThrow(/change_request_comments_parent_same_request/);
    expect((await database.client`select count(*)::int as n from change_request_comments where parent_id = ${threadId}`)[0]!.n).toBe(0);
  });
});
