/**
 * Scan decisions at the line: what a scanned string reads as at one routing step, and whether that
 * is what the step requires — a pure function of a verified rule set (schema version 2), the same
 * in the runtime client (offline) and in the API (ADR 040).
 *
 *   const scanner = compileScanner(document, "sha256:…");   // once per verified rule set
 *   scanner.decide({ parent: "ASM-1001", step: 20, expected: "SUB-1005", scanned: "S00000123" });
 *
 * Reading model: the look-alike module's (ADR 013), reused, not re-implemented. A string reads as a
 * pattern format when it matches the pattern (the formats in use at a step are compiled once into
 * one DFA built from the same automata as `matchesPattern`); it reads as a GS1 format when some
 * valid GS1 reading holds all of the format's AIs (as `gs1ReadingsOf` reads it, `holdsAll`). The formats in use
 * at a step are those of the materials consumed there and of their allowed alternates. A string is
 * ambiguous when its readings identify more than one kind (serial, lot, container) — the hazard the
 * look-alike module reports for a pair of formats, met here on one real string. Materials sharing a
 * site pattern are not told apart by the string (the MES resolves the identifier); the BOM line's
 * material is taken first, then its alternates in preference order. A GS1 reading with a GTIN (AI 01
 * or 02) names its material by that GTIN.
 *
 * Allocation: everything that depends only on the rule set (steps, requirements, alternates,
 * matchers, `decidedBy`) is built by `compileScanner` and shared, frozen, by every decision; a
 * decision allocates its readings and its result object, and parses GS1 only when the string can
 * be GS1 (a GS1 symbology identifier, `(`, `http`, or two leading digits with a GS1 format in use).
 */
import { parseGs1, parseGs1Scan, type Gs1Reading, type Gs1Result } from "./gs1";
import type { Identifies } from "./identifies";
import { compilePatternSet, type IdentifierFormat, type PatternSegment, type PatternSetMatcher } from "./identifier-format";
import { holdsAll } from "./look-alike";

// ---------------------------------------------------------------------------
// The rule set document (schema version 2), structurally: what a scan decision reads of it
// ---------------------------------------------------------------------------

export type ScanTrackingMode = "serial" | "lot" | "none";
export type ScanConsumption = "none" | "verify" | "identify";

export interface ScanRuleSetFormat {
  name: string;
  identifies: Identifies;
  definition: IdentifierFormat;
}

export interface ScanRoutingStep {
  step: number;
  workCentre: string;
  consumes: readonly { component: string; consumptionScan: ScanConsumption; id: string }[];
}

export interface ScanRule {
  /** `<SITE>/<PART>` */
  id: string;
  partNumber: string;
  gtin: string | null;
  trackingMode: ScanTrackingMode;
  containerTracking: boolean;
  consumptionScan: ScanConsumption;
  /** Format codes, keys of the document's `identifierFormats`. */
  identifierFormats: readonly string[];
  riskClass: string;
  /** Per BOM line of this material as the parent: the alternates allowed, in preference order. */
  allowedAlternates: readonly { component: string; alternates: readonly string[] }[];
  deviation?: unknown;
  /** This material's routing at the site, as the parent, by step. */
  routing: readonly ScanRoutingStep[];
}

export interface ScanRuleSet {
  site: string;
  version: number;
  identifierFormats: Readonly<Record<string, ScanRuleSetFormat>>;
  rules: readonly ScanRule[];
}

// ---------------------------------------------------------------------------
// Input and output
// ---------------------------------------------------------------------------

export interface ScanInput {
  /** The material being made. */
  parent: string;
  /** The routing step; or give `workCentre` instead (the step there that consumes `expected`, the first if several). */
  step?: number;
  workCentre?: string;
  /** The component the BOM line expects. */
  expected: string;
  /** The data as the scanner sent it, without its symbology identifier (GS as U+001D). */
  scanned: string;
  /** `]C1`, `]e0`, `]d2`, `]Q3`, `]J1`, `]E0`, `]E4` mean GS1 data; any other identifier means not GS1 element data. */
  symbologyId?: string;
}

export type ScanOutcome = "accept" | "refuse" | "ambiguous" | "not-required";

export type ScanReasonCode =
  | "accepted"
  | "accepted-alternate"
  | "not-required"
  | "ambiguous"
  | "unknown-parent"
  | "unknown-step"
  | "unknown-work-centre"
  | "not-consumed-here"
  | "unruled-material"
  | "no-format"
  | "invalid-gs1"
  | "no-reading"
  | "wrong-level"
  | "wrong-material"
  | "gtin-other-material"
  | "gtin-unknown"
  | "format-not-in-rule"
  | "alternate-incompatible";

export interface ScanReading {
  /** What the reading identifies: its format's `identifies`; `gs1` for GS1 data no format in use at the step holds. */
  kind: Identifies | "gs1";
  syntax: "pattern" | "gs1";
  /** The format code, or null (a GS1 reading no format in use holds). */
  format: string | null;
  /** The materials consumed at the step (or their alternates) whose rule lists the format; for GS1 with a GTIN, those of that GTIN. */
  materials: readonly string[];
  /** The identifier: the string for a pattern; for GS1 the serial (21…), lot (10) or SSCC (00), else the element string. */
  value: string;
  /** GS1 only. */
  elementString?: string;
  ais?: readonly { ai: string; value: string }[];
  gtin?: string;
  /** GS1 with a GTIN no material listing the format has: the site's material with that GTIN, or null when none. */
  gtinOf?: string | null;
  /** GS1 raw data: whether a conformant decoder reads it this way (false: only with a GS missing). */
  standard?: boolean;
}

export interface ScanRequirement {
  consumptionScan: ScanConsumption;
  /** The component's tracking mode at the site (null when the rule set has no rule for it). */
  trackingMode: ScanTrackingMode | null;
  /** The level the scan must identify: serial or lot per the tracking mode, container for container-only tracking; null for none. */
  level: Identifies | null;
  /** Every kind that meets the requirement (a lot-tracked component in containers: lot or container). */
  accepts: readonly Identifies[];
}

export interface ScanAlternate {
  partNumber: string;
  trackingMode: ScanTrackingMode | null;
  /** Whether the alternate's labels can give what the step requires. */
  compatible: boolean;
}

export interface ScanDecidedBy {
  /** The rule of the material the decision is about (the component, or the alternate substituted); null when none applies. */
  ruleId: string | null;
  /** The routing requirement `<SITE>/<PARENT>/<step>/<COMPONENT>`; null when the step or line is unknown. */
  requirementId: string | null;
  ruleSetVersion: number;
  digest: string;
}

export interface ScanDecision {
  outcome: ScanOutcome;
  reason: { code: ScanReasonCode; message: string };
  readings: readonly ScanReading[];
  reading: ScanReading | null;
  /** Null when the step or the BOM line is unknown. */
  required: ScanRequirement | null;
  alternates: readonly ScanAlternate[];
  substitutedBy?: string;
  step?: number;
  decidedBy: ScanDecidedBy;
}

export interface CompiledScanner {
  readonly site: string;
  readonly version: number;
  readonly digest: string;
  decide(input: ScanInput): ScanDecision;
  /** Per step: how its pattern formats were compiled (for benches and diagnostics). */
  readonly matchers: readonly { parent: string; step: number; patterns: number; gs1: number; mode: "dfa" | "nfa"; states: number }[];
}

// ---------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------

interface FormatInStep {
  code: string;
  identifies: Identifies;
  ais: readonly string[];
  /** In-scope materials listing the format, sorted. */
  listers: readonly string[];
  /** The same, by GTIN (listers with a GTIN). */
  listersByGtin: ReadonlyMap<string, readonly string[]>;
}

interface Line {
  component: string;
  consumptionScan: ScanConsumption;
  required: ScanRequirement;
  alternates: readonly ScanAlternate[];
  alternateInfo: ReadonlyMap<string, { accepts: readonly Identifies[]; compatible: boolean; decidedBy: ScanDecidedBy }>;
  unruled: boolean;
  /** Whether the component or an alternate lists any format. */
  readable: boolean;
  decidedBy: ScanDecidedBy;
}

interface Step {
  step: number;
  workCentre: string;
  lines: ReadonlyMap<string, Line>;
  patterns: readonly FormatInStep[];
  matcher: PatternSetMatcher;
  gs1: readonly FormatInStep[];
  decidedBy: ScanDecidedBy;
}

interface Parent {
  steps: ReadonlyMap<number, Step>;
  byWorkCentre: ReadonlyMap<string, readonly Step[]>;
  decidedBy: ScanDecidedBy;
}

const GS1_SYMBOLOGIES = new Set(["]C1", "]e0", "]d2", "]Q3", "]J1", "]E0", "]E4"]);
const EMPTY: readonly never[] = Object.freeze([]);
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const GRANULARITY: Record<ScanTrackingMode, number> = { serial: 2, lot: 1, none: 0 };

function acceptsOf(rule: ScanRule | undefined): readonly Identifies[] {
  if (!rule) return EMPTY;
  const levels: Identifies[] =
    rule.trackingMode === "serial"
      ? ["serial"]
      : rule.trackingMode === "lot"
        ? rule.containerTracking
          ? ["lot", "container"]
          : ["lot"]
        : rule.containerTracking
          ? ["container"]
          : [];
  return Object.freeze(levels);
}

function levelOf(rule: ScanRule | undefined): Identifies | null {
  if (!rule) return null;
  return rule.trackingMode === "serial" ? "serial" : rule.trackingMode === "lot" ? "lot" : rule.containerTracking ? "container" : null;
}

/** Whether an alternate's labels can give what the step requires: at least as fine a level (container for container-only). */
function compatibleWith(required: ScanRequirement, alternate: ScanRule | undefined): boolean {
  if (required.consumptionScan === "none") return true;
  if (!alternate) return false;
  if (required.level === null) return true;
  if (required.level === "container") return alternate.containerTracking;
  return GRANULARITY[alternate.trackingMode] >= GRANULARITY[required.trackingMode ?? "none"];
}

export function compileScanner(document: ScanRuleSet, digest: string): CompiledScanner {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new Error(`compileScanner: the rule set's digest must be sha256:<64 hex digits>, got ${JSON.stringify(digest)}`);
  const rules = new Map(document.rules.map((r) => [r.partNumber, r]));
  const gtinOwner = new Map<string, string>();
  for (const r of [...document.rules].sort((a, b) => byText(a.partNumber, b.partNumber)))
    if (r.gtin !== null && !gtinOwner.has(r.gtin)) gtinOwner.set(r.gtin, r.partNumber);
  const base = (ruleId: string | null, requirementId: string | null): ScanDecidedBy =>
    Object.freeze({ ruleId, requirementId, ruleSetVersion: document.version, digest });
  const noRule = base(null, null);
  const parents = new Map<string, Parent>();
  const matchers: { parent: string; step: number; patterns: number; gs1: number; mode: "dfa" | "nfa"; states: number }[] = [];

  for (const parentRule of document.rules) {
    const steps = new Map<number, Step>();
    const byWorkCentre = new Map<string, Step[]>();
    for (const routing of [...parentRule.routing].sort((a, b) => a.step - b.step)) {
      const lines = new Map<string, Line>();
      const scope = new Set<string>();
      for (const consumed of routing.consumes) {
        const componentRule = rules.get(consumed.component);
        const alternates = parentRule.allowedAlternates.find((a) => a.component === consumed.component)?.alternates ?? EMPTY;
        const required: ScanRequirement = Object.freeze({
          consumptionScan: consumed.consumptionScan,
          trackingMode: componentRule?.trackingMode ?? null,
          level: levelOf(componentRule),
          accepts: acceptsOf(componentRule),
        });
        const alternateInfo = new Map<string, { accepts: readonly Identifies[]; compatible: boolean; decidedBy: ScanDecidedBy }>();
        const alternateList: ScanAlternate[] = [];
        for (const alternate of alternates) {
          const alternateRule = rules.get(alternate);
          const compatible = compatibleWith(required, alternateRule);
          alternateList.push(Object.freeze({ partNumber: alternate, trackingMode: alternateRule?.trackingMode ?? null, compatible }));
          alternateInfo.set(alternate, { accepts: acceptsOf(alternateRule), compatible, decidedBy: base(alternateRule?.id ?? null, consumed.id) });
          scope.add(alternate);
        }
        scope.add(consumed.component);
        const listsFormats = (part: string) => (rules.get(part)?.identifierFormats.length ?? 0) > 0;
        lines.set(consumed.component, {
          component: consumed.component,
          consumptionScan: consumed.consumptionScan,
          required,
          alternates: Object.freeze(alternateList),
          alternateInfo,
          unruled: !componentRule,
          readable: listsFormats(consumed.component) || alternates.some(listsFormats),
          decidedBy: base(componentRule?.id ?? null, consumed.id),
        });
      }
      // The formats in use at the step: those of every material in scope, with the materials listing each.
      const listers = new Map<string, string[]>();
      for (const part of [...scope].sort(byText)) {
        for (const code of rules.get(part)?.identifierFormats ?? EMPTY) {
          if (!document.identifierFormats[code]) continue;
          const list = listers.get(code);
          if (list) {
            if (!list.includes(part)) list.push(part);
          } else listers.set(code, [part]);
        }
      }
      const patterns: FormatInStep[] = [];
      const patternSegments: (readonly PatternSegment[])[] = [];
      const gs1: FormatInStep[] = [];
      for (const [code, parts] of [...listers].sort(([a], [b]) => byText(a, b))) {
        const format = document.identifierFormats[code]!;
        const byGtin = new Map<string, string[]>();
        for (const part of parts) {
          const gtin = rules.get(part)?.gtin;
          if (gtin) byGtin.set(gtin, [...(byGtin.get(gtin) ?? []), part]);
        }
        const entry: FormatInStep = {
          code,
          identifies: format.identifies,
          ais: format.definition.kind === "gs1" ? Object.freeze([...format.definition.ais]) : EMPTY,
          listers: Object.freeze(parts),
          listersByGtin: new Map([...byGtin].map(([g, p]) => [g, Object.freeze(p)])),
        };
        if (format.definition.kind === "pattern") {
          patterns.push(entry);
          patternSegments.push(format.definition.segments);
        } else gs1.push(entry);
      }
      const matcher = compilePatternSet(patternSegments);
      const step: Step = { step: routing.step, workCentre: routing.workCentre, lines, patterns, matcher, gs1, decidedBy: base(parentRule.id, null) };
      steps.set(routing.step, step);
      const atCentre = byWorkCentre.get(routing.workCentre);
      if (atCentre) atCentre.push(step);
      else byWorkCentre.set(routing.workCentre, [step]);
      matchers.push({
        parent: parentRule.partNumber,
        step: routing.step,
        patterns: patterns.length,
        gs1: gs1.length,
        mode: matcher.mode,
        states: matcher.states,
      });
    }
    parents.set(parentRule.partNumber, { steps, byWorkCentre, decidedBy: base(parentRule.id, null) });
  }

  // -------------------------------------------------------------------------
  // Reading
  // -------------------------------------------------------------------------

  const SERIAL_AIS = ["21", "8004", "7023", "8003", "8011", "8017", "8018", "253", "255"];
  const valueFor = (reading: Gs1Reading, identifies: Identifies | "gs1"): string => {
    const wanted = identifies === "serial" ? SERIAL_AIS : identifies === "lot" ? ["10"] : identifies === "container" ? ["00"] : EMPTY;
    for (const ai of wanted) {
      const element = reading.elements.find((e) => e.ai === ai);
      if (element) return element.value;
    }
    return reading.elementString;
  };

  function gs1Reading(reading: Gs1Reading, format: FormatInStep | null): ScanReading {
    const gtin = reading.elements.find((e) => e.ai === "01" || e.ai === "02")?.value;
    const kind = format ? format.identifies : "gs1";
    let materials: readonly string[] = EMPTY;
    let gtinOf: string | null | undefined;
    if (format) materials = gtin === undefined ? format.listers : (format.listersByGtin.get(gtin) ?? EMPTY);
    if (gtin !== undefined && materials.length === 0) gtinOf = gtinOwner.get(gtin) ?? null;
    const out: ScanReading = {
      kind,
      syntax: "gs1",
      format: format ? format.code : null,
      materials,
      value: valueFor(reading, kind),
      elementString: reading.elementString,
      ais: reading.elements.map((e) => ({ ai: e.ai, value: e.value })),
      standard: reading.standard,
    };
    if (gtin !== undefined) out.gtin = gtin;
    if (gtinOf !== undefined) out.gtinOf = gtinOf;
    return out;
  }

  const isDigit = (code: number) => code >= 48 && code <= 57;

  /** GS1 readings of the string, or the parser's complaint when a GS1 symbology carried invalid data. */
  function parseGs1Readings(
    step: Step,
    scanned: string,
    symbologyId: string | undefined,
  ): { readings: readonly Gs1Reading[]; invalid: string | null; unreadable?: boolean } {
    let result: Gs1Result | null = null;
    if (symbologyId !== undefined && GS1_SYMBOLOGIES.has(symbologyId)) {
      result = parseGs1Scan(symbologyId + scanned, { maxReadings: 64 });
      if (result.status === "invalid") return { readings: EMPTY, invalid: result.errors[0]?.message ?? "not a valid GS1 element string" };
    } else if (symbologyId === undefined && scanned.startsWith("(")) {
      // Bracketed GS1 text ("(01)…(21)…") is meant as GS1: when it is not valid, say why (a wrong
      // check digit, an unknown AI), as for data under a GS1 symbology identifier — unless a site
      // pattern reads the string (`read` drops the complaint then).
      result = parseGs1(scanned, { maxReadings: 64 });
      if (result.status === "invalid") return { readings: EMPTY, invalid: result.errors[0]?.message ?? "not a valid GS1 element string" };
    } else if (scanned.startsWith("http://") || scanned.startsWith("https://")) {
      // Any web address may be scanned (a QR code): one that is not a GS1 Digital Link reads as nothing.
      result = parseGs1(scanned, { maxReadings: 64 });
    } else if (symbologyId === undefined && step.gs1.length > 0 && scanned.length > 2 && isDigit(scanned.charCodeAt(0)) && isDigit(scanned.charCodeAt(1))) {
      // Bare data a scanner sends without symbology identifiers: read as the look-alike module reads it
      // (gs1ReadingsOf: every valid reading, nothing when it is not GS1).
      result = parseGs1Scan(scanned, { maxReadings: 64 });
      if (result.status === "invalid") return { readings: EMPTY, invalid: null };
    }
    if (!result) return { readings: EMPTY, invalid: null };
    // More readings than were enumerated: one not found could be of another kind, so the string is
    // not read at all (a pattern reading it does not change that; see \`read\`).
    if (result.status === "ambiguous" && result.truncated)
      return { readings: EMPTY, invalid: `the data reads in more ways than are checked (${result.readings.length} found); not read`, unreadable: true };
    return { readings: result.status === "valid" ? [result.reading] : result.status === "ambiguous" ? result.readings : EMPTY, invalid: null };
  }

  function read(step: Step, scanned: string, symbologyId: string | undefined): { readings: ScanReading[]; invalid: string | null } {
    const readings: ScanReading[] = [];
    const parsed = parseGs1Readings(step, scanned, symbologyId);
    const gs1 = parsed.readings;
    let invalid = parsed.invalid;
    for (const reading of gs1) {
      let held = false;
      for (const format of step.gs1) {
        if (!holdsAll(reading, format.ais)) continue;
        held = true;
        readings.push(gs1Reading(reading, format));
      }
      if (!held) readings.push(gs1Reading(reading, null));
    }
    if (symbologyId === undefined || !GS1_SYMBOLOGIES.has(symbologyId)) {
      const hits = step.matcher.match(scanned);
      for (let i = 0; i < hits.length; i++) {
        const format = step.patterns[hits[i]!]!;
        readings.push({ kind: format.identifies, syntax: "pattern", format: format.code, materials: format.listers, value: scanned });
      }
      // Bracketed text a site pattern reads is that pattern's, not invalid GS1.
      if (hits.length > 0 && !parsed.unreadable) invalid = null;
    }
    return { readings, invalid };
  }

  // -------------------------------------------------------------------------
  // Deciding
  // -------------------------------------------------------------------------

  const describe = (r: ScanReading) =>
    `${r.kind} ${r.materials.length ? `of ${r.materials.join("/")}` : r.gtinOf ? `of ${r.gtinOf} (by GTIN ${r.gtin})` : r.gtin ? `with GTIN ${r.gtin}` : "of no material"}${r.format ? ` (${r.format})` : ""}`;

  function decision(
    outcome: ScanOutcome,
    code: ScanReasonCode,
    message: string,
    readings: readonly ScanReading[],
    reading: ScanReading | null,
    line: Line | null,
    decidedBy: ScanDecidedBy,
    step?: number,
    substitutedBy?: string,
  ): ScanDecision {
    const out: ScanDecision = {
      outcome,
      reason: { code, message },
      readings,
      reading,
      required: line ? line.required : null,
      alternates: line ? line.alternates : EMPTY,
      decidedBy,
    };
    if (step !== undefined) out.step = step;
    if (substitutedBy !== undefined) out.substitutedBy = substitutedBy;
    return out;
  }

  function decide(input: ScanInput): ScanDecision {
    const parent = parents.get(input.parent);
    if (!parent)
      return decision(
        "refuse",
        "unknown-parent",
        `${input.parent} has no routing in ${document.site} rule set v${document.version}`,
        EMPTY,
        null,
        null,
        noRule,
      );

    let step: Step | undefined;
    if (input.step !== undefined) {
      step = parent.steps.get(input.step);
      if (!step)
        return decision("refuse", "unknown-step", `${input.parent} has no step ${input.step} at ${document.site}`, EMPTY, null, null, parent.decidedBy);
      if (input.workCentre !== undefined && input.workCentre !== step.workCentre) {
        return decision(
          "refuse",
          "unknown-step",
          `step ${input.step} of ${input.parent} is at ${step.workCentre}, not ${input.workCentre}`,
          EMPTY,
          null,
          null,
          parent.decidedBy,
        );
      }
    } else if (input.workCentre !== undefined) {
      const atCentre = parent.byWorkCentre.get(input.workCentre);
      if (!atCentre)
        return decision("refuse", "unknown-work-centre", `${input.parent} has no step at ${input.workCentre}`, EMPTY, null, null, parent.decidedBy);
      step = atCentre.find((s) => s.lines.has(input.expected)) ?? atCentre[0]!;
    } else {
      return decision("refuse", "unknown-step", "neither a step nor a work centre was given", EMPTY, null, null, parent.decidedBy);
    }

    const { readings, invalid } = read(step, input.scanned, input.symbologyId);
    const line = step.lines.get(input.expected);
    if (!line) {
      return decision(
        "refuse",
        "not-consumed-here",
        `${input.expected} is not consumed at step ${step.step} (${step.workCentre}) of ${input.parent}`,
        readings,
        null,
        null,
        step.decidedBy,
        step.step,
      );
    }
    const at = `step ${step.step} (${step.workCentre})`;
    if (line.consumptionScan === "none") {
      return decision("not-required", "not-required", `${at} requires no scan of ${line.component}`, readings, null, line, line.decidedBy, step.step);
    }
    if (line.unruled) {
      return decision(
        "refuse",
        "unruled-material",
        `${line.component} has no rule in ${document.site} rule set v${document.version}`,
        readings,
        null,
        line,
        line.decidedBy,
        step.step,
      );
    }
    if (!line.readable) {
      return decision(
        "refuse",
        "no-format",
        `${line.component}'s rule lists no identifier format: no scan can give what ${at} requires`,
        readings,
        null,
        line,
        line.decidedBy,
        step.step,
      );
    }
    if (invalid !== null)
      return decision("refuse", "invalid-gs1", `not a valid GS1 element string: ${invalid}`, readings, null, line, line.decidedBy, step.step);

    // The kinds the string reads as (readings naming a material, directly or by GTIN).
    let firstKind: Identifies | null = null;
    let ambiguous = false;
    for (const r of readings) {
      if (r.kind === "gs1" || (r.materials.length === 0 && !r.gtinOf)) continue;
      if (firstKind === null) firstKind = r.kind;
      else if (r.kind !== firstKind) ambiguous = true;
    }
    if (ambiguous) {
      const named = readings.filter((r) => r.kind !== "gs1" && (r.materials.length > 0 || r.gtinOf));
      return decision(
        "ambiguous",
        "ambiguous",
        `${input.scanned.replaceAll("\u001d", "<GS>")} reads as ${named.map(describe).join(" and as ")}`,
        readings,
        null,
        line,
        line.decidedBy,
        step.step,
      );
    }
    if (firstKind === null) {
      const byGtin = readings.find((r) => r.gtin !== undefined);
      if (byGtin?.gtinOf === input.expected || (byGtin?.gtinOf && line.alternateInfo.has(byGtin.gtinOf))) {
        return decision(
          "refuse",
          "format-not-in-rule",
          `GTIN ${byGtin.gtin} is ${byGtin.gtinOf}'s, but its rule lists no format in use at ${at} that reads ${byGtin.elementString}`,
          readings,
          byGtin,
          line,
          line.decidedBy,
          step.step,
        );
      }
      if (byGtin?.gtinOf) {
        return decision(
          "refuse",
          "gtin-other-material",
          `GTIN ${byGtin.gtin} is ${byGtin.gtinOf}'s, not ${line.component}'s`,
          readings,
          byGtin,
          line,
          line.decidedBy,
          step.step,
        );
      }
      if (byGtin) {
        return decision(
          "refuse",
          "gtin-unknown",
          `GTIN ${byGtin.gtin} belongs to no material in ${document.site} rule set v${document.version}`,
          readings,
          byGtin,
          line,
          line.decidedBy,
          step.step,
        );
      }
      return decision(
        "refuse",
        "no-reading",
        `reads as no identifier format in use at ${at} for ${line.component}`,
        readings,
        null,
        line,
        line.decidedBy,
        step.step,
      );
    }

    // One kind: the BOM line's material first, then its alternates in preference order.
    const kind = firstKind;
    const readingOf = (part: string) => readings.find((r) => r.kind === kind && (r.materials.includes(part) || r.gtinOf === part));
    const own = readingOf(line.component);
    if (own) {
      if (!own.materials.includes(line.component)) {
        return decision("refuse", "format-not-in-rule", `${line.component}'s rule does not list ${own.format}`, readings, own, line, line.decidedBy, step.step);
      }
      if (line.required.accepts.length === 0 || line.required.accepts.includes(kind)) {
        return decision(
          "accept",
          "accepted",
          `reads as ${kind} of ${line.component} (${own.format}), as ${at} requires`,
          readings,
          own,
          line,
          line.decidedBy,
          step.step,
        );
      }
      return decision(
        "refuse",
        "wrong-level",
        `reads as ${kind} of ${line.component} (${own.format}); ${at} requires ${line.required.accepts.join(" or ")}`,
        readings,
        own,
        line,
        line.decidedBy,
        step.step,
      );
    }
    for (const alternate of line.alternates) {
      const r = readingOf(alternate.partNumber);
      if (!r) continue;
      const info = line.alternateInfo.get(alternate.partNumber)!;
      if (!r.materials.includes(alternate.partNumber)) {
        return decision(
          "refuse",
          "format-not-in-rule",
          `${alternate.partNumber}'s rule does not list ${r.format}`,
          readings,
          r,
          line,
          info.decidedBy,
          step.step,
          alternate.partNumber,
        );
      }
      if (info.compatible && (info.accepts.length === 0 || info.accepts.includes(kind))) {
        return decision(
          "accept",
          "accepted-alternate",
          `reads as ${kind} of ${alternate.partNumber} (${r.format}), an allowed alternate of ${line.component} at ${at}`,
          readings,
          r,
          line,
          info.decidedBy,
          step.step,
          alternate.partNumber,
        );
      }
      return decision(
        "refuse",
        "alternate-incompatible",
        `reads as ${kind} of ${alternate.partNumber} (${r.format}), an alternate of ${line.component} whose tracking (${alternate.trackingMode ?? "no rule"}) cannot give the ${line.required.level ?? "scan"} ${at} requires`,
        readings,
        r,
        line,
        info.decidedBy,
        step.step,
        alternate.partNumber,
      );
    }
    const first = readings.find((r) => r.kind === kind && (r.materials.length > 0 || r.gtinOf))!;
    if (first.gtin !== undefined && first.materials.length === 0) {
      return decision(
        "refuse",
        "gtin-other-material",
        `GTIN ${first.gtin} is ${first.gtinOf}'s, not ${line.component}'s`,
        readings,
        first,
        line,
        line.decidedBy,
        step.step,
      );
    }
    return decision("refuse", "wrong-material", `reads as ${describe(first)}, not ${line.component}`, readings, first, line, line.decidedBy, step.step);
  }

  return { site: document.site, version: document.version, digest, decide, matchers: Object.freeze(matchers) };
}
