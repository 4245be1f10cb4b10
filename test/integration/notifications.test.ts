import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { sendDueEmails, sendOneDueEmail } from "../../app/services/notification-sender.server";
import { markAllNotificationsRead, markNotificationRead, notify, saveNotificationPreferences, setUserEmail } from "../../app/services/notifications.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { createUser, deactivateUser } from "../../app/services/users.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { smtpMailer } from "../../app/utils/mail.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";
import { startSmtpServer } from "../setup/smtp";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let keyRing: KeyRing;
const PASSWORD = "notify-test-password";
const people: Record<string, Signer> = {};
const PUBLIC_URL = "http://portal.plant.example";
const sender = { from: "C-981 <c981@plant.example>", publicUrl: PUBLIC_URL };
const previousSmtpUrl = process.env.C981_SMTP_URL;

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

/** The notifications of one change request, as plain SQL sees them. */
const notificationsOf = async (subject: string) =>
  (await database.owner`
    select u.username, n.kind, n.link, n.email_status, n.email_to, n.in_inbox
      from notifications n join users u on u.id = n.recipient_id
     where n.subject = ${subject} order by n.kind, u.username`) as unknown as {
    username: string;
    kind: string;
    link: string;
    email_status: string;
    email_to: string | null;
    in_inbox: boolean;
  }[];

const serial = (material: string, sites: string[], consumptionScan = "identify") =>
  sites.map((site) => ({
    kind: "tracking",
    material,
    sites: [site],
    trackingMode: "serial",
    containerTracking: false,
    identifierFormatCodes: [`${site}-SER`],
    consumptionScan,
  }));

async function draft(author: Signer, title: string, changes: unknown[]): Promise<string> {
  const { number } = await createChangeRequest(database.db, author, {
    title,
    justification: "Unit-level trace for field returns.",
    riskAssessment: "Medium: labels and scanners exist.",
    legacyDataPlan: "grandfather",
    changes,
  });
  return number;
}

async function approve(number: string, signer = people.quinn!) {
  const signed = await signChangeRequest(database.db, signer, number, {
    meaning: "approved",
    role: "quality_reviewer",
    username: signer.username,
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    ...(await reviewed(database.db, number)),
  });
  if (!signed.ok) throw new Error(`${number} not signed: ${JSON.stringify(signed)}`);
  return signed;
}

/** A TCP port nothing listens on (bound, then released). */
async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

let smtpPort: number;

beforeAll(async () => {
  smtpPort = await unusedPort();
  // Notifications queue e-mail only when an SMTP server is configured (read at each event).
  process.env.C981_SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "e.e", ["engineer"], PASSWORD);
  people.erin = await signedInPerson(database, "e.f", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "q.q", ["quality_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "r.m", ["release_manager"], PASSWORD);
  // A quality reviewer at CLT only, and one deactivated: neither is asked about an EIN-only request.
  for (const [username, grants] of [
    ["q.clt", [{ role: "quality_reviewer" as const, site: "CLT" }]],
    ["q.gone", [{ role: "quality_reviewer" as const, site: null }]],
  ] as const) {
    await createUser(database.db, "test", { username, displayName: username, password: PASSWORD, grants: [...grants], reason: "notification test" }, "fixture");
  }
  for (const username of ["e.e", "e.f", "q.q", "r.m", "q.clt", "q.gone"]) await setUserEmail(database.db, "test.admin", username, `${username}@plant.example`);
  await deactivateUser(database.db, "test.admin", { username: "q.gone", reason: "left the company (test)" });
}, 120_000);

afterAll(() => {
  if (previousSmtpUrl === undefined) delete process.env.C981_SMTP_URL;
  else process.env.C981_SMTP_URL = previousSmtpUrl;
});

describe("notifications written with their events", () => {
  it("asks exactly the active users who may sign as a required reviewer at every site of the request, never its author", async () => {
    const number = await draft(people.emil!, "Serialize ASM-1005 at EIN", serial("ASM-1005", ["EIN"]));
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    // Oracle: plain SQL on user_roles. The request touches EIN only and needs a quality reviewer
    // (lot → serial, not the highest risk class): active holders of quality_reviewer at all sites or at EIN.
    const expected = (
      await database.owner`
        select distinct u.username from user_roles r join users u on u.id = r.user_id
         where r.role = 'quality_reviewer' and u.active and u.username <> 'e.e'
           and (r.site_id is null or r.site_id = (select id from sites where code = 'EIN'))
         order by u.username`
    ).map((r) => r.username as string);
    // Hand-counted: the demo plant's quality reviewer and this file's q.q (not q.clt, not q.gone).
    expect(expected).toEqual(["q.q", "quinn.quality"]);
    const rows = await notificationsOf(number);
    expect(rows.map((r) => [r.username, r.kind])).toEqual(expected.map((u) => [u, "review_requested"]));
    expect(rows.every((r) => r.link === `/change-requests/${number}`)).toBe(true);
    // Both have addresses (the demo seed gives its users one) and an SMTP server is configured.
    expect(rows.map((r) => [r.email_to, r.email_status])).toEqual([
      ["q.q@plant.example", "pending"],
      ["quinn.quality@plant.example", "pending"],
    ]);
  });

  it("tells the author of changes requested and of the approval, once each", async () => {
    const number = await draft(people.emil!, "Serialize ASM-1007 at EIN", serial("ASM-1007", ["EIN"]));
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    const changes = await signChangeRequest(database.db, people.quinn!, number, {
      meaning: "changes_requested",
      role: "quality_reviewer",
      username: "q.q",
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      comment: "Name the scanner model.",
      ...(await reviewed(database.db, number)),
    });
    expect(changes).toMatchObject({ ok: true, status: "changes_requested" });
    const afterChanges = (await notificationsOf(number)).filter((r) => r.kind !== "review_requested");
    expect(afterChanges.map((r) => [r.username, r.kind])).toEqual([["e.e", "changes_requested"]]);
    const [text] = await database.owner`select body from notifications where subject = ${number} and kind = 'changes_requested'`;
    expect(text!.body).toContain("Name the scanner model.");

    const other = await draft(people.emil!, "Serialize ASM-1008 at EIN", serial("ASM-1008", ["EIN"]));
    await submitChangeRequest(database.db, people.emil!, other, await rowVersion(other));
    expect(await approve(other)).toMatchObject({ status: "approved" });
    const rows = (await notificationsOf(other)).filter((r) => r.kind !== "review_requested");
    expect(rows.map((r) => [r.username, r.kind])).toEqual([["e.e", "approved"]]);
  });

  it("tells a release's author and approvers, and the author of a request the release made stale — not one stale before", async () => {
    const released = await draft(people.emil!, "Serialize ASM-1006 at PEN", serial("ASM-1006", ["PEN"]));
    await submitChangeRequest(database.db, people.emil!, released, await rowVersion(released));
    await approve(released);
    // Erin's request reads ASM-1006's rule at PEN: the release above moves it.
    const madeStale = await draft(people.erin!, "Serialize ASM-1006 at PEN, verify scans", serial("ASM-1006", ["PEN"], "verify"));
    const result = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "PEN",
      changeRequests: [released],
      username: "r.m",
      password: PASSWORD,
      waiver: "Demo ERP/PLM disagreements are tracked separately (test).",
    });
    expect(result).toMatchObject({ ok: true });
    expect((await notificationsOf(released)).filter((r) => r.kind === "released").map((r) => r.username)).toEqual(["e.e", "q.q"]);
    expect((await notificationsOf(madeStale)).map((r) => [r.username, r.kind])).toEqual([["e.f", "made_stale"]]);
    const [text] = await database.owner`select title, body from notifications where subject = ${madeStale}`;
    expect(text!.body).toContain(released);
    expect(text!.body).toContain("PEN");

    // A second release at PEN (another material) leaves Erin's request stale as it was: no new notice.
    const next = await draft(people.emil!, "Serialize ASM-1009 at PEN", serial("ASM-1009", ["PEN"]));
    await submitChangeRequest(database.db, people.emil!, next, await rowVersion(next));
    await approve(next);
    expect(
      await releaseChangeRequests(database.db, keyRing, people.remy!, {
        site: "PEN",
        changeRequests: [next],
        username: "r.m",
        password: PASSWORD,
        waiver: "Demo ERP/PLM disagreements are tracked separately (test).",
      }),
    ).toMatchObject({ ok: true });
    expect((await notificationsOf(madeStale)).length).toBe(1);
  });

  it("creates none when the event's transaction fails at commit", async () => {
    const number = await draft(people.emil!, "Serialize ASM-1010 at EIN: fails at commit", serial("ASM-1010", ["EIN"]));
    // A deferred check (as the owner) that refuses this request's submission only when it commits:
    // everything the submission wrote before, notifications included, must go with it.
    await database.owner.unsafe(`
      create function test_refuse_at_commit() returns trigger language plpgsql as $$
      begin
        if new.title like '%fails at commit' and new.status = 'in_review' then raise exception 'refused at commit (test)'; end if;
        return null;
      end $$;
      create constraint trigger test_refuse_at_commit after update on change_requests
        deferrable initially deferred for each row execute function test_refuse_at_commit();`);
    try {
      await expect(submitChangeRequest(database.db, people.emil!, number, await rowVersion(number))).rejects.toThrow(/refused at commit/);
    } finally {
      await database.owner.unsafe("drop trigger test_refuse_at_commit on change_requests; drop function test_refuse_at_commit();");
    }
    expect(await notificationsOf(number)).toEqual([]);
    const [cr] = await database.owner`select status from change_requests where number = ${number}`;
    expect(cr!.status).toBe("draft");
  });

  it("tells the owner once that signing on their account is locked after failed signatures", async () => {
    const number = await draft(people.emil!, "Serialize ASM-1011 at EIN", serial("ASM-1011", ["EIN"]));
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    const analysis = await reviewed(database.db, number);
    for (let i = 0; i < 4; i++) {
      const refused = await signChangeRequest(database.db, people.quinn!, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "q.q",
        password: "not the password",
        rowVersion: await rowVersion(number),
        ...analysis,
      });
      expect(refused.ok).toBe(false);
    }
    const rows = await notificationsOf("q.q");
    expect(rows.map((r) => [r.username, r.kind, r.link])).toEqual([["q.q", "signature_failures", "/account/notifications"]]);
  });
});

describe("preferences", () => {
  it("suppress the inbox, the e-mail or both, per kind; no address means no e-mail", async () => {
    const [erin] = await database.owner`select id from users where username = 'e.f'`;
    const erinId = erin!.id as number;
    await saveNotificationPreferences(
      database.db,
      { id: erinId, username: "e.f" },
      {
        email: "erin@plant.example",
        kinds: {
          review_requested: { inbox: true, email: true },
          changes_requested: { inbox: true },
          approved: {},
          released: { email: true },
          made_stale: { inbox: true, email: true },
          signature_failures: { inbox: true, email: true },
        },
      },
    );
    const [audit] = await database.owner`select action, after from audit_trail where entity_id = 'e.f' and action = 'notification.preferences'`;
    expect(audit!.after).toEqual({
      preferences: [
        { kind: "changes_requested", inbox: true, email: false },
        { kind: "approved", inbox: false, email: false },
        { kind: "released", inbox: false, email: true },
      ],
    });
    const [emailAudit] =
      await database.owner`select actor, before, after from audit_trail where entity_id = 'e.f' and action = 'user.set_email' order by seq desc limit 1`;
    expect(emailAudit).toEqual({ actor: "e.f", before: { email: "e.f@plant.example" }, after: { email: "erin@plant.example" } });

    const request = { number: "CR-TEST-PREFS", title: "Preferences" };
    await database.db.transaction(async (tx) => {
      await notify(tx, [erinId], { kind: "approved", request });
      await notify(tx, [erinId], { kind: "changes_requested", request, reviewer: "Q", comment: null });
      await notify(tx, [erinId], { kind: "released", request, site: "EIN", version: 9, releasedBy: "R" });
      await notify(tx, [erinId], { kind: "review_requested", request, author: "E", sites: ["EIN"] });
    });
    expect((await notificationsOf("CR-TEST-PREFS")).map((r) => [r.kind, r.in_inbox, r.email_status, r.email_to])).toEqual([
      ["changes_requested", true, "not_wanted", null],
      ["released", false, "pending", "erin@plant.example"],
      ["review_requested", true, "pending", "erin@plant.example"],
    ]);

    // Without an address: inbox only.
    await saveNotificationPreferences(
      database.db,
      { id: erinId, username: "e.f" },
      {
        email: "",
        kinds: Object.fromEntries(
          ["review_requested", "changes_requested", "approved", "released", "made_stale", "signature_failures"].map((k) => [k, { inbox: true, email: true }]),
        ),
      },
    );
    await database.db.transaction((tx) => notify(tx, [erinId], { kind: "approved", request: { number: "CR-TEST-NOADDR", title: "No address" } }));
    expect((await notificationsOf("CR-TEST-NOADDR")).map((r) => [r.email_status, r.email_to])).toEqual([["not_wanted", null]]);
  });

  it("refuse an address that is not one, naming the field", async () => {
    await expect(
      saveNotificationPreferences(database.db, { id: people.erin!.id, username: "e.f" }, { email: "not an address", kinds: {} }),
    ).rejects.toMatchObject({ fields: { email: [expect.stringMatching(/e-mail address/)] } });
  });

  it("marking read is the recipient's own, audited write", async () => {
    const [row] =
      await database.owner`select n.id from notifications n join users u on u.id = n.recipient_id where u.username = 'e.e' and n.read_at is null order by n.id limit 1`;
    const id = row!.id as number;
    // Someone else's notification is not found.
    await expect(markNotificationRead(database.db, { id: people.erin!.id, username: "e.f" }, id)).rejects.toMatchObject({ status: 404 });
    await markNotificationRead(database.db, { id: people.emil!.id, username: "e.e" }, id);
    const [read] = await database.owner`select read_at from notifications where id = ${id}`;
    expect(read!.read_at).not.toBeNull();
    const [unreadBefore] =
      await database.owner`select count(*)::int as n from notifications n join users u on u.id = n.recipient_id where u.username = 'e.e' and n.in_inbox and n.read_at is null`;
    expect(await markAllNotificationsRead(database.db, { id: people.emil!.id, username: "e.e" })).toBe(unreadBefore!.n);
    const audits = await database.owner`select action from audit_trail where entity_id = 'e.e' and action like 'notification.%' order by seq`;
    expect(audits.map((a) => a.action)).toEqual(["notification.read", "notification.read_all"]);
  });
});

describe("the e-mail outbox", () => {
  it("retries while the SMTP server is down, then delivers every pending e-mail with its recipient, subject and link", async () => {
    const mailer = smtpMailer(process.env.C981_SMTP_URL!);
    try {
      // Deliverable: queued to the address the (active) recipient still has. e.f removed theirs
      // since (the preferences test above): those stay unsent, whatever the SMTP server does.
      const pending = await database.owner`
        select n.id, n.email_to, n.title, n.link from notifications n join users u on u.id = n.recipient_id
         where n.email_status = 'pending' and u.active and u.email = n.email_to order by n.id`;
      const addressGone = (
        await database.owner`
        select n.id from notifications n join users u on u.id = n.recipient_id
         where n.email_status = 'pending' and not (u.active and u.email is not distinct from n.email_to) order by n.id`
      ).map((r) => r.id as number);
      expect(pending.length).toBeGreaterThan(3);
      expect(addressGone.length).toBeGreaterThan(0);
      // Nothing listens yet: the first attempt fails, is recorded, and waits.
      const downRound = await sendDueEmails(database.db, mailer, sender);
      const down = downRound.at(-1);
      expect(down).toMatchObject({ id: pending[0]!.id, outcome: "retry" });
      const [failed] =
        await database.owner`select email_status, email_attempts, email_last_error, email_next_attempt_at > now() as later from notifications where id = ${pending[0]!.id}`;
      expect(failed).toMatchObject({ email_status: "pending", email_attempts: 1, later: true });
      expect(failed!.email_last_error).toMatch(/ECONNREFUSED|connect/i);

      const smtp = await startSmtpServer(smtpPort);
      try {
        // Not yet due: the others go out, the failed one waits for its time.
        const first = await sendDueEmails(database.db, mailer, sender, 1000);
        expect(first.filter((o) => o.outcome === "sent").map((o) => o.id)).toEqual(pending.slice(1).map((p) => p.id));
        expect(
          [...downRound, ...first]
            .filter((o) => o.outcome === "not_sent")
            .map((o) => o.id)
            .sort((a, b) => a - b),
        ).toEqual(addressGone);
        await database.owner`update notifications set email_next_attempt_at = now() where id = ${pending[0]!.id}`;
        expect(await sendDueEmails(database.db, mailer, sender)).toEqual([{ id: pending[0]!.id, outcome: "sent" }]);

        expect(smtp.messages.length).toBe(pending.length);
        for (const p of pending) {
          const message = smtp.messages.find((m) => m.subject === `[C-981] ${p.title}` && m.to.includes(p.email_to as string));
          expect(message, `e-mail for notification ${p.id}`).toBeDefined();
          expect(message!.text).toContain(`Open it: ${PUBLIC_URL}${p.link}`);
          expect(message!.from).toBe("c981@plant.example");
        }
        const states =
          await database.owner`select email_status, count(*)::int as n from notifications where id in ${database.owner(pending.map((p) => p.id as number))} group by email_status`;
        expect(states).toEqual([{ email_status: "sent", n: pending.length }]);
        expect(await sendDueEmails(database.db, mailer, sender)).toEqual([]);
      } finally {
        await smtp.close();
      }
    } finally {
      mailer.close();
    }
  });

  it("skips a row another instance has claimed (FOR UPDATE SKIP LOCKED)", async () => {
    const [user] = await database.owner`select id from users where username = 'q.q'`;
    await database.db.transaction((tx) => notify(tx, [user!.id as number], { kind: "approved", request: { number: "CR-TEST-LOCK", title: "Claimed" } }));
    const [row] = await database.owner`select id from notifications where subject = 'CR-TEST-LOCK'`;
    const mailer = smtpMailer(process.env.C981_SMTP_URL!);
    const other = database.owner.reserve();
    const claim = await other;
    try {
      await claim`begin`;
      await claim`select id from notifications where id = ${row!.id} for update`;
      expect(await sendOneDueEmail(database.db, mailer, sender)).toBeNull();
      await claim`rollback`;
    } finally {
      claim.release();
      mailer.close();
    }
  });
});
