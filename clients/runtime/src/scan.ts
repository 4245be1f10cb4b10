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
import { type ScanDecision, scanRequestShape, stepOrWorkCentre } from "../../../packages/identifiers/src/index";

/**
 * One request, as the library call and each line of `scan --lines` take it: the API's scan schema
 * (packages/identifiers scan-request.ts, the one `POST /scan-decisions` checks), plus the station's
 * own correlation `id`, and `parent` optional (the client finds the one parent consuming the
 * material there, ADR 042).
 */
export const scanRequestSchema = z
  .strictObject({
    ...scanRequestShape,
    /** Echoed in the answer (a station's own correlation id). */
    id: z.union([z.string().max(200), z.number()]).optional(),
    parent: scanRequestShape.parent.optional(),
  })
  .superRefine(stepOrWorkCentre);
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
  /** The spool as this process writes it (O_APPEND), and the file it was opened on. */
  private spoolFd: number | null = null;
  private spoolIno = -1;
  /** Spooled lines carry `<prefix><counter>`, unique to this journal, to be found again in a batch. */
  private readonly tokenPrefix = `${randomBytes(6).toString("base64url")}.`;
  private written = 0;

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

  /**
   * The per-client salt of the HMAC: 32 random bytes as 64 lowercase hex characters, made once and
   * kept in the scans folder. Made atomically: written whole to a temporary file of its own (mode
   * 0600) in the same folder, then linked to its name, which fails if the name exists — so two
   * processes starting at once agree on one salt, and no reader ever sees a half-written one. Read
   * back, it must be exactly 64 lowercase hex characters (a trailing newline allowed): anything else
   * is an error, never a silently short or empty salt.
   */
  private static saltIn(dir: string): Buffer {
    const file = path.join(dir, SALT);
    const existing = readSalt(file);
    if (existing) return existing;
    const temporary = path.join(dir, `.${SALT}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    const fd = fs.openSync(temporary, "wx", 0o600);
    try {
      fs.writeSync(fd, randomBytes(32).toString("hex"));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      // Another process linked its salt first: theirs, for everyone.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    const salt = readSalt(file);
    if (!salt) throw new ScanSaltInvalid(file, "it vanished while being made");
    return salt;
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
    this.spool(spooled);
    if (++this.spoolLines >= this.options.batchDecisions) this.seal();
  }

  /**
   * Appends one decision to the spool so that a seal by any process at the same instant neither
   * loses it nor counts it twice (ADR 042, Amendment 2). The spool is written through a descriptor
   * opened with O_APPEND; after the write, the path is looked at again:
   * - it still names the file written to: the write came before any rename, so the seal that
   *   renames this file later finds the line in its batch;
   * - it does not (a seal renamed the file meanwhile): the line is in the batch's file, either
   *   before the batch's end mark (`seal` writes it right after the rename, `reportOf` before it
   *   reads; a batch is what lies before its first mark) — then it is in the batch — or after it,
   *   where no report reads it: then it is written again to the new spool, and checked again.
   * Each line carries a token (`n`) unique to this process so it can be found in the batch.
   */
  private spool(spooled: Spooled): void {
    const token = `${this.tokenPrefix}${(this.written++).toString(36)}`;
    const line = `${JSON.stringify({ ...spooled, n: token })}\n`;
    const file = path.join(this.dir, SPOOL);
    for (;;) {
      if (this.spoolFd === null) {
        // O_RDWR | O_APPEND | O_CREAT: appends are atomic and always at the end; read to find the line again.
        this.spoolFd = fs.openSync(file, "a+", 0o600);
        this.spoolIno = fs.fstatSync(this.spoolFd).ino;
      }
      const fd = this.spoolFd;
      fs.writeSync(fd, line);
      const now = inodeOf(file);
      if (now === this.spoolIno) return;
      // Sealed meanwhile: this descriptor's file is a batch now; the next write goes to a new spool.
      this.spoolFd = null;
      try {
        if (lineInBatch(readAll(fd), token)) return;
      } finally {
        fs.closeSync(fd);
      }
    }
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
    this.closeSpool();
    const spool = path.join(this.dir, SPOOL);
    if (sizeOf(spool) === 0) return null;
    const batchId = randomUUID();
    const batch = path.join(this.dir, BATCHES, `${batchId}.jsonl`);
    try {
      fs.renameSync(spool, batch);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    // What a writer appends from now on lies after the mark and is written again to the new spool.
    endBatch(batch);
    return batchId;
  }

  /** Closes this process's descriptor of the spool (the next decision reopens it). */
  closeSpool(): void {
    if (this.spoolFd !== null) fs.closeSync(this.spoolFd);
    this.spoolFd = null;
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
    const file = path.join(this.dir, BATCHES, `${batchId}.jsonl`);
    // A batch sealed by a process that stopped before marking its end (or by an older client) is
    // marked now, before it is read: every later read sees the same lines.
    let text = fs.readFileSync(file, "utf8");
    if (!hasEnd(text)) {
      endBatch(file);
      text = fs.readFileSync(file, "utf8");
    }
    text = text.slice(0, endOf(text));
    const counts = new Map<string, ScanReport["counts"][number]>();
    const refusals: Spooled[] = [];
    let omitted = 0;
    for (const line of text.split("\n")) {
      if (!line) continue;
      let s: Spooled;
      try {
        const { n: _token, ...rest } = JSON.parse(line) as Spooled & { n?: string };
        s = rest;
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

/** The scan salt file holds something other than 64 lowercase hex characters: refused, never used weakened. */
export class ScanSaltInvalid extends Error {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(
      `the scan salt ${file} is not 64 lowercase hex characters (${why}): restore it, or remove it to make a new one (refusals hashed before will no longer match)`,
    );
  }
}

/** The salt in the file; null when there is no file; ScanSaltInvalid when it is not exactly 64 lowercase hex characters. */
function readSalt(file: string): Buffer | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "latin1");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const hex = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ScanSaltInvalid(file, `${text.length} characters read`);
  return Buffer.from(hex, "hex");
}

/**
 * The end of a batch: a line of its own (the newline before it ends a line a crash may have cut).
 * Lines after the first mark belong to no batch: their writer saw the rename and wrote them again.
 */
const END = "\n#end-of-batch\n";
const hasEnd = (text: string) => text.includes(END);
const endOf = (text: string) => {
  const at = text.indexOf(END);
  return at < 0 ? text.length : at + 1;
};

/** Appends the end mark (O_APPEND: after every line written before it, before every line after). */
function endBatch(file: string): void {
  fs.appendFileSync(file, END);
}

/** The line with this token lies before the batch's first end mark, or the batch has none yet (the mark will follow it). */
function lineInBatch(text: string, token: string): boolean {
  const at = text.indexOf(`"n":"${token}"}\n`);
  if (at < 0) throw new Error(`scan spool: a decision line written to ${token} is missing from its file`);
  const end = text.indexOf(END);
  return end < 0 || at < end;
}

/** The whole file behind a descriptor, from its start. */
function readAll(fd: number): string {
  const size = fs.fstatSync(fd).size;
  const buffer = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const n = fs.readSync(fd, buffer, read, size - read, read);
    if (n === 0) break;
    read += n;
  }
  return buffer.toString("utf8", 0, read);
}

function inodeOf(file: string): number {
  try {
    return fs.statSync(file).ino;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return -1;
    throw error;
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
