import { asc, isNull } from "drizzle-orm";
import { securityAlerts } from "../../db/schema";
import type { Db } from "../utils/db.server";

/** Alerts not yet acknowledged, oldest first (the administrators' dashboard). */
export async function openAlerts(db: Db) {
  return db
    .select({
      id: securityAlerts.id,
      kind: securityAlerts.kind,
      username: securityAlerts.username,
      raisedAt: securityAlerts.raisedAt,
      lastAt: securityAlerts.lastAt,
      occurrences: securityAlerts.occurrences,
    })
    .from(securityAlerts)
    .where(isNull(securityAlerts.acknowledgedAt))
    .orderBy(asc(securityAlerts.raisedAt), asc(securityAlerts.id));
}
