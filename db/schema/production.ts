import { sql } from "drizzle-orm";
import { check, integer, numeric, pgTable, primaryKey, text, timestamp, unique } from "drizzle-orm/pg-core";
import { consumptionScan, workOrderStatus } from "./enums";
import { identifierFormats, materials } from "./materials";
import { sites } from "./sites";

/** What a work order consumed is recorded in the genealogy (genealogy_edges.work_order_id). */
export const workOrders = pgTable(
  "work_orders",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    number: text().notNull().unique(),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    quantity: numeric({ precision: 18, scale: 6 }).notNull(),
    unit: text().notNull(),
    status: workOrderStatus().notNull(),
    openedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    closedAt: timestamp({ withTimezone: true, precision: 3 }),
  },
  (t) => [check("work_orders_closed_has_time", sql`(${t.status} = 'closed') = (${t.closedAt} IS NOT NULL)`)],
);

/** A step of the routing that produces a material at a site. */
export const routingOperations = pgTable(
  "routing_operations",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    step: integer().notNull(),
    workCentre: text().notNull(),
    description: text().notNull(),
  },
  (t) => [unique("routing_operations_material_step").on(t.siteId, t.materialId, t.step)],
);

/** Materials consumed at an operation and the scan the work instruction requires there. */
export const routingOperationMaterials = pgTable(
  "routing_operation_materials",
  {
    operationId: integer()
      .notNull()
      .references(() => routingOperations.id),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    consumptionScan: consumptionScan().notNull(),
  },
  (t) => [primaryKey({ columns: [t.operationId, t.materialId] })],
);

export const labelTemplates = pgTable(
  "label_templates",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    code: text().notNull(),
    name: text().notNull(),
    workCentre: text(),
  },
  (t) => [unique("label_templates_site_code").on(t.siteId, t.code)],
);

/** Which identifier formats a label template prints. */
export const labelTemplateFormats = pgTable(
  "label_template_formats",
  {
    labelTemplateId: integer()
      .notNull()
      .references(() => labelTemplates.id),
    identifierFormatId: integer()
      .notNull()
      .references(() => identifierFormats.id),
  },
  (t) => [primaryKey({ columns: [t.labelTemplateId, t.identifierFormatId] })],
);
