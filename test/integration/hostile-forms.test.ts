/**
 * ADR 016: every action of the portal, posted hostile forms by a stranger and by each role —
 * field names that would reach a prototype (`__proto__.reason`, `constructor.prototype.reason`),
 * and the usual oversize, duplicate, deeply nested, contradictory and non-UTF-8 names and values.
 * The list of actions comes from the route files themselves, so a new action is fuzzed too.
 *
 * Asserted: no answer is a 500 (nothing thrown but a Response); no audit row carries the injected
 * text; nothing changed (the audit trail, where every write lands, did not move, nor did the
 * tables a form writes); Object.prototype is untouched; and afterwards, in the same process, a
 * normal sign-in and a normal release through their routes still work and their audit rows carry
 * only their own reasons.
 */
import fs from "node:fs";
import path from "node:path";
import type { ActionFunctionArgs } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../../policies/ability";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { ensureKeyRing } from "../../app/services/keys.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { analysed, reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { tempKeysDir } from "../setup/keys";
import { signedInPerson } from "../setup/people";

const MARKER = "INJECTED-BY-A-STRANGER-7f3a";
const PASSWORD = "hostile-forms-password";
const DEMO_PASSWORD = "c981-demo-2026";
const ROUTES_DIR = path.resolve(import.meta.dirname, "../../app/routes");
/** Actions that read no form: sign-out ends the caller's own session whatever is posted. */
const NO_FORM = new Set(["sign-out"]);
/** The intents a route's module names (its discriminated union and its authorization by intent), and none. */
function intentsOf(route: string): string[] {
  const files = [route, ...(route === "change-requests.$number" ? ["../components/signature-dialog"] : [])].map((f) => path.join(ROUTES_DIR, `${f}.tsx`));
  // A route's intent schemas may live in the shared schema modules it imports (app/schemas).
  const own = fs.readFileSync(files[0]!, "utf8");
  for (const m of own.matchAll(/from "~\/schemas\/([a-z-]+)"/g)) files.push(path.join(ROUTES_DIR, "..", "schemas", `${m[1]}.ts`));
  // …and in the schema modules those import or re-export (e.g. the discussion's, ADR 030).
  for (const f of files.filter((file) => file.includes(`${path.sep}schemas${path.sep}`))) {
    for (const m of fs.readFileSync(f, "utf8").matchAll(/from "\.\/([a-z-]+)"/g)) files.push(path.join(ROUTES_DIR, "..", "schemas", `${m[1]}.ts`));
  }
  const source = files.map((f) => fs.readFileSync(f, "utf8")).join("\n");
  const named = [...source.matchAll(/intent: z\.literal\("([a-z_-]+)"\)|intent === "([a-z_-]+)"/g)].map((m) => m[1] ?? m[2]!);
  return ["", ...new Set(named)];
}
const POLLUTING = [
  "__proto__.reason",
  "__proto__[waiver]",
  "__proto__.username",
  "[__proto__][password]",
  "constructor.prototype.reason",
  "grants[0].__proto__.role",
  "changes[0].__proto__.kind",
  "prototype",
];

type Who = Role | "anonymous";
const WHO: Who[] = ["anonymous", ...ROLES];

let database: Database;
let changeRequest = "";
let keysDir = "";
const cookies = new Map<Who, string>();
let approvedForRelease = "";
let remy: Signer;

/** The fields a legitimate form of any action might carry, with real credentials and a real analysis. */
let plausible: [string, string][] = [];

function actionRoutes(): string[] {
  return fs
    .readdirSync(ROUTES_DIR)
    .filter((f) => /\.tsx?$/.test(f) && /export async function action\b/.test(fs.readFileSync(path.join(ROUTES_DIR, f), "utf8")))
    .map((f) => f.replace(/\.tsx?$/, ""));
}

function paramsOf(route: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (route.includes("$number")) params.number = changeRequest;
  if (route.includes("$username")) params.username = "vera.viewer";
  return params;
}

function urlOf(route: string, params: Record<string, string>): string {
  const pathname = route
    .replace(/\$(\w+)/g, (_, p: string) => params[p] ?? p)
    .replace(/\._index$/, "")
    .replaceAll(".", "/");
  return `http://127.0.0.1/${pathname}`;
}

type Body = { kind: "urlencoded"; raw: string } | { kind: "multipart"; pairs: [string, string][] };

const urlencoded = (pairs: [string, string][]): Body => ({ kind: "urlencoded", raw: new URLSearchParams(pairs).toString() });

/** The usual hostile forms besides the polluting names; each also carries the marker somewhere. */
function usualHostileBodies(intent: string): { label: string; body: Body }[] {
  const base: [string, string][] = [["intent", intent], ...plausible];
  return [
    { label: "oversize value", body: urlencoded([...base, ["reason", MARKER.repeat(20_000)], ["comment", MARKER.repeat(20_000)]]) },
    { label: "oversize name", body: urlencoded([...base, [MARKER + "x".repeat(10_000), "1"]]) },
    {
      label: "duplicate names",
      body: urlencoded([...base, ["intent", intent], ["password", MARKER], ["username", MARKER], ["reason", MARKER], ["comment", MARKER]]),
    },
    { label: "deeply nested name", body: urlencoded([...base, [`reason${"[0]".repeat(50)}`, MARKER]]) },
    { label: "huge array index", body: urlencoded([...base, ["changes[999999999].kind", MARKER], ["grants[4294967295].role", MARKER]]) },
    { label: "contradictory names", body: urlencoded([...base, ["reason.text", MARKER], ["changes", MARKER], ["changes[0].kind", MARKER]]) },
    { label: "unknown name", body: urlencoded([...base, ["waiverOverride", MARKER]]) },
    // Raw bytes that are not UTF-8, in a name and in a value.
    {
      label: "non-UTF-8",
      body: {
        kind: "urlencoded",
        raw: `${new URLSearchParams(base).toString()}&%FF%FE${encodeURIComponent(MARKER)}=%C3%28&reason=%ED%A0%80${encodeURIComponent(MARKER)}`,
      },
    },
    { label: "multipart polluting", body: { kind: "multipart", pairs: [...base, ["__proto__.reason", MARKER], ["constructor.prototype.waiver", MARKER]] } },
  ];
}

async function post(route: string, who: Who, body: Body): Promise<number> {
  const module = (await import(`../../app/routes/${route}.tsx`)) as { action: (args: ActionFunctionArgs) => Promise<unknown> };
  const params = paramsOf(route);
  const headers = new Headers();
  const cookie = cookies.get(who);
  if (cookie) headers.set("Cookie", `${SESSION_COOKIE}=${cookie}`);
  let payload: BodyInit;
  if (body.kind === "urlencoded") {
    headers.set("Content-Type", "application/x-www-form-urlencoded");
    payload = body.raw;
  } else {
    const form = new FormData();
    for (const [k, v] of body.pairs) form.append(k, v);
    payload = form;
  }
  const request = new Request(urlOf(route, params), { method: "POST", headers, body: payload });
  try {
    const result = await module.action({ request, params, context: {} });
    if (result instanceof Response) return result.status;
    return (result as { init?: { status?: number } } | null)?.init?.status ?? 200;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status;
    const status = (thrown as { init?: { status?: number } } | null)?.init?.status;
    if (status) return status;
    // Anything else would be a 500: report it with what caused it.
    throw new Error(`${route} as ${who} threw ${(thrown as Error)?.stack ?? String(thrown)}`);
  }
}

/** Everything a form could change: the audit trail (every write lands in it) and the tables forms write. */
async function fingerprint() {
  const [row] = await database.client`
    select (select coalesce(max(seq), 0) from audit_trail)::text as audit,
           (select count(*) from change_requests)::text as requests,
           (select coalesce(sum(row_version), 0) from change_requests)::text as request_versions,
           (select count(*) from rule_set_versions)::text as versions,
           (select count(*) from users)::text as users,
           (select count(*) from sessions)::text as sessions`;
  return row;
}

async function auditRowsWithMarker(): Promise<number> {
  const [row] = await database.client`
    select count(*)::int as n from audit_trail
    where position(${MARKER} in concat_ws(' ', actor, action, entity_id, reason, before::text, after::text)) > 0`;
  return row!.n as number;
}

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  keysDir = await tempKeysDir();
  process.env.C981_SIGNING_KEYS_DIR = keysDir;
  const keyRing = await ensureKeyRing(database.db, keysDir);
  await seedDemoPlant(database.db, keyRing);

  const emil = await signedInPerson(database, "fuzz.engineer", ["engineer"], PASSWORD);
  const quinn = await signedInPerson(database, "fuzz.quality", ["quality_reviewer"], PASSWORD);
  remy = await signedInPerson(database, "fuzz.release", ["release_manager"], PASSWORD);
  const rowVersion = async (number: string) =>
    (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
  const propose = async (title: string, material: string) => {
    const { number } = await createChangeRequest(database.db, emil, {
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
    await submitChangeRequest(database.db, emil, number, await rowVersion(number));
    return number;
  };
  // One in review (the fuzz target: a real analysis hash and row version make plausible forms).
  changeRequest = await propose("Serialize ASM-1004 at EIN", "ASM-1004");
  // One approved, released at the end through the route.
  approvedForRelease = await propose("Serialize ASM-1005 at EIN", "ASM-1005");
  const signed = await signChangeRequest(database.db, quinn, approvedForRelease, {
    meaning: "approved",
    role: "quality_reviewer",
    username: "fuzz.quality",
    password: PASSWORD,
    rowVersion: await rowVersion(approvedForRelease),
    ...(await reviewed(database.db, approvedForRelease)),
  });
  if (!signed.ok || signed.status !== "approved") throw new Error("setup: not approved");

  for (const role of ROLES) {
    const username = `fuzz.${role.replaceAll("_", "-")}.all`;
    await createUser(
      database.db,
      "test",
      { username, displayName: username, password: PASSWORD, grants: [{ role, site: null }], reason: "hostile forms" },
      "fixture",
    );
    const session = await signIn(database.db, { username, password: PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error(`cannot sign in ${username}`);
    cookies.set(role, session.sessionId);
  }
  plausible = [
    ["username", "ada.admin"],
    ["password", DEMO_PASSWORD],
    ["meaning", "approved"],
    ["role", "quality_reviewer"],
    ["rowVersion", String(await rowVersion(changeRequest))],
    ["analysisHash", await analysed(database.db, changeRequest)],
    ["comment", "looks fine"],
    ["site", "EIN"],
    ["changeRequests", approvedForRelease],
    ["name", "fuzz-line"],
    ["sites", "EIN"],
    ["grant.role", "admin"],
    ["reason", "a plausible reason"],
  ];
}, 180_000);

afterAll(() => {
  delete process.env.C981_SIGNING_KEYS_DIR;
});

describe("hostile forms on every action", () => {
  it("the fuzz covers every route module with an action", () => {
    const routes = actionRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(routes).toContain("sign-in");
    expect(routes).toContain("releases._index");
    expect(intentsOf("change-requests.$number")).toEqual(expect.arrayContaining(["sign", "submit", "comment", "reply", "resolve", "reopen", "analyse"]));
    expect(intentsOf("releases._index")).toContain("release");
  });

  for (const who of WHO) {
    it(`polluting field names from ${who}: no 500, nothing changed, no injected text anywhere`, async () => {
      const before = await fingerprint();
      const statuses = new Map<number, number>();
      for (const route of actionRoutes().filter((r) => !NO_FORM.has(r))) {
        for (const intent of intentsOf(route)) {
          for (const name of POLLUTING) {
            const status = await post(route, who, urlencoded([["intent", intent], ...plausible, [name, MARKER]]));
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            expect(status, `${route} intent=${intent} ${name} as ${who}`).not.toBe(500);
            expect(status, `${route} intent=${intent} ${name} as ${who}`).toBeLessThan(500);
            expect([200, 201, 204].includes(status), `${route} intent=${intent} ${name} as ${who} was accepted (${status})`).toBe(false);
          }
        }
      }
      expect(await fingerprint()).toEqual(before);
      expect(await auditRowsWithMarker()).toBe(0);
      for (const key of ["reason", "waiver", "username", "password", "role", "kind"]) expect(Object.prototype, key).not.toHaveProperty(key);
      // A signed-in role's refusals are 400 (the form) or 403/404 (authority); a stranger's, 302 to sign-in or 400.
      if (who !== "anonymous") expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    }, 120_000);

    it(`the usual hostile forms from ${who}: no 500, nothing changed, no injected text anywhere`, async () => {
      const before = await fingerprint();
      for (const route of actionRoutes().filter((r) => !NO_FORM.has(r))) {
        for (const intent of intentsOf(route)) {
          for (const { label, body } of usualHostileBodies(intent)) {
            const status = await post(route, who, body);
            expect(status, `${route} intent=${intent} ${label} as ${who}`).toBeLessThan(500);
            expect([200, 201, 204].includes(status), `${route} intent=${intent} ${label} as ${who} was accepted (${status})`).toBe(false);
          }
        }
      }
      expect(await fingerprint()).toEqual(before);
      expect(await auditRowsWithMarker()).toBe(0);
    }, 120_000);
  }

  it("afterwards, in the same process, a normal sign-in and a normal release work, and their audit rows carry only their own text", async () => {
    const signInRoute = "sign-in";
    const seqBefore = Number((await fingerprint())!.audit);
    const signInStatus = await post(
      signInRoute,
      "anonymous",
      urlencoded([
        ["username", "ada.admin"],
        ["password", DEMO_PASSWORD],
        ["redirectTo", "/"],
      ]),
    );
    expect(signInStatus).toBe(302);
    const waiver = "Demo ERP/PLM disagreements are tracked separately (hostile-forms test).";
    const session = await signIn(database.db, { username: "fuzz.release", password: PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    cookies.set("release_manager", session.sessionId);
    const releaseStatus = await post(
      "releases._index",
      "release_manager",
      urlencoded([
        ["intent", "release"],
        ["site", "EIN"],
        ["changeRequests", approvedForRelease],
        ["username", remy.username],
        ["password", PASSWORD],
        ["waiver", waiver],
      ]),
    );
    expect(releaseStatus).toBe(302);
    const [{ status }] = (await database.client`select status from change_requests where number = ${approvedForRelease}`) as unknown as [{ status: string }];
    expect(status).toBe("released");
    const rows = await database.client`select action, reason from audit_trail where seq > ${seqBefore} order by seq`;
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(["session.sign_in"]));
    for (const row of rows) {
      expect(String(row.reason ?? "")).not.toContain(MARKER);
      if (row.action === "session.sign_in") expect(row.reason).toBeNull();
    }
    expect(await auditRowsWithMarker()).toBe(0);
  }, 120_000);
});
