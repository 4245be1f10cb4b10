import { SIGNATURE_MEANING_VALUES } from "../domain/change-request-lifecycle";
import { z } from "zod";
import { DISAGREEMENT_KEY } from "../domain/reconciliation";
import { webLinkSchema } from "./link";
import { REGULATORY_FLAGS, RISK_CLASSES } from "../domain/material";
import { REVIEWER_ROLES } from "../domain/roles";
import { CONSUMPTION_SCANS, TRACKING_MODES } from "../domain/tracking-rule";
import { REQUIREMENT_SCOPES, type TraceabilityDeviation } from "../domain/traceability-requirement";
import {
  LEGACY_DATA_PLANS,
  type ChangeRequestContent,
  type LegacyDataPlan,
  type ProposedChange,
  type ProposedRequirementChange,
} from "../domain/change-request-content";

// The types are the domain's (ADR 022); the schemas below parse into them (checked by `satisfies`).
export { LEGACY_DATA_PLANS };
export type { ChangeRequestContent, LegacyDataPlan, ProposedChange };
export const LEGACY_DATA_PLAN_LABELS: Record<LegacyDataPlan, string> = {
  grandfather: "Grandfather existing lots and serials",
  reidentify_at_next_movement: "Re-identify at next movement",
  convert_now: "Convert now",
};

const asArray = (v: unknown) => (v === undefined || v === "" ? [] : Array.isArray(v) ? v : [v]);
const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean());
const code = z.string().trim().toUpperCase().max(64);
/** "A, B C" or ["A","B"] → ["A","B","C"] */
const codeList = z.preprocess(
  (v) =>
    asArray(v)
      .flatMap((x) => (typeof x === "string" ? x.split(/[\s,]+/) : [x]))
      .filter((x) => x !== ""),
  z.array(code.min(1)).max(20),
);

/** A tracking-rule change for one material (or a whole family, expanded at submit) at some sites. */
export const trackingChangeSchema = z
  .object({
    kind: z.literal("tracking"),
    material: code.optional().transform((v) => v || undefined),
    family: code.optional().transform((v) => v || undefined),
    sites: z.preprocess(asArray, z.array(code.min(1)).min(1, "Choose at least one site").max(50)),
    trackingMode: z.enum(TRACKING_MODES, { error: "Choose a tracking mode" }),
    containerTracking: checkbox,
    identifierFormatCodes: codeList,
    consumptionScan: z.enum(CONSUMPTION_SCANS, { error: "Choose the scan required at consumption" }),
  })
  .refine((c) => (c.material ? 1 : 0) + (c.family ? 1 : 0) === 1, { path: ["material"], message: "Name a material or a family (one of them)" });

const GTIN = /^[0-9]{14}$/;
/** Governed material attributes; they apply at every site from the change request's first release. */
export const attributeChangeSchema = z
  .object({
    kind: z.literal("attributes"),
    material: code.min(1, "Name the material"),
    riskClass: z
      .enum(RISK_CLASSES)
      .optional()
      .or(z.literal("").transform(() => undefined)),
    regulatoryFlags: z.preprocess((v) => (v === undefined ? undefined : asArray(v).filter((x) => x !== "")), z.array(z.enum(REGULATORY_FLAGS)).optional()),
    family: code.optional().transform((v) => v || undefined),
    gtin: z
      .string()
      .trim()
      .regex(GTIN, "A GTIN-14: 14 digits")
      .optional()
      .or(z.literal("").transform(() => undefined)),
  })
  .refine((c) => c.riskClass || c.regulatoryFlags || c.family || c.gtin, { path: ["material"], message: "Change at least one attribute" });

/**
 * The approved alternates of one BOM line (parent + primary component) at some sites, in order of
 * preference; an empty list removes them. A coarser-tracked alternate is a traceability downgrade.
 */
export const alternatesChangeSchema = z.object({
  kind: z.literal("alternates"),
  material: code.min(1, "Name the parent material of the BOM line"),
  component: code.min(1, "Name the line's primary component"),
  sites: z.preprocess(asArray, z.array(code.min(1)).min(1, "Choose at least one site").max(50)),
  alternates: codeList,
});

/** A new material master; its tracking rules come from tracking changes in the same change request. */
export const newMaterialSchema = z.object({
  kind: z.literal("new_material"),
  partNumber: code.regex(/^[A-Z0-9][A-Z0-9._-]{1,39}$/, "2–40 characters: letters, digits, dot, dash, underscore"),
  description: z.string().trim().min(3, "At least 3 characters").max(200),
  unitOfMeasure: z.string().trim().toUpperCase().min(1, "Give the unit of measure").max(10),
  family: code.min(1, "Choose the family"),
  riskClass: z.enum(RISK_CLASSES, { error: "Choose the risk class" }),
  regulatoryFlags: z.preprocess((v) => asArray(v).filter((x) => x !== ""), z.array(z.enum(REGULATORY_FLAGS)).default([])),
  gtin: z
    .string()
    .trim()
    .regex(GTIN, "A GTIN-14: 14 digits")
    .optional()
    .or(z.literal("").transform(() => undefined)),
});

const targetSchema = z
  .object({
    scope: z.string().optional(),
    partNumber: z.string().optional(),
    family: z.string().optional(),
    riskClass: z.string().optional(),
    regulated: z.boolean().optional(),
  })
  .optional();

/**
 * Required traceability for one target, plant-wide (ADR 035): the minimum tracking, container or not,
 * the scan at consumption, the justification and its references (risk assessment ids, standard clauses).
 * The form sends the target flat (scope + the field of that scope, named like the other kinds' fields);
 * JSON may send `target` instead.
 */
export const requirementChangeSchema = z
  .object({
    kind: z.literal("traceability_requirement"),
    target: targetSchema,
    scope: z.enum(REQUIREMENT_SCOPES, { error: "Choose what the requirement applies to" }).optional(),
    material: code.optional().transform((v) => v || undefined),
    family: code.optional().transform((v) => v || undefined),
    riskClass: z
      .enum(RISK_CLASSES)
      .optional()
      .or(z.literal("").transform(() => undefined)),
    regulated: checkbox,
    minimumTracking: z.enum(TRACKING_MODES, { error: "Choose the minimum tracking" }),
    containerRequired: checkbox,
    requiredScan: z.enum(CONSUMPTION_SCANS, { error: "Choose the scan required at consumption" }),
    justification: z.string().trim().min(10, "Justify the requirement (at least 10 characters)").max(5_000),
    references: z.preprocess(
      (v) =>
        asArray(v)
          .flatMap((x) => (typeof x === "string" ? x.split(/[\n;]+/) : [x]))
          .map((x) => (typeof x === "string" ? x.trim() : x))
          .filter((x) => x !== ""),
      z.array(z.string().max(200)).max(30, "At most 30 references"),
    ),
  })
  .transform(({ target, scope, material, family, riskClass, regulated, ...content }, ctx): ProposedRequirementChange => {
    const s = target?.scope ?? scope;
    const part = (target?.partNumber ?? material)?.trim().toUpperCase();
    const fam = (target?.family ?? family)?.trim().toUpperCase();
    const risk = target?.riskClass ?? riskClass;
    const fail = (path: string, message: string) => {
      ctx.addIssue({ code: "custom", path: [path], message });
      return z.NEVER;
    };
    if (s === "material") return part ? { ...content, target: { scope: "material", partNumber: part } } : fail("material", "Name the material");
    if (s === "family") return fam ? { ...content, target: { scope: "family", family: fam } } : fail("family", "Name the family");
    if (s === "risk_class") {
      if (!risk || !(RISK_CLASSES as readonly string[]).includes(risk)) return fail("riskClass", "Choose the risk class");
      return { ...content, target: { scope: "risk_class", riskClass: risk as (typeof RISK_CLASSES)[number], regulated: target?.regulated ?? regulated } };
    }
    return fail("scope", "Choose what the requirement applies to");
  });

export const changeSchema = z.discriminatedUnion("kind", [
  trackingChangeSchema,
  attributeChangeSchema,
  alternatesChangeSchema,
  newMaterialSchema,
  requirementChangeSchema,
]) satisfies z.ZodType<ProposedChange>;

const CALENDAR_DATE = /^\d{4}-\d\d-\d\d$/;
/**
 * A deviation from required traceability for one material at one site (ADR 036): why, the risk
 * assessment it rests on, the controls that compensate, and its last day (empty: until a later
 * request restores the requirement). "Not in the past" is checked at submit, in the author's zone.
 */
export const deviationSchema = z.object({
  material: code.min(1, "Name the material"),
  site: code.min(1, "Name the site"),
  reason: z.string().trim().min(10, "Say why (at least 10 characters)").max(5_000),
  riskAssessmentRef: z.string().trim().min(1, "Name the risk assessment (e.g. RA-2026-014)").max(200),
  compensatingControls: z.string().trim().min(10, "Describe the compensating controls (at least 10 characters)").max(5_000),
  expiresOn: z
    .string()
    .trim()
    .nullish()
    .transform((v, ctx) => {
      if (!v) return null;
      if (!CALENDAR_DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
        ctx.addIssue({ code: "custom", message: "A date: YYYY-MM-DD" });
        return z.NEVER;
      }
      return v;
    }),
}) satisfies z.ZodType<TraceabilityDeviation, unknown>;

export const changeRequestContentSchema = z.object({
  title: z.string().trim().min(5, "At least 5 characters").max(200, "At most 200 characters"),
  justification: z.string().trim().min(10, "Say why (at least 10 characters)").max(10_000),
  riskAssessment: z.string().trim().min(10, "Assess the risk (at least 10 characters)").max(10_000),
  legacyDataPlan: z.enum(LEGACY_DATA_PLANS, { error: "Choose what happens to existing lots and serials" }),
  legacyDataNotes: z.string().trim().max(5_000).default(""),
  /** UTC; empty = at release. */
  proposedEffectiveFrom: z
    .string()
    .trim()
    .nullish()
    .transform((v, ctx) => {
      if (!v) return null;
      const d = new Date(/Z|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: "custom", message: "A date and time (UTC)" });
        return z.NEVER;
      }
      return d.toISOString();
    }),
  revalidationRequired: checkbox,
  revalidationTasks: z.preprocess(
    (v) => asArray(v).filter((t) => t && typeof t === "object" && String((t as { description?: string }).description ?? "").trim() !== ""),
    z.array(z.object({ description: z.string().trim().min(3).max(500), evidenceUrl: z.literal("").or(webLinkSchema).default("") })).max(30),
  ),
  changes: z.preprocess(asArray, z.array(changeSchema).min(1, "Propose at least one change").max(200)),
  /**
   * The ERP/PLM disagreements (reconciliation keys PART@SITE) this request resolves. Left out of
   * the content when empty, so requests that cite nothing keep the content (and hash) they had.
   */
  resolvesDisagreements: z
    .preprocess(
      (v) =>
        asArray(v)
          .flatMap((x) => (typeof x === "string" ? x.split(/[\s,]+/) : [x]))
          .filter((x) => x !== ""),
      z.array(z.string().trim().toUpperCase().regex(DISAGREEMENT_KEY, "A disagreement key: PART@SITE, e.g. ASM-1003@EIN")).max(50, "At most 50"),
    )
    .optional()
    .transform((v) => (v?.length ? [...new Set(v)].sort() : undefined)),
  /** Deviations from required traceability (ADR 036); left out of the content when empty (the hash of other requests is unchanged). */
  deviations: z
    .preprocess(
      (v) =>
        asArray(v).filter(
          (d) => d && typeof d === "object" && Object.values(d as Record<string, unknown>).some((x) => typeof x === "string" && x.trim() !== ""),
        ),
      z.array(deviationSchema).max(200, "At most 200"),
    )
    .optional()
    .transform((v) => (v?.length ? v : undefined)),
}) satisfies z.ZodType<ChangeRequestContent>;
export type ChangeRequestContentInput = z.input<typeof changeRequestContentSchema>;

export { SIGNATURE_MEANINGS, type SignatureMeaning } from "../domain/change-request-lifecycle";

/** The signature dialog: the password again (and the user name at a session's first signing). */
export const signatureSchema = z
  .object({
    meaning: z.enum(SIGNATURE_MEANING_VALUES, { error: "Choose the meaning of your signature" }),
    role: z.enum(REVIEWER_ROLES, { error: "Choose the role you sign in" }),
    username: z.string().trim().toLowerCase().max(64).optional(),
    password: z.string().min(1, "Enter your password").max(256),
    comment: z.string().trim().max(5_000).default(""),
    /** "approve deviation from required traceability" (ADR 036): required of a regulatory reviewer approving a request with deviations. */
    attestDeviation: checkbox.optional().default(false),
    rowVersion: z.coerce.number().int().positive(),
    /** The SHA-256 of the impact analysis the signer reviewed: a signature names it. */
    analysisHash: z.string().regex(/^[0-9a-f]{64}$/, "Run the impact analysis and review it before you sign"),
    /**
     * The SHA-256 of the replay stored with that analysis (ADR 041), when the signer's page showed one.
     * Absent (older callers): the server binds the replay stored with the analysis named above.
     */
    replayHash: z.preprocess(
      (v) => (v === "" ? undefined : v),
      z
        .string()
        .regex(/^[0-9a-f]{64}$/, "Not a SHA-256")
        .optional(),
    ),
    /** The keys of the analysis's critical and warning findings the signer acknowledges (ADR 029). */
    acknowledged: z.preprocess(
      (v) => (Array.isArray(v) ? v : v === undefined || v === "" ? [] : [v]),
      z.array(z.string().max(300)).max(1000, "At most 1000 acknowledgements"),
    ),
  })
  .refine((s) => s.meaning !== "rejected" || s.comment.length > 0, { path: ["comment"], message: "Say why you reject it" });
export type SignatureInput = z.input<typeof signatureSchema>;
