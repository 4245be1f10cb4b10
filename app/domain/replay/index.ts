/**
 * Replay before approval (ADR 041) — pure and deterministic. The genealogy of the last 90 days
 * before the analysis's data point, replayed under the proposed rules: every consumption of a
 * changed material (a scan at a routing step), every substitution on its BOM lines and every split,
 * merge, repack or rework touching its items is judged as the line would have judged it had the
 * proposal been in force, and counted per UTC day in four categories (`REPLAY_CATEGORIES`):
 *
 * - UNSCANNABLE: the consumption needs a scan (the stricter of the proposed rule's consumption scan
 *   and the step's routing requirement is not `none`) of an identifier of the kind the proposed mode
 *   needs (serial / lot; a container when untracked in containers), and no label template where the
 *   material is made or scanned (the site-wide ones, those at the work centres that make it and the
 *   one at the step) prints a proposed format of that kind.
 * - AMBIGUOUS: the scanned string — the consumed item's identifier as recorded — reads as more than
 *   one (material, kind) among the formats of the materials scanned at that step under the proposed
 *   rules (`readsAsFormat`, the look-alike module's reading model; no second matcher).
 * - SUBSTITUTION_REFUSED: an alternate consumed in place of its BOM line's primary is refused when it
 *   has no rule at the site after the change, or is tracked more coarsely than the primary will be.
 * - INEXPRESSIBLE: an event whose kind the proposed mode cannot express (`inexpressibleKinds`, the
 *   same definition as the analysis's INEXPRESSIBLE_EVENTS), counted once per event.
 *
 * Nothing here reads the clock; edges are taken in (time, id) order whatever order they come in, and
 * samples are the first cases in that order, so the same input gives byte-identical output.
 */
import { canonicalize } from "../canonical-json";
import { gs1ReadingsOf, readsAsFormat } from "../../../packages/identifiers/src/look-alike";
import { granularity, type ConsumptionScan, type Identifies, type TrackingMode } from "../tracking-rule";
import {
  REPLAY_CATEGORY_CODES,
  REPLAY_SAMPLE_SIZE,
  REPLAY_SCHEMA_VERSION,
  REPLAY_TYPE,
  REPLAY_WINDOW_DAYS,
  type ReplayCategory,
  type ReplayChange,
  type ReplayChangeResult,
  type ReplayEdge,
  type ReplayInput,
  type ReplayItem,
  type ReplayReport,
  type ReplayRule,
} from "./report";

export * from "./report";

const DAY_MS = 86_400_000;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const key = (partNumber: string, site: string) => `${partNumber}|${site}`;
const SCAN_ORDER: Record<ConsumptionScan, number> = { none: 0, verify: 1, identify: 2 };

type StructuralKind = "split" | "merge" | "repack" | "rework";

/**
 * The recorded events a tracking mode cannot express (ADR 041, from ADR 010's INEXPRESSIBLE_EVENTS):
 * a serial is one unit — it cannot be split or merged; a lot cannot say which of its units a rework
 * touched; untracked material has no identity to split, merge, repack or rework. A repack into
 * containers stays expressible when the rule tracks containers.
 */
export function inexpressibleKinds(mode: TrackingMode, containerTracking: boolean): ReadonlySet<StructuralKind> {
  const kinds: StructuralKind[] = mode === "serial" ? ["split", "merge"] : mode === "lot" ? ["rework"] : ["split", "merge", "repack", "rework"];
  return new Set(containerTracking ? kinds.filter((k) => k !== "repack") : kinds);
}

/** The identifier kind a scan must read under a rule (null: nothing to identify). */
export function neededKind(rule: ReplayRule, scan: ConsumptionScan): Identifies | null {
  if (scan === "none") return null;
  if (rule.trackingMode === "serial") return "serial";
  if (rule.trackingMode === "lot") return "lot";
  return rule.containerTracking ? "container" : null;
}

interface Step {
  step: number;
  workCentre: string;
  scan: ConsumptionScan | null;
  /** The materials the step consumes (its routing rows' components). */
  consumes: string[];
}

/** The replay report of a proposal (see the module comment). */
export function replayProposal(input: ReplayInput): ReplayReport {
  const to = input.dataPoint.at;
  const toMs = Date.parse(to);
  const from = new Date(toMs - REPLAY_WINDOW_DAYS * DAY_MS).toISOString();
  const items = new Map<number, ReplayItem>();
  for (const i of input.items) items.set(i.id, i);
  // Edges of the window in (time, id) order: the order of the samples.
  const edges = input.edges
    .filter((e) => e.occurredAt >= from && e.occurredAt < to && items.has(e.input) && items.has(e.output))
    .sort((a, b) => byText(a.occurredAt, b.occurredAt) || a.id - b.id);

  const rulesAfter = new Map<string, ReplayRule>(Object.entries(input.rulesBefore));
  for (const c of input.changes) rulesAfter.set(key(c.partNumber, c.site), c.after);

  // Routing steps by (site, parent), ascending by step.
  const steps = new Map<string, Step[]>();
  const makers = new Map<string, Set<string>>();
  for (const r of [...input.routing].sort((a, b) => byText(a.site, b.site) || byText(a.parent, b.parent) || a.step - b.step)) {
    const k = key(r.parent, r.site);
    const list = steps.get(k) ?? steps.set(k, []).get(k)!;
    let s = list.find((x) => x.step === r.step);
    if (!s) list.push((s = { step: r.step, workCentre: r.workCentre, scan: null, consumes: [] }));
    if (r.component !== null) {
      s.consumes.push(r.component);
      // One routing row per (step, material): the step's scan for that material is read where it is used.
    }
    (makers.get(k) ?? makers.set(k, new Set()).get(k)!).add(r.workCentre);
  }
  const routingScan = new Map<string, ConsumptionScan>();
  for (const r of input.routing)
    if (r.component !== null && r.consumptionScan !== null) routingScan.set(`${r.site}|${r.parent}|${r.step}|${r.component}`, r.consumptionScan);
  const linesOf = new Map<string, ReplayInput["bomLines"]>();
  for (const l of [...input.bomLines].sort((a, b) => a.lineNo - b.lineNo || byText(a.component, b.component))) {
    const k = key(l.parent, l.site);
    (linesOf.get(k) ?? linesOf.set(k, []).get(k)!).push(l);
  }

  /** The step of `parent`'s routing at `site` that consumes `material` (or the primary it substitutes). */
  const stepOf = (site: string, parent: string, material: string): { step: Step; as: string } | null => {
    const list = steps.get(key(parent, site)) ?? [];
    const direct = list.find((s) => s.consumes.includes(material));
    if (direct) return { step: direct, as: material };
    for (const line of linesOf.get(key(parent, site)) ?? []) {
      if (!line.alternates.includes(material)) continue;
      const s = list.find((x) => x.consumes.includes(line.component));
      if (s) return { step: s, as: line.component };
    }
    return null;
  };

  const gs1Cache = new Map<string, ReturnType<typeof gs1ReadingsOf>>();
  const gs1Of = (data: string) => gs1Cache.get(data) ?? gs1Cache.set(data, gs1ReadingsOf(data)).get(data)!;
  /** The (material, kind) pairs an identifier reads as among the materials' proposed formats at `site`. */
  const readingsOf = (identifier: string, materials: readonly string[], site: string): string[] => {
    const found = new Set<string>();
    for (const m of materials) {
      const rule = rulesAfter.get(key(m, site));
      if (!rule) continue;
      for (const code of rule.identifierFormatCodes) {
        const f = input.formats[code];
        if (!f) continue;
        const reads = f.definition.kind === "gs1" ? readsAsFormat(identifier, f.definition, gs1Of(identifier)) : readsAsFormat(identifier, f.definition);
        if (reads) found.add(`${m}:${f.identifies}`);
      }
    }
    return [...found].sort(byText);
  };

  const changes = [...input.changes]
    .sort((a, b) => byText(a.site, b.site) || byText(a.partNumber, b.partNumber))
    .map((change) => replayChange(change, { edges, items, rulesAfter, steps, makers, routingScan, linesOf, stepOf, readingsOf, input }));

  const days: ReplayReport["days"] = [];
  const perDay = new Map<string, Record<ReplayCategory, number>>();
  for (let t = Date.parse(`${from.slice(0, 10)}T00:00:00.000Z`); t < toMs; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    const counts = { UNSCANNABLE: 0, AMBIGUOUS: 0, SUBSTITUTION_REFUSED: 0, INEXPRESSIBLE: 0 };
    days.push({ day, counts });
    perDay.set(day, counts);
  }
  const totals = { UNSCANNABLE: 0, AMBIGUOUS: 0, SUBSTITUTION_REFUSED: 0, INEXPRESSIBLE: 0 };
  for (const c of changes) {
    for (const code of REPLAY_CATEGORY_CODES) totals[code] += c.categories[code].total;
    for (const [day, ...counts] of c.days) {
      const row = perDay.get(day);
      if (row) REPLAY_CATEGORY_CODES.forEach((code, i) => (row[code] += counts[i]!));
    }
  }
  return {
    type: REPLAY_TYPE,
    schemaVersion: REPLAY_SCHEMA_VERSION,
    changeRequest: input.changeRequest,
    dataPoint: input.dataPoint,
    window: { from, to, days: REPLAY_WINDOW_DAYS },
    totals,
    days,
    changes,
  };
}

interface ReplayContext {
  input: ReplayInput;
  edges: ReplayEdge[];
  items: Map<number, ReplayItem>;
  rulesAfter: Map<string, ReplayRule>;
  steps: Map<string, Step[]>;
  makers: Map<string, Set<string>>;
  routingScan: Map<string, ConsumptionScan>;
  linesOf: Map<string, ReplayInput["bomLines"]>;
  stepOf: (site: string, parent: string, material: string) => { step: Step; as: string } | null;
  readingsOf: (identifier: string, materials: readonly string[], site: string) => string[];
}

function replayChange(change: ReplayChange, ctx: ReplayContext): ReplayChangeResult {
  const { partNumber: M, site: S, after } = change;
  const categories = Object.fromEntries(
    REPLAY_CATEGORY_CODES.map((c) => [c, { total: 0, byReason: {} as Record<string, number>, sample: [] as string[] }]),
  ) as ReplayChangeResult["categories"];
  const byDay = new Map<string, [number, number, number, number]>();
  const count = (code: ReplayCategory, day: string, reason: string, text: string) => {
    const c = categories[code];
    c.total++;
    c.byReason[reason] = (c.byReason[reason] ?? 0) + 1;
    if (c.sample.length < REPLAY_SAMPLE_SIZE) c.sample.push(`${day} ${text}`);
    const row = byDay.get(day) ?? byDay.set(day, [0, 0, 0, 0]).get(day)!;
    row[REPLAY_CATEGORY_CODES.indexOf(code)]!++;
  };
  const replayed = { consumptions: 0, itemsMade: 0, structuralEvents: 0, substitutions: 0 };
  const madeItems = new Set<number>();
  const structural = new Set<string>();
  const refusedKinds = inexpressibleKinds(after.trackingMode, after.containerTracking);
  const refusedEvents = new Set<string>();
  const templates = ctx.input.labelTemplates.filter((t) => t.site === S);
  const ours = (i: ReplayItem) => i.partNumber === M && i.site === S;

  for (const e of ctx.edges) {
    const input = ctx.items.get(e.input)!;
    const output = ctx.items.get(e.output)!;
    const day = e.occurredAt.slice(0, 10);
    if (e.kind === "consume" && ours(output) && output.kind !== "container") madeItems.add(output.id);
    if (e.kind === "consume" && ours(input) && output.kind !== "container") {
      // A consumption of the material: a scan at the parent's routing step.
      replayed.consumptions++;
      const at = ctx.stepOf(S, output.partNumber, M);
      const stepScan = at ? (ctx.routingScan.get(`${S}|${output.partNumber}|${at.step.step}|${at.as}`) ?? "none") : "none";
      const scan = SCAN_ORDER[stepScan] > SCAN_ORDER[after.consumptionScan] ? stepScan : after.consumptionScan;
      const where = at ? `${output.partNumber} step ${at.step.step} (${at.step.workCentre})` : `${output.partNumber} (no routing step consumes it)`;
      const need = neededKind(after, scan);
      if (need) {
        const centres = new Set(ctx.makers.get(key(M, S)) ?? []);
        if (at) centres.add(at.step.workCentre);
        const printed = templates.filter((t) => t.workCentre === null || centres.has(t.workCentre)).flatMap((t) => t.formats);
        const gives = printed.some((f) => after.identifierFormatCodes.includes(f) && ctx.input.formats[f]?.identifies === need);
        if (!gives)
          count(
            "UNSCANNABLE",
            day,
            need,
            `${e.eventRef}: ${input.identifier} into ${output.identifier} at ${where}: "${scan}" needs a ${need} label; no template there prints one of ${after.identifierFormatCodes.join(", ") || "no format"}`,
          );
      }
      if (scan !== "none") {
        // Everything scanned at that step: its materials and their BOM alternates, and this one.
        const scanned = new Set<string>([M]);
        const stepMaterials = at ? at.step.consumes : (ctx.linesOf.get(key(output.partNumber, S)) ?? []).map((l) => l.component);
        for (const m of stepMaterials) scanned.add(m);
        for (const l of ctx.linesOf.get(key(output.partNumber, S)) ?? []) if (scanned.has(l.component)) for (const a of l.alternates) scanned.add(a);
        const readings = ctx.readingsOf(input.identifier, [...scanned].sort(byText), S);
        if (readings.length > 1) {
          // The distinct kinds read ("lot" alone: lots of several materials).
          const kinds = [...new Set(readings.map((r) => r.slice(r.lastIndexOf(":") + 1)))].sort(byText).join("+");
          count("AMBIGUOUS", day, kinds, `${e.eventRef}: ${input.identifier} at ${where} reads as ${readings.join(" and ")}`);
        }
      }
    }
    if (e.kind === "consume" && input.site === S && output.site === S && output.kind !== "container") {
      // A substitution: the input's material is an alternate, not a component, of the parent's BOM at the site.
      const lines = ctx.linesOf.get(key(output.partNumber, S)) ?? [];
      const A = input.partNumber;
      const line = lines.some((l) => l.component === A) ? undefined : lines.find((l) => l.alternates.includes(A));
      if (line && (A === M || line.component === M)) {
        replayed.substitutions++;
        const altRule = ctx.rulesAfter.get(key(A, S));
        const primaryRule = ctx.rulesAfter.get(key(line.component, S));
        const what = `${e.eventRef}: ${input.identifier} (${A}) for ${line.component} into ${output.identifier} (${output.partNumber} line ${line.lineNo})`;
        if (!altRule) count("SUBSTITUTION_REFUSED", day, "alternate unruled", `${what}: ${A} has no rule at ${S}`);
        else if (primaryRule && granularity(altRule.trackingMode) < granularity(primaryRule.trackingMode))
          count(
            "SUBSTITUTION_REFUSED",
            day,
            `${altRule.trackingMode} for ${primaryRule.trackingMode}`,
            `${what}: ${altRule.trackingMode}-tracked for ${primaryRule.trackingMode}-tracked`,
          );
      }
    }
    if ((e.kind === "split" || e.kind === "merge" || e.kind === "repack" || e.kind === "rework") && (ours(input) || ours(output))) {
      structural.add(e.eventRef);
      if (refusedKinds.has(e.kind) && !refusedEvents.has(e.eventRef)) {
        refusedEvents.add(e.eventRef);
        count(
          "INEXPRESSIBLE",
          day,
          e.kind,
          `${e.eventRef}: ${e.kind} of ${input.identifier}${e.input === e.output ? "" : ` into ${output.identifier}`} cannot be expressed ${after.trackingMode === "none" ? "untracked" : `${after.trackingMode}-tracked`}`,
        );
      }
    }
  }
  replayed.itemsMade = madeItems.size;
  replayed.structuralEvents = structural.size;
  for (const c of Object.values(categories)) c.byReason = Object.fromEntries(Object.entries(c.byReason).sort(([a], [b]) => byText(a, b)));
  return {
    partNumber: M,
    site: S,
    from: change.before ? change.before.trackingMode : "legacy or unruled",
    to: after.trackingMode,
    replayed,
    categories,
    days: [...byDay.entries()].sort(([a], [b]) => byText(a, b)).map(([day, c]) => [day, ...c] as [string, number, number, number, number]),
  };
}

/** The stored form: RFC 8785 canonical JSON; its SHA-256 is bound to the signatures with the analysis's. */
export function canonicalReplay(report: ReplayReport): string {
  return canonicalize(JSON.parse(JSON.stringify(report)));
}
