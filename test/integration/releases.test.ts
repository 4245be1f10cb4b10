import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { materials, sites } from "../../db/schema";
import { ruleInForce } from "../../app/queries/tracking-rules.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import { currentDataPoint } from "../../app/queries/audit.server";
import { staleSites } from "../../app/queries/change-request-context.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
type Database = Awaited<ReturnType<typeof createTestDatabase>>;
import type { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { signedInPerson } from "../setup/people";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;
const PASSWORD = "release-test-password";
const people: Record<string, Signer> = {};

const person = (username: string, role: "engineer" | "quality_reviewer" | "regulatory_reviewer" | "release_manager") =>
  signedInPerson(database, username, [role], PASSWORD);

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
const status = async (number: string) => (await database.client`select status from change_requests where number = ${number}`)[0]!.status as string;

async function approved(title: string, changes: unknown[]): Promise<string> {
  const { number } = await createChangeRequest(database.db, people.emil!, {
    title,
    justification: "Unit-level trace for field returns.",
    riskAssessment: "Medium: labels and scanners exist.",
    legacyDataPlan: "grandfather",
    changes,
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

/** One tracking change per site: each site prints its own serial format. */
const serial = (material: string, sites: string[]) =>
  sites.map((site) => ({
    kind: "tracking",
    material,
    sites: [site],
    trackingMode: "serial",
    containerTracking: false,
    identifierFormatCodes: [`${site}-SER`],
    consumptionScan: "identify",
  }));
/**
 * The demo plant's deliberate ERP/PLM disagreements remain at every site, so every release here
 * carries a waiver (test/integration/erp-plm-reconciliation.test.ts tests the rule itself).
 */
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";
const release = (site: string, numbers: string[], who = people.remy!) =>
  releaseChangeRequests(database.db, keyRing, who, { site, changeRequests: numbers, username: who.username, password: PASSWORD, waiver: WAIVER });

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await person("e.e", "engineer");
  people.quinn = await person("q.q", "quality_reviewer");
  people.remy = await person("r.m", "release_manager");
  people.rory = await person("r.n", "release_manager");
}, 120_000);

async function mode(partNumber: string, site: string) {
  const [m] = await database.db.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, partNumber));
  const [s] = await database.db.select({ id: sites.id }).from(sites).where(eq(sites.code, site));
  const rule = await ruleInForce(database.db, { materialId: m!.id, siteId: s!.id, at: new Date(Date.now() + 1000) });
  return rule.state === "ruled" ? rule.rule.trackingMode : rule.state;
}

describe("releasing change requests", () => {
  it("releases site by site: a pilot site first, partly released until every site is", async () => {
    const number = await approved("Serialize ASM-1005 at EIN and CLT", serial("ASM-1005", ["EIN", "CLT"]));
    const pilot = await release("EIN", [number]);
    expect(pilot).toMatchObject({ ok: true, site: "EIN", version: 3, released: [{ number, status: "partly_released" }] });
    expect(await mode("ASM-1005", "EIN")).toBe("serial");
    expect(await mode("ASM-1005", "CLT")).toBe("lot");
    // Its own release at EIN does not make it stale at CLT.
    const [cr] = await database.client`select id from change_requests where number = ${number}`;
    expect(await staleSites(database.db, cr!.id as number)).toEqual([]);
    const rest = await release("CLT", [number]);
    expect(rest).toMatchObject({ ok: true, site: "CLT", version: 3, released: [{ number, status: "released" }] });
    expect(await mode("ASM-1005", "CLT")).toBe("serial");
    const [doc] =
      await database.client`select canonical, change_request_numbers from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'CLT' and version = 3`;
    expect(doc!.change_request_numbers).toEqual([number]);
    expect(JSON.parse(Buffer.from(doc!.canonical as Uint8Array).toString("utf8")).changeRequests).toEqual([number]);
    const [sig] =
      await database.client`select r.printed_name, r.meaning, r.digest from release_signatures r join rule_set_versions v on v.id = r.rule_set_version_id join sites s on s.id = v.site_id where s.code = 'CLT' and v.version = 3`;
    expect(sig).toMatchObject({ printed_name: "R.M", meaning: expect.stringMatching(/^Released:/) });
  });

  it("never lets the author release, and refuses a request on the same material made stale by a release with 409", async () => {
    const a = await approved("Serialize ASM-1006 at PEN", serial("ASM-1006", ["PEN"]));
    const b = await approved(
      "Serialize ASM-1006 at PEN, verify scans",
      serial("ASM-1006", ["PEN"]).map((c) => ({ ...c, consumptionScan: "verify" })),
    );
    const authorAsReleaser = { ...people.emil!, roles: ["engineer", "release_manager"] as const };
    await expect(release("PEN", [a], authorAsReleaser as unknown as Signer)).rejects.toThrow(/author of a change request never releases it/);
    expect(await release("PEN", [a])).toMatchObject({ ok: true });
    const stale = await release("PEN", [b]).catch((e: unknown) => e as DomainError);
    expect((stale as DomainError).status).toBe(409);
    expect((stale as DomainError).message).toMatch(/stale at PEN/);
  });

  it("two releases racing on one site and one material: consecutive versions, no duplicate, the loser gets 409 and writes nothing", async () => {
    const [pen] = await database.client`select max(version)::int as v from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN'`;
    const a = await approved("Serialize ASM-1008 at EIN", serial("ASM-1008", ["EIN"]));
    const b = await approved(
      "Serialize ASM-1008 at EIN, verify scans",
      serial("ASM-1008", ["EIN"]).map((c) => ({ ...c, consumptionScan: "verify" })),
    );
    const results = await Promise.allSettled([release("EIN", [a]), release("EIN", [b], people.rory!)]);
    const statuses = results.map((r) => (r.status === "fulfilled" ? 200 : (r.reason as DomainError).status)).sort();
    expect(statuses).toEqual([200, 409]);
    const versions = await database.client`select version from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' order by version`;
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: pen!.v + 1 }, (_, i) => i + 1));
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
  });

  it("two releases racing on one site and two materials with no BOM link: both win, one after the other, without a rebase", async () => {
    const [before] = await database.client`select max(version)::int as v from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN'`;
    // Plain SQL: no BOM line at EIN holds both (as parent, component or alternate).
    const [linked] = await database.client`
      select count(*)::int as n from bom_lines bl join sites s on s.id = bl.site_id and s.code = 'EIN'
      where array(select m.part_number from materials m where m.id in (bl.parent_material_id, bl.component_material_id)
                  union select m.part_number from bom_line_alternates a join materials m on m.id = a.material_id where a.bom_line_id = bl.id)
            @> array['ASM-1011', 'ASM-1012']`;
    expect(linked!.n).toBe(0);
    const a = await approved("Serialize ASM-1011 at EIN", serial("ASM-1011", ["EIN"]));
    const b = await approved("Serialize ASM-1012 at EIN", serial("ASM-1012", ["EIN"]));
    const results = await Promise.allSettled([release("EIN", [a]), release("EIN", [b], people.rory!)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    const versions =
      await database.client`select version from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' and version > ${before!.v} order by version`;
    expect(versions.map((v) => v.version)).toEqual([before!.v + 1, before!.v + 2]);
    // Neither was rebased nor lost its signature.
    const rows = await database.client`
      select c.number, c.status, c.revision, (select count(*)::int from signatures s where s.change_request_id = c.id and s.voided_at is null) as valid
      from change_requests c where c.number in (${a}, ${b}) order by c.number`;
    expect(rows.map((r) => ({ ...r }))).toEqual([a, b].sort().map((number) => ({ number, status: "released", revision: 1, valid: 1 })));
    expect(await mode("ASM-1011", "EIN")).toBe("serial");
    expect(await mode("ASM-1012", "EIN")).toBe("serial");
  });

  it("a wrong password releases nothing; a failed release leaves only the audit of the failure", async () => {
    const number = await approved("Serialize ASM-1010 at CLT", serial("ASM-1010", ["CLT"]));
    const before = await currentDataPoint(database.db);
    const wrong = await releaseChangeRequests(database.db, keyRing, people.remy!, { site: "CLT", changeRequests: [number], username: "r.m", password: "nope" });
    expect(wrong).toEqual({ ok: false, fields: { password: ["Wrong password: nothing was signed"] } });
    const [audit] = await database.client`select action from audit_trail where seq > ${before} order by seq`;
    expect(audit!.action).toBe("signature.failed");
    expect(await status(number)).toBe("approved");
    // Signing fails half-way (no private key here): nothing of the release remains.
    const point = await currentDataPoint(database.db);
    const keyless = { ...keyRing, active: [], missing: keyRing.active.map((k) => k.kid) };
    await expect(
      releaseChangeRequests(database.db, keyless, people.remy!, { site: "CLT", changeRequests: [number], password: PASSWORD, waiver: WAIVER }),
    ).rejects.toThrow(/lacks the private key/);
    const after = await database.client`select action, after::text as after from audit_trail where seq > ${point} order by seq`;
    expect(after.map((r) => r.action)).toEqual(["rule_set.release_failed"]);
    expect(JSON.parse(after[0]!.after as string).error).toMatch(/lacks the private key/);
    expect(await status(number)).toBe("approved");
  });

  it("creates a new material and applies its attributes at the first release", async () => {
    const number = await approved("New valve block SUB-3001 at EIN", [
      {
        kind: "new_material",
        partNumber: "SUB-3001",
        description: "Valve block G3",
        unitOfMeasure: "EA",
        family: "SUB",
        riskClass: "medium",
        regulatoryFlags: [],
      },
      ...serial("SUB-3001", ["EIN"]),
    ]);
    expect(await release("EIN", [number])).toMatchObject({ ok: true, released: [{ number, status: "released" }] });
    expect(await mode("SUB-3001", "EIN")).toBe("serial");
    const [audit] = await database.client`select count(*)::int as n from audit_trail where action = 'material.create' and entity_id = 'SUB-3001'`;
    expect(audit!.n).toBe(1);
  });
});

// Last in this file: it tampers with the anchors.
describe("a release refused for a trail that no longer extends this server's anchors (ADR 019)", () => {
  it("changes nothing and still raises the security alert, which the release's rollback would otherwise take with it", async () => {
    const number = await approved("Serialize ASM-1006 at EIN", serial("ASM-1006", ["EIN"]));
    // What a superuser can do: delete the latest anchor this server signed (the anchor log keeps it).
    await database.owner.begin(async (tx) => {
      await tx`alter table audit_anchors disable trigger audit_anchors_no_update_delete`;
      await tx`delete from audit_anchors where id = (select max(id) from audit_anchors)`;
      await tx`alter table audit_anchors enable trigger audit_anchors_no_update_delete`;
    });
    await expect(release("EIN", [number])).rejects.toThrow(/refuses to sign its head/);
    expect(await status(number)).toBe("approved");
    expect(await mode("ASM-1006", "EIN")).not.toBe("serial");
    const alerts = await database.client`select kind, username from security_alerts where kind = 'audit_anchor_refused'`;
    expect(alerts).toEqual([{ kind: "audit_anchor_refused", username: "r.m" }]);
  });
});
