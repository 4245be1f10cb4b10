/**
 * ADR 006 on the demo plant: a request's base is what it reads, so releasing one
 * request leaves another on an unrelated material at the same site current, signed and releasable;
 * one on the same material goes stale, named, and the release page said so before signing. After
 * release the record stays what was signed: the diff against the signed base, the version it was
 * released in, the analysis "as signed", the waiver on the version, the request, its record and
 * the audit trail's Reason column. Expectations come from plain SQL and hand-written values.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { changeRequestDetail } from "../../app/queries/change-requests.server";
import { impactAnalysisView } from "../../app/queries/impact-analysis.server";
import { releaseBoard, ruleSetVersionRelease } from "../../app/queries/releases.server";
import { DEMO_PASSWORD, seedDemoPlant } from "../../app/seed/seed.server";
import { staleSites } from "../../app/queries/change-request-context.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { signIn } from "../../app/services/sessions.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import * as recordPage from "../../app/routes/change-requests.$number.record";
import * as releasesPage from "../../app/routes/releases._index";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

let database: Database;
let keyRing: KeyRing;
const PASSWORD = "signed-record-password";
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (signed-record test).";
const people: Record<string, Signer> = {};
const cookies = new Map<string, string>();

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "e.e", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "q.q", ["quality_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "r.m", ["release_manager"], PASSWORD);
  for (const username of ["vera.viewer", "remy.release"]) {
    const session = await signIn(database.db, { username, password: DEMO_PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error(`cannot sign in ${username}`);
    cookies.set(username, session.sessionId);
  }
}, 120_000);

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const idOf = async (number: string) => (await database.client`select id from change_requests where number = ${number}`)[0]!.id as number;

async function approved(title: string, material: string, site: string, consumptionScan = "identify"): Promise<string> {
  const { number } = await createChangeRequest(database.db, people.emil!, {
    title,
    justification: "Unit-level trace for field returns.",
    riskAssessment: "Medium: labels and scanners exist.",
    legacyDataPlan: "grandfather",
    changes: [
      { kind: "tracking", material, sites: [site], trackingMode: "serial", containerTracking: false, identifierFormatCodes: [`${site}-SER`], consumptionScan },
    ],
  });
  await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
  const signed = await signChangeRequest(database.db, people.quinn!, number, {
    meaning: "approved",
    role: "quality_reviewer",
    username: "q.q",
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    ...(await reviewed(database.db, number)),
  });
  if (!signed.ok || signed.status !== "approved") throw new Error(`${number} not approved: ${JSON.stringify(signed)}`);
  return number;
}

const release = (site: string, numbers: string[]) =>
  releaseChangeRequests(database.db, keyRing, people.remy!, { site, changeRequests: numbers, username: "r.m", password: PASSWORD, waiver: WAIVER });

/** Plain SQL: the open rule of a material at a site. */
async function ruleNow(material: string, site: string) {
  const [row] = await database.client`
    select r.tracking_mode, r.consumption_scan, r.identifier_format_codes from tracking_rules r
    join materials m on m.id = r.material_id join sites s on s.id = r.site_id
    where m.part_number = ${material} and s.code = ${site} and r.effective_to is null`;
  return row as { tracking_mode: string; consumption_scan: string; identifier_format_codes: string[] };
}

/** Plain SQL: how many BOM lines at the site hold both materials (as parent, component or alternate). */
async function bomLinks(site: string, a: string, b: string): Promise<number> {
  const [row] = await database.client`
    select count(*)::int as n from bom_lines bl join sites s on s.id = bl.site_id and s.code = ${site}
    where array(select m.part_number from materials m where m.id in (bl.parent_material_id, bl.component_material_id)
                union select m.part_number from bom_line_alternates a join materials m on m.id = a.material_id where a.bom_line_id = bl.id)
          @> array[${a}, ${b}]::text[]`;
  return row!.n as number;
}

async function call(fn: unknown, request: Request, params: Record<string, string>) {
  try {
    return await (fn as (args: LoaderFunctionArgs & ActionFunctionArgs) => Promise<unknown>)({ request, params, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}
const headers = (username: string) => new Headers({ Cookie: `${SESSION_COOKIE}=${cookies.get(username)!}` });

describe("per-request bases and the signed record", () => {
  it("release A, then approved B on another material at the same site is current and releasable without new signatures; C on A's material goes stale, as the release page said", async () => {
    expect(await bomLinks("EIN", "ASM-1003", "ASM-1004")).toBe(0);
    const before = await ruleNow("ASM-1003", "EIN");
    expect(before.tracking_mode).toBe("lot");
    const a = await approved("Serialize ASM-1003 at EIN", "ASM-1003", "EIN");
    const b = await approved("Serialize ASM-1004 at EIN", "ASM-1004", "EIN");
    const c = await approved("Serialize ASM-1003 at EIN, verify scans", "ASM-1003", "EIN", "verify");

    // Before signing, the release page lists what releasing A would make stale: C (same material), not B.
    const [ein] = await releaseBoard(database.db, {
      siteIds: [(await database.client`select id from sites where code = 'EIN'`)[0]!.id as number],
      viewerId: people.remy!.id,
      at: new Date(),
    });
    const candidateA = ein!.candidates.find((x) => x.number === a)!;
    expect(candidateA.stale).toBe(false);
    expect(candidateA.wouldMakeStale).toEqual([{ number: c, status: "approved", stale: [{ site: "EIN", moved: ["the tracking rule of ASM-1003 at EIN"] }] }]);
    expect(ein!.candidates.find((x) => x.number === b)!.wouldMakeStale).toEqual([]);

    const releasedA = await release("EIN", [a]);
    if (!releasedA.ok) throw new Error(JSON.stringify(releasedA));

    // B: current, its signature valid, its revision unchanged, never rebased — and it releases.
    expect(await staleSites(database.db, await idOf(b))).toEqual([]);
    const [bRow] = await database.client`
      select c.revision, (select count(*)::int from signatures s where s.change_request_id = c.id and s.voided_at is null) as valid,
             (select count(*)::int from audit_trail t where t.entity_id = c.number and t.action = 'change_request.rebase') as rebases
      from change_requests c where c.number = ${b}`;
    expect({ ...bRow }).toEqual({ revision: 1, valid: 1, rebases: 0 });
    // C: stale at EIN, naming what moved; its release is refused.
    expect(await staleSites(database.db, await idOf(c))).toEqual(["EIN"]);
    const refused = await release("EIN", [c]).catch((e: unknown) => e as DomainError);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).status).toBe(409);
    expect((refused as DomainError).message).toContain("the tracking rule of ASM-1003 at EIN");
    const releasedB = await release("EIN", [b]);
    expect(releasedB).toMatchObject({ ok: true, site: "EIN", version: releasedA.version + 1, released: [{ number: b, status: "released" }] });

    // A's record: the diff against its signed base (lot → serial), released in its version, A's waiver.
    const detail = (await changeRequestDetail(database.db, a, { historyLimit: 10 }))!;
    expect(detail.diffBasis).toBe("signed");
    expect(detail.diff).toContainEqual({ site: "EIN", partNumber: "ASM-1003", field: "trackingMode", from: before.tracking_mode, to: "serial" });
    expect(detail.textDiff).toContain(`-    "trackingMode": "${before.tracking_mode}"`);
    expect(detail.textDiff).toContain('+    "trackingMode": "serial"');
    expect(detail.bases).toEqual([
      expect.objectContaining({ site: "EIN", releasedIn: releasedA.version, touchedDigest: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    ]);
    expect(detail.waivers).toEqual([expect.objectContaining({ site: "EIN", version: releasedA.version, reason: WAIVER })]);
    expect(detail.waivers[0]!.disagreements.length).toBeGreaterThan(0);

    // Its analysis reads "as signed" with the hash the signature bound, never "stale".
    const [signedHash] =
      await database.client`select s.analysis_hash from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${a} and s.voided_at is null`;
    const analysis = await impactAnalysisView(database.db, a);
    expect(analysis.asSigned).toEqual({ sha256: signedHash!.analysis_hash });
    expect(analysis.staleReason).toBeNull();
    expect(analysis.latest!.sha256).toBe(signedHash!.analysis_hash);

    // The version page: the requests it released and the waiver with its reason.
    const version = (await ruleSetVersionRelease(database.db, { siteCode: "EIN", version: releasedA.version }))!;
    expect(version.changeRequests.map((r) => r.number)).toEqual([a]);
    expect(version.waiver).toMatchObject({ reason: WAIVER, site: "EIN", version: releasedA.version });

    // The audit trail's Reason column carries the waiver on the release rows.
    const reasons = await database.client`
      select action, reason from audit_trail
      where (action = 'rule_set.release' and entity_id = ${`EIN/${releasedA.version}`}) or (action = 'change_request.release_site' and entity_id = ${a})
      order by action`;
    expect(reasons.map((r) => ({ ...r }))).toEqual([
      { action: "change_request.release_site", reason: `Waiver: ${WAIVER}` },
      { action: "rule_set.release", reason: `Waiver: ${WAIVER}` },
    ]);

    // The printable records, through the route: A's and B's signed diffs, each with its release's waiver.
    for (const [number, part, v] of [
      [a, "ASM-1003", releasedA.version],
      [b, "ASM-1004", releasedA.version + 1],
    ] as const) {
      const record = (await call(recordPage.loader, new Request(`http://127.0.0.1/change-requests/${number}/record`, { headers: headers("vera.viewer") }), {
        number,
      })) as Awaited<ReturnType<typeof recordPage.loader>>;
      expect(record.diffBasis).toBe("signed");
      expect(record.diff).toContainEqual({ site: "EIN", partNumber: part, field: "trackingMode", from: "lot", to: "serial" });
      expect(record.bases.map((x) => x.releasedIn)).toEqual([v]);
      expect(record.waivers.map((w) => [w.version, w.reason])).toEqual([[v, WAIVER]]);
    }
  });

  it("the release page previews exactly the ticked requests without JavaScript: the preview intent needs no password and sends back the ticks", async () => {
    const d = await approved("Serialize ASM-1005 at PEN", "ASM-1005", "PEN");
    const form = new URLSearchParams([
      ["intent", "preview"],
      ["site", "PEN"],
      ["changeRequests", d],
    ]);
    const response = (await call(
      releasesPage.action,
      new Request("http://127.0.0.1/releases", { method: "POST", headers: headers("remy.release"), body: form }),
      {},
    )) as {
      data: { site: string; selected: string[]; fieldErrors: Record<string, string[]>; conflict: string | null };
      init: { status?: number } | null;
    };
    expect(response.data).toEqual({ site: "PEN", selected: [d], fieldErrors: {}, conflict: null });
    expect(response.init?.status ?? 200).toBe(200);
    // Nothing was released or audited as a release.
    const [row] = await database.client`select status from change_requests where number = ${d}`;
    expect(row!.status).toBe("approved");
  });
});
