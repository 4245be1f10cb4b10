/**
 * Findings where the material meets its BOM neighbours and recorded events: serials into
 * non-serialized parents by BOM and by record (GENEALOGY_BREAK_BOM, GENEALOGY_BREAK_ACTUAL),
 * parents finer than their components (PARENT_FINER_THAN_COMPONENT), coarser alternates
 * (COARSER_ALTERNATE) and events the new mode cannot express (INEXPRESSIBLE_EVENTS).
 */
import { inexpressibleKinds } from "../replay";
import { compareTracking, type TrackingMode } from "../tracking-rule";
import { byText, key, modeOf, sample, type Context } from "./context";
import type { EdgeFacts, Finding, ItemFacts, TrackingChangeInput } from "./report";

export function boundaryConflicts(ctx: Context, change: TrackingChangeInput, own: ItemFacts[]): (Finding | null)[] {
  const { site, partNumber } = change;
  const after = (pn: string) => modeOf(ctx.rulesAfter.get(key(pn, site)));
  const lines = ctx.input.bomLines.filter(
    (l) => l.site === site && (l.parent === partNumber || l.component === partNumber || l.alternates.includes(partNumber)),
  );
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
  actualBreaks(ctx, own, actual);
  const expressible = inexpressibleEvents(ctx, change, own);
  return [
    breaks.length
      ? {
          code: "GENEALOGY_BREAK_BOM",
          severity: "critical",
          message: `${breaks.length} BOM line(s) consume a serialized component into a non-serialized parent: unit-level trace ends there`,
          count: breaks.length,
          sample: sample(breaks),
        }
      : null,
    actual.length
      ? {
          code: "GENEALOGY_BREAK_ACTUAL",
          severity: "critical",
          message: `${actual.length} recorded consumption(s) put a serial into a parent that will not be serialized`,
          count: actual.length,
          sample: sample(actual),
        }
      : null,
    finer.length
      ? {
          code: "PARENT_FINER_THAN_COMPONENT",
          severity: "warning",
          message: `${finer.length} BOM line(s): a tracked parent consumes an untracked component of medium or high risk`,
          count: finer.length,
          sample: sample(finer),
        }
      : null,
    coarser.length
      ? {
          code: "COARSER_ALTERNATE",
          severity: "warning",
          message: `${coarser.length} approved alternate(s) are tracked more coarsely than their primary: substituting loses trace`,
          count: coarser.length,
          sample: sample(coarser),
        }
      : null,
    expressible,
  ];
}

/** Recorded consumptions of a serial into a parent whose material will not be serialized (`input → output`). */
function actualBreaks(ctx: Context, own: ItemFacts[], actual: string[]): void {
  const g = ctx.graph;
  // The tracking mode after the change, by material and site, looked up on first use.
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
  g.forEachConsumeTouching(
    own.map((i) => i.id),
    (input, output) => {
      if (!g.has(input) || !g.has(output)) return;
      if (g.kindOf(input) !== "serial" || g.kindOf(output) === "container" || modeAfter(input) !== "serial") return;
      const outputMode = modeAfter(output);
      if (outputMode !== null && outputMode !== "serial") actual.push(`${g.identifierOf(input)} → ${g.identifierOf(output)}`);
    },
  );
}

function inexpressibleEvents(ctx: Context, change: TrackingChangeInput, own: ItemFacts[]): Finding | null {
  const mode = change.after.trackingMode;
  // One definition with the replay (ADR 041); a repack into containers stays expressible when the rule tracks containers.
  const refused: ReadonlySet<string> = inexpressibleKinds(mode, change.after.containerTracking);
  const events = new Map<string, EdgeFacts["kind"]>();
  const note = (edges: EdgeFacts[] | undefined) => {
    if (!edges) return;
    for (const e of edges) {
      if (!refused.has(e.kind)) continue;
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
    message: `${events.size} recorded event(s) — ${Object.entries(byKind)
      .sort(([a], [b]) => byText(a, b))
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")} — cannot be expressed when the material is ${mode === "none" ? "untracked" : `${mode}-tracked`}`,
    count: events.size,
    counts: byKind,
    sample: sample(events.keys()),
  };
}
