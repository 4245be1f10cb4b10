import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { sites } from "./sites";

/**
 * What became of an imported EPCIS event: `applied` to the genealogy, `quarantined` until every
 * GTIN it names is a C-981 material (importing never creates materials), or `superseded` by an
 * error declaration (kept, never deleted; its edges are marked too). ADR 014.
 */
export const epcisEventStatus = pgEnum("epcis_event_status", ["applied", "quarantined", "superseded"]);

/** Every EPCIS event C-981 has taken in, whole, with its identity and provenance. */
export const epcisEvents = pgTable(
  "epcis_events",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** `eventID`, or `c981:jcs-sha256:` + contentHash for an event without one. */
    eventKey: text().notNull().unique(),
    fromEventId: boolean().notNull(),
    type: text().notNull(),
    eventTime: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    /**
     * The hash the event is compared by: since migration 0025 its identity (= identityHash); before,
     * SHA-256 of the RFC 8785 form of the event as received, without errorDeclaration and recordTime.
     */
    contentHash: text().notNull(),
    /**
     * The event's identity (ADR 014): SHA-256 of the RFC 8785 form of what it states, every EPC in
     * one spelling, without eventID, errorDeclaration and recordTime. One row per identity. Null
     * only for a row stored before migration 0025 whose identity an earlier row already holds
     * (the same event stored twice then; filled at migration, app/utils/migrate.server.ts).
     */
    identityHash: text(),
    /** SHA-256 of the file it first came in, and its index in that file's eventList. */
    fileDigest: text().notNull(),
    eventIndex: integer().notNull(),
    /** Checked once per statement, not per row (migration 0014, ADR 014). */
    siteId: integer().notNull(),
    status: epcisEventStatus().notNull(),
    /** GTINs the event names that were not materials when it was last looked at. */
    unknownGtins: text().array().notNull().default(sql`'{}'::text[]`),
    body: jsonb().notNull(),
    /** The errorDeclaration that superseded it, as received. */
    declaration: jsonb(),
    supersededAt: timestamp({ withTimezone: true, precision: 3 }),
    importedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    appliedAt: timestamp({ withTimezone: true, precision: 3 }),
  },
  (t) => [
    index("epcis_events_quarantine").using("gin", t.unknownGtins).where(sql`${t.status} = 'quarantined'`),
    uniqueIndex("epcis_events_identity").on(t.identityHash),
  ],
);

/** One row per EPCIS document that changed something; a repeat of the same file adds none. */
export const epcisImports = pgTable("epcis_imports", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  fileDigest: text().notNull().unique(),
  fileName: text().notNull(),
  siteId: integer()
    .notNull()
    .references(() => sites.id),
  events: integer().notNull(),
  actor: text().notNull(),
  importedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
});
