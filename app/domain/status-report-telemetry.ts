import { createHash } from "node:crypto";
import { canonicalize } from "./canonical-json";

/**
 * Runtime status reports as telemetry (ADR 026). Pure: the content hash each stored report carries,
 * and the running digest the audit trail's signed anchors sign over them.
 *
 *   hash(row)   = SHA-256( RFC 8785 canonical JSON of { clientId, siteId, kind, version, digest, report, receivedAt } )
 *   digest(0)   = 64 × "0"
 *   digest(row) = SHA-256( digest(previous row) ‖ ":" ‖ id ‖ ":" ‖ hash(row) )   (rows in id order, gaps skipped)
 *
 * Reports commit out of id order (many writers, no global lock), so no row can carry the digest of
 * the rows before it. An anchor computes it when every report up to its `through` id has committed
 * (the writers hold a shared lock to commit, the anchor takes it exclusively for an instant): from
 * then on the rows up to `through` never change, so "the digest of every row up to `through`" is
 * well defined — whatever anchors came before or were deleted since — and any later edit, deletion
 * or insertion below `through` changes it.
 */

export const TELEMETRY_GENESIS = "0".repeat(64);

export interface StatusReportContent {
  clientId: number;
  siteId: number;
  kind: "activation" | "refusal";
  version: number | null;
  digest: string | null;
  /** The report as stored (jsonb), with its kind. */
  report: unknown;
  /** ISO-8601 UTC with milliseconds. */
  receivedAt: string;
}

export function statusReportHash(content: StatusReportContent): string {
  const canonical = canonicalize({
    clientId: content.clientId,
    siteId: content.siteId,
    kind: content.kind,
    version: content.version,
    digest: content.digest,
    report: content.report,
    receivedAt: content.receivedAt,
  });
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** The running digest after one more row (rows in id order). */
export function telemetryStep(previous: string, id: number, rowHash: string): string {
  return createHash("sha256").update(`${previous}:${id}:${rowHash}`, "utf8").digest("hex");
}

/** What an anchor signs of the telemetry: every stored report with id ≤ `through` digests to `digest`. */
export interface TelemetryHead {
  through: number;
  digest: string;
}

export function isTelemetryHead(value: unknown): value is TelemetryHead {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.through === "number" && Number.isSafeInteger(v.through) && v.through >= 0 && typeof v.digest === "string" && /^[0-9a-f]{64}$/.test(v.digest);
}

/** A stored report as read back for verification. */
export interface StoredStatusReport extends StatusReportContent {
  id: number;
  hash: string;
}

export interface TelemetryProblem {
  /** The row (a stored hash that is not its content's), or the anchor whose signed digest the rows no longer give. */
  row?: number;
  anchorId?: number;
  detail: string;
}

/**
 * Walks stored reports in id order from `start` and checks them against signed telemetry heads:
 * each row's content against its stored hash (names the row edited without re-hashing), and the
 * running digest at each head's `through` (finds a row edited and re-hashed, inserted or deleted
 * at or below it: named as the range between the last head that held and this one). Feed rows
 * page by page; `finish` closes the heads past the last row.
 */
export class TelemetryWalk {
  private digest: string;
  private last: number;
  private readonly heads: { anchorId: number; head: TelemetryHead }[];
  private lastGood: { anchorId: number; through: number } | undefined;
  /** The `through` of the last head compared (held or not): where the next head's range begins. */
  private boundary: number;
  private finished = false;
  readonly problems: TelemetryProblem[] = [];
  rowsChecked = 0;

  constructor(heads: readonly { anchorId: number; head: TelemetryHead }[], start: TelemetryHead = { through: 0, digest: TELEMETRY_GENESIS }) {
    this.digest = start.digest;
    this.last = start.through;
    this.boundary = start.through;
    this.heads = heads.filter((h) => h.head.through > start.through).sort((a, b) => a.head.through - b.head.through || a.anchorId - b.anchorId);
  }

  /** The point proven so far: the highest head that held (undefined: none yet). */
  get proven(): { anchorId: number; through: number } | undefined {
    return this.lastGood;
  }

  feed(rows: Iterable<StoredStatusReport>): void {
    for (const row of rows) {
      this.closeHeadsBefore(row.id);
      const recomputed = statusReportHash(row);
      if (recomputed !== row.hash && this.problems.filter((p) => p.row !== undefined).length < 20) {
        this.problems.push({ row: row.id, detail: `status report ${row.id} does not hash to its stored hash: its content was changed` });
      }
      this.digest = telemetryStep(this.digest, row.id, recomputed);
      this.last = row.id;
      this.rowsChecked++;
    }
  }

  finish(): void {
    this.finished = true;
    this.closeHeadsBefore(Number.POSITIVE_INFINITY);
  }

  /** Heads whose `through` lies before `id` are complete: compare. */
  private closeHeadsBefore(id: number): void {
    while (this.heads.length > 0 && this.heads[0]!.head.through < id) {
      const { anchorId, head } = this.heads.shift()!;
      const from = this.boundary + 1;
      this.boundary = head.through;
      if (head.digest === this.digest) {
        this.lastGood = { anchorId, through: head.through };
        continue;
      }
      this.problems.push({
        anchorId,
        detail: `the status reports up to id ${head.through} no longer give the digest signed anchor #${anchorId} says: a report with id ${from}–${head.through} was changed, inserted or deleted${this.finished && this.last < head.through ? ` (the highest stored id is ${this.last})` : ""}`,
      });
      // Carry on from what was signed, so a later head judges only its own rows.
      this.digest = head.digest;
    }
  }
}
