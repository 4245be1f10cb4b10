import { beforeAll, describe, expect, it } from "vitest";
import { requirementHistory } from "../../app/queries/traceability-requirements.server";
import { approvalsOf } from "../../app/queries/change-request-context.server";
import type { ExpandedChange } from "../../app/domain/change-request";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import { signedInPerson } from "../setup/people";

/*
 * Required traceability changed by a change request (ADR 035), end to end on PostgreSQL: the kind's
 * refusals name the field; a release closes the target's open requirement and opens the new one with
 * the request that set it, once (at its first release), audited; the table refuses any other change.
 * Oracles: plain SQL over traceability_requirements and audit_trail, and hand-written expectations.
 */

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let keyRing: KeyRing;
const PASSWORD = "requirement-test-password";
const people: Record<string, Signer> = {};
const WAIVER = "Demo ERP/PLM disagreements are tracked separately (test).";

const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

const requirement = (target: unknown, content: Record<string, unknown> = {}) => ({
  kind: "traceability_requirement",
  target,
  minimumTracking: "lot",
  containerRequired: false,
  requiredScan: "verify",
  justification: "Low-risk regulated parts are now contained by lot (RA-TEST-1).",
  references: ["RA-TEST-1", "ISO 13485:2016 7.5.9.1"],
  ...content,
});

const content = (title: string, changes: unknown[]) => ({
  title,
  justification: "The quality system's risk assessment was revised.",
  riskAssessment: "Low: the requirement only states what is already done.",
  legacyDataPlan: "grandfather",
  changes,
});

async function refusal(changes: unknown[]): Promise<Record<string, string[]>> {
  try {
    await createChangeRequest(database.db, people.emil!, content("A refused requirement change", changes));
  } catch (error) {
    return (error as DomainError).fields ?? {};
  }
  throw new Error("not refused");
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await signedInPerson(database, "r.engineer", ["engineer"], PASSWORD);
  people.quinn = await signedInPerson(database, "r.quality", ["quality_reviewer"], PASSWORD);
  people.rita = await signedInPerson(database, "r.regulatory", ["regulatory_reviewer"], PASSWORD);
  people.remy = await signedInPerson(database, "r.release", ["release_manager"], PASSWORD);
}, 120_000);

describe("refusals name the field", () => {
  it("an unknown material, an unknown family, a target changed twice, an empty justification", async () => {
    expect(await refusal([requirement({ scope: "material", partNumber: "NOPE-1" })])).toEqual({ "changes.0.material": ["material NOPE-1 does not exist"] });
    expect(await refusal([requirement({ scope: "family", family: "NOPE" })])).toEqual({ "changes.0.family": ["family NOPE does not exist"] });
    const twice = await refusal([
      requirement({ scope: "risk_class", riskClass: "low", regulated: true }),
      requirement({ scope: "risk_class", riskClass: "low", regulated: true }, { requiredScan: "identify" }),
    ]);
    expect(twice).toEqual({ "changes.1.riskClass": ["the required traceability of risk class low, regulated is already changed in change 1"] });
    const empty = await refusal([requirement({ scope: "material", partNumber: "SUB-1005" }, { justification: "  " })]);
    expect(Object.keys(empty)).toEqual(["changes.0.justification"]);
    const noTarget = await refusal([requirement({ scope: "risk_class" })]);
    expect(Object.keys(noTarget)).toEqual(["changes.0.riskClass"]);
    // Nothing of a refused request remains.
    const n = (await database.client`select count(*)::int as n from change_requests where title = 'A refused requirement change'`)[0]!.n;
    expect(n).toBe(0);
  });
});

describe("release of a requirement change", () => {
  it("closes the target's open row and opens the new one at the first release, audited, once", async () => {
    const target = { scope: "risk_class", riskClass: "low", regulated: true };
    // A raise (verify → identify, container now required): the quality reviewer alone.
    const raise = requirement(target, { requiredScan: "identify", containerRequired: true });
    const { number } = await createChangeRequest(database.db, people.emil!, content("Identify regulated low-risk parts", [raise]));
    const [cr] = await database.client`select id, expanded_changes from change_requests where number = ${number}`;
    const approvals = await approvalsOf(database.db, cr!.id, cr!.expanded_changes as ExpandedChange[]);
    expect(approvals.required.map((r) => r.role)).toEqual(["quality_reviewer"]);
    // Plant-wide: its bases are every site (oracle: the sites table).
    const bases =
      await database.client`select s.code from change_request_bases b join sites s on s.id = b.site_id where b.change_request_id = ${cr!.id} order by 1`;
    const allSites = await database.client`select code from sites order by 1`;
    expect(bases.map((b) => b.code)).toEqual(allSites.map((s) => s.code));

    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number), {});
    const signed = await signChangeRequest(database.db, people.quinn!, number, {
      meaning: "approved",
      role: "quality_reviewer",
      username: people.quinn!.username,
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(signed).toMatchObject({ ok: true });

    const [before] = await database.client`
      select id from traceability_requirements where scope = 'risk_class' and risk_class = 'low' and regulated and effective_to is null`;
    const release = (site: string) =>
      releaseChangeRequests(database.db, keyRing, people.remy!, {
        site,
        changeRequests: [number],
        username: people.remy!.username,
        password: PASSWORD,
        waiver: WAIVER,
      });
    expect(await release("EIN")).toMatchObject({ ok: true });

    // Oracle (SQL): the old row closed at the release's effective time, the new one open from it, set by the request.
    const rows = await database.client`
      select r.id, r.effective_from, r.effective_to, r.required_scan, r.container_required, r.reason, c.number
      from traceability_requirements r left join change_requests c on c.id = r.change_request_id
      where r.scope = 'risk_class' and r.risk_class = 'low' and r.regulated order by r.id`;
    const [version] = await database.client`
      select v.effective_from from change_request_site_releases x join rule_set_versions v on v.id = x.rule_set_version_id
      where x.change_request_id = ${cr!.id}`;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ id: before!.id, required_scan: "verify", container_required: false, number: null });
    expect(rows[0]!.effective_to).toEqual(version!.effective_from);
    expect(rows[1]).toMatchObject({
      required_scan: "identify",
      container_required: true,
      effective_to: null,
      number,
      reason: `${number} Identify regulated low-risk parts`,
    });
    expect(rows[1]!.effective_from).toEqual(version!.effective_from);

    // The justification history shows both, the new one naming the change request.
    const history = (await requirementHistory(database.db)).filter((r) => r.scope === "risk_class" && r.riskClass === "low" && r.regulated);
    expect(history.map((r) => [r.requiredScan, r.changeRequest, r.effectiveTo === null])).toEqual([
      ["verify", null, false],
      ["identify", number, true],
    ]);

    // Oracle (SQL): the audit row of the change, in the release's transaction.
    const audit = await database.client`
      select a.action, a.entity_id, a.txid = (
        select v.txid from audit_trail v where v.action = 'rule_set_version.create' and v.entity_id like 'EIN/%' order by v.seq desc limit 1) as same_tx
      from audit_trail a where a.entity_type = 'traceability_requirement' order by a.seq`;
    expect(audit.map((a) => [a.action, a.entity_id, a.same_tx])).toEqual([["traceability_requirement.set", "risk_class:low:regulated", true]]);

    // Released at a second site: the requirement is not applied again.
    expect(await release("CLT")).toMatchObject({ ok: true });
    const counted =
      await database.client`select count(*)::int as n from traceability_requirements where scope = 'risk_class' and risk_class = 'low' and regulated`;
    expect(counted[0]?.n).toBe(2);
  });

  it("a change that lowers a requirement needs the regulatory reviewer too, with the reason", async () => {
    const lower = requirement({ scope: "material", partNumber: "SUB-1005" }, { minimumTracking: "lot", requiredScan: "identify" });
    const { number } = await createChangeRequest(database.db, people.emil!, content("SUB-1005 by lot again", [lower]));
    const [cr] = await database.client`select id, expanded_changes from change_requests where number = ${number}`;
    const approvals = await approvalsOf(database.db, cr!.id, cr!.expanded_changes as ExpandedChange[]);
    expect(approvals.required.map((r) => r.role)).toEqual(["quality_reviewer", "regulatory_reviewer"]);
    expect(approvals.required[1]!.reasons.join(" ")).toMatch(/SUB-1005: lowers required traceability/);
    // What it replaces is signed with it.
    expect((cr!.expanded_changes as ExpandedChange[])[0]).toMatchObject({
      before: { minimumTracking: "serial" },
      lowers: { own: true, materials: ["SUB-1005"] },
    });
  });
});

describe("the table guards itself", () => {
  it("refuses an update other than closing an open row, a delete, and an insert without an audit row", async () => {
    const [open] = await database.client`select id from traceability_requirements where effective_to is null order by id limit 1`;
    const [closed] = await database.client`select id from traceability_requirements where effective_to is not null order by id limit 1`;
    await expect(database.client`update traceability_requirements set justification = 'edited' where id = ${open!.id}`).rejects.toThrow(/only by closing it/);
    await expect(database.client`update traceability_requirements set effective_to = effective_to + interval '1 day' where id = ${closed!.id}`).rejects.toThrow(
      /is closed/,
    );
    await expect(database.client`delete from traceability_requirements where id = ${open!.id}`).rejects.toThrow(/never deleted/);
    await expect(database.client`update traceability_requirements set effective_to = now() where id = ${open!.id}`).rejects.toThrow(/without an audit row/);
    await expect(
      database.client`insert into traceability_requirements (scope, risk_class, regulated, minimum_tracking, container_required, required_scan, justification, effective_from, reason)
        values ('risk_class', 'medium', false, 'serial', false, 'identify', 'side door', now(), 'side door')`,
    ).rejects.toThrow(/without an audit row/);
    const n = (await database.client`select count(*)::int as n from traceability_requirements where reason = 'side door'`)[0]!.n;
    expect(n).toBe(0);
  });
});
