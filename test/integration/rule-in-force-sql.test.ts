/**
 * The screens list the rule in force of many materials at once in SQL (rulesInForce,
 * versionsInForce, trackingModesInForce in app/queries/rules-in-force.server.ts), which mirrors the
 * pure resolveRuleInForce. This pins the mirror: for every (material, site) of the demo plant, at
 * instants around each version's start, the SQL says what resolveRuleInForce says of the same rows
 * read plainly.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { resolveRuleInForce, type RuleInForce, type RuleInterval, type VersionPoint } from "../../app/domain/tracking-rule";
import { modeKey, rulesInForce, trackingModesInForce, versionsInForce } from "../../app/queries/rules-in-force.server";
import { DEMO_VERSION_DATES } from "../../app/seed/demo-plant";
import { seedDemoPlant } from "../../app/seed/seed.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
}, 120_000);

const ms = (date: Date, delta: number) => new Date(date.getTime() + delta);

/** Instants before, at and just around each version's start, and well after the last. */
function instants(starts: readonly Date[]): Date[] {
  const all = starts.flatMap((s) => [ms(s, -1), s, ms(s, 1)]);
  all.push(ms(starts[0]!, -365 * 86_400_000), ms(starts.at(-1)!, 365 * 86_400_000));
  return [...new Map(all.map((d) => [d.getTime(), d])).values()].sort((a, b) => a.getTime() - b.getTime());
}

interface Plain {
  materials: number[];
  sites: number[];
  versions: Map<number, VersionPoint[]>;
  rules: Map<string, RuleInterval[]>;
}

/** A timestamp column as ISO 8601 text in UTC, to the millisecond (the client hands timestamps over as text). */
const iso = (column: string) => database.client.unsafe(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** The rule-set versions and tracking rules as stored, without the screens' SQL. */
async function readPlainly(): Promise<Plain> {
  const c = database.client;
  const [materialRows, siteRows, versionRows, ruleRows] = await Promise.all([
    c<{ id: number }[]>`select id from materials order by id`,
    c<{ id: number }[]>`select id from sites order by id`,
    c<{ site_id: number; version: number; effective_from: string }[]>`
      select site_id, version, ${iso("effective_from")} as effective_from from rule_set_versions`,
    c<
      {
        material_id: number;
        site_id: number;
        tracking_mode: RuleInterval["trackingMode"];
        container_tracking: boolean;
        identifier_format_codes: string[];
        consumption_scan: RuleInterval["consumptionScan"];
        effective_from: string;
        effective_to: string | null;
        version: number;
      }[]
    >`select r.material_id, r.site_id, r.tracking_mode, r.container_tracking, r.identifier_format_codes, r.consumption_scan,
             ${iso("r.effective_from")} as effective_from, ${iso("r.effective_to")} as effective_to, v.version
      from tracking_rules r join rule_set_versions v on v.id = r.rule_set_version_id`,
  ]);
  const versions = new Map<number, VersionPoint[]>();
  for (const v of versionRows) versions.set(v.site_id, [...(versions.get(v.site_id) ?? []), { version: v.version, effectiveFrom: new Date(v.effective_from) }]);
  const rules = new Map<string, RuleInterval[]>();
  for (const r of ruleRows) {
    const key = modeKey(r.material_id, r.site_id);
    rules.set(key, [
      ...(rules.get(key) ?? []),
      {
        trackingMode: r.tracking_mode,
        containerTracking: r.container_tracking,
        identifierFormatCodes: r.identifier_format_codes,
        consumptionScan: r.consumption_scan,
        effectiveFrom: new Date(r.effective_from),
        effectiveTo: r.effective_to === null ? null : new Date(r.effective_to),
        version: r.version,
      },
    ]);
  }
  return { materials: materialRows.map((m) => m.id), sites: siteRows.map((s) => s.id), versions, rules };
}

function resolved(plain: Plain, materialId: number, siteId: number, at: Date): RuleInForce {
  return resolveRuleInForce(plain.versions.get(siteId) ?? [], plain.rules.get(modeKey(materialId, siteId)) ?? [], at);
}

describe("the rule in force in SQL", () => {
  it("names, for every (material, site) at every instant, the rule resolveRuleInForce names", async () => {
    const plain = await readPlainly();
    const starts = [...new Set([...plain.versions.values()].flat().map((v) => v.effectiveFrom.getTime()))].sort((a, b) => a - b).map((t) => new Date(t));
    expect(plain.sites.length).toBeGreaterThan(1);
    expect(plain.materials.length).toBeGreaterThan(10);
    expect([...plain.versions.values()].every((v) => v.length >= DEMO_VERSION_DATES.length)).toBe(true);
    const states = new Set<RuleInForce["state"]>();
    let compared = 0;
    for (const at of instants(starts)) {
      let ruled = 0;
      const rif = rulesInForce(database.db, at);
      const rows = await database.db.select({ materialId: rif.materialId, siteId: rif.siteId, trackingMode: rif.trackingMode, version: rif.version }).from(rif);
      const sql = new Map(rows.map((r) => [modeKey(r.materialId, r.siteId), r]));
      expect(sql.size, `one row per (material, site) at ${at.toISOString()}`).toBe(rows.length);
      const modes = await trackingModesInForce(database.db, { materialIds: plain.materials, at });
      for (const siteId of plain.sites) {
        for (const materialId of plain.materials) {
          const key = modeKey(materialId, siteId);
          const expected = resolved(plain, materialId, siteId, at);
          const where = `material ${materialId} at site ${siteId}, ${at.toISOString()}`;
          states.add(expected.state);
          if (expected.state === "ruled") {
            ruled++;
            expect(sql.get(key), where).toEqual({ materialId, siteId, trackingMode: expected.rule.trackingMode, version: expected.rule.version });
            expect(modes.get(key), where).toBe(expected.rule.trackingMode);
          } else {
            // Legacy or unruled: no row, which the materials filter reads as "unruled".
            expect(sql.get(key), where).toBeUndefined();
            expect(modes.has(key), where).toBe(false);
          }
          compared++;
        }
      }
      expect(sql.size, `no other row at ${at.toISOString()}`).toBe(ruled);
    }
    // The demo plant has legacy periods, materials ruled only by a later version, and rules.
    expect(states).toEqual(new Set(["legacy", "unruled", "ruled"]));
    expect(compared).toBe(plain.materials.length * plain.sites.length * instants(starts).length);
  });

  it("names, for every site at every instant, the version resolveRuleInForce takes as in force", async () => {
    const plain = await readPlainly();
    const starts = [...new Set([...plain.versions.values()].flat().map((v) => v.effectiveFrom.getTime()))].sort((a, b) => a - b).map((t) => new Date(t));
    const anyMaterial = plain.materials[0]!;
    for (const at of instants(starts)) {
      const vif = versionsInForce(database.db, at);
      const rows = await database.db.select({ siteId: vif.siteId, version: vif.version, effectiveFrom: vif.effectiveFrom }).from(vif);
      const sql = new Map(rows.map((r) => [r.siteId, r]));
      for (const siteId of plain.sites) {
        const expected = resolved(plain, anyMaterial, siteId, at);
        const where = `site ${siteId}, ${at.toISOString()}`;
        if (expected.state === "legacy") expect(sql.get(siteId), where).toBeUndefined();
        else expect(sql.get(siteId), where).toEqual({ siteId, version: expected.version.version, effectiveFrom: expected.version.effectiveFrom });
      }
    }
  });
});
