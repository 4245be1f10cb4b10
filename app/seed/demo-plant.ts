/**
 * The demo plant, generated deterministically: a seeded random number generator and a fixed
 * calendar, so every run produces the same master data and genealogy (issue and expiry times of
 * rule-set versions still come from the clock). Pure data with local keys; seed.server.ts loads it.
 *
 * It contains the hard cases of the mixed-tracking FAQ on purpose; test/integration/demo-plant.test.ts
 * asserts each one. The `hardCases` export names them so tests and screens can find them.
 */
import type { IdentifierFormat } from "../../packages/identifiers/src/identifier-format";
import type { RiskClass } from "../domain/material";
import type { ConsumptionScan, TrackingMode } from "../domain/tracking-rule";

export const DEMO_SEED = 981;
/** Genealogy starts here, before the first rule-set version: that part is legacy data. */
export const DEMO_START = new Date("2024-06-01T00:00:00.000Z");
export const DEMO_END = new Date("2026-10-31T00:00:00.000Z");
/** Effective dates of versions 1 and 2, back-dated through the audited seed mode. */
export const DEMO_VERSION_DATES = [new Date("2025-01-01T00:00:00.000Z"), new Date("2025-09-01T00:00:00.000Z")] as const;
export const DEMO_ACTOR = "system:demo-seed";

export type Rng = () => number;

/** mulberry32: small, fast, and the same sequence on every platform. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

export function gs1CheckDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[digits.length - 1 - i]);
    sum += i % 2 === 0 ? d * 3 : d;
  }
  return String((10 - (sum % 10)) % 10);
}

// ---------------------------------------------------------------------------------------------

export interface DemoSite {
  code: string;
  name: string;
  timeZone: string;
  erpPlant: string;
}

export const demoSites: DemoSite[] = [
  { code: "EIN", name: "Eindhoven — device assembly", timeZone: "Europe/Amsterdam", erpPlant: "1000" },
  { code: "CLT", name: "Charlotte — subassemblies and machining", timeZone: "America/New_York", erpPlant: "2000" },
  { code: "PEN", name: "Penang — moulding and packaging", timeZone: "Asia/Kuala_Lumpur", erpPlant: "3000" },
];

export type FamilyCode = "FIN" | "SUB" | "ASM" | "MCH" | "RAW" | "RES" | "CON" | "PKG" | "EPC";

export const demoFamilies: { code: FamilyCode; name: string }[] = [
  { code: "FIN", name: "Finished devices" },
  { code: "SUB", name: "Serialized subassemblies" },
  { code: "ASM", name: "Lot-built assemblies" },
  { code: "MCH", name: "Machined parts" },
  { code: "RAW", name: "Raw materials" },
  { code: "RES", name: "Resins and compounds" },
  { code: "CON", name: "Consumables" },
  { code: "PKG", name: "Packaging" },
  { code: "EPC", name: "Trading items exchanged by EPCIS" },
];

export interface DemoMaterial {
  partNumber: string;
  gtin: string | null;
  description: string;
  unitOfMeasure: string;
  riskClass: RiskClass;
  regulatoryFlags: string[];
  family: FamilyCode;
}

export interface DemoFormat {
  code: string;
  name: string;
  identifies: "serial" | "lot" | "container";
  site: string | null;
  definition: IdentifierFormat;
}

export interface DemoRule {
  partNumber: string;
  site: string;
  trackingMode: TrackingMode;
  containerTracking: boolean;
  consumptionScan: ConsumptionScan;
  identifierFormatCodes: string[];
}

export interface DemoBomLine {
  site: string;
  parent: string;
  component: string;
  lineNo: number;
  quantity: string;
  unit: string;
  alternates: string[];
}

export interface DemoWorkOrder {
  number: string;
  site: string;
  partNumber: string;
  quantity: string;
  unit: string;
  status: "open" | "closed";
  openedAt: Date;
  closedAt: Date | null;
}

export interface DemoTraceItem {
  kind: "serial" | "lot" | "container";
  identifier: string;
  partNumber: string;
  site: string;
  quantity: string;
  unit: string;
  status: "wip" | "stock" | "consumed" | "shipped" | "scrapped";
  createdAt: Date;
}

export interface DemoEdge {
  eventRef: string;
  kind: "consume" | "split" | "merge" | "repack" | "rework" | "scrap" | "aggregate";
  input: number;
  output: number;
  quantity: string;
  unit: string;
  site: string;
  occurredAt: Date;
  workOrder: string | null;
}

export interface DemoRouting {
  site: string;
  partNumber: string;
  step: number;
  workCentre: string;
  description: string;
  consumes: { partNumber: string; consumptionScan: ConsumptionScan }[];
}

export interface DemoLabelTemplate {
  site: string;
  code: string;
  name: string;
  workCentre: string | null;
  formats: string[];
}

export interface DemoExternalRecord {
  system: "erp" | "plm";
  externalKey: string;
  partNumber: string | null;
  site: string | null;
  trackingFlag: string;
  trackingMode: TrackingMode;
  payload: Record<string, unknown>;
}

export interface DemoUser {
  username: string;
  displayName: string;
  role: "viewer" | "engineer" | "quality_reviewer" | "regulatory_reviewer" | "release_manager" | "admin";
}

export interface DemoPlant {
  sites: DemoSite[];
  families: { code: FamilyCode; name: string }[];
  materials: DemoMaterial[];
  formats: DemoFormat[];
  /** Rules per version: index 0 is version 1. Each entry lists the changes that version makes. */
  versions: { effectiveFrom: Date; reason: string; rules: DemoRule[] }[];
  bomLines: DemoBomLine[];
  routings: DemoRouting[];
  labelTemplates: DemoLabelTemplate[];
  workOrders: DemoWorkOrder[];
  traceItems: DemoTraceItem[];
  edges: DemoEdge[];
  externalRecords: DemoExternalRecord[];
  users: DemoUser[];
  hardCases: DemoHardCases;
}

/** Where each FAQ hard case lives in the demo plant. */
export interface DemoHardCases {
  serialConsumedIntoLotAssembly: { site: string; subassembly: string; assembly: string };
  coarserAlternate: { site: string; parent: string; primary: string; alternate: string };
  overlappingFormats: { site: string; formats: [string, string]; labelTemplate: string };
  upgradedLotToSerial: { site: string; partNumber: string; fromVersion: number };
  epcisGtins: string[];
  lotSplit: { site: string; source: string; children: string[] };
  lotMerge: { site: string; sources: string[]; merged: string };
  repack: { site: string; bulkLot: string; containers: string[] };
  reworkedSerial: { site: string; partNumber: string; serial: string };
  partlyScrappedLot: { site: string; lot: string; scrapped: string };
  erpPlmDisagreements: { system: "erp" | "plm"; externalKey: string; site: string | null }[];
}

/** The GTINs that appear in the public EPCIS 2.0 example documents (SGTIN, LGTIN, Digital Link). */
export const EPCIS_GTINS: { gtin: string; level: "serial" | "lot"; description: string }[] = [
  { gtin: "00614141777778", level: "lot", description: "EPCIS example item, batch-level (DL /10/)" },
  { gtin: "04000001654321", level: "serial", description: "EPCIS example item 4000001.065432" },
  { gtin: "04012345111118", level: "serial", description: "EPCIS example item 4012345.011111" },
  { gtin: "04012345111224", level: "serial", description: "EPCIS example item 4012345.011122" },
  { gtin: "04012345123456", level: "lot", description: "EPCIS example item, batch-level (DL /10/)" },
  { gtin: "04012345222227", level: "lot", description: "EPCIS example item 4012345.022222" },
  { gtin: "04012345333336", level: "serial", description: "EPCIS example item 4012345.033333" },
  { gtin: "04012345444445", level: "serial", description: "EPCIS example item pattern 4012345.044444" },
  { gtin: "04012345666663", level: "lot", description: "EPCIS example class-level item (DL, GTIN only)" },
  { gtin: "04012345778892", level: "serial", description: "EPCIS example item 4012345.077889" },
  { gtin: "04012345987652", level: "lot", description: "EPCIS example class-level item (DL, GTIN only)" },
  { gtin: "04012345999990", level: "lot", description: "EPCIS example class-level item" },
  { gtin: "04023333020008", level: "lot", description: "EPCIS example lot item 4023333.002000" },
  { gtin: "04023333555555", level: "lot", description: "EPCIS example class-level item" },
  { gtin: "09520001123467", level: "serial", description: "EPCIS example item 9520001.012346" },
  { gtin: "09521141012345", level: "serial", description: "EPCIS example item (DL /21/)" },
  { gtin: "10614141073402", level: "serial", description: "EPCIS example item 0614141.107340" },
  { gtin: "10614141073464", level: "serial", description: "EPCIS example item 0614141.107346" },
  { gtin: "70614141123451", level: "serial", description: "EPCIS example item (DL /21/ and /10/)" },
];

const FAMILY_PLAN: Record<Exclude<FamilyCode, "EPC">, { count: number; uom: string; nouns: string[]; risk: DemoMaterial["riskClass"][]; gtin: boolean }> = {
  FIN: { count: 12, uom: "EA", nouns: ["Infusion pump", "Patient monitor", "Ventilator module", "Dialysis controller"], risk: ["high"], gtin: true },
  SUB: { count: 20, uom: "EA", nouns: ["Pump drive", "Sensor board", "Valve block", "Power supply", "Display unit"], risk: ["high", "medium"], gtin: false },
  ASM: { count: 12, uom: "EA", nouns: ["Tubing set", "Cable harness", "Front panel", "Chassis kit"], risk: ["medium"], gtin: false },
  MCH: { count: 30, uom: "EA", nouns: ["Shaft", "Bracket", "Housing", "Manifold", "Bushing", "Flange"], risk: ["medium", "low"], gtin: false },
  RAW: {
    count: 20,
    uom: "KG",
    nouns: ["Aluminium bar 6061", "Stainless rod 316L", "Copper wire", "Titanium sheet", "Brass stock"],
    risk: ["low", "medium"],
    gtin: true,
  },
  RES: { count: 10, uom: "KG", nouns: ["Polycarbonate resin", "PEEK compound", "Silicone LSR", "ABS pellets"], risk: ["medium"], gtin: false },
  CON: { count: 20, uom: "EA", nouns: ["Nitrile gloves", "Cleaning wipe", "Cable tie", "Thread locker", "Solder paste"], risk: ["low"], gtin: false },
  PKG: { count: 10, uom: "EA", nouns: ["Shipping carton", "Tyvek pouch", "Foam insert", "IFU leaflet"], risk: ["low"], gtin: false },
};

function materialsFor(rng: Rng): DemoMaterial[] {
  const out: DemoMaterial[] = [];
  let gtinSerial = 0;
  for (const [family, plan] of Object.entries(FAMILY_PLAN) as [Exclude<FamilyCode, "EPC">, (typeof FAMILY_PLAN)["FIN"]][]) {
    for (let i = 1; i <= plan.count; i++) {
      const partNumber = `${family}-${1000 + i}`;
      const noun = plan.nouns[(i - 1) % plan.nouns.length]!;
      let gtin: string | null = null;
      if (plan.gtin) {
        gtinSerial += 1;
        // Company prefix 0871234 (fictional), item reference, GTIN-13 padded to 14 digits.
        const body = `0871234${String(gtinSerial).padStart(5, "0")}`;
        gtin = `0${body}${gs1CheckDigit(body)}`;
      }
      const flags: string[] = [];
      if (family === "FIN") flags.push("udi");
      if ((family === "FIN" && i % 3 === 0) || (family === "SUB" && i % 4 === 0)) flags.push("critical_to_safety");
      out.push({
        partNumber,
        gtin,
        description: `${noun} ${String.fromCharCode(65 + ((i - 1) % 26))}${int(rng, 10, 99)}`,
        unitOfMeasure: plan.uom,
        riskClass: pick(rng, plan.risk),
        regulatoryFlags: flags,
        family,
      });
    }
  }
  EPCIS_GTINS.forEach((e, i) => {
    out.push({
      partNumber: `EPC-${1001 + i}`,
      gtin: e.gtin,
      description: e.description,
      unitOfMeasure: "EA",
      riskClass: "medium",
      regulatoryFlags: [],
      family: "EPC",
    });
  });
  return out;
}

function formatsFor(): DemoFormat[] {
  const formats: DemoFormat[] = [
    { code: "GS1-SGTIN", name: "GS1 GTIN + serial", identifies: "serial", site: null, definition: { kind: "gs1", ais: ["01", "21"] } },
    { code: "GS1-LGTIN", name: "GS1 GTIN + batch/lot", identifies: "lot", site: null, definition: { kind: "gs1", ais: ["01", "10"] } },
    { code: "GS1-SSCC", name: "GS1 SSCC", identifies: "container", site: null, definition: { kind: "gs1", ais: ["00"] } },
  ];
  for (const site of demoSites) {
    const s = site.code;
    if (s === "EIN") {
      // Hard case: at EIN the serial, lot and container formats truly overlap — "S00000000" is a
      // valid serial and a valid lot; "C00000000" a valid container and a valid lot.
      formats.push(
        {
          code: "EIN-SER",
          name: "EIN serial: S + 8 digits",
          identifies: "serial",
          site: s,
          definition: { kind: "pattern", segments: [{ literal: "S" }, { class: "digit", min: 8, max: 8 }] },
        },
        {
          code: "EIN-LOT",
          name: "EIN lot: 9 upper-case letters or digits",
          identifies: "lot",
          site: s,
          definition: { kind: "pattern", segments: [{ class: "upperAlnum", min: 9, max: 9 }] },
        },
        {
          code: "EIN-CTR",
          name: "EIN tote: C + 8 digits",
          identifies: "container",
          site: s,
          definition: { kind: "pattern", segments: [{ literal: "C" }, { class: "digit", min: 8, max: 8 }] },
        },
      );
    } else {
      formats.push(
        {
          code: `${s}-SER`,
          name: `${s} serial`,
          identifies: "serial",
          site: s,
          definition: { kind: "pattern", segments: [{ literal: `${s}S-` }, { class: "digit", min: 7, max: 7 }] },
        },
        {
          code: `${s}-LOT`,
          name: `${s} lot`,
          identifies: "lot",
          site: s,
          definition: {
            kind: "pattern",
            segments: [{ literal: `${s}L-` }, { class: "digit", min: 2, max: 2 }, { class: "upper", min: 1, max: 1 }, { class: "digit", min: 4, max: 5 }],
          },
        },
        {
          code: `${s}-CTR`,
          name: `${s} tote`,
          identifies: "container",
          site: s,
          definition: { kind: "pattern", segments: [{ literal: `${s}T-` }, { class: "digit", min: 6, max: 6 }] },
        },
      );
    }
  }
  return formats;
}

function ruleFor(m: DemoMaterial, site: string): Omit<DemoRule, "partNumber" | "site"> {
  const ser = `${site}-SER`;
  const lot = `${site}-LOT`;
  const ctr = `${site}-CTR`;
  switch (m.family) {
    case "FIN":
      return { trackingMode: "serial", containerTracking: true, consumptionScan: "identify", identifierFormatCodes: ["GS1-SGTIN", "GS1-SSCC"] };
    case "SUB":
      return { trackingMode: "serial", containerTracking: false, consumptionScan: "identify", identifierFormatCodes: [ser] };
    case "ASM":
      return { trackingMode: "lot", containerTracking: false, consumptionScan: "identify", identifierFormatCodes: [lot] };
    case "MCH":
      return { trackingMode: "lot", containerTracking: false, consumptionScan: "verify", identifierFormatCodes: [lot] };
    case "RAW":
      return { trackingMode: "lot", containerTracking: true, consumptionScan: "identify", identifierFormatCodes: ["GS1-LGTIN", "GS1-SSCC"] };
    case "RES":
      return { trackingMode: "lot", containerTracking: true, consumptionScan: "identify", identifierFormatCodes: [lot, ctr] };
    case "CON":
      return { trackingMode: "none", containerTracking: false, consumptionScan: "none", identifierFormatCodes: [] };
    case "PKG":
      return { trackingMode: "none", containerTracking: false, consumptionScan: "verify", identifierFormatCodes: [] };
    case "EPC": {
      const level = EPCIS_GTINS.find((e) => e.gtin === m.gtin)?.level ?? "lot";
      return level === "serial"
        ? { trackingMode: "serial", containerTracking: true, consumptionScan: "identify", identifierFormatCodes: ["GS1-SGTIN", "GS1-SSCC"] }
        : { trackingMode: "lot", containerTracking: true, consumptionScan: "identify", identifierFormatCodes: ["GS1-LGTIN", "GS1-SSCC"] };
    }
  }
}

/** SUB-1005 at EIN: lot-tracked in version 1, serialized from version 2 (a mixed historical state). */
const UPGRADED = { site: "EIN", partNumber: "SUB-1005" };

const DAY_MS = 86_400_000;

/**
 * Whole days to move the demo plant so that its genealogy and work orders end on the day before
 * `today` (a newcomer's volume chart and 30-day figures show real numbers on the day
 * the portal first starts). Tests pin 0: the plant as written, dates exact.
 */
export function demoShiftDaysFor(today: Date): number {
  const startOfToday = Math.floor(today.getTime() / DAY_MS) * DAY_MS;
  return Math.round((startOfToday - DAY_MS - DEMO_END.getTime()) / DAY_MS);
}

/** Every Date in the plant (a copy) moved by whole days; nothing else changes. */
function shifted<T>(value: T, ms: number): T {
  if (value instanceof Date) return new Date(value.getTime() + ms) as T;
  if (Array.isArray(value)) return value.map((v) => shifted(v, ms)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shifted(v, ms)])) as T;
  return value;
}

/**
 * The demo plant: deterministic for a seed, from DEMO_START to DEMO_END, every date then moved by
 * `shiftDays` whole days (0 by default; `npm start` passes `demoShiftDaysFor(now)`).
 */
export function generateDemoPlant(seed: number = DEMO_SEED, options: { shiftDays?: number } = {}): DemoPlant {
  const plant = generatePlantAsWritten(seed);
  const shiftDays = options.shiftDays ?? 0;
  if (!Number.isInteger(shiftDays)) throw new Error("shiftDays must be a whole number of days");
  return shiftDays === 0 ? plant : shifted(plant, shiftDays * DAY_MS);
}

function generatePlantAsWritten(seed: number): DemoPlant {
  const rng = createRng(seed);
  const materials = materialsFor(rng);
  const formats = formatsFor();
  const byFamily = (f: FamilyCode) => materials.filter((m) => m.family === f);
  const [v1From, v2From] = DEMO_VERSION_DATES;

  // ---- rules: version 1 for every material but the EPCIS items; version 2 adds those and upgrades one.
  const v1Rules: DemoRule[] = [];
  const v2Rules: DemoRule[] = [];
  for (const site of demoSites) {
    for (const m of materials) {
      if (m.family === "EPC") {
        v2Rules.push({ partNumber: m.partNumber, site: site.code, ...ruleFor(m, site.code) });
        continue;
      }
      const rule = { partNumber: m.partNumber, site: site.code, ...ruleFor(m, site.code) };
      if (site.code === UPGRADED.site && m.partNumber === UPGRADED.partNumber) {
        v1Rules.push({ ...rule, trackingMode: "lot", identifierFormatCodes: [`${site.code}-LOT`] });
        v2Rules.push(rule);
      } else {
        v1Rules.push(rule);
      }
    }
  }

  // ---- BOMs per site: FIN ← SUB + ASM + PKG + CON; ASM ← SUB + MCH + CON; SUB ← MCH + RES; MCH ← RAW.
  const bomLines: DemoBomLine[] = [];
  const fin = byFamily("FIN");
  const sub = byFamily("SUB");
  const asm = byFamily("ASM");
  const mch = byFamily("MCH");
  const raw = byFamily("RAW");
  const res = byFamily("RES");
  const con = byFamily("CON");
  const pkg = byFamily("PKG");
  const recipe = new Map<string, { component: string; quantity: string; unit: string }[]>();
  fin.forEach((m, i) =>
    recipe.set(m.partNumber, [
      { component: sub[i % sub.length]!.partNumber, quantity: "1", unit: "EA" },
      { component: asm[i % asm.length]!.partNumber, quantity: "1", unit: "EA" },
      { component: pkg[i % pkg.length]!.partNumber, quantity: "1", unit: "EA" },
      { component: con[i % con.length]!.partNumber, quantity: "2", unit: "EA" },
    ]),
  );
  asm.forEach((m, i) =>
    recipe.set(m.partNumber, [
      // Hard case: serialized subassemblies are consumed into lot-built (non-serialized) assemblies.
      { component: sub[(i + 7) % sub.length]!.partNumber, quantity: "1", unit: "EA" },
      { component: mch[i % mch.length]!.partNumber, quantity: "2", unit: "EA" },
      { component: con[(i + 3) % con.length]!.partNumber, quantity: "4", unit: "EA" },
    ]),
  );
  sub.forEach((m, i) =>
    recipe.set(m.partNumber, [
      { component: mch[(i + 5) % mch.length]!.partNumber, quantity: "2", unit: "EA" },
      { component: res[i % res.length]!.partNumber, quantity: "0.25", unit: "KG" },
    ]),
  );
  mch.forEach((m, i) => recipe.set(m.partNumber, [{ component: raw[i % raw.length]!.partNumber, quantity: "0.4", unit: "KG" }]));

  for (const site of demoSites) {
    for (const [parent, lines] of recipe) {
      lines.forEach((line, index) => {
        const alternates: string[] = [];
        const parentFamily = parent.slice(0, 3);
        // Alternates with the same tracking level as the primary: another machined part, another resin.
        if (parentFamily === "SUB" && index === 0) alternates.push(mch[(mch.findIndex((x) => x.partNumber === line.component) + 1) % mch.length]!.partNumber);
        if (parentFamily === "SUB" && index === 1) alternates.push(res[(res.findIndex((x) => x.partNumber === line.component) + 1) % res.length]!.partNumber);
        // Hard case: an alternate coarser than the primary — a lot-tracked machined part may replace a
        // serialized subassembly in ASM-1001, and an untracked consumable a lot-tracked part in ASM-1002.
        if (parent === "ASM-1001" && index === 0) alternates.push("MCH-1030");
        if (parent === "ASM-1002" && index === 1) alternates.push("CON-1020");
        bomLines.push({ site: site.code, parent, component: line.component, lineNo: (index + 1) * 10, quantity: line.quantity, unit: line.unit, alternates });
      });
    }
  }

  // ---- routings: two or three operations per produced material, consumption at the first.
  const routings: DemoRouting[] = [];
  const scanOf = (partNumber: string, site: string) => {
    const m = materials.find((x) => x.partNumber === partNumber)!;
    return ruleFor(m, site).consumptionScan;
  };
  for (const site of demoSites) {
    for (const [parent, lines] of recipe) {
      const family = parent.slice(0, 3);
      const wc = { FIN: "WC10", ASM: "WC20", SUB: "WC30", MCH: "WC40" }[family] ?? "WC90";
      routings.push({
        site: site.code,
        partNumber: parent,
        step: 10,
        workCentre: `${site.code}-${wc}`,
        description: "Kit and assemble",
        consumes: lines.map((l) => ({ partNumber: l.component, consumptionScan: scanOf(l.component, site.code) })),
      });
      routings.push({
        site: site.code,
        partNumber: parent,
        step: 20,
        workCentre: `${site.code}-${wc}`,
        description: family === "FIN" ? "Final test and label" : "Inspect",
        consumes: [],
      });
      if (family === "FIN")
        routings.push({ site: site.code, partNumber: parent, step: 30, workCentre: `${site.code}-WC50`, description: "Pack and palletize", consumes: [] });
    }
  }

  // ---- label templates
  const labelTemplates: DemoLabelTemplate[] = [];
  for (const site of demoSites) {
    const s = site.code;
    labelTemplates.push(
      { site: s, code: "UDI-UNIT", name: "UDI unit label", workCentre: `${s}-WC10`, formats: ["GS1-SGTIN"] },
      { site: s, code: "PALLET", name: "Pallet label (SSCC)", workCentre: `${s}-WC50`, formats: ["GS1-SSCC"] },
      { site: s, code: "RAW-LOT", name: "Incoming raw lot label", workCentre: null, formats: ["GS1-LGTIN"] },
      // Hard case at EIN: one work-centre label prints serial, lot and tote identifiers that look alike.
      { site: s, code: "WC30-SHOP", name: "Shop-floor label (serial, lot, tote)", workCentre: `${s}-WC30`, formats: [`${s}-SER`, `${s}-LOT`, `${s}-CTR`] },
    );
  }

  // ---- genealogy
  const traceItems: DemoTraceItem[] = [];
  const edges: DemoEdge[] = [];
  const workOrders = new Map<string, DemoWorkOrder>();
  const span = DEMO_END.getTime() - DEMO_START.getTime();
  const DAY = 86_400_000;
  let eventCounter = 0;
  const nextEvent = (site: string) => `EV-${site}-${String(++eventCounter).padStart(6, "0")}`;
  const counters = new Map<string, number>();
  const nextNumber = (key: string) => {
    const n = (counters.get(key) ?? 0) + 1;
    counters.set(key, n);
    return n;
  };

  const lotId = (site: string, at: Date) => {
    const n = nextNumber(`lot:${site}`);
    const yy = String(at.getUTCFullYear()).slice(2);
    if (site === "EIN") return `L${yy}${String.fromCharCode(65 + at.getUTCMonth())}${String(n).padStart(5, "0")}X`.slice(0, 9);
    return `${site}L-${yy}${String.fromCharCode(65 + at.getUTCMonth())}${String(n).padStart(5, "0")}`;
  };
  const serialId = (site: string, m: DemoMaterial) => {
    const n = nextNumber(`ser:${site}:${m.family}`);
    if (m.family === "FIN") return `${site === "EIN" ? 1 : site === "CLT" ? 2 : 3}${String(n).padStart(7, "0")}`;
    if (site === "EIN") return `S${String(n).padStart(8, "0")}`;
    return `${site}S-${String(n).padStart(7, "0")}`;
  };
  const ssccId = (site: string) => {
    const n = nextNumber("sscc");
    const body = `1087123400${site === "EIN" ? 1 : site === "CLT" ? 2 : 3}${String(n).padStart(6, "0")}`;
    return `${body}${gs1CheckDigit(body)}`;
  };
  const toteId = (site: string) => {
    const n = nextNumber(`tote:${site}`);
    return site === "EIN" ? `C${String(n).padStart(8, "0")}` : `${site}T-${String(n).padStart(6, "0")}`;
  };
  const workOrderFor = (site: string, partNumber: string, at: Date, qtyUnit: string) => {
    const month = `${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
    const number = `WO-${site}-${month}-${partNumber}`;
    let wo = workOrders.get(number);
    if (!wo) {
      const openedAt = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
      const closeAt = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
      const open = closeAt.getTime() > DEMO_END.getTime() - 20 * DAY;
      wo = { number, site, partNumber, quantity: "0", unit: qtyUnit, status: open ? "open" : "closed", openedAt, closedAt: open ? null : closeAt };
      workOrders.set(number, wo);
    }
    wo.quantity = String(Number(wo.quantity) + 1);
    return number;
  };
  const addItem = (item: DemoTraceItem) => traceItems.push(item) - 1;
  const addEdge = (edge: DemoEdge) => edges.push(edge);
  const randomTime = (fromFraction: number, toFraction: number) =>
    new Date(DEMO_START.getTime() + Math.floor(span * (fromFraction + rng() * (toFraction - fromFraction))));

  /** Items by material and site, in creation order, to pick inputs made before their consumer. */
  const pool = new Map<string, number[]>();
  const poolKey = (site: string, partNumber: string) => `${site}|${partNumber}`;
  const register = (index: number) => {
    const it = traceItems[index]!;
    const key = poolKey(it.site, it.partNumber);
    (pool.get(key) ?? pool.set(key, []).get(key)!).push(index);
  };
  const sortPools = () => {
    for (const list of pool.values()) list.sort((a, b) => traceItems[a]!.createdAt.getTime() - traceItems[b]!.createdAt.getTime());
  };
  /** An input made before `at` (the latest-made half is preferred, as real stock rotates). */
  const inputBefore = (site: string, partNumber: string, at: Date, unconsumedOnly: boolean): number | undefined => {
    const list = pool.get(poolKey(site, partNumber)) ?? [];
    let hi = list.length;
    while (hi > 0 && traceItems[list[hi - 1]!]!.createdAt.getTime() >= at.getTime()) hi--;
    const candidates = list.slice(0, hi).filter((i) => !unconsumedOnly || traceItems[i]!.status !== "consumed");
    if (candidates.length === 0) return undefined;
    const from = Math.floor(candidates.length / 2);
    return candidates[from + Math.floor(rng() * (candidates.length - from))];
  };
  const consume = (input: number, output: number, quantity: string, unit: string, at: Date, wo: string, event: string, site: string) =>
    addEdge({ eventRef: event, kind: "consume", input, output, quantity, unit, site, occurredAt: at, workOrder: wo });

  for (const site of demoSites) {
    const s = site.code;
    // Tier 1: raw material and resin lots received.
    for (const m of [...raw, ...res]) {
      for (let k = 0; k < 14; k++) {
        const at = randomTime(0, 0.9);
        const idx = addItem({
          kind: "lot",
          identifier: lotId(s, at),
          partNumber: m.partNumber,
          site: s,
          quantity: String(int(rng, 200, 800)),
          unit: "KG",
          status: "stock",
          createdAt: at,
        });
        register(idx);
      }
    }
    sortPools();
    // Tier 2: machined-part lots, each from one raw lot.
    for (const m of mch) {
      const [line] = recipe.get(m.partNumber)!;
      for (let k = 0; k < 9; k++) {
        const at = randomTime(0.03, 0.93);
        const rawLot = inputBefore(s, line!.component, at, false);
        if (rawLot === undefined) continue;
        const qty = int(rng, 100, 400);
        const idx = addItem({
          kind: "lot",
          identifier: lotId(s, at),
          partNumber: m.partNumber,
          site: s,
          quantity: String(qty),
          unit: "EA",
          status: "stock",
          createdAt: at,
        });
        register(idx);
        consume(rawLot, idx, (qty * 0.4).toFixed(1), "KG", at, workOrderFor(s, m.partNumber, at, "EA"), nextEvent(s), s);
      }
    }
    sortPools();
    // Tier 3: serialized subassemblies from machined lots and resin.
    for (const m of sub) {
      const lines = recipe.get(m.partNumber)!;
      const upgraded = s === UPGRADED.site && m.partNumber === UPGRADED.partNumber;
      for (let k = 0; k < 50; k++) {
        const at = randomTime(0.06, 0.95);
        const wo = workOrderFor(s, m.partNumber, at, "EA");
        const event = nextEvent(s);
        // Before version 2 the upgraded subassembly was made in lots: legacy lots next to new serials.
        const asLot = upgraded && at.getTime() < v2From.getTime();
        const idx = asLot
          ? addItem({
              kind: "lot",
              identifier: lotId(s, at),
              partNumber: m.partNumber,
              site: s,
              quantity: String(int(rng, 5, 20)),
              unit: "EA",
              status: "stock",
              createdAt: at,
            })
          : addItem({
              kind: "serial",
              identifier: serialId(s, m),
              partNumber: m.partNumber,
              site: s,
              quantity: "1",
              unit: "EA",
              status: "stock",
              createdAt: at,
            });
        register(idx);
        for (const line of lines) {
          const input = inputBefore(s, line.component, at, false);
          if (input !== undefined) consume(input, idx, line.quantity, line.unit, at, wo, event, s);
        }
      }
    }
    sortPools();
    // Tier 4a: lot-built assemblies consume serialized subassemblies (several serials per lot).
    for (const m of asm) {
      const lines = recipe.get(m.partNumber)!;
      for (let k = 0; k < 7; k++) {
        const at = randomTime(0.1, 0.96);
        const qty = int(rng, 3, 6);
        const idx = addItem({
          kind: "lot",
          identifier: lotId(s, at),
          partNumber: m.partNumber,
          site: s,
          quantity: String(qty),
          unit: "EA",
          status: "stock",
          createdAt: at,
        });
        register(idx);
        const wo = workOrderFor(s, m.partNumber, at, "EA");
        const event = nextEvent(s);
        for (const line of lines) {
          const family = line.component.slice(0, 3);
          if (family === "CON") continue; // untracked: backflushed, no trace item
          if (family === "SUB") {
            for (let u = 0; u < qty; u++) {
              const serial = inputBefore(s, line.component, at, true);
              if (serial === undefined) break;
              traceItems[serial]!.status = traceItems[serial]!.kind === "serial" ? "consumed" : traceItems[serial]!.status;
              consume(serial, idx, "1", "EA", at, wo, event, s);
            }
          } else {
            const input = inputBefore(s, line.component, at, false);
            if (input !== undefined) consume(input, idx, String(Number(line.quantity) * qty), line.unit, at, wo, event, s);
          }
        }
      }
    }
    sortPools();
    // Tier 5: finished serialized devices consume one subassembly serial and assembly-lot quantity.
    const pallets: number[] = [];
    for (const m of fin) {
      const lines = recipe.get(m.partNumber)!;
      for (let k = 0; k < 42; k++) {
        const at = randomTime(0.15, 0.99);
        const ageDays = (DEMO_END.getTime() - at.getTime()) / DAY;
        const status = ageDays < 10 ? "wip" : ageDays < 40 ? "stock" : rng() < 0.02 ? "scrapped" : "shipped";
        const idx = addItem({
          kind: "serial",
          identifier: serialId(s, m),
          partNumber: m.partNumber,
          site: s,
          quantity: "1",
          unit: "EA",
          status,
          createdAt: at,
        });
        register(idx);
        const wo = workOrderFor(s, m.partNumber, at, "EA");
        const event = nextEvent(s);
        for (const line of lines) {
          const family = line.component.slice(0, 3);
          if (family === "CON" || family === "PKG") continue;
          const input = inputBefore(s, line.component, at, family === "SUB");
          if (input === undefined) continue;
          if (family === "SUB" && traceItems[input]!.kind === "serial") traceItems[input]!.status = "consumed";
          consume(input, idx, line.quantity, line.unit, at, wo, event, s);
        }
        if (status === "shipped" || status === "stock") pallets.push(idx);
      }
    }
    // Aggregation: finished serials packed onto SSCC pallets, 24 to a pallet.
    pallets.sort((a, b) => traceItems[a]!.createdAt.getTime() - traceItems[b]!.createdAt.getTime());
    for (let p = 0; p < pallets.length; p += 24) {
      const group = pallets.slice(p, p + 24);
      const last = group.at(-1)!;
      const at = new Date(traceItems[last]!.createdAt.getTime() + DAY);
      const allShipped = group.every((i) => traceItems[i]!.status === "shipped");
      const pallet = addItem({
        kind: "container",
        identifier: ssccId(s),
        partNumber: traceItems[group[0]!]!.partNumber,
        site: s,
        quantity: String(group.length),
        unit: "EA",
        status: allShipped ? "shipped" : "stock",
        createdAt: at,
      });
      const event = nextEvent(s);
      for (const i of group)
        addEdge({ eventRef: event, kind: "aggregate", input: i, output: pallet, quantity: "1", unit: "EA", site: s, occurredAt: at, workOrder: null });
    }
    // Mark raw lots that fed many consumers as used up.
    for (const m of [...raw, ...res, ...mch]) {
      for (const i of pool.get(poolKey(s, m.partNumber)) ?? []) {
        const uses = edges.filter((e) => e.input === i).length;
        if (uses >= 6) traceItems[i]!.status = "consumed";
      }
    }
  }

  // ---- the explicit hard cases, at EIN, after the generated flow so their identifiers are stable.
  const s = "EIN";
  const at = (iso: string) => new Date(iso);
  const lot = (partNumber: string, identifier: string, qty: string, unit: string, status: DemoTraceItem["status"], when: Date) =>
    addItem({ kind: "lot", identifier, partNumber, site: s, quantity: qty, unit, status, createdAt: when });

  // Lot split: one resin lot split into two child lots.
  const splitSource = lot("RES-1001", "RSPLIT001", "500", "KG", "consumed", at("2025-03-03T08:00:00Z"));
  const splitA = lot("RES-1001", "RSPLIT00A", "300", "KG", "stock", at("2025-03-10T08:00:00Z"));
  const splitB = lot("RES-1001", "RSPLIT00B", "200", "KG", "stock", at("2025-03-10T08:00:00Z"));
  const splitEvent = nextEvent(s);
  addEdge({
    eventRef: splitEvent,
    kind: "split",
    input: splitSource,
    output: splitA,
    quantity: "300",
    unit: "KG",
    site: s,
    occurredAt: at("2025-03-10T08:00:00Z"),
    workOrder: null,
  });
  addEdge({
    eventRef: splitEvent,
    kind: "split",
    input: splitSource,
    output: splitB,
    quantity: "200",
    unit: "KG",
    site: s,
    occurredAt: at("2025-03-10T08:00:00Z"),
    workOrder: null,
  });

  // Two lots merged into one.
  const mergeA = lot("RAW-1003", "RMERGE00A", "120", "KG", "consumed", at("2025-04-01T08:00:00Z"));
  const mergeB = lot("RAW-1003", "RMERGE00B", "80", "KG", "consumed", at("2025-04-02T08:00:00Z"));
  const merged = lot("RAW-1003", "RMERGE00M", "200", "KG", "stock", at("2025-04-05T08:00:00Z"));
  const mergeEvent = nextEvent(s);
  addEdge({
    eventRef: mergeEvent,
    kind: "merge",
    input: mergeA,
    output: merged,
    quantity: "120",
    unit: "KG",
    site: s,
    occurredAt: at("2025-04-05T08:00:00Z"),
    workOrder: null,
  });
  addEdge({
    eventRef: mergeEvent,
    kind: "merge",
    input: mergeB,
    output: merged,
    quantity: "80",
    unit: "KG",
    site: s,
    occurredAt: at("2025-04-05T08:00:00Z"),
    workOrder: null,
  });

  // Bulk resin repacked into four totes (EIN container format).
  const bulk = lot("RES-1002", "RBULK0001", "1000", "KG", "consumed", at("2025-05-01T08:00:00Z"));
  const repackEvent = nextEvent(s);
  const totes: number[] = [];
  for (let t = 0; t < 4; t++) {
    const tote = addItem({
      kind: "container",
      identifier: toteId(s),
      partNumber: "RES-1002",
      site: s,
      quantity: "250",
      unit: "KG",
      status: "stock",
      createdAt: at("2025-05-02T08:00:00Z"),
    });
    totes.push(tote);
    addEdge({
      eventRef: repackEvent,
      kind: "repack",
      input: bulk,
      output: tote,
      quantity: "250",
      unit: "KG",
      site: s,
      occurredAt: at("2025-05-02T08:00:00Z"),
      workOrder: null,
    });
  }

  // A reworked serial: the same finished serial goes in and out of rework; a replacement
  // subassembly serial is consumed into it under the rework order.
  const finSerials = traceItems
    .map((it, i) => ({ it, i }))
    .filter(({ it }) => it.site === s && it.partNumber === "FIN-1001" && it.kind === "serial" && it.status === "shipped");
  const reworked = finSerials.at(-1)!.i;
  const reworkAt = new Date(traceItems[reworked]!.createdAt.getTime() + 5 * DAY);
  const reworkWo = workOrderFor(s, "FIN-1001", reworkAt, "EA");
  const reworkEvent = nextEvent(s);
  addEdge({
    eventRef: reworkEvent,
    kind: "rework",
    input: reworked,
    output: reworked,
    quantity: "1",
    unit: "EA",
    site: s,
    occurredAt: reworkAt,
    workOrder: reworkWo,
  });
  const replacementPart = materials.find((m) => m.partNumber === recipe.get("FIN-1001")![0]!.component)!;
  const replacement = addItem({
    kind: "serial",
    identifier: serialId(s, replacementPart),
    partNumber: replacementPart.partNumber,
    site: s,
    quantity: "1",
    unit: "EA",
    status: "consumed",
    createdAt: new Date(reworkAt.getTime() - DAY),
  });
  consume(replacement, reworked, "1", "EA", reworkAt, reworkWo, reworkEvent, s);

  // A partly scrapped lot: 40 of 300 machined parts scrapped, the rest stays in stock.
  const scrapSource = lot("MCH-1004", "MSCRAP001", "260", "EA", "stock", at("2025-06-01T08:00:00Z"));
  const scrapped = lot("MCH-1004", "MSCRAP00S", "40", "EA", "scrapped", at("2025-06-12T08:00:00Z"));
  addEdge({
    eventRef: nextEvent(s),
    kind: "scrap",
    input: scrapSource,
    output: scrapped,
    quantity: "40",
    unit: "EA",
    site: s,
    occurredAt: at("2025-06-12T08:00:00Z"),
    workOrder: null,
  });

  // ---- ERP and PLM records: mostly agreeing, a few deliberate disagreements.
  const externalRecords: DemoExternalRecord[] = [];
  const disagreements: DemoHardCases["erpPlmDisagreements"] = [];
  const erpFlag = (mode: TrackingMode) =>
    mode === "serial" ? { flag: "SERNP=ZSER", mode } : mode === "lot" ? { flag: "XCHPF=X", mode } : { flag: "XCHPF= ", mode };
  const finalRule = (partNumber: string, site: string): TrackingMode => {
    const v2 = v2Rules.find((r) => r.partNumber === partNumber && r.site === site);
    return (v2 ?? v1Rules.find((r) => r.partNumber === partNumber && r.site === site))!.trackingMode;
  };
  for (const m of materials) {
    if (m.family === "EPC") continue;
    for (const site of demoSites) {
      let mode = finalRule(m.partNumber, site.code);
      // ERP still manages the upgraded subassembly in batches: it was never told about version 2.
      if (m.partNumber === UPGRADED.partNumber && site.code === UPGRADED.site) mode = "lot";
      // ERP at CLT treats a machined part as untracked.
      if (m.partNumber === "MCH-1007" && site.code === "CLT") mode = "none";
      const f = erpFlag(mode);
      if (mode !== finalRule(m.partNumber, site.code)) disagreements.push({ system: "erp", externalKey: m.partNumber, site: site.code });
      externalRecords.push({
        system: "erp",
        externalKey: m.partNumber,
        partNumber: m.partNumber,
        site: site.code,
        trackingFlag: f.flag,
        trackingMode: f.mode,
        payload: { MATNR: m.partNumber, WERKS: site.erpPlant, MEINS: m.unitOfMeasure, [f.flag.split("=")[0]!]: f.flag.split("=")[1]!.trim() },
      });
    }
    let plmMode = finalRule(m.partNumber, "EIN");
    // PLM designs a subassembly as serialized that the plants build in lots, and a resin as untracked.
    if (m.partNumber === "ASM-1003") plmMode = "serial";
    if (m.partNumber === "RES-1004") plmMode = "none";
    if (plmMode !== finalRule(m.partNumber, "EIN")) disagreements.push({ system: "plm", externalKey: m.partNumber, site: null });
    externalRecords.push({
      system: "plm",
      externalKey: m.partNumber,
      partNumber: m.partNumber,
      site: null,
      trackingFlag: `traceability=${plmMode === "serial" ? "SERIALIZED" : plmMode === "lot" ? "LOT" : "NONE"}`,
      trackingMode: plmMode,
      payload: { item: m.partNumber, revision: "C", traceability: plmMode.toUpperCase() },
    });
  }
  // ERP knows a part number C-981 does not have at all.
  externalRecords.push({
    system: "erp",
    externalKey: "MCH-1099",
    partNumber: null,
    site: "EIN",
    trackingFlag: "XCHPF=X",
    trackingMode: "lot",
    payload: { MATNR: "MCH-1099", WERKS: "1000", XCHPF: "X" },
  });
  disagreements.push({ system: "erp", externalKey: "MCH-1099", site: "EIN" });

  const users: DemoUser[] = [
    { username: "vera.viewer", displayName: "Vera Viewer", role: "viewer" },
    { username: "emil.engineer", displayName: "Emil Engineer", role: "engineer" },
    { username: "quinn.quality", displayName: "Quinn Quality", role: "quality_reviewer" },
    { username: "rita.regulatory", displayName: "Rita Regulatory", role: "regulatory_reviewer" },
    { username: "remy.release", displayName: "Remy Release", role: "release_manager" },
    { username: "ada.admin", displayName: "Ada Admin", role: "admin" },
  ];

  const asmWithSub = edges.find((e) => e.kind === "consume" && traceItems[e.input]!.kind === "serial" && traceItems[e.output]!.partNumber.startsWith("ASM-"))!;

  return {
    sites: demoSites,
    families: demoFamilies,
    materials,
    formats,
    versions: [
      { effectiveFrom: v1From, reason: "Demo plant: first governed rule set (tracking modes as validated at go-live)", rules: v1Rules },
      { effectiveFrom: v2From, reason: "Demo plant: serialize SUB-1005 at EIN; add the EPCIS trading items", rules: v2Rules },
    ],
    bomLines,
    routings,
    labelTemplates,
    workOrders: [...workOrders.values()],
    traceItems,
    edges,
    externalRecords,
    users,
    hardCases: {
      serialConsumedIntoLotAssembly: {
        site: traceItems[asmWithSub.input]!.site,
        subassembly: traceItems[asmWithSub.input]!.partNumber,
        assembly: traceItems[asmWithSub.output]!.partNumber,
      },
      coarserAlternate: { site: "EIN", parent: "ASM-1001", primary: recipe.get("ASM-1001")![0]!.component, alternate: "MCH-1030" },
      overlappingFormats: { site: "EIN", formats: ["EIN-SER", "EIN-LOT"], labelTemplate: "WC30-SHOP" },
      upgradedLotToSerial: { site: UPGRADED.site, partNumber: UPGRADED.partNumber, fromVersion: 2 },
      epcisGtins: EPCIS_GTINS.map((e) => e.gtin),
      lotSplit: { site: s, source: "RSPLIT001", children: ["RSPLIT00A", "RSPLIT00B"] },
      lotMerge: { site: s, sources: ["RMERGE00A", "RMERGE00B"], merged: "RMERGE00M" },
      repack: { site: s, bulkLot: "RBULK0001", containers: totes.map((t) => traceItems[t]!.identifier) },
      reworkedSerial: { site: s, partNumber: "FIN-1001", serial: traceItems[reworked]!.identifier },
      partlyScrappedLot: { site: s, lot: "MSCRAP001", scrapped: "MSCRAP00S" },
      erpPlmDisagreements: disagreements,
    },
  };
}
