import { index, integer, numeric, pgTable, primaryKey, text, unique } from "drizzle-orm/pg-core";
import { materials } from "./materials";
import { sites } from "./sites";

export const bomLines = pgTable(
  "bom_lines",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    parentMaterialId: integer()
      .notNull()
      .references(() => materials.id),
    componentMaterialId: integer()
      .notNull()
      .references(() => materials.id),
    lineNo: integer().notNull(),
    quantity: numeric({ precision: 18, scale: 6 }).notNull(),
    unit: text().notNull(),
  },
  (t) => [unique("bom_lines_parent_line").on(t.siteId, t.parentMaterialId, t.lineNo), index("bom_lines_component").on(t.componentMaterialId)],
);

/** Approved substitutes for a BOM line, in order of preference. */
export const bomLineAlternates = pgTable(
  "bom_line_alternates",
  {
    bomLineId: integer()
      .notNull()
      .references(() => bomLines.id),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    priority: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.bomLineId, t.materialId] })],
);
