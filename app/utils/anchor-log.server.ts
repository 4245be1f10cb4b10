/**
 * The signing side's own record of the audit anchors it signed (ADR 019): an append-only JSON-lines
 * file in the signing-keys folder, owner-only like the private keys (ADR 007). A database
 * superuser who deletes or replaces anchors in `audit_anchors` cannot reach it, so this instance
 * refuses to sign a head that no longer extends what it signed, and `audit:verify` compares the
 * database with it. It covers what this instance signed: each instance with its own keys folder
 * keeps its own log.
 */
import fs from "node:fs/promises";
import path from "node:path";

export const ANCHOR_LOG_FILE = "audit-anchors.log";

export interface AnchorLogEntry {
  id: number;
  kind: "release" | "checkpoint";
  seq: number;
  hash: string;
  issuedAt: string;
  /** The JWS as stored (General JSON): the log can be checked like an export. */
  jws: string;
  /**
   * The writing transaction's id (pg_current_xact_id): the entry is appended before that
   * transaction commits (a release anchor rides in its caller's transaction), so an entry whose
   * anchor is not in the database is a deletion only if that transaction committed.
   */
  xid?: string;
}

export const anchorLogPath = (keysDir: string) => path.join(keysDir, ANCHOR_LOG_FILE);

/** Appends one signed anchor (after its transaction committed). Mode 0600, folder 0700, as the keys. */
export async function appendAnchorLog(keysDir: string, entry: AnchorLogEntry): Promise<void> {
  await fs.mkdir(keysDir, { recursive: true, mode: 0o700 });
  const line = `${JSON.stringify({ id: entry.id, kind: entry.kind, seq: entry.seq, hash: entry.hash, issuedAt: entry.issuedAt, jws: entry.jws, xid: entry.xid })}\n`;
  await fs.appendFile(anchorLogPath(keysDir), (await endsCut(keysDir)) ? `\n${line}` : line, { mode: 0o600, flag: "a" });
}

/** Does the log end in a line a crash cut short (no final newline)? The next entry then starts on a line of its own. */
async function endsCut(keysDir: string): Promise<boolean> {
  const handle = await fs.open(anchorLogPath(keysDir), "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}

/** Marks logged anchors whose transaction rolled back (found by the signing guard): no longer expected in the database. */
export async function appendRolledBack(keysDir: string, entries: readonly AnchorLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const lines = entries.map((e) => `${JSON.stringify({ rolledBack: e.id, xid: e.xid })}\n`).join("");
  await fs.appendFile(anchorLogPath(keysDir), (await endsCut(keysDir)) ? `\n${lines}` : lines, { mode: 0o600, flag: "a" });
}

export type AnchorLogRead =
  | { state: "absent" }
  | { state: "unreadable"; error: string }
  | { state: "read"; entries: AnchorLogEntry[]; problems: string[] /** Ids whose transaction rolled back (marked by the guard). */; rolledBack: number[] };

/**
 * The log's entries. Absent: this instance has signed nothing since the log exists. A line that
 * is not JSON is a write cut short by a crash and is left out (also inside the file: the next
 * entry starts on a new line); a JSON line that is not an entry is a problem (the file was edited).
 */
export async function readAnchorLog(keysDir: string): Promise<AnchorLogRead> {
  let text: string;
  try {
    text = await fs.readFile(anchorLogPath(keysDir), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { state: "absent" };
    return { state: "unreadable", error: `${anchorLogPath(keysDir)}: ${code ?? String(error)}` };
  }
  const lines = text.split("\n");
  lines.pop(); // "" after the final newline, or a partial last line
  const entries: AnchorLogEntry[] = [];
  const problems: string[] = [];
  const rolledBack = new Set<number>();
  lines.forEach((line, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // Not JSON at all: the remnant of a write a crash cut short (the next entry starts on a line
      // of its own). Its anchor, if it committed, is still in the database and in exports.
      return;
    }
    try {
      const e = parsed as AnchorLogEntry & { rolledBack?: number };
      if (e === null || typeof e !== "object") throw new Error("not an entry");
      if (Number.isSafeInteger(e.rolledBack)) {
        rolledBack.add(e.rolledBack!);
        return;
      }
      if (!Number.isSafeInteger(e.id) || !Number.isSafeInteger(e.seq) || typeof e.hash !== "string" || typeof e.jws !== "string")
        throw new Error("not an entry");
      entries.push(e);
    } catch {
      problems.push(`anchor log line ${i + 1} is not an anchor entry (the file was edited)`);
    }
  });
  return { state: "read", entries: entries.filter((e) => !rolledBack.has(e.id)), problems, rolledBack: [...rolledBack] };
}
