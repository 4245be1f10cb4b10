import { describe, expect, it } from "vitest";
import { planEvent } from "./events";
import {
  cbvBizStep,
  checkDocumentTime,
  checkEventTimes,
  checkSelfRelations,
  cyclesThroughFresh,
  describeSkew,
  isReworkStep,
  parseClockSkew,
  REWORK_BIZ_STEPS,
} from "./plausibility";

/** The import's clock in these tests: fixed. */
const NOW = Date.parse("2026-12-07T08:00:00Z");
const DAY = { now: NOW, skewSeconds: 86_400 };

const SGTIN_A = "urn:epc:id:sgtin:4012345.011111.A1";
const SGTIN_A_DL = "https://id.gs1.org/01/04012345111118/21/A1"; // the same object as a Digital Link
const SGTIN_B = "urn:epc:id:sgtin:4012345.011111.B2";
const LOT = "urn:epc:class:lgtin:4012345.012345.L7";
const SSCC = "urn:epc:id:sscc:4012345.0000000001";

describe("future times (ADR 024)", () => {
  it("accepts a time up to the import time plus the skew, and refuses the first millisecond after, located with the time and the limit", () => {
    expect(checkEventTimes({ eventTime: "2026-12-08T08:00:00Z" }, 4, DAY)).toEqual([]);
    expect(checkEventTimes({ eventTime: "2026-12-08T08:00:00.001Z" }, 4, DAY)).toEqual([
      {
        eventIndex: 4,
        path: "/epcisBody/eventList/4/eventTime",
        message:
          "eventTime 2026-12-08T08:00:00.001Z is in the future: later than the import time 2026-12-07T08:00:00.000Z plus the allowed clock skew of 1 day (limit 2026-12-08T08:00:00.000Z)",
      },
    ]);
  });

  it("compares the instant, whatever the offset it is written in", () => {
    // 10:00 at +02:00 is 08:00Z: exactly the limit.
    expect(checkEventTimes({ eventTime: "2026-12-08T10:00:00+02:00" }, 0, DAY)).toEqual([]);
    expect(checkEventTimes({ eventTime: "2026-12-08T10:00:01+02:00" }, 0, DAY)).toHaveLength(1);
    // 03:00 at -06:00 is 09:00Z: one hour beyond.
    expect(checkEventTimes({ eventTime: "2026-12-08T03:00:00-06:00" }, 0, DAY)).toHaveLength(1);
  });

  it("checks recordTime and an error declaration's declarationTime too, each at its own path", () => {
    const issues = checkEventTimes(
      { eventTime: "2026-12-01T00:00:00Z", recordTime: "2027-01-01T00:00:00Z", errorDeclaration: { declarationTime: "2030-05-05T00:00:00Z" } },
      2,
      DAY,
    );
    expect(issues.map((i) => i.path)).toEqual(["/epcisBody/eventList/2/recordTime", "/epcisBody/eventList/2/errorDeclaration/declarationTime"]);
    expect(issues[1]!.message).toContain("declarationTime 2030-05-05T00:00:00Z is in the future");
  });

  it("with a skew of 0, anything after now is refused; unreadable times are left to the semantic check", () => {
    const zero = { now: NOW, skewSeconds: 0 };
    expect(checkEventTimes({ eventTime: "2026-12-07T08:00:00Z" }, 0, zero)).toEqual([]);
    expect(checkEventTimes({ eventTime: "2026-12-07T08:00:01Z" }, 0, zero)[0]!.message).toContain("clock skew of 0 s (limit 2026-12-07T08:00:00.000Z)");
    expect(checkEventTimes({ eventTime: "not a time", recordTime: 12 }, 0, zero)).toEqual([]);
  });

  it("checks the document's creationDate, located at the header", () => {
    expect(checkDocumentTime({ creationDate: "2026-12-07T09:00:00Z" }, DAY)).toEqual([]);
    expect(checkDocumentTime({ creationDate: "2026-12-09T00:00:00Z" }, DAY)).toEqual([
      expect.objectContaining({
        eventIndex: null,
        path: "/creationDate",
        message: expect.stringContaining("creationDate 2026-12-09T00:00:00Z is in the future"),
      }),
    ]);
  });

  it("reads a clock skew as seconds or with a unit, and says what is wrong otherwise", () => {
    expect(parseClockSkew("1d")).toEqual({ ok: true, seconds: 86_400 });
    expect(parseClockSkew("12h")).toEqual({ ok: true, seconds: 43_200 });
    expect(parseClockSkew("90m")).toEqual({ ok: true, seconds: 5_400 });
    expect(parseClockSkew("3600")).toEqual({ ok: true, seconds: 3_600 });
    expect(parseClockSkew("0")).toEqual({ ok: true, seconds: 0 });
    for (const bad of ["1w", "-1", "1.5h", "", "d"]) expect(parseClockSkew(bad)).toMatchObject({ ok: false, message: expect.stringContaining("seconds") });
    expect(parseClockSkew("400d")).toEqual({ ok: false, message: "clock skew 400d is more than a year" });
    expect([86_400, 2 * 86_400 + 3 * 3_600, 5_400, 45].map(describeSkew)).toEqual(["1 day", "2 days 3 h", "1 h 30 min", "45 s"]);
  });
});

describe("objects related to themselves (ADR 024)", () => {
  it("refuses a parent that is one of its own children, in any spelling, located at the child", () => {
    const aggregation = { type: "AggregationEvent", action: "ADD", parentID: SGTIN_A, childEPCs: [SGTIN_B, SGTIN_A_DL] };
    expect(checkSelfRelations(aggregation, 3)).toEqual({
      errors: [
        {
          eventIndex: 3,
          path: "/epcisBody/eventList/3/childEPCs/1",
          message: `${SGTIN_A_DL} is the parentID itself (${SGTIN_A}): an object cannot contain itself`,
        },
      ],
      warnings: [],
    });
    const transaction = { type: "TransactionEvent", action: "ADD", parentID: SSCC, epcList: [SSCC] };
    expect(checkSelfRelations(transaction, 0).errors.map((e) => e.path)).toEqual(["/epcisBody/eventList/0/epcList/0"]);
    expect(checkSelfRelations({ type: "AggregationEvent", action: "ADD", parentID: SSCC, childEPCs: [SGTIN_A, SGTIN_B] }, 0)).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it("warns, located at the output, about an item transformed into itself without a repair step", () => {
    const event = { type: "TransformationEvent", bizStep: "commissioning", inputEPCList: [SGTIN_A, SGTIN_B], outputEPCList: [SGTIN_A_DL] };
    expect(checkSelfRelations(event, 5)).toEqual({
      errors: [],
      warnings: [
        {
          eventIndex: 5,
          path: "/epcisBody/eventList/5/outputEPCList/0",
          message: `${SGTIN_A_DL} is both input and output of this transformation with business step commissioning; only a repair (bizStep repairing) is recorded as rework, so no edge is recorded for it (ADR 024)`,
        },
      ],
    });
    const lots = { type: "TransformationEvent", inputQuantityList: [{ epcClass: LOT, quantity: 2 }], outputQuantityList: [{ epcClass: LOT, quantity: 1 }] };
    expect(checkSelfRelations(lots, 0).warnings).toEqual([
      expect.objectContaining({ path: "/epcisBody/eventList/0/outputQuantityList/0/epcClass", message: expect.stringContaining("with no business step") }),
    ]);
    expect(checkSelfRelations({ ...event, bizStep: "repairing" }, 5)).toEqual({ errors: [], warnings: [] });
  });

  it("knows the repair step in every CBV spelling, and no other vocabulary's", () => {
    expect([...REWORK_BIZ_STEPS]).toEqual(["repairing"]);
    for (const s of ["repairing", "https://ref.gs1.org/cbv/BizStep-repairing", "cbv:BizStep-repairing"]) expect(isReworkStep(s)).toBe(true);
    for (const s of ["commissioning", "https://example.com/bizstep/repairing", "Repairing", undefined, 7]) expect(isReworkStep(s)).toBe(false);
    expect(cbvBizStep("https://ref.gs1.org/cbv/BizStep-packing")).toBe("packing");
  });

  it("plans an item transformed into itself as rework only after a repair; otherwise only its real flows", () => {
    const event = { type: "TransformationEvent", eventTime: "2026-01-01T00:00:00Z", inputEPCList: [SGTIN_A, SGTIN_B], outputEPCList: [SGTIN_A] };
    // Items: 0 = A, 1 = B. Without a repair: B → A only. With one: A → A rework and B → A.
    expect(planEvent({ ...event, bizStep: "assembling" }).edges.map((e) => [e.kind, e.input, e.output])).toEqual([["consume", 1, 0]]);
    expect(planEvent({ ...event, bizStep: "repairing" }).edges.map((e) => [e.kind, e.input, e.output])).toEqual([
      ["rework", 0, 0],
      ["consume", 1, 0],
    ]);
  });
});

describe("cycles through fresh edges (ADR 024)", () => {
  const edge = (id: number, input: number, output: number, fresh = true) => ({ id, input, output, fresh });

  it("finds none in a DAG, with diamonds, loops and a held cycle no fresh edge is on", () => {
    // 1 → 2 → 4, 1 → 3 → 4 (a diamond), 4 → 4 (a loop, no flow), held 7 → 8 → 7 (an old cycle).
    const dag = [edge(1, 1, 2), edge(2, 2, 4), edge(3, 1, 3), edge(4, 3, 4), edge(5, 4, 4), edge(6, 7, 8, false), edge(7, 8, 7, false)];
    expect(cyclesThroughFresh(dag)).toEqual([]);
  });

  it("names one cycle per strongly connected part, from its first fresh edge along the shortest way back", () => {
    // Part one: 1 → 2 → 3 → 1 and a longer way back 2 → 5 → 6 → 1. Part two: 10 ⇄ 11 (held 11 → 10).
    const edges = [
      edge(4, 3, 1),
      edge(1, 1, 2),
      edge(2, 2, 3),
      edge(3, 2, 5),
      edge(5, 5, 6),
      edge(6, 6, 1),
      edge(9, 11, 10, false),
      edge(8, 10, 11),
      edge(12, 20, 1), // into the cycle, not on it
    ];
    expect(cyclesThroughFresh(edges)).toEqual([
      [1, 2, 4],
      [8, 9],
    ]);
    expect(cyclesThroughFresh(edges, 1)).toEqual([[1, 2, 4]]);
  });

  it("walks a chain of 30,000 items closed into one cycle without running out of stack", () => {
    const n = 30_000;
    const chain = Array.from({ length: n }, (_, i) => edge(i + 1, i, (i + 1) % n, i === n - 1));
    const [cycle] = cyclesThroughFresh(chain);
    expect(cycle).toHaveLength(n);
    expect(cycle![0]).toBe(n);
    expect(cycle![1]).toBe(1);
  });
});
