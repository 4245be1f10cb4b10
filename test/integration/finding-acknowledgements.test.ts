/**
 * Acknowledged findings (issue 23, ADR 029): an approval acknowledges every critical and warning
 * finding of the analysis it signs with, recorded with the signature; the release board counts
 * the findings of the analysis a request was approved with; a sign form names the real problem
 * with the user name. Oracles: the stored report read with plain SQL (jsonb), hand-chosen keys.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { changeRequestDetail } from "../../app/queries/change-requests.server";
import { releaseBoard } from "../../app/queries/releases.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { signWithUsernameSchema } from "../../app/schemas/change-request-actions";
import { releaseWithUsernameSchema } from "../../app/schemas/release";
import { USERNAME_REQUIRED_MESSAGE } from "../../app/schemas/signing";
import type { Database } from "../../app/utils/db.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { analysed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

let database: Database;
let keyRing: KeyRing;
const PASSWORD = "acknowledgements-password";
const people: Record<string, Signer> = {};

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const status = async (number: string) => (await database.client`select status from change_requests where number = ${number}`)[0]!.status as string;

/**
 * Lot-track a serialized subassembly at EIN: the analysis has critical findings. The lot is identified at
 * consumption, the least the demo plant's required traceability asks of these subassemblies (ADR 035).
 */
async function lotTrack(material: string): Promise<string> {
  const { number } = await createChangeRequest(database.db, people.emil!, {
    title: `Lot-track ${material} at EIN`,
    justification: "The supplier ships the subassembly in lots.",
    riskAssessment: "High: regulated finished devices lose unit-level trace.",
    legacyDataPlan: "grandfather",
    changes: [
      {
        kind: "tracking",
        material,
        sites: ["EIN"],
        trackingMode: "lot",
        containerTracking: false,
        identifierFormatCodes: ["EIN-LOT"],
        consumptionScan: "identify",
      },
    ],
  });
  await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
  return number;
}

/** The critical and warning findings of a stored analysis, read from its JSON with SQL alone. */
async function oracleFindings(hash: string): Promise<{ code: string; part: string | null; site: string | null; severity: string; count: number }[]> {
  return (await database.client`
    with a as (select report::jsonb as r from impact_analyses where sha256 = ${hash} limit 1),
    f as (
      select c->>'partNumber' as part, c->>'site' as site, x as f from a, jsonb_array_elements(a.r->'changes') c, jsonb_array_elements(c->'findings') x
      union all
      select null, null, x from a, jsonb_array_elements(a.r->'findings') x
    )
    select f->>'code' as code, part, site, f->>'severity' as severity, (f->>'count')::int as count
    from f where f->>'severity' in ('critical', 'warning') order by 1, 2, 3`) as unknown as {
    code: string;
    part: string | null;
    site: string | null;
    severity: string;
    count: number;
  }[];
}
const keyOf = (f: { code: string; part: string | null; site: string | null }) => (f.part === null ? f.code : `${f.code}:${f.part}@${f.site}`);

const approve = async (who: Signer, number: string, role: "quality_reviewer" | "regulatory_reviewer", acknowledged: string[], hash?: string) =>
  signChangeRequest(database.db, who, number, {
    meaning: "approved",
    role,
    username: who.username,
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    analysisHash: hash ?? (await analysed(database.db, number)),
    acknowledged,
  });

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "ack.engineer", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "ack.quality", ["quality_reviewer"], PASSWORD);
  people.rita = await signedInPerson(database, "ack.regulatory", ["regulatory_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "ack.release", ["release_manager"], PASSWORD);
  people.other = await signedInPerson(database, "ack.other", ["quality_reviewer"], PASSWORD);
}, 180_000);

describe("acknowledged findings", () => {
  let number: string;
  let hash: string;
  let oracle: Awaited<ReturnType<typeof oracleFindings>>;

  it("refuse an approval that does not acknowledge every critical and warning finding, naming the missing ones; nothing is signed", async () => {
    number = await lotTrack("SUB-1008");
    hash = await analysed(database.db, number);
    oracle = await oracleFindings(hash);
    expect(oracle.some((f) => f.severity === "critical")).toBe(true);

    await expect(approve(people.quinn!, number, "quality_reviewer", [], hash)).rejects.toMatchObject({
      code: "invalid",
      fields: { acknowledged: [expect.stringContaining("Acknowledge every critical and warning finding")] },
    });
    // All but the first: exactly that one is named.
    const [first, ...rest] = oracle;
    const partly = approve(
      people.quinn!,
      number,
      "quality_reviewer",
      rest.map((f) => keyOf(f)),
      hash,
    );
    await expect(partly).rejects.toMatchObject({ fields: { acknowledged: [expect.stringContaining(`${first!.code} (${first!.part} at ${first!.site})`)] } });
    for (const f of rest) await expect(partly).rejects.not.toMatchObject({ message: expect.stringContaining(`${f.code} (`) });
    // A key that names no critical or warning finding of this analysis.
    await expect(approve(people.quinn!, number, "quality_reviewer", [...oracle.map(keyOf), "MADE_UP:SUB-1008@EIN"], hash)).rejects.toMatchObject({
      fields: { acknowledged: [expect.stringContaining("MADE_UP:SUB-1008@EIN")] },
    });
    const [{ n }] =
      (await database.client`select count(*)::int as n from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number}`) as unknown as [
        { n: number },
      ];
    expect(n).toBe(0);
    expect(await status(number)).toBe("in_review");
  }, 120_000);

  it("are recorded with the signature, as the analysis said, audited, and shown on the record", async () => {
    const first = await approve(people.quinn!, number, "quality_reviewer", oracle.map(keyOf), hash);
    expect(first).toMatchObject({ ok: true });
    if (!first.ok) return;
    const rows = (await database.client`
      select finding_code as code, part_number as part, site, severity, count from signature_finding_acknowledgements
      where signature_id = ${first.signatureId} order by 1, 2, 3`) as unknown as typeof oracle;
    expect(rows.map((r) => ({ ...r }))).toEqual(oracle.map((r) => ({ ...r })));
    const [audit] =
      await database.client`select after from audit_trail where action = 'change_request.sign' and entity_id = ${number} order by seq desc limit 1`;
    const acknowledgedFindings = (audit!.after as { signature: { acknowledgedFindings: { key: string }[] } }).signature.acknowledgedFindings;
    expect(acknowledgedFindings.map((a) => a.key).sort()).toEqual(oracle.map(keyOf).sort());
    // Append-only, like the signatures.
    await expect(database.client`update signature_finding_acknowledgements set count = 0 where signature_id = ${first.signatureId}`).rejects.toThrow();
    await expect(database.client`delete from signature_finding_acknowledgements where signature_id = ${first.signatureId}`).rejects.toThrow();

    // The regulatory reviewer too (a downgrade of a regulated part): approved.
    expect(await approve(people.rita!, number, "regulatory_reviewer", oracle.map(keyOf), hash)).toMatchObject({ ok: true, status: "approved" });
    const detail = await changeRequestDetail(database.db, number, { historyLimit: 0 });
    expect(detail!.signatures.map((s) => [s.printedName, s.acknowledgements.length])).toEqual([
      ["ACK.QUALITY", oracle.length],
      ["ACK.REGULATORY", oracle.length],
    ]);
  }, 120_000);

  it("are not required to request changes (they stop the change), and are recorded when given", async () => {
    const other = await lotTrack("SUB-1007");
    const otherHash = await analysed(database.db, other);
    const [first] = await oracleFindings(otherHash);
    expect(first).toBeDefined();
    const signed = await signChangeRequest(database.db, people.quinn!, other, {
      meaning: "changes_requested",
      role: "quality_reviewer",
      password: PASSWORD,
      rowVersion: await rowVersion(other),
      analysisHash: otherHash,
      comment: "Keep serials until the supplier prints them.",
      acknowledged: [keyOf(first!)],
    });
    expect(signed).toMatchObject({ ok: true, status: "changes_requested" });
    if (!signed.ok) return;
    const rows = await database.client`select finding_key from signature_finding_acknowledgements where signature_id = ${signed.signatureId}`;
    expect(rows.map((r) => r.finding_key)).toEqual([keyOf(first!)]);
  }, 120_000);

  it("show on the release board as the counts of the analysis it was approved with", async () => {
    const board = await releaseBoard(database.db, { siteIds: null, viewerId: people.remy!.id, at: new Date() });
    const candidate = board.flatMap((s) => s.candidates).find((c) => c.number === number);
    expect(candidate?.analysisFindings).toEqual({
      critical: oracle.filter((f) => f.severity === "critical").length,
      warning: oracle.filter((f) => f.severity === "warning").length,
      sha256: hash,
    });
    expect(candidate!.analysisFindings!.critical).toBeGreaterThan(0);
  }, 120_000);
});

describe("sign errors name the real problem", () => {
  it("another person's user name: you are signed in as …; none where one is required: enter your user name", async () => {
    const number = await lotTrack("SUB-1006");
    const hash = await analysed(database.db, number);
    const base = { meaning: "changes_requested" as const, role: "quality_reviewer" as const, password: PASSWORD, analysisHash: hash, comment: "x" };
    const failedBefore = (await database.client`select count(*)::int as n from audit_trail where action = 'signature.failed' and entity_id = 'ack.other'`)[0]!
      .n as number;
    const someoneElse = await signChangeRequest(database.db, people.other!, number, { ...base, username: "ack.quality", rowVersion: await rowVersion(number) });
    expect(someoneElse).toEqual({ ok: false, fields: { username: ["You are signed in as ack.other: sign with your own user name"] } });
    const empty = await signChangeRequest(database.db, people.other!, number, { ...base, username: "", rowVersion: await rowVersion(number) });
    expect(empty).toEqual({ ok: false, fields: { username: [USERNAME_REQUIRED_MESSAGE] } });
    // Counted as failed attempts, as before.
    const failedAfter = (await database.client`select count(*)::int as n from audit_trail where action = 'signature.failed' and entity_id = 'ack.other'`)[0]!
      .n as number;
    expect(failedAfter - failedBefore).toBe(2);
    // Within a continuous series too: someone else's name is named as such.
    expect(await signChangeRequest(database.db, people.other!, number, { ...base, username: "ack.other", rowVersion: await rowVersion(number) })).toMatchObject(
      {
        ok: true,
      },
    );
    const another = await lotTrack("SUB-1003");
    const again = await signChangeRequest(database.db, people.other!, another, {
      ...base,
      analysisHash: await analysed(database.db, another),
      username: "ack.quality",
      rowVersion: await rowVersion(another),
    });
    expect(again).toEqual({ ok: false, fields: { username: ["You are signed in as ack.other: sign with your own user name"] } });
  }, 120_000);

  it("in a release signature as well", async () => {
    const refused = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "EIN",
      changeRequests: ["CR-9999"],
      username: "ack.quality",
      password: PASSWORD,
    });
    expect(refused).toEqual({ ok: false, fields: { username: ["You are signed in as ack.release: sign with your own user name"] } });
    const empty = await releaseChangeRequests(database.db, keyRing, people.remy!, { site: "EIN", changeRequests: ["CR-9999"], password: PASSWORD });
    expect(empty).toEqual({ ok: false, fields: { username: [USERNAME_REQUIRED_MESSAGE] } });
  }, 60_000);

  it("an empty sign form flags the user name with the password, in the browser's schema", () => {
    const sign = signWithUsernameSchema.safeParse({
      intent: "sign",
      rowVersion: "1",
      analysisHash: "a".repeat(64),
      meaning: "approved",
      role: "quality_reviewer",
    });
    expect(sign.success).toBe(false);
    const signIssues = Object.fromEntries(sign.error!.issues.map((i) => [i.path.join("."), i.message]));
    expect(signIssues).toMatchObject({ username: USERNAME_REQUIRED_MESSAGE, password: expect.any(String) });
    const release = releaseWithUsernameSchema.safeParse({ site: "EIN", changeRequests: ["CR-0001"], username: "" });
    const releaseIssues = Object.fromEntries(release.error!.issues.map((i) => [i.path.join("."), i.message]));
    expect(releaseIssues).toMatchObject({ username: USERNAME_REQUIRED_MESSAGE, password: expect.any(String) });
  });
});
