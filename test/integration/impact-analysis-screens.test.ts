/**
 * The impact analysis on the change-request page and its exports, through the route modules as the
 * browser reaches them: the `analyse` intent, the page's view of the latest analysis and its
 * currency, the JSON export (the stored bytes, hashing to the stored SHA-256) and the CSV export
 * (one row per finding), both audited; a signature with an analysis that is no longer the latest
 * is refused on the `analysisHash` field. (Who may reach these routes: route-guards.test.ts.)
 */
import { createHash } from "node:crypto";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { ANALYSIS_CSV_COLUMNS, analysisCsv } from "../../app/queries/impact-analysis.server";
import { changeRequestHead } from "../../app/queries/change-requests.server";
import { DEMO_PASSWORD } from "../../app/seed/seed.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createChangeRequest, submitChangeRequest, type Person } from "../../app/services/change-requests.server";
import type { AnalysisReport } from "../../app/domain/impact-analysis";
import { signIn } from "../../app/services/sessions.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import * as page from "../../app/routes/change-requests.$number";
import * as jsonExport from "../../app/routes/change-requests.$number.analysis[.]json";
import * as csvExport from "../../app/routes/change-requests.$number.analysis[.]csv";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let engineer: Person;
const cookies = new Map<string, string>();
const sha256 = (bytes: string | Uint8Array) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const [row] = await database.client`select id, username, display_name from users where username = 'emil.engineer'`;
  engineer = { id: row!.id as number, username: row!.username as string, displayName: row!.display_name as string } as Person;
  for (const username of ["emil.engineer", "quinn.quality", "vera.viewer"]) {
    const session = await signIn(database.db, { username, password: DEMO_PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error(`cannot sign in ${username}`);
    cookies.set(username, session.sessionId);
  }
}, 120_000);

const headers = (username: string) => new Headers({ Cookie: `${SESSION_COOKIE}=${cookies.get(username)!}` });
const url = (path: string) => `http://127.0.0.1${path}`;

async function propose(material: string, site: string, trackingMode: string, formats: string[], consumptionScan: string): Promise<string> {
  const { number } = await createChangeRequest(database.db, engineer, {
    title: `${material} at ${site} to ${trackingMode}`,
    justification: "impact analysis screens test",
    riskAssessment: "impact analysis screens test",
    legacyDataPlan: "grandfather",
    changes: [{ kind: "tracking", material, sites: [site], trackingMode, containerTracking: false, identifierFormatCodes: formats, consumptionScan }],
  });
  return number;
}

/** A route's loader or action as Remix calls it; thrown responses (redirects, 4xx) are returned. */
async function call(fn: ((args: LoaderFunctionArgs & ActionFunctionArgs) => Promise<unknown>) | undefined, request: Request, number: string) {
  try {
    return await fn!({ request, params: { number }, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

const post = (number: string, username: string, form: Record<string, string | string[]>) =>
  call(
    page.action as never,
    new Request(url(`/change-requests/${number}`), {
      method: "POST",
      headers: headers(username),
      body: new URLSearchParams(Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))),
    }),
    number,
  );
const get = (module: { loader: unknown }, path: string, number: string, username: string) =>
  call(module.loader as never, new Request(url(path), { headers: headers(username) }), number) as Promise<Response>;
const pageView = async (number: string, username: string) =>
  (await call(page.loader as never, new Request(url(`/change-requests/${number}`), { headers: headers(username) }), number)) as Awaited<
    ReturnType<typeof page.loader>
  >;

async function exportRows(number: string) {
  return database.client<{ actor: string; after: { analysisId: number; sha256: string; format: string } }[]>`
    select actor, after from audit_trail where action = 'impact_analysis.export' and entity_id = ${number} order by seq`;
}

/** RFC 4180 records (quoted fields with doubled quotes, CRLF line ends). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") record.push(field), records.push(record), (record = []), (field = ""), i++;
    else field += c;
  }
  expect(field).toBe("");
  return records;
}

describe("the impact analysis on the change-request page", () => {
  it("runs from the page, shows the latest analysis as current, and exports its stored bytes and its findings (audited)", async () => {
    const number = await propose("SUB-1008", "EIN", "lot", ["EIN-LOT"], "verify");

    // Nothing to export or sign with yet.
    expect((await get(jsonExport, `/change-requests/${number}/analysis.json`, number, "vera.viewer")).status).toBe(404);
    expect((await get(csvExport, `/change-requests/${number}/analysis.csv`, number, "vera.viewer")).status).toBe(404);
    const before = await pageView(number, "emil.engineer");
    expect(before.analysis).toEqual({ latest: null, current: false, staleReason: "No impact analysis has been run for it yet.", asSigned: null });
    expect(before.canAnalyse).toBe(true);
    // A viewer sees the section but may not run it, and the server refuses the intent.
    expect((await pageView(number, "vera.viewer")).canAnalyse).toBe(false);
    expect(((await post(number, "vera.viewer", { intent: "analyse" })) as Response).status).toBe(403);

    const ran = (await post(number, "emil.engineer", { intent: "analyse" })) as Response;
    expect(ran.status).toBe(302);
    expect(ran.headers.get("Location")).toBe(`/change-requests/${number}?done=analyse`);
    const view = (await pageView(number, "vera.viewer")).analysis;
    expect(view.current).toBe(true);
    expect(view.staleReason).toBeNull();
    const latest = view.latest!;
    expect(latest.createdBy).toBe("emil.engineer");
    expect(latest.report.summary.critical).toBeGreaterThan(0);
    expect(latest.report.changes[0]!.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(["PRECISION_LOSS", "LABELS", "SCAN_STEPS", "ERP_PLM_DISAGREEMENT", "REACH"]),
    );
    const [stored] = await database.client<{ sha256: string; report: string }[]>`
      select a.sha256, a.report from impact_analyses a join change_requests c on c.id = a.change_request_id where c.number = ${number} order by a.id desc limit 1`;
    expect(latest.sha256).toBe(stored!.sha256);

    const json = await get(jsonExport, `/change-requests/${number}/analysis.json`, number, "vera.viewer");
    expect(json.status).toBe(200);
    expect(json.headers.get("Content-Type")).toBe("application/json");
    expect(json.headers.get("Content-Disposition")).toBe(`attachment; filename="c981-${number}-impact-analysis-${stored!.sha256.slice(0, 12)}.json"`);
    expect(json.headers.get("Cache-Control")).toBe("private, no-store");
    const bytes = new Uint8Array(await json.arrayBuffer());
    // The very bytes stored — and signed with: they hash to the stored SHA-256, as the header says.
    expect(new TextDecoder().decode(bytes)).toBe(stored!.report);
    expect(sha256(bytes)).toBe(stored!.sha256);
    expect(json.headers.get("Repr-Digest")).toBe(`sha-256=:${createHash("sha256").update(bytes).digest("base64")}:`);
    expect(json.headers.get("ETag")).toBe(`"${stored!.sha256}"`);
    expect((JSON.parse(stored!.report) as AnalysisReport).changeRequest.number).toBe(number);

    const csv = await get(csvExport, `/change-requests/${number}/analysis.csv`, number, "vera.viewer");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("Content-Disposition")).toMatch(new RegExp(`^attachment; filename="c981-${number}-impact-analysis-[0-9a-f]{12}\\.csv"$`));
    const records = parseCsv(await csv.text());
    expect(records[0]).toEqual([...ANALYSIS_CSV_COLUMNS]);
    const report = latest.report;
    const findings = [...report.changes.flatMap((c) => c.findings.map((f) => ({ c, f }))), ...report.findings.map((f) => ({ c: null, f }))];
    expect(records.slice(1)).toEqual(
      findings.map(({ c, f }) => [
        number,
        stored!.sha256,
        String(report.dataPoint.auditSeq),
        report.dataPoint.at,
        c?.partNumber ?? "",
        c?.site ?? "",
        c?.from ?? "",
        c?.to ?? "",
        f.code,
        f.severity,
        f.message,
        String(f.count),
        f.sample.join(" "),
      ]),
    );
    expect(records.find((r) => r[8] === "PRECISION_LOSS")).toMatchObject({ 4: "SUB-1008", 5: "EIN", 6: "serial", 7: "lot", 9: "critical" });

    // Each copy is on the audit trail, naming the analysis and the format.
    expect((await exportRows(number)).map((r) => ({ actor: r.actor, format: r.after.format, sha256: r.after.sha256 }))).toEqual([
      { actor: "vera.viewer", format: "json", sha256: stored!.sha256 },
      { actor: "vera.viewer", format: "csv", sha256: stored!.sha256 },
    ]);
  });

  it("guards CSV cells a spreadsheet would run as formulas and quotes commas, quotes and line breaks", () => {
    const report = {
      changeRequest: { number: "CR-9999", revision: 1, contentHash: "0".repeat(64) },
      dataPoint: { auditSeq: 7, at: "2026-01-01T00:00:00.000Z" },
      changes: [
        {
          partNumber: "=HYPERLINK(1)",
          site: "EIN",
          from: "serial",
          to: "lot",
          effect: "downgrade",
          findings: [{ code: "LABELS", severity: "warning", message: 'a "quoted", message\nover two lines', count: 2, sample: ["@SUM(A1)", "+1"] }],
        },
      ],
      findings: [{ code: "DISTRIBUTION", severity: "info", message: "-1 site", count: 0, sample: [] }],
    } as unknown as AnalysisReport;
    const records = parseCsv(analysisCsv(report, "f".repeat(64)));
    expect(records[1]!.slice(4)).toEqual([
      "'=HYPERLINK(1)",
      "EIN",
      "serial",
      "lot",
      "LABELS",
      "warning",
      'a "quoted", message\nover two lines',
      "2",
      "'@SUM(A1) +1",
    ]);
    expect(records[2]!.slice(4)).toEqual(["", "", "", "", "DISTRIBUTION", "info", "'-1 site", "0", ""]);
  });

  it("refuses a signature with an analysis that is no longer the latest, on the analysisHash field", async () => {
    const number = await propose("ASM-1001", "EIN", "serial", ["EIN-SER"], "identify");
    const head = await changeRequestHead(database.db, number);
    await submitChangeRequest(database.db, engineer, number, head!.rowVersion);
    // A reviewer may run the analysis too (they sign at every site of it).
    expect(((await post(number, "quinn.quality", { intent: "analyse" })) as Response).status).toBe(302);
    const seen = (await pageView(number, "quinn.quality")).analysis.latest!.sha256;
    // Another analysis lands after the reviewer's page was loaded (a later data point: another hash).
    expect(((await post(number, "emil.engineer", { intent: "analyse" })) as Response).status).toBe(302);
    const view = await pageView(number, "quinn.quality");
    expect(view.analysis.latest!.sha256).not.toBe(seen);
    expect(view.signRoles).toContain("quality_reviewer");

    const rowVersion = String((await changeRequestHead(database.db, number))!.rowVersion);
    const sign = { intent: "sign", meaning: "approved", role: "quality_reviewer", username: "quinn.quality", password: DEMO_PASSWORD, comment: "", rowVersion };
    const refused = (await post(number, "quinn.quality", { ...sign, analysisHash: seen })) as {
      data: { fieldErrors: Record<string, string[]>; conflict: string | null };
      init: { status: number };
    };
    expect(refused.init.status).toBe(409);
    expect(refused.data.fieldErrors.analysisHash).toEqual(["A newer impact analysis exists than the one on your page: review it, then sign."]);
    // Without a hash (the dialog sends an empty one when nothing may be signed with) the form itself is refused on the same field.
    const missing = (await post(number, "quinn.quality", { ...sign, analysisHash: "" })) as {
      data: { fieldErrors: Record<string, string[]> };
      init: { status: number };
    };
    expect(missing.init.status).toBe(400);
    expect(missing.data.fieldErrors.analysisHash).toEqual(["Run the impact analysis and review it before you sign"]);

    // The dialog lists the critical and warning findings of that analysis (hand-checked against the stored report); approving without them is refused, naming them.
    const oracle = [...view.analysis.latest!.report.changes.flatMap((c) => c.findings), ...view.analysis.latest!.report.findings].filter(
      (f) => f.severity !== "info",
    );
    expect(view.findingsToAcknowledge.map((f) => f.code).sort()).toEqual(oracle.map((f) => f.code).sort());
    expect(oracle.length).toBeGreaterThan(0);
    const unacknowledged = (await post(number, "quinn.quality", { ...sign, analysisHash: view.analysis.latest!.sha256 })) as {
      data: { fieldErrors: Record<string, string[]> };
      init: { status: number };
    };
    expect(unacknowledged.init.status).toBe(400);
    for (const f of oracle) expect(unacknowledged.data.fieldErrors.acknowledged![0]).toContain(f.code);
    const signed = (await post(number, "quinn.quality", {
      ...sign,
      analysisHash: view.analysis.latest!.sha256,
      acknowledged: view.findingsToAcknowledge.map((f) => f.key),
    })) as Response;
    expect(signed.status).toBe(302);
    const after = await pageView(number, "vera.viewer");
    expect(after.signatures.map((s) => s.analysisHash)).toEqual([view.analysis.latest!.sha256]);
    // Decided: no further runs are offered, and the server refuses one.
    expect(after.cr.status).toBe("approved");
    expect(after.canAnalyse).toBe(false);
    const late = (await post(number, "emil.engineer", { intent: "analyse" })) as { init: { status: number } };
    expect(late.init.status).toBe(409);
  });
});
