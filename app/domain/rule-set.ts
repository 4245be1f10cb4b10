import { createHash } from "node:crypto";
import { canonicalize } from "./canonical-json";
import type { IdentifierFormat } from "../../packages/identifiers/src/identifier-format";
import type { RiskClass } from "./material";
import type { ConsumptionScan, Identifies, TrackingMode } from "./tracking-rule";

/**
 * The compiled rule set of one site at one version: what runtime MES systems pull and apply.
 * Its RFC 8785 canonical bytes are digested (and, with the release issue, signed).
 */
/** The document type runtimes check (the release issue's document format). */
export const RULE_SET_TYPE = "c981.ruleset";
export const RULE_SET_SCHEMA_VERSION = 1;
/** Schema version 2 (ADR 039): v1 plus, on each rule, its id and the routing of its material at the site. */
export const RULE_SET_SCHEMA_VERSION_2 = 2;
/** The schema versions a rule-set version may be served in (ADR 039). */
export const RULE_SET_SCHEMA_VERSIONS = [1, 2] as const;
export type RuleSetSchemaVersion = (typeof RULE_SET_SCHEMA_VERSIONS)[number];

export interface CompiledRule {
  partNumber: string;
  gtin: string | null;
  trackingMode: TrackingMode;
  containerTracking: boolean;
  consumptionScan: ConsumptionScan;
  identifierFormats: string[];
  riskClass: RiskClass;
  /** Per BOM line of this material at the site: the primary component and its approved alternates, in order. */
  allowedAlternates: { component: string; alternates: string[] }[];
  /**
   * The open deviation from required traceability of this material at the site (ADR 036): the change
   * request that carries it, its last day (null: none) and the shortfalls it covers. Present only when
   * there is one, so rule sets without deviations keep their canonical bytes and digests.
   */
  deviation?: RuleDeviation;
}

export interface RuleDeviation {
  changeRequest: string;
  expiresOn: string | null;
  shortfalls: string[];
}

export interface CompiledIdentifierFormat {
  name: string;
  identifies: Identifies;
  definition: IdentifierFormat;
}

export interface RuleSetDocument {
  type: typeof RULE_SET_TYPE;
  schemaVersion: typeof RULE_SET_SCHEMA_VERSION;
  site: string;
  version: number;
  effectiveFrom: string;
  issuedAt: string;
  expiresAt: string;
  kind: "release" | "renewal";
  /** The change requests released by this version. */
  changeRequests: string[];
  /** `sha256:` + hex of the previous version's canonical bytes; null for the first. */
  previousDigest: string | null;
  /** Thumbprints (RFC 7638) of the keys that sign this version. */
  signingKeys: string[];
  identifierFormats: Record<string, CompiledIdentifierFormat>;
  rules: CompiledRule[];
}

export interface CompileInput {
  site: string;
  version: number;
  effectiveFrom: Date;
  issuedAt: Date;
  expiresAt: Date;
  kind: "release" | "renewal";
  changeRequests: readonly string[];
  signingKeys: readonly string[];
  previousDigest: string | null;
  rules: readonly CompiledRule[];
  formats: ReadonlyMap<string, CompiledIdentifierFormat>;
}

export interface CompiledRuleSet {
  document: RuleSetDocument;
  canonical: string;
  bytes: Uint8Array;
  /** SHA-256 of the canonical bytes, lowercase hex. */
  digest: string;
}

/** One step of the routing that makes a rule's material at the site (schema version 2, ADR 039). */
export interface RoutingStep {
  step: number;
  workCentre: string;
  /** The materials consumed at the step and the scan the work instruction requires, by component part number. */
  consumes: { component: string; consumptionScan: ConsumptionScan }[];
}

/** A rule of schema version 2: v1's rule plus `id` (`<SITE>/<PARTNUMBER>`) and the routing of its material. */
export type CompiledRuleV2 = Omit<CompiledRule, "deviation"> & {
  id: string;
  routing: { step: number; workCentre: string; consumes: { component: string; consumptionScan: ConsumptionScan; id: string }[] }[];
  deviation?: RuleDeviation;
};

export interface RuleSetDocumentV2 extends Omit<RuleSetDocument, "schemaVersion" | "rules"> {
  schemaVersion: typeof RULE_SET_SCHEMA_VERSION_2;
  rules: CompiledRuleV2[];
}

export interface CompiledRuleSetV2 {
  document: RuleSetDocumentV2;
  canonical: string;
  bytes: Uint8Array;
  digest: string;
}

export interface CompileBothInput extends CompileInput {
  /** The previous version's v2 digest (hex) when it has one, else its v1 digest; null for the first version. */
  previousDigestV2: string | null;
  /** The routing of each material (as parent) at the site, by part number; absent: no routing. */
  routing: ReadonlyMap<string, readonly RoutingStep[]>;
}

/**
 * A version compiled once into both forms (ADR 039): the v1 document (exactly compileRuleSet's bytes)
 * and the v2 document, which is the v1 document with `schemaVersion: 2`, `previousDigest` chained to
 * the previous version's v2 digest (or its v1 digest when it has none), and each rule's `id` and
 * `routing` (steps ascending, consumed components by part number).
 */
export function compileRuleSetVersions(input: CompileBothInput): { v1: CompiledRuleSet; v2: CompiledRuleSetV2 } {
  const v1 = compileRuleSet(input);
  const site = input.site;
  const rules: CompiledRuleV2[] = v1.document.rules.map((rule) => ({
    ...rule,
    id: `${site}/${rule.partNumber}`,
    routing: [...(input.routing.get(rule.partNumber) ?? [])]
      .sort((a, b) => a.step - b.step)
      .map((s, i, all) => {
        if (i > 0 && all[i - 1]!.step === s.step) throw new Error(`routing of ${rule.partNumber} at ${site} has step ${s.step} twice`);
        return {
          step: s.step,
          workCentre: s.workCentre,
          consumes: [...s.consumes]
            .sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0))
            .map((c) => ({ component: c.component, consumptionScan: c.consumptionScan, id: `${site}/${rule.partNumber}/${s.step}/${c.component}` })),
        };
      }),
  }));
  const document: RuleSetDocumentV2 = {
    ...v1.document,
    schemaVersion: RULE_SET_SCHEMA_VERSION_2,
    previousDigest: input.previousDigestV2 === null ? null : `sha256:${input.previousDigestV2}`,
    rules,
  };
  const canonical = canonicalize(document);
  const bytes = new TextEncoder().encode(canonical);
  const digest = createHash("sha256").update(bytes).digest("hex");
  return { v1, v2: { document, canonical, bytes, digest } };
}

/** Deterministic: rules sorted by part number, only the formats the rules use, canonical JSON. */
export function compileRuleSet(input: CompileInput): CompiledRuleSet {
  const rules = [...input.rules]
    .map(({ deviation, ...r }) => ({
      ...r,
      identifierFormats: [...r.identifierFormats].sort(),
      allowedAlternates: [...r.allowedAlternates].sort((a, b) => a.component.localeCompare(b.component)),
      // The key only when there is a deviation: an absent one never writes `deviation` (digests unchanged).
      ...(deviation ? { deviation: { changeRequest: deviation.changeRequest, expiresOn: deviation.expiresOn, shortfalls: [...deviation.shortfalls] } } : {}),
    }))
    .sort((a, b) => (a.partNumber < b.partNumber ? -1 : a.partNumber > b.partNumber ? 1 : 0));
  for (let i = 1; i < rules.length; i++) {
    if (rules[i]!.partNumber === rules[i - 1]!.partNumber) {
      throw new Error(`rule set for ${input.site} v${input.version} has two rules for ${rules[i]!.partNumber}`);
    }
  }
  const identifierFormats: Record<string, CompiledIdentifierFormat> = {};
  for (const rule of rules) {
    for (const code of rule.identifierFormats) {
      const format = input.formats.get(code);
      if (!format) throw new Error(`rule for ${rule.partNumber} uses unknown identifier format ${code}`);
      identifierFormats[code] = format;
    }
  }
  const document: RuleSetDocument = {
    type: RULE_SET_TYPE,
    schemaVersion: RULE_SET_SCHEMA_VERSION,
    site: input.site,
    version: input.version,
    effectiveFrom: input.effectiveFrom.toISOString(),
    issuedAt: input.issuedAt.toISOString(),
    expiresAt: input.expiresAt.toISOString(),
    kind: input.kind,
    changeRequests: [...input.changeRequests].sort(),
    previousDigest: input.previousDigest === null ? null : `sha256:${input.previousDigest}`,
    signingKeys: [...input.signingKeys].sort(),
    identifierFormats,
    rules,
  };
  const canonical = canonicalize(document);
  const bytes = new TextEncoder().encode(canonical);
  const digest = createHash("sha256").update(bytes).digest("hex");
  return { document, canonical, bytes, digest };
}

/**
 * SHA-256 of a rule set's rules alone (rules and the formats they use), not of its envelope
 * (site, version, times, chain): the base a change request is written against. A renewal that
 * changes no rule keeps it.
 */
export function rulesDigest(document: Pick<RuleSetDocument, "rules" | "identifierFormats">): string {
  return createHash("sha256")
    .update(canonicalize({ identifierFormats: document.identifierFormats, rules: document.rules }))
    .digest("hex");
}

/** The rules digest of a site with no rule-set version yet. */
export const EMPTY_RULES_DIGEST = rulesDigest({ rules: [], identifierFormats: {} });
