/**
 * Look-alike identifier formats in the portal (ADR 013), through the route modules: the
 * label-template list and the material page show the demo plant's deliberate look-alikes at EIN
 * (EIN-SER / EIN-LOT / EIN-CTR on WC30-SHOP) with example strings, scoped to the reader's sites;
 * and the impact analysis of a change request touching an EIN WC30 material carries the
 * LOOK_ALIKE_FORMATS finding, shown on the change-request page.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_PASSWORD, seedDemoPlant } from "../../app/seed/seed.server";
import { generateDemoPlant } from "../../app/seed/demo-plant";
import { createChangeRequest, type Person } from "../../app/services/change-requests.server";
import { computeImpactAnalysis } from "../../app/services/impact-analysis.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import * as labelTemplates from "../../app/routes/label-templates._index";
import * as material from "../../app/routes/materials.$partNumber";
import * as changeRequestPage from "../../app/routes/change-requests.$number";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let engineer: Person;
const cookies = new Map<string, string>();
const demo = generateDemoPlant();
const { site: EIN, labelTemplate: WC30_SHOP } = demo.hardCases.overlappingFormats;

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const [row] = await database.client`select id, username, display_name from users where username = 'emil.engineer'`;
  engineer = { id: row!.id as number, username: row!.username as string, displayName: row!.display_name as string } as Person;
  await createUser(
    database.db,
    "test",
    {
      username: "clt.viewer",
      displayName: "CLT viewer",
      password: "look-alike-password-1",
      grants: [{ role: "viewer", site: "CLT" }],
      reason: "look-alike test",
    },
    "fixture",
  );
  for (const [username, password] of [
    ["vera.viewer", DEMO_PASSWORD],
    ["emil.engineer", DEMO_PASSWORD],
    ["clt.viewer", "look-alike-password-1"],
  ] as const) {
    const session = await signIn(database.db, { username, password, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error(`cannot sign in ${username}`);
    cookies.set(username, session.sessionId);
  }
}, 120_000);

const request = (path: string, username: string) =>
  new Request(`http://127.0.0.1${path}`, { headers: new Headers({ Cookie: `${SESSION_COOKIE}=${cookies.get(username)!}` }) });
async function load<T>(fn: unknown, path: string, username: string, params: Record<string, string> = {}): Promise<T> {
  return (await (fn as (args: LoaderFunctionArgs & ActionFunctionArgs) => Promise<T>)({ request: request(path, username), params, context: {} })) as T;
}

/** A SUB material made at EIN's WC30 with the EIN serial format (the demo plant's SUB family). */
function einSubAtWc30(): string {
  const routing = demo.routings.find((r) => r.site === EIN && r.workCentre === `${EIN}-WC30` && r.partNumber.startsWith("SUB-"))!;
  return routing.partNumber;
}

describe("look-alike formats on screens", () => {
  it("the label-template list flags EIN WC30-SHOP with the example strings and kinds", async () => {
    const data = await load<Awaited<ReturnType<typeof labelTemplates.loader>>>(labelTemplates.loader, "/label-templates", "vera.viewer");
    const shop = data.templates.find((t) => t.site === EIN && t.code === WC30_SHOP)!;
    expect(shop.formats.map((f) => f.code)).toEqual(["EIN-CTR", "EIN-LOT", "EIN-SER"]);
    expect(shop.lookAlikes.pairs.map((p) => [p.formats, p.example.display, p.kinds, p.confusion])).toEqual([
      [["EIN-CTR", "EIN-LOT"], "C00000000", ["container", "lot"], true],
      [["EIN-LOT", "EIN-SER"], "S00000000", ["lot", "serial"], true],
    ]);
    expect(shop.lookAlikes.pairs.map((p) => p.formats)).toContainEqual([...demo.hardCases.overlappingFormats.formats].sort());
    // The other sites' shop labels are distinct; the GS1 lot label reads as a serial too (separator missing).
    for (const t of data.templates.filter((t) => t.code === WC30_SHOP && t.site !== EIN)) expect(t.lookAlikes.pairs, t.site).toEqual([]);
    const rawLot = data.templates.find((t) => t.site === EIN && t.code === "RAW-LOT")!;
    expect(rawLot.lookAlikes.selfAmbiguous.map((s) => [s.format, s.example.display, s.kinds])).toEqual([
      ["GS1-LGTIN", "010950600013435210LOT121S", ["lot", "serial"]],
    ]);
    expect(data.templates.find((t) => t.site === EIN && t.code === "PALLET")!.lookAlikes.pairs).toEqual([]);
  });

  it("a reader limited to CLT sees only CLT's templates", async () => {
    const data = await load<Awaited<ReturnType<typeof labelTemplates.loader>>>(labelTemplates.loader, "/label-templates", "clt.viewer");
    expect(new Set(data.templates.map((t) => t.site))).toEqual(new Set(["CLT"]));
  });

  it("the material page shows, per site, the look-alikes of the formats its rule uses", async () => {
    const partNumber = einSubAtWc30();
    const data = await load<Awaited<ReturnType<typeof material.loader>>>(material.loader, `/materials/${partNumber}`, "vera.viewer", { partNumber });
    const ein = data.lookAlikes.find((l) => l.site === EIN)!;
    expect(ein.ruleFormats).toEqual(["EIN-SER"]);
    expect(ein.templates).toContain(WC30_SHOP);
    expect(ein.lookAlikes.pairs.map((p) => [p.formats, p.example.data, p.kinds])).toEqual([[["EIN-LOT", "EIN-SER"], "S00000000", ["lot", "serial"]]]);
    for (const other of data.lookAlikes.filter((l) => l.site !== EIN)) expect(other.lookAlikes.pairs, other.site).toEqual([]);
    // Scoped: a CLT reader gets no EIN entry.
    const clt = await load<Awaited<ReturnType<typeof material.loader>>>(material.loader, `/materials/${partNumber}`, "clt.viewer", { partNumber });
    expect(clt.lookAlikes.map((l) => l.site)).not.toContain(EIN);
  });
});

describe("the impact analysis of a change request touching an EIN WC30 material", () => {
  it("carries LOOK_ALIKE_FORMATS (critical) with EIN-SER / EIN-LOT and the example, and the page shows it", async () => {
    const partNumber = einSubAtWc30();
    const { number } = await createChangeRequest(database.db, engineer, {
      title: `${partNumber} at ${EIN} to lot`,
      justification: "look-alike test",
      riskAssessment: "look-alike test",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: partNumber,
          sites: [EIN],
          trackingMode: "lot",
          containerTracking: false,
          identifierFormatCodes: ["EIN-LOT"],
          consumptionScan: "verify",
        },
      ],
    });
    const { report } = await computeImpactAnalysis(database.db, number);
    const finding = report.changes[0]!.findings.find((f) => f.code === "LOOK_ALIKE_FORMATS")!;
    expect(finding).toMatchObject({
      severity: "critical",
      count: 2,
      counts: { confusions: 2, introduced: 2, kept: 0, undecided: 0 },
      sample: ["EIN-CTR ~ EIN-LOT: C00000000 (container, lot)", "EIN-LOT ~ EIN-SER: S00000000 (lot, serial)"],
    });
    expect(finding.detail).toMatchObject({ formats: ["EIN-LOT"], templates: expect.arrayContaining([WC30_SHOP]) });
    // Deterministic: the same data point gives the same bytes.
    expect((await computeImpactAnalysis(database.db, number)).canonical).toBe((await computeImpactAnalysis(database.db, number)).canonical);

    // Run from the page and see it in the latest analysis the page shows.
    const ran = (await (changeRequestPage.action as unknown as (a: ActionFunctionArgs) => Promise<Response>)({
      request: new Request(`http://127.0.0.1/change-requests/${number}`, {
        method: "POST",
        headers: new Headers({ Cookie: `${SESSION_COOKIE}=${cookies.get("emil.engineer")!}` }),
        body: new URLSearchParams({ intent: "analyse" }),
      }),
      params: { number },
      context: {},
    }).catch((thrown: unknown) => thrown)) as Response;
    expect(ran.status).toBe(302);
    const view = await load<Awaited<ReturnType<typeof changeRequestPage.loader>>>(changeRequestPage.loader, `/change-requests/${number}`, "vera.viewer", {
      number,
    });
    const shown = view.analysis.latest!.report.changes[0]!.findings.find((f) => f.code === "LOOK_ALIKE_FORMATS");
    expect(shown?.sample).toContain("EIN-LOT ~ EIN-SER: S00000000 (lot, serial)");
  });

  it("keeping the serial format at EIN also keeps the look-alike: reported as kept", async () => {
    const partNumber = einSubAtWc30();
    const { number } = await createChangeRequest(database.db, engineer, {
      title: `${partNumber} at ${EIN}: identify on consumption`,
      justification: "look-alike test",
      riskAssessment: "look-alike test",
      legacyDataPlan: "grandfather",
      changes: [
        {
          kind: "tracking",
          material: partNumber,
          sites: [EIN],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "verify",
        },
      ],
    });
    const { report } = await computeImpactAnalysis(database.db, number);
    expect(report.changes[0]!.findings.find((f) => f.code === "LOOK_ALIKE_FORMATS")).toMatchObject({
      severity: "critical",
      counts: { introduced: 0, kept: 1 },
      sample: ["EIN-LOT ~ EIN-SER: S00000000 (lot, serial)"],
    });
  });
});
