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
 *
 * Where each piece lives (ADR 010, ADR 011): the report's vocabulary in ./report.ts (browser-safe);
 * the finding rules by theme in ./findings-*.ts, sharing ./context.ts; the walks and tallies over
 * genealogy behind the `GenealogyGraph` interface (app/domain/genealogy-graph/), whose row and
 * compact implementations give the same results — the rules never ask which one they have.
 */
import { canonicalize } from "../canonical-json";
import { graphOfRows, type GenealogyGraph, type Reach } from "../genealogy-graph";
import { topTierPairs } from "../genealogy-trace";
import { compareTracking } from "../tracking-rule";
import { byText, key, modeOf, type Context } from "./context";
import { boundaryConflicts } from "./findings-bom";
import { dataQuality } from "./findings-data-quality";
import { belowRequiredTraceability, deviationsExpired } from "./findings-requirements";
import { distribution, externalRecords, labels, lookAlikeFormats, openWorkOrders, scanSteps } from "./findings-shop-floor";
import { openQualityEvents, qualityEventSerialsStranded } from "./findings-quality";
import { candidateLinks, itemsByStatus, reach, traceabilityEffect } from "./findings-trace";
import {
  ANALYSIS_SCHEMA_VERSION,
  ANALYSIS_TYPE,
  VOLUME_WINDOW_DAYS,
  type AnalysisInput,
  type AnalysisReads,
  type AnalysisReport,
  type ChangeAnalysis,
  type EdgeFacts,
  type Finding,
  type RuleState,
  type TrackingChangeInput,
} from "./report";

export * from "./report";
export { itemsOfIndex } from "./indexed-items";
export type { Reach } from "../genealogy-graph";

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
  const ctx: Context = {
    input,
    outgoing,
    incoming,
    rulesAfter,
    inWindow,
    windowMs: { from: Date.parse(window.from), to: Date.parse(window.to) },
    graph,
    topTier,
    reaches: new Map(),
    samples: new WeakMap(),
    topTierRead: consulted.topTier,
  };

  const changes = [...input.changes].sort((a, b) => byText(a.site, b.site) || byText(a.partNumber, b.partNumber)).map((change) => analyseChange(ctx, change));
  const findings = [distribution(input), ...dataQuality(ctx), deviationsExpired(input)].filter((f): f is Finding => f !== null);
  const all = [...changes.flatMap((c) => c.findings), ...findings];
  const summary = { critical: 0, warning: 0, info: 0 };
  for (const f of all) summary[f.severity]++;
  const reads: AnalysisReads = {
    rules: [...consulted.rules].sort(byText),
    masterData: [...consulted.masterData].sort(byText),
    topTier: [...consulted.topTier].sort(byText),
  };
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

/** The stored form: RFC 8785 canonical JSON; its SHA-256 is what reviewers sign with. */
export function canonicalReport(report: AnalysisReport): string {
  return canonicalize(JSON.parse(JSON.stringify(report)));
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
    belowRequiredTraceability(input, change),
    openQualityEvents(ctx, change, own),
    qualityEventSerialsStranded(ctx, change, fromMode),
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

/** The tier of `id` in a reach (-1 when not reached). */
export function tierIn(reach: Reach, id: number): number {
  const at = Array.prototype.indexOf.call(reach.ids, id);
  if (at < 0) return -1;
  return reach.layerEnds.findIndex((end) => at < end);
}

/** The forward walk of the analysis (`GenealogyGraph.forwardReach`). */
export function forwardReach(graph: GenealogyGraph, start: readonly number[], topTier: ReadonlySet<string>): Reach {
  return graph.forwardReach(start, topTier);
}
