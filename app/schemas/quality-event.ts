/**
 * One quality event as raised (ADR 034): the one schema the new-event form (browser and server), the
 * CLI and the QMS CSV import parse with; the service parses with it too. The reference rules are the
 * domain's (app/domain/quality-event-rules.ts); that each reference exists at the event's site is the
 * service's check.
 */
import { z } from "zod";
import {
  QUALITY_DISPOSITIONS,
  QUALITY_EVENT_KINDS,
  QUALITY_EVENT_SEVERITIES,
  QUALITY_EVENT_STATUSES,
  QUALITY_REFERENCE_KINDS,
  type QualityDisposition,
  type QualityEventStatus,
} from "../domain/quality-event";
import { initialStatusProblem, referenceProblems } from "../domain/quality-event-rules";

/** An empty field (a form's blank input, a CSV's empty cell) is absent. */
const blankAsAbsent = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
/** NUL and other control characters (line breaks and tabs allowed where `multiline`): PostgreSQL text cannot hold NUL. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const noControl =
  (multiline = false) =>
  (v: string) =>
    !(multiline ? CONTROL_BUT_LINES : CONTROL).test(v);
const CONTROL_MESSAGE = "Contains a control character (NUL or similar)";
const optionalText = (max: number) =>
  z.preprocess(blankAsAbsent, z.string().trim().max(max, `At most ${max} characters`).refine(noControl(), CONTROL_MESSAGE).optional());

export const qualityReferenceInputSchema = z.object({
  kind: z.enum(QUALITY_REFERENCE_KINDS, { error: "Choose serial, lot, container or material" }),
  material: optionalText(64),
  identifier: optionalText(128),
});
export type QualityReferenceInput = z.input<typeof qualityReferenceInputSchema>;

const qualityEventFields = z.object({
  kind: z.enum(QUALITY_EVENT_KINDS, { error: "Choose nonconformance, concession, rework order or customer complaint" }),
  site: z.string({ error: "Choose the site" }).trim().min(1, "Choose the site").max(16, "At most 16 characters").refine(noControl(), CONTROL_MESSAGE),
  severity: z.enum(QUALITY_EVENT_SEVERITIES, { error: "Choose minor, major or critical" }),
  title: z
    .string({ error: "Give a title" })
    .trim()
    .min(3, "Give a title (at least 3 characters)")
    .max(200, "At most 200 characters")
    .refine(noControl(), CONTROL_MESSAGE),
  description: z.preprocess((v) => v ?? "", z.string().trim().max(5000, "At most 5000 characters").refine(noControl(true), CONTROL_MESSAGE)),
  /** When the event was raised (ISO 8601 with a zone); now when absent. An import brings past events. */
  raisedAt: z.preprocess(blankAsAbsent, z.iso.datetime({ offset: true, error: "Give the time as ISO 8601 with a zone (2026-12-07T18:05:00Z)" }).optional()),
  /** The QMS's own id (an import's key). */
  externalId: optionalText(100),
  status: z.preprocess(blankAsAbsent, z.enum(QUALITY_EVENT_STATUSES, { error: "Choose open, contained or closed" }).default("open")),
  disposition: z.preprocess(blankAsAbsent, z.enum(QUALITY_DISPOSITIONS, { error: "Choose a disposition" }).default("pending")),
  references: z.array(qualityReferenceInputSchema, { error: "Name at least one serial, lot, container or material" }).max(200, "At most 200 references"),
});

/** The rules across fields (the domain's): references, a closed event's disposition, no future raise. */
function checkQualityEvent(
  value: { references: z.output<typeof qualityReferenceInputSchema>[]; status?: QualityEventStatus; disposition?: QualityDisposition; raisedAt?: string },
  ctx: z.RefinementCtx,
) {
  for (const [key, messages] of Object.entries(referenceProblems(value.references))) {
    for (const message of messages) ctx.addIssue({ code: "custom", path: key.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)), message });
  }
  const closed = value.status && value.disposition ? initialStatusProblem(value.status, value.disposition) : null;
  if (closed) ctx.addIssue({ code: "custom", path: ["disposition"], message: closed });
  if (value.raisedAt && Date.parse(value.raisedAt) > Date.now() + 5 * 60_000) {
    ctx.addIssue({ code: "custom", path: ["raisedAt"], message: "An event cannot be raised in the future" });
  }
}

export const qualityEventInputSchema = qualityEventFields.superRefine(checkQualityEvent);

/** What a caller gives (strings as typed; status, disposition and raisedAt may be left out). */
export type QualityEventInput = z.input<typeof qualityEventInputSchema>;
/** What the service works with, after parsing. */
export type QualityEventParsed = z.output<typeof qualityEventInputSchema>;

/** The status form on an event's page (quality reviewers): the service checks the transition. */
export const qualityEventStatusSchema = z.object({
  status: z.enum(QUALITY_EVENT_STATUSES, { error: "Choose open, contained or closed" }),
  disposition: z.enum(QUALITY_DISPOSITIONS, { error: "Choose a disposition" }),
  comment: z.string({ error: "Say what was decided" }).trim().min(3, "Say what was decided (at least 3 characters)").max(2000, "At most 2000 characters"),
  rowVersion: z.coerce.number({ error: "Reload the page" }).int().positive(),
});
export type QualityEventStatusInput = z.input<typeof qualityEventStatusSchema>;

/** The list's filters (a bad value shows everything rather than failing). */
export const qualityEventFilterSchema = z.object({
  site: z.string().trim().max(16).optional().catch(undefined),
  status: z.enum(QUALITY_EVENT_STATUSES).optional().catch(undefined),
  kind: z.enum(QUALITY_EVENT_KINDS).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

/** How many reference rows the new-event form offers (a QMS export or the CLI takes up to 200). */
export const QUALITY_EVENT_FORM_ROWS = 6;

/**
 * The new-event form (/quality-events/new), in the browser and on the server: the event as raised,
 * with the form's trailing reference rows left empty (no material, no identifier) dropped. Only
 * trailing ones, so that an error still names the row the user sees (`references.2.identifier`); an
 * empty row between filled ones is an error of that row. The form offers no status, disposition,
 * time or QMS id: an event raised here is open, pending, now, and C-981's own.
 */
export const qualityEventFormSchema = z.preprocess(
  (value) => {
    if (typeof value !== "object" || value === null || !Array.isArray((value as { references?: unknown }).references)) return value;
    const rows = [...((value as { references: unknown[] }).references ?? [])];
    const empty = (row: unknown) => {
      if (typeof row !== "object" || row === null) return false;
      const r = row as { material?: unknown; identifier?: unknown };
      return blankAsAbsent(r.material) === undefined && blankAsAbsent(r.identifier) === undefined;
    };
    while (rows.length > 0 && empty(rows[rows.length - 1])) rows.pop();
    return { ...value, references: rows };
  },
  qualityEventFields.omit({ status: true, disposition: true, raisedAt: true, externalId: true }).superRefine(checkQualityEvent),
);
