import { sql } from "drizzle-orm";
import type { DbOrTx } from "../utils/db.server";

/** The quarantine list: events waiting for materials, per unknown GTIN. */
export async function quarantineList(db: DbOrTx) {
  return db.execute<{ gtin: string; events: number; first_file: string }>(sql`
    select g as gtin, count(*)::int as events, min(file_digest) as first_file
    from epcis_events, unnest(unknown_gtins) as g where status = 'quarantined' group by g order by g`);
}
