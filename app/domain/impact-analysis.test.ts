import { describe, expect, it } from "vitest";
import { graphOfRows } from "./genealogy-graph";
import {
  analyseChangeRequest,
  analyseChangeRequestReads,
  canonicalReport,
  forwardReach,
  tierIn,
  type AnalysisInput,
  type EdgeFacts,
  type ItemFacts,
} from "./impact-analysis";

const item = (id: number, identifier: string, kind: ItemFacts["kind"], partNumber: string, status: ItemFacts["status"] = "consumed"): ItemFacts => ({
  id,
  identifier,
  kind,
  partNumber,
  site: "S1",
  status,
  quantity: kind === "serial" ? "1.000000" : "10.000000",
  createdAt: "2026-01-10T00:00:00.000Z",
});
const edge = (id: number, input: number, output: number, kind: EdgeFacts["kind"] = "consume"): EdgeFacts => ({
  id,
  eventRef: `E${id}`,
  kind,
  input,
  output,
  quantity: "1.000000",
  unit: "EA",
  occurredAt: "2026-01-11T00:00:00.000Z",
  workOrder: null,
});

const ruled = (trackingMode: "serial" | "lot" | "none") => ({
  state: "ruled" as const,
  trackingMode,
  containerTracking: false,
  identifierFormatCodes: [],
  consumptionScan: "verify" as const,
});

function input(items: ItemFacts[], edges: EdgeFacts[]): AnalysisInput {
  return {
    changeRequest: { number: "CR-0001", revision: 1, contentHash: "a".repeat(64) },
    dataPoint: { auditSeq: 42, at: "2026-01-20T00:00:00.000Z" },
    ruleSetVersions: { S1: 3 },
    changes: [{ partNumber: "RAW", site: "S1", before: ruled("lot"), after: ruled("serial") }],
    materials: {
      RAW: { partNumber: "RAW", family: "F", riskClass: "low", regulatoryFlags: [] },
      SUB: { partNumber: "SUB", family: "F", riskClass: "medium", regulatoryFlags: [] },
      FIN: { partNumber: "FIN", family: "F", riskClass: "high", regulatoryFlags: ["udi"] },
    },
    rulesBefore: { "RAW|S1": ruled("lot"), "SUB|S1": ruled("lot"), "FIN|S1": ruled("serial") },
    // FIN ← SUB ← RAW at S1: FIN is the top tier, its non-container items are the finished goods.
    bomLines: [
      { site: "S1", parent: "FIN", component: "SUB", lineNo: 10, alternates: [] },
      { site: "S1", parent: "SUB", component: "RAW", lineNo: 10, alternates: [] },
    ],
    items,
    edges,
    workOrders: [],
    labelTemplates: [],
    formats: {},
    routingScans: [],
    externalRecords: [],
    runtimeClients: [],
  };
}

const plant = () => ({
  items: [
    item(1, "R1", "lot", "RAW"),
    item(2, "R2", "lot", "RAW"),
    item(3, "L1", "lot", "SUB"),
    item(4, "F1", "serial", "FIN", "shipped"),
    item(5, "F2", "serial", "FIN", "stock"),
    item(6, "X", "lot", "SUB"),
  ],
  edges: [edge(1, 1, 3), edge(2, 2, 3), edge(3, 3, 4), edge(4, 3, 5), edge(5, 4, 4, "rework"), edge(6, 3, 6), edge(7, 6, 3)],
});

describe("impact analysis (pure)", () => {
  it("ends on cycles and reports them; rework loops are not cycles", () => {
    const { items, edges } = plant();
    const report = analyseChangeRequest(input(items, edges));
    expect(report.findings.find((f) => f.code === "CYCLE")).toMatchObject({ count: 1, sample: ["L1 → X"] });
    const reach = report.changes[0]!.findings.find((f) => f.code === "REACH")!;
    expect(reach).toMatchObject({ count: 2, sample: ["F1", "F2"], counts: { precisionLot: 2, precisionUnit: 0, itemsReached: 6 } });
  });

  it("reports an edge to an item it does not hold as a dangling reference, and still ends", () => {
    const { items, edges } = plant();
    const report = analyseChangeRequest(input(items, [...edges, edge(8, 5, 99)]));
    expect(report.findings.find((f) => f.code === "DANGLING_REFERENCE")!.sample).toContain("event E8: item 99 not found");
  });

  it("gives byte-identical output whatever the order of its input", () => {
    const { items, edges } = plant();
    const a = canonicalReport(analyseChangeRequest(input(items, edges)));
    const b = canonicalReport(analyseChangeRequest(input([...items].reverse(), [...edges].reverse())));
    expect(b).toBe(a);
  });

  it("marks a path unit-level only while every hop is a serial or a container", () => {
    const items = [
      item(1, "S1", "serial", "SUB"),
      item(2, "C1", "container", "SUB", "stock"),
      item(3, "F1", "serial", "FIN", "stock"),
      item(4, "L1", "lot", "SUB"),
      item(5, "F2", "serial", "FIN", "stock"),
    ];
    const edges = [edge(1, 1, 2, "aggregate"), edge(2, 2, 3), edge(3, 4, 5)];
    const reach = forwardReach(graphOfRows(items, edges), [1, 4], new Set(["FIN|S1"]));
    expect(reach.finished).toEqual([5, 3]);
    expect([...reach.finishedUnit].map((u) => (u ? "unit" : "lot"))).toEqual(["lot", "unit"]);
    expect(tierIn(reach, 3)).toBe(2);
    expect(reach.layerEnds).toEqual([2, 4, 5]);
    expect(reach.ids).toEqual([1, 4, 2, 5, 3]);
  });

  it("counts a finished good whatever flowed out of it and whatever its status: containers are transparent", () => {
    // F1 shipped on pallet P1, P1 in container P2; F2 scrapped; F3 in stock; F1 also went into a
    // kit K1 at S1 that no BOM knows (not a top tier); the pallets are never finished goods.
    const items = [
      item(1, "L1", "lot", "SUB"),
      item(2, "F1", "serial", "FIN", "shipped"),
      item(3, "F2", "serial", "FIN", "scrapped"),
      item(4, "F3", "serial", "FIN", "stock"),
      item(5, "P1", "container", "PAL", "shipped"),
      item(6, "P2", "container", "FIN", "shipped"),
      item(7, "K1", "serial", "KIT", "stock"),
      item(8, "F4", "serial", "FIN", "shipped"),
    ];
    const edges = [
      edge(1, 1, 2),
      edge(2, 1, 3),
      edge(3, 1, 4),
      edge(4, 2, 5, "aggregate"),
      edge(5, 5, 6, "aggregate"),
      edge(6, 2, 7),
      edge(7, 8, 5, "aggregate"),
    ];
    const report = analyseChangeRequest({ ...input(items, edges), changes: [{ partNumber: "SUB", site: "S1", before: ruled("lot"), after: ruled("none") }] });
    const by = (code: string) => report.changes[0]!.findings.find((f) => f.code === code)!;
    expect(by("REACH")).toMatchObject({
      count: 3,
      sample: ["F1", "F2", "F3"],
      counts: { "site:S1": 3, "status:stock": 1, "status:shipped": 1, "status:scrapped": 1, itemsReached: 7 },
    });
    expect(by("REACH").message).toContain("1 stock, 1 shipped, 1 scrapped");
    expect(by("PRECISION_LOSS")).toMatchObject({
      count: 3,
      counts: { finishedUnits: 3, "status:stock": 1, "status:shipped": 1, "status:scrapped": 1, regulated: 3, sources: 1 },
    });
  });

  it("reports what it read that a release can change: the finished goods' master data and top tier, genealogy neighbours' rules — nothing else", () => {
    // SUB serial → lot: S1 went into the finished F1 (on pallet P1); O1 of OTH (no BOM line knows OTH) was consumed into S1.
    const items = [
      item(1, "S1", "serial", "SUB"),
      item(2, "F1", "serial", "FIN", "shipped"),
      item(3, "P1", "container", "PAL", "shipped"),
      item(4, "O1", "serial", "OTH"),
    ];
    const edges = [edge(1, 1, 2), edge(2, 2, 3, "aggregate"), edge(3, 4, 1)];
    const base = input(items, edges);
    const { report, reads } = analyseChangeRequestReads({
      ...base,
      changes: [{ partNumber: "SUB", site: "S1", before: ruled("serial"), after: ruled("lot") }],
      materials: {
        ...base.materials,
        OTH: { partNumber: "OTH", family: "F", riskClass: "low", regulatoryFlags: [] },
        UNRELATED: { partNumber: "UNRELATED", family: "F", riskClass: "low", regulatoryFlags: ["udi"] },
      },
      rulesBefore: { ...base.rulesBefore, "SUB|S1": ruled("serial"), "OTH|S1": ruled("serial"), "UNRELATED|S1": ruled("serial") },
    });
    expect(report.changes[0]!.findings.find((f) => f.code === "PRECISION_LOSS")).toMatchObject({ counts: { finishedUnits: 1, regulated: 1 } });
    expect(reads.masterData).toContain("FIN");
    expect(reads.rules).toEqual(expect.arrayContaining(["OTH|S1", "FIN|S1", "SUB|S1"]));
    // The walk goes forward only: O1 is read for its rule, not judged as a finished good.
    expect(reads.topTier).toEqual(["FIN|S1", "SUB|S1"]);
    expect([...reads.masterData, ...reads.rules, ...reads.topTier].filter((k) => k.startsWith("UNRELATED") || k.startsWith("PAL"))).toEqual([]);
  });

  it("counts the starting items when they are finished goods themselves", () => {
    const items = [item(1, "F1", "serial", "FIN", "shipped"), item(2, "F2", "serial", "FIN", "stock"), item(3, "P1", "container", "PAL", "shipped")];
    const edges = [edge(1, 1, 3, "aggregate")];
    const reach = forwardReach(graphOfRows(items, edges), [1, 2], new Set(["FIN|S1"]));
    expect(reach.finished).toEqual([1, 2]);
    expect([...reach.finishedUnit]).toEqual([1, 1]);
    // A finished material at another site is not one here.
    expect(forwardReach(graphOfRows(items, edges), [1, 2], new Set(["FIN|S2"])).finished).toEqual([]);
  });
});

describe("look-alike identifier formats (LOOK_ALIKE_FORMATS)", () => {
  const SER = {
    identifies: "serial" as const,
    definition: { kind: "pattern" as const, segments: [{ literal: "S" }, { class: "digit" as const, min: 8, max: 8 }] },
  };
  const LOT = { identifies: "lot" as const, definition: { kind: "pattern" as const, segments: [{ class: "upperAlnum" as const, min: 9, max: 9 }] } };
  const CTR = {
    identifies: "container" as const,
    definition: { kind: "pattern" as const, segments: [{ literal: "C" }, { class: "digit" as const, min: 8, max: 8 }] },
  };
  const LGTIN = { identifies: "lot" as const, definition: { kind: "gs1" as const, ais: ["01", "10"] } };
  const rule = (formats: string[], trackingMode: "serial" | "lot" = "serial") => ({
    state: "ruled" as const,
    trackingMode,
    containerTracking: false,
    identifierFormatCodes: formats,
    consumptionScan: "identify" as const,
  });

  function withFormats(before: string[], after: string[], extra: Partial<AnalysisInput> = {}): AnalysisInput {
    const base = input([], []);
    return {
      ...base,
      changes: [{ partNumber: "RAW", site: "S1", before: rule(before, "lot"), after: rule(after) }],
      formats: { "S1-SER": SER, "S1-LOT": LOT, "S1-CTR": CTR, "GS1-LGTIN": LGTIN },
      labelTemplates: [{ site: "S1", code: "WC30-SHOP", name: "Shop", workCentre: "S1-WC30", formats: ["S1-CTR", "S1-LOT", "S1-SER"] }],
      routingScans: [{ site: "S1", parent: "RAW", step: 10, workCentre: "S1-WC30", component: null, consumptionScan: null }],
      ...extra,
    };
  }
  const finding = (i: AnalysisInput) => analyseChangeRequest(i).changes[0]!.findings.find((f) => f.code === "LOOK_ALIKE_FORMATS");

  it("a serial format next to the lot format on the work centre's label: critical, with the example", () => {
    const f = finding(withFormats(["S1-LOT"], ["S1-SER"]))!;
    expect(f).toMatchObject({
      severity: "critical",
      count: 1,
      counts: { confusions: 1, introduced: 1, kept: 0, undecided: 0 },
      sample: ["S1-LOT ~ S1-SER: S00000000 (lot, serial)"],
    });
    expect(f.detail).toMatchObject({ formats: ["S1-SER"], usedWith: ["S1-CTR", "S1-LOT", "S1-SER"], templates: ["WC30-SHOP"] });
    expect(f.message).toContain("S1-LOT ~ S1-SER: S00000000 (lot, serial)");
  });

  it("kept look-alikes are reported as kept; the rule's own formats are compared with each other", () => {
    const f = finding(withFormats(["S1-LOT", "S1-CTR"], ["S1-LOT", "S1-CTR"], { labelTemplates: [], routingScans: [] }))!;
    expect(f).toMatchObject({
      severity: "critical",
      counts: { confusions: 1, introduced: 0, kept: 1 },
      sample: ["S1-CTR ~ S1-LOT: C00000000 (container, lot)"],
    });
  });

  it("a self-ambiguous GS1 format (GTIN + lot) is flagged with its readings", () => {
    const f = finding(withFormats([], ["GS1-LGTIN"], { labelTemplates: [], routingScans: [] }))!;
    expect(f.severity).toBe("critical");
    expect(f.sample).toEqual(["GS1-LGTIN: 010950600013435210LOT121S (lot, serial)"]);
  });

  it("no finding when the formats cannot be confused; none for a rule without formats", () => {
    expect(
      finding(withFormats(["S1-LOT"], ["S1-SER"], { labelTemplates: [{ site: "S1", code: "OTHER", name: "o", workCentre: "S1-WC99", formats: ["S1-LOT"] }] })),
    ).toBeUndefined();
    expect(finding(withFormats(["S1-LOT"], []))).toBeUndefined();
  });
});
