import { beforeAll, describe, expect, it } from "vitest";
import { MAX_FAILED_SIGN_INS, resolveSession, signIn, signOut } from "../../app/services/sessions.server";
import { createUser, decideGrant, deactivateUser, grantRole, revokeRole } from "../../app/services/users.server";
import { listUsers } from "../../app/queries/users.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import { DomainError } from "../../app/utils/errors.server";
import { createTestDatabase } from "../setup/database";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
const password = "correct horse battery";

beforeAll(async () => {
  database = await createTestDatabase();
  await database.client`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam'), ('CLT', 'Charlotte', 'America/New_York')`;
  await createUser(
    database.db,
    "test",
    { username: "alice", displayName: "Alice", password, grants: [{ role: "viewer", site: "CLT" }], reason: "test user" },
    "fixture",
  );
});

const attempt = (username: string, pw: string, previousSessionId?: string) =>
  signIn(database.db, { username, password: pw, ip: "127.0.0.1", previousSessionId, maxHours: 12 });

async function auditActions(entityId: string) {
  const rows = await database.client<
    { action: string; after: string }[]
  >`select action, after::text as after from audit_trail where entity_type = 'user' and entity_id = ${entityId} order by seq`;
  return rows;
}

describe("signing in", () => {
  it("creates a session with a fresh id, ends the one it replaces, and audits both", async () => {
    const first = await attempt("Alice", password);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await attempt("alice", password, first.sessionId);
    if (!second.ok) throw new Error("second sign-in failed");
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(await resolveSession(database.db, first.sessionId, 30)).toEqual({ ended: "unknown" });
    expect(await resolveSession(database.db, second.sessionId, 30)).toMatchObject({ user: { username: "alice" } });
    // The id itself is never stored, only its hash.
    const stored = await database.client`select id_hash from sessions`;
    expect(stored.map((r) => r.id_hash)).not.toContain(first.sessionId);
    const actions = (await auditActions("alice")).map((r) => r.action);
    expect(actions.filter((a) => a === "session.sign_in")).toHaveLength(2);
    await signOut(database.db, second.sessionId);
    expect(await resolveSession(database.db, second.sessionId, 30)).toEqual({ ended: "unknown" });
    expect((await auditActions("alice")).at(-1)!.action).toBe("session.sign_out");
  });

  it("never writes the password anywhere, not even one typed into the user-name field", async () => {
    await attempt("alice", "a wrong password 1");
    await attempt("my-secret-passphrase", "");
    const [leak] =
      await database.client`select count(*)::int as n from audit_trail where actor like '%passphrase%' or entity_id like '%passphrase%' or after::text like '%passphrase%'`;
    expect(leak!.n).toBe(0);
    const [row] =
      await database.client`select count(*)::int as n from audit_trail where before::text like ${"%" + password + "%"} or after::text like ${"%" + password + "%"} or after::text like '%wrong password 1%'`;
    expect(row!.n).toBe(0);
    const [user] = await database.client`select password_hash from users where username = 'alice'`;
    expect(user!.password_hash).toMatch(/^scrypt\$/);
  });

  it("throttles a user name after repeated failures, audits each failure and refusal, and lets the user in after the window", async () => {
    await createUser(
      database.db,
      "test",
      { username: "bob", displayName: "Bob", password, grants: [{ role: "viewer", site: null }], reason: "test user" },
      "fixture",
    );
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) expect(await attempt("bob", `wrong-${i}`)).toEqual({ ok: false, reason: "invalid" });
    const refused = await attempt("bob", password);
    expect(refused).toMatchObject({ ok: false, reason: "throttled" });
    if (refused.ok || refused.reason !== "throttled") return;
    expect(refused.retryAfterSeconds).toBeGreaterThan(800);
    const actions = (await auditActions("bob")).map((r) => r.action);
    expect(actions.filter((a) => a === "session.sign_in_failed")).toHaveLength(MAX_FAILED_SIGN_INS);
    expect(actions).toContain("session.sign_in_refused");
    // Sixteen minutes later (moved back in time behind the application's back, as the owner, for the test).
    await database.owner.begin(async (tx) => {
      await tx`alter table audit_trail disable trigger audit_trail_no_update_delete`;
      await tx`update audit_trail set recorded_at = recorded_at - interval '16 minutes' where entity_id = 'bob'`;
      await tx`alter table audit_trail enable trigger audit_trail_no_update_delete`;
    });
    expect((await attempt("bob", password)).ok).toBe(true);
  });

  it("refuses unknown and deactivated users with the same answer, and ends a deactivated user's sessions", async () => {
    expect(await attempt("nobody", password)).toEqual({ ok: false, reason: "invalid" });
    await createUser(
      database.db,
      "test",
      { username: "carol", displayName: "Carol", password, grants: [{ role: "engineer", site: "EIN" }], reason: "test user" },
      "fixture",
    );
    const session = await attempt("carol", password);
    if (!session.ok) throw new Error("carol could not sign in");
    await deactivateUser(database.db, "admin", { username: "carol", reason: "left the company" });
    expect(await resolveSession(database.db, session.sessionId, 30)).toEqual({ ended: "unknown" });
    expect(await attempt("carol", password)).toEqual({ ok: false, reason: "invalid" });
    const failed = (await auditActions("carol")).filter((r) => r.action === "session.sign_in_failed");
    expect(JSON.parse(failed.at(-1)!.after)).toMatchObject({ cause: "deactivated" });
  });

  it("ends a session after the idle timeout, and audits it", async () => {
    const session = await attempt("alice", password);
    if (!session.ok) throw new Error("alice could not sign in");
    await database.client`update sessions set last_seen_at = now() - interval '31 minutes' where ended_at is null`;
    expect(await resolveSession(database.db, session.sessionId, 30)).toEqual({ ended: "idle_timeout" });
    expect((await auditActions("alice")).at(-1)!.action).toBe("session.timeout");
  });
});

describe("users", () => {
  it("keeps an administrator for all sites: the last one cannot be deactivated or lose the role, nor deactivate themselves", async () => {
    await createUser(
      database.db,
      "test",
      { username: "root.admin", displayName: "Root", password, grants: [{ role: "admin", site: null }], reason: "first admin" },
      "fixture",
    );
    await expect(deactivateUser(database.db, "someone", { username: "root.admin", reason: "oops" })).rejects.toThrow(/no administrator for all sites left/);
    await expect(revokeRole(database.db, "someone", { username: "root.admin", grant: { role: "admin", site: null }, reason: "oops" })).rejects.toThrow(
      /no administrator/,
    );
    await expect(deactivateUser(database.db, "root.admin", { username: "root.admin", reason: "leaving" })).rejects.toThrow(/own account/);
  });

  it("are never deleted, never renamed, and their names are never reused", async () => {
    await expect(database.client`delete from users where username = 'carol'`).rejects.toThrow(/never deleted/);
    await expect(database.client`update users set username = 'carla' where username = 'carol'`).rejects.toThrow(/cannot change/);
    const error = await createUser(
      database.db,
      "admin",
      { username: "carol", displayName: "Another Carol", password, grants: [{ role: "viewer", site: null }], reason: "rehire" },
      "fixture",
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).fields.username).toEqual(["This user name belonged to a deactivated user and is never reused"]);
  });

  it("validates input naming each field, and a failed change writes nothing", async () => {
    const before = await database.client`select max(seq)::int as seq from audit_trail`;
    const error = await createUser(
      database.db,
      "admin",
      {
        username: "X",
        displayName: "",
        password: "short",
        grants: [{ role: "viewer", site: "NOPE" }],
        reason: "",
      },
      "fixture",
    ).catch((e: unknown) => e as DomainError);
    expect(Object.keys((error as DomainError).fields).sort()).toEqual(["displayName", "password", "reason", "username"]);
    const unknownSite = await createUser(
      database.db,
      "admin",
      { username: "dave", displayName: "Dave", password, grants: [{ role: "viewer", site: "NOPE" }], reason: "new" },
      "fixture",
    ).catch((e: unknown) => e as DomainError);
    expect((unknownSite as DomainError).fields).toEqual({ grants: ["site NOPE does not exist"] });
    const after = await database.client`select max(seq)::int as seq from audit_trail`;
    expect(after[0]!.seq).toBe(before[0]!.seq);
    expect((await listUsers(database.db)).map((u) => u.username)).not.toContain("dave");
  });

  it("grants and revokes roles with before and after in the audit trail", async () => {
    const pending = await grantRole(database.db, "admin", { username: "alice", grant: { role: "engineer", site: "EIN" }, reason: "moved to EIN" });
    const granted = await decideGrant(database.db, "second.admin", { id: pending.id, decision: "confirm", reason: "checked with QA" });
    expect(granted.grants).toHaveLength(2);
    expect(granted.grants).toEqual(
      expect.arrayContaining([
        { role: "viewer", site: "CLT" },
        { role: "engineer", site: "EIN" },
      ]),
    );
    await expect(grantRole(database.db, "admin", { username: "alice", grant: { role: "engineer", site: "EIN" }, reason: "again" })).rejects.toThrow(
      /already holds/,
    );
    const revoked = await revokeRole(database.db, "admin", { username: "alice", grant: { role: "viewer", site: "CLT" }, reason: "left CLT" });
    expect(revoked.grants).toEqual([{ role: "engineer", site: "EIN" }]);
    const [row] = await database.client`select before::text, after::text from audit_trail where action = 'user.revoke_role' order by seq desc limit 1`;
    expect(JSON.parse(row!.before).grants).toHaveLength(2);
    expect(JSON.parse(row!.after).grants).toHaveLength(1);
    // The only break in the chain is the one the throttling test made by back-dating bob's rows.
    const [firstBob] = await database.client`select min(seq)::int as seq from audit_trail where entity_id = 'bob'`;
    expect((await verifyAuditChain(database.db)).firstBreak).toMatchObject({ seq: firstBob!.seq, problem: "hash_mismatch" });
  });
});
