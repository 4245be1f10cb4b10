/**
 * The replay engine on a hand-built plant (ADR 041). Every expectation below is counted by hand
 * from the edges listed here, not taken from an earlier run.
 *
 * Site T. Formats: T-SER (serial, "S" + 4 digits), T-LOT (lot, 5 upper-case letters or digits — so
 * "S0007" reads as both), T-CTR (container, "C" + 4 digits).
 * Rules in force: P serial [T-SER] identify; Q lot [T-LOT] verify; C lot [T-LOT] verify;
 * A lot [T-LOT] verify. BOM: P ← C (line 10, alternate A). Routing: P step 10 at WC-A consumes C
 * (verify); P step 20 at WC-B consumes nothing; Q step 10 at WC-Q consumes C (identify); C step 10
 * at WC-C consumes R. Label templates: SHOP at WC-A prints T-LOT; SITE (site-wide) prints T-CTR;
 * QLBL at WC-Q prints T-SER.
 * Data point 2026-03-31T12:00Z: the window is [2025-12-31T12:00Z, 2026-03-31T12:00Z).
 */
import { describe, expect, it } from "vitest";
import { canonicalReplay, inexpressibleKinds, replayProposal, type ReplayEdge, type ReplayInput, type ReplayItem, type ReplayRule } from "./index";

const rule = (trackingMode: ReplayRule["trackingMode"], identifierFormatCodes: string[], consumptionScan: ReplayRule["consumptionScan"]): ReplayRule => ({
  trackingMode,
  containerTracking: false,
  identifierFormatCodes,
  consumptionScan,
});
const pattern = (segments: unknown[]) => ({ kind: "pattern", segments }) as ReplayInput["formats"][string]["definition"];

const items: ReplayItem[] = [
  [1, "LOT01", "C", "lot"],
  [2, "S0007", "C", "lot"],
  [3, "LOT03", "C", "lot"],
  [10, "P0001", "P", "serial"],
  [11, "P0002", "P", "serial"],
  [12, "P0003", "P", "serial"],
  [20, "Q0001", "Q", "lot"],
  [30, "ALT01", "A", "lot"],
  [40, "LOT04", "C", "lot"],
  [41, "LOT4A", "C", "lot"],
  [42, "LOT4B", "C", "lot"],
  [43, "LOT4C", "C", "lot"],
  [50, "RAW01", "R", "lot"],
  [60, "LOT06", "C", "lot"],
  [70, "C0001", "C", "container"],
].map(([id, identifier, partNumber, kind]) => ({
  id: id as number,
  identifier: identifier as string,
  partNumber: partNumber as string,
  kind: kind as ReplayItem["kind"],
  site: "T",
}));

const edge = (id: number, eventRef: string, kind: ReplayEdge["kind"], input: number, output: number, occurredAt: string): ReplayEdge => ({
  id,
  eventRef,
  kind,
  input,
  output,
  quantity: "1",
  occurredAt,
  workOrder: null,
});
const edges: ReplayEdge[] = [
  // e1: C lot LOT01 into P at step 10 (WC-A). Unscannable (a serial scan; no serial label at WC-C, WC-A or site-wide). Reads only as A's lot: not ambiguous.
  edge(1, "EV-1", "consume", 1, 10, "2026-03-28T08:00:00.000Z"),
  // e2: C lot S0007 into P at step 10. Unscannable, and ambiguous: C's T-SER (serial) and A's T-LOT (lot).
  edge(2, "EV-2", "consume", 2, 11, "2026-03-28T09:00:00.000Z"),
  // e3: C lot LOT03 into Q at step 10 (WC-Q): QLBL prints T-SER there — scannable; reads as nothing scanned there twice.
  edge(3, "EV-3", "consume", 3, 20, "2026-03-29T08:00:00.000Z"),
  // e4: A (lot) substitutes for C (serial after the change) into P: refused, "lot for serial".
  edge(4, "EV-4", "consume", 30, 12, "2026-03-29T10:00:00.000Z"),
  // e5: a split of a C lot — inexpressible serial-tracked (one event, two edges).
  edge(5, "EV-SPLIT", "split", 40, 41, "2026-03-30T08:00:00.000Z"),
  edge(6, "EV-SPLIT", "split", 40, 42, "2026-03-30T08:00:00.000Z"),
  // e6: a rework of a C lot — expressible serial-tracked.
  edge(7, "EV-REWORK", "rework", 60, 60, "2026-03-30T09:00:00.000Z"),
  // e7: a repack of a C lot into a C container — expressible serial-tracked.
  edge(8, "EV-REPACK", "repack", 41, 70, "2026-03-30T10:00:00.000Z"),
  // e8: before the window — not replayed.
  edge(9, "EV-OLD", "consume", 1, 10, "2025-12-01T08:00:00.000Z"),
  // e9: R into C lot LOT01: an item of C made in the window.
  edge(10, "EV-MAKE", "consume", 50, 1, "2026-03-27T08:00:00.000Z"),
  // e10: after the data point — not replayed.
  edge(11, "EV-LATE", "consume", 2, 11, "2026-03-31T13:00:00.000Z"),
  // e11: a merge of two C lots — inexpressible serial-tracked (one event).
  edge(12, "EV-MERGE", "merge", 41, 43, "2026-03-31T08:00:00.000Z"),
  edge(13, "EV-MERGE", "merge", 42, 43, "2026-03-31T08:00:00.000Z"),
];

const input = (after: ReplayRule): ReplayInput => ({
  changeRequest: { number: "CR-T-1", revision: 1, contentHash: "0".repeat(64) },
  dataPoint: { auditSeq: 42, at: "2026-03-31T12:00:00.000Z" },
  changes: [{ partNumber: "C", site: "T", before: rule("lot", ["T-LOT"], "verify"), after }],
  rulesBefore: {
    "P|T": rule("serial", ["T-SER"], "identify"),
    "Q|T": rule("lot", ["T-LOT"], "verify"),
    "C|T": rule("lot", ["T-LOT"], "verify"),
    "A|T": rule("lot", ["T-LOT"], "verify"),
  },
  formats: {
    "T-SER": { identifies: "serial", definition: pattern([{ literal: "S" }, { class: "digit", min: 4, max: 4 }]) },
    "T-LOT": { identifies: "lot", definition: pattern([{ class: "upperAlnum", min: 5, max: 5 }]) },
    "T-CTR": { identifies: "container", definition: pattern([{ literal: "C" }, { class: "digit", min: 4, max: 4 }]) },
  },
  bomLines: [{ site: "T", parent: "P", component: "C", lineNo: 10, alternates: ["A"] }],
  routing: [
    { site: "T", parent: "P", step: 10, workCentre: "WC-A", component: "C", consumptionScan: "verify" },
    { site: "T", parent: "P", step: 20, workCentre: "WC-B", component: null, consumptionScan: null },
    { site: "T", parent: "Q", step: 10, workCentre: "WC-Q", component: "C", consumptionScan: "identify" },
    { site: "T", parent: "C", step: 10, workCentre: "WC-C", component: "R", consumptionScan: "verify" },
  ],
  labelTemplates: [
    { site: "T", code: "SHOP", workCentre: "WC-A", formats: ["T-LOT"] },
    { site: "T", code: "SITE", workCentre: null, formats: ["T-CTR"] },
    { site: "T", code: "QLBL", workCentre: "WC-Q", formats: ["T-SER"] },
  ],
  items,
  edges,
});

describe("replay of the last 90 days", () => {
  it("C lot → serial [T-SER], identify: each category counted by hand", () => {
    const report = replayProposal(input(rule("serial", ["T-SER"], "identify")));
    expect(report.window).toEqual({ from: "2025-12-31T12:00:00.000Z", to: "2026-03-31T12:00:00.000Z", days: 90 });
    // 2025-12-31 … 2026-03-31: 1 + 31 + 28 + 31 days.
    expect(report.days).toHaveLength(91);
    expect(report.totals).toEqual({ UNSCANNABLE: 2, AMBIGUOUS: 1, SUBSTITUTION_REFUSED: 1, INEXPRESSIBLE: 2 });
    const [change] = report.changes;
    expect(change!.from).toBe("lot");
    expect(change!.to).toBe("serial");
    // Consumptions of C in the window: e1, e2, e3 (e8 before, e10 after). Made: LOT01 (e9). Structural: split, rework, repack, merge. Substitutions: e4.
    expect(change!.replayed).toEqual({ consumptions: 3, itemsMade: 1, structuralEvents: 4, substitutions: 1 });
    expect(change!.categories.UNSCANNABLE.byReason).toEqual({ serial: 2 });
    expect(change!.categories.AMBIGUOUS.byReason).toEqual({ "lot+serial": 1 });
    expect(change!.categories.AMBIGUOUS.sample).toEqual(["2026-03-28 EV-2: S0007 at P step 10 (WC-A) reads as A:lot and C:serial"]);
    expect(change!.categories.SUBSTITUTION_REFUSED.byReason).toEqual({ "lot for serial": 1 });
    expect(change!.categories.INEXPRESSIBLE.byReason).toEqual({ merge: 1, split: 1 });
    expect(change!.categories.INEXPRESSIBLE.sample.map((s) => s.slice(0, 22))).toEqual(["2026-03-30 EV-SPLIT: s", "2026-03-31 EV-MERGE: m"]);
    expect(change!.days).toEqual([
      ["2026-03-28", 2, 1, 0, 0],
      ["2026-03-29", 0, 0, 1, 0],
      ["2026-03-30", 0, 0, 0, 1],
      ["2026-03-31", 0, 0, 0, 1],
    ]);
    expect(report.days.find((d) => d.day === "2026-03-28")!.counts).toEqual({ UNSCANNABLE: 2, AMBIGUOUS: 1, SUBSTITUTION_REFUSED: 0, INEXPRESSIBLE: 0 });
    expect(report.days[0]!.day).toBe("2025-12-31");
    expect(report.days.at(-1)!.day).toBe("2026-03-31");
  });

  it("C lot → untracked, no scan: nothing to scan or refuse, every structural event inexpressible", () => {
    const report = replayProposal(input(rule("none", [], "none")));
    // The step still asks "verify" (routing), but an untracked material without containers has nothing to identify: not unscannable.
    // Scanned strings: C has no formats; "S0007" reads only as A's lot — one reading, not ambiguous.
    // A (lot) for C (untracked): finer, accepted. Untracked: split, rework, repack and merge are all inexpressible (4 events).
    expect(report.totals).toEqual({ UNSCANNABLE: 0, AMBIGUOUS: 0, SUBSTITUTION_REFUSED: 0, INEXPRESSIBLE: 4 });
    expect(report.changes[0]!.categories.INEXPRESSIBLE.byReason).toEqual({ merge: 1, repack: 1, rework: 1, split: 1 });
  });

  it("deterministic: shuffled input, same bytes", () => {
    const after = rule("serial", ["T-SER"], "identify");
    const a = canonicalReplay(replayProposal(input(after)));
    const shuffled = { ...input(after), edges: [...edges].reverse(), items: [...items].reverse() };
    expect(canonicalReplay(replayProposal(shuffled))).toBe(a);
  });

  it("the inexpressible kinds per mode (the analysis's INEXPRESSIBLE_EVENTS uses the same)", () => {
    expect([...inexpressibleKinds("serial", false)]).toEqual(["split", "merge"]);
    expect([...inexpressibleKinds("lot", true)]).toEqual(["rework"]);
    expect([...inexpressibleKinds("none", true)]).toEqual(["split", "merge", "rework"]);
    expect([...inexpressibleKinds("none", false)]).toEqual(["split", "merge", "repack", "rework"]);
  });
});
