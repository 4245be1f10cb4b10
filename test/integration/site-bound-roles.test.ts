/**
 * Part 11 hardening (ADR 020): a role counts only at the sites where it is held. Before, `signerOf` gathered
 * roles from every grant: with quality_reviewer@CLT and regulatory_reviewer@EIN, a POST
 * `intent=sign&role=quality_reviewer` on an EIN-only request approved it. Through the route's
 * action, as the browser posts it.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { action } from "../../app/routes/change-requests.$number";
import { action as epcisAction } from "../../app/routes/imports.epcis";
import { loader as keysLoader } from "../../app/routes/keys._index";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createChangeRequest, submitChangeRequest } from "../../app/services/change-requests.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

let database: Database;
const PASSWORD = "site-bound-roles-password";
let number = "";
/** The last refusal `sign` caught, to read its body. */
let lastRefusal: Response | null = null;

async function person(username: string, grants: { role: "quality_reviewer" | "regulatory_reviewer" | "engineer"; site: string | null }[]): Promise<string> {
  await createUser(database.db, "test", { username, displayName: username, password: PASSWORD, grants, reason: "site-bound roles test" }, "fixture");
  const session = await signIn(database.db, { username, password: PASSWORD, ip: null, maxHours: 1 });
  if (!session.ok) throw new Error("sign-in failed");
  return session.sessionId;
}

async function sign(sessionId: string, username: string, role: string): Promise<number> {
  const [{ row_version }] = (await database.client`select row_version from change_requests where number = ${number}`) as unknown as [{ row_version: number }];
  const body = new URLSearchParams({
    intent: "sign",
    meaning: "approved",
    role,
    username,
    password: PASSWORD,
    rowVersion: String(row_version),
    analysisHash: (await reviewed(database.db, number)).analysisHash,
    comment: "",
  });
  for (const key of (await reviewed(database.db, number)).acknowledged) body.append("acknowledged", key);
  const request = new Request(`http://127.0.0.1/change-requests/${number}`, {
    method: "POST",
    headers: { Cookie: `${SESSION_COOKIE}=${sessionId}`, "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
  try {
    const result = await action({ request, params: { number }, context: {} } as ActionFunctionArgs);
    return (result as { init?: { status?: number } } | null)?.init?.status ?? 200;
  } catch (thrown) {
    if (thrown instanceof Response) {
      lastRefusal = thrown;
      return thrown.status;
    }
    throw thrown;
  }
}

const signatureCount = async () =>
  Number(
    (await database.client`select count(*)::int as n from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number}`)[0]!.n,
  );

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const emil = await signedInPerson(database, "author.e", ["engineer"], PASSWORD);
  // An upgrade of a medium-risk material at EIN only: it needs a quality reviewer, not a regulatory one.
  ({ number } = await createChangeRequest(database.db, emil, {
    title: "Serialize ASM-1004 at EIN",
    justification: "Unit-level trace for field returns.",
    riskAssessment: "Medium: labels and scanners exist.",
    legacyDataPlan: "grandfather",
    changes: [
      {
        kind: "tracking",
        material: "ASM-1004",
        sites: ["EIN"],
        trackingMode: "serial",
        containerTracking: false,
        identifierFormatCodes: ["EIN-SER"],
        consumptionScan: "identify",
      },
    ],
  }));
  const [{ row_version }] = (await database.client`select row_version from change_requests where number = ${number}`) as unknown as [{ row_version: number }];
  await submitChangeRequest(database.db, emil, number, row_version);
}, 120_000);

describe("a role counts only where it is held", () => {
  it("quality_reviewer@CLT + regulatory_reviewer@EIN cannot sign an EIN request as quality reviewer; nothing is signed", async () => {
    const mixed = await person("mixed.one", [
      { role: "quality_reviewer", site: "CLT" },
      { role: "regulatory_reviewer", site: "EIN" },
    ]);
    const status = await sign(mixed, "mixed.one", "quality_reviewer");
    expect(status).toBe(403);
    expect(await signatureCount()).toBe(0);
  });

  it("regulatory_reviewer@CLT + quality_reviewer@EIN cannot sign it as regulatory reviewer (the reverse)", async () => {
    const mixed = await person("mixed.two", [
      { role: "regulatory_reviewer", site: "CLT" },
      { role: "quality_reviewer", site: "EIN" },
    ]);
    expect(await sign(mixed, "mixed.two", "regulatory_reviewer")).toBe(403);
    expect(await signatureCount()).toBe(0);
    // …but signs it in the role held at EIN.
    expect(await sign(mixed, "mixed.two", "quality_reviewer")).toBe(302);
    expect(await signatureCount()).toBe(1);
    const [{ status }] = (await database.client`select status from change_requests where number = ${number}`) as unknown as [{ status: string }];
    expect(status).toBe("approved");
  });
});

describe("a 403 names the role and the site needed", () => {
  it("a quality reviewer at CLT (engineer at EIN, so the request is visible) is told the reviewer roles at EIN are needed to sign an EIN request", async () => {
    const before = await signatureCount();
    const clt = await person("quality.clt", [
      { role: "quality_reviewer", site: "CLT" },
      { role: "engineer", site: "EIN" },
    ]);
    lastRefusal = null;
    expect(await sign(clt, "quality.clt", "quality_reviewer")).toBe(403);
    const body = (await lastRefusal!.json()) as { message: string; needed: { action: string; subject: string; roles: string[]; sites: string[] } };
    expect(body.message).toBe("You need the quality reviewer or regulatory reviewer role at EIN to sign this change request.");
    expect(body.needed).toMatchObject({ action: "sign", subject: "ChangeRequest", roles: ["quality_reviewer", "regulatory_reviewer"], sites: ["EIN"] });
    expect(await signatureCount()).toBe(before);
  });

  it("an engineer opening the keys page is told it needs the administrator role for all sites", async () => {
    const engineer = await person("engineer.keys", [{ role: "engineer", site: null }]);
    const request = new Request("http://127.0.0.1/keys", { headers: { Cookie: `${SESSION_COOKIE}=${engineer}` } });
    const refusal = await keysLoader({ request, params: {}, context: {} } as Parameters<typeof keysLoader>[0]).then(
      () => null,
      (thrown: unknown) => thrown as Response,
    );
    expect(refusal?.status).toBe(403);
    const text = await refusal!.text();
    expect(text).toContain("You need the administrator role for all sites");
    expect(JSON.parse(text).needed).toMatchObject({ action: "read", subject: "User", roles: ["admin"], allSitesOnly: true, sites: [] });
  });
});

describe("an action whose effect reaches every site needs authority at every site", () => {
  it("an engineer scoped to CLT cannot release an EPCIS quarantine (it releases events at every site); one at all sites can", async () => {
    const post = async (sessionId: string) => {
      const request = new Request("http://127.0.0.1/imports/epcis", {
        method: "POST",
        headers: { Cookie: `${SESSION_COOKIE}=${sessionId}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ intent: "release", gtin: "00614141123452" }),
      });
      try {
        const result = await epcisAction({ request, params: {}, context: {} } as ActionFunctionArgs);
        return (result as { init?: { status?: number } } | null)?.init?.status ?? 200;
      } catch (thrown) {
        if (thrown instanceof Response) return thrown.status;
        throw thrown;
      }
    };
    const scoped = await person("engineer.clt", [{ role: "engineer", site: "CLT" }]);
    const before = Number((await database.client`select coalesce(max(seq), 0)::int as n from audit_trail`)[0]!.n);
    expect(await post(scoped)).toBe(403);
    expect(Number((await database.client`select coalesce(max(seq), 0)::int as n from audit_trail`)[0]!.n)).toBe(before);
    expect(await post(await person("engineer.all", [{ role: "engineer", site: null }]))).toBe(200);
  });
});
