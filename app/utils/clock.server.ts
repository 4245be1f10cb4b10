import { sql } from "drizzle-orm";
import type { DbOrTx } from "./db.server";

/** The database's clock, to the millisecond: the one clock for issue times and the audit trail. */
export async function databaseNow(db: DbOrTx): Promise<Date> {
  const [row] = await db.execute<{ now: string }>(
    sql`select to_char(date_trunc('milliseconds', clock_timestamp()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`,
  );
  return new Date(row!.now);
}
