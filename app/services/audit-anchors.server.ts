/**
 * Signed anchors of the audit chain (ADR 019): writing them (at each rule-set version, and at
 * checkpoints) and checking the chain against them (audit:verify, the audit screen).
 *
 * An anchor writes no audit row of its own: the row would move the head it has just signed (and
 * every checkpoint would make the next one due). The anchor is its own record — append-only,
 * signed, naming who wrote it — and a release anchor rides in its version's transaction, right
 * after the version's audit row.
 */
import { asc, desc, inArray, sql } from "drizzle-orm";
import type { GeneralJWS, JWK } from "jose";
import { auditAnchors, auditTrail } from "../../db/schema";
import {
  anchorPayload,
  judgeAgainstAnchors,
  parseAnchorPayload,
  describeJudgement,
  type AnchorJudgement,
  type ChainStatusView,
  type AnchorStatement,
  type TrustedAnchor,
} from "../domain/audit-anchor";
import type { Db, DbOrTx, Tx } from "../utils/db.server";
import { logger } from "../utils/logger.server";
import { allPublicKeys, AUDIT_ANCHOR_JWS_TYPE, checkJws, loadKeyRing, signAuditAnchor, type KeyRing } from "../utils/signing.server";
import { appendAnchorLog, appendRolledBack, readAnchorLog, type AnchorLogEntry } from "../utils/anchor-log.server";
import { currentDataPoint } from "../queries/audit.server";
import { AUDIT_APPEND_LOCK, lockedAuditHead, verifyAuditChain, type ChainVerification } from "./audit.server";
import { raiseAlert } from "./security-alerts.server";
import { statusReportPage, telemetryHead } from "./runtime-status-reports.server";
import { TelemetryWalk, type TelemetryHead, type TelemetryProblem } from "../domain/status-report-telemetry";

export interface WrittenAnchor {
  id: number;
  kind: "release" | "checkpoint";
  seq: number;
  hash: string;
  issuedAt: string;
  /** The JWS as stored (General JSON). */
  jws: string;
}

/**
 * Signs `head` and stores the anchor. The caller's transaction must hold the append lock (it has
 * just appended, or called lockedAuditHead), so `head` is the head when this commits.
 */
export async function writeAnchor(
  tx: Tx,
  keyRing: KeyRing,
  params: {
    kind: "release" | "checkpoint";
    actor: string;
    head: { seq: number; hash: string };
    ruleSet?: { id: number; site: string; version: number; digest: string };
  },
): Promise<WrittenAnchor> {
  const [clock] = await tx.execute<{ now: string }>(
    sql`select to_char(date_trunc('milliseconds', clock_timestamp()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`,
  );
  // The runtime status reports too (ADR 026): their running digest up to the highest id below
  // which every report has committed, continued from the latest telemetry head already signed.
  const telemetry = await telemetryHead(tx, await latestSignedTelemetry(tx));
  const statement: AnchorStatement = {
    type: "c981.audit-anchor",
    kind: params.kind,
    seq: params.head.seq,
    hash: params.head.hash,
    issuedAt: clock!.now,
    ruleSet: params.ruleSet ? { site: params.ruleSet.site, version: params.ruleSet.version, digest: params.ruleSet.digest } : null,
    telemetry,
  };
  const payload = anchorPayload(statement);
  const jws = JSON.stringify(await signAuditAnchor(payload, keyRing));
  const [row] = await tx
    .insert(auditAnchors)
    .values({
      kind: params.kind,
      seq: statement.seq,
      hash: statement.hash,
      ruleSetVersionId: params.ruleSet?.id ?? null,
      payload,
      jws,
      createdAt: new Date(statement.issuedAt),
      createdBy: params.actor,
      telemetryThrough: telemetry.through,
      telemetryDigest: telemetry.digest,
    })
    .returning({ id: auditAnchors.id });
  const written = { id: row!.id, kind: params.kind, seq: statement.seq, hash: statement.hash, issuedAt: statement.issuedAt, jws };
  // This instance's own record (ADR 019), before the commit: a release anchor rides in its
  // caller's transaction, whose end this function does not see. The transaction id tells later
  // whether it committed (an entry of a rolled-back transaction is no deleted anchor).
  const [xact] = await tx.execute<{ xid: string }>(sql`select pg_current_xact_id()::text as xid`);
  // A keys folder that cannot be written (read-only mount) costs this entry, not the release: the
  // anchor is signed and stored; the loss is said in the log.
  await appendAnchorLog(keyRing.dir, { ...written, xid: xact!.xid }).catch((error: unknown) =>
    logger.warn(
      `anchor #${written.id} signed and stored, but not written to the anchor log in ${keyRing.dir}: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
  return written;
}

/**
 * The telemetry head of the latest anchor that signs one and whose signature holds (a stored
 * anchor that does not verify is passed over: verification reports it). None: from the first report.
 */
async function latestSignedTelemetry(tx: Tx): Promise<TelemetryHead | undefined> {
  // The columns only choose the candidates; what counts is the signed payload.
  const candidates = await tx.execute<{ id: number; jws: string }>(sql`
    select id, jws from audit_anchors where telemetry_through is not null order by telemetry_through desc, id desc limit 20`);
  if (candidates.length === 0) return undefined;
  const keys = await allPublicKeys(tx);
  const checked = await trustAnchors(
    candidates.map((c) => ({ id: c.id, jws: c.jws, source: "database" as const })),
    keys,
  );
  return checked.trusted.find((a) => a.telemetry)?.telemetry;
}

/**
 * Before signing `head` (under the append lock): does the database still hold every anchor this
 * instance signed (its anchor log), unchanged, and does the chain from the latest of them up to
 * `head` recompute? The problems found; none: signing may go on. A superuser who rewrote the
 * trail and deleted the anchors after the rewrite would otherwise get the forged head signed.
 */
export async function anchorLogProblems(tx: DbOrTx, keysDir: string, head: { seq: number; hash: string }): Promise<string[]> {
  const log = await readAnchorLog(keysDir);
  if (log.state === "absent") return [];
  if (log.state === "unreadable") return [`the anchor log cannot be read (${log.error})`];
  const problems = [...log.problems];
  const resolved = await logAgainstDatabase(tx, log.entries);
  problems.push(...resolved.problems.map((p) => `anchor #${p.id}: ${p.problem}`));
  await appendRolledBack(keysDir, resolved.rolledBack).catch(() => {});
  // The latest anchor this instance signed that was committed (present, or deleted since).
  const notStored = new Set([...resolved.rolledBack, ...resolved.pending]);
  const latest = log.entries.filter((e) => !notStored.has(e)).sort((a, b) => b.seq - a.seq || b.id - a.id)[0];
  if (latest) {
    if (head.seq < latest.seq) problems.push(`the trail ends at row ${head.seq}, before row ${latest.seq} that anchor #${latest.id} signed`);
    else {
      const [row] = await tx
        .select({ hash: auditTrail.hash })
        .from(auditTrail)
        .where(inArray(auditTrail.seq, [latest.seq]));
      if (row?.hash !== latest.hash) problems.push(`row ${latest.seq} no longer hashes to what anchor #${latest.id} signed`);
      else {
        const chain = await verifyAuditChain(tx, { from: { seq: latest.seq, hash: latest.hash } });
        if (chain.firstBreak)
          problems.push(
            `from anchor #${latest.id} (row ${latest.seq}) to the head the chain breaks at row ${chain.firstBreak.seq}: ${chain.firstBreak.detail}`,
          );
        else if (chain.headSeq !== head.seq) problems.push(`the chain from row ${latest.seq} ends at row ${chain.headSeq}, not at the head (row ${head.seq})`);
      }
    }
  }
  return problems;
}

/**
 * Each logged anchor against the database's row of the same id: present, same seq and hash. One
 * not there whose transaction rolled back (or is still committing) was never stored: no problem.
 */
async function logAgainstDatabase(
  db: DbOrTx,
  entries: readonly AnchorLogEntry[],
): Promise<{ problems: AnchorProblem[]; present: AnchorLogEntry[]; rolledBack: AnchorLogEntry[]; pending: AnchorLogEntry[] }> {
  const problems: AnchorProblem[] = [];
  const present: AnchorLogEntry[] = [];
  const rolledBack: AnchorLogEntry[] = [];
  const pending: AnchorLogEntry[] = [];
  const ids = [...new Set(entries.map((e) => e.id))];
  const stored = new Map<number, { seq: number; hash: string }>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db
      .select({ id: auditAnchors.id, seq: auditAnchors.seq, hash: auditAnchors.hash })
      .from(auditAnchors)
      .where(inArray(auditAnchors.id, ids.slice(i, i + 5000)));
    for (const r of rows) stored.set(r.id, r);
  }
  for (const e of entries) {
    const row = stored.get(e.id);
    if (!row && e.xid && /^\d+$/.test(e.xid)) {
      const [x] = await db.execute<{ status: string | null }>(sql`select pg_xact_status(${e.xid}::xid8) as status`);
      if (x?.status === "aborted") {
        rolledBack.push(e);
        continue;
      }
      if (x?.status === "in progress") {
        pending.push(e);
        continue;
      }
    }
    if (!row) problems.push({ id: e.id, source: "log", problem: `signed by this instance (row ${e.seq}, anchor log) but MISSING from the database` });
    else if (row.seq !== e.seq || row.hash !== e.hash)
      problems.push({
        id: e.id,
        source: "log",
        problem: `the database's anchor (row ${row.seq}) differs from the one this instance signed (row ${e.seq}, anchor log)`,
      });
    else present.push(e);
  }
  return { problems, present, rolledBack, pending };
}

export const CHECKPOINT_EVERY_ROWS = 1000;
export const CHECKPOINT_EVERY_MS = 60 * 60 * 1000;
/** Status reports since the latest telemetry head that make a checkpoint due (ADR 026): bounds an anchor's digest work. */
export const CHECKPOINT_EVERY_REPORTS = 100_000;

export type CheckpointResult = { written: true; anchor: WrittenAnchor } | { written: false; reason: string; refused?: string[] };

/** The alert raised when this instance refuses to sign (best effort: the refusal stands regardless). */
export async function alertRefusal(db: Db, actor: string, problems: string[]): Promise<void> {
  await db.transaction((tx) => raiseAlert(tx, { kind: "audit_anchor_refused", username: actor, detail: { problems: problems.slice(0, 20) } })).catch(() => {});
}

/**
 * A checkpoint anchor when one is due: 1,000 rows or 100,000 status reports since the latest anchor,
 * or an hour since it with any row or report after it (`force`: whenever the head or the status
 * reports are not anchored yet). Decided under the
 * append lock, so two instances never anchor the same head twice.
 */
export async function writeCheckpointIfDue(
  db: Db,
  keyRing: KeyRing,
  params: { actor: string; force?: boolean; everyRows?: number; everyMs?: number; everyReports?: number },
): Promise<CheckpointResult> {
  const everyRows = params.everyRows ?? CHECKPOINT_EVERY_ROWS;
  const everyReports = params.everyReports ?? CHECKPOINT_EVERY_REPORTS;
  const everyMs = params.everyMs ?? CHECKPOINT_EVERY_MS;
  const result: CheckpointResult = await db.transaction(async (tx): Promise<CheckpointResult> => {
    const head = await lockedAuditHead(tx);
    if (!head) return { written: false, reason: "the audit trail is empty" };
    // Every round, due or not: the server notices within one round that the trail or the anchors
    // no longer extend what this instance signed, and never signs such a head.
    const problems = await anchorLogProblems(tx, keyRing.dir, head);
    if (problems.length > 0) {
      return {
        written: false,
        reason: `REFUSED to sign row ${head.seq}: it does not extend the anchors this instance signed: ${problems.join("; ")}`,
        refused: problems,
      } as const;
    }
    const [last] = await tx
      .select({
        seq: auditAnchors.seq,
        createdAt: auditAnchors.createdAt,
        ageMs: sql<string>`(extract(epoch from clock_timestamp() - ${auditAnchors.createdAt}) * 1000)::bigint::text`,
      })
      .from(auditAnchors)
      .orderBy(desc(auditAnchors.seq), desc(auditAnchors.id))
      .limit(1);
    // Status reports since the latest telemetry head signed (ADR 026): ids are all but dense, so the
    // highest id minus the one signed is the count without counting.
    const [reports] = await tx.execute<{ since: string }>(sql`
      select (coalesce((select max(id) from runtime_status_reports), 0)
              - coalesce((select max(telemetry_through) from audit_anchors), 0))::text as since`);
    const reportsSince = Math.max(0, Number(reports?.since ?? 0));
    if (last && last.seq >= head.seq && reportsSince === 0) return { written: false, reason: `the head (row ${head.seq}) is already anchored` };
    if (!params.force && last) {
      const rows = head.seq - last.seq;
      if (rows < everyRows && reportsSince < everyReports && Number(last.ageMs) < everyMs) {
        return {
          written: false,
          reason: `not due: ${rows} row(s) and ${reportsSince} status report(s) since the latest anchor (row ${last.seq}, ${last.createdAt.toISOString()})`,
        };
      }
    }
    return { written: true, anchor: await writeAnchor(tx, keyRing, { kind: "checkpoint", actor: params.actor, head }) } as const;
  });
  if (!result.written && result.refused) await alertRefusal(db, params.actor, result.refused);
  return result;
}

/**
 * One round of the server's checkpoint timer. Never throws: a database away, or a key missing,
 * costs this round only and is logged (the process must not end over it).
 */
export async function checkpointRound(db: Db, keysDir: string, log: (line: string) => void): Promise<CheckpointResult | undefined> {
  try {
    const keyRing = await loadKeyRing(db, keysDir);
    if (keyRing.active.length === 0 || keyRing.missing.length > 0) {
      log(`C-981: audit checkpoint skipped: this instance cannot sign (keys missing in ${keysDir})`);
      return undefined;
    }
    const result = await writeCheckpointIfDue(db, keyRing, { actor: "system:checkpoint" });
    if (result.written) log(`C-981: audit checkpoint anchor #${result.anchor.id} signs row ${result.anchor.seq}`);
    else if (result.refused) log(`C-981: SECURITY: audit checkpoint ${result.reason}`);
    return result;
  } catch (error) {
    log(`C-981: audit checkpoint postponed to the next round: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                                */
/* ------------------------------------------------------------------------------------------ */

/** An anchor as stored or exported: its id and its JWS (JSON General Serialization). */
export interface AnchorRecord {
  id: number;
  jws: string;
  /** The seq and hash the row's columns (or the export's index) say; must agree with the signed payload. */
  seq?: number;
  hash?: string;
  source: "database" | "export" | "log";
}

export interface AnchorProblem {
  id: number;
  source: "database" | "export" | "log";
  problem: string;
}

/** Checks each anchor's signatures against the public keys; only those that verify are trusted. */
export async function trustAnchors(records: readonly AnchorRecord[], keys: readonly JWK[]): Promise<{ trusted: TrustedAnchor[]; problems: AnchorProblem[] }> {
  const trusted: TrustedAnchor[] = [];
  const problems: AnchorProblem[] = [];
  for (const record of records) {
    let jws: GeneralJWS;
    try {
      jws = JSON.parse(record.jws) as GeneralJWS;
    } catch {
      problems.push({ id: record.id, source: record.source, problem: "its JWS is not JSON" });
      continue;
    }
    const check = await checkJws(jws, keys, AUDIT_ANCHOR_JWS_TYPE);
    if (!check.payload) {
      problems.push({ id: record.id, source: record.source, problem: `signature not valid: ${check.problems.join("; ") || "no signature"}` });
      continue;
    }
    const statement = parseAnchorPayload(check.payload);
    if (!statement) {
      problems.push({ id: record.id, source: record.source, problem: "the signed payload is not an audit anchor" });
      continue;
    }
    if ((record.seq !== undefined && record.seq !== statement.seq) || (record.hash !== undefined && record.hash !== statement.hash)) {
      problems.push({ id: record.id, source: record.source, problem: `its columns (row ${record.seq}) disagree with what was signed (row ${statement.seq})` });
      continue;
    }
    trusted.push({
      id: record.id,
      kind: statement.kind,
      seq: statement.seq,
      hash: statement.hash,
      issuedAt: statement.issuedAt,
      ...(statement.telemetry ? { telemetry: statement.telemetry } : {}),
    });
  }
  return { trusted, problems };
}

export interface AnchoredVerification {
  /** The recomputation of the stored chain, from `from` (or the start) to the head. */
  chain: ChainVerification;
  from: { seq: number; hash: string } | undefined;
  headSeq: number;
  /** Distinct anchors checked (an anchor in the database and in an export counts once). */
  anchorsChecked: number;
  /** Distinct trusted anchors. */
  trusted: TrustedAnchor[];
  anchorProblems: AnchorProblem[];
  /** Anchor ids missing from the database: gaps, and ids up to the id sequence's last value (deleted anchors). */
  missingAnchors: { from: number; to: number }[];
  judgement: AnchorJudgement;
  /** The runtime status reports against the telemetry heads the trusted anchors sign (ADR 026). */
  telemetry: TelemetryVerification;
  ok: boolean;
}

export interface TelemetryVerification {
  /** Reports read (from `from.through`, or the first). */
  rowsChecked: number;
  /** Rows whose content is not their hash, anchors whose signed digest the rows no longer give. */
  problems: TelemetryProblem[];
  /** The highest signed head the reports were found to give. */
  proven?: TelemetryHead;
}

/**
 * Recomputes each stored status report's hash from its content and the running digest in id order,
 * and compares it with every telemetry head a trusted anchor signs (from `from`, a head already
 * proven, or the first report). Anchors without one (written before ADR 026) have nothing to check.
 */
export async function verifyTelemetry(
  db: DbOrTx,
  trusted: readonly TrustedAnchor[],
  options: { from?: TelemetryHead; pageSize?: number } = {},
): Promise<TelemetryVerification> {
  const heads = trusted.flatMap((a) => (a.telemetry ? [{ anchorId: a.id, head: a.telemetry }] : []));
  const walk = new TelemetryWalk(heads, options.from);
  let after = options.from?.through ?? 0;
  for (;;) {
    const page = await statusReportPage(db, after, options.pageSize ?? 5000);
    if (page.length === 0) break;
    walk.feed(page);
    after = page.at(-1)!.id;
  }
  walk.finish();
  const proven = walk.proven ? heads.find((h) => h.anchorId === walk.proven!.anchorId)?.head : options.from;
  return { rowsChecked: walk.rowsChecked, problems: walk.problems, proven };
}

async function storedAnchorRecords(db: DbOrTx): Promise<AnchorRecord[]> {
  const rows = await db
    .select({ id: auditAnchors.id, jws: auditAnchors.jws, seq: auditAnchors.seq, hash: auditAnchors.hash })
    .from(auditAnchors)
    .orderBy(asc(auditAnchors.id));
  return rows.map((r) => ({ ...r, source: "database" as const }));
}

/**
 * The chain against the signed anchors: the anchors' signatures (against `keys`, by default every
 * key the portal has had), the stored chain recomputed from `from` (a proven row) or the start,
 * and each anchored row's stored hash against its signed one. `extraAnchors`: anchors kept
 * elsewhere (an export), checked like the stored ones — they catch anchors deleted from the database.
 */
export async function verifyAnchoredChain(
  db: DbOrTx,
  options: {
    from?: { seq: number; hash: string };
    keys?: JWK[];
    extraAnchors?: AnchorRecord[];
    pageSize?: number;
    /** Anchors whose signatures were verified before, by id: not checked again, and kept even if the row has gone since. */
    alreadyTrusted?: ReadonlyMap<number, TrustedAnchor>;
    /** This instance's anchor log (keys folder): checked like an export, and each entry must be in the database. */
    anchorLog?: AnchorLogEntry[];
    /** Anchor ids the log knows were rolled back: their gap is explained. */
    rolledBackAnchors?: readonly number[];
    /** A telemetry head already proven: the status reports are read from after it (ADR 026). */
    telemetryFrom?: TelemetryHead;
  } = {},
): Promise<AnchoredVerification> {
  // Anchors first, the head after: every anchor read then names a row at or before the head.
  const known = options.alreadyTrusted ?? new Map<number, TrustedAnchor>();
  const storedRecords = await storedAnchorRecords(db);
  const logCheck = options.anchorLog ? await logAgainstDatabase(db, options.anchorLog) : undefined;
  const notStored = new Set([...(logCheck?.rolledBack ?? []), ...(logCheck?.pending ?? [])]);
  const explained = new Set([...(options.rolledBackAnchors ?? []), ...[...notStored].map((e) => e.id)]);
  const missingAnchors = await missingAnchorIds(
    db,
    storedRecords.map((r) => r.id),
    explained,
  );
  const logRecords: AnchorRecord[] = (options.anchorLog ?? [])
    .filter((e) => !notStored.has(e))
    .map((e) => ({ id: e.id, jws: e.jws, seq: e.seq, hash: e.hash, source: "log" }));
  const records = [...storedRecords.filter((r) => !known.has(r.id)), ...(options.extraAnchors ?? []), ...logRecords];
  const keys = options.keys ?? (await allPublicKeys(db));
  const checked = await trustAnchors(records, keys);
  // One anchor seen in several places (database, export, log) counts once; copies that differ stay apart.
  const distinct = new Map<string, TrustedAnchor>();
  for (const a of [...known.values(), ...checked.trusted]) distinct.set(`${a.id}:${a.seq}:${a.hash}`, a);
  const trusted = [...distinct.values()];
  const problems = [...checked.problems, ...(logCheck?.problems ?? [])];
  const chain = await verifyAuditChain(db, { from: options.from, pageSize: options.pageSize });
  const headSeq = await currentDataPoint(db);
  const seqs = [...new Set(trusted.map((a) => a.seq))];
  const stored = new Map<number, string>();
  for (let i = 0; i < seqs.length; i += 5000) {
    const rows = await db
      .select({ seq: auditTrail.seq, hash: auditTrail.hash })
      .from(auditTrail)
      .where(inArray(auditTrail.seq, seqs.slice(i, i + 5000)));
    for (const r of rows) stored.set(r.seq, r.hash);
  }
  const judgement = judgeAgainstAnchors(trusted, headSeq, (seq) => stored.get(seq));
  const telemetry = await verifyTelemetry(db, trusted, { from: options.telemetryFrom, pageSize: options.pageSize });
  return {
    chain,
    from: options.from,
    headSeq,
    anchorsChecked: new Set([...records.map((r) => r.id), ...known.keys()]).size,
    trusted,
    anchorProblems: problems,
    missingAnchors,
    judgement,
    telemetry,
    // Missing anchor ids are said, not judged: a sequence skips values (an anchor whose release
    // rolled back, up to 32 values after a crash), so a gap is no proof of a deletion. The anchor
    // logs and exports, which list what was signed, are (anchorProblems).
    ok: !chain.firstBreak && judgement.state === "intact" && problems.length === 0 && telemetry.problems.length === 0,
  };
}

/**
 * Anchor ids the database should hold and does not: gaps between ids, and ids after the highest
 * one up to the id sequence's last value (the latest anchors deleted). An anchor writer holds the
 * append lock until it commits, so a gap is checked again under that lock before it is reported
 * (an id taken by a transaction still committing is no gap).
 */
async function missingAnchorIds(db: DbOrTx, ids: readonly number[], explained: ReadonlySet<number>): Promise<{ from: number; to: number }[]> {
  const find = async (q: DbOrTx, present: readonly number[]) => {
    const [seq] = await q.execute<{ last: string | null }>(
      sql`select pg_sequence_last_value(pg_get_serial_sequence('audit_anchors', 'id')::regclass)::text as last`,
    );
    const last = seq?.last ? Number(seq.last) : 0;
    const have = new Set([...present, ...explained]);
    const missing: { from: number; to: number }[] = [];
    for (let id = 1; id <= last; id++) {
      if (have.has(id)) continue;
      const open = missing[missing.length - 1];
      if (open && open.to === id - 1) open.to = id;
      else missing.push({ from: id, to: id });
    }
    return missing;
  };
  if ((await find(db, ids)).length === 0) return [];
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
    const rows = await tx.select({ id: auditAnchors.id }).from(auditAnchors);
    return find(
      tx,
      rows.map((r) => r.id),
    );
  });
}

/** One sentence per missing range, for the CLI and the screen. */
export function describeMissingAnchors(missing: readonly { from: number; to: number }[]): string[] {
  return missing.map(
    (m) =>
      `anchor id${m.from === m.to ? ` #${m.from} was` : `s #${m.from}–#${m.to} were`} issued and ${m.from === m.to ? "is" : "are"} not in the database: rolled back (a failed release; a crash skips up to 32 ids) or deleted — check each instance's anchor log or an export (audit:verify --anchors DIR)`,
  );
}

/* ------------------------------------------------------------------------------------------ */
/* The audit screen: incremental                                                               */
/* ------------------------------------------------------------------------------------------ */

export interface ProvenPoint {
  anchorId: number;
  seq: number;
  hash: string;
  /** When this process last recomputed the whole chain from row 1 (later views went on from there). */
  fullRecomputeAt: Date;
  /** The status reports' signed head proven with it (ADR 026). */
  telemetry?: TelemetryHead;
}

/** Per database handle: the latest anchor this process has proven the whole chain up to. */
const provenPoints = new WeakMap<object, ProvenPoint>();
/** Per database handle: anchors whose signatures this process has verified (append-only: checked once). */
const trustedAnchors = new WeakMap<object, Map<number, TrustedAnchor>>();

export interface IncrementalVerification extends AnchoredVerification {
  /** The proven anchor the recomputation started from (none: from the start of the trail). */
  startedFrom?: ProvenPoint;
  /** The point proven after this run, for the next one. */
  provenNow?: ProvenPoint;
}

/**
 * What the audit screen shows on every view without recomputing the whole trail: every anchor's
 * anchored row hash (one query; any rewrite-and-rehash shows up there) — signatures of anchors
 * new since the last view (the others were checked once and are remembered), and the
 * rows after the latest anchor this process has proven. The first view recomputes everything.
 * A row before that anchor edited *without* re-hashing is found by `audit:verify` (full).
 */
export async function verifyIncrementally(db: DbOrTx, keysDir?: string): Promise<IncrementalVerification> {
  const startedFrom = provenPoints.get(db);
  const alreadyTrusted = trustedAnchors.get(db) ?? new Map<number, TrustedAnchor>();
  // This server's anchor log, when it has one it can read: checked too, and explains the id gap of an anchor rolled back.
  const log = keysDir ? await readAnchorLog(keysDir) : undefined;
  const read = log?.state === "read" ? log : undefined;
  const result = await verifyAnchoredChain(db, {
    from: startedFrom ? { seq: startedFrom.seq, hash: startedFrom.hash } : undefined,
    alreadyTrusted,
    anchorLog: read?.entries,
    rolledBackAnchors: read?.rolledBack,
    telemetryFrom: startedFrom?.telemetry,
  });
  // A signature verified once stays verified; an anchor row deleted since still counts.
  for (const anchor of result.trusted) alreadyTrusted.set(anchor.id, anchor);
  trustedAnchors.set(db, alreadyTrusted);
  let provenNow: ProvenPoint | undefined;
  if (result.ok && result.judgement.state === "intact" && result.judgement.lastAnchor) {
    const last = result.judgement.lastAnchor;
    provenNow = {
      ...(startedFrom && startedFrom.seq >= last.seq
        ? startedFrom
        : { anchorId: last.id, seq: last.seq, hash: last.hash, fullRecomputeAt: startedFrom?.fullRecomputeAt ?? new Date() }),
      telemetry: result.telemetry.proven,
    };
    provenPoints.set(db, provenNow);
  } else if (!result.ok) {
    // Something is wrong: the next view starts from the beginning again.
    provenPoints.delete(db);
  }
  return { ...result, startedFrom, provenNow };
}

/** The audit screen's chain status: verified incrementally, said plainly (what, and from where). */
export async function screenChainStatus(db: DbOrTx, keysDir?: string): Promise<ChainStatusView> {
  const v = await verifyIncrementally(db, keysDir);
  if (!v.ok) {
    const problems: string[] = [];
    if (v.judgement.state !== "intact") problems.push(`The trail ${describeJudgement(v.judgement)}.`);
    if (v.chain.firstBreak) problems.push(`At row ${v.chain.firstBreak.seq}: ${v.chain.firstBreak.detail}.`);
    for (const p of v.anchorProblems) problems.push(`Anchor #${p.id} is not trusted: ${p.problem}.`);
    for (const p of v.telemetry.problems) problems.push(`Status reports: ${p.detail}.`);
    return { intact: false, problems };
  }
  const last = v.judgement.state === "intact" ? v.judgement.lastAnchor : undefined;
  return {
    intact: true,
    headSeq: v.headSeq,
    rowsChecked: v.chain.rowsChecked,
    fromSeq: v.startedFrom?.seq ?? 0,
    provenAt: v.startedFrom ? v.startedFrom.fullRecomputeAt.toISOString() : null,
    anchorsVerified: v.trusted.length,
    lastAnchor: last ? { id: last.id, seq: last.seq, issuedAt: last.issuedAt } : null,
    unanchoredRows: v.judgement.state === "intact" ? v.judgement.unanchoredRows : 0,
    notices: describeMissingAnchors(v.missingAnchors).map((m) => `The ${m}.`),
  };
}
