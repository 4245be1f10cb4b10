import { describe, expect, it } from "vitest";
import { classifyElements, parseGs1 } from "./index";

function classify(input: string) {
  const result = parseGs1(input);
  if (result.status !== "valid") throw new Error(`${input}: expected valid, got ${result.status}: ${JSON.stringify(result)}`);
  return result.reading.classification;
}

describe("classification of valid readings", () => {
  it.each([
    // instance level
    ["(01)09506000134352(21)SER1", "instance", ["01", "21"]],
    ["(01)09506000134352(17)261231(10)L1(21)SER1", "instance", ["01", "21"]],
    ["(03)09506000134352(21)SER1", "instance", ["03", "21"]],
    ["(8006)095060001343520102(21)S1", "instance", ["8006", "21"]],
    ["(8004)0614141ABC123", "instance", ["8004"]],
    ["(7023)0614141ASSY1", "instance", ["7023"]],
    ["(8018)123456789012345675", "instance", ["8018"]],
    ["(8017)123456789012345675(8019)12", "instance", ["8017"]],
    ["(8003)00614141000012ABC", "instance", ["8003"]],
    ["(253)0614141000005XYZ", "instance", ["253"]],
    ["(255)0614141000005123", "instance", ["255"]],
    ["(8010)0614141ABC(8011)123", "instance", ["8010", "8011"]],
    ["https://id.gs1.org/01/09506000134352/21/SER1", "instance", ["01", "21"]],
    // class level
    ["(01)09506000134352(10)ABC123", "class", ["01", "10"]],
    ["(01)09506000134352(17)261231(10)ABC123", "class", ["01", "10"]],
    ["(01)09506000134352", "class", ["01"]],
    ["(01)09506000134352(17)261231", "class", ["01"]],
    ["(8006)095060001343520102(10)L1", "class", ["8006", "10"]],
    ["(8003)00614141000012", "class", ["8003"]],
    ["(253)0614141000005", "class", ["253"]],
    ["(255)0614141000005", "class", ["255"]],
    ["(8010)0614141ABC", "class", ["8010"]],
    ["(8013)1987654Ad4X4bL5ttr2310c2K", "class", ["8013"]],
    ["]E09506000134352", "class", ["01"]],
    // container
    ["(00)106141412345678908", "container", ["00"]],
    ["]C100106141412345678908", "container", ["00"]],
    ["https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123", "container", ["00"]],
    // unknown
    ["(414)0614141000005", "unknown", []],
    ["(402)06141411234567890", "unknown", []],
    ["(400)PO-4711", "unknown", []],
  ] as const)("%s → %s", (input, kind, keys) => {
    const classification = classify(input);
    expect(classification.kind).toBe(kind);
    expect(classification.keys).toEqual(keys);
    expect(classification.reason.length).toBeGreaterThan(0);
  });

  it("explains itself", () => {
    expect(classify("(01)09506000134352(21)SER1").reason).toBe("(01) with serial number (21) identifies one item");
    expect(classify("(01)09506000134352(10)L1").reason).toBe("(01) with batch/lot (10) identifies a lot");
    expect(classify("(01)09506000134352").reason).toBe("(01) without serial or lot identifies a product");
    expect(classify("(00)106141412345678908").reason).toBe("SSCC (00) identifies a logistic unit");
    expect(classify("(414)0614141000005").reason).toBe("(414) names no serial, lot or container key");
  });

  it("an SSCC label naming its content's lot is a container that also carries a class key", () => {
    const classification = classify("(00)106141412345678908(02)00614141123452(37)25(10)LOT1");
    expect(classification).toEqual({
      kind: "container",
      keys: ["00"],
      reason: "SSCC (00) identifies a logistic unit",
      alsoIdentifies: ["class"],
    });
  });

  it("a serialised item's lot does not make it a lot", () => {
    expect(classify("(01)09506000134352(10)L1(21)S1")).toMatchObject({ kind: "instance", alsoIdentifies: ["class"] });
  });
});

describe("classifyElements on raw element lists", () => {
  it("works without validation (e.g. for a format's AI list)", () => {
    expect(
      classifyElements([
        { ai: "01", value: "" },
        { ai: "21", value: "" },
      ]).kind,
    ).toBe("instance");
    expect(
      classifyElements([
        { ai: "01", value: "" },
        { ai: "10", value: "" },
      ]).kind,
    ).toBe("class");
    expect(classifyElements([{ ai: "00", value: "" }]).kind).toBe("container");
    expect(classifyElements([])).toEqual({ kind: "unknown", keys: [], reason: "no elements", alsoIdentifies: [] });
  });
});

describe("ambiguous scans carry one classification per reading", () => {
  it("the issue's LOT121SER1: a lot in one reading, a serial in the other", () => {
    const result = parseGs1("]d2010950600013435210LOT121SER1");
    expect(result.status).toBe("ambiguous");
    if (result.status !== "ambiguous") return;
    expect(result.readings.map((r) => [r.classification.kind, r.classification.keys])).toEqual([
      ["class", ["01", "10"]],
      ["instance", ["01", "21"]],
    ]);
  });
});
