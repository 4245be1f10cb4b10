/**
 * The replay's vocabulary (ADR 041): what the replay of the last 90 days under a proposed change
 * reads and what it reports. Browser-safe — the analysis screen imports this file alone; it imports
 * types only.
 */
import type { IdentifierFormat } from "../../../packages/identifiers/src/identifier-format";
import type { ConsumptionScan, Identifies, TrackingMode } from "../tracking-rule";

export const REPLAY_TYPE = "c981.replay";
export const REPLAY_SCHEMA_VERSION = 1;
/** Days of genealogy before the analysis's data point that the replay reads. */
export const REPLAY_WINDOW_DAYS = 90;
/** Samples kept per category and change; the counts are always complete. */
export const REPLAY_SAMPLE_SIZE = 20;

/** The four things the replay counts, in the order they are shown. */
export const REPLAY_CATEGORIES = {
  UNSCANNABLE: "Consumptions that would require a scan the material's labels could not give",
  AMBIGUOUS: "Scanned strings that would read as more than one (material, kind) at the step",
  SUBSTITUTION_REFUSED: "Substitutions by an alternate the proposed requirement would refuse",
  INEXPRESSIBLE: "Splits, merges, repacks or rework the proposed mode cannot express",
} as const;
export type ReplayCategory = keyof typeof REPLAY_CATEGORIES;
export const REPLAY_CATEGORY_CODES = Object.keys(REPLAY_CATEGORIES) as ReplayCategory[];

export interface ReplayRule {
  trackingMode: TrackingMode;
  containerTracking: boolean;
  consumptionScan: ConsumptionScan;
  identifierFormatCodes: string[];
}

/** One proposed rule change: the rule in force (null: legacy or unruled) and the proposed one. */
export interface ReplayChange {
  partNumber: string;
  site: string;
  before: ReplayRule | null;
  after: ReplayRule;
}

export interface ReplayItem {
  id: number;
  identifier: string;
  kind: Identifies;
  partNumber: string;
  site: string;
}

/** One genealogy edge (`input` went into `output`); a rework has input = output. */
export interface ReplayEdge {
  id: number;
  eventRef: string;
  kind: "consume" | "split" | "merge" | "repack" | "rework" | "scrap" | "aggregate";
  input: number;
  output: number;
  quantity: string;
  /** ISO 8601 UTC with milliseconds, as the analysis reads times. */
  occurredAt: string;
  workOrder: string | null;
}

export interface ReplayInput {
  changeRequest: { number: string; revision: number; contentHash: string };
  dataPoint: { auditSeq: number; at: string };
  changes: ReplayChange[];
  /** The rules in force at the data point, by `partNumber|site` (the proposal is laid over them). */
  rulesBefore: Record<string, ReplayRule>;
  formats: Record<string, { identifies: Identifies; definition: IdentifierFormat }>;
  bomLines: { site: string; parent: string; component: string; lineNo: number; alternates: string[] }[];
  /** Routing steps at the changes' sites, one row per consumed material (component null: consumes nothing). */
  routing: { site: string; parent: string; step: number; workCentre: string; component: string | null; consumptionScan: ConsumptionScan | null }[];
  labelTemplates: { site: string; code: string; workCentre: string | null; formats: string[] }[];
  /** Every item an edge names. */
  items: ReplayItem[];
  /** The edges to replay; the engine keeps those inside the window and relevant to a change. */
  edges: ReplayEdge[];
}

export interface ReplayCategoryResult {
  total: number;
  /** Totals split by reason (`UNSCANNABLE`: the kind needed; `AMBIGUOUS`: the kinds read; …). */
  byReason: Record<string, number>;
  /** The first REPLAY_SAMPLE_SIZE cases in (time, edge id) order. */
  sample: string[];
}

export interface ReplayChangeResult {
  partNumber: string;
  site: string;
  from: TrackingMode | "legacy or unruled";
  to: TrackingMode;
  /** What was replayed: consumptions of the material (scans), items of it made (label prints), structural events touching it, substitutions on its BOM lines. */
  replayed: { consumptions: number; itemsMade: number; structuralEvents: number; substitutions: number };
  categories: Record<ReplayCategory, ReplayCategoryResult>;
  /** Days with at least one case, ascending: [day, UNSCANNABLE, AMBIGUOUS, SUBSTITUTION_REFUSED, INEXPRESSIBLE]. */
  days: [string, number, number, number, number][];
}

export interface ReplayReport {
  type: typeof REPLAY_TYPE;
  schemaVersion: typeof REPLAY_SCHEMA_VERSION;
  changeRequest: ReplayInput["changeRequest"];
  dataPoint: ReplayInput["dataPoint"];
  window: { from: string; to: string; days: number };
  totals: Record<ReplayCategory, number>;
  /** Every UTC day of the window, ascending, with the cases of all changes that day (the chart's data). */
  days: { day: string; counts: Record<ReplayCategory, number> }[];
  changes: ReplayChangeResult[];
}
