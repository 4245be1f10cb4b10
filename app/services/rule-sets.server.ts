import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { alias } from "drizzle-orm/pg-core";
import {
  bomLineAlternates,
  bomLines,
  identifierFormats,
  materials,
  routingOperationMaterials,
  routingOperations,
  ruleSetVersions,
  sites,
  trackingRules,
} from "../../db/schema";
import { ruleSetDocumentSchema, ruleSetDocumentV2Schema } from "../schemas/rule-set";
import { assertCanSign, signRuleSet, type KeyRing } from "../utils/signing.server";
import { compileRuleSetVersions, type CompiledIdentifierFormat, type CompiledRule, type RoutingStep } from "../domain/rule-set";
import { checkRuleConsistency, trackingRuleContentSchema, type Identifies } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";
import { databaseNow } from "../utils/clock.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";
import { openDeviations } from "../queries/traceability-deviations.server";
import { alertRefusal, anchorLogProblems, writeAnchor } from "./audit-anchors.server";

export const ruleChangeSchema = trackingRuleContentSchema.extend({ materialId: z.number().int().positive() });
export type RuleChange = z.infer<typeof ruleChangeSchema>;

export const createRuleSetVersionSchema = z.object({
  siteId: z.number().int().positive(),
  /** Omitted: now. Never before now unless `backdate` (the audited seed mode). */
  effectiveFrom: z.date().optional(),
  changes: z.array(ruleChangeSchema).max(10_000),
  actor: z.string().min(1),
  reason: z.string().min(1).max(2000),
  backdate: z.boolean().default(false),
  kind: z.enum(["release", "renewal"]).default("release"),
  changeRequestNumbers: z
    .array(z.string().regex(/^CR-\d{4,}$/))
    .max(500)
    .default([]),
  /** A runtime stops trusting the version after this many days unless it is renewed. */
  validDays: z.number().int().min(1).max(366).default(30),
  /**
   * Deviations from required traceability this version opens (ADR 036), by material: recorded on the
   * material's rule with the site's other open deviations (read from traceability_deviations).
   */
  deviations: z
    .array(
      z.object({
        materialId: z.number().int().positive(),
        changeRequest: z.string().regex(/^CR-\d{4,}$/),
        expiresOn: z.string().nullable(),
        shortfalls: z.array(z.string()),
      }),
    )
    .max(10_000)
    .default([]),
});
export type CreateRuleSetVersionInput = z.input<typeof createRuleSetVersionSchema>;

export interface CreatedRuleSetVersion {
  id: number;
  siteCode: string;
  version: number;
  effectiveFrom: Date;
  issuedAt: Date;
  digest: string;
  /** The digest of the version's schema-version-2 form (ADR 039). */
  digestV2: string;
  auditSeq: number;
}

/**
 * The one function that creates a rule-set version: apply the changes to the site's rules
 * (closing the old intervals, opening new ones), compile the site's whole rule set, canonicalize,
 * digest, store — and audit — in one transaction. The release issue adds approval and signing.
 */
export async function createRuleSetVersion(db: DbOrTx, rawInput: CreateRuleSetVersionInput, keyRing: KeyRing): Promise<CreatedRuleSetVersion> {
  // No signature, no version: an instance without its private keys refuses before writing anything.
  assertCanSign(keyRing);
  const parsed = createRuleSetVersionSchema.safeParse(rawInput);
  // A path-less problem keeps the empty key it always had.
  if (!parsed.success) throw new DomainError("invalid", "invalid rule-set version request", fieldErrorsFromIssues(parsed.error.issues, ""));
  const input = parsed.data;

  let refused: string[] | undefined;
  const created = await db
    .transaction(async (tx) => {
      // Lock the site: versions of one site are created one at a time.
      const [site] = await tx.select({ id: sites.id, code: sites.code }).from(sites).where(eq(sites.id, input.siteId)).for("update");
      if (!site) throw new DomainError("not_found", `site ${input.siteId} does not exist`);

      const [previous] = await tx
        .select({
          version: ruleSetVersions.version,
          effectiveFrom: ruleSetVersions.effectiveFrom,
          digest: ruleSetVersions.digest,
          digestV2: ruleSetVersions.digestV2,
        })
        .from(ruleSetVersions)
        .where(eq(ruleSetVersions.siteId, site.id))
        .orderBy(desc(ruleSetVersions.version))
        .limit(1);

      // Issue time always comes from the clock (the database's, as for the audit trail).
      const issuedAt = await databaseNow(tx);
      // A renewal re-issues the latest version's rules unchanged, with its effectiveFrom: it never
      // overrides a scheduled version and never changes what is in force (ADR 007).
      const renewal = input.kind === "renewal";
      if (renewal && (!previous || input.changes.length > 0)) {
        throw new DomainError("invalid", "A renewal re-issues the latest version unchanged", {
          changes: ["a renewal changes no rule and needs a version to renew"],
        });
      }
      const effectiveFrom = renewal ? previous!.effectiveFrom : (input.effectiveFrom ?? issuedAt);
      if (!input.backdate && !renewal && effectiveFrom.getTime() < issuedAt.getTime()) {
        throw new DomainError("invalid", "effectiveFrom is in the past", {
          effectiveFrom: [`must not be before the time of issue (${issuedAt.toISOString()})`],
        });
      }
      if (previous && effectiveFrom.getTime() < previous.effectiveFrom.getTime()) {
        throw new DomainError("invalid", "effectiveFrom is before the previous version", {
          effectiveFrom: [`must not be before version ${previous.version} (${previous.effectiveFrom.toISOString()})`],
        });
      }

      // Validate the changes: known materials, once each, consistent with known formats of this site.
      const fields: Record<string, string[]> = {};
      const seen = new Set<number>();
      input.changes.forEach((c, i) => {
        if (seen.has(c.materialId)) (fields[`changes.${i}.materialId`] ??= []).push("material changed twice in one version");
        seen.add(c.materialId);
      });
      const changedMaterialIds = [...seen];
      const materialRows = changedMaterialIds.length
        ? await tx
            .select({ id: materials.id, partNumber: materials.partNumber, gtin: materials.gtin, riskClass: materials.riskClass })
            .from(materials)
            .where(inArray(materials.id, changedMaterialIds))
        : [];
      const materialById = new Map(materialRows.map((m) => [m.id, m]));

      const current = await tx
        .select({
          materialId: trackingRules.materialId,
          partNumber: materials.partNumber,
          gtin: materials.gtin,
          riskClass: materials.riskClass,
          trackingMode: trackingRules.trackingMode,
          containerTracking: trackingRules.containerTracking,
          consumptionScan: trackingRules.consumptionScan,
          identifierFormatCodes: trackingRules.identifierFormatCodes,
        })
        .from(trackingRules)
        .innerJoin(materials, eq(materials.id, trackingRules.materialId))
        .where(and(eq(trackingRules.siteId, site.id), isNull(trackingRules.effectiveTo)));

      const formatRows = await tx
        .select({
          code: identifierFormats.code,
          name: identifierFormats.name,
          identifies: identifierFormats.identifies,
          siteId: identifierFormats.siteId,
          definition: identifierFormats.definition,
        })
        .from(identifierFormats);
      const usable = formatRows.filter((f) => f.siteId === null || f.siteId === site.id);
      const identifiesByCode = new Map<string, Identifies>(usable.map((f) => [f.code, f.identifies]));

      input.changes.forEach((c, i) => {
        if (!materialById.has(c.materialId)) (fields[`changes.${i}.materialId`] ??= []).push(`material ${c.materialId} does not exist`);
        for (const problem of checkRuleConsistency(c, identifiesByCode)) {
          (fields[`changes.${i}.${problem.field}`] ??= []).push(problem.message);
        }
      });
      if (Object.keys(fields).length > 0) throw new DomainError("invalid", "the rule changes are invalid", fields);

      // Allowed alternates per BOM line of each material at this site, in order of preference.
      const parent = alias(materials, "parent");
      const component = alias(materials, "component");
      const alternate = alias(materials, "alternate");
      const alternateRows = await tx
        .select({ parentId: parent.id, component: component.partNumber, alternate: alternate.partNumber, priority: bomLineAlternates.priority })
        .from(bomLines)
        .innerJoin(parent, eq(parent.id, bomLines.parentMaterialId))
        .innerJoin(component, eq(component.id, bomLines.componentMaterialId))
        .innerJoin(bomLineAlternates, eq(bomLineAlternates.bomLineId, bomLines.id))
        .innerJoin(alternate, eq(alternate.id, bomLineAlternates.materialId))
        .where(eq(bomLines.siteId, site.id))
        .orderBy(bomLineAlternates.priority);
      const alternatesOf = (materialId: number) => {
        const byComponent = new Map<string, string[]>();
        for (const r of alternateRows.filter((a) => a.parentId === materialId)) {
          byComponent.set(r.component, [...(byComponent.get(r.component) ?? []), r.alternate]);
        }
        return [...byComponent].map(([c, alternates]) => ({ component: c, alternates }));
      };

      const compiledByMaterial = new Map<number, CompiledRule>();
      for (const r of current) {
        compiledByMaterial.set(r.materialId, {
          partNumber: r.partNumber,
          gtin: r.gtin,
          riskClass: r.riskClass,
          allowedAlternates: alternatesOf(r.materialId),
          trackingMode: r.trackingMode,
          containerTracking: r.containerTracking,
          consumptionScan: r.consumptionScan,
          identifierFormats: r.identifierFormatCodes,
        });
      }
      for (const c of input.changes) {
        const m = materialById.get(c.materialId)!;
        compiledByMaterial.set(c.materialId, {
          partNumber: m.partNumber,
          gtin: m.gtin,
          riskClass: m.riskClass,
          allowedAlternates: alternatesOf(c.materialId),
          trackingMode: c.trackingMode,
          containerTracking: c.containerTracking,
          consumptionScan: c.consumptionScan,
          identifierFormats: c.identifierFormatCodes,
        });
      }
      // Each rule records the open deviation of its material at the site, if any (ADR 036): those stored
      // (still open when this version is made), then those this version opens.
      const deviationOf = new Map<number, { changeRequest: string; expiresOn: string | null; shortfalls: string[] }>();
      for (const o of await openDeviations(tx, { siteId: site.id }))
        deviationOf.set(o.materialId, { changeRequest: o.changeRequest, expiresOn: o.expiresOn, shortfalls: o.shortfalls });
      for (const n of input.deviations) deviationOf.set(n.materialId, { changeRequest: n.changeRequest, expiresOn: n.expiresOn, shortfalls: n.shortfalls });
      for (const [materialId, deviation] of deviationOf) {
        const rule = compiledByMaterial.get(materialId);
        if (rule) compiledByMaterial.set(materialId, { ...rule, deviation });
      }
      const formats = new Map<string, CompiledIdentifierFormat>(
        usable.map((f) => [f.code, { name: f.name, identifies: f.identifies, definition: f.definition }]),
      );
      // The routing of each material (as parent) at this site, for schema version 2 (ADR 039).
      const routingParent = alias(materials, "routing_parent");
      const consumed = alias(materials, "consumed");
      const routingRows = await tx
        .select({
          parent: routingParent.partNumber,
          step: routingOperations.step,
          workCentre: routingOperations.workCentre,
          component: consumed.partNumber,
          consumptionScan: routingOperationMaterials.consumptionScan,
        })
        .from(routingOperations)
        .innerJoin(routingParent, eq(routingParent.id, routingOperations.materialId))
        .leftJoin(routingOperationMaterials, eq(routingOperationMaterials.operationId, routingOperations.id))
        .leftJoin(consumed, eq(consumed.id, routingOperationMaterials.materialId))
        .where(eq(routingOperations.siteId, site.id));
      const routing = new Map<string, RoutingStep[]>();
      for (const r of routingRows) {
        const steps = routing.get(r.parent) ?? [];
        routing.set(r.parent, steps);
        let step = steps.find((s) => s.step === r.step);
        if (!step) steps.push((step = { step: r.step, workCentre: r.workCentre, consumes: [] }));
        if (r.component !== null && r.consumptionScan !== null) step.consumes.push({ component: r.component, consumptionScan: r.consumptionScan });
      }
      const version = (previous?.version ?? 0) + 1;
      const { v1: compiled, v2: compiledV2 } = compileRuleSetVersions({
        site: site.code,
        version,
        effectiveFrom,
        issuedAt,
        // Valid for validDays from when it takes effect (a scheduled version does not expire unused).
        expiresAt: new Date(Math.max(issuedAt.getTime(), effectiveFrom.getTime()) + input.validDays * 86_400_000),
        kind: input.kind,
        changeRequests: input.changeRequestNumbers,
        signingKeys: keyRing.active.map((k) => k.kid),
        previousDigest: previous?.digest ?? null,
        // The v2 chain: the previous version's v2 digest, or its v1 digest when it has none (ADR 039).
        previousDigestV2: previous ? (previous.digestV2 ?? previous.digest) : null,
        rules: [...compiledByMaterial.values()],
        formats,
        routing,
      });
      // A document that fails its schema is never signed.
      const checked = ruleSetDocumentSchema.safeParse(compiled.document);
      if (!checked.success) {
        throw new Error(
          `compiled rule set for ${site.code} v${version} fails its schema: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
      const checkedV2 = ruleSetDocumentV2Schema.safeParse(compiledV2.document);
      if (!checkedV2.success) {
        throw new Error(
          `compiled rule set for ${site.code} v${version} (schema version 2) fails its schema: ${checkedV2.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
      const jws = await signRuleSet(compiled.bytes, keyRing);
      const jwsV2 = await signRuleSet(compiledV2.bytes, keyRing);

      const [created] = await tx
        .insert(ruleSetVersions)
        .values({
          siteId: site.id,
          version,
          effectiveFrom,
          issuedAt,
          canonical: compiled.bytes,
          digest: compiled.digest,
          previousDigest: previous?.digest ?? null,
          backdated: effectiveFrom.getTime() < issuedAt.getTime(),
          kind: input.kind,
          expiresAt: new Date(compiled.document.expiresAt),
          changeRequestNumbers: [...compiled.document.changeRequests],
          jws: JSON.stringify(jws),
          canonicalV2: compiledV2.bytes,
          digestV2: compiledV2.digest,
          jwsV2: JSON.stringify(jwsV2),
          createdBy: input.actor,
          reason: input.reason,
        })
        .returning({ id: ruleSetVersions.id });

      if (changedMaterialIds.length > 0) {
        await tx
          .update(trackingRules)
          .set({ effectiveTo: effectiveFrom })
          .where(and(eq(trackingRules.siteId, site.id), inArray(trackingRules.materialId, changedMaterialIds), isNull(trackingRules.effectiveTo)));
        await tx.insert(trackingRules).values(
          input.changes.map((c) => ({
            materialId: c.materialId,
            siteId: site.id,
            trackingMode: c.trackingMode,
            containerTracking: c.containerTracking,
            identifierFormatCodes: c.identifierFormatCodes,
            consumptionScan: c.consumptionScan,
            effectiveFrom,
            effectiveTo: null,
            ruleSetVersionId: created!.id,
          })),
        );
      }

      // Every instance's runtime cache drops the site's rule set in force when this commits.
      await tx.execute(sql`select pg_notify('c981_rulesets', ${site.code})`);
      const audit = await appendAudit(tx, {
        actor: input.actor,
        action: "rule_set_version.create",
        entityType: "rule_set_version",
        entityId: `${site.code}/${version}`,
        before: previous ? { version: previous.version, digest: previous.digest } : null,
        after: {
          site: site.code,
          version,
          effectiveFrom: effectiveFrom.toISOString(),
          issuedAt: issuedAt.toISOString(),
          backdated: effectiveFrom.getTime() < issuedAt.getTime(),
          digest: compiled.digest,
          digestV2: compiledV2.digest,
          changes: input.changes.map((c) => ({
            partNumber: materialById.get(c.materialId)!.partNumber,
            trackingMode: c.trackingMode,
            containerTracking: c.containerTracking,
            consumptionScan: c.consumptionScan,
            identifierFormatCodes: c.identifierFormatCodes,
          })),
        },
        reason: input.reason,
      });
      // The version carries the audit chain's head, signed (ADR 019): appendAudit holds the append
      // lock to commit, so the row just written is the head. Not when the trail no longer extends
      // what this instance signed (its anchor log): the head would be a forged one.
      const problems = await anchorLogProblems(tx, keyRing.dir, audit);
      if (problems.length > 0) {
        refused = problems;
        // The problems ride on the error: a caller whose transaction this was (a release) raises the
        // alert after its rollback, which would otherwise take the alert with it.
        throw Object.assign(
          new DomainError(
            "conflict",
            `The rule set was not released: the audit trail does not extend the anchors this server signed, so it refuses to sign its head (ADR 019): ${problems.join("; ")}`,
          ),
          { anchorProblems: problems },
        );
      }
      await writeAnchor(tx, keyRing, {
        kind: "release",
        actor: input.actor,
        head: audit,
        ruleSet: { id: created!.id, site: site.code, version, digest: compiled.digest },
      });

      return {
        id: created!.id,
        siteCode: site.code,
        version,
        effectiveFrom,
        issuedAt,
        digest: compiled.digest,
        digestV2: compiledV2.digest,
        auditSeq: audit.seq,
      };
    })
    .catch(async (error: unknown) => {
      if (refused) await alertRefusal(db, input.actor, refused);
      throw error;
    });
  return created;
}
