/**
 * Reconciliation of tracking between ERP, PLM and C-981 (ADR 015):
 * pure, no I/O. Given the rules in force per site, the current ERP and PLM records, the system of
 * record per identifier type and the open change requests, it lists every material and site whose
 * systems disagree, which system wins, and what would resolve it.
 */
import type { TrackingMode } from "./tracking-rule";

export const RECORD_SYSTEMS = ["erp", "plm", "c981"] as const;
export type RecordSystem = (typeof RECORD_SYSTEMS)[number];
export const RECORD_SYSTEM_LABELS: Record<RecordSystem, string> = { erp: "ERP", plm: "PLM", c981: "C-981" };

/**
 * The identifier type a disagreement is about: `serial` when any system says serial (is this
 * material serialized at all?), else `lot` (batch or untracked?).
 */
export const IDENTIFIER_TYPES = ["serial", "lot"] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];
export const IDENTIFIER_TYPE_LABELS: Record<IdentifierType, string> = { serial: "Serial numbers", lot: "Lots / batches" };

export type SystemOfRecord = Record<IdentifierType, RecordSystem>;
/** Serial numbers: the design (PLM) decides; lots: the ERP material master decides. */
export const DEFAULT_SYSTEM_OF_RECORD: SystemOfRecord = { serial: "plm", lot: "erp" };

/** `PART@SITE`; `PART@*` for a record that belongs to no site. Cited by change requests. */
export const DISAGREEMENT_KEY = /^[A-Z0-9][A-Z0-9._/-]{0,39}@(\*|[A-Z0-9][A-Z0-9-]{1,15})$/;
export const disagreementKey = (partNumber: string, site: string | null) => `${partNumber}@${site ?? "*"}`;

export interface ExternalRecordInput {
  system: "erp" | "plm";
  partNumber: string;
  /** Null: the record holds at every site (PLM, and ERP records without a plant). */
  site: string | null;
  trackingFlag: string;
  trackingMode: TrackingMode;
}

export interface OpenChangeRequestInput {
  number: string;
  title: string;
  status: string;
  /** Tracking changes: material and site. */
  tracking: readonly { partNumber: string; site: string }[];
  /** Part numbers of the materials it creates. */
  creates: readonly string[];
  /** Disagreement keys it cites (resolvesDisagreements). */
  cites: readonly string[];
}

export interface ReconciliationInput {
  sites: readonly string[];
  /** Part numbers C-981 knows. */
  materials: ReadonlySet<string>;
  /** The rules in force (or to be in force), per material and site. */
  rules: readonly { partNumber: string; site: string; trackingMode: TrackingMode }[];
  external: readonly ExternalRecordInput[];
  systemOfRecord: SystemOfRecord;
  changeRequests: readonly OpenChangeRequestInput[];
}

export type Resolution =
  /** C-981's rule must change (a change request). */
  | { kind: "change_c981"; to: TrackingMode }
  /** C-981 agrees with the system of record: the other system(s) must be corrected there. */
  | { kind: "correct_external"; systems: ("erp" | "plm")[]; to: TrackingMode }
  /** ERP or PLM knows a material C-981 does not: a change request creates it (or the record is removed there). */
  | { kind: "create_material"; to: TrackingMode | null }
  /** The system of record holds no record for it: someone decides. */
  | { kind: "decide"; why: string };

export interface ReconciliationRow {
  key: string;
  partNumber: string;
  site: string | null;
  knownToC981: boolean;
  c981: TrackingMode | null;
  erp: { mode: TrackingMode; flag: string } | null;
  plm: { mode: TrackingMode; flag: string } | null;
  identifierType: IdentifierType;
  systemOfRecord: RecordSystem;
  expected: TrackingMode | null;
  resolution: Resolution;
  changeRequests: { number: string; title: string; status: string; cites: boolean }[];
}

export interface ReconciliationReport {
  systemOfRecord: SystemOfRecord;
  /** Material/site pairs compared (with at least one external record or rule). */
  compared: number;
  rows: ReconciliationRow[];
}

export function reconcile(input: ReconciliationInput): ReconciliationReport {
  const rules = new Map<string, TrackingMode>();
  const ruleSites = new Map<string, Set<string>>();
  for (const r of input.rules) {
    rules.set(disagreementKey(r.partNumber, r.site), r.trackingMode);
    let set = ruleSites.get(r.partNumber);
    if (!set) ruleSites.set(r.partNumber, (set = new Set()));
    set.add(r.site);
  }
  const erpAt = new Map<string, ExternalRecordInput>();
  const erpSites = new Map<string, Set<string>>();
  const erpGlobal = new Map<string, ExternalRecordInput>();
  const plm = new Map<string, ExternalRecordInput>();
  for (const x of input.external) {
    if (x.system === "plm") plm.set(x.partNumber, x);
    else if (x.site === null) erpGlobal.set(x.partNumber, x);
    else {
      erpAt.set(disagreementKey(x.partNumber, x.site), x);
      let set = erpSites.get(x.partNumber);
      if (!set) erpSites.set(x.partNumber, (set = new Set()));
      set.add(x.site);
    }
  }
  const partNumbers = new Set<string>([...ruleSites.keys(), ...erpSites.keys(), ...erpGlobal.keys(), ...plm.keys()]);
  const rows: ReconciliationRow[] = [];
  let compared = 0;
  for (const partNumber of [...partNumbers].sort()) {
    const known = input.materials.has(partNumber);
    const sites = new Set<string>([...(ruleSites.get(partNumber) ?? []), ...(erpSites.get(partNumber) ?? [])]);
    const siteList: (string | null)[] = sites.size ? [...sites].sort() : [null];
    for (const site of siteList) {
      const key = disagreementKey(partNumber, site);
      const erp = (site !== null ? erpAt.get(key) : undefined) ?? erpGlobal.get(partNumber) ?? null;
      const design = plm.get(partNumber) ?? null;
      const c981 = site !== null ? (rules.get(key) ?? null) : null;
      if (!erp && !design) continue; // nothing to compare with
      compared++;
      const stated = [c981, erp?.trackingMode ?? null, design?.trackingMode ?? null].filter((m): m is TrackingMode => m !== null);
      if (known && new Set(stated).size < 2) continue;
      const identifierType: IdentifierType = stated.includes("serial") ? "serial" : "lot";
      const sor = input.systemOfRecord[identifierType];
      const expected = sor === "c981" ? c981 : sor === "erp" ? (erp?.trackingMode ?? null) : (design?.trackingMode ?? null);
      let resolution: Resolution;
      if (!known) resolution = { kind: "create_material", to: sor === "c981" ? (erp?.trackingMode ?? design?.trackingMode ?? null) : expected };
      else if (expected === null)
        resolution = {
          kind: "decide",
          why: `${sor === "c981" ? `C-981 has no rule at ${site ?? "any site"}` : `${sor.toUpperCase()}, the system of record for ${IDENTIFIER_TYPE_LABELS[identifierType].toLowerCase()}, has no record`}`,
        };
      else if (c981 !== expected) resolution = { kind: "change_c981", to: expected };
      else {
        const systems = ([erp && erp.trackingMode !== expected ? "erp" : null, design && design.trackingMode !== expected ? "plm" : null] as const).filter(
          (s): s is "erp" | "plm" => s !== null,
        );
        resolution = { kind: "correct_external", systems, to: expected };
      }
      const changeRequests = input.changeRequests
        .filter(
          (cr) =>
            cr.cites.includes(key) ||
            cr.creates.includes(partNumber) ||
            cr.tracking.some((t) => t.partNumber === partNumber && (site === null || t.site === site)),
        )
        .map((cr) => ({ number: cr.number, title: cr.title, status: cr.status, cites: cr.cites.includes(key) }));
      rows.push({
        key,
        partNumber,
        site,
        knownToC981: known,
        c981,
        erp: erp ? { mode: erp.trackingMode, flag: erp.trackingFlag } : null,
        plm: design ? { mode: design.trackingMode, flag: design.trackingFlag } : null,
        identifierType,
        systemOfRecord: sor,
        expected,
        resolution,
        changeRequests,
      });
    }
  }
  return { systemOfRecord: input.systemOfRecord, compared, rows };
}

/** What the resolution says, in one line (screen and CSV). */
export function describeResolution(row: Pick<ReconciliationRow, "resolution" | "site" | "partNumber">): string {
  const r = row.resolution;
  switch (r.kind) {
    case "change_c981":
      return `Change C-981's rule${row.site ? ` at ${row.site}` : ""} to ${r.to} (change request)`;
    case "correct_external":
      return `Correct ${r.systems.map((s) => s.toUpperCase()).join(" and ")} to ${r.to}: C-981 agrees with the system of record`;
    case "create_material":
      return `Unknown to C-981: create ${row.partNumber}${r.to ? ` (${r.to})` : ""} by a change request, or remove it from ERP/PLM`;
    case "decide":
      return `Decide: ${r.why}`;
  }
}

/**
 * The citations of a change request: each must name a disagreement that exists now and that the
 * request touches (a tracking change of that material at that site, or the creation of the
 * material). Returns the problems (empty: fine).
 */
export function citationProblems(
  cited: readonly string[],
  touches: { tracking: readonly { partNumber: string; site: string }[]; creates: readonly string[] },
  current: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const key of cited) {
    if (!DISAGREEMENT_KEY.test(key)) {
      problems.push(`${key}: not a disagreement key (PART@SITE, e.g. ASM-1003@EIN)`);
      continue;
    }
    const at = key.lastIndexOf("@");
    const partNumber = key.slice(0, at);
    const site = key.slice(at + 1);
    if (!current.has(key)) {
      problems.push(`${key}: no such disagreement in the reconciliation report (resolved meanwhile, or mistyped)`);
      continue;
    }
    const touched = touches.creates.includes(partNumber) || touches.tracking.some((t) => t.partNumber === partNumber && (site === "*" || t.site === site));
    if (!touched) problems.push(`${key}: this change request does not change ${partNumber}${site === "*" ? "" : ` at ${site}`}`);
  }
  return problems;
}

/**
 * A request may cite a disagreement only when its proposal makes C-981 agree with
 * the system of record for it. `after` is the reconciliation with the request's tracking changes
 * applied; a cited key still there with C-981 not saying what the system of record says is not
 * resolved by it (e.g. swapping a PLM disagreement for an ERP one when ERP decides). A key the
 * request creates the material for is left to `citationProblems`. Returns the problems.
 */
export function unresolvedCitations(cited: readonly string[], after: ReconciliationReport, creates: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of cited) {
    const row = after.rows.find((r) => r.key === key);
    if (!row || creates.includes(row.partNumber) || row.c981 === row.expected) continue;
    const system = RECORD_SYSTEM_LABELS[row.systemOfRecord];
    const kind = IDENTIFIER_TYPE_LABELS[row.identifierType].toLowerCase();
    problems.push(
      `${key}: with this change C-981 would say ${row.c981 ?? "nothing"}${row.site ? ` at ${row.site}` : ""}, but ${system}, the system of record for ${kind}, says ${row.expected ?? "nothing"} — it does not resolve this disagreement`,
    );
  }
  return problems;
}

/** The disagreements a release at `site` would leave, as the waiver names them. */
export function disagreementsAt(report: ReconciliationReport, site: string): ReconciliationRow[] {
  return report.rows.filter((r) => r.site === site);
}

export function describeDisagreement(row: ReconciliationRow): string {
  const say = (label: string, v: { mode: TrackingMode } | TrackingMode | null) => `${label} ${v === null ? "—" : typeof v === "string" ? v : v.mode}`;
  return `${row.key} (${[say("C-981", row.knownToC981 ? row.c981 : null) + (row.knownToC981 ? "" : " unknown"), say("ERP", row.erp), say("PLM", row.plm)].join(", ")})`;
}
