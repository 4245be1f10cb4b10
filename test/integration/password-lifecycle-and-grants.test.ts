/**
 * ADR 020. Before: nobody could change a password, so an administrator
 * who chose one could sign as its owner indefinitely; `aaaaaaaaaaaa` was accepted; a grant by one
 * administrator took effect at once; repeated failures were only audited. Each test here fails on
 * the code before.
 */
import { spawnSync } from "node:child_process";
import type { ActionFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { action as changePasswordAction } from "../../app/routes/account.password";
import { action as dashboardAction } from "../../app/routes/_index";
import { action as userAction } from "../../app/routes/users.$username";
import { action as usersAction } from "../../app/routes/users._index";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, MAX_FAILED_SIGNATURES, type Signer } from "../../app/services/change-requests.server";
import { changeOwnPassword } from "../../app/services/passwords.server";
import { hashSessionId, MAX_FAILED_SIGN_INS, signIn } from "../../app/services/sessions.server";
import { createUser, decideGrant, grantRole } from "../../app/services/users.server";
import { getSignedIn } from "../../app/services/signed-in.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { accountProvenanceFlags } from "../../app/queries/account-provenance.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

let database: Database & { name: string; ownerUrl: string };
const ADMIN_SET = "river-stone-lantern-7";
const OWN = "my-own-quiet-harbour-42";
let author: Signer;

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const userRow = async (username: string) =>
  (await database.client`select password_must_change, password_hash from users where username = ${username}`)[0] as {
    password_must_change: boolean;
    password_hash: string;
  };

async function signedInAs(username: string, password: string) {
  const session = await signIn(database.db, { username, password, ip: null, maxHours: 1 });
  if (!session.ok) throw new Error(`sign-in of ${username} failed`);
  return session;
}

async function postForm(
  action: (args: ActionFunctionArgs) => Promise<unknown>,
  path: string,
  sessionId: string,
  fields: Record<string, string>,
): Promise<{ status: number; location?: string | null; body?: unknown }> {
  const request = new Request(`http://127.0.0.1${path}`, {
    method: "POST",
    headers: { Cookie: `${SESSION_COOKIE}=${sessionId}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  try {
    const result = (await action({ request, params: {}, context: {} } as ActionFunctionArgs)) as { init?: { status?: number }; data?: unknown } | null;
    return { status: result?.init?.status ?? 200, body: result?.data };
  } catch (thrown) {
    if (thrown instanceof Response) return { status: thrown.status, location: thrown.headers.get("Location") };
    throw thrown;
  }
}

async function newRequest(title: string, material: string): Promise<string> {
  const { number } = await createChangeRequest(database.db, author, {
    title,
    justification: "Unit-level trace for field returns.",
    riskAssessment: "Medium: labels and scanners exist.",
    legacyDataPlan: "grandfather",
    changes: [
      {
        kind: "tracking",
        material,
        sites: ["EIN"],
        trackingMode: "serial",
        containerTracking: false,
        identifierFormatCodes: ["EIN-SER"],
        consumptionScan: "identify",
      },
    ],
  });
  await submitChangeRequest(database.db, author, number, await rowVersion(number));
  return number;
}

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  author = await signedInPerson(database, "pw.author", ["engineer"], "quiet-maple-orchard-1");
}, 120_000);

describe("the password policy on the server", () => {
  it("refuses aaaaaaaaaaaa (accepted before) when an account is created", async () => {
    const error = await createUser(
      database.db,
      "ada.admin",
      { username: "weak.one", displayName: "Weak", password: "aaaaaaaaaaaa", grants: [{ role: "viewer", site: null }], reason: "test" },
      "portal",
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).fields.password).toContain("Use at least 5 different characters");
    expect((await database.client`select count(*)::int as n from users where username = 'weak.one'`)[0]!.n).toBe(0);
  });

  it("refuses a common password from the list, in any case", async () => {
    const error = await createUser(
      database.db,
      "ada.admin",
      { username: "common.one", displayName: "Common", password: "1QAZ2WSX3EDC", grants: [{ role: "viewer", site: null }], reason: "test" },
      "portal",
    ).catch((e: unknown) => e);
    expect((error as DomainError).fields.password).toEqual(["This password is on a list of common passwords: choose another"]);
  });
});

describe("an administrator-set password", () => {
  it("signs nothing until its owner changes it; sign-in leads to the change page; then the owner signs", async () => {
    await createUser(
      database.db,
      "cli:root",
      { username: "quinn.new", displayName: "Quinn New", password: ADMIN_SET, grants: [{ role: "quality_reviewer", site: null }], reason: "joins QA" },
      "operator",
    );
    const session = await signedInAs("quinn.new", ADMIN_SET);
    expect(session.passwordChange).toBe("set_by_administrator");
    const number = await newRequest("Serialize ASM-1004 at EIN", "ASM-1004");
    const signer: Signer = {
      id: session.userId,
      username: "quinn.new",
      displayName: "Quinn New",
      roles: ["quality_reviewer"],
      sessionIdHash: hashSessionId(session.sessionId),
    };
    const attempt = async () =>
      signChangeRequest(database.db, signer, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "quinn.new",
        password: ADMIN_SET,
        rowVersion: await rowVersion(number),
        ...(await reviewed(database.db, number)),
      });
    const refused = await attempt();
    expect(refused).toMatchObject({ ok: false });
    expect(JSON.stringify(refused)).toMatch(/set by an administrator: change it .* before you sign/);
    expect(
      (await database.client`select count(*)::int as n from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number}`)[0]!
        .n,
    ).toBe(0);

    // Through the portal's sign-in action: the redirect goes to the change page.
    const { action: signInAction } = await import("../../app/routes/sign-in");
    const signInResponse = await signInAction({
      request: new Request("http://127.0.0.1/sign-in", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: "quinn.new", password: ADMIN_SET, redirectTo: "/releases" }),
      }),
      params: {},
      context: {},
    } as ActionFunctionArgs).catch((r: unknown) => r as Response);
    expect((signInResponse as Response).headers.get("Location")).toBe(`/account/password?redirectTo=${encodeURIComponent("/releases")}`);

    // The change, through the page's action as the browser posts it.
    const changed = await postForm(changePasswordAction, "/account/password", session.sessionId, {
      currentPassword: ADMIN_SET,
      newPassword: OWN,
      confirmPassword: OWN,
      redirectTo: "/releases",
    });
    expect(changed).toMatchObject({ status: 302, location: "/releases?passwordChanged=1" });
    expect((await userRow("quinn.new")).password_must_change).toBe(false);
    expect(
      (await getSignedIn(new Request("http://127.0.0.1/", { headers: { Cookie: `${SESSION_COOKIE}=${session.sessionId}` } })))?.user.passwordChange,
    ).toBeNull();
    const signed = await signChangeRequest(database.db, signer, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: "quinn.new",
      password: OWN,
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(signed).toMatchObject({ ok: true, status: "approved" });
    // Audited, with no password material.
    const audit =
      await database.client`select action, coalesce(before::text, '') || coalesce(after::text, '') as body from audit_trail where entity_id = 'quinn.new' and action like 'user.password%'`;
    expect(audit.map((r) => r.action)).toEqual(["user.password_change"]);
    for (const row of audit) {
      expect(row.body).not.toContain(OWN);
      expect(row.body).not.toContain(ADMIN_SET);
      expect(row.body).not.toContain("scrypt$");
    }
  }, 60_000);

  it("the page refuses a wrong current password, a mismatch and a policy breach with field errors; nothing changes", async () => {
    const session = await signedInAs("pw.author", "quiet-maple-orchard-1");
    const before = (await userRow("pw.author")).password_hash;
    expect(
      await postForm(changePasswordAction, "/account/password", session.sessionId, {
        currentPassword: "quiet-maple-orchard-1",
        newPassword: "aaaaaaaaaaaa",
        confirmPassword: "aaaaaaaaaaaa",
      }),
    ).toMatchObject({ status: 400 });
    expect(
      await postForm(changePasswordAction, "/account/password", session.sessionId, {
        currentPassword: "quiet-maple-orchard-1",
        newPassword: OWN,
        confirmPassword: "something-else-9",
      }),
    ).toMatchObject({ status: 400 });
    const wrong = await postForm(changePasswordAction, "/account/password", session.sessionId, {
      currentPassword: "not-my-password-0",
      newPassword: OWN,
      confirmPassword: OWN,
    });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain("Wrong password: nothing changed");
    expect((await userRow("pw.author")).password_hash).toBe(before);
    expect(
      (await database.client`select count(*)::int as n from audit_trail where entity_id = 'pw.author' and action = 'user.password_change_failed'`)[0]!.n,
    ).toBe(1);
  });

  it("30 parallel wrong current passwords are judged at most 3 times, alert the administrators and lock signing too (review finding)", async () => {
    await createUser(
      database.db,
      "test",
      {
        username: "guess.target",
        displayName: "Guess Target",
        password: "harbour-violet-signal-12",
        grants: [{ role: "quality_reviewer", site: null }],
        reason: "test",
      },
      "fixture",
    );
    const session = await signedInAs("guess.target", "harbour-violet-signal-12");
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        postForm(changePasswordAction, "/account/password", session.sessionId, {
          currentPassword: `wrong-guess-number-${i}`,
          newPassword: OWN,
          confirmPassword: OWN,
          redirectTo: "/",
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(MAX_FAILED_SIGNATURES);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - MAX_FAILED_SIGNATURES);
    const rows = async (action: string) =>
      Number((await database.client`select count(*)::int as n from audit_trail where entity_id = 'guess.target' and action = ${action}`)[0]!.n);
    expect(await rows("user.password_change_failed")).toBe(MAX_FAILED_SIGNATURES);
    expect(await rows("user.password_change_refused")).toBe(30 - MAX_FAILED_SIGNATURES);
    const alerts = await database.client`select kind, occurrences from security_alerts where username = 'guess.target' and acknowledged_at is null`;
    expect(alerts.map((a) => ({ ...a }))).toEqual([{ kind: "password_change_failures", occurrences: 1 }]);
    // The right current password is locked out too, and so is signing: one lockout for both.
    const right = await postForm(changePasswordAction, "/account/password", session.sessionId, {
      currentPassword: "harbour-violet-signal-12",
      newPassword: OWN,
      confirmPassword: OWN,
      redirectTo: "/",
    });
    expect(right.status).toBe(429);
    const number = await newRequest("Serialize ASM-1005 at EIN", "ASM-1005");
    const signer: Signer = {
      id: session.userId,
      username: "guess.target",
      displayName: "Guess Target",
      roles: ["quality_reviewer"],
      sessionIdHash: hashSessionId(session.sessionId),
    };
    const signed = await signChangeRequest(database.db, signer, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: "guess.target",
      password: "harbour-violet-signal-12",
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(JSON.stringify(signed)).toMatch(/Signing is locked/);
    expect((await userRow("guess.target")).password_must_change).toBe(false);
  }, 60_000);

  it("refuses reusing any of the last passwords", async () => {
    await createUser(
      database.db,
      "test",
      { username: "reuse.me", displayName: "Reuse", password: "first-pass-phrase-1", grants: [{ role: "viewer", site: null }], reason: "test" },
      "fixture",
    );
    const change = (from: string, to: string) =>
      changeOwnPassword(database.db, { username: "reuse.me", currentPassword: from, newPassword: to, historyDepth: 3, keepSessionIdHash: null, via: "test" });
    await change("first-pass-phrase-1", "second-pass-phrase-2");
    await change("second-pass-phrase-2", "third-pass-phrase-3");
    await expect(change("third-pass-phrase-3", "first-pass-phrase-1")).rejects.toThrow(/used recently/);
    await change("third-pass-phrase-3", "fourth-pass-phrase-4");
    // Three back (depth 3: fourth, third, second), the first may return.
    await change("fourth-pass-phrase-4", "first-pass-phrase-1");
  }, 60_000);
});

describe("the CLI", () => {
  const cli = (args: string[], input: string) =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/c981.ts", ...args], {
      input,
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SEED: "none" },
    });

  it("changes a user's own password read from stdin, and an administrator's reset makes it due again", async () => {
    await createUser(
      database.db,
      "test",
      { username: "cli.user", displayName: "CLI User", password: "north-wind-garden-4", grants: [{ role: "viewer", site: null }], reason: "test" },
      "fixture",
    );
    const refused = cli(["users:password", "cli.user"], "north-wind-garden-4\naaaaaaaaaaaa\n");
    expect(refused.status).toBe(65);
    const changed = cli(["users:password", "cli.user"], "north-wind-garden-4\nsouth-tide-pebble-7\n");
    expect(changed.stderr).toBe("");
    expect(changed.status).toBe(0);
    expect((await signIn(database.db, { username: "cli.user", password: "south-tide-pebble-7", ip: null, maxHours: 1 })).ok).toBe(true);
    const reset = cli(["users:reset-password", "cli.user", "--reason", "forgot it"], "");
    expect(reset.status).toBe(0);
    const generated = /new password \(shown once\): (\S+)/.exec(reset.stdout)?.[1];
    expect(generated).toBeTruthy();
    expect((await userRow("cli.user")).password_must_change).toBe(true);
    expect(await signIn(database.db, { username: "cli.user", password: generated!, ip: null, maxHours: 1 })).toMatchObject({
      ok: true,
      passwordChange: "set_by_administrator",
    });
  }, 60_000);
});

describe("two-person grants", () => {
  it("a grant is pending, gives no authority, cannot be confirmed by its asker or its grantee, and takes effect when a second administrator confirms", async () => {
    await createUser(
      database.db,
      "test",
      { username: "admin.two", displayName: "Admin Two", password: "second-key-holder-9", grants: [{ role: "admin", site: null }], reason: "test" },
      "fixture",
    );
    await createUser(
      database.db,
      "test",
      { username: "eve.puppet", displayName: "Eve", password: "blue-kettle-morning-3", grants: [{ role: "viewer", site: null }], reason: "test" },
      "fixture",
    );
    const pending = await grantRole(database.db, "ada.admin", {
      username: "eve.puppet",
      grant: { role: "release_manager", site: null },
      reason: "covers releases",
    });
    const eve = await signedInAs("eve.puppet", "blue-kettle-morning-3");
    const asEve = () => getSignedIn(new Request("http://127.0.0.1/", { headers: { Cookie: `${SESSION_COOKIE}=${eve.sessionId}` } }));
    expect((await asEve())!.ability.can("release", "ChangeRequest")).toBe(false);
    await expect(decideGrant(database.db, "ada.admin", { id: pending.id, decision: "confirm", reason: "myself" })).rejects.toThrow(
      /A second administrator must confirm this grant/,
    );
    await expect(decideGrant(database.db, "eve.puppet", { id: pending.id, decision: "confirm", reason: "myself" })).rejects.toThrow(
      /Nobody grants roles to themselves/,
    );
    // The database refuses it too, whatever the application does.
    await expect(
      database.client`update pending_role_grants set decision = 'confirmed', decided_by = 'ada.admin', decided_at = now() where id = ${pending.id}`,
    ).rejects.toThrow(/pending_role_grants_second_person/);
    expect((await asEve())!.ability.can("release", "ChangeRequest")).toBe(false);
    await decideGrant(database.db, "admin.two", { id: pending.id, decision: "confirm", reason: "checked with the plant manager" });
    expect((await asEve())!.ability.can("release", "ChangeRequest")).toBe(true);
    const actions = (
      await database.client`select action, actor from audit_trail where entity_id = 'eve.puppet' and action like 'user.grant%' order by seq`
    ).map((r) => `${r.action} by ${r.actor}`);
    expect(actions).toEqual(["user.grant_role_requested by ada.admin", "user.grant_role by admin.two"]);
    await expect(decideGrant(database.db, "admin.two", { id: pending.id, decision: "decline", reason: "again" })).rejects.toThrow(
      /No such grant waiting for a decision/,
    );
  });

  it("a second administrator whose password the operator set confirms nothing and administers nothing until they change it (review finding)", async () => {
    await createUser(
      database.db,
      "cli:root",
      { username: "admin.fresh", displayName: "Admin Fresh", password: ADMIN_SET, grants: [{ role: "admin", site: null }], reason: "second key holder" },
      "operator",
    );
    await createUser(
      database.db,
      "test",
      { username: "mallory.target", displayName: "Mallory", password: "violet-ferry-compass-8", grants: [{ role: "viewer", site: null }], reason: "test" },
      "fixture",
    );
    const pending = await grantRole(database.db, "ada.admin", {
      username: "mallory.target",
      grant: { role: "release_manager", site: null },
      reason: "covers releases",
    });
    const fresh = await signedInAs("admin.fresh", ADMIN_SET);
    const asFresh = async () => (await getSignedIn(new Request("http://127.0.0.1/", { headers: { Cookie: `${SESSION_COOKIE}=${fresh.sessionId}` } })))!;
    // The ability refuses every administrative action while the password must change; browsing stays.
    const ability = (await asFresh()).ability;
    for (const act of ["create", "update", "deactivate"] as const) expect(ability.can(act, "User")).toBe(false);
    expect(ability.can("read", "User")).toBe(true);
    // Through the portal, as the browser posts: confirm, grant, deactivate, create — all 403, nothing changes.
    const withParams = (fields: Record<string, string>) =>
      postForm(
        ((args: ActionFunctionArgs) => userAction({ ...args, params: { username: "mallory.target" } })) as never,
        "/users/mallory.target",
        fresh.sessionId,
        fields,
      );
    expect((await withParams({ intent: "confirm", grantRequest: String(pending.id), reason: "looks fine" })).status).toBe(403);
    expect((await withParams({ intent: "grant", "grant.role": "admin", "grant.site": "", reason: "more" })).status).toBe(403);
    expect((await withParams({ intent: "deactivate", reason: "gone" })).status).toBe(403);
    expect(
      (
        await postForm(usersAction, "/users", fresh.sessionId, {
          username: "sock.puppet",
          displayName: "Sock",
          password: "orange-bridge-window-4",
          "grants[0].role": "viewer",
          "grants[0].site": "",
          reason: "x",
        })
      ).status,
    ).toBe(403);
    // The service refuses too (the last gate before user_roles).
    await expect(decideGrant(database.db, "admin.fresh", { id: pending.id, decision: "confirm", reason: "looks fine" })).rejects.toThrow(
      /Change your own password before deciding a grant/,
    );
    expect((await database.client`select decision from pending_role_grants where id = ${pending.id}`)[0]!.decision).toBeNull();
    expect((await database.client`select count(*)::int as n from users where username = 'sock.puppet'`)[0]!.n).toBe(0);
    // Once they chose their own password, they are the second person.
    await changeOwnPassword(database.db, {
      username: "admin.fresh",
      currentPassword: ADMIN_SET,
      newPassword: "tidal-quarry-beacon-31",
      historyDepth: 5,
      keepSessionIdHash: hashSessionId(fresh.sessionId),
      via: "portal",
    });
    expect((await asFresh()).ability.can("update", "User")).toBe(true);
    expect((await withParams({ intent: "confirm", grantRequest: String(pending.id), reason: "checked with the plant manager" })).status).toBe(302);
    expect((await database.client`select decision, decided_by from pending_role_grants where id = ${pending.id}`)[0]).toEqual({
      decision: "confirmed",
      decided_by: "admin.fresh",
    });
  }, 60_000);

  it("an account created in the portal holds its roles only once a second administrator confirms them", async () => {
    const created = await createUser(
      database.db,
      "ada.admin",
      { username: "new.hire", displayName: "New Hire", password: ADMIN_SET, grants: [{ role: "engineer", site: "EIN" }], reason: "joins" },
      "portal",
    );
    expect(created.grants).toEqual([]);
    expect(created.pendingGrants).toMatchObject([{ role: "engineer", site: "EIN", requestedBy: "ada.admin" }]);
  });

  it("flags a request whose author and signer are accounts one administrator created", async () => {
    await createUser(
      database.db,
      "ada.admin",
      {
        username: "puppet.author",
        displayName: "Puppet Author",
        password: "green-ladder-window-5",
        grants: [{ role: "engineer", site: null }],
        reason: "test",
      },
      "fixture",
    );
    await createUser(
      database.db,
      "ada.admin",
      {
        username: "puppet.review",
        displayName: "Puppet Review",
        password: "amber-castle-meadow-6",
        grants: [{ role: "quality_reviewer", site: null }],
        reason: "test",
      },
      "fixture",
    );
    const a = await signedInAs("puppet.author", "green-ladder-window-5");
    const puppetAuthor: Signer = {
      id: a.userId,
      username: "puppet.author",
      displayName: "Puppet Author",
      roles: ["engineer"],
      sessionIdHash: hashSessionId(a.sessionId),
    };
    const { number } = await createChangeRequest(database.db, puppetAuthor, {
      title: "Serialize ASM-1003 at EIN",
      justification: "Unit-level trace for field returns.",
      riskAssessment: "Medium: labels and scanners exist.",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "ASM-1003",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    await submitChangeRequest(database.db, puppetAuthor, number, await rowVersion(number));
    const [{ id }] = (await database.client`select id from change_requests where number = ${number}`) as unknown as [{ id: number }];
    expect(await accountProvenanceFlags(database.db, id)).toEqual([]);
    const r = await signedInAs("puppet.review", "amber-castle-meadow-6");
    const reviewer: Signer = {
      id: r.userId,
      username: "puppet.review",
      displayName: "Puppet Review",
      roles: ["quality_reviewer"],
      sessionIdHash: hashSessionId(r.sessionId),
    };
    const signed = await signChangeRequest(database.db, reviewer, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: "puppet.review",
      password: "amber-castle-meadow-6",
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(signed.ok).toBe(true);
    expect(await accountProvenanceFlags(database.db, id)).toEqual([
      {
        kind: "same_creator",
        creator: "ada.admin",
        accounts: [
          { username: "puppet.author", place: "author" },
          { username: "puppet.review", place: "signer" },
        ],
      },
    ]);
  }, 60_000);
});

describe("security alerts", () => {
  const openAlertsFor = async (username: string) =>
    (await database.client`select id, kind, occurrences from security_alerts where username = ${username} and acknowledged_at is null`) as unknown as {
      id: number;
      kind: string;
      occurrences: number;
    }[];

  it("repeated failed sign-ins raise an alert that stays until an administrator acknowledges it on the dashboard", async () => {
    await createUser(
      database.db,
      "test",
      { username: "target.one", displayName: "Target", password: "silver-brook-canyon-2", grants: [{ role: "viewer", site: null }], reason: "test" },
      "fixture",
    );
    for (let i = 0; i < MAX_FAILED_SIGN_INS - 1; i++)
      await signIn(database.db, { username: "target.one", password: `wrong-${i}`, ip: "10.0.0.9", maxHours: 1 });
    expect(await openAlertsFor("target.one")).toEqual([]);
    await signIn(database.db, { username: "target.one", password: "wrong-last", ip: "10.0.0.9", maxHours: 1 });
    const [alert] = await openAlertsFor("target.one");
    expect(alert).toMatchObject({ kind: "sign_in_failures", occurrences: 1 });
    // Refused attempts while it is open count on the same alert.
    await signIn(database.db, { username: "target.one", password: "silver-brook-canyon-2", ip: "10.0.0.9", maxHours: 1 });
    expect(await openAlertsFor("target.one")).toMatchObject([{ id: alert!.id, occurrences: 2 }]);

    const viewer = await signedInAs("vera.viewer", "c981-demo-2026");
    expect(await postForm(dashboardAction, "/", viewer.sessionId, { intent: "acknowledge", alert: String(alert!.id), note: "not mine" })).toMatchObject({
      status: 403,
    });
    const admin = await signedInAs("ada.admin", "c981-demo-2026");
    expect(await postForm(dashboardAction, "/", admin.sessionId, { intent: "acknowledge", alert: String(alert!.id), note: "" })).toMatchObject({ status: 400 });
    expect(await openAlertsFor("target.one")).toHaveLength(1);
    expect(
      await postForm(dashboardAction, "/", admin.sessionId, { intent: "acknowledge", alert: String(alert!.id), note: "called the user: typo, not an attack" }),
    ).toMatchObject({ status: 302 });
    expect(await openAlertsFor("target.one")).toEqual([]);
    const [audit] =
      await database.client`select actor, reason from audit_trail where action = 'security_alert.acknowledge' and entity_id = ${String(alert!.id)}`;
    expect(audit).toMatchObject({ actor: "ada.admin", reason: "called the user: typo, not an attack" });
  });

  it("repeated failed signatures raise an alert", async () => {
    const signer = await signedInPerson(database, "sig.target", ["quality_reviewer"], "copper-field-sunrise-8");
    const number = await newRequest("Serialize SUB-1005 at EIN", "SUB-1005");
    for (let i = 0; i < MAX_FAILED_SIGNATURES; i++) {
      await signChangeRequest(database.db, signer, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "sig.target",
        password: `wrong-${i}`,
        rowVersion: await rowVersion(number),
        ...(await reviewed(database.db, number)),
      });
    }
    expect(await openAlertsFor("sig.target")).toMatchObject([{ kind: "signature_failures" }]);
  }, 60_000);
});
