/** When runtime clients were last seen: bookkeeping, not a change to regulated records, so written in batches and not audited (ADR 005). */
import { inArray, sql } from "drizzle-orm";
import { runtimeClients } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** Moves the clients' "last seen" forward to `latest` (never back). */
export async function recordLastSeen(db: DbOrTx, clientIds: number[], latest: Date): Promise<void> {
  await db
    .update(runtimeClients)
    .set({ lastSeenAt: sql`greatest(coalesce(${runtimeClients.lastSeenAt}, '-infinity'), ${latest.toISOString()}::timestamptz)` })
    .where(inArray(runtimeClients.id, clientIds));
}
