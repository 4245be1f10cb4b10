/**
 * The QMS export CSV format (ADR 038): its limits and columns. Browser-safe (no parser here): the upload
 * screen shows it; app/domain/quality-event-csv.ts parses by it.
 */
/**
 * The largest file read, checked on its bytes before anything parses it. A QMS export of quality
 * events is small (a plant raises tens a week; 5,000 rows of long descriptions stay under 8 MiB);
 * the upload page's body limit (app/utils/body-limits.ts) is the same figure.
 */
export const QMS_CSV_MAX_BYTES = 8 * 1024 * 1024;
/** The most rows (events) one file may hold: all are written in one transaction. */
export const QMS_CSV_MAX_ROWS = 5_000;
/** How many errors are kept to show; all are counted. */
export const QMS_CSV_ERROR_CAP = 200;
/** The most references one row may name. */
export const QMS_CSV_MAX_REFERENCES = 100;

export interface QmsColumn {
  name: string;
  required: boolean;
  description: string;
}

/** The columns, in the order an export template lists them (any order is read). */
export const QMS_CSV_COLUMNS: readonly QmsColumn[] = [
  {
    name: "qms_id",
    required: true,
    description: "The QMS's own id of the event (1–64 characters: letters, digits, . _ - / #); re-importing it updates, never duplicates",
  },
  {
    name: "kind",
    required: true,
    description:
      "nonconformance | concession | rework_order | complaint (QMS spellings: NCR, NC, non-conformance; deviation, waiver; rework; customer complaint)",
  },
  { name: "site", required: true, description: "The C-981 site code where the event is raised" },
  { name: "severity", required: true, description: "minor | major | critical" },
  { name: "status", required: false, description: "open | contained | closed (also: in containment); empty: open" },
  {
    name: "disposition",
    required: false,
    description:
      "pending | use_as_is | rework | repair | scrap | return_to_supplier | quarantine (also: use as is, UAI, return to vendor, RTV); empty: pending",
  },
  { name: "title", required: true, description: "One line, at most 200 characters" },
  { name: "description", required: false, description: "Free text, at most 5,000 characters (line breaks inside quotes kept)" },
  {
    name: "raised_at",
    required: false,
    description: "ISO 8601 date-time with a time zone (2026-11-03T08:15:00Z, 2026-11-03T09:15:00+01:00); empty: the time of the import",
  },
  { name: "references", required: true, description: "`;`-separated: serial:PART:ID, lot:PART:ID, container:SSCC, material:PART (empty: none)" },
];
