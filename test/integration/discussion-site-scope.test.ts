/**
 * The discussion's site scope through the route (ADR 030), as the browser's forms post it:
 * - a reviewer holding a reviewer role at only one of the two sites of a request cannot mark a
 *   thread blocking (403 naming the field), while a reviewer at both can;
 * - a reader of EIN cannot comment on, reply to, resolve nor reopen a thread of a request only at
 *   CLT: the request is not shown to them (404), and nothing is written.
 * The expected answers are written out here, independently of policies/.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import * as route from "../../app/routes/change-requests.$number";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { addComment } from "../../app/services/change-request-comments.server";
import { createChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

const PASSWORD = "threads-across-plants-passphrase";
let database: Database;
let author: Signer;
let bothSites = "";
let cltOnly = "";
let cltThread = 0;
const cookies = new Map<string, string>();

async function person(username: string, grants: { role: "quality_reviewer" | "viewer" | "engineer"; site: string | null }[]) {
  await createUser(database.db, "test", { username, displayName: username, password: PASSWORD, grants, reason: "site scope" }, "fixture");
  const session = await signIn(database.db, { username, password: PASSWORD, ip: null, maxHours: 1 });
  if (!session.ok) throw new Error(`cannot sign in ${username}`);
  cookies.set(username, `${SESSION_COOKIE}=${session.sessionId}`);
}

/** Serializes each material at its site (one change a site: the formats are the site's own). */
async function propose(bySite: [material: string, site: "EIN" | "CLT"][]): Promise<string> {
  const { number } = await createChangeRequest(database.db, author, {
    title: `Serialize ${bySite.map(([m, s]) => `${m} at ${s}`).join(", ")}`,
    justification: "Unit-level trace for field returns.",
    riskAssessment: "Medium: labels and scanners exist.",
    legacyDataPlan: "grandfather",
    changes: bySite.map(([material, site]) => ({
      kind: "tracking" as const,
      material,
      sites: [site],
      trackingMode: "serial" as const,
      containerTracking: false,
      identifierFormatCodes: [`${site}-SER`],
      consumptionScan: "identify" as const,
    })),
  });
  const [row] = await database.client`select row_version from change_requests where number = ${number}`;
  await submitChangeRequest(database.db, author, number, row!.row_version as number);
  return number;
}

/** Posts the form to the request page's action as `who`; the answer's status and field errors. */
async function post(who: string, number: string, fields: Record<string, string>): Promise<{ status: number; fieldErrors?: Record<string, string[]> }> {
  const request = new Request(`http://127.0.0.1/change-requests/${number}`, {
    method: "POST",
    headers: { Cookie: cookies.get(who)!, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  try {
    const result = (await route.action({ request, params: { number }, context: {} } as ActionFunctionArgs)) as unknown;
    if (result instanceof Response) return { status: result.status };
    const r = result as { data?: { fieldErrors?: Record<string, string[]> }; init?: { status?: number } };
    return { status: r.init?.status ?? 200, fieldErrors: r.data?.fieldErrors };
  } catch (thrown) {
    if (thrown instanceof Response) return { status: thrown.status };
    throw thrown;
  }
}

const written = async () => {
  const [row] = await database.client`
    select (select count(*) from change_request_comments)::int as comments,
           (select count(*) from change_request_comment_resolutions)::int as resolutions,
           (select coalesce(max(seq), 0) from audit_trail)::int as audit`;
  return row;
};

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  author = await signedInPerson(database, "scope.author", ["engineer"], PASSWORD);
  // A reviewer at EIN who only reads at CLT: sees the two-site request, reviews half of it.
  await person("scope.reviewer.ein", [
    { role: "quality_reviewer", site: "EIN" },
    { role: "viewer", site: "CLT" },
  ]);
  await person("scope.reviewer.all", [{ role: "quality_reviewer", site: null }]);
  await person("scope.reader.ein", [{ role: "viewer", site: "EIN" }]);
  bothSites = await propose([
    ["ASM-1004", "EIN"],
    ["ASM-1006", "CLT"],
  ]);
  cltOnly = await propose([["ASM-1005", "CLT"]]);
  cltThread = await addComment(database.db, { ...author, roles: ["engineer"] }, cltOnly, { body: "Scanners at CLT?" });
}, 180_000);

describe("marking a thread blocking on a request at two sites", () => {
  it("is refused to a reviewer of only one of them (403 at the field, nothing written), allowed to a reviewer of both", async () => {
    const sites = await database.client`
      select s.code from change_request_targets t join sites s on s.id = t.site_id
      where t.change_request_id = (select id from change_requests where number = ${bothSites}) group by s.code order by s.code`;
    expect(sites.map((s) => s.code)).toEqual(["CLT", "EIN"]);
    const before = await written();
    const half = await post("scope.reviewer.ein", bothSites, { intent: "comment", body: "Stop.", blocking: "on" });
    expect(half.status).toBe(403);
    expect(Object.keys(half.fieldErrors ?? {})).toEqual(["blocking"]);
    expect(await written()).toEqual(before);
    // The same reviewer may still comment without blocking (anyone who sees the request may).
    expect((await post("scope.reviewer.ein", bothSites, { intent: "comment", body: "A question." })).status).toBe(302);
    expect((await post("scope.reviewer.all", bothSites, { intent: "comment", body: "Stop.", blocking: "on" })).status).toBe(302);
    const rows = await database.client`
      select u.username, c.blocking from change_request_comments c join users u on u.id = c.author_id
      where c.change_request_id = (select id from change_requests where number = ${bothSites}) order by c.id`;
    expect(rows.map((r) => [r.username, r.blocking])).toEqual([
      ["scope.reviewer.ein", false],
      ["scope.reviewer.all", true],
    ]);
  }, 120_000);
});

describe("a reader of EIN on a request only at CLT", () => {
  it("cannot comment, reply, resolve nor reopen: the request is not found for them, and nothing is written", async () => {
    const before = await written();
    for (const fields of <Record<string, string>[]>[
      { intent: "comment", body: "Seen from EIN." },
      { intent: "reply", threadId: String(cltThread), body: "Seen from EIN." },
      { intent: "resolve", threadId: String(cltThread) },
      { intent: "reopen", threadId: String(cltThread) },
    ]) {
      expect((await post("scope.reader.ein", cltOnly, fields)).status, fields.intent).toBe(404);
    }
    expect(await written()).toEqual(before);
    // A reader of EIN may comment on a request they see (the control: the route works for them).
    const einOnly = await propose([["ASM-1001", "EIN"]]);
    expect((await post("scope.reader.ein", einOnly, { intent: "comment", body: "Seen from EIN." })).status).toBe(302);
  }, 120_000);
});
