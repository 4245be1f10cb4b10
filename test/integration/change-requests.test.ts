import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { sites, materials } from "../../db/schema";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { approvalsOf, conflictsOf, staleSites } from "../../app/queries/change-request-context.server";
import { addComment } from "../../app/services/change-request-comments.server";
import {
  createChangeRequest,
  rebaseChangeRequest,
  signChangeRequest,
  submitChangeRequest,
  updateChangeRequest,
  withdrawChangeRequest,
  type Signer,
} from "../../app/services/change-requests.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import type { Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { signedInPerson } from "../setup/people";
import { testKeyRing } from "../setup/keys";
import type { KeyRing } from "../../app/utils/signing.server";

let keyRing: KeyRing;

let database: Database;
const PASSWORD = "change-request-password";
const people: Record<string, Signer> = {};

const person = (username: string, roles: ("engineer" | "quality_reviewer" | "regulatory_reviewer" | "admin")[]) =>
  signedInPerson(database, username, roles, PASSWORD);

const serializeSub1001AtEin = {
  title: "Serialize SUB-1001 at EIN",
  justification: "Field failures need unit-level trace of pump drives.",
  riskAssessment: "Low risk: labels exist, scanners support AI 21.",
  legacyDataPlan: "grandfather",
  changes: [
    {
      kind: "tracking",
      material: "SUB-1001",
      sites: ["EIN"],
      trackingMode: "serial",
      containerTracking: false,
      identifierFormatCodes: ["EIN-SER"],
      consumptionScan: "identify",
    },
  ],
};

async function rowVersion(number: string): Promise<number> {
  const [row] = await database.client`select row_version from change_requests where number = ${number}`;
  return row!.row_version as number;
}
async function status(number: string): Promise<string> {
  const [row] = await database.client`select status from change_requests where number = ${number}`;
  return row!.status as string;
}
const sign = async (
  who: Signer,
  number: string,
  meaning: "approved" | "rejected" | "changes_requested",
  role: "quality_reviewer" | "regulatory_reviewer",
  extra: Record<string, unknown> = {},
) =>
  signChangeRequest(database.db, who, number, {
    meaning,
    role,
    username: who.username,
    password: PASSWORD,
    comment: meaning === "rejected" ? "no" : "",
    rowVersion: await rowVersion(number),
    ...(await reviewed(database.db, number)),
    ...extra,
  });

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await person("e.engineer", ["engineer"]);
  people.eva = await person("e.other", ["engineer"]);
  people.quinn = await person("q.quality", ["quality_reviewer"]);
  people.qiana = await person("q.second", ["quality_reviewer"]);
  people.rita = await person("r.regulatory", ["regulatory_reviewer"]);
  people.both = await person("b.both", ["quality_reviewer", "regulatory_reviewer", "admin"]);
}, 120_000);

describe("change requests", () => {
  it("go from draft through review to approved with a signature that names the signed content", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1014 at EIN",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1014" }],
    });
    expect(number).toMatch(/^CR-\d{4}$/);
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    expect(await status(number)).toBe("in_review");
    const result = await sign(people.quinn!, number, "approved", "quality_reviewer");
    expect(result).toMatchObject({ ok: true, status: "approved" });
    const [signature] =
      await database.client`select s.printed_name, s.role, s.meaning, s.content_hash, c.content_hash as current from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number}`;
    expect(signature).toMatchObject({ printed_name: "Q.QUALITY", role: "quality_reviewer", meaning: "approved" });
    expect(signature!.content_hash).toBe(signature!.current);
  });

  it("never lets the author sign, nor one person fill two roles, nor an admin skip either", async () => {
    const { number } = await createChangeRequest(database.db, people.both!, {
      ...serializeSub1001AtEin,
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "FIN-1002", identifierFormatCodes: ["GS1-SGTIN", "GS1-SSCC"], containerTracking: true }],
    });
    await submitChangeRequest(database.db, people.both!, number, await rowVersion(number));
    await expect(sign(people.both!, number, "approved", "quality_reviewer")).rejects.toThrow(/author .* never signs/);
    const { number: other } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize FIN-1003 (high risk)",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "FIN-1003", identifierFormatCodes: ["GS1-SGTIN", "GS1-SSCC"], containerTracking: true }],
    });
    await submitChangeRequest(database.db, people.emil!, other, await rowVersion(other));
    expect(await sign(people.both!, other, "approved", "quality_reviewer")).toMatchObject({ ok: true, status: "in_review" });
    await expect(sign(people.both!, other, "approved", "regulatory_reviewer")).rejects.toThrow(/two required roles/);
    expect(await sign(people.rita!, other, "approved", "regulatory_reviewer")).toMatchObject({ ok: true, status: "approved" });
  });

  it("a wrong password signs nothing, is audited, and repeated failures lock signing", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1002",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1002" }],
    });
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    for (let i = 0; i < 3; i++) {
      expect(await sign(people.qiana!, number, "approved", "quality_reviewer", { password: "wrong" })).toEqual({
        ok: false,
        fields: { password: ["Wrong password: nothing was signed"] },
      });
    }
    expect(await sign(people.qiana!, number, "approved", "quality_reviewer")).toMatchObject({ ok: false, locked: true });
    expect(await status(number)).toBe("in_review");
    const [audit] = await database.client`select count(*)::int as n from audit_trail where action = 'signature.failed' and entity_id = 'q.second'`;
    expect(audit!.n).toBe(3);
  });

  it("asks for the user name at the first signature of a series, only the password within it", async () => {
    const fresh = await person("q.fresh", ["quality_reviewer"]);
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1003",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1003" }],
    });
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    const withoutName = await signChangeRequest(database.db, fresh, number, {
      meaning: "changes_requested",
      role: "quality_reviewer",
      password: PASSWORD,
      rowVersion: await rowVersion(number),
      ...(await reviewed(database.db, number)),
    });
    expect(withoutName).toMatchObject({ ok: false, fields: { username: [expect.stringMatching(/first signature/)] } });
    expect(await sign(fresh, number, "changes_requested", "quality_reviewer")).toMatchObject({ ok: true, status: "changes_requested" });
  });

  it("voids signatures when the signed content is edited, keeping them", async () => {
    // SUB-1004 is of medium risk: the quality reviewer's approval is the only one needed.
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1004",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1004" }],
    });
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    await sign(people.quinn!, number, "approved", "quality_reviewer");
    expect(await status(number)).toBe("approved");
    await updateChangeRequest(database.db, people.emil!, number, await rowVersion(number), {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1004 (edited)",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1004" }],
    });
    expect(await status(number)).toBe("in_review");
    const rows =
      await database.client`select voided_at, void_reason from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.void_reason).toBe("content edited (revision 2)");
    await expect(database.client`delete from signatures`).rejects.toThrow(/never deleted/);
  });

  it("flags two open change requests on the same material and site, on both", async () => {
    const a = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1006 (a)",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1006" }],
    });
    const b = await createChangeRequest(database.db, people.eva!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1006 (b)",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1006" }],
    });
    const [ida] = await database.client`select id from change_requests where number = ${a.number}`;
    const [idb] = await database.client`select id from change_requests where number = ${b.number}`;
    expect((await conflictsOf(database.db, ida!.id as number)).map((c) => c.number)).toEqual([b.number]);
    expect((await conflictsOf(database.db, idb!.id as number)).map((c) => c.number)).toEqual([a.number]);
    await withdrawChangeRequest(database.db, people.eva!, b.number, await rowVersion(b.number), "duplicate");
    expect(await conflictsOf(database.db, ida!.id as number)).toEqual([]);
  });

  it("expands a family change into per-material changes at submit", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Consumables: verify scan at PEN",
      changes: [
        {
          kind: "tracking",
          family: "CON",
          sites: ["PEN"],
          trackingMode: "none",
          containerTracking: false,
          identifierFormatCodes: [],
          consumptionScan: "verify",
        },
      ],
    });
    const [row] = await database.client`select expanded_changes from change_requests where number = ${number}`;
    expect((row!.expanded_changes as { partNumber: string }[]).length).toBe(20);
    expect((row!.expanded_changes as { viaFamily: string }[]).every((c) => c.viaFamily === "CON")).toBe(true);
  });

  it("answers bad input field by field and changes nothing", async () => {
    const before = await database.client`select max(seq)::int as seq, (select count(*)::int from change_requests) as n from audit_trail`;
    const error = await createChangeRequest(database.db, people.emil!, {
      title: "x",
      justification: "",
      riskAssessment: "ok",
      legacyDataPlan: "burn",
      changes: [
        {
          kind: "tracking",
          material: "NOPE-1",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: [],
          consumptionScan: "identify",
        },
      ],
    }).catch((e: unknown) => e as DomainError);
    expect(Object.keys((error as DomainError).fields).sort()).toEqual(["justification", "legacyDataPlan", "riskAssessment", "title"]);
    const semantic = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      changes: [
        {
          kind: "tracking",
          material: "NOPE-1",
          sites: ["EIN", "XXX"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["CLT-SER"],
          consumptionScan: "identify",
        },
      ],
    }).catch((e: unknown) => e as DomainError);
    expect((semantic as DomainError).fields).toMatchObject({
      "changes.0.material": ["material NOPE-1 does not exist"],
      "changes.0.sites": ["site XXX does not exist"],
    });
    const after = await database.client`select max(seq)::int as seq, (select count(*)::int from change_requests) as n from audit_trail`;
    expect(after).toEqual(before);
  });

  it("becomes stale only when a release moves what it reads (its material, a BOM neighbour), refuses approval with 409 until rebased", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1015",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1015" }],
    });
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    const [ein] = await database.db.select({ id: sites.id }).from(sites).where(eq(sites.code, "EIN"));
    const [mch] = await database.db.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, "MCH-1011"));
    // Plain SQL: MCH-1011 and SUB-1015 share no BOM line at EIN (as parent, component or alternate).
    const [linked] = await database.client`
      select count(*)::int as n from bom_lines bl join sites s on s.id = bl.site_id and s.code = 'EIN'
      where array(select m.part_number from materials m where m.id in (bl.parent_material_id, bl.component_material_id)
                  union select m.part_number from bom_line_alternates a join materials m on m.id = a.material_id where a.bom_line_id = bl.id)
            @> array['MCH-1011', 'SUB-1015']`;
    expect(linked!.n).toBe(0);
    // SUB-1015's BOM parent at EIN (plain SQL): the analysis reads its rule too.
    const [parent] = await database.client`
      select p.id, p.part_number from bom_lines bl join sites s on s.id = bl.site_id and s.code = 'EIN'
      join materials p on p.id = bl.parent_material_id join materials c on c.id = bl.component_material_id
      where c.part_number = 'SUB-1015' order by p.part_number limit 1`;
    expect(parent).toBeDefined();
    // A renewal (no rule changes) moves nothing…
    await createRuleSetVersion(database.db, { siteId: ein!.id, actor: "test", reason: "renewal", changes: [] }, keyRing);
    const [cr] = await database.client`select id from change_requests where number = ${number}`;
    expect(await staleSites(database.db, cr!.id as number)).toEqual([]);
    // …nor does another material's release at EIN with no BOM link to it…
    await createRuleSetVersion(
      database.db,
      {
        siteId: ein!.id,
        actor: "test",
        reason: "another release",
        changes: [{ materialId: mch!.id, trackingMode: "lot", containerTracking: false, identifierFormatCodes: ["EIN-LOT"], consumptionScan: "identify" }],
      },
      keyRing,
    );
    expect(await staleSites(database.db, cr!.id as number)).toEqual([]);
    // …but a release changing its BOM parent's rule does, and the refusal names what moved.
    await createRuleSetVersion(
      database.db,
      {
        siteId: ein!.id,
        actor: "test",
        reason: "the parent",
        changes: [
          {
            materialId: parent!.id as number,
            trackingMode: "serial",
            containerTracking: false,
            identifierFormatCodes: ["EIN-SER"],
            consumptionScan: "identify",
          },
        ],
      },
      keyRing,
    );
    expect(await staleSites(database.db, cr!.id as number)).toEqual(["EIN"]);
    const stale = await sign(people.quinn!, number, "approved", "quality_reviewer").catch((e: unknown) => e as DomainError);
    expect(stale).toBeInstanceOf(DomainError);
    expect((stale as DomainError).status).toBe(409);
    expect((stale as DomainError).message).toMatch(/stale.*EIN.*Rebase/);
    expect((stale as DomainError).message).toContain(`the tracking rule of ${parent!.part_number as string} at EIN`);
    await rebaseChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    expect(await staleSites(database.db, cr!.id as number)).toEqual([]);
    expect(await sign(people.quinn!, number, "approved", "quality_reviewer")).toMatchObject({ ok: true, status: "approved" });
  });

  it("changes a BOM line's alternates; a coarser alternate needs a regulatory reviewer too", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Allow MCH-1029 for SUB-1009 in ASM-1002",
      changes: [{ kind: "alternates", material: "ASM-1002", component: "SUB-1009", sites: ["EIN"], alternates: "MCH-1029" }],
    });
    const [cr] = await database.client`select id, expanded_changes from change_requests where number = ${number}`;
    expect(cr!.expanded_changes).toEqual([{ kind: "alternates", partNumber: "ASM-1002", component: "SUB-1009", site: "EIN", alternates: ["MCH-1029"] }]);
    const approvals = await approvalsOf(database.db, cr!.id as number, cr!.expanded_changes as never);
    expect(approvals.required.map((r) => r.role)).toEqual(["quality_reviewer", "regulatory_reviewer"]);
    expect(approvals.required[1]!.reasons.join()).toMatch(/ASM-1002: a downgrade/);
    const bad = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      changes: [{ kind: "alternates", material: "ASM-1002", component: "RAW-1001", sites: ["EIN"], alternates: "NOPE-9" }],
    }).catch((e: unknown) => e as DomainError);
    expect((bad as DomainError).fields).toEqual({ "changes.0.component": ["EIN: ASM-1002 has no BOM line with primary component RAW-1001"] });
  });

  it("creates a new material through a change request, with its tracking rule in the same request", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "New pump drive SUB-2001, serialized at EIN",
      changes: [
        {
          kind: "new_material",
          partNumber: "SUB-2001",
          description: "Pump drive G2",
          unitOfMeasure: "EA",
          family: "SUB",
          riskClass: "high",
          regulatoryFlags: ["critical_to_safety"],
        },
        {
          kind: "tracking",
          material: "SUB-2001",
          sites: ["EIN"],
          trackingMode: "serial",
          containerTracking: false,
          identifierFormatCodes: ["EIN-SER"],
          consumptionScan: "identify",
        },
      ],
    });
    const [cr] = await database.client`select id, expanded_changes from change_requests where number = ${number}`;
    expect((cr!.expanded_changes as { kind: string }[]).map((c) => c.kind).sort()).toEqual(["new_material", "tracking"]);
    const approvals = await approvalsOf(database.db, cr!.id as number, cr!.expanded_changes as never);
    expect(approvals.required.map((r) => r.role)).toEqual(["quality_reviewer", "regulatory_reviewer"]);
    // Nothing exists before release: importing or any other path cannot bypass change control.
    const [exists] = await database.client`select count(*)::int as n from materials where part_number = 'SUB-2001'`;
    expect(exists!.n).toBe(0);
    const duplicate = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      changes: [
        { kind: "new_material", partNumber: "SUB-1001", description: "Again", unitOfMeasure: "EA", family: "NOPE", riskClass: "low", gtin: "10614141073464" },
      ],
    }).catch((e: unknown) => e as DomainError);
    expect((duplicate as DomainError).fields).toEqual({
      "changes.0.partNumber": ["material SUB-1001 already exists"],
      "changes.0.family": ["family NOPE does not exist"],
      "changes.0.gtin": ["GTIN 10614141073464 belongs to another material"],
    });
  });

  it("keeps a discussion that is not part of the signed content", async () => {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title: "Serialize SUB-1008",
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1008" }],
    });
    const [before] = await database.client`select content_hash from change_requests where number = ${number}`;
    await addComment(database.db, people.quinn!, number, { body: "Which scanners at WC30?" });
    const [after] = await database.client`select content_hash from change_requests where number = ${number}`;
    expect(after!.content_hash).toBe(before!.content_hash);
  });
});

describe("change requests under concurrency (real PostgreSQL)", () => {
  async function inReview(title: string, material: string, extra: Record<string, unknown> = {}) {
    const { number } = await createChangeRequest(database.db, people.emil!, {
      ...serializeSub1001AtEin,
      title,
      changes: [{ ...serializeSub1001AtEin.changes[0]!, material, ...extra }],
    });
    await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
    return number;
  }
  const settle = (promises: Promise<unknown>[]) => Promise.allSettled(promises);
  const statusOf = (r: PromiseSettledResult<unknown>) => (r.status === "fulfilled" ? 200 : r.reason instanceof DomainError ? r.reason.status : 500);

  it("two reviewers signing at once: one wins, the other gets 409, the audit trail has exactly one signature", async () => {
    const number = await inReview("Serialize SUB-1019", "SUB-1019");
    const version = await rowVersion(number);
    const results = await settle([
      signChangeRequest(database.db, people.quinn!, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "q.quality",
        password: PASSWORD,
        rowVersion: version,
        ...(await reviewed(database.db, number)),
      }),
      signChangeRequest(database.db, people.both!, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "b.both",
        password: PASSWORD,
        rowVersion: version,
        ...(await reviewed(database.db, number)),
      }),
    ]);
    expect(results.map(statusOf).sort()).toEqual([200, 409]);
    expect(await status(number)).toBe("approved");
    const [counts] = await database.client`select
      (select count(*)::int from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number}) as signatures,
      (select count(*)::int from audit_trail where entity_id = ${number} and action = 'change_request.sign') as audited`;
    expect(counts).toEqual({ signatures: 1, audited: 1 });
  });

  it("an edit racing an approval: one consistent state, 409 for the loser", async () => {
    const number = await inReview("Serialize SUB-1010", "SUB-1010");
    const version = await rowVersion(number);
    const results = await settle([
      signChangeRequest(database.db, people.quinn!, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "q.quality",
        password: PASSWORD,
        rowVersion: version,
        ...(await reviewed(database.db, number)),
      }),
      updateChangeRequest(database.db, people.emil!, number, version, {
        ...serializeSub1001AtEin,
        title: "Serialize SUB-1010 (edited)",
        changes: [{ ...serializeSub1001AtEin.changes[0]!, material: "SUB-1010" }],
      }),
    ]);
    expect(results.map(statusOf).sort()).toEqual([200, 409]);
    const [cr] = await database.client`select status, revision, title from change_requests where number = ${number}`;
    const valid =
      await database.client`select count(*)::int as n from signatures s join change_requests c on c.id = s.change_request_id where c.number = ${number} and voided_at is null`;
    if (results[0]!.status === "fulfilled") {
      expect(cr).toMatchObject({ status: "approved", revision: 1 });
      expect(valid[0]!.n).toBe(1);
    } else {
      expect(cr).toMatchObject({ status: "in_review", revision: 2, title: "Serialize SUB-1010 (edited)" });
      expect(valid[0]!.n).toBe(0);
    }
  });

  it("an approval racing a rebase: one consistent state, 409 for the loser", async () => {
    const number = await inReview("Serialize SUB-1005", "SUB-1005");
    const version = await rowVersion(number);
    const results = await settle([
      signChangeRequest(database.db, people.quinn!, number, {
        meaning: "approved",
        role: "quality_reviewer",
        username: "q.quality",
        password: PASSWORD,
        rowVersion: version,
        ...(await reviewed(database.db, number)),
      }),
      rebaseChangeRequest(database.db, people.emil!, number, version),
    ]);
    expect(results.map(statusOf).sort()).toEqual([200, 409]);
    const [cr] = await database.client`select status, revision from change_requests where number = ${number}`;
    expect(cr).toEqual(results[0]!.status === "fulfilled" ? { status: "approved", revision: 1 } : { status: "in_review", revision: 2 });
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
  });
});
