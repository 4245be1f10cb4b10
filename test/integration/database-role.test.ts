/**
 * ADR 018: the portal connected as the PostgreSQL superuser, and
 * `update change_requests set status = 'approved'` or `update user_roles set role = 'admin'`
 * succeeded without an audit row. Now the pool connects as c981_app, which owns nothing, and the
 * Part 11 tables refuse at commit a transaction that wrote no audit row.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { appendAudit } from "../../app/services/audit.server";
import { saveNotificationPreferences } from "../../app/services/notifications.server";
import { createUser } from "../../app/services/users.server";
import { openDatabase } from "../../app/utils/db.server";
import { prepareDatabase } from "../../server/prepare-database";
import { createTestDatabase } from "../setup/database";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let requestId: number;
let grantId: number;

const refused = /without an audit row in the same transaction is refused/;

beforeAll(async () => {
  database = await createTestDatabase();
  await createUser(
    database.db,
    "test",
    {
      username: "erin",
      displayName: "Erin Engineer",
      password: "a long enough passphrase",
      grants: [{ role: "engineer", site: null }],
      reason: "test user",
    },
    "fixture",
  );
  await createUser(
    database.db,
    "test",
    {
      username: "vera",
      displayName: "Vera Viewer",
      password: "a long enough passphrase",
      grants: [{ role: "viewer", site: null }],
      reason: "test user",
    },
    "fixture",
  );
  // Written as the services write: the row and its audit row in one transaction.
  requestId = await database.db.transaction(async (tx) => {
    const [row] = await tx.execute<{ id: number }>(sql`
      insert into change_requests (number, title, status, author_id, content, expanded_changes, content_hash, created_at, updated_at)
      select 'CR-9001', 'A request', 'in_review', id, '{}', '[]', ${"0".repeat(64)}, now(), now() from users where username = 'erin' returning id`);
    await appendAudit(tx, { actor: "erin", action: "change_request.create", entityType: "change_request", entityId: "CR-9001" });
    return row!.id;
  });
  const [grant] = await database.client<{ id: number }[]>`select id from user_roles where user_id = (select id from users where username = 'erin')`;
  grantId = grant!.id;
});

describe("the application's database role", () => {
  it("is what the pool connects as: no superuser, BYPASSRLS, CREATEROLE or replication", async () => {
    const [me] = await database.client`
      select current_user as name, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication
      from pg_roles r where r.rolname = current_user`;
    expect(me).toEqual({ name: "c981_app", rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false });
    const [owned] = await database.client`select count(*)::int as n from pg_class where relowner = (select oid from pg_roles where rolname = current_user)`;
    expect(owned!.n).toBe(0);
  });

  it("is what the portal's own pool connects as on the embedded default, while migrations run as its superuser", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-role-"));
    await fs.chmod(dir, 0o755);
    const portal = await openDatabase({ DATABASE_URL: undefined, C981_DATA_DIR: dir, C981_DB_LOG: false });
    try {
      await prepareDatabase(portal, { seed: "none" });
      const [pool] = await portal.client`select current_user as name`;
      expect(pool!.name).toBe("c981_app");
      expect(new URL(portal.ownerUrl!).username).toBe("postgres");
      const owner = postgres(portal.ownerUrl!, { max: 1, onnotice: () => {} });
      const [tables] = await owner`select count(*)::int as n from pg_tables where schemaname = 'public' and tableowner = 'c981_app'`;
      await owner.end();
      expect(tables!.n).toBe(0);
    } finally {
      await portal.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("cannot alter, drop or disable the triggers of the audited tables, nor switch them off for its session", async () => {
    await expect(database.client`alter table change_requests disable trigger change_requests_audited`).rejects.toThrow(/must be owner/);
    await expect(database.client`alter table user_roles disable trigger all`).rejects.toThrow(/must be owner/);
    await expect(database.client`drop trigger user_roles_audited on user_roles`).rejects.toThrow(/must be owner/);
    await expect(database.client`alter table audit_trail disable trigger audit_trail_no_update_delete`).rejects.toThrow(/must be owner/);
    await expect(database.client`alter table change_requests add column forged text`).rejects.toThrow(/must be owner/);
    await expect(database.client`set session_replication_role = replica`).rejects.toThrow(/permission denied/);
    await expect(database.client`alter role c981_app superuser`).rejects.toThrow(/permission denied|must be superuser/);
    // The trigger refusing without an audit row is still in force.
    await expect(database.client`update change_requests set status = 'approved' where id = ${requestId}`).rejects.toThrow(refused);
  });
});

describe("the Part 11 tables change only with an audit row in the same transaction", () => {
  it("refuses `update change_requests set status = 'approved'` without one", async () => {
    await expect(database.client`update change_requests set status = 'approved' where id = ${requestId}`).rejects.toThrow(refused);
    // Deferring the check cannot skip it either.
    await expect(
      database.client.begin(async (tx) => {
        await tx`set constraints all immediate`;
        await tx`update change_requests set status = 'approved' where id = ${requestId}`;
      }),
    ).rejects.toThrow(refused);
    const [row] = await database.client`select status from change_requests where id = ${requestId}`;
    expect(row!.status).toBe("in_review");
    // With an audit row in the same transaction (as the services write), it passes.
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, {
        actor: "quinn",
        action: "change_request.approve",
        entityType: "change_request",
        entityId: "CR-9001",
        before: { status: "in_review" },
        after: { status: "approved" },
      });
      await tx.execute(sql`update change_requests set status = 'approved' where id = ${requestId}`);
    });
    const [after] = await database.client`select status from change_requests where id = ${requestId}`;
    expect(after!.status).toBe("approved");
  });

  it("refuses `update user_roles set role = 'admin'` (and a new grant) without one", async () => {
    await expect(database.client`update user_roles set role = 'admin' where id = ${grantId}`).rejects.toThrow(refused);
    await expect(
      database.client`insert into user_roles (user_id, role) select user_id, 'release_manager' from user_roles where id = ${grantId}`,
    ).rejects.toThrow(refused);
    const roles = await database.client`select role from user_roles where user_id = (select user_id from user_roles where id = ${grantId})`;
    expect(roles.map((r) => r.role)).toEqual(["engineer"]);
    // With an audit row in the same transaction (written before or after the change), it passes.
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`update user_roles set role = 'admin' where id = ${grantId}`);
      await appendAudit(tx, {
        actor: "ada",
        action: "user.grant_role",
        entityType: "user",
        entityId: "erin",
        before: { role: "engineer" },
        after: { role: "admin" },
      });
    });
    const [after] = await database.client`select role from user_roles where id = ${grantId}`;
    expect(after!.role).toBe("admin");
  });

  it("requires an audit row naming the changed row's entity with a fitting action, not just any audit row (review finding 1)", async () => {
    const vera = sql`(select id from users where username = 'vera')`;
    const adminGrants = async () =>
      (await database.client`select count(*)::int as n from user_roles where user_id = (select id from users where username = 'vera') and role = 'admin'`)[0]!
        .n;
    // A correctly chained session.sign_in row (for someone else, or for vera herself) does not cover a grant.
    for (const entityId of ["erin", "vera"]) {
      await expect(
        database.db.transaction(async (tx) => {
          await appendAudit(tx, { actor: entityId, action: "session.sign_in", entityType: "user", entityId });
          await tx.execute(sql`insert into user_roles (user_id, role) select ${vera}, 'admin'`);
        }),
      ).rejects.toThrow(refused);
    }
    // A grant audited for another user does not cover vera's.
    await expect(
      database.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: "ada", action: "user.grant_role", entityType: "user", entityId: "erin" });
        await tx.execute(sql`insert into user_roles (user_id, role) select ${vera}, 'admin'`);
      }),
    ).rejects.toThrow(refused);
    // Nor does a seed row that does not list her.
    await expect(
      database.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: "seed", action: "seed.demo_plant", entityType: "plant", entityId: "demo", after: { users: [{ username: "erin" }] } });
        await tx.execute(sql`insert into user_roles (user_id, role) select ${vera}, 'admin'`);
      }),
    ).rejects.toThrow(refused);
    expect(await adminGrants()).toBe(0);
    // A change request's rows need an audit row naming that request.
    await expect(
      database.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: "erin", action: "change_request.edit", entityType: "change_request", entityId: "CR-9999" });
        await tx.execute(sql`update change_requests set title = 'forged' where id = ${requestId}`);
      }),
    ).rejects.toThrow(refused);
    // An update moving a row to another entity needs both named: the old and the new.
    await expect(
      database.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: "ada", action: "user.grant_role", entityType: "user", entityId: "vera" });
        await tx.execute(sql`update user_roles set user_id = ${vera} where id = ${grantId}`);
      }),
    ).rejects.toThrow(refused);
    // The matching row passes.
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, { actor: "ada", action: "user.grant_role", entityType: "user", entityId: "vera", after: { role: "release_manager" } });
      await tx.execute(sql`insert into user_roles (user_id, role) select ${vera}, 'release_manager'`);
    });
    expect(await adminGrants()).toBe(0);
  });

  it("covers impact analyses, request bases and release waivers too (review finding 3)", async () => {
    const [site] = await database.client<{ id: number }[]>`insert into sites (code, name, time_zone) values ('RB1', 'Role base', 'UTC') returning id`;
    const base = (tx: typeof database.client) =>
      tx`insert into change_request_bases (change_request_id, site_id, base_rules_digest) values (${requestId}, ${site!.id}, ${"0".repeat(64)})`;
    await expect(base(database.client)).rejects.toThrow(refused);
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, { actor: "erin", action: "change_request.rebase", entityType: "change_request", entityId: "CR-9001" });
      await tx.execute(
        sql`insert into change_request_bases (change_request_id, site_id, base_rules_digest) values (${requestId}, ${site!.id}, ${"0".repeat(64)})`,
      );
    });
    const triggers = await database.client<{ table: string }[]>`
      select c.relname as table from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where t.tgname = c.relname || '_audited' and c.relname in ('impact_analyses', 'change_request_bases', 'release_waivers') order by 1`;
    expect(triggers.map((t) => t.table)).toEqual(["change_request_bases", "impact_analyses", "release_waivers"]);
  });

  it("covers notification preferences: a raw write is refused at commit, the service's audited write passes (ADR 032)", async () => {
    const [vera] = await database.client<{ id: number }[]>`select id from users where username = 'vera'`;
    const veraId = vera!.id;
    await expect(
      database.client`insert into notification_preferences (user_id, kind, inbox, email) values (${veraId}, 'released', false, false)`,
    ).rejects.toThrow(refused);
    // An audit row of another action for the same user does not name this change.
    await expect(
      database.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: "vera", action: "notification.read_all", entityType: "user", entityId: "vera" });
        await tx.execute(sql`insert into notification_preferences (user_id, kind, inbox, email) values (${veraId}, 'released', false, false)`);
      }),
    ).rejects.toThrow(refused);
    const count = async () => (await database.client<{ n: number }[]>`select count(*)::int as n from notification_preferences where user_id = ${veraId}`)[0]!.n;
    expect(await count()).toBe(0);
    // The service writes the rows and its notification.preferences audit row in one transaction.
    await saveNotificationPreferences(database.db, { id: veraId, username: "vera" }, { email: "", kinds: { review_requested: { inbox: true, email: true } } });
    // Every kind but review_requested changed from the default (both on) to both off: 5 rows.
    expect(await count()).toBe(5);
    const [audit] = await database.client<{ n: number }[]>`
      select count(*)::int as n from audit_trail where action = 'notification.preferences' and entity_type = 'user' and entity_id = 'vera'`;
    expect(audit!.n).toBe(1);
    // Update and delete without one are refused too; the rows stay as the service left them.
    await expect(database.client`update notification_preferences set inbox = true where user_id = ${veraId}`).rejects.toThrow(refused);
    await expect(database.client`delete from notification_preferences where user_id = ${veraId}`).rejects.toThrow(refused);
    const [on] = await database.client<{ n: number }[]>`select count(*)::int as n from notification_preferences where user_id = ${veraId} and (inbox or email)`;
    expect(on!.n).toBe(0);
    expect(await count()).toBe(5);
  });

  it("cannot be satisfied by a temporary table shadowing audit_trail", async () => {
    const url = new URL(database.ownerUrl);
    url.username = "c981_app";
    url.password = encodeURIComponent(inject("appPassword"));
    const app = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await expect(
        app.begin(async (tx) => {
          await tx`create temp table audit_trail (txid bigint, entity_type text, entity_id text, action text, after jsonb)`;
          await tx`insert into audit_trail values (txid_current(), 'change_request', 'CR-9001', 'change_request.edit', null)`;
          await tx`update change_requests set title = 'forged' where id = ${requestId}`;
        }),
      ).rejects.toThrow(refused);
    } finally {
      await app.end();
    }
    const [row] = await database.client`select title from change_requests where id = ${requestId}`;
    expect(row!.title).toBe("A request");
  });

  it("does not count an audit row written in a savepoint that was rolled back, nor one claiming another transaction", async () => {
    await expect(
      database.client.begin(async (tx) => {
        await tx
          .savepoint(async (sp) => {
            await sp`insert into audit_trail (seq, recorded_at, actor, action, entity_type, entity_id, prev_hash, hash)
            select max(seq) + 1, now(), 'mallory', 'x', 'change_request', 'CR-9001', '', '' from audit_trail`;
            throw new Error("roll the savepoint back");
          })
          .catch(() => {});
        await tx`update change_requests set title = 'forged' where id = ${requestId}`;
      }),
    ).rejects.toThrow(refused);
    // An audit row naming another transaction is stamped with its own (rolled back: it is not a chain link).
    let stamped: { own: boolean } | undefined;
    await database.client
      .begin(async (tx) => {
        [stamped] = await tx<{ own: boolean }[]>`with inserted as (
            insert into audit_trail (seq, recorded_at, actor, action, entity_type, entity_id, prev_hash, hash, txid)
            select max(seq) + 1, now(), 't', 'x', 'test', 'x', '', '', 1 from audit_trail returning txid)
          select (select txid from inserted) = txid_current() as own`;
        throw new Error("rollback");
      })
      .catch((error: Error) => expect(error.message).toBe("rollback"));
    expect(stamped!.own).toBe(true);
  });
});
