/**
 * The dashboard's read model. "Now" is passed in (the database clock, see
 * app/utils/clock.server.ts) so the screen names one instant for everything it shows.
 */
import { and, asc, count, eq, isNull } from "drizzle-orm";
import { materials, sites, traceItems, workOrders } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";
import { currentDataPoint } from "./audit.server";
import { versionsInForce } from "./rules-in-force.server";
import { withinSites, type VisibleSites } from "./sites.server";
import { TRACE_ITEM_STATUSES } from "./trace-items.server";

/**
 * The dashboard, within the reader's sites. Materials are master data shared by all sites, so
 * their count is global. The recent activity and the role sections are apart
 * (role-dashboards.server.ts), loaded only for readers who hold the permission or role.
 */
export async function dashboard(db: DbOrTx, params: { at: Date; sites: VisibleSites }) {
  const vif = versionsInForce(db, params.at);
  const [siteCount, materialCount, itemsByStatus, openWorkOrders, siteVersionsNow, auditHead] = await Promise.all([
    db.select({ n: count() }).from(sites).where(withinSites(sites.id, params.sites)),
    // Products only: system materials (the logistics unit, ADR 014) are not counted.
    db.select({ n: count() }).from(materials).where(isNull(materials.systemRole)),
    db.select({ status: traceItems.status, n: count() }).from(traceItems).where(withinSites(traceItems.siteId, params.sites)).groupBy(traceItems.status),
    db
      .select({ n: count() })
      .from(workOrders)
      .where(and(eq(workOrders.status, "open"), withinSites(workOrders.siteId, params.sites))),
    db
      .select({
        code: sites.code,
        name: sites.name,
        version: vif.version,
        effectiveFrom: vif.effectiveFrom,
        digest: vif.digest,
      })
      .from(sites)
      .leftJoin(vif, eq(vif.siteId, sites.id))
      .where(withinSites(sites.id, params.sites))
      .orderBy(asc(sites.code)),
    currentDataPoint(db),
  ]);
  const byStatus = new Map(itemsByStatus.map((r) => [r.status, r.n]));
  return {
    at: params.at,
    siteCount: siteCount[0]?.n ?? 0,
    materialCount: materialCount[0]?.n ?? 0,
    traceItemsByStatus: TRACE_ITEM_STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 })),
    openWorkOrders: openWorkOrders[0]?.n ?? 0,
    sites: siteVersionsNow.map((s) => ({
      code: s.code,
      name: s.name,
      current:
        s.version === null || s.effectiveFrom === null || s.digest === null ? null : { version: s.version, effectiveFrom: s.effectiveFrom, digest: s.digest },
    })),
    auditHead,
  };
}
