/**
 * Impact analysis of a change request on legacy genealogy — pure and deterministic. The service
 * reads one consistent snapshot of the database (named by the audit trail's sequence number) into
 * an `AnalysisInput`; this module turns it into findings. Nothing here reads the clock: every time
 * window is measured from the data point, and the same input gives byte-identical output (sorted
 * collections, decimal strings, no floating totals in identifiers).
 *
 * Genealogy is never completed by guesswork: where a serialized parent consumed lot-level inputs,
 * the report names the candidate lots with quantities and the trace precision (unit / lot / none),
 * never a per-unit link. Traversals keep a visited set, so cycles in imported data end them, and
 * are reported, as are dangling references.
 */
import { canonicalize } from "./canonical-json";
import { isoTime } from "./iso-time";
import { CompactGenealogy, EDGE_KINDS, FLOW_KINDS, graphOfRows, ITEM_KINDS, ITEM_STATUSES, smallestDistinct, type GenealogyGraph } from "./genealogy-graph";
import type { IdentifierFormat } from "./identifier-format";
import { isFinishedItem, topTierKey, topTierPairs } from "./genealogy-trace";
import { formatsUsedWith, lookAlikesFor, type NamedFormat } from "./look-alike";
import { compareTracking, granularity, type ConsumptionScan, type Identifies, type TrackingMode } from "./tracking-rule";

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

export type RuleState = { state: "legacy" } | { state: "unruled" } | { state: "ruled"; trackingMode: TrackingMode; consumptionScan: ConsumptionScan; identifierFormatCodes: string[]; containerTracking: boolean };

export interface MaterialFacts {
  partNumber: string;
  family: string;
  riskClass: "low" | "medium" | "high";
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
  /**
   * The whole genealogy to walk forward from the changed materials' items (a compact in-memory
   * index of the plant, ADR 011). Absent: `items` and `edges` hold the reach themselves.
   */
  graph?: GenealogyGraph;
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

// --- helpers ------------------------------------------------------------------------------------

const key = (partNumber: string, site: string) => `${partNumber}|${site}`;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The SAMPLE_SIZE smallest distinct values, in order. */
const sample = (values: Iterable<string>): string[] => smallestDistinct(values, SAMPLE_SIZE);
const perDay = (count: number) => (count / VOLUME_WINDOW_DAYS).toFixed(1);
/** Decimal quantities summed exactly (scaled integers, 6 decimals as stored). */
function sumQuantities(values: Iterable<string>): string {
  let total = 0n;
  for (const v of values) {
    const [whole = "0", fraction = ""] = v.split(".");
    const negative = whole.startsWith("-");
    const scaled = BigInt(whole.replace("-", "")) * 1_000_000n + BigInt((fraction + "000000").slice(0, 6));
    total += negative ? -scaled : scaled;
  }
  const whole = total / 1_000_000n;
  const fraction = (total % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
const modeOf = (rule: RuleState | undefined): TrackingMode | null => (rule?.state === "ruled" ? rule.trackingMode : null);
const REGULATED = new Set(["udi", "critical_to_safety"]);

// --- the analysis -------------------------------------------------------------------------------

/**
 * What an analysis consulted that a release can change (issue 17 part 5, ADR 006): the tracking
 * rules (`part|site`) and master data (`part`) it looked up, and the (material, site) pairs whose
 * top-tier membership decided whether a reached item is a finished good. Recorded while the engine
 * runs — not a parallel guess — so the request's base cannot drift from what the analysis read.
 */
export interface AnalysisReads {
  rules: string[];
  masterData: string[];
  topTier: string[];
}

export function analyseChangeRequest(input: AnalysisInput): AnalysisReport {
  return analyseChangeRequestReads(input).report;
}

/** The report and what the analysis read to make it (`AnalysisReads`). */
export function analyseChangeRequestReads(input: AnalysisInput): { report: AnalysisReport; reads: AnalysisReads } {
  const consulted = { rules: new Set<string>(), masterData: new Set<string>(), topTier: new Set<string>() };
  input = {
    ...input,
    materials: new Proxy(input.materials, {
      get(target, property, receiver) {
        if (typeof property === "string") consulted.masterData.add(property);
        return Reflect.get(target, property, receiver);
      },
    }),
  };
  const outgoing = new Map<number, EdgeFacts[]>();
  const incoming = new Map<number, EdgeFacts[]>();
  for (const edge of [...input.edges].sort((a, b) => a.id - b.id)) {
    (outgoing.get(edge.input) ?? outgoing.set(edge.input, []).get(edge.input)!).push(edge);
    (incoming.get(edge.output) ?? incoming.set(edge.output, []).get(edge.output)!).push(edge);
  }
  // The rules after the change request: its own changes over the rules in force.
  const rulesAfter = new RecordingRules(Object.entries(input.rulesBefore), consulted.rules);
  for (const c of input.changes) rulesAfter.set(key(c.partNumber, c.site), c.after);
  // Each change's "before" is a rule read too.
  for (const c of input.changes) consulted.rules.add(key(c.partNumber, c.site));
  const to = Date.parse(input.dataPoint.at);
  const window = { from: new Date(to - VOLUME_WINDOW_DAYS * 86_400_000).toISOString(), to: input.dataPoint.at, days: VOLUME_WINDOW_DAYS };
  const inWindow = (at: string) => at >= window.from && at < window.to;
  const graph = input.graph ?? graphOfRows(input.items, input.edges);
  // Finished goods: the top tier of each site's BOMs (ADR 010), decided once from the snapshot's BOM lines.
  const topTier = topTierPairs(input.bomLines);
  const ctx: Context = { input, outgoing, incoming, rulesAfter, inWindow, windowMs: { from: Date.parse(window.from), to: Date.parse(window.to) }, graph, topTier, reaches: new Map(), samples: new WeakMap(), topTierRead: consulted.topTier };

  const changes = [...input.changes]
    .sort((a, b) => byText(a.site, b.site) || byText(a.partNumber, b.partNumber))
    .map((change) => analyseChange(ctx, change));
  const findings = [distribution(input), ...dataQuality(ctx)].filter((f): f is Finding => f !== null);
  const all = [...changes.flatMap((c) => c.findings), ...findings];
  const summary = { critical: 0, warning: 0, info: 0 };
  for (const f of all) summary[f.severity]++;
  const reads: AnalysisReads = { rules: [...consulted.rules].sort(byText), masterData: [...consulted.masterData].sort(byText), topTier: [...consulted.topTier].sort(byText) };
  const report: AnalysisReport = {
    type: ANALYSIS_TYPE,
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    changeRequest: input.changeRequest,
    dataPoint: input.dataPoint,
    ruleSetVersions: Object.fromEntries(Object.entries(input.ruleSetVersions).sort(([a], [b]) => byText(a, b))),
    window,
    summary,
    changes,
    findings,
  };
  return { report, reads };
}

/** The rules after the change request, remembering every key looked up (`AnalysisReads.rules`). */
class RecordingRules extends Map<string, RuleState> {
  constructor(
    entries: Iterable<readonly [string, RuleState]>,
    private readonly read: Set<string>,
  ) {
    super(entries);
  }
  override get(key: string): RuleState | undefined {
    this.read.add(key);
    return super.get(key);
  }
}

/**
 * Items of the genealogy index as `ItemFacts`, read lazily: an analysis of a material with tens of
 * thousands of items reads most of their facts never, or only by code. `toJSON` gives the plain facts.
 */
class IndexedItem implements ItemFacts {
  // An ES private field: not enumerable, so a spread or a deep comparison never copies the index.
  readonly #graph: CompactGenealogy;
  constructor(
    readonly id: number,
    graph: CompactGenealogy,
  ) {
    this.#graph = graph;
  }
  get identifier(): string {
    return this.#graph.identifierOf(this.id);
  }
  get kind(): ItemFacts["kind"] {
    return this.#graph.kindOf(this.id);
  }
  get partNumber(): string {
    return this.#graph.partNumberOf(this.id);
  }
  get site(): string {
    return this.#graph.siteOf(this.id);
  }
  get status(): ItemFacts["status"] {
    return this.#graph.statusOf(this.id);
  }
  get quantity(): string {
    return this.#graph.quantityOf(this.id);
  }
  get createdAt(): string {
    return isoTime(this.#graph.createdAtOf(this.id));
  }
  toJSON(): ItemFacts {
    const { id, identifier, kind, partNumber, site, status, quantity, createdAt } = this;
    return { id, identifier, kind, partNumber, site, status, quantity, createdAt };
  }
}

/** The facts of items the index holds (ids in the order given). */
export function itemsOfIndex(graph: CompactGenealogy, ids: readonly number[]): ItemFacts[] {
  return ids.map((id) => new IndexedItem(id, graph));
}

/** The stored form: RFC 8785 canonical JSON; its SHA-256 is what reviewers sign with. */
export function canonicalReport(report: AnalysisReport): string {
  return canonicalize(JSON.parse(JSON.stringify(report)));
}

interface Context {
  input: AnalysisInput;
  outgoing: Map<number, EdgeFacts[]>;
  incoming: Map<number, EdgeFacts[]>;
  rulesAfter: Map<string, RuleState>;
  inWindow: (at: string) => boolean;
  /** The same window in epoch milliseconds. */
  windowMs: { from: number; to: number };
  graph: GenealogyGraph;
  /** The (material, site) pairs whose non-container items are finished goods (`topTierPairs`). */
  topTier: ReadonlySet<string>;
  /** Walks already made in this analysis, by their starting set (each change walks once). */
  reaches: Map<string, { start: readonly number[]; reach: Reach }[]>;
  /** Samples of finished goods already taken, by the reach's finished list. */
  samples: WeakMap<number[], string[]>;
  /** The `part|site` pairs whose top-tier membership a walk consulted (`AnalysisReads.topTier`). */
  topTierRead: Set<string>;
}

function reachOf(ctx: Context, start: readonly number[]): Reach {
  let sorted = true;
  for (let i = 1; i < start.length && sorted; i++) sorted = start[i - 1]! <= start[i]!;
  const ids = sorted ? start : sortedIds(start);
  // Keyed by the starting set: its size and two 32-bit hashes, confirmed element by element.
  let h1 = 0x811c9dc5;
  let h2 = 17;
  for (const id of ids) {
    h1 = Math.imul(h1 ^ id, 0x01000193);
    h2 = (Math.imul(h2, 31) + id) | 0;
  }
  const key = `${ids.length}:${h1 >>> 0}:${h2 >>> 0}`;
  const walks = ctx.reaches.get(key) ?? [];
  let found = walks.find((w) => w.start.length === ids.length && w.start.every((id, i) => id === ids[i]))?.reach;
  if (!found) {
    found = forwardReach(ctx.graph, ids, ctx.topTier);
    recordTopTierReads(ctx, found);
    walks.push({ start: ids, reach: found });
    ctx.reaches.set(key, walks);
  }
  return found;
}

/** Every non-container item a walk reached was judged finished or not by its (material, site) pair. */
function recordTopTierReads(ctx: Context, found: Reach): void {
  const g = ctx.graph;
  if (g instanceof CompactGenealogy) {
    const sites = g.siteCodes.length;
    const seen = new Uint8Array(g.partNumbers.length * sites);
    for (let k = 0; k < found.ids.length; k++) {
      const id = found.ids[k]!;
      if (g.kind[id] === CONTAINER_CODE) continue;
      seen[g.material[id]! * sites + g.site[id]!] = 1;
    }
    for (let i = 0; i < seen.length; i++) if (seen[i]) ctx.topTierRead.add(topTierKey(g.partNumbers[Math.floor(i / sites)]!, g.siteCodes[i % sites]!));
  } else {
    for (const id of found.ids) if (g.kindOf(id) !== "container") ctx.topTierRead.add(topTierKey(g.partNumberOf(id), g.siteOf(id)));
  }
}

function analyseChange(ctx: Context, change: TrackingChangeInput): ChangeAnalysis {
  const { input } = ctx;
  const fromMode = modeOf(change.before);
  const toMode = change.after.trackingMode;
  const effect = fromMode ? compareTracking(fromMode, toMode) : "new";
  const own = input.items.filter((i) => i.partNumber === change.partNumber && i.site === change.site).sort((a, b) => a.id - b.id);
  const material = input.materials[change.partNumber];
  const findings: (Finding | null)[] = [
    itemsByStatus(ctx, own),
    openWorkOrders(ctx, change),
    ...traceabilityEffect(ctx, change, own, fromMode, material),
    candidateLinks(ctx, own),
    ...boundaryConflicts(ctx, change, own),
    reach(ctx, own),
    labels(ctx, change, own, fromMode),
    lookAlikeFormats(ctx, change),
    scanSteps(ctx, change, own, fromMode),
    ...externalRecords(ctx, change, fromMode),
  ];
  return {
    partNumber: change.partNumber,
    site: change.site,
    from: change.before.state === "ruled" ? change.before.trackingMode : change.before.state,
    to: toMode,
    effect,
    findings: findings.filter((f): f is Finding => f !== null),
  };
}

/** The sample of items' identifiers, compared in the index without decoding every identifier. */
function sampleOfItems(ctx: Context, items: readonly ItemFacts[]): string[] {
  return ctx.graph.smallestIdentifiers(items.map((i) => i.id), SAMPLE_SIZE);
}

function itemsByStatus(ctx: Context, own: ItemFacts[]): Finding {
  const counts: Record<string, number> = { wip: 0, stock: 0, consumed: 0, shipped: 0, scrapped: 0 };
  const byKind: Record<string, number> = {};
  // Indexed loops over large collections here and below: a function run once per analysis is not
  // optimized yet, and an unoptimized for…of allocates an iterator result per element.
  for (let k = 0; k < own.length; k++) {
    const i = own[k]!;
    counts[i.status]!++;
    byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  }
  const active = own.filter((i) => i.status === "wip" || i.status === "stock");
  return {
    code: "ITEMS_BY_STATUS",
    severity: "info",
    message: `${own.length} trace item(s): ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ")}`,
    count: own.length,
    counts: { ...counts, ...Object.fromEntries(Object.entries(byKind).map(([k, n]) => [`kind:${k}`, n])) },
    sample: sampleOfItems(ctx, active.length ? active : own),
  };
}

function openWorkOrders(ctx: Context, change: TrackingChangeInput): Finding {
  const consumers = new Set(
    ctx.input.bomLines
      .filter((l) => l.site === change.site && (l.component === change.partNumber || l.alternates.includes(change.partNumber)))
      .map((l) => l.parent),
  );
  const producing = ctx.input.workOrders.filter((w) => w.site === change.site && w.partNumber === change.partNumber);
  const consuming = ctx.input.workOrders.filter((w) => w.site === change.site && consumers.has(w.partNumber));
  const count = producing.length + consuming.length;
  return {
    code: "OPEN_WORK_ORDERS",
    severity: count > 0 ? "warning" : "info",
    message:
      count > 0
        ? `${producing.length} open work order(s) produce it and ${consuming.length} consume it: in-flight work crosses the switch and needs a cut-over rule`
        : "No open work order produces or consumes it",
    count,
    counts: { producing: producing.length, consuming: consuming.length },
    sample: sample([...producing, ...consuming].map((w) => w.number)),
  };
}

function isRegulated(ctx: Context, partNumber: string): boolean {
  return (ctx.input.materials[partNumber]?.regulatoryFlags ?? []).some((f) => REGULATED.has(f));
}

function traceabilityEffect(ctx: Context, change: TrackingChangeInput, own: ItemFacts[], fromMode: TrackingMode | null, material: MaterialFacts | undefined): Finding[] {
  const toMode = change.after.trackingMode;
  const findings: Finding[] = [];
  if (fromMode === "lot" && toMode === "serial") {
    const lots = own.filter((i) => i.kind === "lot");
    const active = lots.filter((i) => i.status === "wip" || i.status === "stock");
    findings.push({
      code: "MIXED_HISTORY",
      severity: lots.length > 0 ? "warning" : "info",
      message: `${lots.length} lot(s) stay lot-level history; ${active.length} still in WIP or stock (${sumQuantities(active.map((i) => i.quantity))} units) must be re-identified with serials or grandfathered`,
      count: lots.length,
      counts: { lots: lots.length, toReidentifyOrGrandfather: active.length, unitsInOpenLots: sumQuantities(active.map((i) => i.quantity)), historical: lots.length - active.length },
      sample: sampleOfItems(ctx, active),
    });
  } else if ((fromMode === "none" || fromMode === null) && toMode !== "none") {
    findings.push({
      code: "UNTRACKED_HISTORY",
      severity: "warning",
      message: `Before the change the material was ${fromMode === null ? change.before.state : "untracked"}: ${own.length === 0 ? "no record identifies it" : `${own.length} record(s) exist anyway`}; material already in stock or built in carries no identity`,
      count: own.length,
      sample: sampleOfItems(ctx, own),
    });
  }
  if (fromMode && granularity(toMode) < granularity(fromMode)) {
    // Which finished units trace to this material at the level that will be lost?
    const level: Identifies = fromMode === "serial" ? "serial" : "lot";
    const sources = own.filter((i) => i.kind === level);
    const finished = reachOf(ctx, sources.map((i) => i.id)).finished;
    const regulatedByMaterial = new Map<string, boolean>();
    const regulated = (partNumber: string) => {
      let r = regulatedByMaterial.get(partNumber);
      if (r === undefined) regulatedByMaterial.set(partNumber, (r = isRegulated(ctx, partNumber)));
      return r;
    };
    const g = ctx.graph;
    let regulatedCount = 0;
    if (g instanceof CompactGenealogy) {
      // By material code: the finished set may hold tens of thousands of items.
      // Decided on first use per code: only the finished goods' own master data is read (AnalysisReads).
      const byCode = new Int8Array(g.partNumbers.length).fill(-1);
      for (let k = 0; k < finished.length; k++) {
        const code = g.material[finished[k]!]!;
        if (byCode[code] === -1) byCode[code] = regulated(g.partNumbers[code]!) ? 1 : 0;
        regulatedCount += byCode[code]!;
      }
    } else {
      for (const id of finished) if (regulated(g.partNumberOf(id))) regulatedCount++;
    }
    const materialRegulated = material ? material.regulatoryFlags.some((f) => REGULATED.has(f)) : false;
    const byStatus = finishedByStatus(g, finished);
    findings.push({
      code: "PRECISION_LOSS",
      severity: regulatedCount > 0 || materialRegulated ? "critical" : "warning",
      message: `${finished.length} finished unit(s)${byStatus.length ? ` (${byStatus.map(([status, n]) => `${n} ${status}`).join(", ")})` : ""} trace to ${sources.length} ${level}(s) of it today; future units lose ${fromMode === "serial" ? "unit-level" : "lot-level"} trace (${toMode === "none" ? "no" : "lot-level"} trace left); ${regulatedCount} of them are regulated (UDI, critical to safety)${materialRegulated ? "; the material itself is regulated" : ""}`,
      count: finished.length,
      counts: { finishedUnits: finished.length, ...Object.fromEntries(byStatus.map(([status, n]) => [`status:${status}`, n])), regulated: regulatedCount, sources: sources.length, precisionAfter: toMode === "none" ? "none" : "lot" },
      sample: smallestFinished(ctx, finished),
    });
  }
  return findings;
}

/** Serialized parents that consumed lots of the material: the candidate lots with quantities, precision "lot". */
function candidateLinks(ctx: Context, own: ItemFacts[]): Finding | null {
  const parents = new Map<number, { lot: string; quantity: string; unit: string }[]>();
  for (const lot of own.filter((i) => i.kind === "lot")) {
    for (const e of ctx.outgoing.get(lot.id) ?? []) {
      if (e.kind !== "consume" || !ctx.graph.has(e.output) || ctx.graph.kindOf(e.output) !== "serial") continue;
      (parents.get(e.output) ?? parents.set(e.output, []).get(e.output)!).push({ lot: lot.identifier, quantity: e.quantity, unit: e.unit });
    }
  }
  if (parents.size === 0) return null;
  const sets = [...parents]
    .map(([id, candidates]) => ({ parent: ctx.graph.identifierOf(id), parentMaterial: ctx.graph.partNumberOf(id), precision: "lot", candidates: candidates.sort((a, b) => byText(a.lot, b.lot)) }))
    .sort((a, b) => byText(a.parent, b.parent));
  const ambiguous = sets.filter((s) => s.candidates.length > 1).length;
  return {
    code: "CANDIDATE_LINKS",
    severity: "info",
    message: `${parents.size} serialized parent(s) consumed lots of it: each links to its candidate lot(s) with quantities (trace precision: lot); ${ambiguous} of them have more than one candidate lot`,
    count: parents.size,
    counts: { parents: parents.size, withSeveralCandidates: ambiguous, precisionUnit: 0, precisionLot: parents.size },
    sample: sample(sets.map((s) => s.parent)),
    detail: { candidateSets: sets.slice(0, SAMPLE_SIZE) },
  };
}

function boundaryConflicts(ctx: Context, change: TrackingChangeInput, own: ItemFacts[]): (Finding | null)[] {
  const { site, partNumber } = change;
  const after = (pn: string) => modeOf(ctx.rulesAfter.get(key(pn, site)));
  const lines = ctx.input.bomLines.filter((l) => l.site === site && (l.parent === partNumber || l.component === partNumber || l.alternates.includes(partNumber)));
  const breaks: string[] = [];
  const finer: string[] = [];
  const coarser: string[] = [];
  for (const line of lines) {
    const parentMode = after(line.parent);
    for (const component of [line.component, ...line.alternates]) {
      if (line.parent !== partNumber && component !== partNumber) continue;
      const componentMode = after(component);
      if (!parentMode || !componentMode) continue;
      const label = `${site} ${line.parent} ← ${component}`;
      if (componentMode === "serial" && parentMode !== "serial") breaks.push(`${label} (serial into ${parentMode})`);
      const risk = ctx.input.materials[component]?.riskClass ?? "medium";
      if (componentMode === "none" && parentMode !== "none" && risk !== "low") finer.push(`${label} (${parentMode} parent, untracked ${risk}-risk component)`);
    }
    const primaryMode = after(line.component);
    if (primaryMode && (line.component === partNumber || line.alternates.includes(partNumber))) {
      for (const alt of line.alternates) {
        const altMode = after(alt);
        if (altMode && compareTracking(primaryMode, altMode) === "downgrade" && (alt === partNumber || line.component === partNumber)) {
          coarser.push(`${site} ${line.parent}: ${alt} (${altMode}) for ${line.component} (${primaryMode})`);
        }
      }
    }
  }
  // Actual genealogy under the new rules: serial items consumed into parents that will not be serialized.
  // Each consume edge touching the material's items once (out of them, or into them from elsewhere).
  const actual: string[] = [];
  const g = ctx.graph;
  if (g instanceof CompactGenealogy) actualBreaksCompact(ctx, g, own, actual);
  else actualBreaks(ctx, g, own, actual);
  const expressible = inexpressibleEvents(ctx, change, own);
  return [
    breaks.length
      ? { code: "GENEALOGY_BREAK_BOM", severity: "critical", message: `${breaks.length} BOM line(s) consume a serialized component into a non-serialized parent: unit-level trace ends there`, count: breaks.length, sample: sample(breaks) }
      : null,
    actual.length
      ? { code: "GENEALOGY_BREAK_ACTUAL", severity: "critical", message: `${actual.length} recorded consumption(s) put a serial into a parent that will not be serialized`, count: actual.length, sample: sample(actual) }
      : null,
    finer.length
      ? { code: "PARENT_FINER_THAN_COMPONENT", severity: "warning", message: `${finer.length} BOM line(s): a tracked parent consumes an untracked component of medium or high risk`, count: finer.length, sample: sample(finer) }
      : null,
    coarser.length
      ? { code: "COARSER_ALTERNATE", severity: "warning", message: `${coarser.length} approved alternate(s) are tracked more coarsely than their primary: substituting loses trace`, count: coarser.length, sample: sample(coarser) }
      : null,
    expressible,
  ];
}

/** Recorded consumptions of a serial into a parent whose material will not be serialized (`input → output`). */
function actualBreaks(ctx: Context, g: GenealogyGraph, own: ItemFacts[], actual: string[]): void {
  const ownIds = new Set(own.map((i) => i.id));
  const modes = new Map<string, Map<string, TrackingMode | null>>();
  const modeAfter = (id: number) => {
    const partNumber = g.partNumberOf(id);
    const site = g.siteOf(id);
    let bySite = modes.get(partNumber);
    if (!bySite) modes.set(partNumber, (bySite = new Map()));
    let mode = bySite.get(site);
    if (mode === undefined) bySite.set(site, (mode = modeOf(ctx.rulesAfter.get(key(partNumber, site)))));
    return mode;
  };
  const check = (input: number, output: number) => {
    if (!g.has(input) || !g.has(output)) return;
    if (g.kindOf(input) !== "serial" || g.kindOf(output) === "container" || modeAfter(input) !== "serial") return;
    const outputMode = modeAfter(output);
    if (outputMode !== null && outputMode !== "serial") actual.push(`${g.identifierOf(input)} → ${g.identifierOf(output)}`);
  };
  for (const i of own) {
    g.forEachOut(i.id, (output, kind) => {
      if (kind === "consume") check(i.id, output);
    });
    g.forEachIn(i.id, (input, kind) => {
      if (kind === "consume" && !ownIds.has(input)) check(input, i.id);
    });
  }
}

/** `actualBreaks` over the compact index's arrays: modes by material and site code, kinds by code. */
function actualBreaksCompact(ctx: Context, g: CompactGenealogy, own: ItemFacts[], actual: string[]): void {
  const { present, kind, material, site, outStart, outTarget, outKind, inStart, inSource, inKind } = g;
  const sites = g.siteCodes.length;
  // Per material × site code: the tracking mode after the change (-1 not ruled), computed on first use.
  const modes = new Int8Array(g.partNumbers.length * sites).fill(-2);
  const modeAfter = (id: number) => {
    const k = material[id]! * sites + site[id]!;
    let m = modes[k]!;
    if (m === -2) {
      const mode = modeOf(ctx.rulesAfter.get(key(g.partNumbers[material[id]!]!, g.siteCodes[site[id]!]!)));
      modes[k] = m = mode === null ? -1 : TRACKING_MODES.indexOf(mode);
    }
    return m;
  };
  const has = (id: number) => id > 0 && id < present.length && present[id] === 1;
  const check = (input: number, output: number) => {
    if (!has(input) || !has(output)) return;
    if (kind[input] !== SERIAL_CODE || kind[output] === CONTAINER_CODE || modeAfter(input) !== SERIAL_MODE) return;
    const outputMode = modeAfter(output);
    if (outputMode !== -1 && outputMode !== SERIAL_MODE) actual.push(`${g.identifierOf(input)} → ${g.identifierOf(output)}`);
  };
  const { state: isOwn } = scratchFor(g.maxId + 1);
  try {
    for (let k = 0; k < own.length; k++) if (own[k]!.id > 0 && own[k]!.id < isOwn.length) isOwn[own[k]!.id] = 1;
    for (let k = 0; k < own.length; k++) {
      const id = own[k]!.id;
      if (id <= 0 || id >= present.length) continue;
      for (let e = outStart[id]!, end = outStart[id + 1]!; e < end; e++) if (outKind[e] === CONSUME_CODE) check(id, outTarget[e]!);
      for (let e = inStart[id]!, end = inStart[id + 1]!; e < end; e++) if (inKind[e] === CONSUME_CODE && isOwn[inSource[e]!] !== 1) check(inSource[e]!, id);
    }
  } finally {
    for (let k = 0; k < own.length; k++) if (own[k]!.id > 0 && own[k]!.id < isOwn.length) isOwn[own[k]!.id] = 0;
  }
}

function inexpressibleEvents(ctx: Context, change: TrackingChangeInput, own: ItemFacts[]): Finding | null {
  const mode = change.after.trackingMode;
  const refused = new Set<EdgeFacts["kind"]>(mode === "serial" ? ["split", "merge"] : mode === "lot" ? ["rework"] : ["split", "merge", "repack", "rework"]);
  const events = new Map<string, EdgeFacts["kind"]>();
  const note = (edges: EdgeFacts[] | undefined) => {
    if (!edges) return;
    for (const e of edges) {
      if (!refused.has(e.kind)) continue;
      // A repack puts this material into containers; a container format alone can still express it.
      if (e.kind === "repack" && change.after.containerTracking) continue;
      events.set(e.eventRef, e.kind);
    }
  };
  for (let k = 0; k < own.length; k++) {
    note(ctx.outgoing.get(own[k]!.id));
    note(ctx.incoming.get(own[k]!.id));
  }
  if (events.size === 0) return null;
  const byKind: Record<string, number> = {};
  for (const kind of events.values()) byKind[kind] = (byKind[kind] ?? 0) + 1;
  return {
    code: "INEXPRESSIBLE_EVENTS",
    severity: "warning",
    message: `${events.size} recorded event(s) — ${Object.entries(byKind).sort(([a], [b]) => byText(a, b)).map(([k, n]) => `${n} ${k}`).join(", ")} — cannot be expressed when the material is ${mode === "none" ? "untracked" : `${mode}-tracked`}`,
    count: events.size,
    counts: byKind,
    sample: sample(events.keys()),
  };
}

interface Reach {
  /** Every item reached, the starting items first: by tier, then by id. */
  ids: ArrayLike<number> & Iterable<number>;
  /** Where each tier ends in `ids`: tier t is `ids[layerEnds[t - 1] ?? 0 … layerEnds[t])`. */
  layerEnds: number[];
  deepest: number;
  /** Finished goods reached, the starting items included (by tier, then id). */
  finished: number[];
  /** Per finished good: 1 when the best path found to it is unit-level (serials and containers only). */
  finishedUnit: Uint8Array;
}

/** Item ids in increasing order (a typed-array sort: numeric, no comparator calls). */
function sortedIds(ids: readonly number[]): number[] {
  return Array.from(Float64Array.from(ids).sort());
}

/** The tier of `id` in a reach (-1 when not reached). */
export function tierIn(reach: Reach, id: number): number {
  const at = Array.prototype.indexOf.call(reach.ids, id);
  if (at < 0) return -1;
  return reach.layerEnds.findIndex((end) => at < end);
}

/**
 * Breadth-first, forward (input → output) along material flow (consume, split, merge, repack,
 * aggregate), through every tier. A finished good is a non-container item whose material is a top
 * tier of its site's BOMs (`topTier`, from `topTierPairs`), whatever its status and whatever flowed
 * out of it — a device on a pallet is still one, and the walk goes on through the pallet
 * (containers are transparent). The starting items count too: a change to a finished material
 * reaches its own units. A visited mark makes cycles end the walk. Precision: a path is unit-level
 * while every hop is a serial or a container; a finer path found later only improves an item not
 * yet expanded's precision (it never revisits, so the walk terminates).
 */
export function forwardReach(graph: GenealogyGraph, start: readonly number[], topTier: ReadonlySet<string>): Reach {
  if (graph instanceof CompactGenealogy) return compactForwardReach(graph, start, topTierCodes(graph, topTier));
  const tier = new Map<number, number>();
  const unit = new Set<number>();
  const ids: number[] = [];
  const layerEnds: number[] = [];
  const finished: number[] = [];
  let frontier: number[] = [];
  for (const id of start) {
    if (!graph.has(id) || tier.has(id)) continue;
    tier.set(id, 0);
    if (graph.kindOf(id) !== "lot") unit.add(id);
    frontier.push(id);
  }
  frontier = sortedIds(frontier);
  let deepest = 0;
  for (let depth = 1; frontier.length > 0; depth++) {
    deepest = depth - 1;
    for (const id of frontier) ids.push(id);
    layerEnds.push(ids.length);
    const next: number[] = [];
    for (const id of frontier) {
      const fromUnit = unit.has(id);
      if (isFinishedItem(graph.kindOf(id), topTier.has(topTierKey(graph.partNumberOf(id), graph.siteOf(id))))) finished.push(id);
      graph.forEachFlowOut(id, (output) => {
        const viaUnit = fromUnit && graph.kindOf(output) !== "lot";
        if (!tier.has(output)) {
          tier.set(output, depth);
          if (viaUnit) unit.add(output);
          next.push(output);
        } else if (viaUnit) {
          unit.add(output);
        }
      });
    }
    frontier = sortedIds(next);
  }
  return { ids, layerEnds, deepest, finished, finishedUnit: Uint8Array.from(finished, (id) => (unit.has(id) ? 1 : 0)) };
}

/**
 * Scratch for walks over the compact index: a state byte per item (0 unseen, 1 reached at lot
 * level, 2 reached at unit level) and a queue, reused across walks (the arrays are as large as the
 * plant; allocating and zeroing them per walk cost more than the walk). A walk returns them with
 * every byte it set cleared again. Walks are synchronous, so one set serves the process.
 */
let walkScratch: { state: Uint8Array; queue: Uint32Array } | null = null;
function scratchFor(size: number): { state: Uint8Array; queue: Uint32Array } {
  if (!walkScratch || walkScratch.state.length < size) walkScratch = { state: new Uint8Array(size), queue: new Uint32Array(size) };
  return walkScratch;
}

/**
 * The top-tier set as a byte per (material code × site count + site code) of the index, so the
 * compact walk decides "finished" with two array reads. Made once per set and index.
 */
const topTierBitmaps = new WeakMap<ReadonlySet<string>, { graph: CompactGenealogy; bits: Uint8Array }>();
function topTierCodes(graph: CompactGenealogy, topTier: ReadonlySet<string>): Uint8Array {
  const cached = topTierBitmaps.get(topTier);
  if (cached && cached.graph === graph) return cached.bits;
  const sites = graph.siteCodes.length;
  const bits = new Uint8Array(graph.partNumbers.length * sites);
  for (let m = 0; m < graph.partNumbers.length; m++) {
    for (let s = 0; s < sites; s++) if (topTier.has(topTierKey(graph.partNumbers[m]!, graph.siteCodes[s]!))) bits[m * sites + s] = 1;
  }
  topTierBitmaps.set(topTier, { graph, bits });
  return bits;
}

/**
 * `forwardReach` over the compact index's arrays directly (the same walk, the same result; the
 * golden tests compare both): one queue holds the tiers one after another, each sorted in place.
 * `topTier` is `topTierCodes`' bitmap.
 */
function compactForwardReach(graph: CompactGenealogy, start: readonly number[], topTier: Uint8Array): Reach {
  const { present, kind, material, site, outStart, outTarget, outKind } = graph;
  const siteCount = graph.siteCodes.length;
  const { state, queue } = scratchFor(graph.maxId + 1);
  const finished: number[] = [];
  const layerEnds: number[] = [];
  let tail = 0;
  let finishedUnit: Uint8Array;
  let ids: Uint32Array;
  let deepest = 0;
  // Every state byte set is cleared again, also if the walk throws: the scratch serves the next walk.
  try {
    for (const id of start) {
      if (!graph.has(id) || state[id] !== 0) continue;
      state[id] = kind[id] !== LOT_CODE ? 2 : 1;
      queue[tail++] = id;
    }
    sortIds(queue.subarray(0, tail));
    for (let depth = 1, head = 0; head < tail; depth++) {
      deepest = depth - 1;
      const layerEnd = tail;
      layerEnds.push(layerEnd);
      for (; head < layerEnd; head++) {
        const id = queue[head]!;
        const fromUnit = state[id] === 2;
        // A finished good (ADR 010): not a container, its material a top tier of its site's BOMs.
        if (kind[id] !== CONTAINER_CODE && topTier[material[id]! * siteCount + site[id]!] === 1) finished.push(id);
        for (let e = outStart[id]!, end = outStart[id + 1]!; e < end; e++) {
          const output = outTarget[e]!;
          if (output === id || !FLOW_CODES[outKind[e]!] || present[output] !== 1) continue;
          const viaUnit = fromUnit && kind[output] !== LOT_CODE;
          if (state[output] === 0) {
            state[output] = viaUnit ? 2 : 1;
            queue[tail++] = output;
          } else if (viaUnit) {
            state[output] = 2;
          }
        }
      }
      sortIds(queue.subarray(layerEnd, tail));
    }
    finishedUnit = new Uint8Array(finished.length);
    for (let i = 0; i < finished.length; i++) finishedUnit[i] = state[finished[i]!] === 2 ? 1 : 0;
    ids = queue.slice(0, tail);
  } finally {
    for (let i = 0; i < tail; i++) state[queue[i]!] = 0;
  }
  return { ids, layerEnds, deepest, finished, finishedUnit };
}
/**
 * Sorts item ids in place: a least-significant-digit radix sort (two 16-bit passes) for large
 * tiers — a tier may hold tens of thousands of items — and the built-in sort for small ones.
 */
let radixBuffer = new Uint32Array(0);
const radixCounts = new Uint32Array(1 << 16);
function sortIds(ids: Uint32Array): void {
  const n = ids.length;
  if (n < 4096) {
    ids.sort();
    return;
  }
  if (radixBuffer.length < n) radixBuffer = new Uint32Array(n);
  const buffer = radixBuffer.subarray(0, n);
  for (const [from, to, shift] of [[ids, buffer, 0], [buffer, ids, 16]] as const) {
    radixCounts.fill(0);
    for (let i = 0; i < n; i++) radixCounts[(from[i]! >>> shift) & 0xffff]!++;
    for (let d = 0, sum = 0; d < radixCounts.length; d++) {
      const c = radixCounts[d]!;
      radixCounts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const v = from[i]!;
      to[radixCounts[(v >>> shift) & 0xffff]!++] = v;
    }
  }
}
const LOT_CODE = ITEM_KINDS.indexOf("lot");
const CONTAINER_CODE = ITEM_KINDS.indexOf("container");
const CONSUMED_CODE = ITEM_STATUSES.indexOf("consumed");
const SERIAL_CODE = ITEM_KINDS.indexOf("serial");
const REWORK_CODE = EDGE_KINDS.indexOf("rework");
const CONSUME_CODE = EDGE_KINDS.indexOf("consume");
const TRACKING_MODES: readonly TrackingMode[] = ["serial", "lot", "none"];
const SERIAL_MODE = TRACKING_MODES.indexOf("serial");
const FLOW_CODES = EDGE_KINDS.map((k) => FLOW_KINDS.has(k));

function reach(ctx: Context, own: ItemFacts[]): Finding {
  const { ids, layerEnds, deepest, finished, finishedUnit } = reachOf(ctx, own.map((i) => i.id));
  const g = ctx.graph;
  const bySite: Record<string, number> = {};
  // Affected items by tier and status (for the chart).
  const byTier: Record<string, Record<string, number>> = {};
  if (g instanceof CompactGenealogy) {
    // Counted by codes over the index's arrays: the reach may hold hundreds of thousands of items.
    const siteCounts = new Uint32Array(g.siteCodes.length);
    for (let k = 0; k < finished.length; k++) siteCounts[g.site[finished[k]!]!]!++;
    for (let s = 0; s < siteCounts.length; s++) if (siteCounts[s]) bySite[g.siteCodes[s]!] = siteCounts[s]!;
    const statusCounts = new Uint32Array(ITEM_STATUSES.length);
    for (let t = 0, from = 0; t < layerEnds.length; from = layerEnds[t++]!) {
      statusCounts.fill(0);
      for (let at = from, end = layerEnds[t]!; at < end; at++) statusCounts[g.status[ids[at]!]!]!++;
      const row: Record<string, number> = (byTier[String(t)] = {});
      for (let s = 0; s < statusCounts.length; s++) if (statusCounts[s]) row[ITEM_STATUSES[s]!] = statusCounts[s]!;
    }
  } else {
    for (const id of finished) bySite[g.siteOf(id)] = (bySite[g.siteOf(id)] ?? 0) + 1;
    for (let t = 0, from = 0; t < layerEnds.length; from = layerEnds[t++]!) {
      const row: Record<string, number> = (byTier[String(t)] = {});
      for (let at = from, end = layerEnds[t]!; at < end; at++) {
        const status = g.statusOf(ids[at]!);
        row[status] = (row[status] ?? 0) + 1;
      }
    }
  }
  let unitCount = 0;
  for (let k = 0; k < finishedUnit.length; k++) unitCount += finishedUnit[k]!;
  const byStatus = finishedByStatus(g, finished);
  return {
    code: "REACH",
    severity: "info",
    message: `${finished.length} distinct finished good(s) contain an affected item (${Object.entries(bySite).sort(([a], [b]) => byText(a, b)).map(([s, n]) => `${n} at ${s}`).join(", ") || "none"}${byStatus.length ? `; ${byStatus.map(([status, n]) => `${n} ${status}`).join(", ")}` : ""}), up to ${deepest} tier(s) away; ${unitCount} with unit-level trace, ${finished.length - unitCount} lot-level`,
    count: finished.length,
    counts: {
      ...Object.fromEntries(Object.entries(bySite).map(([s, n]) => [`site:${s}`, n])),
      ...Object.fromEntries(byStatus.map(([status, n]) => [`status:${status}`, n])),
      precisionUnit: unitCount,
      precisionLot: finished.length - unitCount,
      itemsReached: ids.length,
      tiers: deepest,
    },
    sample: smallestFinished(ctx, finished),
    detail: { byTier },
  };
}

/** Finished goods by status, non-zero ones in ITEM_STATUSES order (ADR 010: counted whatever their status, shown by it). */
function finishedByStatus(g: GenealogyGraph, finished: readonly number[]): (readonly [string, number])[] {
  const counts = new Uint32Array(ITEM_STATUSES.length);
  if (g instanceof CompactGenealogy) for (let k = 0; k < finished.length; k++) counts[g.status[finished[k]!]!]!++;
  else for (const id of finished) counts[ITEM_STATUSES.indexOf(g.statusOf(id))]!++;
  return ITEM_STATUSES.flatMap((status, s) => (counts[s] ? [[status, counts[s]!] as const] : []));
}

/** The sample of a reach's finished goods (PRECISION_LOSS and REACH may quote the same set). */
function smallestFinished(ctx: Context, finished: number[]): string[] {
  let found = ctx.samples.get(finished);
  if (!found) ctx.samples.set(finished, (found = ctx.graph.smallestIdentifiers(finished, SAMPLE_SIZE)));
  return found;
}

function formatsOf(rule: RuleState | undefined): string[] {
  return rule?.state === "ruled" ? [...rule.identifierFormatCodes].sort(byText) : [];
}

/** Whether an item was made in the volume window (in the index: by its time in milliseconds, the same order). */
function madeInWindow(ctx: Context, item: ItemFacts): boolean {
  const g = ctx.graph;
  if (g instanceof CompactGenealogy) {
    const at = g.createdAtOf(item.id);
    return at >= ctx.windowMs.from && at < ctx.windowMs.to;
  }
  return ctx.inWindow(item.createdAt);
}

function labels(ctx: Context, change: TrackingChangeInput, own: ItemFacts[], fromMode: TrackingMode | null): Finding | null {
  const beforeFormats = formatsOf(change.before);
  const afterFormats = formatsOf(change.after);
  const removed = beforeFormats.filter((f) => !afterFormats.includes(f));
  const added = afterFormats.filter((f) => !beforeFormats.includes(f));
  // Work centres where the material is made: its labels are printed there (or by site-wide templates).
  const centres = new Set(ctx.input.routingScans.filter((r) => r.site === change.site && r.parent === change.partNumber).map((r) => r.workCentre));
  const here = ctx.input.labelTemplates.filter((t) => t.site === change.site && (t.workCentre === null || centres.has(t.workCentre)));
  const printingDropped = here.filter((t) => t.formats.some((f) => removed.includes(f)));
  const unprinted = added.filter((f) => !here.some((t) => t.formats.includes(f)));
  // Label volume per day, from the 30 days of genealogy before the data point.
  const made = own.filter((i) => madeInWindow(ctx, i));
  const units = made.filter((i) => i.kind === "serial").length;
  const lots = made.filter((i) => i.kind === "lot");
  const lotUnits = Number(sumQuantities(lots.map((i) => i.quantity)));
  const productionRuns = new Set(made.flatMap((i) => (ctx.incoming.get(i.id) ?? []).map((e) => e.workOrder ?? e.eventRef))).size || made.length;
  const volume = (mode: TrackingMode | null, asBefore: boolean) => {
    if (mode === "serial") return asBefore ? units : units + Math.round(lotUnits);
    if (mode === "lot") return asBefore ? lots.length : productionRuns;
    return 0;
  };
  const before = volume(fromMode, true);
  const after = volume(change.after.trackingMode, fromMode === change.after.trackingMode);
  if (removed.length + added.length === 0 && before === after) return null;
  const count = printingDropped.length + unprinted.length;
  const where = centres.size ? [...centres].sort(byText).join(", ") : "site-wide";
  return {
    code: "LABELS",
    severity: count > 0 || before !== after ? "warning" : "info",
    message: `${printingDropped.length} label template(s) print a dropped format${removed.length ? ` (${removed.join(", ")})` : ""}${unprinted.length ? `; no template prints ${unprinted.join(", ")} where it is made (${where})` : ""}; labels per day ${perDay(before)} → ${perDay(after)}`,
    count,
    counts: { templatesPrintingDroppedFormats: printingDropped.length, formatsWithoutTemplate: unprinted.length, labelsPerDayBefore: perDay(before), labelsPerDayAfter: perDay(after) },
    sample: sample([...printingDropped.map((t) => `${t.site}/${t.code}`), ...unprinted.map((f) => `no template: ${f}`)]),
    detail: {
      formatsBefore: beforeFormats,
      formatsAfter: afterFormats,
      workCentres: [...centres].sort(byText),
      templates: printingDropped.map((t) => ({ code: t.code, name: t.name, workCentre: t.workCentre, formats: [...t.formats].sort(byText) })).sort((a, b) => byText(a.code, b.code)),
    },
  };
}

/**
 * The after-rule's identifier formats among the formats used with them at the site — label
 * templates where the material is made or scanned, and site-wide ones — that print a string
 * readable two ways (issue 9, ADR 013). Each look-alike says whether the change introduces it or
 * keeps one the rule in force already has. Critical when a serial, lot or container can be taken
 * for another kind.
 */
function lookAlikeFormats(ctx: Context, change: TrackingChangeInput): Finding | null {
  const ruleFormats = formatsOf(change.after);
  if (ruleFormats.length === 0) return null;
  const beforeFormats = new Set(formatsOf(change.before));
  const workCentres = ctx.input.routingScans.filter((r) => r.site === change.site && (r.parent === change.partNumber || r.component === change.partNumber)).map((r) => r.workCentre);
  const used = formatsUsedWith({ site: change.site, ruleFormats, workCentres, templates: ctx.input.labelTemplates });
  const context: NamedFormat[] = used.codes.flatMap((code) => {
    const f = ctx.input.formats[code];
    return f ? [{ code, identifies: f.identifies, definition: f.definition }] : [];
  });
  const report = lookAlikesFor(ruleFormats, context);
  const status = (codes: readonly string[]) => (codes.filter((c) => ruleFormats.includes(c)).every((c) => beforeFormats.has(c)) ? "kept" : "introduced");
  const entries = [
    ...report.selfAmbiguous.map((x) => ({ formats: [x.format], kinds: x.kinds, confusion: true, example: x.example, readsAs: [] as { format: string; kind: string }[] })),
    ...report.pairs.map((p) => ({ formats: [...p.formats], kinds: p.kinds, confusion: p.confusion, example: p.example, readsAs: p.readsAs })),
  ].map((e) => ({ ...e, status: status(e.formats) }));
  if (entries.length === 0 && report.undecided.length === 0) return null;
  const confusing = entries.filter((e) => e.confusion);
  const introduced = entries.filter((e) => e.status === "introduced").length;
  const line = (e: (typeof entries)[number]) => `${e.formats.join(" ~ ")}: ${e.example.display} (${e.kinds.join(", ")})`;
  return {
    code: "LOOK_ALIKE_FORMATS",
    severity: confusing.length > 0 ? "critical" : "warning",
    message:
      `${entries.length} look-alike(s) among the identifier formats used with ${ruleFormats.join(", ")} at ${change.site}` +
      `${used.templates.length ? ` (label templates ${used.templates.join(", ")})` : ""}: ` +
      `${confusing.length} can confuse serial, lot or container; ${introduced} introduced by this change, ${entries.length - introduced} kept` +
      (entries.length ? `. ${entries.map(line).join("; ")}` : "") +
      (report.undecided.length ? `; not decided: ${report.undecided.map((u) => u.formats.join(" ~ ")).join(", ")}` : ""),
    count: entries.length,
    counts: { confusions: confusing.length, introduced, kept: entries.length - introduced, undecided: report.undecided.length },
    sample: sample(entries.map(line)),
    detail: {
      formats: ruleFormats,
      usedWith: used.codes,
      templates: used.templates,
      lookAlikes: entries.map((e) => ({
        formats: e.formats,
        status: e.status,
        confusion: e.confusion,
        kinds: e.kinds,
        example: e.example.display,
        data: e.example.data,
        readsAs: e.readsAs,
        readings: e.example.readings,
      })),
      undecided: report.undecided,
    },
  };
}

function scanSteps(ctx: Context, change: TrackingChangeInput, own: ItemFacts[], fromMode: TrackingMode | null): Finding | null {
  const steps = ctx.input.routingScans.filter((r) => r.site === change.site && r.component === change.partNumber);
  const scanAfter = change.after.consumptionScan;
  const toMode = change.after.trackingMode;
  // A step must change only when the scan it requires does (issue 17: never "identify → identify").
  // A step that keeps its scan while the material changes mode scans another kind of identifier
  // with the same step: reported as kept, not as a change.
  const mustChange = steps.filter((s) => s.consumptionScan !== scanAfter);
  const keptForNewMode = fromMode !== toMode && scanAfter !== "none" ? steps.filter((s) => s.consumptionScan === scanAfter) : [];
  // Scan volume per day: consumptions of its items in the window.
  const consumptions: EdgeFacts[] = [];
  for (let k = 0; k < own.length; k++) {
    const edges = ctx.outgoing.get(own[k]!.id);
    if (edges) for (const e of edges) if (e.kind === "consume" && ctx.inWindow(e.occurredAt)) consumptions.push(e);
  }
  const scanBefore = change.before.state === "ruled" && change.before.consumptionScan !== "none" ? consumptions.length : 0;
  const unitsConsumed = Math.round(Number(sumQuantities(consumptions.map((e) => e.quantity))));
  const events = new Set(consumptions.map((e) => e.eventRef)).size;
  const scanAfterCount = scanAfter === "none" ? 0 : change.after.trackingMode === "serial" ? unitsConsumed : change.after.trackingMode === "lot" ? events : 0;
  if (mustChange.length === 0 && keptForNewMode.length === 0 && scanBefore === scanAfterCount) return null;
  const stepName = (s: (typeof steps)[number]) => `${s.site} ${s.parent} step ${s.step} (${s.workCentre})`;
  const changing = mustChange.length > 0 ? `${mustChange.length} scanning step(s) must change to "${scanAfter}"${toMode !== fromMode ? ` for ${toMode} tracking` : ""}` : "No scanning step's scan changes";
  const kept = keptForNewMode.length > 0 ? `; ${keptForNewMode.length} keep "${scanAfter}" and scan ${toMode} identifiers instead of ${fromMode ?? "unruled"} ones` : "";
  return {
    code: "SCAN_STEPS",
    severity: mustChange.length > 0 || keptForNewMode.length > 0 ? "warning" : "info",
    message: `${changing}${kept}; scans per day ${perDay(scanBefore)} → ${perDay(scanAfterCount)}`,
    count: mustChange.length,
    counts: { stepsKeepingScan: keptForNewMode.length, scansPerDayBefore: perDay(scanBefore), scansPerDayAfter: perDay(scanAfterCount) },
    sample: sample(mustChange.map((s) => `${stepName(s)}: ${s.consumptionScan} → ${scanAfter}`)),
    detail: {
      mustChange: mustChange.map((s) => ({ step: stepName(s), before: s.consumptionScan, after: scanAfter })),
      keptForNewMode: keptForNewMode.map((s) => ({ step: stepName(s), scan: scanAfter, identifiesBefore: fromMode, identifiesAfter: toMode })),
    },
  };
}

function externalRecords(ctx: Context, change: TrackingChangeInput, fromMode: TrackingMode | null): (Finding | null)[] {
  const records = ctx.input.externalRecords.filter((r) => r.partNumber === change.partNumber && (r.site === null || r.site === change.site));
  const label = (r: (typeof records)[number]) => `${r.system.toUpperCase()} ${r.externalKey}${r.site ? `@${r.site}` : ""}: ${r.trackingFlag} (${r.trackingMode})`;
  const disagree = records.filter((r) => r.trackingMode !== change.after.trackingMode);
  const resolved = records.filter((r) => r.trackingMode === change.after.trackingMode && fromMode !== null && r.trackingMode !== fromMode);
  return [
    disagree.length
      ? { code: "ERP_PLM_DISAGREEMENT", severity: "warning", message: `${disagree.length} ERP/PLM record(s) will disagree with ${change.after.trackingMode} tracking`, count: disagree.length, sample: sample(disagree.map(label)) }
      : null,
    resolved.length
      ? { code: "ERP_PLM_RESOLVED", severity: "info", message: `${resolved.length} ERP/PLM record(s) that disagree today will agree`, count: resolved.length, sample: sample(resolved.map(label)) }
      : null,
  ];
}

function distribution(input: AnalysisInput): Finding {
  const sites = [...new Set(input.changes.map((c) => c.site))].sort(byText);
  const clients = input.runtimeClients.filter((c) => c.sites.some((s) => sites.includes(s)));
  return {
    code: "DISTRIBUTION",
    severity: "info",
    message: `${sites.length} site(s) — ${sites.join(", ") || "none"} — and ${clients.length} runtime client(s) will receive the change`,
    count: clients.length,
    counts: Object.fromEntries(sites.map((s) => [`site:${s}`, clients.filter((c) => c.sites.includes(s)).length])),
    sample: sample(clients.flatMap((c) => c.sites.filter((s) => sites.includes(s)).map((s) => `${c.name}@${s} (v${c.reported[s] ?? "–"})`))),
    detail: { sites: sites.map((s) => ({ site: s, versionInForce: input.ruleSetVersions[s] ?? null })) },
  };
}

/**
 * Cycles (strongly connected components over flow edges) and dangling references among the items
 * the analysis reads: everything reached forward from the changed materials' items, and their
 * direct inputs.
 */
function dataQuality(ctx: Context): Finding[] {
  const findings: Finding[] = [];
  const changed = new Map<string, Set<string>>();
  for (const c of ctx.input.changes) (changed.get(c.partNumber) ?? changed.set(c.partNumber, new Set()).get(c.partNumber)!).add(c.site);
  const own: number[] = [];
  for (let k = 0; k < ctx.input.items.length; k++) {
    const i = ctx.input.items[k]!;
    if (changed.get(i.partNumber)?.has(i.site)) own.push(i.id);
  }
  // The items read: the reach (distinct already) and the own items' direct inputs outside it.
  const reached = reachOf(ctx, own).ids;
  const g = ctx.graph;
  const size = g.maxId + 1;
  const { state: mark } = scratchFor(size);
  const extra: number[] = [];
  const addInput = (input: number) => {
    if (g.has(input) && mark[input] !== 1) {
      mark[input] = 1;
      extra.push(input);
    }
  };
  try {
    for (let i = 0; i < reached.length; i++) mark[reached[i]!] = 1;
    for (let k = 0; k < own.length; k++) g.forEachIn(own[k]!, addInput);
  } finally {
    for (let i = 0; i < reached.length; i++) mark[reached[i]!] = 0;
    for (const id of extra) mark[id] = 0;
  }
  const candidates: number[] = [];
  const consumedNowhere: number[] = [];
  const read = (id: number) => {
    // Only items a cycle may pass through can lie on one among the items read (the index knows them).
    if (g.mayLieOnCycle(id)) candidates.push(id);
    if (g.statusOf(id) === "consumed" && !g.hasNonReworkOut(id)) consumedNowhere.push(id);
  };
  if (g instanceof CompactGenealogy && reached instanceof Uint32Array) {
    const { status, outStart, outKind } = g;
    const { onCycleCandidate } = g.details;
    for (let i = 0; i < reached.length; i++) {
      const id = reached[i]!;
      if (onCycleCandidate[id] === 1) candidates.push(id);
      if (status[id] === CONSUMED_CODE) {
        let flowsOn = false;
        for (let e = outStart[id]!, end = outStart[id + 1]!; e < end && !flowsOn; e++) flowsOn = outKind[e] !== REWORK_CODE;
        if (!flowsOn) consumedNowhere.push(id);
      }
    }
    for (const id of extra) read(id);
  } else {
    for (const id of reached) read(id);
    for (const id of extra) read(id);
  }
  candidates.sort((a, b) => a - b);
  const cycles = candidates.length ? cyclesAmong(ctx.graph, candidates) : [];
  if (cycles.length) {
    findings.push({
      code: "CYCLE",
      severity: "critical",
      message: `${cycles.length} cycle(s) in the genealogy data: material flows back into its own source; the traversal stopped at each`,
      count: cycles.length,
      sample: sample(cycles.map((c) => c.map((id) => ctx.graph.identifierOf(id)).join(" → "))),
    });
  }
  // Dangling: an edge naming an item that was not found, or an item marked consumed that flowed nowhere.
  const dangling: string[] = [];
  for (const edges of ctx.outgoing.values()) {
    for (const e of edges) {
      if (!ctx.graph.has(e.input) || !ctx.graph.has(e.output)) dangling.push(`event ${e.eventRef}: item ${ctx.graph.has(e.input) ? e.output : e.input} not found`);
    }
  }
  for (const id of consumedNowhere) dangling.push(`${g.identifierOf(id)} (${g.partNumberOf(id)}) is consumed but flowed into nothing recorded`);
  if (dangling.length) {
    findings.push({
      code: "DANGLING_REFERENCE",
      severity: "warning",
      message: `${dangling.length} dangling reference(s): genealogy names items it does not hold, or items are consumed without a recorded destination`,
      count: dangling.length,
      sample: sample(dangling),
    });
  }
  return findings;
}

/**
 * The cycles (strongly connected components of more than one item, over flow edges) among `ids`,
 * by an iterative Tarjan walk. Any superset of the items on cycles gives the same cycles.
 */
function cyclesAmong(graph: GenealogyGraph, ids: readonly number[]): number[][] {
  // Keyed by id: the candidates are few, the plant is large.
  const among = new Set(ids);
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const cycles: number[][] = [];
  let counter = 0;
  const successors = (id: number) => {
    const next: number[] = [];
    graph.forEachFlowOut(id, (output) => {
      if (among.has(output)) next.push(output);
    });
    return next;
  };
  const visit = (id: number) => {
    index.set(id, counter);
    low.set(id, counter++);
    stack.push(id);
    onStack.add(id);
  };
  for (const root of ids) {
    if (index.has(root)) continue;
    visit(root);
    const work: { id: number; next: number[]; i: number }[] = [{ id: root, next: successors(root), i: 0 }];
    while (work.length) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.next.length) {
        const w = frame.next[frame.i++]!;
        if (!index.has(w)) {
          visit(w);
          work.push({ id: w, next: successors(w), i: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        }
      } else {
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
        if (low.get(frame.id) === index.get(frame.id)) {
          const component: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            component.push(w);
          } while (w !== frame.id);
          if (component.length > 1) cycles.push(component.sort((a, b) => a - b));
        }
      }
    }
  }
  return cycles;
}
