/**
 * Quality events (ADR 034): the QMS records that tie quality decisions to physical product —
 * nonconformances, concessions/deviations, rework orders and customer complaints. Each references any
 * mix of serials, lots, containers and materials, and remembers the rule in force for each referenced
 * item when it was raised (legacy included). The vocabulary is defined once here: the database enums
 * (db/schema/quality.ts), the zod schemas, the policies and the screens take it from this module.
 * No Node imports: the browser's forms import it too.
 */
import type { TrackingMode } from "./tracking-rule";

export const QUALITY_EVENT_KINDS = ["nonconformance", "concession", "rework_order", "complaint"] as const;
export type QualityEventKind = (typeof QUALITY_EVENT_KINDS)[number];

export const QUALITY_EVENT_KIND_LABELS: Record<QualityEventKind, string> = {
  nonconformance: "Nonconformance",
  concession: "Concession / deviation",
  rework_order: "Rework order",
  complaint: "Customer complaint",
};

/** open → contained → closed (contained: the suspect product is found and held; closed: dispositioned). */
export const QUALITY_EVENT_STATUSES = ["open", "contained", "closed"] as const;
export type QualityEventStatus = (typeof QUALITY_EVENT_STATUSES)[number];

/** An event is "open" for the portal's markers and findings until it is closed. */
export const isOpenQualityEvent = (status: QualityEventStatus) => status !== "closed";

export const QUALITY_EVENT_SEVERITIES = ["minor", "major", "critical"] as const;
export type QualityEventSeverity = (typeof QUALITY_EVENT_SEVERITIES)[number];

/** What is decided about the product (ISO 9001 8.7 / 21 CFR 820.90); `pending` until decided. */
export const QUALITY_DISPOSITIONS = ["pending", "use_as_is", "rework", "repair", "scrap", "return_to_supplier", "quarantine"] as const;
export type QualityDisposition = (typeof QUALITY_DISPOSITIONS)[number];

/** What one reference names: a trace item (serial, lot, container) or a material as a whole. */
export const QUALITY_REFERENCE_KINDS = ["serial", "lot", "container", "material"] as const;
export type QualityReferenceKind = (typeof QUALITY_REFERENCE_KINDS)[number];

/**
 * The rule in force for a referenced item at the site when the event was raised: `legacy` before the
 * site's first rule-set version, `unruled` when a version was in force without a rule for the material,
 * `ruled` with the version and the tracking mode it said.
 */
export type RuleAtRaise = { state: "legacy" } | { state: "unruled"; version: number } | { state: "ruled"; version: number; trackingMode: TrackingMode };
