/**
 * Read models for the audit trail: the paged screen, a record's history, the dashboard's latest
 * entries and the CSV export. Every function takes the database first and selects named columns.
 *
 * The screen never ships a row's whole before/after: jsonb can be large (a rule-set version's
 * payload), and 50 of them would make every page heavy. It gets the first AUDIT_JSON_PREVIEW_CHARS
 * characters of each, indented by PostgreSQL, with the full length; the CSV export has it all.
 */
import { and, asc, desc, eq, gt, gte, lt, lte, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { auditTrail } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** The latest committed audit seq: the data point a reader can name for what it saw. */
export async function currentDataPoint(db: DbOrTx): Promise<number> {
  const rows = await db.execute<{ seq: string | null }>(sql`select max(seq)::text as seq from audit_trail`);
  return rows[0]?.seq ? Number(rows[0].seq) : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Filters                                                                                     */
/* ------------------------------------------------------------------------------------------ */

export interface AuditFilters {
  entityType?: string;
  entityId?: string;
  actor?: string;
  /** Inclusive bounds on recorded_at. */
  from?: Date;
  to?: Date;
}

/**
 * A point in time from a link or a form: ISO 8601 with a zone (`2026-03-01T06:00:00Z`,
 * `…+01:00`), or without one as a `datetime-local` input sends it (`2026-03-01T06:00`), read
 * as UTC like every time on the portal; a date alone is its midnight UTC.
 */
const TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export const auditTimeSchema = z
  .string()
  .trim()
  .max(40, "is too long to be a date and time")
  .regex(TIME_PATTERN, "is not a date and time (ISO 8601, e.g. 2026-03-01T06:00:00Z)")
  .transform((value, ctx) => {
    const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = TIME_PATTERN.exec(value)!;
    const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
    const ms = Number(fraction.padEnd(3, "0").slice(0, 3));
    const utc = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], ms));
    // Date.UTC rolls 31 February over into March; a calendar date must come back unchanged.
    const valid =
      utc.getUTCFullYear() === parts[0] &&
      utc.getUTCMonth() === parts[1] - 1 &&
      utc.getUTCDate() === parts[2] &&
      utc.getUTCHours() === parts[3] &&
      utc.getUTCMinutes() === parts[4] &&
      utc.getUTCSeconds() === parts[5];
    if (!valid) {
      ctx.addIssue({ code: "custom", message: "is not a valid calendar date and time" });
      return z.NEVER;
    }
    let offsetMinutes = 0;
    if (zone.toUpperCase() !== "Z") {
      const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
      offsetMinutes = (zm[1] === "-" ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3]));
      if (Number(zm[2]) > 23 || Number(zm[3]) > 59) {
        ctx.addIssue({ code: "custom", message: "has an impossible time-zone offset" });
        return z.NEVER;
      }
    }
    return new Date(utc.getTime() - offsetMinutes * 60_000);
  });

const textFilter = (max: number) => z.string().trim().min(1).max(max, `is longer than ${max} characters`);

const FILTER_SCHEMAS = {
  entityType: textFilter(100),
  entityId: textFilter(200),
  actor: textFilter(200),
  from: auditTimeSchema,
  to: auditTimeSchema,
} satisfies Record<keyof AuditFilters, z.ZodType>;

const FILTER_LABELS: Record<keyof AuditFilters, string> = {
  entityType: "Entity type",
  entityId: "Entity id",
  actor: "Actor",
  from: "From",
  to: "To",
};

export interface AuditFilterProblem {
  message: string;
  /** The filter was dropped (its value did not parse); else it applies but cannot match. */
  ignored: boolean;
}

export interface ParsedAuditSearch {
  filters: AuditFilters;
  /** Keyset: rows with seq below this; none = from the head. */
  before?: number;
  /** What is wrong with the filters, for the page to say so. */
  problems: AuditFilterProblem[];
}

/**
 * The audit filters of a URL, each parsed on its own: a bad value drops that one filter (never
 * the page) and says why. Shared by the screen and the CSV export so both read the same rows.
 */
export function parseAuditSearch(params: URLSearchParams): ParsedAuditSearch {
  const filters: AuditFilters = {};
  const problems: AuditFilterProblem[] = [];
  for (const key of Object.keys(FILTER_SCHEMAS) as (keyof AuditFilters)[]) {
    const raw = params.get(key);
    if (raw === null || raw.trim() === "") continue;
    const parsed = FILTER_SCHEMAS[key].safeParse(raw);
    if (parsed.success) (filters as Record<string, unknown>)[key] = parsed.data;
    else {
      const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
      problems.push({ message: `${FILTER_LABELS[key]}: “${shown}” ${parsed.error.issues[0]?.message ?? "is not valid"}`, ignored: true });
    }
  }
  if (filters.from && filters.to && filters.from.getTime() > filters.to.getTime()) {
    problems.push({ message: "From is later than To: no entry can match", ignored: false });
  }
  const before = z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .safeParse(params.get("before") ?? undefined);
  return { filters, before: before.success ? before.data : undefined, problems };
}

/** The filters as URL parameters (times in ISO 8601 UTC), for links such as the CSV export. */
export function auditFilterParams(filters: AuditFilters): URLSearchParams {
  const out = new URLSearchParams();
  if (filters.entityType) out.set("entityType", filters.entityType);
  if (filters.entityId) out.set("entityId", filters.entityId);
  if (filters.actor) out.set("actor", filters.actor);
  if (filters.from) out.set("from", filters.from.toISOString());
  if (filters.to) out.set("to", filters.to.toISOString());
  return out;
}

function auditConditions(filters: AuditFilters): SQL[] {
  const conditions: SQL[] = [];
  if (filters.entityType) conditions.push(eq(auditTrail.entityType, filters.entityType));
  if (filters.entityId) conditions.push(eq(auditTrail.entityId, filters.entityId));
  if (filters.actor) conditions.push(eq(auditTrail.actor, filters.actor));
  if (filters.from) conditions.push(gte(auditTrail.recordedAt, filters.from));
  if (filters.to) conditions.push(lte(auditTrail.recordedAt, filters.to));
  return conditions;
}

/* ------------------------------------------------------------------------------------------ */
/* Rows for screens                                                                            */
/* ------------------------------------------------------------------------------------------ */

/** How much of a before/after the screen shows; the rest is in the CSV export. */
export const AUDIT_JSON_PREVIEW_CHARS = 2048;

export interface JsonPreview {
  /** Indented JSON, cut after AUDIT_JSON_PREVIEW_CHARS characters. */
  text: string;
  /** Characters of the whole indented JSON. */
  totalChars: number;
  truncated: boolean;
}

const previewOf = (column: typeof auditTrail.before | typeof auditTrail.after) => ({
  text: sql<string | null>`left(jsonb_pretty(${column}), ${sql.raw(String(AUDIT_JSON_PREVIEW_CHARS))})`,
  totalChars: sql<number | null>`length(jsonb_pretty(${column}))`,
});

const auditRowColumns = {
  seq: auditTrail.seq,
  recordedAt: auditTrail.recordedAt,
  actor: auditTrail.actor,
  action: auditTrail.action,
  entityType: auditTrail.entityType,
  entityId: auditTrail.entityId,
  reason: auditTrail.reason,
};

const auditRowWithJsonColumns = {
  ...auditRowColumns,
  beforeText: previewOf(auditTrail.before).text,
  beforeChars: previewOf(auditTrail.before).totalChars,
  afterText: previewOf(auditTrail.after).text,
  afterChars: previewOf(auditTrail.after).totalChars,
};

function preview(text: string | null, totalChars: number | null): JsonPreview | null {
  if (text === null) return null;
  const total = Number(totalChars ?? text.length);
  return { text, totalChars: total, truncated: total > text.length };
}

function withPreviews<R extends { beforeText: string | null; beforeChars: number | null; afterText: string | null; afterChars: number | null }>({
  beforeText,
  beforeChars,
  afterText,
  afterChars,
  ...row
}: R) {
  return { ...row, before: preview(beforeText, beforeChars), after: preview(afterText, afterChars) };
}

/** The newest entries, without before/after (the dashboard's panel). */
export async function latestAuditRows(db: DbOrTx, params: { limit: number }) {
  return db.select(auditRowColumns).from(auditTrail).orderBy(desc(auditTrail.seq)).limit(params.limit);
}

/** One entity's history, newest first (e.g. a user's page). */
export async function entityAuditHistory(db: DbOrTx, params: { entityType: string; entityId: string; limit: number }) {
  const rows = await db
    .select(auditRowWithJsonColumns)
    .from(auditTrail)
    .where(and(eq(auditTrail.entityType, params.entityType), eq(auditTrail.entityId, params.entityId)))
    .orderBy(desc(auditTrail.seq))
    .limit(params.limit + 1);
  return { rows: rows.slice(0, params.limit).map(withPreviews), more: rows.length > params.limit };
}

/** One page of the trail, newest first, keyset-paged on seq (`before` = first seq not shown). */
export async function auditTrailPage(db: DbOrTx, search: { filters: AuditFilters; before?: number; pageSize: number }) {
  const filters = auditConditions(search.filters);
  const rowsQuery = db
    .select(auditRowWithJsonColumns)
    .from(auditTrail)
    .where(and(...filters, search.before === undefined ? undefined : lt(auditTrail.seq, search.before)))
    .orderBy(desc(auditTrail.seq))
    .limit(search.pageSize + 1);
  const [rows, entityTypes, actors, head] = await Promise.all([
    rowsQuery,
    db.selectDistinct({ entityType: auditTrail.entityType }).from(auditTrail).orderBy(asc(auditTrail.entityType)),
    db.selectDistinct({ actor: auditTrail.actor }).from(auditTrail).orderBy(asc(auditTrail.actor)),
    currentDataPoint(db),
  ]);
  const page = rows.slice(0, search.pageSize);
  const first = page[0];
  const last = page[page.length - 1];

  // The page before this one (newer rows): the `before` that shows the pageSize rows just above.
  let newer: { before?: number } | null = null;
  if (first) {
    const above = await db
      .select({ seq: auditTrail.seq })
      .from(auditTrail)
      .where(and(...filters, gt(auditTrail.seq, first.seq)))
      .orderBy(asc(auditTrail.seq))
      .limit(search.pageSize + 1);
    if (above.length > search.pageSize) newer = { before: above[search.pageSize]!.seq };
    else if (above.length > 0) newer = {};
  } else if (search.before !== undefined) {
    newer = {};
  }

  return {
    head,
    rows: page.map(withPreviews),
    older: rows.length > search.pageSize && last ? { before: last.seq } : null,
    newer,
    entityTypes: entityTypes.map((e) => e.entityType),
    actors: actors.map((a) => a.actor),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* CSV export                                                                                  */
/* ------------------------------------------------------------------------------------------ */

export const AUDIT_CSV_COLUMNS = [
  "seq",
  "recorded_at",
  "actor",
  "action",
  "entity_type",
  "entity_id",
  "reason",
  "before",
  "after",
  "prev_hash",
  "hash",
] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma, CR or LF, quotes doubled. A cell
 * a spreadsheet would read as a formula (starting with = + - @ TAB or CR) gets a leading single
 * quote first (OWASP "CSV injection"): actors, entity ids and reasons are typed by users.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(values: readonly (string | number | null)[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}

const CSV_PAGE_SIZE = 1000;

/**
 * The filtered trail as CSV, oldest first, up to and including `dataPoint` (so the file is one
 * consistent snapshot named by it, however long the download takes). Pulled page by page as
 * the client reads: the whole trail is never held in memory. before/after are the stored jsonb
 * as PostgreSQL prints it; times are ISO 8601 UTC with milliseconds, as the hash chain has them.
 */
export function auditCsvStream(db: DbOrTx, params: { filters: AuditFilters; dataPoint: number }): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const conditions = auditConditions(params.filters);
  let cursor = 0;
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(csvRecord(AUDIT_CSV_COLUMNS)));
        return;
      }
      try {
        const rows = await db
          .select({
            seq: auditTrail.seq,
            recordedAt: sql<string>`to_char(${auditTrail.recordedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
            actor: auditTrail.actor,
            action: auditTrail.action,
            entityType: auditTrail.entityType,
            entityId: auditTrail.entityId,
            reason: auditTrail.reason,
            before: sql<string | null>`${auditTrail.before}::text`,
            after: sql<string | null>`${auditTrail.after}::text`,
            prevHash: auditTrail.prevHash,
            hash: auditTrail.hash,
          })
          .from(auditTrail)
          .where(and(...conditions, gt(auditTrail.seq, cursor), lte(auditTrail.seq, params.dataPoint)))
          .orderBy(asc(auditTrail.seq))
          .limit(CSV_PAGE_SIZE);
        if (rows.length === 0) {
          controller.close();
          return;
        }
        cursor = rows[rows.length - 1]!.seq;
        controller.enqueue(
          encoder.encode(
            rows
              .map((r) => csvRecord([r.seq, r.recordedAt, r.actor, r.action, r.entityType, r.entityId, r.reason, r.before, r.after, r.prevHash, r.hash]))
              .join(""),
          ),
        );
      } catch (error) {
        // The download ends incomplete rather than pretending to be whole.
        controller.error(error);
      }
    },
  });
}
