import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { identifierFormats, materialFamilies, materials, ruleSetVersions, sites, trackingRules } from "../../db/schema";
import { ruleInForce } from "../../app/queries/tracking-rules.server";
import { appendAudit } from "../../app/services/audit.server";
import { currentDataPoint } from "../../app/queries/audit.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import type { Database } from "../../app/utils/db.server";
import { DomainError } from "../../app/utils/errors.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";
import type { KeyRing } from "../../app/utils/signing.server";

let keyRing: KeyRing;

let database: Database;
let siteId: number;
let pumpId: number;
let resinId: number;

const serial = { trackingMode: "serial" as const, containerTracking: false, consumptionScan: "identify" as const, identifierFormatCodes: ["T-SER"] };
const lot = { trackingMode: "lot" as const, containerTracking: false, consumptionScan: "identify" as const, identifierFormatCodes: ["T-LOT"] };

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  const { db } = database;
  [{ id: siteId }] = (await db.insert(sites).values({ code: "T1", name: "Test site", timeZone: "UTC" }).returning({ id: sites.id })) as [{ id: number }];
  const [family] = await db.insert(materialFamilies).values({ code: "F", name: "Family" }).returning({ id: materialFamilies.id });
  const rows = await db
    .insert(materials)
    .values([
      { partNumber: "PUMP-1", description: "Pump", unitOfMeasure: "EA", riskClass: "high", familyId: family!.id },
      { partNumber: "RES-1", description: "Resin", unitOfMeasure: "KG", riskClass: "low", familyId: family!.id },
    ])
    .returning({ id: materials.id });
  pumpId = rows[0]!.id;
  resinId = rows[1]!.id;
  await db.insert(identifierFormats).values([
    { code: "T-SER", name: "serial", identifies: "serial", siteId: null, definition: { kind: "gs1", ais: ["01", "21"] } },
    { code: "T-LOT", name: "lot", identifies: "lot", siteId: null, definition: { kind: "gs1", ais: ["01", "10"] } },
  ]);
});

describe("createRuleSetVersion", () => {
  it("creates versions 1, 2, 3 with intervals, digests chained, and the rule in force at any time", async () => {
    const v1 = await createRuleSetVersion(
      database.db,
      {
        siteId,
        effectiveFrom: new Date("2025-01-01T00:00:00Z"),
        backdate: true,
        actor: "test",
        reason: "first",
        changes: [
          { materialId: pumpId, ...lot },
          { materialId: resinId, ...lot },
        ],
      },
      keyRing,
    );
    const v2 = await createRuleSetVersion(
      database.db,
      {
        siteId,
        effectiveFrom: new Date("2025-06-01T00:00:00Z"),
        backdate: true,
        actor: "test",
        reason: "serialize the pump",
        changes: [{ materialId: pumpId, ...serial }],
      },
      keyRing,
    );
    const v3 = await createRuleSetVersion(database.db, { siteId, actor: "test", reason: "no change, now", changes: [] }, keyRing);
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(v3.effectiveFrom.getTime()).toBe(v3.issuedAt.getTime());

    const stored = await database.db.select().from(ruleSetVersions).where(eq(ruleSetVersions.siteId, siteId));
    expect(stored.map((v) => v.previousDigest)).toEqual([null, v1.digest, v2.digest]);
    const doc = JSON.parse(new TextDecoder().decode(stored[1]!.canonical));
    expect(doc).toMatchObject({ type: "c981.ruleset", site: "T1", version: 2, previousDigest: `sha256:${v1.digest}` });
    expect(doc.rules.map((r: { partNumber: string; trackingMode: string }) => [r.partNumber, r.trackingMode])).toEqual([
      ["PUMP-1", "serial"],
      ["RES-1", "lot"],
    ]);
    expect(stored[1]!.backdated).toBe(true);

    const at = (iso: string) => ruleInForce(database.db, { materialId: pumpId, siteId, at: new Date(iso) });
    expect(await at("2024-12-31T23:59:59.999Z")).toMatchObject({ state: "legacy", firstVersion: { version: 1 } });
    expect(await at("2025-01-01T00:00:00Z")).toMatchObject({ state: "ruled", version: { version: 1 }, rule: { trackingMode: "lot" } });
    expect(await at("2025-05-31T23:59:59.999Z")).toMatchObject({ state: "ruled", rule: { trackingMode: "lot", version: 1 } });
    expect(await at("2025-06-01T00:00:00Z")).toMatchObject({ state: "ruled", rule: { trackingMode: "serial", version: 2 } });
    expect(await at("2030-01-01T00:00:00Z")).toMatchObject({ state: "ruled", version: { version: 3 }, rule: { trackingMode: "serial", version: 2 } });

    const pumpRules = await database.db.select().from(trackingRules).where(eq(trackingRules.materialId, pumpId)).orderBy(trackingRules.effectiveFrom);
    expect(pumpRules.map((r) => [r.effectiveFrom.toISOString(), r.effectiveTo?.toISOString() ?? null])).toEqual([
      ["2025-01-01T00:00:00.000Z", "2025-06-01T00:00:00.000Z"],
      ["2025-06-01T00:00:00.000Z", null],
    ]);
  });

  it("refuses a past effectiveFrom outside the seed mode, and one before the previous version, changing nothing", async () => {
    const point = await currentDataPoint(database.db);
    await expect(
      createRuleSetVersion(database.db, { siteId, effectiveFrom: new Date("2020-01-01T00:00:00Z"), actor: "t", reason: "r", changes: [] }, keyRing),
    ).rejects.toMatchObject({ fields: { effectiveFrom: [expect.stringMatching(/before the time of issue/)] } });
    await expect(
      createRuleSetVersion(
        database.db,
        { siteId, effectiveFrom: new Date("2025-03-01T00:00:00Z"), backdate: true, actor: "t", reason: "r", changes: [] },
        keyRing,
      ),
    ).rejects.toMatchObject({ fields: { effectiveFrom: [expect.stringMatching(/before version 3/)] } });
    expect(await currentDataPoint(database.db)).toBe(point);
  });

  it("names each invalid change by its field and writes nothing", async () => {
    const point = await currentDataPoint(database.db);
    const versionsBefore = (await database.db.select({ id: ruleSetVersions.id }).from(ruleSetVersions)).length;
    const error = await createRuleSetVersion(
      database.db,
      {
        siteId,
        actor: "t",
        reason: "r",
        changes: [
          { materialId: resinId, trackingMode: "serial", containerTracking: true, consumptionScan: "identify", identifierFormatCodes: ["T-LOT", "NOPE"] },
          { materialId: 999_999, ...lot },
        ],
      },
      keyRing,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    const fields = (error as DomainError).fields;
    expect(fields["changes.0.identifierFormatCodes"]).toEqual(
      expect.arrayContaining(["unknown identifier format NOPE", "serial tracking needs an identifier format for serials"]),
    );
    expect(fields["changes.0.identifierFormatCodes"]!.join()).toMatch(/container tracking needs/);
    expect(fields["changes.1.materialId"]).toEqual(["material 999999 does not exist"]);
    expect(await currentDataPoint(database.db)).toBe(point);
    expect((await database.db.select({ id: ruleSetVersions.id }).from(ruleSetVersions)).length).toBe(versionsBefore);
  });

  it("is the only way in: the database refuses gaps, edits and deletes of versions and rule history", async () => {
    const [v] = await database.db.select().from(ruleSetVersions).where(eq(ruleSetVersions.version, 1));
    await expect(
      database.client`insert into rule_set_versions (site_id, version, effective_from, issued_at, canonical, digest, created_by, reason)
        values (${siteId}, 9, now(), now(), '\\x00', ${"0".repeat(64)}, 'x', 'x')`,
    ).rejects.toThrow(/must be 4/);
    await expect(database.client`update rule_set_versions set reason = 'x' where id = ${v!.id}`).rejects.toThrow(/append-only/);
    await expect(database.client`delete from rule_set_versions where id = ${v!.id}`).rejects.toThrow(/append-only/);
    await expect(database.client`update tracking_rules set tracking_mode = 'none'`).rejects.toThrow(/only effective_to/);
    await expect(database.client`delete from tracking_rules`).rejects.toThrow(/cannot be deleted/);
  });

  it("lets the end of a rule be set once, only where a later version of its site begins", async () => {
    // A closed rule cannot be reopened (two open rules) nor moved to another end.
    const [closed] = await database.client`select id from tracking_rules where site_id = ${siteId} and effective_to is not null limit 1`;
    await expect(database.client`update tracking_rules set effective_to = null where id = ${closed!.id}`).rejects.toThrow(/set once/);
    await expect(database.client`update tracking_rules set effective_to = effective_to - interval '1 day' where id = ${closed!.id}`).rejects.toThrow(
      /set once/,
    );
    // An open rule cannot be closed at a date no later version of its site begins at.
    const [open] = await database.client`select id from tracking_rules where site_id = ${siteId} and effective_to is null limit 1`;
    await expect(database.client`update tracking_rules set effective_to = effective_from + interval '1 hour' where id = ${open!.id}`).rejects.toThrow(
      /later rule-set version/,
    );
    const [{ n }] = (await database.client`select count(*)::int as n from tracking_rules where id = ${open!.id} and effective_to is null`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(1);
  });

  it("lets only the transaction inserting the site's latest version close a rule, at its start (review finding 2)", async () => {
    // An open rule, and a later version of its site that is not the latest (it began in the past).
    const [pair] = await database.client<{ id: number; endAt: string; code: string }[]>`
      select t.id, v.effective_from::text as "endAt", s.code from tracking_rules t
      join rule_set_versions v on v.site_id = t.site_id and v.id > t.rule_set_version_id
      join sites s on s.id = t.site_id
      where t.site_id = ${siteId} and t.effective_to is null
        and v.version < (select max(version) from rule_set_versions where site_id = ${siteId})
      order by t.id, v.version limit 1`;
    expect(pair).toBeDefined();
    const [latest] = await database.client<{ version: number; from: string }[]>`
      select version, effective_from::text as from from rule_set_versions where site_id = ${siteId} order by version desc limit 1`;
    // With an audit row naming a version of the site, as c981_app: neither a past version's start
    // nor the latest version's start (inserted by another transaction) may close the rule.
    for (const end of [pair!.endAt, latest!.from]) {
      const error = await database.db
        .transaction(async (tx) => {
          await appendAudit(tx, {
            actor: "mallory",
            action: "rule_set_version.create",
            entityType: "rule_set_version",
            entityId: `${pair!.code}/${latest!.version}`,
          });
          await tx.execute(sql`update tracking_rules set effective_to = ${end}::timestamptz where id = ${pair!.id}`);
        })
        .then(
          () => undefined,
          (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
        );
      expect(error).toMatch(/later rule-set version/);
    }
    const [still] = await database.client`select effective_to from tracking_rules where id = ${pair!.id}`;
    expect(still!.effective_to).toBeNull();
    const stamped = await database.client`select count(*)::int as n from rule_set_versions where site_id = ${siteId} and txid is null`;
    expect(stamped[0]!.n).toBe(0);
  });

  it("gives concurrent releases for one site distinct consecutive numbers", async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => createRuleSetVersion(database.db, { siteId, actor: `t${i}`, reason: "concurrent", changes: [] }, keyRing)),
    );
    expect(results.map((r) => r.version).sort()).toEqual([4, 5, 6, 7]);
  });
});
