/**
 * What a change request is compared with and what stands around it: the catalog, the approvals it
 * needs and has, the sites where it went stale, and the other open requests touching the same
 * material at the same site. Reads only; the write model (app/services/change-requests.server.ts)
 * calls them inside its transaction (the handle comes first) and the screens call them outside, so
 * a screen says exactly what the service will decide.
 */
import { and, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  bomLineAlternates,
  bomLines,
  changeRequests,
  changeRequestTargets,
  identifierFormats,
  materialFamilies,
  materials,
  signatures,
  sites,
} from "../../db/schema";
import { requiredApprovals, type RequiredApproval, type ReviewerRole } from "../../policies/approval";
import { bomLineKey, changeFacts, type Catalog, type ExpandedChange } from "../domain/change-request";
import { LOGISTICS_UNIT_MATERIAL } from "../domain/material";
import { OPEN_STATUSES, type ChangeRequestStatus } from "../domain/change-request-lifecycle";
import type { DbOrTx } from "../utils/db.server";
import { databaseNow } from "../utils/clock.server";
import { defaultReviewDue, latestReviewDue, todayIn } from "../domain/review-due";
import { currentRules, staleSitesOf } from "./request-bases.server";
import { deviationPairs } from "../domain/traceability-deviations";
import type { TraceabilityDeviation } from "../domain/traceability-requirement";
import { requirementsInForce, requirementSubjects } from "./traceability-requirements.server";

export async function loadCatalog(db: DbOrTx): Promise<Catalog> {
  const parent = alias(materials, "parent");
  const component = alias(materials, "component");
  const alternate = alias(materials, "alternate");
  const [materialRows, familyRows, siteRows, formatRows, bomRows, requirementInForce, subjects] = await Promise.all([
    db
      .select({ id: materials.id, partNumber: materials.partNumber, family: materialFamilies.code, riskClass: materials.riskClass, gtin: materials.gtin })
      .from(materials)
      .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId))
      // A system material (the logistics unit, ADR 014) is no product: no change request targets it.
      .where(isNull(materials.systemRole)),
    db.select({ code: materialFamilies.code }).from(materialFamilies).where(ne(materialFamilies.code, LOGISTICS_UNIT_MATERIAL.familyCode)),
    db.select({ id: sites.id, code: sites.code }).from(sites),
    db
      .select({ code: identifierFormats.code, identifies: identifierFormats.identifies, site: sites.code })
      .from(identifierFormats)
      .leftJoin(sites, eq(sites.id, identifierFormats.siteId)),
    db
      .select({
        site: sites.code,
        parent: parent.partNumber,
        component: component.partNumber,
        alternate: alternate.partNumber,
        priority: bomLineAlternates.priority,
      })
      .from(bomLines)
      .innerJoin(sites, eq(sites.id, bomLines.siteId))
      .innerJoin(parent, eq(parent.id, bomLines.parentMaterialId))
      .innerJoin(component, eq(component.id, bomLines.componentMaterialId))
      .leftJoin(bomLineAlternates, eq(bomLineAlternates.bomLineId, bomLines.id))
      .leftJoin(alternate, eq(alternate.id, bomLineAlternates.materialId))
      .orderBy(bomLineAlternates.priority),
    requirementsInForce(db),
    requirementSubjects(db),
  ]);
  const lines = new Map<string, { alternates: string[] }>();
  for (const r of bomRows) {
    const key = bomLineKey(r.site, r.parent, r.component);
    const line = lines.get(key) ?? { alternates: [] };
    if (r.alternate) line.alternates.push(r.alternate);
    lines.set(key, line);
  }
  return {
    requirements: { inForce: requirementInForce, subjects },
    bomLines: lines,
    materials: new Map(materialRows.map((m) => [m.partNumber, m])),
    families: new Set(familyRows.map((f) => f.code)),
    sites: new Map(siteRows.map((s) => [s.code, s.id])),
    formats: new Map(formatRows.map((f) => [f.code, { identifies: f.identifies, site: f.site }])),
  };
}

export interface Approvals {
  required: RequiredApproval[];
  given: { signerId: number; role: ReviewerRole }[];
}

export async function approvalsOf(db: DbOrTx, changeRequestId: number, expanded: readonly ExpandedChange[]): Promise<Approvals> {
  const [catalog, current, given, [row]] = await Promise.all([
    loadCatalog(db),
    currentRules(db),
    db
      .select({ signerId: signatures.signerId, role: signatures.role })
      .from(signatures)
      .where(and(eq(signatures.changeRequestId, changeRequestId), eq(signatures.meaning, "approved"), isNull(signatures.voidedAt))),
    // The deviations the request carries (ADR 036) need the regulatory reviewer too.
    db
      .select({ deviations: sql<TraceabilityDeviation[] | null>`${changeRequests.content}->'deviations'` })
      .from(changeRequests)
      .where(eq(changeRequests.id, changeRequestId)),
  ]);
  return { required: requiredApprovals(changeFacts(expanded, current, catalog), deviationPairs(row?.deviations ?? undefined)), given };
}

/** Sites where what the change request read moved since it was written (ADR 006, per-request base). */
export async function staleSites(db: DbOrTx, changeRequestId: number): Promise<string[]> {
  return (await staleSitesOf(db, changeRequestId)).map((s) => s.site).sort();
}

/** Other open change requests touching the same material at the same site. */
export async function conflictsOf(
  db: DbOrTx,
  changeRequestId: number,
): Promise<{ number: string; title: string; status: ChangeRequestStatus; partNumber: string; site: string }[]> {
  const mine = changeRequestTargets;
  return db
    .selectDistinct({
      number: changeRequests.number,
      title: changeRequests.title,
      status: changeRequests.status,
      partNumber: materials.partNumber,
      site: sites.code,
    })
    .from(mine)
    .innerJoin(
      sql`change_request_targets other`,
      sql`other.material_id = ${mine.materialId} and other.site_id = ${mine.siteId} and other.change_request_id <> ${mine.changeRequestId}`,
    )
    .innerJoin(changeRequests, sql`${changeRequests.id} = other.change_request_id`)
    .innerJoin(materials, eq(materials.id, mine.materialId))
    .innerJoin(sites, eq(sites.id, mine.siteId))
    .where(and(eq(mine.changeRequestId, changeRequestId), inArray(changeRequests.status, [...OPEN_STATUSES]), ne(changeRequests.id, changeRequestId)))
    .orderBy(changeRequests.number, materials.partNumber, sites.code);
}

/**
 * The review due date a submit defaults to (ADR 031): 2 working days when the request needs a
 * regulatory reviewer (downgrade or highest risk class, policies/approval.ts), else 5; `today` is
 * the database clock's date in the author's time zone (the c981_tz cookie; UTC without one) — the
 * earliest date a submit accepts.
 */
export async function reviewDueDefault(
  db: DbOrTx,
  changeRequestId: number,
  expanded: readonly ExpandedChange[],
  timeZone = "UTC",
): Promise<{ today: string; defaultDueOn: string; latestDueOn: string; urgent: boolean }> {
  const [approvals, now] = await Promise.all([approvalsOf(db, changeRequestId, expanded), databaseNow(db)]);
  const urgent = approvals.required.some((r) => r.role === "regulatory_reviewer");
  const today = todayIn(now, timeZone);
  return { today, defaultDueOn: defaultReviewDue(today, urgent), latestDueOn: latestReviewDue(today), urgent };
}
