import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../app/services/audit.server";
import { adminWatch, engineerWork, recentActivity, releaseWork, reviewerQueue } from "../../app/queries/role-dashboards.server";
import { addComment } from "../../app/services/change-request-comments.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer, updateChangeRequest } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { signIn } from "../../app/services/sessions.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { databaseNow } from "../../app/utils/clock.server";
import type { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { analysed, reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

/*
 * The dashboard's sections per role (ADR 031), each checked against an independent oracle: plain
 * SQL over the tables, or a hand-built case whose answer is known by construction.
 */

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let keyRing: KeyRing;
const PASSWORD = "dashboard-test-password";
const people: Record<string, Signer> = {};

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

const serial = (material: string, site: string, consumptionScan = "identify") => [
  { kind: "tracking", material, sites: [site], trackingMode: "serial", containerTracking: false, identifierFormatCodes: [`${site}-SER`], consumptionScan },
];

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

async function submitted(author: Signer, title: string, changes: unknown[], reviewDueOn?: string): Promise<string> {
  const number = await draft(author, title, changes);
  await submitChangeRequest(database.db, author, number, await rowVersion(number), reviewDueOn ? { reviewDueOn } : {});
  return number;
}

async function sign(number: string, meaning: "approved" | "changes_requested", comment?: string) {
  const signed = await signChangeRequest(database.db, people.quinn!, number, {
    meaning,
    role: "quality_reviewer",
    username: people.quinn!.username,
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    ...(meaning === "approved" ? await reviewed(database.db, number) : { analysisHash: await analysed(database.db, number) }),
    ...(comment ? { comment } : {}),
  });
  if (!signed.ok) throw new Error(`${number} not signed: ${JSON.stringify(signed)}`);
  return signed;
}

const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "d.engineer", ["engineer"], PASSWORD);
  people.olga = await signedInPerson(database, "d.other", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "d.quality", ["quality_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "d.release", ["release_manager"], PASSWORD);
}, 120_000);

describe("engineer: my drafts, changes requested, stale, conflicts", () => {
  it("lists the author's own open work, each section checked against SQL or a hand-built case", async () => {
    const emil = people.emil!;
    const olga = people.olga!;
    // Two drafts of Emil's; one shares ASM-1011 at EIN with Olga's draft (a conflict).
    const d1 = await draft(emil, "Serialize ASM-1011 at EIN", serial("ASM-1011", "EIN"));
    const d2 = await draft(emil, "Serialize ASM-1012 at CLT", serial("ASM-1012", "CLT"));
    const theirs = await draft(olga, "Serialize ASM-1011 at EIN, verify", serial("ASM-1011", "EIN", "verify"));
    // Returned to Emil with two open blocking comments and one that is not blocking.
    const returned = await submitted(emil, "Serialize MCH-1013 at CLT", serial("MCH-1013", "CLT"));
    await addComment(database.db, { ...people.quinn!, roles: ["quality_reviewer"] }, returned, { body: "Labels first.", blocking: true });
    await addComment(database.db, { ...people.quinn!, roles: ["quality_reviewer"] }, returned, { body: "Scanners too.", blocking: true });
    await addComment(database.db, { ...people.quinn!, roles: ["quality_reviewer"] }, returned, { body: "Nice work." });
    await sign(returned, "changes_requested", "Answer the blocking comments.");
    // Stale: Olga's request on MCH-1014 at PEN is released after Emil's on the same rule was approved.
    const mineStale = await submitted(emil, "Serialize MCH-1014 at PEN", serial("MCH-1014", "PEN"));
    await sign(mineStale, "approved");
    const first = await submitted(olga, "Serialize MCH-1014 at PEN, verify", serial("MCH-1014", "PEN", "verify"));
    await sign(first, "approved");
    const released = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "PEN",
      changeRequests: [first],
      username: people.remy!.username,
      password: PASSWORD,
      waiver: WAIVER,
    });
    expect(released).toMatchObject({ ok: true });

    const work = await engineerWork(database.db, { userId: emil.id });

    // Oracle (SQL): Emil's drafts, oldest first.
    const drafts = await database.client`select number from change_requests where author_id = ${emil.id} and status = 'draft' order by updated_at, number`;
    expect(work.drafts.map((r) => r.number)).toEqual(drafts.map((r) => r.number));
    expect(work.drafts.map((r) => r.number)).toEqual([d1, d2]);

    // Oracle (SQL): returned ones and their open blocking threads.
    const blocking = await database.client`
      select c.number, count(m.id)::int as n from change_requests c
      left join change_request_comments m on m.change_request_id = c.id and m.parent_id is null and m.blocking and m.resolved_at is null
      where c.author_id = ${emil.id} and c.status = 'changes_requested' group by c.number order by c.number`;
    expect(work.changesRequested.map((r) => ({ number: r.number, n: r.openBlocking }))).toEqual(blocking.map((r) => ({ number: r.number, n: r.n })));
    expect(work.changesRequested).toMatchObject([{ number: returned, openBlocking: 2 }]);

    // Hand-built: only the request whose rule Olga's release changed is stale, at PEN.
    expect(work.stale.map((r) => r.number)).toEqual([mineStale]);
    expect(work.stale[0]!.sites.map((s) => s.site)).toEqual(["PEN"]);

    // Oracle (SQL): Emil's open requests sharing a material and site with another open request.
    const conflicting = await database.client`
      select distinct mine_cr.number from change_request_targets mine
      join change_requests mine_cr on mine_cr.id = mine.change_request_id
      join change_request_targets other on other.material_id = mine.material_id and other.site_id = mine.site_id and other.change_request_id <> mine.change_request_id
      join change_requests other_cr on other_cr.id = other.change_request_id
      where mine_cr.author_id = ${emil.id}
        and mine_cr.status in ('draft','in_review','changes_requested','approved','partly_released')
        and other_cr.status in ('draft','in_review','changes_requested','approved','partly_released')
      order by 1`;
    expect(work.conflicts.map((r) => r.number)).toEqual(conflicting.map((r) => r.number));
    expect(work.conflicts.find((r) => r.number === d1)?.others).toEqual([{ number: theirs, status: "draft", partNumber: "ASM-1011", site: "EIN" }]);

    // Someone else's work is never on Emil's dashboard.
    const all = [...work.drafts, ...work.changesRequested, ...work.stale, ...work.conflicts].map((r) => r.number);
    expect(all).not.toContain(theirs);
    expect(all).not.toContain(first);
  });
});

describe("reviewer: awaiting my signature with due dates", () => {
  it("sets the due date at submit (default by risk, validated, audited, not signed) and lists the queue oldest first with overdue marked", async () => {
    const emil = people.emil!;
    // Oracle for the defaults: working days counted by PostgreSQL's calendar (isodow 6, 7 = weekend).
    const [{ today, five, two, month }] = (await database.client`
      with d as (select (now() at time zone 'UTC')::date as d)
      select to_char(d, 'YYYY-MM-DD') as today, to_char(d + 30, 'YYYY-MM-DD') as month,
        to_char(case extract(isodow from d) when 6 then d + 6 when 7 then d + 5 else d + 7 end, 'YYYY-MM-DD') as five,
        to_char(case extract(isodow from d) when 4 then d + 4 when 5 then d + 4 when 6 then d + 3 when 7 then d + 2 else d + 2 end, 'YYYY-MM-DD') as two
      from d`) as unknown as [{ today: string; five: string; two: string; month: string }];

    const standard = await submitted(emil, "Serialize MCH-1015 at EIN", serial("MCH-1015", "EIN"));
    await database.owner`update materials set risk_class = 'high' where part_number = 'MCH-1016'`;
    const urgent = await submitted(emil, "Serialize MCH-1016 at EIN", serial("MCH-1016", "EIN"));
    const chosen = await submitted(emil, "Serialize MCH-1017 at EIN", serial("MCH-1017", "EIN"), month);
    const due = async (number: string) =>
      (await database.client`select to_char(review_due_on, 'YYYY-MM-DD') as d from change_requests where number = ${number}`)[0]!.d as string;
    expect(await due(standard)).toBe(five);
    expect(await due(urgent)).toBe(two);
    expect(await due(chosen)).toBe(month);

    // A date in the past is refused, naming the field; nothing changes.
    const late = await draft(emil, "Serialize MCH-1018 at EIN", serial("MCH-1018", "EIN"));
    const refused = await submitChangeRequest(database.db, emil, late, await rowVersion(late), { reviewDueOn: "2020-01-01" }).catch(
      (e: unknown) => e as DomainError,
    );
    expect((refused as DomainError).status).toBe(400);
    expect((refused as DomainError).fields.reviewDueOn?.[0]).toMatch(/today/);
    expect((await database.client`select status from change_requests where number = ${late}`)[0]!.status).toBe("draft");

    // Audited in the submit's row; not part of the signed content (the hash is the draft's).
    const [audit] =
      await database.client`select after->>'reviewDueOn' as due from audit_trail where action = 'change_request.submit' and entity_id = ${chosen}`;
    expect(audit!.due).toBe(month);
    const [hash] = await database.client`select content_hash from change_requests where number = ${chosen}`;
    const [created] =
      await database.client`select after->>'contentHash' as h from audit_trail where action = 'change_request.create' and entity_id = ${chosen}`;
    expect(hash!.content_hash).toBe(created!.h);

    // One overdue: its date moved three days into the past (as if the days went by), audited as every change is.
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, {
        actor: "test",
        action: "test.backdate_review_due",
        entityType: "change_request",
        entityId: standard,
        reason: "as if days went by",
      });
      await tx.execute(sql`update change_requests set review_due_on = (now() at time zone 'UTC')::date - 3 where number = ${standard}`);
    });

    // Edited while in review (the review stays open): its last update is now the newest of the
    // three, but it was submitted first, and the queue goes by submission.
    await updateChangeRequest(database.db, emil, standard, await rowVersion(standard), {
      title: "Serialize MCH-1015 at EIN (edited in review)",
      justification: "Unit-level trace for field returns.",
      riskAssessment: "Medium: labels and scanners exist.",
      legacyDataPlan: "grandfather",
      changes: serial("MCH-1015", "EIN"),
    });

    const quinn = people.quinn!;
    const at = await databaseNow(database.db);
    const queue = await reviewerQueue(database.db, { userId: quinn.id, grants: [{ role: "quality_reviewer", siteId: null }], sites: null }, { at });
    // Oracle (SQL): every change needs a quality reviewer, so the queue is every request in review
    // not written by Quinn without a live quality approval — oldest first by its submit's audit row.
    const expected = await database.client`
      select c.number, to_char(c.review_due_on, 'YYYY-MM-DD') as due, c.review_due_on < (now() at time zone 'UTC')::date as overdue,
        (select max(a.recorded_at) from audit_trail a
         where a.entity_type = 'change_request' and a.entity_id = c.number and a.action = 'change_request.submit') as submitted
      from change_requests c
      where c.status = 'in_review' and c.author_id <> ${quinn.id}
        and not exists (select 1 from signatures s where s.change_request_id = c.id and s.meaning = 'approved' and s.role = 'quality_reviewer' and s.voided_at is null)
      order by submitted, c.number`;
    expect(queue.map((r) => ({ number: r.number, due: r.reviewDueOn, overdue: r.overdue, submitted: r.submittedAt.getTime() }))).toEqual(
      expected.map((r) => ({ number: r.number, due: r.due, overdue: r.overdue ?? false, submitted: new Date(r.submitted).getTime() })),
    );
    // Hand-built: submitted in the order standard, urgent, chosen; standard was updated last.
    const position = (number: string) => queue.findIndex((r) => r.number === number);
    expect(position(standard)).toBeGreaterThanOrEqual(0);
    expect(position(standard)).toBeLessThan(position(urgent));
    expect(position(urgent)).toBeLessThan(position(chosen));
    const [updated] = await database.client`
      select (select max(updated_at) from change_requests where number in (${urgent}, ${chosen})) < (select updated_at from change_requests where number = ${standard}) as later`;
    expect(updated!.later).toBe(true);
    expect(queue.find((r) => r.number === standard)?.overdue).toBe(true);
    expect(queue.find((r) => r.number === chosen)?.overdue).toBe(false);
    expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe("reviewer: overdue by the reader's own date (time zone)", () => {
  it("marks a review due on Pago Pago's today overdue for a reader in Kiritimati, not for one in Pago Pago", async () => {
    const emil = people.emil!;
    const number = await submitted(emil, "Serialize MCH-1018 at EIN, due today in Pago Pago", serial("MCH-1018", "EIN"));
    // Its due date set to Pago Pago's today (UTC-11), audited as every change is. Kiritimati (UTC+14)
    // is 25 hours ahead: its date is always after Pago Pago's.
    await database.db.transaction(async (tx) => {
      await appendAudit(tx, { actor: "test", action: "test.set_review_due", entityType: "change_request", entityId: number, reason: "time zones" });
      await tx.execute(sql`update change_requests set review_due_on = (now() at time zone 'Pacific/Pago_Pago')::date where number = ${number}`);
    });
    const quinn = people.quinn!;
    const viewer = { userId: quinn.id, grants: [{ role: "quality_reviewer" as const, siteId: null }], sites: null };
    const at = await databaseNow(database.db);
    for (const zone of ["Pacific/Pago_Pago", "Pacific/Kiritimati", "UTC"]) {
      const queue = await reviewerQueue(database.db, viewer, { at, timeZone: zone });
      // Oracle (SQL): PostgreSQL's own time-zone data on the same instant.
      const expected = await database.client`
        select c.number, coalesce(c.review_due_on < (${at.toISOString()}::timestamptz at time zone ${zone})::date, false) as overdue
        from change_requests c where c.status = 'in_review' and c.author_id <> ${quinn.id}
          and not exists (select 1 from signatures s where s.change_request_id = c.id and s.meaning = 'approved' and s.role = 'quality_reviewer' and s.voided_at is null)
        order by c.number`;
      expect(queue.map((r) => ({ number: r.number, overdue: r.overdue })).sort((a, b) => a.number.localeCompare(b.number))).toEqual(
        expected.map((r) => ({ number: r.number, overdue: r.overdue })),
      );
    }
    // Hand-known: due on Pago Pago's today is in time there, and past in Kiritimati.
    const mine = async (timeZone: string) => (await reviewerQueue(database.db, viewer, { at, timeZone })).find((r) => r.number === number)?.overdue;
    expect(await mine("Pacific/Pago_Pago")).toBe(false);
    expect(await mine("Pacific/Kiritimati")).toBe(true);
  });
});

describe("release manager: approved per site and what each release would make stale", () => {
  it("lists approved requests not yet released per site, and names the requests a release would make stale", async () => {
    const a = await submitted(people.emil!, "Serialize MCH-1019 at CLT", serial("MCH-1019", "CLT"));
    await sign(a, "approved");
    const b = await submitted(people.olga!, "Serialize MCH-1019 at CLT, verify", serial("MCH-1019", "CLT", "verify"));
    await sign(b, "approved");
    const at = await databaseNow(database.db);
    const work = await releaseWork(database.db, { siteIds: null, viewerId: people.remy!.id, at });

    // Oracle (SQL): per site, approved or partly released requests with a base there and no release there.
    const waiting = await database.client`
      select s.code, c.number from change_request_bases b
      join change_requests c on c.id = b.change_request_id join sites s on s.id = b.site_id
      where c.status in ('approved','partly_released')
        and not exists (select 1 from change_request_site_releases r where r.change_request_id = b.change_request_id and r.site_id = b.site_id)
      order by s.code, c.number`;
    expect(work.flatMap((s) => s.candidates.map((c) => `${s.code} ${c.number}`))).toEqual(waiting.map((r) => `${r.code} ${r.number}`));

    // Hand-built: A and B read the same rule at CLT; releasing either makes the other stale.
    const clt = work.find((s) => s.code === "CLT")!;
    expect(clt.candidates.find((c) => c.number === a)?.wouldMakeStale.map((w) => w.number)).toContain(b);
    expect(clt.candidates.find((c) => c.number === b)?.wouldMakeStale.map((w) => w.number)).toContain(a);
    expect(
      clt.candidates
        .find((c) => c.number === a)
        ?.wouldMakeStale.find((w) => w.number === b)
        ?.moved.join(" "),
    ).toMatch(/MCH-1019/);

    // Site-scoped: a release manager at EIN only sees EIN.
    const [ein] = await database.client`select id from sites where code = 'EIN'`;
    const scoped = await releaseWork(database.db, { siteIds: [ein!.id as number], viewerId: people.remy!.id, at });
    expect(scoped.map((s) => s.code)).toEqual(["EIN"]);
  });
});

describe("administrator: failed attempts, keys, clients not reporting", () => {
  it("counts failed sign-ins and signatures per account, shows keys with their rotation date and silent clients", async () => {
    // Two failed sign-ins for Olga, one for an unknown name, one failed signature by Quinn.
    for (let i = 0; i < 2; i++) await signIn(database.db, { username: "d.other", password: "wrong", ip: null, maxHours: 1 });
    await signIn(database.db, { username: "nobody.here", password: "wrong", ip: null, maxHours: 1 });
    const pending = await submitted(people.emil!, "Serialize MCH-1020 at EIN", serial("MCH-1020", "EIN"));
    const failed = await signChangeRequest(database.db, people.quinn!, pending, {
      meaning: "approved",
      role: "quality_reviewer",
      username: people.quinn!.username,
      password: "not the password",
      rowVersion: await rowVersion(pending),
      ...(await reviewed(database.db, pending)),
    });
    expect(failed.ok).toBe(false);
    // A client silent for two days and one that reported a minute ago.
    await createRuntimeClient(database.db, "test", { name: "line-7-silent", sites: ["EIN"], reason: "dashboard test" });
    await createRuntimeClient(database.db, "test", { name: "line-8-fresh", sites: ["CLT"], reason: "dashboard test" });
    await database.owner`update runtime_clients set last_seen_at = now() - interval '2 days', created_at = now() - interval '3 days' where name = 'line-7-silent'`;
    await database.owner`update runtime_clients set last_seen_at = now() - interval '1 minute' where name = 'line-8-fresh'`;

    const at = await databaseNow(database.db);
    const watch = await adminWatch(database.db, { at });

    // Oracle (SQL): failures per action and account in the last 7 days.
    const failures = await database.client`
      select action, entity_id as account, count(*)::int as attempts from audit_trail
      where action in ('signature.failed','session.sign_in_failed','session.sign_in_refused') and recorded_at >= now() - interval '7 days'
      group by action, entity_id order by action, entity_id`;
    const shown = watch.failures.map((f) => ({ action: f.action, account: f.account, attempts: f.attempts }));
    expect([...shown].sort((x, y) => x.action.localeCompare(y.action) || x.account.localeCompare(y.account))).toEqual(
      failures.map((r) => ({ action: r.action, account: r.account, attempts: r.attempts })),
    );
    expect(shown).toContainEqual({ action: "session.sign_in_failed", account: "d.other", attempts: 2 });
    expect(shown).toContainEqual({ action: "signature.failed", account: people.quinn!.username, attempts: 1 });

    // Oracle (SQL): active keys, each to be rotated 365 days after its creation.
    const keys = await database.client`select kid, created_at + interval '365 days' as rotate_by from signing_keys where state = 'active' order by created_at`;
    expect(watch.keys.filter((k) => k.state === "active").map((k) => ({ kid: k.kid, rotateBy: k.rotateBy?.getTime() }))).toEqual(
      keys.map((k) => ({ kid: k.kid, rotateBy: new Date(k.rotate_by as string | Date).getTime() })),
    );
    expect(watch.keys.every((k) => !k.rotationDue)).toBe(true);
    // A key made 350 days ago is due within the 30-day warning.
    await database.owner`update signing_keys set created_at = now() - interval '350 days' where kid = ${keys[0]!.kid}`;
    expect((await adminWatch(database.db, { at })).keys.find((k) => k.kid === keys[0]!.kid)?.rotationDue).toBe(true);

    // Oracle (SQL): active clients last seen (or, never seen, created) more than 24 h ago.
    const silent = await database.client`
      select name from runtime_clients where revoked_at is null and coalesce(last_seen_at, created_at) < now() - interval '24 hours' order by name`;
    expect(watch.silentClients.map((c) => c.name)).toEqual(silent.map((r) => r.name));
    expect(watch.silentClients.map((c) => c.name)).toContain("line-7-silent");
    expect(watch.silentClients.map((c) => c.name)).not.toContain("line-8-fresh");
  });
});

describe("recent activity", () => {
  it("leaves the sessions out and counts the day's sign-ins instead", async () => {
    const at = await databaseNow(database.db);
    const activity = await recentActivity(database.db, { at, limit: 10 });
    const expected = await database.client`select seq from audit_trail where action not like 'session.%' order by seq desc limit 10`;
    expect(activity.rows.map((r) => Number(r.seq))).toEqual(expected.map((r) => Number(r.seq)));
    expect(activity.rows.some((r) => r.action.startsWith("session."))).toBe(false);
    const [signIns] = await database.client`
      select count(*)::int as n, count(distinct entity_id)::int as accounts from audit_trail
      where action = 'session.sign_in' and recorded_at >= now() - interval '24 hours'`;
    expect(activity.signInsLastDay).toEqual({ count: signIns!.n, accounts: signIns!.accounts });
    expect(activity.signInsLastDay.accounts).toBeGreaterThanOrEqual(4);
  });
});
