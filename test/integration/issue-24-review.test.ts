import { beforeAll, describe, expect, it } from "vitest";
import type { ActionFunctionArgs } from "@remix-run/node";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { createUser, deactivateUser, revokeRole } from "../../app/services/users.server";
import { reviewed } from "../setup/analysis";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { registerDatabase } from "../../app/utils/db.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { TIME_ZONE_COOKIE } from "../../app/domain/time-zone";
import { hashSessionId, signIn } from "../../app/services/sessions.server";
import { notify, setUserEmail } from "../../app/services/notifications.server";
import { sendDueEmails, startNotificationSender } from "../../app/services/notification-sender.server";
import type { Mailer, OutgoingMail } from "../../app/utils/mail.server";
import { unreadCount, unreadCountQuery } from "../../app/queries/notifications.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
const PASSWORD = "review-probe-password";
const people: Record<string, Signer> = {};
let cookie = "";

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  people.emil = await signedInPerson(database, "e.e", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "q.q", ["quality_reviewer"], PASSWORD);
  const s = await signIn(database.db, { username: "e.e", password: PASSWORD, ip: null, maxHours: 1 });
  if (!s.ok) throw new Error("sign-in");
  cookie = s.sessionId;
}, 120_000);

async function post(route: string, body: Record<string, string>, params: Record<string, string> = {}, timeZone?: string) {
  const module = (await import(`../../app/routes/${route}.tsx`)) as { action: (a: ActionFunctionArgs) => Promise<unknown> };
  const request = new Request(`http://127.0.0.1/${route}`, {
    method: "POST",
    headers: { Cookie: `${SESSION_COOKIE}=${cookie}${timeZone ? `; ${TIME_ZONE_COOKIE}=${encodeURIComponent(timeZone)}` : ""}` },
    body: new URLSearchParams(body),
  });
  try {
    const r = await module.action({ request, params, context: {} });
    return (r as { init?: { status?: number } })?.init?.status ?? (r instanceof Response ? r.status : 200);
  } catch (t) {
    if (t instanceof Response) return t.status;
    const init = (t as { init?: { status?: number } } | null)?.init;
    if (init?.status) return init.status;
    throw t;
  }
}

describe("the inbox's mark-read form", () => {
  it("refuses an id beyond the integer column as a field error (400), not a database error (500)", async () => {
    const before = await database.client`select count(*)::int as n from audit_trail`;
    expect(await post("inbox", { intent: "read", id: "99999999999" })).toBe(400);
    expect(await post("inbox", { intent: "read", id: "2147483648" })).toBe(400);
    // The largest integer is a well-formed id of no notification of the reader: not found.
    expect(await post("inbox", { intent: "read", id: "2147483647" })).toBe(404);
    expect(await database.client`select count(*)::int as n from audit_trail`).toEqual(before);
  });
});

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

describe("notifications only to recipients who may open their link", () => {
  it("an author whose grant at the request's only site was revoked is not told it was approved", async () => {
    await createUser(
      database.db,
      "test",
      { username: "e.ein", displayName: "E EIN", password: PASSWORD, grants: [{ role: "engineer", site: "EIN" }], reason: "review test" },
      "fixture",
    );
    const author = (await database.client`select id from users where username = 'e.ein'`)[0]!.id as number;
    const s = await signIn(database.db, { username: "e.ein", password: PASSWORD, ip: null, maxHours: 1 });
    if (!s.ok) throw new Error("sign-in");
    const einEngineer: Signer = { id: author, username: "e.ein", displayName: "E EIN", roles: ["engineer"], sessionIdHash: hashSessionId(s.sessionId) };
    const { number } = await createChangeRequest(database.db, einEngineer, {
      title: "Serialize ASM-1005 at EIN",
      justification: "Unit-level trace for field returns.",
      riskAssessment: "Medium: labels and scanners exist.",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "ASM-1005",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    await submitChangeRequest(database.db, einEngineer, number, await rowVersion(number));
    // The engineer moves on: no grant at EIN any more, so the request's page answers 404 for them.
    await revokeRole(database.db, "test.admin", { username: "e.ein", grant: { role: "engineer", site: "EIN" }, reason: "moved to another plant (test)" });
    const signed = await signChangeRequest(database.db, people.quinn!, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: "q.q",
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(signed).toMatchObject({ ok: true, status: "approved" });
    // Oracle: plain SQL. The approval was committed; nobody holds a notification of it, the former author least of all.
    expect(await database.client`select status from change_requests where number = ${number}`).toEqual([{ status: "approved" }]);
    expect(await database.client`select recipient_id from notifications where subject = ${number} and kind = 'approved'`).toEqual([]);
    // A control: the same event told to a reader who still sees EIN (q.q holds quality_reviewer at every site).
    await database.db.transaction((tx) => notify(tx, [people.quinn!.id, author], { kind: "approved", request: { number, title: "t" } }));
    expect((await database.client`select recipient_id from notifications where subject = ${number} and kind = 'approved'`).map((r) => r.recipient_id)).toEqual([
      people.quinn!.id,
    ]);
  });
});

describe("the review due date at submit", () => {
  it("refuses a date more than a year ahead (9999-12-31 kept a review from ever being overdue), accepts the last day allowed", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      title: "Serialize ASM-1005 at EIN (due date)",
      justification: "Unit-level trace for field returns.",
      riskAssessment: "Medium: labels and scanners exist.",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "ASM-1005",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    // Oracle: PostgreSQL's own date arithmetic on its clock's UTC date.
    const [{ latest, beyond }] = (await database.client`
      select ((now() at time zone 'UTC')::date + 365)::text as latest, ((now() at time zone 'UTC')::date + 366)::text as beyond`) as unknown as [
      { latest: string; beyond: string },
    ];
    for (const reviewDueOn of ["9999-12-31", beyond]) {
      expect(await post("change-requests.$number", { intent: "submit", rowVersion: String(await rowVersion(number)), reviewDueOn }, { number })).toBe(400);
    }
    expect(await database.client`select status, review_due_on from change_requests where number = ${number}`).toEqual([
      { status: "draft", review_due_on: null },
    ]);
    expect(await post("change-requests.$number", { intent: "submit", rowVersion: String(await rowVersion(number)), reviewDueOn: latest }, { number })).toBe(
      302,
    );
    expect(await database.client`select status, review_due_on::text as d from change_requests where number = ${number}`).toEqual([
      { status: "in_review", d: latest },
    ]);
  });
});

describe("the review due date's today is the author's, in their time zone (ADR 031)", () => {
  it("the form's default, min and max and the submit's check follow the c981_tz cookie", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      title: "Serialize MCH-1021 at EIN",
      justification: "Unit-level trace for field returns.",
      riskAssessment: "Medium: labels and scanners exist.",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: "MCH-1021",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    // Oracle: PostgreSQL's own time-zone data on its clock. UTC-11 and UTC+14 are 25 hours apart,
    // so Kiritimati's date is always after Pago Pago's.
    const [{ pago, kiri, kiriLatest }] = (await database.client`
      select (now() at time zone 'Pacific/Pago_Pago')::date::text as pago, (now() at time zone 'Pacific/Kiritimati')::date::text as kiri,
        ((now() at time zone 'Pacific/Kiritimati')::date + 365)::text as "kiriLatest"`) as unknown as [{ pago: string; kiri: string; kiriLatest: string }];
    expect(kiri > pago).toBe(true);

    // The loader's form values for a reader in Kiritimati.
    const route = "change-requests.$number";
    const page = (await import(`../../app/routes/${route}.tsx`)) as {
      loader: (a: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;
    };
    const loaded = (await page.loader({
      request: new Request(`http://127.0.0.1/change-requests/${number}`, {
        headers: { Cookie: `${SESSION_COOKIE}=${cookie}; ${TIME_ZONE_COOKIE}=Pacific%2FKiritimati` },
      }),
      params: { number },
      context: {},
    })) as { reviewDue: { today: string; latestDueOn: string } | null; today: string };
    expect(loaded.reviewDue).toMatchObject({ today: kiri, latestDueOn: kiriLatest });
    expect(loaded.today).toBe(kiri);

    // Pago Pago's today is already past in Kiritimati: refused there, accepted for a reader in Pago Pago.
    const submit = (timeZone: string) =>
      rowVersion(number).then((v) => post("change-requests.$number", { intent: "submit", rowVersion: String(v), reviewDueOn: pago }, { number }, timeZone));
    expect(await submit("Pacific/Kiritimati")).toBe(400);
    expect(await database.client`select status from change_requests where number = ${number}`).toEqual([{ status: "draft" }]);
    expect(await submit("Pacific/Pago_Pago")).toBe(302);
    expect(await database.client`select status, review_due_on::text as d from change_requests where number = ${number}`).toEqual([
      { status: "in_review", d: pago },
    ]);
  });
});

describe("the e-mail sender at shutdown", () => {
  it("stops after the e-mail in progress: the rest of the round stays pending for the next instance, none is sent twice", async () => {
    const userId = people.emil!.id;
    await setUserEmail(database.db, "test.admin", "e.e", "e.e@plant.example");
    const ids = (
      await database.owner`
        insert into notifications (recipient_id, kind, title, body, link, subject, in_inbox, email_to, email_status)
        select ${userId}, 'approved', 'Approved: CR-STOP ' || g, 'body', '/change-requests/CR-STOP', 'CR-STOP', true, 'e.e@plant.example', 'pending'
          from generate_series(1, 5) g
        returning id`
    ).map((r) => r.id as number);
    const sent: OutgoingMail[] = [];
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    // The SMTP server's side as a test double: each e-mail takes 200 ms to hand over.
    const mailer: Mailer = {
      async send(mail) {
        firstStarted();
        await new Promise((r) => setTimeout(r, 200));
        sent.push(mail);
      },
      close: () => {},
    };
    const sender = startNotificationSender(database.db, mailer, {
      from: "C-981 <c981@plant.example>",
      publicUrl: "http://portal.plant.example",
      pollMs: 60_000,
      log: () => {},
    });
    await started;
    const t0 = Date.now();
    await sender.stop(); // what SIGTERM does (server/main.ts)
    expect(Date.now() - t0).toBeLessThan(700);
    // Oracle: plain SQL on the outbox.
    const rows = await database.owner`select id, email_status from notifications where id in ${database.owner(ids)} order by id`;
    expect(sent.length).toBe(1);
    expect(rows.map((r) => r.email_status)).toEqual(["sent", "pending", "pending", "pending", "pending"]);
  });
});

describe("the e-mail sender sends to the address the recipient has now", () => {
  it("does not send a queued e-mail once the recipient changed or removed their address, or was deactivated", async () => {
    for (const username of ["m.moved", "m.removed", "m.gone", "m.kept"]) {
      await createUser(
        database.db,
        "test",
        { username, displayName: username, password: PASSWORD, grants: [{ role: "engineer", site: null }], reason: "sender test" },
        "fixture",
      );
      await setUserEmail(database.db, "test.admin", username, `${username}@old.example`);
    }
    // Queued while each had the old address (as notify() writes them with an SMTP server configured).
    await database.owner`
      insert into notifications (recipient_id, kind, title, body, link, subject, in_inbox, email_to, email_status)
      select u.id, 'approved', 'Approved: CR-ADDR', 'body', '/change-requests/CR-ADDR', 'CR-ADDR', true, u.email, 'pending'
        from users u where u.username in ('m.moved', 'm.removed', 'm.gone', 'm.kept')`;
    await setUserEmail(database.db, "test.admin", "m.moved", "m.moved@new.example", "the old mailbox was closed (test)");
    await setUserEmail(database.db, "test.admin", "m.removed", "", "no e-mail wanted (test)");
    await deactivateUser(database.db, "test.admin", { username: "m.gone", reason: "left the company (test)" });
    const sent: OutgoingMail[] = [];
    const mailer: Mailer = {
      async send(mail) {
        sent.push(mail);
      },
      close: () => {},
    };
    await sendDueEmails(database.db, mailer, { from: "C-981 <c981@plant.example>", publicUrl: "http://portal.plant.example" });
    // (The shutdown test above left e-mails pending too: only this test's are looked at.)
    expect(sent.filter((m) => m.subject.includes("CR-ADDR")).map((m) => m.to)).toEqual(["m.kept@old.example"]);
    // Oracle: plain SQL on the outbox.
    const rows = await database.owner`
      select u.username, n.email_status from notifications n join users u on u.id = n.recipient_id where n.subject = 'CR-ADDR' order by u.username`;
    expect(rows.map((r) => [r.username, r.email_status])).toEqual([
      ["m.gone", "not_sent"],
      ["m.kept", "sent"],
      ["m.moved", "not_sent"],
      ["m.removed", "not_sent"],
    ]);
  });
});

describe("the header's unread count on every page", () => {
  it("reads the unread inbox rows through their partial index, not every notification the user ever had", async () => {
    await createUser(
      database.db,
      "test",
      { username: "n.unread", displayName: "N Unread", password: PASSWORD, grants: [{ role: "quality_reviewer", site: null }], reason: "unread test" },
      "fixture",
    );
    const userId = (await database.client`select id from users where username = 'n.unread'`)[0]!.id as number;
    // Years of notifications, nearly all read; three unread, one of them e-mail only (not in the inbox).
    await database.owner`
      insert into notifications (recipient_id, kind, title, body, link, subject, in_inbox, email_status, read_at)
      select ${userId}, 'review_requested', 't', 'b', '/change-requests/CR-OLD', 'CR-OLD', true, 'not_wanted', now() from generate_series(1, 20000)`;
    await database.owner`
      insert into notifications (recipient_id, kind, title, body, link, subject, in_inbox, email_status)
      values (${userId}, 'approved', 't', 'b', '/x', 'CR-NEW', true, 'not_wanted'), (${userId}, 'approved', 't', 'b', '/x', 'CR-NEW', true, 'not_wanted'),
             (${userId}, 'approved', 't', 'b', '/x', 'CR-NEW', false, 'not_wanted')`;
    await database.owner`analyze notifications`;
    // Oracle: counted by hand above (two unread inbox rows; the e-mail-only one is not in the inbox).
    expect(await unreadCount(database.db, userId)).toBe(2);
    const query = unreadCountQuery(database.db, userId).toSQL();
    const plan = await database.owner.begin(async (tx) => {
      // The plan a long-lived prepared statement ends up with: generic, parameters unknown.
      await tx`set local plan_cache_mode = force_generic_plan`;
      return tx.unsafe(`explain (format json) ${query.sql}`, query.params as never[]);
    });
    const text = JSON.stringify(plan);
    expect(text).toContain('"Index Name":"notifications_unread"');
  });
});
