/**
 * Review 25: pure unit tests of the quality findings (ADR 037), on a hand-built case whose
 * expectations are counted by hand, not derived from the rules.
 *
 *   RAW-1 lot 30 ──► SUB-1 serial 10 ──► FIN-1 serial 20
 *                    SUB-1 serial 11 ──► FIN-1 serial 21
 *
 * The change: SUB-1 at EIN, serial → lot. Its own items: 10 and 11.
 *   QE-0001 minor  open       serial 10 (SUB-1)                → item
 *   QE-0002 critical contained material SUB-1 at EIN           → material
 *   QE-0003 major  open       serial 21 (FIN-1)                → reach
 *   QE-0004 major  open       lot 30 (RAW-1, upstream)         → not touched (the reach is forward)
 *   QE-0005 critical open     material SUB-1 at CLT            → not touched (another site)
 *   QE-0006 minor  open       serial 10 and serial 20          → item and reach
 */
import { describe, expect, it } from "vitest";
import type { Context } from "./context";
import { affectedQualityEvents, openQualityEvents, qualityEventSerialsStranded } from "./findings-quality";
import type { ItemFacts, QualityEventFacts, TrackingChangeInput } from "./report";

const FORWARD: Record<number, number[]> = { 30: [10], 10: [20], 11: [21] };

function contextWith(events: QualityEventFacts[]): { ctx: Context; walks: number[][] } {
  const walks: number[][] = [];
  const graph = {
    forwardReach(start: readonly number[]) {
      walks.push([...start]);
      const seen = new Set<number>(start);
      const queue = [...start];
      while (queue.length) for (const next of FORWARD[queue.shift()!] ?? []) if (!seen.has(next)) seen.add(next), queue.push(next);
      return { ids: [...seen], layerEnds: [], deepest: 0, finished: [], finishedUnit: new Uint8Array(), topTierRead: [] };
    },
  };
  const ctx = {
    input: { qualityEvents: events },
    reaches: new Map(),
    topTierRead: new Set<string>(),
    topTier: new Set<string>(),
    graph,
  } as unknown as Context;
  return { ctx, walks };
}

const item = (id: number, identifier: string, partNumber: string): ItemFacts => ({
  id,
  identifier,
  kind: "serial",
  partNumber,
  site: "EIN",
  status: "stock",
  quantity: "1",
  createdAt: "2026-11-01T00:00:00.000Z",
});
const OWN = [item(10, "S-10", "SUB-1"), item(11, "S-11", "SUB-1")];

const change = (trackingMode: "serial" | "lot" | "none"): TrackingChangeInput =>
  ({
    partNumber: "SUB-1",
    site: "EIN",
    before: { state: "ruled", trackingMode: "serial", containerTracking: false, identifierFormatCodes: ["S"], consumptionScan: "identify" },
    after: { state: "ruled", trackingMode, containerTracking: false, identifierFormatCodes: ["X"], consumptionScan: "identify" },
  }) as unknown as TrackingChangeInput;

type Ref = QualityEventFacts["references"][number];
const serial = (itemId: number, identifier: string, partNumber: string): Ref => ({ kind: "serial", itemId, identifier, partNumber, site: "EIN" });
const ev = (number: string, severity: QualityEventFacts["severity"], status: QualityEventFacts["status"], references: Ref[]): QualityEventFacts => ({
  number,
  kind: "nonconformance",
  severity,
  status,
  site: references[0]!.site,
  references,
});

const EVENTS: QualityEventFacts[] = [
  ev("QE-0001", "minor", "open", [serial(10, "S-10", "SUB-1")]),
  ev("QE-0002", "critical", "contained", [{ kind: "material", itemId: null, identifier: null, partNumber: "SUB-1", site: "EIN" }]),
  ev("QE-0003", "major", "open", [serial(21, "F-21", "FIN-1")]),
  ev("QE-0004", "major", "open", [{ kind: "lot", itemId: 30, identifier: "L-30", partNumber: "RAW-1", site: "EIN" }]),
  ev("QE-0005", "critical", "open", [{ kind: "material", itemId: null, identifier: null, partNumber: "SUB-1", site: "CLT" }]),
  ev("QE-0006", "minor", "open", [serial(10, "S-10", "SUB-1"), serial(20, "F-20", "FIN-1")]),
];

describe("affectedQualityEvents", () => {
  it("finds the events on an own item, on the material at the site and in the forward reach; most severe first", () => {
    const { ctx, walks } = contextWith(EVENTS);
    expect(affectedQualityEvents(ctx, change("lot"), OWN).map((a) => [a.event.number, a.touches])).toEqual([
      ["QE-0002", ["material"]],
      ["QE-0003", ["reach"]],
      ["QE-0001", ["item"]],
      ["QE-0006", ["item", "reach"]],
    ]);
    // One walk, from the own items.
    expect(walks).toEqual([[10, 11]]);
  });

  it("walks nothing when no event references an item outside the own items, and nothing without events", () => {
    const { ctx, walks } = contextWith([EVENTS[0]!, EVENTS[1]!]);
    expect(affectedQualityEvents(ctx, change("lot"), OWN)).toHaveLength(2);
    expect(walks).toEqual([]);
    expect(affectedQualityEvents(contextWith([]).ctx, change("lot"), OWN)).toEqual([]);
  });

  it("with no own items, only a material reference touches", () => {
    const { ctx, walks } = contextWith(EVENTS);
    expect(affectedQualityEvents(ctx, change("lot"), []).map((a) => a.event.number)).toEqual(["QE-0002"]);
    expect(walks).toEqual([]);
  });
});

describe("OPEN_QUALITY_EVENTS", () => {
  it("counts by severity and by how, critical when a critical event is touched", () => {
    const { ctx } = contextWith(EVENTS);
    const finding = openQualityEvents(ctx, change("lot"), OWN)!;
    expect(finding.code).toBe("OPEN_QUALITY_EVENTS");
    expect(finding.severity).toBe("critical");
    expect(finding.count).toBe(4);
    expect(finding.counts).toEqual({ critical: 1, major: 1, minor: 2, onItemsOfTheMaterial: 2, onTheMaterial: 1, onItemsReached: 2 });
    expect(finding.sample).toEqual(["QE-0002", "QE-0003", "QE-0001", "QE-0006"]);
    expect(finding.message).toBe(
      "4 open quality event(s) reference items the change affects (1 critical, 1 major, 2 minor): " +
        "QE-0002 nonconformance critical contained; QE-0003 nonconformance major open; QE-0001 nonconformance minor open; QE-0006 nonconformance minor open",
    );
  });

  it("is a warning without a critical event, and absent when nothing is touched", () => {
    const minorOnly = contextWith([EVENTS[0]!, EVENTS[3]!, EVENTS[4]!]);
    const finding = openQualityEvents(minorOnly.ctx, change("lot"), OWN)!;
    expect([finding.severity, finding.count, finding.sample]).toEqual(["warning", 1, ["QE-0001"]]);
    expect(openQualityEvents(contextWith([EVENTS[3]!, EVENTS[4]!]).ctx, change("lot"), OWN)).toBeNull();
  });
});

describe("QUALITY_EVENT_SERIALS_STRANDED", () => {
  it("serial → lot: the events with serials of the material at the site, the serials counted once", () => {
    const { ctx } = contextWith(EVENTS);
    const finding = qualityEventSerialsStranded(ctx, change("lot"), "serial")!;
    expect(finding.code).toBe("QUALITY_EVENT_SERIALS_STRANDED");
    expect(finding.severity).toBe("warning");
    expect(finding.counts).toEqual({ events: 2, serials: 1 });
    expect(finding.sample).toEqual(["S-10"]);
    expect((finding.detail as { events: { number: string; serials: string[] }[] }).events.map((e) => [e.number, e.serials])).toEqual([
      ["QE-0001", ["S-10"]],
      ["QE-0006", ["S-10"]],
    ]);
    expect(finding.message).toBe(
      "2 open quality event(s) reference 1 serial(s) of SUB-1 at EIN (QE-0001 nonconformance minor open; QE-0006 nonconformance minor open); after the change to lot tracking, units made later can no longer be referenced by serial",
    );
  });

  it("serial → none too; not for serial → serial, lot → none, or from no rule", () => {
    const { ctx } = contextWith(EVENTS);
    expect(qualityEventSerialsStranded(ctx, change("none"), "serial")?.count).toBe(2);
    expect(qualityEventSerialsStranded(ctx, change("serial"), "serial")).toBeNull();
    expect(qualityEventSerialsStranded(ctx, change("none"), "lot")).toBeNull();
    expect(qualityEventSerialsStranded(ctx, change("lot"), null)).toBeNull();
  });

  it("a serial of the material at another site is not stranded by this site's change", () => {
    const elsewhere = ev("QE-0007", "critical", "open", [{ kind: "serial", itemId: 99, identifier: "S-99", partNumber: "SUB-1", site: "CLT" }]);
    expect(qualityEventSerialsStranded(contextWith([elsewhere]).ctx, change("lot"), "serial")).toBeNull();
  });
});
