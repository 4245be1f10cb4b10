/**
 * The QMS export format for quality events (ADR 038): a CSV file (RFC 4180, comma-separated, UTF-8,
 * an optional byte order mark), one quality event per row, read here — pure, no I/O. The import
 * service (app/services/quality-event-import.server.ts) checks what needs the database (sites,
 * referenced items, the importer's authority, events imported before) and writes all rows or none.
 *
 * Strict: unknown or repeated columns, unknown vocabulary and malformed references are errors, each
 * named by its row (1-based, the header is row 1, as a spreadsheet numbers them) and its column.
 * The only leniency is the table of QMS spellings below (case, spaces, `-` and `_` aside).
 *
 * Nothing here builds an object from the file's names: a header of `__proto__` is an unknown
 * column, and the values of a row are read through a Map (ADR 016).
 */
import { CsvError, parse } from "csv-parse/sync";
import {
  QUALITY_DISPOSITIONS,
  QUALITY_EVENT_KINDS,
  QUALITY_EVENT_SEVERITIES,
  QUALITY_EVENT_STATUSES,
  type QualityDisposition,
  type QualityEventKind,
  type QualityEventSeverity,
  type QualityEventStatus,
} from "./quality-event";

// The format (limits and columns) lives in ./quality-event-csv-format.ts: the upload screen shows it in the browser,
// where the CSV parser (Node's Buffer) must not go.
export {
  QMS_CSV_COLUMNS,
  QMS_CSV_ERROR_CAP,
  QMS_CSV_MAX_BYTES,
  QMS_CSV_MAX_REFERENCES,
  QMS_CSV_MAX_ROWS,
  type QmsColumn,
} from "./quality-event-csv-format";
import { QMS_CSV_COLUMNS, QMS_CSV_ERROR_CAP, QMS_CSV_MAX_BYTES, QMS_CSV_MAX_REFERENCES, QMS_CSV_MAX_ROWS } from "./quality-event-csv-format";

/** Kinds: the canonical word, or a QMS spelling (compared after normalize()). */
export const QMS_KIND_SPELLINGS: Readonly<Record<string, QualityEventKind>> = spellings(QUALITY_EVENT_KINDS, {
  ncr: "nonconformance",
  nc: "nonconformance",
  "non conformance": "nonconformance",
  deviation: "concession",
  waiver: "concession",
  rework: "rework_order",
  "customer complaint": "complaint",
});
export const QMS_STATUS_SPELLINGS: Readonly<Record<string, QualityEventStatus>> = spellings(QUALITY_EVENT_STATUSES, { "in containment": "contained" });
export const QMS_SEVERITY_SPELLINGS: Readonly<Record<string, QualityEventSeverity>> = spellings(QUALITY_EVENT_SEVERITIES, {});
export const QMS_DISPOSITION_SPELLINGS: Readonly<Record<string, QualityDisposition>> = spellings(QUALITY_DISPOSITIONS, {
  uai: "use_as_is",
  "return to vendor": "return_to_supplier",
  rtv: "return_to_supplier",
});

/** Case, surrounding space and runs of space, `-` and `_` do not matter: "Use-As-Is" is "use as is". */
export function normalize(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, " ");
}

function spellings<T extends string>(canonical: readonly T[], extra: Record<string, T>): Readonly<Record<string, T>> {
  const table: Record<string, T> = Object.create(null);
  for (const word of canonical) table[normalize(word)] = word;
  for (const [spelling, word] of Object.entries(extra)) table[normalize(spelling)] = word;
  return Object.freeze(table);
}

export type QmsReference =
  | { kind: "serial" | "lot"; material: string; identifier: string }
  | { kind: "container"; identifier: string }
  | { kind: "material"; material: string };

/** One row read: the vocabulary mapped, the references split; what needs the database is not checked here. */
export interface QmsCsvRow {
  /** 1-based, the header is row 1. */
  row: number;
  qmsId: string;
  kind: QualityEventKind;
  site: string;
  severity: QualityEventSeverity;
  /** Null: the column is absent or the cell empty (a new event is raised open). */
  status: QualityEventStatus | null;
  /** Null: the column is absent or the cell empty (a new event's disposition is pending). */
  disposition: QualityDisposition | null;
  title: string;
  description: string;
  /** ISO 8601 in UTC with milliseconds, or null: the import's time. */
  raisedAt: string | null;
  references: QmsReference[];
}

export interface QmsCsvError {
  /** 1-based, the header is row 1. */
  row: number;
  /** The column at fault; `file`, `header` or `row` for problems of the whole file, header or row. */
  column: string;
  message: string;
}

export interface QmsCsvParse {
  /** The rows without errors (the import writes only when `errorCount` is 0). */
  rows: QmsCsvRow[];
  /** Data rows read (blank rows aside). */
  rowCount: number;
  errors: QmsCsvError[];
  errorCount: number;
}

/** Collects errors: every one counted, the first QMS_CSV_ERROR_CAP kept. */
export class QmsErrorList {
  readonly errors: QmsCsvError[] = [];
  count = 0;
  add(row: number, column: string, message: string): void {
    this.count++;
    if (this.errors.length < QMS_CSV_ERROR_CAP) this.errors.push({ row, column, message });
  }
}

const PART = /^[A-Z0-9][A-Z0-9._/-]*$/;
const QMS_ID = /^[A-Za-z0-9][A-Za-z0-9._/#-]*$/;
const SITE = /^[A-Z0-9][A-Z0-9-]{1,15}$/;
/** ISO 8601 date-time with seconds optional, fraction optional, and a zone (Z or ±hh:mm). */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f]/;

/**
 * Reads a QMS export. `input` is the file's bytes (or its text); over QMS_CSV_MAX_BYTES it is refused
 * before it is decoded. Never throws on what the file holds: every problem is an error with its row
 * and column; the rows without errors are returned (the caller writes none of them unless there is
 * no error at all).
 */
export function parseQmsCsv(input: Uint8Array | string): QmsCsvParse {
  const errors = new QmsErrorList();
  const rows: QmsCsvRow[] = [];
  const done = (rowCount: number): QmsCsvParse => ({ rows, rowCount, errors: errors.errors, errorCount: errors.count });
  const size = typeof input === "string" ? new TextEncoder().encode(input).byteLength : input.byteLength;
  if (size > QMS_CSV_MAX_BYTES) {
    errors.add(1, "file", `The file is ${size.toLocaleString("en")} bytes; at most ${QMS_CSV_MAX_BYTES.toLocaleString("en")} are read (split the export)`);
    return done(0);
  }
  let text: string;
  if (typeof input === "string") text = input;
  else {
    if ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff)) {
      errors.add(1, "file", "The file is UTF-16; export it as UTF-8");
      return done(0);
    }
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch {
      errors.add(1, "file", "The file is not UTF-8 text; export it as UTF-8 (CSV UTF-8)");
      return done(0);
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") {
    errors.add(1, "file", "The file is empty: it needs a header row and one row per quality event");
    return done(0);
  }

  let records: string[][];
  let read = 0;
  try {
    records = parse(text, {
      relax_column_count: true,
      skip_empty_lines: false,
      on_record: (record: string[]) => {
        read++;
        return record;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    // csv-parse stops at the first error: its row is the one after the last record read.
    errors.add(read + 1, "file", `Not readable as CSV: ${error.message.replace(/^Invalid [^:]*: /, "")}`);
    return done(0);
  }

  const header = records[0]!;
  const columns = readHeader(header, errors);
  if (!columns) return done(0);
  let rowCount = 0;
  const seen = new Map<string, number>();
  for (let i = 1; i < records.length; i++) {
    const record = records[i]!;
    const row = i + 1;
    if (record.every((cell) => cell.trim() === "")) continue; // a blank row
    rowCount++;
    if (rowCount > QMS_CSV_MAX_ROWS) {
      errors.add(row, "file", `More than ${QMS_CSV_MAX_ROWS.toLocaleString("en")} quality events in one file (split the export)`);
      break;
    }
    const parsed = readRow(record, row, columns, errors);
    if (!parsed) continue;
    const first = seen.get(parsed.qmsId);
    if (first !== undefined) {
      errors.add(row, "qms_id", `${parsed.qmsId} appears twice: first on row ${first}`);
      continue;
    }
    seen.set(parsed.qmsId, row);
    rows.push(parsed);
  }
  if (rowCount === 0 && errors.count === 0) errors.add(2, "file", "The file has a header but no quality event");
  return done(rowCount);
}

/** Column name → its index in every record; null when the header is refused. */
function readHeader(names: readonly string[], errors: QmsErrorList): Map<string, number> | null {
  const before = errors.count;
  const known = new Set(QMS_CSV_COLUMNS.map((c) => c.name));
  const index = new Map<string, number>();
  if (names.length === 1 && names[0]!.includes(";")) {
    errors.add(1, "header", "The header is one column holding ';': export the file comma-separated (RFC 4180), not with ';'");
    return null;
  }
  names.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    const shown = name || `column ${i + 1}`;
    if (!known.has(name)) errors.add(1, shown, `Unknown column "${printable(raw)}" (expected: ${QMS_CSV_COLUMNS.map((c) => c.name).join(", ")})`);
    else if (index.has(name)) errors.add(1, name, `Column "${name}" appears twice`);
    else index.set(name, i);
  });
  for (const c of QMS_CSV_COLUMNS) if (c.required && !index.has(c.name)) errors.add(1, c.name, `Missing required column "${c.name}"`);
  return errors.count === before ? index : null;
}

function readRow(record: readonly string[], row: number, columns: ReadonlyMap<string, number>, errors: QmsErrorList): QmsCsvRow | null {
  if (record.length !== columns.size) {
    errors.add(row, "row", `${record.length} field(s) where the header has ${columns.size}`);
    return null;
  }
  const before = errors.count;
  const cell = (name: string) => {
    const i = columns.get(name);
    return i === undefined ? "" : record[i]!;
  };
  const fail = (column: string, message: string) => errors.add(row, column, message);

  const qmsId = cell("qms_id").trim();
  if (!qmsId) fail("qms_id", "The QMS id is empty");
  else if (qmsId.length > 64) fail("qms_id", "At most 64 characters");
  else if (!QMS_ID.test(qmsId)) fail("qms_id", `"${printable(qmsId)}": letters, digits and . _ - / # only, starting with a letter or digit`);

  const kind = word(cell("kind"), QMS_KIND_SPELLINGS, "kind", QUALITY_EVENT_KINDS, true, fail);
  const site = cell("site").trim().toUpperCase();
  if (!site) fail("site", "The site is empty");
  else if (!SITE.test(site)) fail("site", `"${printable(site)}" is not a site code (2–16 letters, digits or -)`);
  const severity = word(cell("severity"), QMS_SEVERITY_SPELLINGS, "severity", QUALITY_EVENT_SEVERITIES, true, fail);
  const status = word(cell("status"), QMS_STATUS_SPELLINGS, "status", QUALITY_EVENT_STATUSES, false, fail);
  const disposition = word(cell("disposition"), QMS_DISPOSITION_SPELLINGS, "disposition", QUALITY_DISPOSITIONS, false, fail);

  const title = cell("title").trim();
  if (!title) fail("title", "The title is empty");
  else if (title.length > 200) fail("title", `At most 200 characters (${title.length})`);
  else if (CONTROL_OR_BREAK.test(title)) fail("title", "One line without control characters");

  const description = cell("description").replace(/\r\n?/g, "\n").trim();
  if (description.length > 5000) fail("description", `At most 5,000 characters (${description.length})`);
  else if (CONTROL.test(description)) fail("description", "Control characters (other than line breaks and tabs) are not text");

  const raisedAt = isoTime(cell("raised_at").trim(), fail);
  const references = readReferences(cell("references"), fail);

  if (errors.count > before || !kind || !severity) return null;
  return { row, qmsId, kind, site, severity, status, disposition, title, description, raisedAt, references };
}

function word<T extends string>(
  raw: string,
  table: Readonly<Record<string, T>>,
  column: string,
  canonical: readonly T[],
  required: boolean,
  fail: (column: string, message: string) => void,
): T | null {
  const key = normalize(raw);
  if (!key) {
    if (required) fail(column, `The ${column} is empty: one of ${canonical.join(", ")}`);
    return null;
  }
  // The table has no prototype: "constructor" or "__proto__" finds nothing.
  const found = table[key];
  if (found === undefined) fail(column, `"${printable(raw.trim())}" is not a ${column}: one of ${canonical.join(", ")}`);
  return found ?? null;
}

function isoTime(raw: string, fail: (column: string, message: string) => void): string | null {
  if (!raw) return null;
  const m = ISO_DATE_TIME.exec(raw);
  if (!m) {
    fail("raised_at", `"${printable(raw)}" is not an ISO 8601 date-time with a time zone (e.g. 2026-11-03T08:15:00Z)`);
    return null;
  }
  const [, y, mo, d, h, mi, s = "0"] = m.map((part) => part ?? "") as string[];
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  // Date.UTC rolls 2026-02-30 over into March: a date that does not come back as written does not exist.
  const valid =
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60;
  const parsed = Date.parse(raw);
  if (!valid || Number.isNaN(parsed) || Number(y) < 1970) {
    fail("raised_at", `"${printable(raw)}" is not a date-time that exists`);
    return null;
  }
  return new Date(parsed).toISOString();
}

/** `serial:PART:ID; lot:PART:ID; container:SSCC; material:PART` — each named once. */
function readReferences(raw: string, fail: (column: string, message: string) => void): QmsReference[] {
  const references: QmsReference[] = [];
  const seen = new Set<string>();
  const pieces = raw
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (pieces.length > QMS_CSV_MAX_REFERENCES) {
    fail("references", `${pieces.length} references; at most ${QMS_CSV_MAX_REFERENCES} per quality event`);
    return [];
  }
  for (const piece of pieces) {
    const colon = piece.indexOf(":");
    const kind = (colon === -1 ? piece : piece.slice(0, colon)).trim().toLowerCase();
    const rest = colon === -1 ? "" : piece.slice(colon + 1).trim();
    const shown = `"${printable(piece)}"`;
    let reference: QmsReference | null = null;
    if (kind === "serial" || kind === "lot") {
      const second = rest.indexOf(":");
      const material = (second === -1 ? "" : rest.slice(0, second)).trim().toUpperCase();
      const identifier = (second === -1 ? "" : rest.slice(second + 1)).trim();
      if (!material || !identifier) fail("references", `${shown}: a ${kind} is ${kind}:PART:ID`);
      else if (!PART.test(material) || material.length > 40) fail("references", `${shown}: "${printable(material)}" is not a part number`);
      else if (!identifierOk(identifier)) fail("references", `${shown}: the ${kind} id must be 1–100 characters without control characters`);
      else reference = { kind, material, identifier };
    } else if (kind === "container") {
      if (!rest) fail("references", `${shown}: a container is container:SSCC`);
      else if (!identifierOk(rest)) fail("references", `${shown}: the container id must be 1–100 characters without control characters`);
      else reference = { kind, identifier: rest };
    } else if (kind === "material") {
      const material = rest.toUpperCase();
      if (!material) fail("references", `${shown}: a material is material:PART`);
      else if (!PART.test(material) || material.length > 40) fail("references", `${shown}: "${printable(material)}" is not a part number`);
      else reference = { kind, material };
    } else {
      fail("references", `${shown}: begins with serial:, lot:, container: or material:`);
    }
    if (!reference) continue;
    const key = JSON.stringify(reference);
    if (seen.has(key)) {
      fail("references", `${shown} is named twice`);
      continue;
    }
    seen.add(key);
    references.push(reference);
  }
  return references;
}

/**
 * References written as the file writes them (`serial:PART:ID`, …; each string may hold several,
 * `;`-separated): the CLI's `--ref` reads them with the same rules.
 */
export function parseReferenceList(values: readonly string[]): { ok: true; references: QmsReference[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const references = readReferences(values.join(";"), (_column, message) => errors.push(message));
  return errors.length ? { ok: false, errors } : { ok: true, references };
}

function identifierOk(identifier: string): boolean {
  return identifier.length >= 1 && identifier.length <= 100 && !CONTROL_OR_BREAK.test(identifier);
}

/** A value quoted in a message: control characters shown as \uXXXX, cut at 60 characters. */
function printable(value: string): string {
  const shown = value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return shown.length > 60 ? `${shown.slice(0, 59)}…` : shown;
}

/** The errors as lines for the CLI: "row 3, severity: …". */
export function describeQmsErrors(result: Pick<QmsCsvParse, "errors" | "errorCount">): string {
  const shown = result.errors.map((e) => `row ${e.row}, ${e.column}: ${e.message}`);
  const more = result.errorCount - result.errors.length;
  return [...shown, ...(more > 0 ? [`… and ${more} more error(s)`] : [])].join("\n");
}
