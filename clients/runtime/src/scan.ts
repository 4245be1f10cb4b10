/**
 * Scan decisions at the station (issue 26 item 2, ADR 042): the request a station sends, the
 * decision log (JSON lines, rotated) and the spool of unreported decisions, sealed into batches
 * with a fixed id and reported to the portal as counts per (hour, parent, step, expected, outcome,
 * reason) plus refusal samples whose scanned string is an HMAC-SHA256 under a per-client salt
 * (the raw string only when configured). A batch file stays on disk until the portal has stored
 * it (201) or already had it (200, the same batch id): never lost, never counted twice.
 *
 * The decision itself is `compileScanner` of packages/identifiers (ADR 040), not a copy.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { ScanDecision } from "../../../packages/identifiers/src/index";

/** One request, as the library call and each line of `scan --lines` take it. */
export const scanRequestSchema = z
  .strictObject({
    /** Echoed in the answer (a station's own correlation id). */
    id: z.union([z.string().max(200), z.number()]).optional(),
    parent: z.string().min(1).max(64).optional(),
    step: z.number().int().min(0).max(2_147_483_647).optional(),
    workCentre: z.string().min(1).max(64).optional(),
    expected: z.string().min(1).max(64),
    scanned: z.string().max(4096),
    symbologyId: z
      .string()
      .regex(/^\][A-Za-z][0-9A-Za-z]$/, "a symbology identifier: ] + letter + modifier, e.g. ]C1")
      .optional(),
  })
  .refine((r) => (r.step === undefined) !== (r.workCentre === undefined), { message: "give step or workCentre (one of them)", path: ["step"] });
export type ScanRequest = z.infer<typeof scanRequestSchema>;

/** Why a scan cannot be decided at all (no decision is logged): no rule set, or one without scan data. */
export class ScanUnavailable extends Error {
  constructor(
    readonly code: "no-rule-set" | "no-scan-data" | "no-parent",
    message: string,
  ) {
    super(message);
  }
}

export interface ScanJournalOptions {
  /** The folder of the decision log, the spool and the batches (default: <state-dir>/scans). */
  dir?: string;
  /** The decision log is rotated past this size (default 10 MiB)… */
  maxLogBytes?: number;
  /** …keeping this many rotated files (default 5): decisions.jsonl.1 … .N. */
  keepLogs?: number;
  /** Report refused strings raw besides their HMAC (default false: hashed only). */
  rawRefusals?: boolean;
  /** The spool is sealed into a batch past this many decisions (default 5,000). */
  batchDecisions?: number;
}

/** The size of a report the portal reads (its limit is 2 MiB); refusal samples beyond are counted, not listed. */
export const MAX_REFUSAL_SAMPLES = 1000;

/** One spooled decision: what a report is built from. */
interface Spooled {
  at: string;
  parent: string;
  step: number | null;
  expected: string;
  outcome: ScanDecision["outcome"];
  reason: string;
  ruleId: string | null;
  ruleSetVersion: number;
  scannedHash: string;
  scanned?: string;
}

export interface ScanReport {
  batchId: string;
  bucketMinutes: 60;
  counts: { bucket: string; parent: string; step: number | null; expected: string; outcome: string; reason: string; count: number }[];
  refusals: Omit<Spooled, never>[];
  refusalsOmitted: number;
}

const LOG = "decisions.jsonl";
const SPOOL = "unreported.jsonl";
const BATCHES = "batches";
const REJECTED = "rejected";
const SALT = "scan-salt";

const hourOf = (at: string) => `${at.slice(0, 13)}:00:00.000Z`;

export class ScanJournal {
  private logBytes: number;
  private spoolLines = 0;
  private readonly salt: Buffer;

  private constructor(
    readonly dir: string,
    private readonly options: Required<Omit<ScanJournalOptions, "dir">>,
  ) {
    fs.mkdirSync(path.join(dir, BATCHES), { recursive: true, mode: 0o700 });
    this.salt = ScanJournal.saltIn(dir);
    this.logBytes = sizeOf(path.join(dir, LOG));
    // A line is at most a few hundred bytes: a rough count is enough to decide when to seal.
    this.spoolLines = Math.ceil(sizeOf(path.join(dir, SPOOL)) / 200);
  }

  static open(stateDir: string, options: ScanJournalOptions = {}): ScanJournal {
    return new ScanJournal(options.dir ?? path.join(stateDir, "scans"), {
      maxLogBytes: options.maxLogBytes ?? 10 * 1024 * 1024,
      keepLogs: options.keepLogs ?? 5,
      rawRefusals: options.rawRefusals ?? false,
      batchDecisions: options.batchDecisions ?? 5000,
    });
  }

  /** The per-client salt of the HMAC: 32 random bytes, made once, kept in the scans folder. */
  private static saltIn(dir: string): Buffer {
    const file = path.join(dir, SALT);
    try {
      return Buffer.from(fs.readFileSync(file, "utf8").trim(), "hex");
    } catch {
      const salt = randomBytes(32);
      try {
        fs.writeFileSync(file, salt.toString("hex"), { flag: "wx", mode: 0o600 });
        return salt;
      } catch {
        // Another process made it first: theirs.
        return Buffer.from(fs.readFileSync(file, "utf8").trim(), "hex");
      }
    }
  }

  hash(scanned: string): string {
    return `hmac-sha256:${createHmac("sha256", this.salt).update(scanned, "utf8").digest("hex")}`;
  }

  /** Appends the decision to the log (rotated) and to the spool of unreported decisions. Synchronous: a station waits for it. */
  record(at: Date, request: ScanRequest & { parent: string }, decision: ScanDecision): void {
    const iso = at.toISOString();
    const scannedHash = this.hash(request.scanned);
    const log = `${JSON.stringify({
      at: iso,
      parent: request.parent,
      ...(request.step !== undefined ? { step: request.step } : { workCentre: request.workCentre }),
      decidedStep: decision.step ?? null,
      expected: request.expected,
      scanned: request.scanned,
      ...(request.symbologyId ? { symbologyId: request.symbologyId } : {}),
      outcome: decision.outcome,
      reason: decision.reason.code,
      reading: decision.reading ? { kind: decision.reading.kind, format: decision.reading.format } : null,
      substitutedBy: decision.substitutedBy ?? null,
      decidedBy: decision.decidedBy,
    })}\n`;
    this.rotateIfDue(Buffer.byteLength(log));
    fs.appendFileSync(path.join(this.dir, LOG), log, { mode: 0o600 });
    this.logBytes += Buffer.byteLength(log);
    const refused = decision.outcome === "refuse" || decision.outcome === "ambiguous";
    const spooled: Spooled = {
      at: iso,
      parent: request.parent,
      step: decision.step ?? request.step ?? null,
      expected: request.expected,
      outcome: decision.outcome,
      reason: decision.reason.code,
      ruleId: decision.decidedBy.ruleId,
      ruleSetVersion: decision.decidedBy.ruleSetVersion,
      scannedHash,
      ...(refused && this.options.rawRefusals ? { scanned: request.scanned } : {}),
    };
    fs.appendFileSync(path.join(this.dir, SPOOL), `${JSON.stringify(spooled)}\n`, { mode: 0o600 });
    if (++this.spoolLines >= this.options.batchDecisions) this.seal();
  }

  private rotateIfDue(adding: number) {
    if (this.logBytes + adding <= this.options.maxLogBytes || this.logBytes === 0) return;
    const base = path.join(this.dir, LOG);
    fs.rmSync(`${base}.${this.options.keepLogs}`, { force: true });
    for (let i = this.options.keepLogs - 1; i >= 1; i--) if (fs.existsSync(`${base}.${i}`)) fs.renameSync(`${base}.${i}`, `${base}.${i + 1}`);
    if (this.options.keepLogs > 0 && fs.existsSync(base)) fs.renameSync(base, `${base}.1`);
    else fs.rmSync(base, { force: true });
    this.logBytes = 0;
  }

  /**
   * Seals the spool into a batch: one rename gives it its id for good (a resend after a crash or a
   * lost answer carries the same id, and the portal stores it once).
   */
  seal(): string | null {
    this.spoolLines = 0;
    const spool = path.join(this.dir, SPOOL);
    if (sizeOf(spool) === 0) return null;
    const batchId = randomUUID();
    try {
      fs.renameSync(spool, path.join(this.dir, BATCHES, `${batchId}.jsonl`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    return batchId;
  }

  /** The sealed batches not yet stored by the portal, oldest first. */
  pending(): string[] {
    const dir = path.join(this.dir, BATCHES);
    return fs
      .readdirSync(dir)
      .filter((f) => /^[0-9a-f-]{36}\.jsonl$/.test(f))
      .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
      .sort((a, b) => a.t - b.t || (a.f < b.f ? -1 : 1))
      .map(({ f }) => f.slice(0, 36));
  }

  /** The report of a sealed batch: counts per (hour, parent, step, expected, outcome, reason), refusal samples. */
  reportOf(batchId: string): ScanReport {
    const text = fs.readFileSync(path.join(this.dir, BATCHES, `${batchId}.jsonl`), "utf8");
    const counts = new Map<string, ScanReport["counts"][number]>();
    const refusals: Spooled[] = [];
    let omitted = 0;
    for (const line of text.split("\n")) {
      if (!line) continue;
      let s: Spooled;
      try {
        s = JSON.parse(line) as Spooled;
      } catch {
        continue; // a line cut by a crash mid-write: not a decision anyone was told about
      }
      const bucket = hourOf(s.at);
      const key = JSON.stringify([bucket, s.parent, s.step, s.expected, s.outcome, s.reason]);
      const row = counts.get(key);
      if (row) row.count++;
      else counts.set(key, { bucket, parent: s.parent, step: s.step, expected: s.expected, outcome: s.outcome, reason: s.reason, count: 1 });
      if (s.outcome === "refuse" || s.outcome === "ambiguous") {
        if (refusals.length < MAX_REFUSAL_SAMPLES) refusals.push(s);
        else omitted++;
      }
    }
    return { batchId, bucketMinutes: 60, counts: [...counts.values()], refusals, refusalsOmitted: omitted };
  }

  /** The portal has the batch (stored now or before): it leaves the disk. */
  done(batchId: string): void {
    fs.rmSync(path.join(this.dir, BATCHES, `${batchId}.jsonl`), { force: true });
  }

  /** The portal refuses the batch for good (400/413/422): kept aside for a person, no longer resent. */
  reject(batchId: string): string {
    const dir = path.join(this.dir, REJECTED);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = path.join(dir, `${batchId}.jsonl`);
    fs.renameSync(path.join(this.dir, BATCHES, `${batchId}.jsonl`), target);
    return target;
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
