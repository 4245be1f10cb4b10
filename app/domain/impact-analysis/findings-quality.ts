/**
 * Findings on open quality events (ADR 037): the events whose referenced items a tracking change
 * affects (OPEN_QUALITY_EVENTS), and the events that reference serials of a material whose serial
 * tracking a downgrade ends (QUALITY_EVENT_SERIALS_STRANDED). Pure: the events come in the input,
 * read in the analysis's one snapshot; no event, no finding.
 */
import { QUALITY_EVENT_SEVERITIES, type QualityEventSeverity } from "../quality-event";
import { granularity, type TrackingMode } from "../tracking-rule";
import { byText, reachOf, type Context } from "./context";
import { SAMPLE_SIZE, type Finding, type ItemFacts, type QualityEventFacts, type TrackingChangeInput } from "./report";

/** Most severe first: critical, major, minor. */
const SEVERITY_RANK: Record<QualityEventSeverity, number> = { critical: 0, major: 1, minor: 2 };
const bySeverity = (a: QualityEventFacts, b: QualityEventFacts) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || byText(a.number, b.number);
const words = (e: QualityEventFacts) => `${e.number} ${e.kind} ${e.severity} ${e.status}`;

/** How an event's reference is affected by the change: on an item of the material, on the material, or on an item the material's items reach. */
export type QualityEventTouch = "item" | "material" | "reach";

/**
 * The open events a change affects, each with how: a reference to an item of the changed material
 * at the site, to the material itself at that site, or to an item in the forward reach of the
 * material's items there (a product that contains it). Most severe first, then by number.
 */
export function affectedQualityEvents(
  ctx: Context,
  change: TrackingChangeInput,
  own: readonly ItemFacts[],
): { event: QualityEventFacts; touches: QualityEventTouch[] }[] {
  const events = ctx.input.qualityEvents ?? [];
  if (events.length === 0) return [];
  const ownIds = new Set(own.map((i) => i.id));
  // The walk REACH makes (made once per starting set): only asked when an event references an item.
  let reached: Set<number> | null = null;
  const inReach = (id: number) => {
    reached ??= new Set(
      reachOf(
        ctx,
        own.map((i) => i.id),
      ).ids,
    );
    return reached.has(id);
  };
  const affected: { event: QualityEventFacts; touches: QualityEventTouch[] }[] = [];
  for (const event of events) {
    const touches = new Set<QualityEventTouch>();
    for (const ref of event.references) {
      if (ref.itemId === null) {
        if (ref.partNumber === change.partNumber && ref.site === change.site) touches.add("material");
      } else if (ownIds.has(ref.itemId)) touches.add("item");
      else if (own.length > 0 && inReach(ref.itemId)) touches.add("reach");
    }
    if (touches.size) affected.push({ event, touches: (["item", "material", "reach"] as const).filter((t) => touches.has(t)) });
  }
  return affected.sort((a, b) => bySeverity(a.event, b.event));
}

export function openQualityEvents(ctx: Context, change: TrackingChangeInput, own: readonly ItemFacts[]): Finding | null {
  const affected = affectedQualityEvents(ctx, change, own);
  if (affected.length === 0) return null;
  const counts: Record<string, number> = Object.fromEntries(QUALITY_EVENT_SEVERITIES.map((s) => [s, 0]));
  for (const { event } of affected) counts[event.severity]!++;
  const bySeverityText = [...QUALITY_EVENT_SEVERITIES]
    .reverse()
    .map((s) => `${counts[s]} ${s}`)
    .join(", ");
  return {
    code: "OPEN_QUALITY_EVENTS",
    severity: counts.critical! > 0 ? "critical" : "warning",
    message: `${affected.length} open quality event(s) reference items the change affects (${bySeverityText}): ${affected
      .slice(0, SAMPLE_SIZE)
      .map(({ event }) => words(event))
      .join("; ")}`,
    count: affected.length,
    counts: {
      ...counts,
      onItemsOfTheMaterial: affected.filter((a) => a.touches.includes("item")).length,
      onTheMaterial: affected.filter((a) => a.touches.includes("material")).length,
      onItemsReached: affected.filter((a) => a.touches.includes("reach")).length,
    },
    sample: affected.slice(0, SAMPLE_SIZE).map(({ event }) => event.number),
    detail: {
      events: affected.slice(0, SAMPLE_SIZE).map(({ event, touches }) => ({
        number: event.number,
        kind: event.kind,
        severity: event.severity,
        status: event.status,
        site: event.site,
        touches,
      })),
    },
  };
}

/**
 * A downgrade from serial tracking while an open event references serials of the material at the
 * site: the event's serials stay, but production after the change can no longer be referenced by
 * serial (a containment or rework that follows it must fall back to lots or nothing).
 */
export function qualityEventSerialsStranded(ctx: Context, change: TrackingChangeInput, fromMode: TrackingMode | null): Finding | null {
  const toMode = change.after.trackingMode;
  if (fromMode !== "serial" || granularity(toMode) >= granularity(fromMode)) return null;
  const stranded = (ctx.input.qualityEvents ?? [])
    .map((event) => ({
      event,
      serials: event.references
        .filter((r) => r.kind === "serial" && r.partNumber === change.partNumber && r.site === change.site)
        .map((r) => r.identifier ?? String(r.itemId))
        .sort(byText),
    }))
    .filter((s) => s.serials.length > 0)
    .sort((a, b) => bySeverity(a.event, b.event));
  if (stranded.length === 0) return null;
  const serials = [...new Set(stranded.flatMap((s) => s.serials))].sort(byText);
  return {
    code: "QUALITY_EVENT_SERIALS_STRANDED",
    severity: "warning",
    message: `${stranded.length} open quality event(s) reference ${serials.length} serial(s) of ${change.partNumber} at ${change.site} (${stranded
      .slice(0, SAMPLE_SIZE)
      .map((s) => words(s.event))
      .join("; ")}); after the change to ${toMode} tracking, units made later can no longer be referenced by serial`,
    count: stranded.length,
    counts: { events: stranded.length, serials: serials.length },
    sample: serials.slice(0, SAMPLE_SIZE),
    detail: {
      events: stranded.slice(0, SAMPLE_SIZE).map((s) => ({
        number: s.event.number,
        kind: s.event.kind,
        severity: s.event.severity,
        status: s.event.status,
        serials: s.serials.slice(0, SAMPLE_SIZE),
        serialCount: s.serials.length,
      })),
    },
  };
}
