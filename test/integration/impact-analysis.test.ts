/**
 * Impact analysis on the demo plant's hard cases (app/seed/demo-plant.ts hardCases): each finding
 * kind appears where the plant holds its case, and the signature binds a current analysis.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Person, type Signer } from "../../app/services/change-requests.server";
import { analysisCurrency } from "../../app/queries/impact-analysis-currency.server";
import { computeImpactAnalysis, runImpactAnalysis } from "../../app/services/impact-analysis.server";
import { hashSessionId, signIn } from "../../app/services/sessions.server";
import { generateDemoPlant } from "../../app/seed/demo-plant";
import type { FindingCode } from "../../app/domain/impact-analysis";
import type { Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { acknowledgementsFor } from "../setup/analysis";

let database: Database;
let engineer: Person;
const hard = generateDemoPlant().hardCases;
const DEMO_PASSWORD = "c981-demo-2026";

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const [row] = await database.client`select id, username, display_name from users where username = 'emil.engineer'`;
  engineer = { id: row!.id as number, username: row!.username as string, displayName: row!.display_name as string };
}, 120_000);

const propose = async (changes: Record<string, unknown>[]) =>
  (
    await createChangeRequest(database.db, engineer, {
      title: "impact analysis test",
      justification: "impact analysis test",
      riskAssessment: "impact analysis test",
      legacyDataPlan: "grandfather",
      changes,
    })
  ).number;
const tracking = (material: string, trackingMode: string, identifierFormatCodes: string[], consumptionScan: string, extra: Record<string, unknown> = {}) => ({
  kind: "tracking",
  material,
  sites: ["EIN"],
  trackingMode,
  containerTracking: false,
  identifierFormatCodes,
  consumptionScan,
  ...extra,
});

async function findingsOf(changes: Record<string, unknown>[]) {
  const { report } = await computeImpactAnalysis(database.db, await propose(changes));
  const all = [...report.changes.flatMap((c) => c.findings), ...report.findings];
  return { report, all, by: (code: FindingCode) => all.find((f) => f.code === code) };
}

describe("impact analysis on the demo plant", () => {
  it("a serialized subassembly consumed into a lot-tracked assembly: the break, by BOM and in the records, and the coarser alternate", async () => {
    const { site, subassembly, assembly } = hard.serialConsumedIntoLotAssembly;
    expect(site).toBe("EIN");
    // Keep the subassembly serialized but verify instead of identify: the break stays and is reported.
    const { by } = await findingsOf([tracking(subassembly, "serial", ["EIN-SER"], "verify")]);
    expect(by("GENEALOGY_BREAK_BOM")).toMatchObject({
      severity: "critical",
      sample: expect.arrayContaining([`EIN ${assembly} ← ${subassembly} (serial into lot)`]),
    });
    expect(by("GENEALOGY_BREAK_ACTUAL")!.count).toBeGreaterThan(0);
    const { primary, alternate } = hard.coarserAlternate;
    expect(by("COARSER_ALTERNATE")!.sample).toContainEqual(expect.stringContaining(`${alternate} (lot) for ${primary} (serial)`));
    expect(by("SCAN_STEPS")!.sample.length).toBeGreaterThan(0);
  });

  it("serializing a lot-tracked assembly: mixed history to cover, candidate sets for serial parents, reach through every tier", async () => {
    const { by, report } = await findingsOf([tracking("ASM-1006", "serial", ["EIN-SER"], "identify")]);
    expect(report.changes[0]).toMatchObject({ from: "lot", to: "serial", effect: "upgrade" });
    const mixed = by("MIXED_HISTORY")!;
    expect(mixed.count).toBeGreaterThan(0);
    expect(mixed.counts!.lots).toBe(mixed.count);
    expect(by("CANDIDATE_LINKS")!.detail!.candidateSets).toBeDefined();
    expect(by("REACH")!.count).toBeGreaterThan(0);
    expect(by("LABELS")).toMatchObject({ severity: "warning" });
    expect(by("DISTRIBUTION")).toMatchObject({ sample: [] });
  });

  it("a downgrade of a serialized, regulated finished device: precision lost and the rework it can no longer express", async () => {
    const { partNumber, serial } = hard.reworkedSerial;
    const { by } = await findingsOf([tracking(partNumber, "lot", ["EIN-LOT"], "verify")]);
    expect(by("PRECISION_LOSS")).toMatchObject({ severity: "critical" });
    expect(by("INEXPRESSIBLE_EVENTS")!.counts).toMatchObject({ rework: expect.any(Number) });
    expect(by("ITEMS_BY_STATUS")!.count).toBeGreaterThan(0);
    expect(serial).toMatch(/^\d+$/);
  });

  it("splits, merges and repacks the new mode cannot express", async () => {
    const split = await findingsOf([tracking("RES-1001", "serial", ["EIN-SER"], "identify")]);
    expect(split.by("INEXPRESSIBLE_EVENTS")!.counts).toMatchObject({ split: expect.any(Number) });
    const merge = await findingsOf([tracking("RAW-1003", "serial", ["EIN-SER"], "identify")]);
    expect(merge.by("INEXPRESSIBLE_EVENTS")!.counts).toMatchObject({ merge: expect.any(Number) });
    const repack = await findingsOf([tracking("RES-1002", "none", [], "none")]);
    expect(repack.by("INEXPRESSIBLE_EVENTS")!.counts).toMatchObject({ repack: 1 });
    expect(repack.by("PRECISION_LOSS")).toBeDefined();
  });

  it("ERP and PLM records that will disagree, and the ones a change resolves", async () => {
    const erp = hard.erpPlmDisagreements.find((d) => d.system === "erp" && d.externalKey === "SUB-1005")!;
    // SUB-1005 is serialized at EIN since version 2 while ERP still says batch: a change to lot agrees with ERP.
    const { by } = await findingsOf([tracking(erp.externalKey, "lot", ["EIN-LOT"], "verify")]);
    expect(by("ERP_PLM_RESOLVED")!.sample).toContainEqual(expect.stringContaining("ERP SUB-1005@EIN"));
  });

  it("a signature needs a current analysis: refused without one, with an old hash, or after the basis changed", async () => {
    const number = await propose([tracking("SUB-1014", "serial", ["EIN-SER"], "identify")]);
    const [row] = await database.client`select row_version from change_requests where number = ${number}`;
    await submitChangeRequest(database.db, engineer, number, row!.row_version as number);
    const session = await signIn(database.db, { username: "quinn.quality", password: DEMO_PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    const [q] = await database.client`select id, display_name from users where username = 'quinn.quality'`;
    const quinn: Signer = {
      id: q!.id as number,
      username: "quinn.quality",
      displayName: q!.display_name as string,
      roles: ["quality_reviewer"],
      sessionIdHash: hashSessionId(session.sessionId),
    };
    const rowVersion = async () => (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;
    const sign = async (analysisHash: string) =>
      signChangeRequest(database.db, quinn, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "quinn.quality",
        password: DEMO_PASSWORD,
        rowVersion: await rowVersion(),
        analysisHash,
        acknowledged: await acknowledgementsFor(database.db, number, analysisHash),
      });

    expect(await analysisCurrency(database.db, number)).toMatchObject({ current: false, reason: "No impact analysis has been run for it yet." });
    await expect(sign("0".repeat(64))).rejects.toThrow(/No impact analysis has been run/);
    const first = await runImpactAnalysis(database.db, { username: "quinn.quality" }, number);
    const second = await runImpactAnalysis(database.db, { username: "quinn.quality" }, number);
    expect(second.sha256).not.toBe(first.sha256);
    // The page showed the first; a newer one exists: review it first.
    await expect(sign(first.sha256)).rejects.toThrow(DomainError);
    // Master data the change touches changes: the analysis is stale.
    await database.client`update materials set risk_class = 'high' where part_number = 'SUB-1014'`;
    expect(await analysisCurrency(database.db, number)).toMatchObject({ current: false, reason: expect.stringContaining("master data") });
    // The request's own base holds that master data too: it is stale, and says what moved.
    await expect(sign(second.sha256)).rejects.toThrow(/stale: .*the master data of SUB-1014/);
    await database.client`update materials set risk_class = 'medium' where part_number = 'SUB-1014'`;
    // Older than 24 hours: stale too.
    const later = new Date(second.createdAt.getTime() + 25 * 3_600_000);
    expect(await analysisCurrency(database.db, number, later)).toMatchObject({ current: false, reason: expect.stringContaining("older than 24 hours") });
    const third = await runImpactAnalysis(database.db, { username: "quinn.quality" }, number);
    const signed = await sign(third.sha256);
    expect(signed).toMatchObject({ ok: true, status: "approved" });
    const [signature] =
      await database.client`select analysis_hash from signatures where change_request_id = (select id from change_requests where number = ${number})`;
    expect(signature!.analysis_hash).toBe(third.sha256);
    const [audit] = await database.client`select after from audit_trail where action = 'change_request.sign' and entity_id = ${number}`;
    expect((audit!.after as { signature: { analysisHash: string } }).signature.analysisHash).toBe(third.sha256);
    // Stored analyses are records: never changed.
    await expect(database.client`update impact_analyses set sha256 = 'x' where id = ${third.id}`).rejects.toThrow();
  });
});
