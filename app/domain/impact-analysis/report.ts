/**
 * The impact analysis's vocabulary (ADR 010): the report, its findings' codes and severities, the
 * input the engine takes and what it read. Browser-safe — the analysis screens import this file
 * alone; it imports types only.
 */
import type { RiskClass } from "../material";
import type { GenealogyGraph } from "../genealogy-graph";
import type { IdentifierFormat } from "../../../packages/identifiers/src/identifier-format";
import type { QualityEventKind, QualityEventSeverity, QualityEventStatus, QualityReferenceKind } from "../quality-event";
import type { ConsumptionScan, Identifies, TrackingMode } from "../tracking-rule";
import type { TraceabilityDeviation, TraceabilityRequirement } from "../traceability-requirement";

export const ANALYSIS_TYPE = "c981.impact-analysis";
export const ANALYSIS_SCHEMA_VERSION = 1;
/** Items named per finding; the counts are always complete. */
export const SAMPLE_SIZE = 20;
export const VOLUME_WINDOW_DAYS = 30;
/** An analysis older than this is stale: a fresh one is required before the next signature. */
export const ANALYSIS_MAX_AGE_HOURS = 24;

export type Severity = "critical" | "warning" | "info";
export const SEVERITIES: readonly Severity[] = ["critical", "warning", "info"];

export const FINDING_CODES = {
  ITEMS_BY_STATUS: "Existing trace items of the material at the site, by status",
  OPEN_WORK_ORDERS: "Open work orders that produce or consume the material",
  MIXED_HISTORY: "Legacy records stay at the coarser level: a mixed historical state the legacy-data plan must cover",
  UNTRACKED_HISTORY: "History before the change has no identity at all",
  PRECISION_LOSS: "Finished units that would lose unit-level or lot-level trace",
  CANDIDATE_LINKS: "Serialized parents that consumed lots: candidate sets, not per-unit links",
  GENEALOGY_BREAK_BOM: "BOM: a serialized component consumed into a non-serialized parent",
  GENEALOGY_BREAK_ACTUAL: "Genealogy: serials consumed into non-serialized parents",
  PARENT_FINER_THAN_COMPONENT: "BOM: a parent requires a finer trace level than its component",
  COARSER_ALTERNATE: "BOM: an approved alternate tracked more coarsely than its primary",
  INEXPRESSIBLE_EVENTS: "Splits, merges, repacks or rework the new mode cannot express",
  REACH: "Finished goods that contain an affected item, through every tier",
  LABELS: "Label templates that must change, and label volume per day",
  LOOK_ALIKE_FORMATS: "Identifier formats used together that print a string readable as more than one kind (serial, lot, container)",
  SCAN_STEPS: "Scanning steps that must change, and scan volume per day",
  ERP_PLM_DISAGREEMENT: "ERP/PLM records whose tracking flag will disagree with the new rule",
  ERP_PLM_RESOLVED: "ERP/PLM records that disagree today and will agree with the new rule",
  CYCLE: "Genealogy cycle in the data (the traversal stopped at it)",
  DANGLING_REFERENCE: "Dangling reference in the genealogy data",
  DISTRIBUTION: "Sites and runtime clients that will receive the change",
  BELOW_REQUIRED_TRACEABILITY: "The change leaves the material at the site below its required traceability",
  DEVIATION_EXPIRED: "Open deviations from required traceability at the request's sites whose expiry has passed",
  OPEN_QUALITY_EVENTS: "Open quality events whose referenced items the change affects, by severity",
  QUALITY_EVENT_SERIALS_STRANDED: "Open quality events referencing serials that production after the downgrade can no longer express",
} as const;
export type FindingCode = keyof typeof FINDING_CODES;

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  count: number;
  counts?: Record<string, number | string>;
  sample: string[];
  /** Structured detail for screens and exports (e.g. candidate sets, volumes). */
  detail?: Record<string, unknown>;
}

// --- input --------------------------------------------------------------------------------------

export type RuleState =
  | { state: "legacy" }
  | { state: "unruled" }
  | { state: "ruled"; trackingMode: TrackingMode; consumptionScan: ConsumptionScan; identifierFormatCodes: string[]; containerTracking: boolean };

export interface MaterialFacts {
  partNumber: string;
  family: string;
  riskClass: RiskClass;
  regulatoryFlags: string[];
}

export interface ItemFacts {
  id: number;
  identifier: string;
  kind: Identifies;
  partNumber: string;
  site: string;
  status: "wip" | "stock" | "consumed" | "shipped" | "scrapped";
  quantity: string;
  createdAt: string;
}

export interface EdgeFacts {
  id: number;
  eventRef: string;
  kind: "consume" | "split" | "merge" | "repack" | "rework" | "scrap" | "aggregate";
  input: number;
  output: number;
  quantity: string;
  unit: string;
  occurredAt: string;
  workOrder: string | null;
}

/** An open quality event (status not closed) and what it references (ADR 034, ADR 037). */
export interface QualityEventFacts {
  number: string;
  kind: QualityEventKind;
  severity: QualityEventSeverity;
  status: QualityEventStatus;
  site: string;
  references: {
    kind: QualityReferenceKind;
    /** The trace item (null for a material reference). */
    itemId: number | null;
    identifier: string | null;
    partNumber: string;
    site: string;
  }[];
}

export interface TrackingChangeInput {
  partNumber: string;
  site: string;
  before: RuleState;
  after: Extract<RuleState, { state: "ruled" }>;
}

export interface AnalysisInput {
  changeRequest: { number: string; revision: number; contentHash: string };
  dataPoint: { auditSeq: number; at: string };
  /** The rule-set version in force at each site at the data point (null: none yet). */
  ruleSetVersions: Record<string, number | null>;
  changes: TrackingChangeInput[];
  materials: Record<string, MaterialFacts>;
  /** Rules in force at the data point for the BOM neighbours, by `partNumber|site`. */
  rulesBefore: Record<string, RuleState>;
  bomLines: { site: string; parent: string; component: string; lineNo: number; alternates: string[] }[];
  /** Items of the changed materials and every item they reach (forward), plus their direct inputs. */
  items: ItemFacts[];
  edges: EdgeFacts[];
  workOrders: { number: string; site: string; partNumber: string; quantity: string; unit: string }[];
  labelTemplates: { site: string; code: string; name: string; workCentre: string | null; formats: string[] }[];
  /** Identifier formats by code, with their definitions (look-alike check, ADR 013). */
  formats: Record<string, { identifies: Identifies; definition: IdentifierFormat }>;
  /** Routing steps at the sites (component null: a step that consumes nothing, e.g. final test and label). */
  routingScans: { site: string; parent: string; step: number; workCentre: string; component: string | null; consumptionScan: ConsumptionScan | null }[];
  externalRecords: { system: "erp" | "plm"; externalKey: string; partNumber: string; site: string | null; trackingFlag: string; trackingMode: TrackingMode }[];
  runtimeClients: { name: string; sites: string[]; reported: Record<string, number | null> }[];
  /** Open quality events with their references (ADR 037); absent or empty: no quality finding. */
  qualityEvents?: QualityEventFacts[];
  /**
   * The whole genealogy to walk forward from the changed materials' items (a compact in-memory
   * index of the plant, ADR 011). Absent: `items` and `edges` hold the reach themselves.
   */
  graph?: GenealogyGraph;
  /**
   * Required traceability (ADR 036): the requirements in force at the data point, the deviations the
   * request carries, and the open deviations recorded at its sites. Absent: no requirement findings.
   */
  traceability?: {
    requirements: TraceabilityRequirement[];
    deviations: TraceabilityDeviation[];
    openDeviations: { material: string; site: string; changeRequest: string; expiresOn: string | null }[];
  };
}

export interface ChangeAnalysis {
  partNumber: string;
  site: string;
  from: TrackingMode | "legacy" | "unruled";
  to: TrackingMode;
  effect: "upgrade" | "downgrade" | "same" | "new";
  findings: Finding[];
}

export interface AnalysisReport {
  type: typeof ANALYSIS_TYPE;
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  changeRequest: AnalysisInput["changeRequest"];
  dataPoint: AnalysisInput["dataPoint"];
  ruleSetVersions: Record<string, number | null>;
  window: { from: string; to: string; days: number };
  summary: { critical: number; warning: number; info: number };
  changes: ChangeAnalysis[];
  findings: Finding[];
}

/**
 * What an analysis consulted that a release can change (ADR 006): the tracking
 * rules (`part|site`) and master data (`part`) it looked up, and the (material, site) pairs whose
 * top-tier membership decided whether a reached item is a finished good. Recorded while the engine
 * runs — not a parallel guess — so the request's base cannot drift from what the analysis read.
 */
export interface AnalysisReads {
  rules: string[];
  masterData: string[];
  topTier: string[];
}
