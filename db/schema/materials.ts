import { sql } from "drizzle-orm";
import { check, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { identifies, riskClass } from "./enums";
import { sites } from "./sites";
import type { IdentifierFormat } from "../../packages/identifiers/src/identifier-format";

export const materialFamilies = pgTable("material_families", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  code: text().notNull().unique(),
  name: text().notNull(),
});

export const materials = pgTable(
  "materials",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    partNumber: text().notNull().unique(),
    /** GTIN-14 (shorter GTINs left-padded with zeros), where the material has one. */
    gtin: text().unique(),
    description: text().notNull(),
    unitOfMeasure: text().notNull(),
    riskClass: riskClass().notNull(),
    /** Regulatory flags such as `udi` or `critical_to_safety`; see app/domain/material.ts. */
    regulatoryFlags: text().array().notNull().default(sql`'{}'::text[]`),
    familyId: integer()
      .notNull()
      .references(() => materialFamilies.id),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /**
     * Set only on a system material (app/domain/material.ts SYSTEM_ROLES): a row C-981 itself needs,
     * no tracked product, created by a migration (the logistics unit, ADR 014). Null for every product.
     */
    systemRole: text(),
  },
  (t) => [
    check("materials_gtin_14_digits", sql`${t.gtin} IS NULL OR ${t.gtin} ~ '^[0-9]{14}$'`),
    uniqueIndex("materials_system_role").on(t.systemRole),
    check("materials_system_role_known", sql`${t.systemRole} IS NULL OR (${t.systemRole} = 'logistics_unit' AND ${t.gtin} IS NULL)`),
  ],
);

/**
 * A way labels identify serials, lots or containers: GS1 Application Identifiers or a site
 * pattern in a small grammar (never a free regular expression, so overlaps stay decidable).
 */
export const identifierFormats = pgTable("identifier_formats", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  code: text().notNull().unique(),
  name: text().notNull(),
  identifies: identifies().notNull(),
  /** Site patterns belong to a site; GS1 formats are global (null). */
  siteId: integer().references(() => sites.id),
  definition: jsonb().$type<IdentifierFormat>().notNull(),
});
