/**
 * Comments anchored on a diff row, a finding or the request (ADR 030), against a real PostgreSQL:
 * anchors checked against what the request shows, one level of threading, resolve/reopen by the
 * thread's or the request's author only, every write audited (read back with plain SQL), and an
 * approval refused while a blocking thread is open.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { changesRequested } from "../../app/queries/change-request-comments.server";
import { changeRequestDetail } from "../../app/queries/change-requests.server";
import { addComment, replyToThread, setThreadResolution } from "../../app/services/change-request-comments.server";
import { createChangeRequest, reviseChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { analysed, reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

let database: Database;
const PASSWORD = "anchored-discussion-passphrase";
let author: Signer;
let reviewer: Signer;
let engineer: Signer;
/** A second reviewer: the first one's "changes requested" stays live on the revision (one signer, one live signature). */
let reviewer2: Signer;

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const auditCount = async () => Number((await database.client`select count(*)::int as n from audit_trail`)[0]!.n);
/** The page's words for the diff rows' fields, written out (the refusal names the field as the page does). */
const LABELS: Record<string, string> = {
  trackingMode: "tracking mode",
  containerTracking: "container tracking",
  identifierFormatCodes: "identifier formats",
  consumptionScan: "scan at consumption",
};
const resolutionEvents = async (thread: number) =>
  Number((await database.client`select count(*)::int as n from change_request_comment_resolutions where thread_id = ${thread}`)[0]!.n);
const commentCount = async () => Number((await database.client`select count(*)::int as n from change_request_comments`)[0]!.n);

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

async function inReview(material: string): Promise<string> {
  const { number } = await createChangeRequest(database.db, author, {
    title: `Serialize ${material} at EIN`,
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

const approve = async (number: string, who: Signer = reviewer) =>
  signChangeRequest(database.db, who, number, {
    meaning: "approved",
    role: "quality_reviewer",
    username: who.username,
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    // Every critical and warning finding acknowledged (ADR 029): what is refused here is the blocking thread alone.
    ...(await reviewed(database.db, number)),
  });

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  author = await signedInPerson(database, "thread.author", ["engineer"], PASSWORD);
  reviewer = await signedInPerson(database, "thread.reviewer", ["quality_reviewer"], PASSWORD);
  engineer = await signedInPerson(database, "thread.bystander", ["engineer"], PASSWORD);
  reviewer2 = await signedInPerson(database, "thread.reviewer2", ["quality_reviewer"], PASSWORD);
}, 120_000);

describe("anchors", () => {
  it("accepts a row of this revision's diff and a finding of the latest analysis; refuses others naming the field, writing nothing", async () => {
    const number = await inReview("ASM-1004");
    const detail = await changeRequestDetail(database.db, number, { historyLimit: 1 });
    const row = detail!.diff.find((r) => r.field === "trackingMode")!;
    expect(row).toMatchObject({ site: "EIN", partNumber: "ASM-1004" });
    const onRow = await addComment(database.db, reviewer, number, {
      body: "Why serial and not lot?",
      anchor: { kind: "diff_row", site: "EIN", material: "ASM-1004", field: "trackingMode" },
    });
    const [stored] = await database.client`select anchor, revision, blocking, parent_id from change_request_comments where id = ${onRow}`;
    expect(stored).toEqual({
      anchor: { kind: "diff_row", site: "EIN", material: "ASM-1004", field: "trackingMode" },
      revision: 1,
      blocking: false,
      parent_id: null,
    });

    const before = { audit: await auditCount(), comments: await commentCount() };
    const noRow = await refusal(
      addComment(database.db, reviewer, number, { body: "?", anchor: { kind: "diff_row", site: "LYS", material: "ASM-1004", field: "trackingMode" } }),
    );
    expect(noRow.status).toBe(400);
    expect(noRow.fields["anchor.field"]![0]).toMatch(/no row LYS · ASM-1004 · trackingMode/);
    // No analysis yet: no finding to comment on.
    const noAnalysis = await refusal(
      addComment(database.db, reviewer, number, { body: "?", anchor: { kind: "finding", code: "MIXED_HISTORY", material: "ASM-1004", site: "EIN" } }),
    );
    expect(noAnalysis.fields["anchor.code"]).toEqual(["No impact analysis has been run: there is no finding to comment on."]);
    // A malformed anchor is refused by the schema, naming the field.
    const badKind = await refusal(addComment(database.db, reviewer, number, { body: "?", anchor: { kind: "page" } }));
    expect(Object.keys(badKind.fields)).toEqual(["anchor.kind"]);
    const badCode = await refusal(addComment(database.db, reviewer, number, { body: "?", anchor: { kind: "finding", code: "NOPE" } }));
    expect(Object.keys(badCode.fields)).toEqual(["anchor.code"]);
    expect({ audit: await auditCount(), comments: await commentCount() }).toEqual(before);

    await analysed(database.db, number);
    const [report] =
      await database.client`select report from impact_analyses where change_request_id = (select id from change_requests where number = ${number}) order by id desc limit 1`;
    // The oracle for "a finding of the latest analysis": its stored JSON, read with SQL.
    const parsed = JSON.parse(report!.report as string) as {
      changes: { partNumber: string; site: string; findings: { code: string }[] }[];
      findings: { code: string }[];
    };
    const change = parsed.changes.find((c) => c.partNumber === "ASM-1004")!;
    const code = change.findings[0]!.code;
    await addComment(database.db, engineer, number, { body: "Checked with the line.", anchor: { kind: "finding", code, material: "ASM-1004", site: "EIN" } });
    const absent = ["ITEMS_BY_STATUS", "MIXED_HISTORY", "DISTRIBUTION", "REACH"].find((c) => !parsed.findings.some((f) => f.code === c))!;
    const notThere = await refusal(addComment(database.db, engineer, number, { body: "?", anchor: { kind: "finding", code: absent } }));
    expect(notThere.fields["anchor.code"]![0]).toMatch(new RegExp(`no finding ${absent} \\(across the request\\)`));
  }, 120_000);
});

describe("threads, resolution and audit", () => {
  it("replies join their thread's root; only the thread's or the request's author resolves; each write has its audit row", async () => {
    const number = await inReview("ASM-1001");
    const thread = await addComment(database.db, reviewer, number, { body: "Scanners at WC30?" });
    const reply = await replyToThread(database.db, author, number, { threadId: thread, body: "All of them read AI 21." });
    // A reply to a reply joins the thread: one level.
    const second = await replyToThread(database.db, reviewer, number, { threadId: reply, body: "Thanks." });
    const parents = await database.client`select id, parent_id, anchor from change_request_comments where id in (${reply}, ${second}) order by id`;
    expect(parents.map((p) => p.parent_id)).toEqual([thread, thread]);
    expect(parents.map((p) => p.anchor)).toEqual([{ kind: "request" }, { kind: "request" }]);

    const [cr] = await database.client`select content_hash, row_version, revision from change_requests where number = ${number}`;
    // A bystander may neither resolve nor reopen; nothing is written.
    const before = await auditCount();
    const refused = await refusal(setThreadResolution(database.db, engineer, number, thread, "resolve"));
    expect(refused.status).toBe(403);
    expect(await auditCount()).toBe(before);
    // A reply is not a thread.
    expect((await refusal(setThreadResolution(database.db, reviewer, number, reply, "resolve"))).fields.threadId).toEqual([
      `#${reply} is a reply, not a thread`,
    ]);

    await setThreadResolution(database.db, reviewer, number, thread, "resolve"); // the thread's author
    // Resolving twice is a conflict, never a silent overwrite of who resolved it.
    expect((await refusal(setThreadResolution(database.db, author, number, thread, "resolve"))).status).toBe(409);
    await setThreadResolution(database.db, author, number, thread, "reopen"); // the request's author
    await setThreadResolution(database.db, author, number, thread, "resolve");

    const [root] = await database.client`select r.username from change_request_comments c join users r on r.id = c.resolved_by_id where c.id = ${thread}`;
    expect(root!.username).toBe(author.username);
    const history = await database.client`
      select e.action, u.username from change_request_comment_resolutions e join users u on u.id = e.actor_id where e.thread_id = ${thread} order by e.id`;
    expect(history.map((h) => [h.action, h.username])).toEqual([
      ["resolved", reviewer.username],
      ["reopened", author.username],
      ["resolved", author.username],
    ]);
    // The resolution history is append-only.
    await expect(database.client`update change_request_comment_resolutions set action = 'reopened' where thread_id = ${thread}`).rejects.toThrow();

    // The audit oracle: plain SQL on the trail, for this request, in order.
    const audit = await database.client`
      select actor, action, after from audit_trail where entity_type = 'change_request' and entity_id = ${number} and action like 'change_request.comment%' order by seq`;
    expect(audit.map((a) => [a.actor, a.action])).toEqual([
      [reviewer.username, "change_request.comment"],
      [author.username, "change_request.comment_reply"],
      [reviewer.username, "change_request.comment_reply"],
      [reviewer.username, "change_request.comment_resolve"],
      [author.username, "change_request.comment_reopen"],
      [author.username, "change_request.comment_resolve"],
    ]);
    expect(audit[0]!.after).toMatchObject({ commentId: thread, body: "Scanners at WC30?", blocking: false });
    expect(audit[1]!.after).toMatchObject({ commentId: reply, threadId: thread });
    // Each audit row was written by the transaction that wrote its comment or resolution.
    const unaudited = await database.client`
      select count(*)::int as n from change_request_comments c
      where c.change_request_id = (select id from change_requests where number = ${number})
        and not exists (select 1 from audit_trail a where a.entity_id = ${number} and (a.after->>'commentId')::int = c.id)`;
    expect(unaudited[0]!.n).toBe(0);
    // Outside the signed content: hash, revision and row version unchanged.
    const [after] = await database.client`select content_hash, row_version, revision from change_requests where number = ${number}`;
    expect(after).toEqual(cr);
  }, 120_000);

  it("only a reviewer (not the author) marks a thread blocking", async () => {
    const number = await inReview("SUB-1008");
    for (const who of [author, engineer]) {
      const error = await refusal(addComment(database.db, who, number, { body: "Stop.", blocking: true }));
      expect(error.status).toBe(403);
      expect(Object.keys(error.fields)).toEqual(["blocking"]);
    }
    await addComment(database.db, reviewer, number, { body: "Stop.", blocking: "on" });
    const [row] =
      await database.client`select blocking from change_request_comments where change_request_id = (select id from change_requests where number = ${number})`;
    expect(row!.blocking).toBe(true);
  }, 120_000);
});

describe("a reply names a thread of its own request", () => {
  it("a thread id of another change request is refused naming the field, and nothing is written", async () => {
    const first = await inReview("SUB-1005");
    const second = await inReview("SUB-1006");
    const elsewhere = await addComment(database.db, reviewer, first, { body: "On the first request." });
    const before = { audit: await auditCount(), comments: await commentCount() };
    const error = await refusal(replyToThread(database.db, author, second, { threadId: elsewhere, body: "Wrong request." }));
    expect(error.status).toBe(400);
    expect(error.fields.threadId).toEqual([`No comment thread #${elsewhere} on ${second}`]);
    expect({ audit: await auditCount(), comments: await commentCount() }).toEqual(before);
  }, 120_000);
});

describe("approval while a blocking thread is open", () => {
  it("is refused naming the thread, allowed once it is resolved; 'changes requested' is not held back", async () => {
    const number = await inReview("ASM-1002");
    const detail = await changeRequestDetail(database.db, number, { historyLimit: 1 });
    const row = detail!.diff[0]!;
    const blocking = await addComment(database.db, reviewer, number, {
      body: "The legacy-data plan does not cover open work orders.",
      anchor: { kind: "diff_row", site: row.site ?? "", material: row.partNumber, field: row.field },
      blocking: true,
    });
    const signaturesBefore = Number((await database.client`select count(*)::int as n from signatures`)[0]!.n);
    const refused = await refusal(approve(number));
    expect(refused.status).toBe(409);
    expect(refused.fields.meaning![0]).toContain(
      `#${blocking} on ${row.site ?? "all sites"} · ${row.partNumber} · ${LABELS[row.field] ?? row.field} by THREAD.REVIEWER`,
    );
    expect(Number((await database.client`select count(*)::int as n from signatures`)[0]!.n)).toBe(signaturesBefore);
    expect((await database.client`select status from change_requests where number = ${number}`)[0]!.status).toBe("in_review");

    // Changes requested goes through (it returns the request to its author with the thread).
    const asked = await signChangeRequest(database.db, reviewer, number, {
      meaning: "changes_requested",
      role: "quality_reviewer",
      username: reviewer.username,
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      analysisHash: await analysed(database.db, number),
      comment: "Cover the open work orders.",
    });
    expect(asked).toMatchObject({ ok: true, status: "changes_requested" });
    // The notice the author sees: who asked, when and why — as the signature row says (plain SQL).
    const [sig] = await database.client`
      select s.printed_name, (extract(epoch from s.signed_at) * 1000)::float8 as signed_ms, s.comment, c.id as cr_id from signatures s join change_requests c on c.id = s.change_request_id
      where c.number = ${number} and s.meaning = 'changes_requested'`;
    expect(await changesRequested(database.db, sig!.cr_id as number, "changes_requested")).toEqual({
      by: sig!.printed_name,
      at: new Date(sig!.signed_ms as number),
      reason: "Cover the open work orders.",
    });
    // The author answers: resolves the thread, revises and submits again; now it may be approved.
    await setThreadResolution(database.db, author, number, blocking, "resolve");
    await reviseChangeRequest(database.db, author, number, await rowVersion(number));
    expect(await changesRequested(database.db, sig!.cr_id as number, "draft")).not.toBeNull();
    await submitChangeRequest(database.db, author, number, await rowVersion(number));
    expect(await changesRequested(database.db, sig!.cr_id as number, "in_review")).toBeNull();
    // A reopened blocking thread holds the approval back again.
    await setThreadResolution(database.db, reviewer, number, blocking, "reopen");
    expect((await refusal(approve(number, reviewer2))).fields.meaning![0]).toMatch(/^Not approved: a blocking comment thread is unresolved/);
    await setThreadResolution(database.db, reviewer, number, blocking, "resolve");
    expect(await approve(number, reviewer2)).toMatchObject({ ok: true, status: "approved" });
    // Once approved, the blocking thread stays resolved: reopening it would leave "approved with an
    // unresolved blocking thread" (409, naming the thread field; nothing written).
    const before = { audit: await auditCount(), events: await resolutionEvents(blocking) };
    const late = await refusal(setThreadResolution(database.db, author, number, blocking, "reopen"));
    expect(late.status).toBe(409);
    expect(late.fields.threadId).toEqual([
      `${number} is approved: a blocking thread holds back an approval, so it is reopened only while the request is undecided`,
    ]);
    expect({ audit: await auditCount(), events: await resolutionEvents(blocking) }).toEqual(before);
    expect((await database.client`select resolved_at is not null as resolved from change_request_comments where id = ${blocking}`)[0]!.resolved).toBe(true);
  }, 180_000);
});
