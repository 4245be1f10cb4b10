import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgEnum, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import {
  QUALITY_DISPOSITIONS,
  QUALITY_EVENT_KINDS,
  QUALITY_EVENT_SEVERITIES,
  QUALITY_EVENT_STATUSES,
  QUALITY_REFERENCE_KINDS,
} from "../../app/domain/quality-event";
import { trackingMode } from "./enums";
import { traceItems } from "./genealogy";
import { materials } from "./materials";
import { sites } from "./sites";

export const qualityEventKind = pgEnum("quality_event_kind", QUALITY_EVENT_KINDS);
export const qualityEventStatus = pgEnum("quality_event_status", QUALITY_EVENT_STATUSES);
export const qualityEventSeverity = pgEnum("quality_event_severity", QUALITY_EVENT_SEVERITIES);
export const qualityDisposition = pgEnum("quality_disposition", QUALITY_DISPOSITIONS);
export const qualityReferenceKind = pgEnum("quality_reference_kind", QUALITY_REFERENCE_KINDS);

/**
 * A quality event (ADR 034): nonconformance, concession/deviation, rework order or customer complaint,
 * raised at one site. Every write is audited in its transaction; nothing is deleted (a closed event stays).
 */
export const qualityEvents = pgTable(
  "quality_events",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    /** QE-0001, … (from the quality_event_number sequence: atomic across instances). */
    number: text().notNull().unique(),
    kind: qualityEventKind().notNull(),
    status: qualityEventStatus().notNull(),
    severity: qualityEventSeverity().notNull(),
    disposition: qualityDisposition().notNull().default("pending"),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    title: text().notNull(),
    description: text().notNull().default(""),
    /** The QMS's own id when imported (a QMS export re-imported is recognised, not duplicated). */
    externalId: text().unique(),
    raisedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    raisedBy: text().notNull(),
    closedAt: timestamp({ withTimezone: true, precision: 3 }),
    /** Optimistic concurrency for status and disposition changes. */
    rowVersion: integer().notNull().default(1),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index("quality_events_site_status").on(t.siteId, t.status),
    check("quality_events_number_format", sql`${t.number} ~ '^QE-[0-9]{4,}$'`),
    check("quality_events_closed_has_time", sql`(${t.status} = 'closed') = (${t.closedAt} IS NOT NULL)`),
  ],
);

/**
 * What a quality event references: a serial, lot or container (a trace item) or a material as a whole,
 * with the rule in force for it at the site when the event was raised (ADR 034): rule_state `legacy`
 * (before the site's first rule-set version), `unruled` or `ruled` with the version and its tracking mode.
 */
export const qualityEventReferences = pgTable(
  "quality_event_references",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    qualityEventId: integer()
      .notNull()
      .references(() => qualityEvents.id),
    kind: qualityReferenceKind().notNull(),
    traceItemId: bigint({ mode: "number" }).references(() => traceItems.id),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    ruleState: text({ enum: ["legacy", "unruled", "ruled"] }).notNull(),
    /** The site's rule-set version in force at raise (null when legacy). */
    ruleSetVersion: integer(),
    /** The tracking mode that version said for the material (null unless ruled). */
    trackingModeAtRaise: trackingMode(),
  },
  (t) => [
    unique("quality_event_references_once").on(t.qualityEventId, t.kind, t.traceItemId, t.materialId).nullsNotDistinct(),
    index("quality_event_references_item").on(t.traceItemId),
    index("quality_event_references_material").on(t.materialId, t.siteId),
    check("quality_event_references_item_iff_not_material", sql`(${t.kind} = 'material') = (${t.traceItemId} IS NULL)`),
    check(
      "quality_event_references_rule_state",
      sql`(${t.ruleState} = 'legacy' AND ${t.ruleSetVersion} IS NULL AND ${t.trackingModeAtRaise} IS NULL) OR (${t.ruleState} = 'unruled' AND ${t.ruleSetVersion} IS NOT NULL AND ${t.trackingModeAtRaise} IS NULL) OR (${t.ruleState} = 'ruled' AND ${t.ruleSetVersion} IS NOT NULL AND ${t.trackingModeAtRaise} IS NOT NULL)`,
    ),
  ],
);
