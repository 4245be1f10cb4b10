/**
 * Findings on the shop floor and beyond: open work orders (OPEN_WORK_ORDERS), labels and their
 * volume (LABELS), look-alike identifier formats (LOOK_ALIKE_FORMATS), scanning steps and their
 * volume (SCAN_STEPS), ERP/PLM records (ERP_PLM_DISAGREEMENT, ERP_PLM_RESOLVED) and who receives
 * the change (DISTRIBUTION).
 */
import { formatsUsedWith, lookAlikesFor, type NamedFormat } from "../../../packages/identifiers/src/look-alike";
import type { TrackingMode } from "../tracking-rule";
import { byText, formatsOf, perDay, sample, sumQuantities, type Context } from "./context";
import type { AnalysisInput, EdgeFacts, Finding, ItemFacts, TrackingChangeInput } from "./report";

export function openWorkOrders(ctx: Context, change: TrackingChangeInput): Finding {
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

/** Whether an item was made in the volume window (by its time in milliseconds: the same order as the ISO strings). */
function madeInWindow(ctx: Context, item: ItemFacts): boolean {
  const at = ctx.graph.createdAtOf(item.id);
  return at >= ctx.windowMs.from && at < ctx.windowMs.to;
}

export function labels(ctx: Context, change: TrackingChangeInput, own: ItemFacts[], fromMode: TrackingMode | null): Finding | null {
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
    counts: {
      templatesPrintingDroppedFormats: printingDropped.length,
      formatsWithoutTemplate: unprinted.length,
      labelsPerDayBefore: perDay(before),
      labelsPerDayAfter: perDay(after),
    },
    sample: sample([...printingDropped.map((t) => `${t.site}/${t.code}`), ...unprinted.map((f) => `no template: ${f}`)]),
    detail: {
      formatsBefore: beforeFormats,
      formatsAfter: afterFormats,
      workCentres: [...centres].sort(byText),
      templates: printingDropped
        .map((t) => ({ code: t.code, name: t.name, workCentre: t.workCentre, formats: [...t.formats].sort(byText) }))
        .sort((a, b) => byText(a.code, b.code)),
    },
  };
}
/**
 * The after-rule's identifier formats among the formats used with them at the site — label
 * templates where the material is made or scanned, and site-wide ones — that print a string
 * readable two ways (ADR 013). Each look-alike says whether the change introduces it or
 * keeps one the rule in force already has. Critical when a serial, lot or container can be taken
 * for another kind.
 */
export function lookAlikeFormats(ctx: Context, change: TrackingChangeInput): Finding | null {
  const ruleFormats = formatsOf(change.after);
  if (ruleFormats.length === 0) return null;
  const beforeFormats = new Set(formatsOf(change.before));
  const workCentres = ctx.input.routingScans
    .filter((r) => r.site === change.site && (r.parent === change.partNumber || r.component === change.partNumber))
    .map((r) => r.workCentre);
  const used = formatsUsedWith({ site: change.site, ruleFormats, workCentres, templates: ctx.input.labelTemplates });
  const context: NamedFormat[] = used.codes.flatMap((code) => {
    const f = ctx.input.formats[code];
    return f ? [{ code, identifies: f.identifies, definition: f.definition }] : [];
  });
  const report = lookAlikesFor(ruleFormats, context);
  const status = (codes: readonly string[]) => (codes.filter((c) => ruleFormats.includes(c)).every((c) => beforeFormats.has(c)) ? "kept" : "introduced");
  const entries = [
    ...report.selfAmbiguous.map((x) => ({
      formats: [x.format],
      kinds: x.kinds,
      confusion: true,
      example: x.example,
      readsAs: [] as { format: string; kind: string }[],
    })),
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
export function scanSteps(ctx: Context, change: TrackingChangeInput, own: ItemFacts[], fromMode: TrackingMode | null): Finding | null {
  const steps = ctx.input.routingScans.filter((r) => r.site === change.site && r.component === change.partNumber);
  const scanAfter = change.after.consumptionScan;
  const toMode = change.after.trackingMode;
  // A step must change only when the scan it requires does (never "identify → identify").
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
  const changing =
    mustChange.length > 0
      ? `${mustChange.length} scanning step(s) must change to "${scanAfter}"${toMode !== fromMode ? ` for ${toMode} tracking` : ""}`
      : "No scanning step's scan changes";
  const kept =
    keptForNewMode.length > 0 ? `; ${keptForNewMode.length} keep "${scanAfter}" and scan ${toMode} identifiers instead of ${fromMode ?? "unruled"} ones` : "";
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
export function externalRecords(ctx: Context, change: TrackingChangeInput, fromMode: TrackingMode | null): (Finding | null)[] {
  const records = ctx.input.externalRecords.filter((r) => r.partNumber === change.partNumber && (r.site === null || r.site === change.site));
  const label = (r: (typeof records)[number]) =>
    `${r.system.toUpperCase()} ${r.externalKey}${r.site ? `@${r.site}` : ""}: ${r.trackingFlag} (${r.trackingMode})`;
  const disagree = records.filter((r) => r.trackingMode !== change.after.trackingMode);
  const resolved = records.filter((r) => r.trackingMode === change.after.trackingMode && fromMode !== null && r.trackingMode !== fromMode);
  return [
    disagree.length
      ? {
          code: "ERP_PLM_DISAGREEMENT",
          severity: "warning",
          message: `${disagree.length} ERP/PLM record(s) will disagree with ${change.after.trackingMode} tracking`,
          count: disagree.length,
          sample: sample(disagree.map(label)),
        }
      : null,
    resolved.length
      ? {
          code: "ERP_PLM_RESOLVED",
          severity: "info",
          message: `${resolved.length} ERP/PLM record(s) that disagree today will agree`,
          count: resolved.length,
          sample: sample(resolved.map(label)),
        }
      : null,
  ];
}
export function distribution(input: AnalysisInput): Finding {
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
