import { sql } from "drizzle-orm";
import { bigint, check, index, integer, numeric, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { genealogyKind, provenanceKind, traceItemKind, traceItemStatus } from "./enums";
import { materials } from "./materials";
import { workOrders } from "./production";
import { sites } from "./sites";

const provenance = () => ({
  provenanceKind: provenanceKind().notNull(),
  /** SHA-256 of the imported file, for provenance `import`. */
  provenanceFileDigest: text(),
  /** The event id inside that file (EPCIS eventID or its documented hash). */
  provenanceEventId: text(),
});

/** A serial, a lot or a container of one material at one site. */
export const traceItems = pgTable(
  "trace_items",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    kind: traceItemKind().notNull(),
    identifier: text().notNull(),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    quantity: numeric({ precision: 18, scale: 6 }).notNull(),
    unit: text().notNull(),
    status: traceItemStatus().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    ...provenance(),
  },
  (t) => [
    uniqueIndex("trace_items_material_identifier").on(t.materialId, t.identifier).where(sql`${t.kind} <> 'container'`),
    // An SSCC is unique worldwide, whatever it holds.
    uniqueIndex("trace_items_container_identifier").on(t.identifier).where(sql`${t.kind} = 'container'`),
    index("trace_items_identifier").on(t.identifier),
    index("trace_items_material_status").on(t.materialId, t.status),
    check("trace_items_serial_is_one_unit", sql`${t.kind} <> 'serial' OR ${t.quantity} = 1`),
    check(
      "trace_items_import_provenance",
      sql`${t.provenanceKind} <> 'import' OR (${t.provenanceFileDigest} IS NOT NULL AND ${t.provenanceEventId} IS NOT NULL)`,
    ),
  ],
);

/**
 * One material flow between two trace items, named by direction of flow: `input` went into
 * `output` (a component into an assembly, a lot into its split child, bulk into a container).
 * A rework edge has input = output: the same serial went through rework (ADR 002).
 */
export const genealogyEdges = pgTable(
  "genealogy_edges",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** Groups the edges of one event (a merge has several inputs, a split several outputs). */
    eventRef: text().notNull(),
    kind: genealogyKind().notNull(),
    inputItemId: bigint({ mode: "number" })
      .notNull()
      .references(() => traceItems.id),
    outputItemId: bigint({ mode: "number" })
      .notNull()
      .references(() => traceItems.id),
    quantity: numeric({ precision: 18, scale: 6 }).notNull(),
    unit: text().notNull(),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    occurredAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    workOrderId: integer().references(() => workOrders.id),
    /**
     * Set when the EPCIS event that recorded this flow was declared erroneous (errorDeclaration):
     * the edge is kept, never deleted, and genealogy readers leave it out (ADR 014).
     */
    supersededAt: timestamp({ withTimezone: true, precision: 3 }),
    ...provenance(),
  },
  (t) => [
    // Both traversal directions: recall (forward, from input) and where-from (backward, from output).
    index("genealogy_edges_input").on(t.inputItemId, t.outputItemId),
    index("genealogy_edges_output").on(t.outputItemId, t.inputItemId),
    index("genealogy_edges_work_order").on(t.workOrderId),
    check("genealogy_edges_quantity_positive", sql`${t.quantity} > 0`),
    check("genealogy_edges_only_rework_is_a_loop", sql`${t.inputItemId} <> ${t.outputItemId} OR ${t.kind} = 'rework'`),
    check(
      "genealogy_edges_import_provenance",
      sql`${t.provenanceKind} <> 'import' OR (${t.provenanceFileDigest} IS NOT NULL AND ${t.provenanceEventId} IS NOT NULL)`,
    ),
  ],
);

/**
 * One row counting the statements that changed genealogy (trace items or edges), kept by triggers
 * (migration genealogy_changes_are_counted). An in-memory genealogy index records the count it was
 * built at; reading it in the same snapshot as an analysis tells whether the index is exactly that
 * snapshot's genealogy (ADR 011).
 */
export const genealogyState = pgTable(
  "genealogy_state",
  {
    id: integer().primaryKey(),
    changes: bigint({ mode: "number" }).notNull(),
  },
  (t) => [check("genealogy_state_single_row", sql`${t.id} = 1`)],
);

/**
 * The genealogy change log (ADR 044): one row per counted statement on `trace_items` or
 * `genealogy_edges`, written by the same statement-level trigger that bumps
 * `genealogy_state.changes` (its `seq` is the counter value that statement produced) and holding
 * the ids of the rows it wrote (from the statement's transition table: a bulk insert of 100,000
 * rows writes one row here). An index at counter N catches up to counter C by reading the rows
 * with `seq` in (N, C] and re-reading the rows they name in its snapshot; fewer than C − N rows
 * (pruned) or a truncation means a full rebuild. Pruned from below by the index holders.
 */
export const genealogyChanges = pgTable(
  "genealogy_changes",
  {
    seq: bigint({ mode: "number" }).primaryKey(),
    relation: text().notNull(),
    op: text().notNull(),
    /** The ids written; null for a truncation (everything changed). */
    ids: bigint({ mode: "number" }).array(),
    recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("genealogy_changes_relation", sql`${t.relation} in ('trace_items', 'genealogy_edges')`),
    check("genealogy_changes_op", sql`${t.op} in ('insert', 'update', 'delete', 'truncate')`),
  ],
);
