import {
  bomLineAlternates,
  bomLines,
  externalMasterRecords,
  genealogyEdges,
  identifierFormats,
  labelTemplateFormats,
  labelTemplates,
  materialFamilies,
  materials,
  routingOperationMaterials,
  routingOperations,
  sites,
  traceabilityRequirements,
  traceItems,
  userRoles,
  users,
  workOrders,
} from "../../db/schema";
import { appendAudit } from "../services/audit.server";
import { changeQualityEventStatus, raiseQualityEvent } from "../services/quality-events.server";
import { createRuleSetVersion } from "../services/rule-sets.server";
import type { Db } from "../utils/db.server";
import { hashPassword } from "../utils/password.server";
import type { KeyRing } from "../utils/signing.server";
import { DEMO_ACTOR, DEMO_SEED, DEMO_START, generateDemoPlant } from "./demo-plant";
import { demoQualityEvents } from "./demo-quality-events";
import { DEMO_TRACEABILITY_POLICY } from "./demo-traceability-policy";

/** Every demo user's password; README lists the users. Change them before real use. */
export const DEMO_PASSWORD = "c981-demo-2026";

export interface SeedSummary {
  sites: number;
  materials: number;
  ruleSetVersions: number;
  traceItems: number;
  genealogyEdges: number;
  workOrders: number;
  auditSeq: number;
}

function chunks<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Loads the demo plant in one transaction. Master data and genealogy are bulk work, summarized by
 * one audit row; each rule-set version is created through createRuleSetVersion (the audited,
 * back-dating seed mode), which audits itself.
 */
export async function seedDemoPlant(db: Db, keyRing: KeyRing, options: { seed?: number; shiftDays?: number } = {}): Promise<SeedSummary> {
  const shiftDays = options.shiftDays ?? 0;
  const shiftMs = shiftDays * 86_400_000;
  const plant = generateDemoPlant(options.seed ?? DEMO_SEED, { shiftDays });
  const passwordHashes = await Promise.all(plant.users.map(() => hashPassword(DEMO_PASSWORD)));

  return db.transaction(async (tx) => {
    // The plant's master data predates its genealogy; the audit row records when it was loaded.
    const masterDataSince = new Date(DEMO_START.getTime() + shiftMs - 30 * 86_400_000);
    const siteRows = await tx
      .insert(sites)
      .values(plant.sites.map(({ code, name, timeZone }) => ({ code, name, timeZone, createdAt: masterDataSince })))
      .returning({ id: sites.id, code: sites.code });
    const siteId = new Map(siteRows.map((r) => [r.code, r.id]));
    const sid = (code: string) => siteId.get(code)!;

    const familyRows = await tx.insert(materialFamilies).values(plant.families).returning({ id: materialFamilies.id, code: materialFamilies.code });
    const familyId = new Map(familyRows.map((r) => [r.code, r.id]));

    const materialRows = await tx
      .insert(materials)
      .values(
        plant.materials.map((m) => ({
          partNumber: m.partNumber,
          gtin: m.gtin,
          description: m.description,
          unitOfMeasure: m.unitOfMeasure,
          riskClass: m.riskClass,
          regulatoryFlags: m.regulatoryFlags,
          familyId: familyId.get(m.family)!,
          createdAt: masterDataSince,
        })),
      )
      .returning({ id: materials.id, partNumber: materials.partNumber });
    const materialId = new Map(materialRows.map((r) => [r.partNumber, r.id]));
    const mid = (partNumber: string) => materialId.get(partNumber)!;

    const formatRows = await tx
      .insert(identifierFormats)
      .values(
        plant.formats.map((f) => ({ code: f.code, name: f.name, identifies: f.identifies, siteId: f.site ? sid(f.site) : null, definition: f.definition })),
      )
      .returning({ id: identifierFormats.id, code: identifierFormats.code });
    const formatId = new Map(formatRows.map((r) => [r.code, r.id]));

    const userRows = await tx
      .insert(users)
      // Seeded as changed (ADR 020): the demo users sign with the documented demo password at once.
      .values(
        plant.users.map((u, i) => ({
          username: u.username,
          displayName: u.displayName,
          passwordHash: passwordHashes[i]!,
          passwordMustChange: false,
          createdBy: "seed",
          // Demo addresses (ADR 032): notifications are e-mailed when C981_SMTP_URL is set.
          email: `${u.username}@plant.example`,
        })),
      )
      .returning({ id: users.id, username: users.username });
    await tx.insert(userRoles).values(plant.users.map((u) => ({ userId: userRows.find((r) => r.username === u.username)!.id, role: u.role, siteId: null })));

    for (const batch of chunks(plant.bomLines)) {
      const rows = await tx
        .insert(bomLines)
        .values(
          batch.map((b) => ({
            siteId: sid(b.site),
            parentMaterialId: mid(b.parent),
            componentMaterialId: mid(b.component),
            lineNo: b.lineNo,
            quantity: b.quantity,
            unit: b.unit,
          })),
        )
        .returning({ id: bomLines.id, siteId: bomLines.siteId, parentMaterialId: bomLines.parentMaterialId, lineNo: bomLines.lineNo });
      const lineId = new Map(rows.map((r) => [`${r.siteId}|${r.parentMaterialId}|${r.lineNo}`, r.id]));
      const alternates = batch.flatMap((b) =>
        b.alternates.map((alt, i) => ({ bomLineId: lineId.get(`${sid(b.site)}|${mid(b.parent)}|${b.lineNo}`)!, materialId: mid(alt), priority: i + 1 })),
      );
      if (alternates.length) await tx.insert(bomLineAlternates).values(alternates);
    }

    for (const batch of chunks(plant.routings)) {
      const rows = await tx
        .insert(routingOperations)
        .values(batch.map((r) => ({ siteId: sid(r.site), materialId: mid(r.partNumber), step: r.step, workCentre: r.workCentre, description: r.description })))
        .returning({ id: routingOperations.id, siteId: routingOperations.siteId, materialId: routingOperations.materialId, step: routingOperations.step });
      const opId = new Map(rows.map((r) => [`${r.siteId}|${r.materialId}|${r.step}`, r.id]));
      const consumed = batch.flatMap((r) =>
        r.consumes.map((c) => ({
          operationId: opId.get(`${sid(r.site)}|${mid(r.partNumber)}|${r.step}`)!,
          materialId: mid(c.partNumber),
          consumptionScan: c.consumptionScan,
        })),
      );
      if (consumed.length) await tx.insert(routingOperationMaterials).values(consumed);
    }

    let versionCount = 0;
    for (const version of plant.versions) {
      for (const site of plant.sites) {
        await createRuleSetVersion(
          tx,
          {
            siteId: sid(site.code),
            effectiveFrom: version.effectiveFrom,
            backdate: true,
            actor: DEMO_ACTOR,
            reason: version.reason,
            changes: version.rules
              .filter((r) => r.site === site.code)
              .map((r) => ({
                materialId: mid(r.partNumber),
                trackingMode: r.trackingMode,
                containerTracking: r.containerTracking,
                consumptionScan: r.consumptionScan,
                identifierFormatCodes: r.identifierFormatCodes,
              })),
          },
          keyRing,
        );
        versionCount += 1;
      }
    }

    for (const template of plant.labelTemplates) {
      const [row] = await tx
        .insert(labelTemplates)
        .values({ siteId: sid(template.site), code: template.code, name: template.name, workCentre: template.workCentre })
        .returning({ id: labelTemplates.id });
      await tx.insert(labelTemplateFormats).values(template.formats.map((code) => ({ labelTemplateId: row!.id, identifierFormatId: formatId.get(code)! })));
    }

    const workOrderId = new Map<string, number>();
    for (const batch of chunks(plant.workOrders)) {
      const rows = await tx
        .insert(workOrders)
        .values(
          batch.map((w) => ({
            number: w.number,
            siteId: sid(w.site),
            materialId: mid(w.partNumber),
            quantity: w.quantity,
            unit: w.unit,
            status: w.status,
            openedAt: w.openedAt,
            closedAt: w.closedAt,
          })),
        )
        .returning({ id: workOrders.id, number: workOrders.number });
      for (const r of rows) workOrderId.set(r.number, r.id);
    }

    // Trace item ids are matched back by (material, identifier), which is unique.
    const itemId: number[] = new Array(plant.traceItems.length);
    const indexByKey = new Map(plant.traceItems.map((t, i) => [`${mid(t.partNumber)}|${t.identifier}`, i]));
    for (const batch of chunks(plant.traceItems)) {
      const rows = await tx
        .insert(traceItems)
        .values(
          batch.map((t) => ({
            kind: t.kind,
            identifier: t.identifier,
            materialId: mid(t.partNumber),
            siteId: sid(t.site),
            quantity: t.quantity,
            unit: t.unit,
            status: t.status,
            createdAt: t.createdAt,
            provenanceKind: "seed" as const,
          })),
        )
        .returning({ id: traceItems.id, materialId: traceItems.materialId, identifier: traceItems.identifier });
      for (const r of rows) itemId[indexByKey.get(`${r.materialId}|${r.identifier}`)!] = r.id;
    }

    for (const batch of chunks(plant.edges)) {
      await tx.insert(genealogyEdges).values(
        batch.map((e) => ({
          eventRef: e.eventRef,
          kind: e.kind,
          inputItemId: itemId[e.input]!,
          outputItemId: itemId[e.output]!,
          quantity: e.quantity,
          unit: e.unit,
          siteId: sid(e.site),
          occurredAt: e.occurredAt,
          workOrderId: e.workOrder ? workOrderId.get(e.workOrder)! : null,
          provenanceKind: "seed" as const,
        })),
      );
    }

    const importedAt = new Date(Date.parse("2026-10-30T06:00:00.000Z") + shiftMs);
    await tx.insert(externalMasterRecords).values(
      plant.externalRecords.map((r) => ({
        system: r.system,
        externalKey: r.externalKey,
        materialId: r.partNumber ? mid(r.partNumber) : null,
        siteId: r.site ? sid(r.site) : null,
        trackingFlag: r.trackingFlag,
        trackingMode: r.trackingMode,
        payload: r.payload,
        importedAt,
        sourceDigest: `demo-seed-${options.seed ?? DEMO_SEED}`,
      })),
    );

    // The plant's required traceability as its quality system stated it when the plant was loaded (ADR 035).
    await tx.insert(traceabilityRequirements).values(
      DEMO_TRACEABILITY_POLICY.map((r) => ({
        scope: r.scope,
        materialId: r.scope === "material" ? mid(r.partNumber) : null,
        familyId: r.scope === "family" ? familyId.get(r.family)! : null,
        riskClass: r.scope === "risk_class" ? r.riskClass : null,
        regulated: r.scope === "risk_class" ? r.regulated : null,
        minimumTracking: r.minimumTracking,
        containerRequired: r.containerRequired,
        requiredScan: r.requiredScan,
        justification: r.justification,
        references: r.references,
        effectiveFrom: masterDataSince,
        reason: "The demo plant's initial traceability policy (seed)",
      })),
    );

    // Quality events of each kind (ADR 034), raised through the service: each audited, its references
    // resolved and its rule at raise computed as for any other event.
    const seedActor = { username: DEMO_ACTOR, ability: null };
    const qualityEvents = demoQualityEvents(plant);
    for (const demo of qualityEvents) {
      const { number } = await raiseQualityEvent(tx, seedActor, demo.input);
      if (demo.close) await changeQualityEventStatus(tx, seedActor, number, { status: "closed", ...demo.close, rowVersion: 1 });
    }

    const summary = {
      sites: plant.sites.length,
      materials: plant.materials.length,
      ruleSetVersions: versionCount,
      traceItems: plant.traceItems.length,
      genealogyEdges: plant.edges.length,
      workOrders: plant.workOrders.length,
    };
    const audit = await appendAudit(tx, {
      actor: DEMO_ACTOR,
      action: "seed.demo_plant",
      entityType: "plant",
      entityId: "demo",
      after: {
        ...summary,
        families: plant.families.length,
        identifierFormats: plant.formats.length,
        bomLines: plant.bomLines.length,
        routingOperations: plant.routings.length,
        labelTemplates: plant.labelTemplates.length,
        externalMasterRecords: plant.externalRecords.length,
        traceabilityRequirements: DEMO_TRACEABILITY_POLICY.length,
        qualityEvents: qualityEvents.length,
        users: plant.users.map((u) => ({ username: u.username, role: u.role })),
        randomSeed: options.seed ?? DEMO_SEED,
        shiftDays,
      },
      reason: "Demo plant loaded into an empty database (bulk load: one summarizing audit row)",
    });
    return { ...summary, auditSeq: audit.seq };
  });
}
