import { sql } from "drizzle-orm";
import { check, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { identifies, riskClass } from "./enums";
import { sites } from "./sites";
import type { IdentifierFormat } from "../../app/domain/identifier-format";

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
  },
  (t) => [check("materials_gtin_14_digits", sql`${t.gtin} IS NULL OR ${t.gtin} ~ '^[0-9]{14}$'`)],
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
