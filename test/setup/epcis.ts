import path from "node:path";
import { EPCIS_GTINS } from "../../app/seed/demo-plant";
import type { Database } from "../../app/utils/db.server";

export const EPCIS_FIXTURES = path.resolve(import.meta.dirname, "../fixtures/epcis");
export const fixture = (name: string) => path.join(EPCIS_FIXTURES, name);

/** One site and the materials of the EPCIS example GTINs (all but `except`), as master data only. */
export async function seedEpcisPlant(database: Database, options: { except?: string[] } = {}): Promise<void> {
  const sql = database.client;
  await sql`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam')`;
  const [family] = await sql`insert into material_families (code, name) values ('EPC', 'EPCIS examples') returning id`;
  const materials = EPCIS_GTINS.filter((g) => !options.except?.includes(g.gtin)).map((g, i) => ({
    part_number: `EPC-${1001 + i}`,
    gtin: g.gtin,
    description: g.description,
    unit_of_measure: g.level === "serial" ? "EA" : "KG",
    risk_class: "medium",
    family_id: family!.id as number,
  }));
  await sql`insert into materials ${sql(materials)}`;
}

/** Row counts of everything an import may write (the audit trail aside). */
export async function importFootprint(database: Database) {
  const [row] = await database.client`select
    (select count(*)::int from trace_items) as items,
    (select count(*)::int from genealogy_edges) as edges,
    (select count(*)::int from genealogy_edges where superseded_at is not null) as superseded_edges,
    (select count(*)::int from epcis_events) as events,
    (select count(*)::int from epcis_events where status = 'quarantined') as quarantined,
    (select count(*)::int from epcis_events where status = 'superseded') as superseded,
    (select count(*)::int from epcis_imports) as imports,
    (select changes::int from genealogy_state) as genealogy_changes`;
  return row!;
}
