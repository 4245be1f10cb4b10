/**
 * Releasing quarantined EPCIS events (ADR 014): events that named a GTIN C-981 did not know are
 * applied once every GTIN they name is a material, and a released event that would close a
 * genealogy cycle refuses the release (ADR 024). Also the one-off relabelling of imported containers
 * under the logistics-unit material (ADR 014's containers amendment).
 */
import { sql } from "drizzle-orm";
import { planEvent, type EpcisEvent, type EventPlan } from "../domain/epcis/events";
import { LOGISTICS_UNIT_MATERIAL } from "../domain/material";
import type { Db, Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { applyPlans, loadLogisticsUnit, loadMaterials, lockEpcisImports, type EpcisImportSummary, type MovedItem } from "./epcis-apply.server";
import { cycleText, findNewCycles, lastEdgeId } from "./epcis-cycles.server";

/**
 * Releases quarantined EPCIS events whose GTINs are now all C-981 materials into the genealogy.
 * Called in the transaction that creates a material or gives it a GTIN (a released change
 * request, app/services/releases.server.ts), and by the CLI `epcis:release-quarantine`.
 * Events still naming an unknown GTIN stay quarantined with the remaining GTINs.
 */
export async function releaseQuarantine(tx: Tx, gtin: string, actor: string): Promise<{ released: number; stillQuarantined: number }> {
  // Waits for an import in flight so its quarantined events are seen (a no-op when the caller holds it).
  await lockEpcisImports(tx);
  const rows = await tx.execute<{ event_key: string; event_time: string; file_digest: string; site_id: number; body: EpcisEvent }>(sql`
    select event_key, to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as event_time, file_digest, site_id, body
    from epcis_events where status = 'quarantined' and unknown_gtins @> array[${gtin}]::text[] order by id for update`);
  if (!rows.length) return { released: 0, stillQuarantined: 0 };
  const materials = await loadMaterials(tx);
  let released = 0;
  let still = 0;
  const bySite = new Map<number, { stored: { key: string; eventTime: string }; plan: EventPlan; digest: string }[]>();
  for (const r of rows) {
    const plan = planEvent(r.body);
    const missing = plan.gtins.filter((g) => !materials.has(g));
    if (missing.length) {
      still += 1;
      await tx.execute(sql`update epcis_events set unknown_gtins = ${`{${missing.join(",")}}`}::text[] where event_key = ${r.event_key}`);
      continue;
    }
    released += 1;
    const list = bySite.get(Number(r.site_id)) ?? [];
    list.push({ stored: { key: r.event_key, eventTime: String(r.body.eventTime) }, plan, digest: r.file_digest });
    bySite.set(Number(r.site_id), list);
    await tx.execute(sql`update epcis_events set status = 'applied', unknown_gtins = '{}', applied_at = now() where event_key = ${r.event_key}`);
  }
  const summary = { itemsCreated: 0, itemsMovedEarlier: 0, edgesCreated: 0, notPlaced: 0 } as EpcisImportSummary;
  const moved: MovedItem[] = [];
  const logisticsUnit = await loadLogisticsUnit(tx);
  const sinceEdgeId = await lastEdgeId(tx);
  for (const [siteId, applied] of bySite) {
    await applyPlans({ tx, siteId, digest: "", materials, logisticsUnit, summary, moved }, applied);
  }
  if (summary.edgesCreated) {
    // The released events' edges may close a cycle with the genealogy stored since they arrived (ADR 024).
    const keys = [...bySite.values()].flatMap((list) => list.map((a) => a.stored.key));
    const cycles = await findNewCycles(tx, { sinceEdgeId, eventKeys: keys }, null);
    if (cycles.length) {
      throw new DomainError(
        "conflict",
        `releasing GTIN ${gtin}'s quarantined EPCIS events would close a genealogy cycle: ${cycles.map(cycleText).join("; ")}; declare the wrong event erroneous (an EPCIS errorDeclaration) and release again`,
      );
    }
  }
  await appendAudit(tx, {
    actor,
    action: "epcis.quarantine_release",
    entityType: "gtin",
    entityId: gtin,
    after: {
      released,
      stillQuarantined: still,
      itemsCreated: summary.itemsCreated,
      itemsMovedEarlier: summary.itemsMovedEarlier,
      itemsMoved: moved,
      edgesCreated: summary.edgesCreated,
    },
  });
  return { released, stillQuarantined: still };
}

export async function releaseQuarantineNow(db: Db, gtin: string, actor: string) {
  return db.transaction((tx) => releaseQuarantine(tx, gtin, actor));
}

/**
 * Containers imported before ADR 014's containers amendment took the material of the first trade
 * item they held. This puts every imported container that is under a product back under the
 * logistics-unit material, in one transaction with one audit row naming each container and the
 * material it had (its edges, what it holds, are untouched). Containers of other provenance (seed,
 * API: the plant labelled them) are left as they are. Run from the CLI (`epcis:relabel-containers`);
 * a second run finds nothing and writes nothing.
 */
export async function relabelImportedContainers(db: Db, actor: string): Promise<{ relabelled: { identifier: string; was: string }[] }> {
  return db.transaction(async (tx) => {
    // No import in flight: it could be placing containers meanwhile.
    await lockEpcisImports(tx);
    const logisticsUnit = await loadLogisticsUnit(tx);
    const rows = await tx.execute<{ identifier: string; was: string }>(sql`
      with moved as (
        update trace_items t set material_id = ${logisticsUnit}
        from materials m
        where m.id = t.material_id and t.kind = 'container' and t.provenance_kind = 'import' and m.system_role is null
        returning t.identifier, m.part_number as was)
      select identifier, was from moved order by identifier`);
    const relabelled = rows.map((r) => ({ identifier: r.identifier, was: r.was }));
    if (relabelled.length) {
      await appendAudit(tx, {
        actor,
        action: "epcis.containers_relabelled",
        entityType: "trace_item",
        entityId: "imported-containers",
        before: { containers: relabelled.map((r) => ({ identifier: r.identifier, material: r.was })) },
        after: { material: LOGISTICS_UNIT_MATERIAL.partNumber, count: relabelled.length },
        reason: "a container is a logistics unit, never labelled with a child's material (ADR 014)",
      });
    }
    return { relabelled };
  });
}
