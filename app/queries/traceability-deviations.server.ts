/**
 * Deviations from required traceability as recorded at release (ADR 036): the open ones of a site
 * (the rule set records them), and the open ones whose expiry has passed (the dashboard's alarm and
 * the impact analysis's DEVIATION_EXPIRED). Reads only.
 */
import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { changeRequests, materials, sites, traceabilityDeviations } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

export interface OpenDeviation {
  id: number;
  materialId: number;
  partNumber: string;
  siteId: number;
  site: string;
  changeRequest: string;
  expiresOn: string | null;
  shortfalls: string[];
  reason: string;
  riskAssessmentRef: string;
}

const d = traceabilityDeviations;

async function deviationRows(db: DbOrTx, where: ReturnType<typeof and>): Promise<OpenDeviation[]> {
  return db
    .select({
      id: d.id,
      materialId: d.materialId,
      partNumber: materials.partNumber,
      siteId: d.siteId,
      site: sites.code,
      changeRequest: changeRequests.number,
      expiresOn: d.expiresOn,
      shortfalls: d.shortfalls,
      reason: d.reason,
      riskAssessmentRef: d.riskAssessmentRef,
    })
    .from(d)
    .innerJoin(materials, eq(materials.id, d.materialId))
    .innerJoin(sites, eq(sites.id, d.siteId))
    .innerJoin(changeRequests, eq(changeRequests.id, d.changeRequestId))
    .where(where)
    .orderBy(asc(sites.code), asc(materials.partNumber), asc(d.id));
}

/** The open deviations (closedAt null), of one site or of all. */
export const openDeviations = (db: DbOrTx, options: { siteId?: number } = {}) =>
  deviationRows(db, and(isNull(d.closedAt), options.siteId === undefined ? undefined : eq(d.siteId, options.siteId)));

/**
 * The open deviations expired on `today` (YYYY-MM-DD): their last day is before it
 * (app/domain/traceability-requirement.ts deviationExpired); at some sites (ids; null: all).
 */
export const expiredDeviations = (db: DbOrTx, today: string, options: { siteIds?: readonly number[] | null } = {}) =>
  deviationRows(
    db,
    and(
      isNull(d.closedAt),
      lt(d.expiresOn, today),
      options.siteIds == null ? undefined : options.siteIds.length ? inArray(d.siteId, [...options.siteIds]) : sql`false`,
    ),
  );
