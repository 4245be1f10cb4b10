/**
 * The ERP and PLM snapshot file formats (docs/decisions/015) and the check of each row: pure, no
 * I/O. The import service streams a file through csv-parse and hands every record to a
 * SnapshotChecker; the checker validates the header and each row with zod, resolves sites and
 * part numbers against what C-981 knows, finds duplicates, and collects every error with its line
 * and field (the list capped, the count not).
 */
import { z } from "zod";
import type { TrackingMode } from "./tracking-rule";

export const EXTERNAL_SYSTEMS = ["erp", "plm"] as const;
export type ExternalSystem = (typeof EXTERNAL_SYSTEMS)[number];

export interface ColumnSpec {
  name: string;
  required: boolean;
  description: string;
}

/** ERP tracking values (the material master's serial/batch flags read as one) → C-981 tracking mode. */
export const ERP_TRACKING: Record<string, TrackingMode> = { serial: "serial", batch: "lot", untracked: "none" };
/** PLM serialization flags → C-981 tracking mode. */
export const PLM_SERIALIZATION: Record<string, TrackingMode> = { serialized: "serial", lot: "lot", none: "none" };

export const SNAPSHOT_COLUMNS: Record<ExternalSystem, readonly ColumnSpec[]> = {
  erp: [
    { name: "part_number", required: true, description: "The material number (C-981 part number), 1–40 characters: letters, digits, . _ - /" },
    { name: "tracking", required: true, description: "serial | batch | untracked (serial-tracked, batch-tracked, untracked; any case)" },
    { name: "site", required: false, description: "C-981 site code of the ERP plant; empty or no column: the record holds at every site" },
  ],
  plm: [
    { name: "part_number", required: true, description: "The item number (C-981 part number), 1–40 characters: letters, digits, . _ - /" },
    { name: "serialization", required: true, description: "serialized | lot | none (the design's serialization flag; any case)" },
  ],
};

const partNumber = z
  .string()
  .trim()
  .toUpperCase()
  .min(1, { message: "The part number is empty", abort: true })
  .max(40, { message: "At most 40 characters", abort: true })
  .regex(/^[A-Z0-9][A-Z0-9._/-]*$/, "Letters, digits, . _ - / only (starting with a letter or digit)");

const oneOf = (values: Record<string, TrackingMode>, what: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => Object.hasOwn(values, v), { message: `${what}: one of ${Object.keys(values).join(", ")}` });

export const erpRowSchema = z.object({
  part_number: partNumber,
  tracking: oneOf(ERP_TRACKING, "Tracking"),
  site: z.string().trim().toUpperCase().max(16, "At most 16 characters").default(""),
});

export const plmRowSchema = z.object({
  part_number: partNumber,
  serialization: oneOf(PLM_SERIALIZATION, "Serialization"),
});

/** One row as it will be stored. */
export interface SnapshotRow {
  line: number;
  partNumber: string;
  /** Site code, or null: the record holds at every site. */
  site: string | null;
  /** The value as the system states it, e.g. `tracking=batch`. */
  trackingFlag: string;
  trackingMode: TrackingMode;
  /** Null when C-981 does not know the part number ("unknown to C-981"). */
  materialId: number | null;
  siteId: number | null;
}

export interface LocatedError {
  line: number;
  /** The column (field) at fault; `header` or `file` for problems of the whole file. */
  field: string;
  message: string;
}

/** How many errors are kept to show; all are counted. */
export const ERROR_LIST_CAP = 200;

export interface CheckerContext {
  /** Site code → id. */
  sites: ReadonlyMap<string, number>;
  /** Part number → material id. */
  materials: ReadonlyMap<string, number>;
}

export interface CheckSummary {
  rows: number;
  errorCount: number;
  errors: LocatedError[];
  unknownCount: number;
  /** The first unknown part numbers (capped), for the result screen. */
  unknown: { line: number; partNumber: string; site: string | null }[];
}

/**
 * Checks one snapshot file record by record. `header()` first (line 1), then `row()` for each
 * record; `row()` returns the row to store, or null when it has errors. Once any error is seen the
 * file will be refused, but every row is still checked so that every error is counted.
 */
export class SnapshotChecker {
  private readonly columns: readonly ColumnSpec[];
  private index: Map<string, number> | null = null;
  private readonly seen = new Map<string, number>();
  readonly summary: CheckSummary = { rows: 0, errorCount: 0, errors: [], unknownCount: 0, unknown: [] };

  constructor(
    readonly system: ExternalSystem,
    private readonly context: CheckerContext,
  ) {
    this.columns = SNAPSHOT_COLUMNS[system];
  }

  get ok(): boolean {
    return this.summary.errorCount === 0;
  }

  error(line: number, field: string, message: string): void {
    this.summary.errorCount++;
    if (this.summary.errors.length < ERROR_LIST_CAP) this.summary.errors.push({ line, field, message });
  }

  /** The header row: required columns present, no unknown or repeated column. False: nothing more can be checked. */
  header(names: readonly string[], line = 1): boolean {
    const index = new Map<string, number>();
    const known = new Set(this.columns.map((c) => c.name));
    names.forEach((raw, i) => {
      const name = raw.trim().toLowerCase();
      if (!known.has(name)) this.error(line, name || `column ${i + 1}`, `Unknown column "${raw}" (expected: ${this.columns.map((c) => c.name).join(", ")})`);
      else if (index.has(name)) this.error(line, name, `Column "${name}" appears twice`);
      else index.set(name, i);
    });
    for (const c of this.columns) if (c.required && !index.has(c.name)) this.error(line, c.name, `Missing required column "${c.name}"`);
    if (!this.ok) return false;
    this.index = index;
    return true;
  }

  row(values: readonly string[], line: number): SnapshotRow | null {
    const index = this.index;
    if (!index) throw new Error("SnapshotChecker.row() before a valid header()");
    this.summary.rows++;
    if (values.length !== index.size) {
      this.error(line, "row", `${values.length} fields where the header has ${index.size}`);
      return null;
    }
    const record: Record<string, string> = {};
    for (const [name, i] of index) record[name] = values[i]!;
    const before = this.summary.errorCount;
    let partNumber: string;
    let site: string | null;
    let flagName: string;
    let flagValue: string;
    let mode: TrackingMode;
    if (this.system === "erp") {
      const parsed = erpRowSchema.safeParse(record);
      if (!parsed.success) {
        // The site is checked too, so that one pass lists every error of the row.
        const rawSite = (record.site ?? "").trim().toUpperCase();
        const siteIssue = parsed.error.issues.some((i) => i.path[0] === "site");
        this.issues(line, parsed.error.issues);
        if (!siteIssue && rawSite && !this.context.sites.has(rawSite)) this.unknownSite(line, rawSite);
        return null;
      }
      partNumber = parsed.data.part_number;
      site = parsed.data.site || null;
      flagName = "tracking";
      flagValue = parsed.data.tracking;
      mode = ERP_TRACKING[flagValue]!;
    } else {
      const parsed = plmRowSchema.safeParse(record);
      if (!parsed.success) return this.issues(line, parsed.error.issues);
      partNumber = parsed.data.part_number;
      site = null;
      flagName = "serialization";
      flagValue = parsed.data.serialization;
      mode = PLM_SERIALIZATION[flagValue]!;
    }
    let siteId: number | null = null;
    if (site !== null) {
      const id = this.context.sites.get(site);
      if (id === undefined) this.unknownSite(line, site);
      else siteId = id;
    }
    const key = `${partNumber}@${site ?? "*"}`;
    const first = this.seen.get(key);
    if (first !== undefined) this.error(line, "part_number", `${partNumber}${site ? ` at ${site}` : ""} appears twice: first on line ${first}`);
    else this.seen.set(key, line);
    if (this.summary.errorCount > before) return null;
    const materialId = this.context.materials.get(partNumber) ?? null;
    if (materialId === null) {
      this.summary.unknownCount++;
      if (this.summary.unknown.length < ERROR_LIST_CAP) this.summary.unknown.push({ line, partNumber, site });
    }
    return { line, partNumber, site, trackingFlag: `${flagName}=${flagValue}`, trackingMode: mode, materialId, siteId };
  }

  /** The file ended: an empty file (no header, or no rows) is refused. */
  end(lastLine: number): void {
    if (!this.index && this.summary.errorCount === 0) this.error(1, "header", "The file is empty: a header row and at least one row are required");
    else if (this.index && this.summary.rows === 0)
      this.error(Math.max(lastLine, 2), "file", "No rows after the header: an empty snapshot would erase the system's view; refused");
  }

  private unknownSite(line: number, site: string): void {
    this.error(line, "site", `Unknown site "${site}" (C-981 sites: ${[...this.context.sites.keys()].sort().join(", ")})`);
  }

  private issues(line: number, issues: readonly { path: PropertyKey[]; message: string }[]): null {
    for (const issue of issues) this.error(line, issue.path.map(String).join(".") || "row", issue.message);
    return null;
  }
}

/** A refusal, for screens, the CLI and the API alike. */
export function describeErrors(summary: Pick<CheckSummary, "errorCount" | "errors">): string {
  const shown = summary.errors.map((e) => `line ${e.line}, ${e.field}: ${e.message}`);
  const more = summary.errorCount - summary.errors.length;
  return [...shown, ...(more > 0 ? [`… and ${more} more error(s)`] : [])].join("\n");
}
