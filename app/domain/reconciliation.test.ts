import { describe, expect, it } from "vitest";
import {
  citationProblems,
  DEFAULT_SYSTEM_OF_RECORD,
  describeDisagreement,
  disagreementsAt,
  reconcile,
  unresolvedCitations,
  type ReconciliationInput,
} from "./reconciliation";

function input(over: Partial<ReconciliationInput> = {}): ReconciliationInput {
  return {
    sites: ["EIN", "CLT"],
    materials: new Set(["ASM-1", "RES-1", "SUB-1", "EPC-1"]),
    rules: [
      { partNumber: "ASM-1", site: "EIN", trackingMode: "lot" },
      { partNumber: "ASM-1", site: "CLT", trackingMode: "lot" },
      { partNumber: "RES-1", site: "EIN", trackingMode: "lot" },
      { partNumber: "SUB-1", site: "EIN", trackingMode: "serial" },
      { partNumber: "EPC-1", site: "EIN", trackingMode: "serial" },
    ],
    external: [
      { system: "erp", partNumber: "ASM-1", site: "EIN", trackingFlag: "XCHPF=X", trackingMode: "lot" },
      { system: "erp", partNumber: "ASM-1", site: "CLT", trackingFlag: "XCHPF=X", trackingMode: "lot" },
      { system: "plm", partNumber: "ASM-1", site: null, trackingFlag: "SERIALIZED", trackingMode: "serial" },
      { system: "erp", partNumber: "RES-1", site: null, trackingFlag: "untracked", trackingMode: "none" },
      { system: "plm", partNumber: "RES-1", site: null, trackingFlag: "LOT", trackingMode: "lot" },
      { system: "erp", partNumber: "SUB-1", site: "EIN", trackingFlag: "SERNP", trackingMode: "serial" },
      { system: "plm", partNumber: "SUB-1", site: null, trackingFlag: "SERIALIZED", trackingMode: "serial" },
      { system: "erp", partNumber: "MCH-9", site: "EIN", trackingFlag: "XCHPF=X", trackingMode: "lot" },
      { system: "plm", partNumber: "NEW-9", site: null, trackingFlag: "LOT", trackingMode: "lot" },
    ],
    systemOfRecord: DEFAULT_SYSTEM_OF_RECORD,
    changeRequests: [],
    ...over,
  };
}

describe("reconcile", () => {
  it("lists only disagreeing material/site pairs, global records applied at every site with a rule", () => {
    const report = reconcile(input());
    expect(report.rows.map((r) => r.key)).toEqual(["ASM-1@CLT", "ASM-1@EIN", "MCH-9@EIN", "NEW-9@*", "RES-1@EIN"]);
    // SUB-1 agrees everywhere; EPC-1 has no external record at all: neither is listed, EPC-1 not even compared.
    expect(report.compared).toBe(6);
  });

  it("takes serial questions to PLM and lot questions to ERP by default", () => {
    const rows = new Map(reconcile(input()).rows.map((r) => [r.key, r]));
    expect(rows.get("ASM-1@EIN")).toMatchObject({
      c981: "lot",
      erp: { mode: "lot" },
      plm: { mode: "serial" },
      identifierType: "serial",
      systemOfRecord: "plm",
      expected: "serial",
      resolution: { kind: "change_c981", to: "serial" },
    });
    // RES-1: lot vs none, ERP decides (none) — C-981 (lot) must change; PLM agrees with C-981 but not with ERP.
    expect(rows.get("RES-1@EIN")).toMatchObject({
      identifierType: "lot",
      systemOfRecord: "erp",
      expected: "none",
      resolution: { kind: "change_c981", to: "none" },
    });
    expect(rows.get("MCH-9@EIN")).toMatchObject({ knownToC981: false, resolution: { kind: "create_material", to: "lot" } });
    expect(rows.get("NEW-9@*")).toMatchObject({ site: null, knownToC981: false });
  });

  it("follows a configured system of record: C-981 for serials asks the others to correct", () => {
    const rows = new Map(reconcile(input({ systemOfRecord: { serial: "c981", lot: "plm" } })).rows.map((r) => [r.key, r]));
    expect(rows.get("ASM-1@EIN")!.resolution).toEqual({ kind: "correct_external", systems: ["plm"], to: "lot" });
    expect(rows.get("RES-1@EIN")!.resolution).toEqual({ kind: "correct_external", systems: ["erp"], to: "lot" });
  });

  it("asks for a decision when the system of record holds no record", () => {
    const report = reconcile(input({ external: [{ system: "erp", partNumber: "ASM-1", site: "EIN", trackingFlag: "SERNP", trackingMode: "serial" }] }));
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]!.resolution).toEqual({ kind: "decide", why: "PLM, the system of record for serial numbers, has no record" });
  });

  it("names the open change requests that touch or cite a disagreement", () => {
    const report = reconcile(
      input({
        changeRequests: [
          { number: "CR-0001", title: "a", status: "draft", tracking: [{ partNumber: "ASM-1", site: "EIN" }], creates: [], cites: [] },
          { number: "CR-0002", title: "b", status: "approved", tracking: [], creates: ["MCH-9"], cites: ["MCH-9@EIN"] },
        ],
      }),
    );
    const rows = new Map(report.rows.map((r) => [r.key, r]));
    expect(rows.get("ASM-1@EIN")!.changeRequests).toEqual([{ number: "CR-0001", title: "a", status: "draft", cites: false }]);
    expect(rows.get("ASM-1@CLT")!.changeRequests).toEqual([]);
    expect(rows.get("MCH-9@EIN")!.changeRequests).toEqual([{ number: "CR-0002", title: "b", status: "approved", cites: true }]);
  });

  it("gives the disagreements a release at a site would leave", () => {
    const report = reconcile(
      input({
        rules: [...input().rules.filter((r) => !(r.partNumber === "ASM-1" && r.site === "EIN")), { partNumber: "ASM-1", site: "EIN", trackingMode: "serial" }],
      }),
    );
    expect(disagreementsAt(report, "EIN").map(describeDisagreement)).toEqual([
      "ASM-1@EIN (C-981 serial, ERP lot, PLM serial)",
      "MCH-9@EIN (C-981 — unknown, ERP lot, PLM —)",
      "RES-1@EIN (C-981 lot, ERP none, PLM lot)",
    ]);
  });
});

describe("citationProblems", () => {
  const current = new Set(["ASM-1@EIN", "MCH-9@EIN", "NEW-9@*"]);
  it("accepts a disagreement the request changes or whose material it creates", () => {
    expect(
      citationProblems(["ASM-1@EIN", "MCH-9@EIN", "NEW-9@*"], { tracking: [{ partNumber: "ASM-1", site: "EIN" }], creates: ["MCH-9", "NEW-9"] }, current),
    ).toEqual([]);
  });
  it("refuses malformed, unknown and untouched citations, each named", () => {
    expect(citationProblems(["ASM-1", "ASM-1@CLT", "MCH-9@EIN"], { tracking: [{ partNumber: "ASM-1", site: "EIN" }], creates: [] }, current)).toEqual([
      "ASM-1: not a disagreement key (PART@SITE, e.g. ASM-1003@EIN)",
      "ASM-1@CLT: no such disagreement in the reconciliation report (resolved meanwhile, or mistyped)",
      "MCH-9@EIN: this change request does not change MCH-9 at EIN",
    ]);
  });
});

describe("unresolvedCitations", () => {
  /** The reconciliation with ASM-1 and RES-1 at EIN set to these modes, as a proposal would leave them. */
  const after = (asm: "serial" | "lot" | "none", res: "serial" | "lot" | "none") =>
    reconcile(
      input({
        rules: [
          { partNumber: "ASM-1", site: "EIN", trackingMode: asm },
          { partNumber: "ASM-1", site: "CLT", trackingMode: "lot" },
          { partNumber: "RES-1", site: "EIN", trackingMode: res },
          { partNumber: "SUB-1", site: "EIN", trackingMode: "serial" },
          { partNumber: "EPC-1", site: "EIN", trackingMode: "serial" },
        ],
      }),
    );
  it("accepts a citation when C-981 then says what the system of record says, even if another system still disagrees", () => {
    // ASM-1: PLM (serial numbers' system of record) says serial; ERP's lot remains for ERP to correct.
    // RES-1: ERP (lots' system of record) says none; PLM's lot remains for PLM to correct.
    expect(unresolvedCitations(["ASM-1@EIN", "RES-1@EIN"], after("serial", "none"), [])).toEqual([]);
  });
  it("refuses a citation the proposal leaves C-981 disagreeing with the system of record, saying why", () => {
    expect(unresolvedCitations(["ASM-1@EIN", "RES-1@EIN"], after("none", "lot"), [])).toEqual([
      "ASM-1@EIN: with this change C-981 would say none at EIN, but PLM, the system of record for serial numbers, says serial — it does not resolve this disagreement",
      "RES-1@EIN: with this change C-981 would say lot at EIN, but ERP, the system of record for lots / batches, says none — it does not resolve this disagreement",
    ]);
  });
  it("leaves materials the request creates to citationProblems", () => {
    expect(unresolvedCitations(["NEW-9@*"], after("lot", "lot"), ["NEW-9"])).toEqual([]);
  });
});
