import { describe, expect, it } from "vitest";
import { describeErrors, ERROR_LIST_CAP, SnapshotChecker } from "./external-snapshot";

const context = {
  sites: new Map([
    ["EIN", 1],
    ["CLT", 2],
  ]),
  materials: new Map([
    ["ASM-1003", 10],
    ["RES-1004", 11],
  ]),
};

describe("ERP snapshot rows", () => {
  it("reads serial / batch / untracked in any case, site optional, part numbers upper-cased", () => {
    const c = new SnapshotChecker("erp", context);
    expect(c.header(["Part_Number", " tracking ", "site"])).toBe(true);
    expect(c.row([" asm-1003 ", "BATCH", "ein"], 2)).toEqual({
      line: 2,
      partNumber: "ASM-1003",
      site: "EIN",
      trackingFlag: "tracking=batch",
      trackingMode: "lot",
      materialId: 10,
      siteId: 1,
    });
    expect(c.row(["RES-1004", "untracked", ""], 3)).toMatchObject({ site: null, siteId: null, trackingMode: "none" });
    expect(c.row(["ASM-1003", "Serial", "CLT"], 4)).toMatchObject({ trackingMode: "serial", siteId: 2 });
    expect(c.ok).toBe(true);
  });

  it("accepts a file without the site column, columns in any order", () => {
    const c = new SnapshotChecker("erp", context);
    expect(c.header(["tracking", "part_number"])).toBe(true);
    expect(c.row(["batch", "ASM-1003"], 2)).toMatchObject({ partNumber: "ASM-1003", site: null, trackingMode: "lot" });
  });

  it("lists unknown part numbers without refusing them", () => {
    const c = new SnapshotChecker("erp", context);
    c.header(["part_number", "tracking", "site"]);
    expect(c.row(["MCH-1099", "batch", "EIN"], 2)).toMatchObject({ materialId: null });
    expect(c.ok).toBe(true);
    expect(c.summary).toMatchObject({ unknownCount: 1, unknown: [{ line: 2, partNumber: "MCH-1099", site: "EIN" }] });
  });

  it("locates every error of a row by line and field", () => {
    const c = new SnapshotChecker("erp", context);
    c.header(["part_number", "tracking", "site"]);
    expect(c.row(["", "sometimes", "XYZ"], 7)).toBeNull();
    expect(c.summary.errors).toEqual([
      { line: 7, field: "part_number", message: "The part number is empty" },
      { line: 7, field: "tracking", message: "Tracking: one of serial, batch, untracked" },
      { line: 7, field: "site", message: 'Unknown site "XYZ" (C-981 sites: CLT, EIN)' },
    ]);
    expect(c.row(["ASM 1003", "serial", ""], 8)).toBeNull();
    expect(c.summary.errors.at(-1)).toMatchObject({ line: 8, field: "part_number" });
    expect(c.row(["ASM-1003", "serial"], 9)).toBeNull();
    expect(c.summary.errors.at(-1)).toMatchObject({ line: 9, field: "row", message: "2 fields where the header has 3" });
  });

  it("refuses a part number listed twice at one site, naming the first line", () => {
    const c = new SnapshotChecker("erp", context);
    c.header(["part_number", "tracking", "site"]);
    c.row(["ASM-1003", "batch", "EIN"], 2);
    c.row(["ASM-1003", "batch", "CLT"], 3); // another site: fine
    expect(c.row(["asm-1003", "serial", "ein"], 4)).toBeNull();
    expect(c.summary.errors).toEqual([{ line: 4, field: "part_number", message: "ASM-1003 at EIN appears twice: first on line 2" }]);
  });

  it("refuses unknown, repeated and missing columns in the header", () => {
    const c = new SnapshotChecker("erp", context);
    expect(c.header(["part_number", "part_number", "trakcing"])).toBe(false);
    expect(c.summary.errors.map((e) => [e.line, e.field])).toEqual([
      [1, "part_number"],
      [1, "trakcing"],
      [1, "tracking"],
    ]);
  });

  it("refuses an empty file and a header without rows", () => {
    const empty = new SnapshotChecker("plm", context);
    empty.end(0);
    expect(empty.summary.errors).toEqual([{ line: 1, field: "header", message: expect.stringMatching(/empty/) }]);
    const headerOnly = new SnapshotChecker("plm", context);
    headerOnly.header(["part_number", "serialization"]);
    headerOnly.end(1);
    expect(headerOnly.summary.errors).toEqual([{ line: 2, field: "file", message: expect.stringMatching(/No rows/) }]);
  });

  it("counts every error but keeps only the first ones", () => {
    const c = new SnapshotChecker("plm", context);
    c.header(["part_number", "serialization"]);
    for (let i = 0; i < ERROR_LIST_CAP + 50; i++) c.row([`P-${i}`, "perhaps"], i + 2);
    expect(c.summary.errorCount).toBe(ERROR_LIST_CAP + 50);
    expect(c.summary.errors).toHaveLength(ERROR_LIST_CAP);
    expect(describeErrors(c.summary)).toMatch(/… and 50 more error\(s\)$/);
  });
});

describe("PLM snapshot rows", () => {
  it("reads serialized / lot / none as global records", () => {
    const c = new SnapshotChecker("plm", context);
    expect(c.header(["part_number", "serialization"])).toBe(true);
    expect(c.row(["ASM-1003", "SERIALIZED"], 2)).toEqual({
      line: 2,
      partNumber: "ASM-1003",
      site: null,
      trackingFlag: "serialization=serialized",
      trackingMode: "serial",
      materialId: 10,
      siteId: null,
    });
    expect(c.row(["RES-1004", "none"], 3)).toMatchObject({ trackingMode: "none" });
    expect(c.row(["RES-1004", "lot"], 4)).toBeNull();
    expect(c.summary.errors).toEqual([{ line: 4, field: "part_number", message: "RES-1004 appears twice: first on line 3" }]);
  });

  it("has no site column", () => {
    const c = new SnapshotChecker("plm", context);
    expect(c.header(["part_number", "serialization", "site"])).toBe(false);
    expect(c.summary.errors[0]).toMatchObject({ line: 1, field: "site" });
  });
});
