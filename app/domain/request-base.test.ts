import { describe, expect, it } from "vitest";
import type { ExpandedChange } from "./change-request";
import type { TrackingRuleContent } from "./tracking-rule";
import {
  afterRelease,
  analysisReadsMoved,
  analysisReadValues,
  baseHolds,
  requestBase,
  requestBaseDigest,
  signedBefore,
  whatMoved,
  type BaseWorld,
} from "./request-base";

const lot: TrackingRuleContent = { trackingMode: "lot", containerTracking: false, identifierFormatCodes: ["EIN-LOT"], consumptionScan: "verify" };
const serial: TrackingRuleContent = { trackingMode: "serial", containerTracking: false, identifierFormatCodes: ["EIN-SER"], consumptionScan: "identify" };
const master = (riskClass: string) => ({ riskClass, regulatoryFlags: [], family: "X", gtin: null, unitOfMeasure: "EA" });

/**
 * A hand-made plant at EIN: FIN-1 ← ASM-1 ← SUB-1 (alternate SUB-2); ASM-2 on its own line into
 * FIN-2. Nothing links ASM-1 and ASM-2.
 */
const world: BaseWorld = {
  rules: new Map<string, TrackingRuleContent>([
    ["FIN-1|EIN", serial],
    ["ASM-1|EIN", lot],
    ["SUB-1|EIN", lot],
    ["SUB-2|EIN", lot],
    ["ASM-2|EIN", lot],
    ["FIN-2|EIN", serial],
    ["ASM-1|CLT", lot],
  ]),
  lines: [
    { site: "EIN", parent: "FIN-1", component: "ASM-1", lineNo: 10, quantity: "1", unit: "EA", alternates: [] },
    { site: "EIN", parent: "ASM-1", component: "SUB-1", lineNo: 10, quantity: "2", unit: "EA", alternates: ["SUB-2"] },
    { site: "EIN", parent: "FIN-2", component: "ASM-2", lineNo: 10, quantity: "1", unit: "EA", alternates: [] },
  ],
  materials: new Map(["FIN-1", "ASM-1", "SUB-1", "SUB-2", "ASM-2", "FIN-2"].map((p) => [p, master("medium")])),
  formats: new Map([
    ["EIN-LOT", { identifies: "lot", definition: { kind: "pattern" } }],
    ["EIN-SER", { identifies: "serial", definition: { kind: "pattern" } }],
  ]),
};

const serializeAsm1: ExpandedChange[] = [{ kind: "tracking", partNumber: "ASM-1", site: "EIN", rule: serial, viaFamily: null }];
const withRule = (w: BaseWorld, key: string, rule: TrackingRuleContent) => ({ ...w, rules: new Map([...w.rules, [key, rule]]) });

describe("a change request's base", () => {
  it("reads the changed material and its BOM neighbours at the site, their formats, nothing else", () => {
    const base = requestBase(serializeAsm1, "EIN", world);
    expect(base.changes).toEqual(["ASM-1"]);
    expect(Object.keys(base.rules)).toEqual(["ASM-1", "FIN-1", "SUB-1", "SUB-2"]);
    expect(base.lines.map((l) => `${l.parent}/${l.component}`)).toEqual(["ASM-1/SUB-1", "FIN-1/ASM-1"]);
    expect(Object.keys(base.formats)).toEqual(["EIN-LOT", "EIN-SER"]);
  });

  it("stays current when an unrelated material's rule moves, goes stale (named) when a neighbour's does", () => {
    const base = requestBase(serializeAsm1, "EIN", world);
    const unrelated = withRule(world, "ASM-2|EIN", serial);
    expect(requestBaseDigest(serializeAsm1, requestBase(serializeAsm1, "EIN", unrelated))).toBe(requestBaseDigest(serializeAsm1, base));
    const elsewhere = withRule(world, "ASM-1|CLT", serial);
    expect(requestBaseDigest(serializeAsm1, requestBase(serializeAsm1, "EIN", elsewhere))).toBe(requestBaseDigest(serializeAsm1, base));
    const neighbour = withRule(world, "SUB-2|EIN", serial);
    const now = requestBase(serializeAsm1, "EIN", neighbour);
    expect(requestBaseDigest(serializeAsm1, now)).not.toBe(requestBaseDigest(serializeAsm1, base));
    expect(whatMoved(serializeAsm1, base, now)).toEqual(["the tracking rule of SUB-2 at EIN"]);
  });

  it("names a BOM line whose alternates moved and a neighbour's master data", () => {
    const base = requestBase(serializeAsm1, "EIN", world);
    const moved: BaseWorld = {
      ...world,
      lines: world.lines.map((l) => (l.parent === "ASM-1" ? { ...l, alternates: [] } : l)),
      materials: new Map([...world.materials, ["FIN-1", master("high")]]),
    };
    expect(whatMoved(serializeAsm1, base, requestBase(serializeAsm1, "EIN", moved))).toEqual([
      "the tracking rule of SUB-2 at EIN", // SUB-2 is no longer read: no longer a neighbour
      "the BOM line ASM-1 / SUB-1 at EIN",
      "the master data of FIN-1",
      "the master data of SUB-2",
    ]);
  });

  it("is not made stale by its own master-data change applied at its first release", () => {
    const own: ExpandedChange[] = [
      ...serializeAsm1,
      { kind: "attributes", partNumber: "ASM-1", riskClass: "high", regulatoryFlags: null, family: null, gtin: null },
    ];
    const base = requestBase(own, "EIN", world);
    const released = afterRelease(world, "CLT", [{ expanded: own, firstRelease: true }]);
    expect(released.materials.get("ASM-1")!.riskClass).toBe("high");
    expect(baseHolds(own, base, requestBase(own, "EIN", released), true)).toBe(true);
    // Another request changing the same material's attributes does move it, before the first release…
    const other = afterRelease(world, "CLT", [
      { expanded: [{ kind: "attributes", partNumber: "ASM-1", riskClass: "low", regulatoryFlags: null, family: null, gtin: null }], firstRelease: true },
    ]);
    expect(baseHolds(own, base, requestBase(own, "EIN", world), false)).toBe(true);
    expect(baseHolds(own, base, requestBase(own, "EIN", other), false)).toBe(false);
    expect(whatMoved(own, base, requestBase(own, "EIN", other), false)).toEqual(["the master data of ASM-1"]);
    // …and after it, when it changes the attribute again.
    const later = afterRelease(released, "CLT", [
      { expanded: [{ kind: "attributes", partNumber: "ASM-1", riskClass: "low", regulatoryFlags: null, family: null, gtin: null }], firstRelease: true },
    ]);
    expect(baseHolds(own, base, requestBase(own, "EIN", later), true)).toBe(false);
  });

  it("covers what its analysis read: finished goods' master data and top tier, genealogy neighbours' rules — its own changes left to its base", () => {
    // The analysis of SUB-1 read FIN-1's master data and top tier (two tiers up) and ASM-2's rule (a genealogy neighbour outside the BOM).
    const own: ExpandedChange[] = [{ kind: "tracking", partNumber: "SUB-1", site: "EIN", rule: serial, viaFamily: null }];
    const was = analysisReadValues({ rules: ["SUB-1|EIN", "ASM-2|EIN"], masterData: ["FIN-1", "SUB-1"], topTier: ["FIN-1|EIN", "SUB-1|EIN"] }, world);
    expect(was.topTier).toEqual({ "FIN-1|EIN": true, "SUB-1|EIN": false });
    expect(analysisReadsMoved(own, was, world)).toEqual([]);
    // Its own release moves nothing it is judged on here.
    expect(analysisReadsMoved(own, was, afterRelease(world, "EIN", [{ expanded: own, firstRelease: true }]))).toEqual([]);
    // An unrelated material's rule or master data: nothing.
    expect(analysisReadsMoved(own, was, { ...withRule(world, "FIN-2|EIN", lot), materials: new Map([...world.materials, ["FIN-2", master("high")]]) })).toEqual(
      [],
    );
    const flagged = { ...world, materials: new Map([...world.materials, ["FIN-1", { ...master("medium"), regulatoryFlags: ["udi"] }]]) };
    expect(analysisReadsMoved(own, was, flagged)).toEqual(["the master data of FIN-1 (read by its impact analysis)"]);
    expect(analysisReadsMoved(own, was, withRule(world, "ASM-2|EIN", serial))).toEqual(["the tracking rule of ASM-2 at EIN (read by its impact analysis)"]);
    // A release making FIN-1 an alternate takes it out of the top tier: REACH would move.
    const alternate = afterRelease(world, "EIN", [
      { expanded: [{ kind: "alternates", partNumber: "FIN-2", component: "ASM-2", site: "EIN", alternates: ["FIN-1"] } as ExpandedChange], firstRelease: true },
    ]);
    expect(analysisReadsMoved(own, was, alternate)).toEqual(["whether FIN-1 is a finished good at EIN (top tier of its BOMs, read by its impact analysis)"]);
  });

  it("gives the signed diff's before: rules, alternates and attributes as read", () => {
    const before = signedBefore([requestBase(serializeAsm1, "EIN", world)]);
    expect(before.current.get("ASM-1|EIN")).toEqual(lot);
    expect(before.catalog.bomLines.get("EIN|ASM-1|SUB-1")).toEqual({ alternates: ["SUB-2"] });
    expect(before.attributes.get("FIN-1")).toEqual({ riskClass: "medium", regulatoryFlags: [], family: "X", gtin: null });
  });
});
