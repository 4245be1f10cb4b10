/**
 * Every route refuses, from the server, a user without the right role or site: each route module's
 * loader and action is called as each role — at all sites and limited to one site — and as an
 * anonymous visitor. The expected answers are written out here, independently of policies/.
 */
import fs from "node:fs";
import path from "node:path";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../../policies/ability";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { createChangeRequest } from "../../app/services/change-requests.server";
import { runImpactAnalysis } from "../../app/services/impact-analysis.server";
import { importEpcisDocument } from "../../app/services/epcis-import.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import { latestEpcisAttemptOf } from "../../app/queries/epcis-imports.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import type { KeyRing } from "../../app/utils/signing.server";

let keyRing: KeyRing;

type Need =
  | { public: true }
  /** Anyone signed in, whatever the role (their own password); an empty form answers 400. */
  | { signedIn: true }
  | {
      read: "Material" | "Site" | "RuleSetVersion" | "TraceItem" | "AuditTrail" | "User" | "ChangeRequest" | "ExternalMaster" | "QualityEvent";
      site?: "EIN" | "CLT";
    }
  | { export: "AuditTrail" }
  /** Administrators at all sites: users, ERP/PLM imports and the system of record. */
  | { write: "User" | "ExternalMaster" }
  /** Propose a change request: engineers, at any scope (an empty form then answers 400). */
  | { propose: true }
  /** Edit someone else's EIN change request: only its author may (403), unseen at CLT (404). */
  | { editOthers: true }
  /** Sign the EIN change request with an empty form: reviewers at all sites get 400, others 403, unseen at CLT 404. */
  | { sign: true }
  /** Run the EIN change request's impact analysis: engineers and reviewers at all sites are redirected (302), others 403, unseen at CLT 404. */
  | { analyse: true }
  /** The release page (release managers at any scope), and a release with an empty form (400 for them). */
  | { release: true }
  /** EPCIS import (create TraceItem): engineers and admins at any scope; an empty form answers 400. */
  | { importEpcis: true }
  /** Contain, disposition or close a quality event with an empty form: quality reviewers at any scope get 400, others 403. */
  | { handleQualityEvent: true }
  /** Import a QMS export (create QualityEvent): engineers and quality / regulatory reviewers at any scope; an empty form answers 400. */
  | { importQms: true };

interface Case {
  route: string;
  label: string;
  params?: Record<string, string>;
  method?: "GET" | "POST";
  body?: Record<string, string>;
  need: Need;
  /** What an anonymous visitor gets. */
  anonymous: number;
  url?: string;
}

let database: Database;
let einItem = "";
let changeRequest = "";
let cltItem = "";
/** The records (audit entry ids) of an EPCIS document imported at EIN and of one refused at CLT. */
let einImport = "";
let cltRefusal = "";
const sessions = new Map<string, string>();
const PASSWORD = "route-guard-password";

function cases(): Case[] {
  return [
    { route: "_index", label: "dashboard", need: { read: "Material" }, anonymous: 302 },
    { route: "materials._index", label: "materials", need: { read: "Material" }, anonymous: 302 },
    { route: "materials.$partNumber", label: "a material", params: { partNumber: "SUB-1005" }, need: { read: "Material" }, anonymous: 302 },
    { route: "sites._index", label: "sites", need: { read: "Site" }, anonymous: 302 },
    { route: "label-templates._index", label: "label templates", need: { read: "Site" }, anonymous: 302 },
    { route: "rule-sets._index", label: "rule sets", need: { read: "RuleSetVersion" }, anonymous: 302 },
    {
      route: "rule-sets.$site.$version",
      label: "an EIN version",
      params: { site: "EIN", version: "1" },
      need: { read: "RuleSetVersion", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "rule-sets.$site.$version",
      label: "a CLT version",
      params: { site: "CLT", version: "1" },
      need: { read: "RuleSetVersion", site: "CLT" },
      anonymous: 302,
    },
    { route: "genealogy.$itemId", label: "an EIN trace item", params: { itemId: einItem }, need: { read: "TraceItem", site: "EIN" }, anonymous: 302 },
    { route: "genealogy.$itemId", label: "a CLT trace item", params: { itemId: cltItem }, need: { read: "TraceItem", site: "CLT" }, anonymous: 302 },
    { route: "genealogy._index", label: "the genealogy search", url: "/genealogy?q=RMERGE00A", need: { read: "TraceItem" }, anonymous: 302 },
    {
      route: "genealogy.$itemId.recall[.]csv",
      label: "an EIN item's recall export",
      params: { itemId: einItem },
      url: `/genealogy/${einItem}/recall.csv`,
      need: { read: "TraceItem", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "genealogy.$itemId.recall[.]csv",
      label: "a CLT item's recall export",
      params: { itemId: cltItem },
      url: `/genealogy/${cltItem}/recall.csv`,
      need: { read: "TraceItem", site: "CLT" },
      anonymous: 302,
    },
    { route: "audit._index", label: "audit trail", need: { read: "AuditTrail" }, anonymous: 302 },
    { route: "audit[.]csv", label: "audit CSV export", url: "/audit.csv", need: { export: "AuditTrail" }, anonymous: 302 },
    { route: "audit.anchors[.]tar", label: "signed audit anchors download", url: "/audit/anchors.tar", need: { export: "AuditTrail" }, anonymous: 302 },
    { route: "users._index", label: "users", need: { read: "User" }, anonymous: 302 },
    {
      route: "users._index",
      label: "create a user",
      method: "POST",
      body: { username: "", displayName: "", password: "", reason: "" },
      need: { write: "User" },
      anonymous: 302,
    },
    { route: "users.$username", label: "a user", params: { username: "vera.viewer" }, need: { read: "User" }, anonymous: 302 },
    {
      route: "users.$username",
      label: "deactivate a user",
      params: { username: "vera.viewer" },
      method: "POST",
      body: { intent: "deactivate", reason: "" },
      need: { write: "User" },
      anonymous: 302,
    },
    { route: "change-requests._index", label: "change requests", need: { read: "ChangeRequest" }, anonymous: 302 },
    { route: "change-requests.new", label: "the new change request form", need: { propose: true }, anonymous: 302 },
    { route: "change-requests.new", label: "propose a change request", method: "POST", body: { title: "" }, need: { propose: true }, anonymous: 302 },
    {
      route: "change-requests.new_.context",
      label: "the rule in force beside a proposed change",
      url: "/change-requests/new/context?material=SUB-1005&site=EIN&format=EIN-SER",
      need: { propose: true },
      anonymous: 302,
    },
    {
      route: "change-requests.$number",
      label: "an EIN change request",
      params: { number: changeRequest },
      need: { read: "ChangeRequest", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "change-requests.$number",
      label: "sign an EIN change request",
      params: { number: changeRequest },
      method: "POST",
      body: { intent: "sign" },
      need: { sign: true },
      anonymous: 302,
    },
    {
      route: "change-requests.$number",
      label: "analyse an EIN change request",
      params: { number: changeRequest },
      method: "POST",
      body: { intent: "analyse" },
      need: { analyse: true },
      anonymous: 302,
    },
    {
      route: "change-requests.$number.analysis[.]json",
      label: "an EIN change request's impact analysis (JSON)",
      params: { number: changeRequest },
      url: `/change-requests/${changeRequest}/analysis.json`,
      need: { read: "ChangeRequest", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "change-requests.$number.analysis[.]csv",
      label: "an EIN change request's impact analysis (CSV)",
      params: { number: changeRequest },
      url: `/change-requests/${changeRequest}/analysis.csv`,
      need: { read: "ChangeRequest", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "change-requests.$number.edit",
      label: "edit someone else's change request",
      params: { number: changeRequest },
      need: { editOthers: true },
      anonymous: 302,
    },
    {
      route: "change-requests.$number.record",
      label: "a change request's printable record",
      params: { number: changeRequest },
      need: { read: "ChangeRequest", site: "EIN" },
      anonymous: 302,
    },
    { route: "releases._index", label: "the release page", need: { release: true }, anonymous: 302 },
    { route: "releases._index", label: "release with an empty form", method: "POST", body: { intent: "release" }, need: { release: true }, anonymous: 302 },
    { route: "runtime-clients._index", label: "runtime clients", need: { read: "User" }, anonymous: 302 },
    { route: "runtime-clients._index", label: "create a runtime client", method: "POST", body: { intent: "create" }, need: { write: "User" }, anonymous: 302 },
    { route: "keys._index", label: "signing keys", need: { read: "User" }, anonymous: 302 },
    {
      route: "rule-sets.$site.compare",
      label: "compare EIN versions",
      params: { site: "EIN" },
      url: "/rule-sets/EIN/compare?from=1&to=2",
      need: { read: "RuleSetVersion", site: "EIN" },
      anonymous: 302,
    },
    { route: "imports.epcis", label: "the EPCIS import page", need: { importEpcis: true }, anonymous: 302 },
    { route: "imports.epcis", label: "import with an empty form", method: "POST", body: { intent: "import" }, need: { importEpcis: true }, anonymous: 302 },
    {
      route: "imports.epcis_.$id",
      label: "the record of an EPCIS import at EIN",
      params: { id: einImport },
      url: `/imports/epcis/${einImport}`,
      need: { read: "TraceItem", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "imports.epcis_.$id",
      label: "the record of an EPCIS document refused at CLT",
      params: { id: cltRefusal },
      url: `/imports/epcis/${cltRefusal}`,
      need: { read: "TraceItem", site: "CLT" },
      anonymous: 302,
    },
    { route: "external-masters._index", label: "ERP/PLM snapshots", need: { read: "ExternalMaster" }, anonymous: 302 },
    {
      route: "external-masters._index",
      label: "import a snapshot with an empty form",
      method: "POST",
      body: { system: "erp" },
      need: { write: "ExternalMaster" },
      anonymous: 302,
    },
    { route: "quality-events.import", label: "the QMS export import page", need: { importQms: true }, anonymous: 302 },
    { route: "quality-events.new", label: "the raise-a-quality-event form", need: { importQms: true }, anonymous: 302 },
    { route: "quality-events.new", label: "raise a quality event with an empty form", method: "POST", body: {}, need: { importQms: true }, anonymous: 302 },
    { route: "quality-events.import", label: "import a QMS export with an empty form", method: "POST", body: {}, need: { importQms: true }, anonymous: 302 },
    { route: "reconciliation._index", label: "the reconciliation report", need: { read: "ExternalMaster" }, anonymous: 302 },
    {
      route: "reconciliation._index",
      label: "set the system of record with an empty form",
      method: "POST",
      body: { identifierType: "" },
      need: { write: "ExternalMaster" },
      anonymous: 302,
    },
    { route: "reconciliation[.]csv", label: "the reconciliation CSV export", url: "/reconciliation.csv", need: { read: "ExternalMaster" }, anonymous: 302 },
    { route: "traceability._index", label: "the traceability justification sites", need: { read: "RuleSetVersion" }, anonymous: 302 },
    {
      route: "traceability.$site",
      label: "EIN's traceability justification",
      params: { site: "EIN" },
      need: { read: "RuleSetVersion", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "traceability.$site",
      label: "CLT's traceability justification",
      params: { site: "CLT" },
      need: { read: "RuleSetVersion", site: "CLT" },
      anonymous: 302,
    },
    {
      route: "traceability.$site_.justification[.]csv",
      label: "EIN's traceability justification CSV",
      params: { site: "EIN" },
      url: "/traceability/EIN/justification.csv",
      need: { read: "RuleSetVersion", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "traceability.$site_.print",
      label: "EIN's printable traceability justification",
      params: { site: "EIN" },
      url: "/traceability/EIN/print",
      need: { read: "RuleSetVersion", site: "EIN" },
      anonymous: 302,
    },
    { route: "quality-events._index", label: "the quality events", need: { read: "QualityEvent" }, anonymous: 302 },
    {
      // QE-0001: the demo plant's nonconformance on a legacy lot at EIN (app/seed/demo-quality-events.ts).
      route: "quality-events.$number",
      label: "a quality event at EIN",
      params: { number: "QE-0001" },
      url: "/quality-events/QE-0001",
      need: { read: "QualityEvent", site: "EIN" },
      anonymous: 302,
    },
    {
      route: "quality-events.$number",
      label: "record a quality event's status with an empty form",
      params: { number: "QE-0001" },
      url: "/quality-events/QE-0001",
      method: "POST",
      body: { status: "" },
      need: { handleQualityEvent: true },
      anonymous: 302,
    },
    { route: "sign-in", label: "the sign-in page", need: { public: true }, anonymous: 200 },
    { route: "account.password", label: "the change-password page", need: { signedIn: true }, anonymous: 302 },
    {
      route: "account.password",
      label: "change the password with an empty form",
      method: "POST",
      body: { currentPassword: "" },
      need: { signedIn: true },
      anonymous: 302,
    },
    { route: "inbox", label: "the inbox", need: { signedIn: true }, anonymous: 302 },
    {
      route: "inbox",
      label: "mark a notification read with an empty form",
      method: "POST",
      body: { intent: "read" },
      need: { signedIn: true },
      anonymous: 302,
    },
    { route: "account.notifications", label: "the notification settings", need: { signedIn: true }, anonymous: 302 },
    {
      route: "account.notifications",
      label: "save notification settings with an invalid address",
      method: "POST",
      body: { email: "not an address" },
      need: { signedIn: true },
      anonymous: 302,
    },
    {
      route: "_index",
      label: "acknowledge a security alert with an empty form",
      method: "POST",
      body: { intent: "acknowledge" },
      need: { write: "User" },
      anonymous: 302,
    },
    { route: "$", label: "an unknown address", params: { "*": "no/such/page" }, need: { public: true }, anonymous: 404 },
  ];
}
/** Route modules with no loader or action worth a row (sign-out only ends the caller's own session). */
const NOT_GUARDED_BY_DESIGN = new Set(["sign-out"]);

type Who = { role: Role; site: "all" | "CLT" } | "anonymous";

function expected(who: Who, c: Case): number {
  if (who === "anonymous") return c.anonymous;
  const n = c.need;
  if ("public" in n) return c.route === "sign-in" ? 302 : c.anonymous; // signed in: sign-in redirects home
  if ("signedIn" in n) return c.method === "POST" ? 400 : 200;
  const auditRoles: Role[] = ["quality_reviewer", "regulatory_reviewer", "admin"];
  if ("read" in n) {
    if (n.read === "AuditTrail") return auditRoles.includes(who.role) && who.site === "all" ? 200 : 403;
    if (n.read === "User") return who.role === "admin" && who.site === "all" ? 200 : 403;
    if (n.site && who.site !== "all" && n.site !== who.site) return 404;
    return 200;
  }
  if ("export" in n) return auditRoles.includes(who.role) && who.site === "all" ? 200 : 403;
  if ("propose" in n) return who.role === "engineer" ? (c.method === "POST" ? 400 : 200) : 403;
  if ("editOthers" in n) return who.site === "CLT" ? 404 : 403;
  if ("importEpcis" in n) return who.role === "engineer" || who.role === "admin" ? (c.method === "POST" ? 400 : 200) : 403;
  if ("importQms" in n) return (["engineer", "quality_reviewer", "regulatory_reviewer"] as Role[]).includes(who.role) ? (c.method === "POST" ? 400 : 200) : 403;
  if ("release" in n) return who.role === "release_manager" ? (c.method === "POST" ? 400 : 200) : 403;
  if ("analyse" in n) {
    if (who.site === "CLT") return 404;
    return (["engineer", "quality_reviewer", "regulatory_reviewer"] as Role[]).includes(who.role) ? 302 : 403;
  }
  if ("handleQualityEvent" in n) return who.role === "quality_reviewer" ? 400 : 403;
  if ("sign" in n) {
    if (who.site === "CLT") return 404;
    return who.role === "quality_reviewer" || who.role === "regulatory_reviewer" ? 400 : 403;
  }
  // Writes by an admin with an empty form are refused as invalid (400), never forbidden.
  return who.role === "admin" && who.site === "all" ? 400 : 403;
}

async function statusOf(c: Case, cookie: string | null): Promise<number> {
  const module = (await import(`../../app/routes/${c.route}.tsx`)) as {
    loader?: (args: LoaderFunctionArgs) => Promise<unknown>;
    action?: (args: ActionFunctionArgs) => Promise<unknown>;
  };
  const url = `http://127.0.0.1${c.url ?? "/" + c.route.replace(/\$(\w+)/g, (_, p: string) => c.params?.[p] ?? p).replaceAll(".", "/")}`;
  const headers = new Headers(cookie ? { Cookie: `${SESSION_COOKIE}=${cookie}` } : {});
  const request = c.method === "POST" ? new Request(url, { method: "POST", headers, body: new URLSearchParams(c.body ?? {}) }) : new Request(url, { headers });
  const fn = c.method === "POST" ? module.action : module.loader;
  if (!fn) throw new Error(`${c.route} has no ${c.method === "POST" ? "action" : "loader"}`);
  try {
    const result = await fn({ request, params: c.params ?? {}, context: {} });
    if (result instanceof Response) return result.status;
    const init = (result as { init?: { status?: number } } | null)?.init;
    return init?.status ?? 200;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status;
    const init = (thrown as { init?: { status?: number } } | null)?.init;
    if (init?.status) return init.status;
    throw thrown;
  }
}

const WHO: Who[] = [
  "anonymous",
  ...ROLES.flatMap((role) => [
    { role, site: "all" as const },
    { role, site: "CLT" as const },
  ]),
];
const whoName = (who: Who) => (who === "anonymous" ? "anonymous" : `${who.role}@${who.site}`);

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const [ein] = await database.client`select t.id from trace_items t join sites s on s.id = t.site_id where s.code = 'EIN' limit 1`;
  const [clt] = await database.client`select t.id from trace_items t join sites s on s.id = t.site_id where s.code = 'CLT' limit 1`;
  einItem = String(ein!.id);
  cltItem = String(clt!.id);
  const [author] = await database.client`select id, username, display_name from users where username = 'emil.engineer'`;
  ({ number: changeRequest } = await createChangeRequest(
    database.db,
    { id: author!.id as number, username: "emil.engineer", displayName: "Emil" },
    {
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
    },
  ));
  const fixtures = path.resolve(import.meta.dirname, "../fixtures");
  const attempt = async (site: string, file: string, outcome: "imported" | "refused") => {
    const result = await importEpcisDocument(database.db, "fixture", { fileName: path.basename(file), siteCode: site, source: fileSource(file) });
    if (result.ok !== (outcome === "imported")) throw new Error(`${file} at ${site} was not ${outcome}`);
    return String(await latestEpcisAttemptOf(database.db, result.fileDigest, outcome));
  };
  einImport = await attempt("EIN", path.join(fixtures, "epcis-quarantine/quarantine-release.json"), "imported");
  cltRefusal = await attempt("CLT", path.join(fixtures, "epcis-screen/refused-bad-action.json"), "refused");
  // Its impact analysis exists, so that the export routes answer 200 to those who may read it.
  await runImpactAnalysis(database.db, { username: "emil.engineer" }, changeRequest);
  for (const who of WHO) {
    if (who === "anonymous") continue;
    const username = `${who.role.replaceAll("_", "-")}.${who.site.toLowerCase()}`;
    await createUser(
      database.db,
      "test",
      {
        username,
        displayName: username,
        password: PASSWORD,
        grants: [{ role: who.role, site: who.site === "all" ? null : who.site }],
        reason: "route guard matrix",
      },
      "fixture",
    );
    const session = await signIn(database.db, { username, password: PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error(`cannot sign in ${username}`);
    sessions.set(whoName(who), session.sessionId);
  }
}, 120_000);

describe("route guards", () => {
  it("cover every route module", () => {
    const files = fs.readdirSync(path.resolve(import.meta.dirname, "../../app/routes")).map((f) => f.replace(/\.tsx?$/, ""));
    const covered = new Set([...cases().map((c) => c.route), ...NOT_GUARDED_BY_DESIGN]);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  for (const who of WHO) {
    it(`answer ${whoName(who)} as expected on every route`, async () => {
      const cookie = who === "anonymous" ? null : sessions.get(whoName(who))!;
      const got: Record<string, number> = {};
      const want: Record<string, number> = {};
      for (const c of cases()) {
        const key = `${c.method ?? "GET"} ${c.label}`;
        got[key] = await statusOf(c, cookie);
        want[key] = expected(who, c);
      }
      expect(got).toEqual(want);
    }, 60_000);
  }
});
