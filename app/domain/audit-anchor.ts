import { canonicalBytes } from "./canonical-json";
import { isTelemetryHead, type TelemetryHead } from "./status-report-telemetry";

/**
 * Anchors of the audit trail's hash chain (ADR 019). Pure: the statement that is signed, and the
 * judgement of a chain against the signed anchors.
 *
 * The chain alone (ADR 003) proves only that its rows agree with each other: whoever can write the
 * table can rewrite a row and re-hash every row after it, or delete the tail, and the chain still
 * "verifies". An anchor is a statement "row `seq` of the audit trail hashes to `hash`" signed with
 * the portal's signing key, whose private part is outside the database. A rewrite from row k on
 * changes the hash of every row from k, so the first anchor at or after k no longer matches; a
 * deleted tail leaves the latest anchor pointing past the head.
 */

export const AUDIT_ANCHOR_TYPE = "c981.audit-anchor";

export interface AnchorStatement {
  type: typeof AUDIT_ANCHOR_TYPE;
  kind: "release" | "checkpoint";
  /** The audit row anchored: the head when the anchor was written. */
  seq: number;
  /** That row's chain hash (64 lowercase hex). */
  hash: string;
  /** ISO-8601 UTC with milliseconds. */
  issuedAt: string;
  /** For a release anchor: the rule-set version written in the same transaction. */
  ruleSet: { site: string; version: number; digest: string } | null;
  /**
   * The runtime status reports (ADR 026): every stored report with id ≤ `through` gives `digest`.
   * Absent from anchors written before status reports left the audit trail.
   */
  telemetry?: TelemetryHead;
}

/** The bytes that are signed: RFC 8785 canonical JSON of the statement. */
export function anchorPayload(statement: AnchorStatement): Uint8Array {
  return canonicalBytes(statement);
}

/** The statement in signed bytes, or undefined when they are not one. */
export function parseAnchorPayload(bytes: Uint8Array): AnchorStatement | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const s = value as Record<string, unknown>;
  if (s.type !== AUDIT_ANCHOR_TYPE) return undefined;
  if (s.kind !== "release" && s.kind !== "checkpoint") return undefined;
  if (typeof s.seq !== "number" || !Number.isSafeInteger(s.seq) || s.seq < 1) return undefined;
  if (typeof s.hash !== "string" || !/^[0-9a-f]{64}$/.test(s.hash)) return undefined;
  if (typeof s.issuedAt !== "string") return undefined;
  if (s.telemetry !== undefined && !isTelemetryHead(s.telemetry)) return undefined;
  return value as AnchorStatement;
}

/** An anchor whose signature has been checked; only these count. */
export interface TrustedAnchor {
  id: number;
  kind: "release" | "checkpoint";
  seq: number;
  hash: string;
  issuedAt: string;
  /** The status reports' head it signs, if it signs one (ADR 026). */
  telemetry?: TelemetryHead;
}

export type AnchorJudgement =
  | {
      state: "intact";
      /** The latest anchor the chain matches (none when there is no anchor yet). */
      lastAnchor?: TrustedAnchor;
      /** Rows after the latest anchor: no signature covers them yet. */
      unanchoredRows: number;
    }
  | {
      /** Rows were rewritten (and re-hashed): an anchored row no longer hashes to its signed hash. */
      state: "rewritten";
      lastGood?: TrustedAnchor;
      firstBad: TrustedAnchor;
      storedHash: string;
      /** The rewrite began in rows from..to (inclusive): after the last matching anchor, up to the first failing one. */
      from: number;
      to: number;
    }
  | {
      /** Rows were removed from the end: the head is before a signed anchor. */
      state: "truncated";
      lastGood?: TrustedAnchor;
      anchor: TrustedAnchor;
      headSeq: number;
    };

/**
 * Judges the stored chain against the signed anchors. `storedHashAt(seq)` is the hash the trail
 * holds for a row (undefined when the row is missing). Assumes the stored chain links up (the
 * caller recomputes it with findChainBreak): then a row whose hash matches a signed anchor proves
 * every row up to it.
 */
export function judgeAgainstAnchors(anchors: readonly TrustedAnchor[], headSeq: number, storedHashAt: (seq: number) => string | undefined): AnchorJudgement {
  const ordered = [...anchors].sort((a, b) => a.seq - b.seq || a.id - b.id);
  let lastGood: TrustedAnchor | undefined;
  for (const anchor of ordered) {
    if (anchor.seq > headSeq) return { state: "truncated", lastGood, anchor, headSeq };
    const stored = storedHashAt(anchor.seq);
    if (stored === undefined) return { state: "truncated", lastGood, anchor, headSeq };
    if (stored !== anchor.hash) {
      return { state: "rewritten", lastGood, firstBad: anchor, storedHash: stored, from: (lastGood?.seq ?? 0) + 1, to: anchor.seq };
    }
    lastGood = anchor;
  }
  return { state: "intact", lastAnchor: lastGood, unanchoredRows: headSeq - (lastGood?.seq ?? 0) };
}

/** One sentence for the CLI and the screen. */
export function describeJudgement(judgement: AnchorJudgement): string {
  const after = (a?: TrustedAnchor) => (a ? `anchor #${a.id} (row ${a.seq}, ${a.issuedAt})` : "the start of the trail");
  switch (judgement.state) {
    case "intact":
      return judgement.lastAnchor
        ? `matches signed ${after(judgement.lastAnchor)}; ${judgement.unanchoredRows} row(s) after it not anchored yet`
        : `no signed anchor yet: ${judgement.unanchoredRows} row(s) are covered by no signature`;
    case "rewritten":
      return `REWRITTEN: row ${judgement.firstBad.seq} hashes to ${judgement.storedHash.slice(0, 12)}…, but signed anchor #${judgement.firstBad.id} (${judgement.firstBad.issuedAt}) says ${judgement.firstBad.hash.slice(0, 12)}…: the rewrite begins in rows ${judgement.from}–${judgement.to} (after ${after(judgement.lastGood)})`;
    case "truncated":
      return `TRUNCATED: the trail ends at row ${judgement.headSeq}, but signed anchor #${judgement.anchor.id} (${judgement.anchor.issuedAt}) vouches for row ${judgement.anchor.seq}: rows ${judgement.headSeq + 1}–${judgement.anchor.seq} (at least) were deleted${judgement.lastGood ? `; the trail matches ${after(judgement.lastGood)}` : ""}`;
  }
}

/**
 * What the audit screen verified on this view (verifyIncrementally in
 * app/services/audit-anchors.server.ts, ADR 019): the signed anchors, and the chain recomputed from the latest
 * anchor this server has already proven (or from the start on its first view).
 */
export type ChainStatusView =
  | {
      intact: true;
      headSeq: number;
      /** Rows recomputed on this view: fromSeq+1 … headSeq. */
      rowsChecked: number;
      fromSeq: number;
      /** When this server last recomputed every row from 1 (ISO); null: on this view. */
      provenAt: string | null;
      anchorsVerified: number;
      lastAnchor: { id: number; seq: number; issuedAt: string } | null;
      unanchoredRows: number;
      /** Said, not judged (e.g. anchor ids issued and not stored: rolled back or deleted). */
      notices: string[];
    }
  | { intact: false; problems: string[] };

/* ------------------------------------------------------------------------------------------ */
/* Export for openssl                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** The bytes a JWS signature covers (RFC 7515 §5.1): ASCII(protected '.' BASE64URL(payload)). */
export function jwsSigningInput(protectedB64: string, payloadB64: string): Uint8Array {
  return new TextEncoder().encode(`${protectedB64}.${payloadB64}`);
}

export interface ExportedAnchor {
  id: number;
  kind: string;
  seq: number;
  hash: string;
  issuedAt: string;
  payload: Uint8Array;
  jws: { payload: string; signatures: { protected: string; signature: string; kid: string; alg: string }[] };
}

export interface ExportFile {
  path: string;
  content: Uint8Array | string;
}

const pad = (id: number) => String(id).padStart(6, "0");

/**
 * The files of an anchor export an auditor can check with openssl alone: per anchor and
 * signature the signed bytes and the raw signature, the payload, the public keys as PEM, a
 * README.txt with the commands, and verify.sh running them all. Ed25519 only (the portal's keys,
 * ADR 007); `openssl pkeyutl -verify -rawin` takes the raw 64-byte signature as JWS has it.
 */
export function anchorExportFiles(anchors: readonly ExportedAnchor[], publicKeysPem: ReadonlyMap<string, string>): ExportFile[] {
  const files: ExportFile[] = [];
  const lines: string[] = [];
  const checks: string[] = [];
  for (const [kid, pem] of publicKeysPem) files.push({ path: `keys/${kid}.pem`, content: pem });
  for (const anchor of anchors) {
    const base = `anchors/${pad(anchor.id)}`;
    files.push({ path: `${base}.payload.json`, content: anchor.payload });
    for (const s of anchor.jws.signatures) {
      if (s.alg !== "EdDSA") throw new Error(`anchor #${anchor.id}: signature algorithm ${s.alg} is not exported (Ed25519 only)`);
      files.push({ path: `${base}.${s.kid}.signed`, content: jwsSigningInput(s.protected, anchor.jws.payload) });
      files.push({ path: `${base}.${s.kid}.sig`, content: Buffer.from(s.signature, "base64url") });
      checks.push(`check ${pad(anchor.id)} ${s.kid}`);
    }
    lines.push(JSON.stringify({ id: anchor.id, kind: anchor.kind, seq: anchor.seq, hash: anchor.hash, issuedAt: anchor.issuedAt, jws: anchor.jws }));
  }
  files.push({ path: "anchors.jsonl", content: lines.map((l) => `${l}\n`).join("") });
  files.push({ path: "verify.sh", content: verifyScript(checks) });
  files.push({ path: "README.txt", content: README });
  return files;
}

function verifyScript(checks: string[]): string {
  return `#!/bin/sh
# Verifies every anchor signature of this export with openssl (see README.txt). Exit 0: all good.
set -u
cd "$(dirname "$0")"
failed=0
check() {
  id=$1; kid=$2
  if ! openssl pkeyutl -verify -pubin -inkey "keys/$kid.pem" -rawin -in "anchors/$id.$kid.signed" -sigfile "anchors/$id.$kid.sig" >/dev/null; then
    echo "anchor $id key $kid: SIGNATURE DOES NOT VERIFY"; failed=1; return
  fi
  signed_payload=$(cut -d. -f2 "anchors/$id.$kid.signed")
  file_payload=$(openssl base64 -A -in "anchors/$id.payload.json" | tr '+/' '-_' | tr -d '=')
  if [ "$signed_payload" != "$file_payload" ]; then
    echo "anchor $id key $kid: anchors/$id.payload.json IS NOT WHAT WAS SIGNED"; failed=1; return
  fi
  echo "anchor $id key $kid: verified"
}
${checks.join("\n")}
exit $failed
`;
}

const README = `C-981 audit-trail anchors (ADR 019)
====================================

Each anchor is a signed statement "row SEQ of the audit trail hashes to HASH", written by the
portal at every rule-set version and at checkpoints. Keep this folder somewhere the portal's
database administrators cannot write: comparing a later audit-trail export (audit.csv: seq, hash)
with these anchors shows whether the trail was rewritten or shortened since.

Files
  keys/KID.pem                      the portal's public signing keys (Ed25519, SubjectPublicKeyInfo PEM);
                                    KID is the key's RFC 7638 thumbprint, as in /.well-known/jwks.json
  anchors/ID.payload.json           the signed statement (RFC 8785 canonical JSON): seq, hash, kind, issuedAt,
                                    and (since ADR 026) telemetry: the runtime status reports' head —
                                    every report with id <= through gives digest
  anchors/ID.KID.signed             the exact bytes signed (JWS signing input, RFC 7515 §5.1):
                                    BASE64URL(protected header) "." BASE64URL(payload)
  anchors/ID.KID.sig                the raw 64-byte Ed25519 signature
  anchors.jsonl                     one anchor per line with its JWS (npm run c981 -- audit:verify --anchors DIR)
  verify.sh                         runs the two checks below for every anchor

1. The signature (OpenSSL 3):
   openssl pkeyutl -verify -pubin -inkey keys/KID.pem -rawin -in anchors/ID.KID.signed -sigfile anchors/ID.KID.sig
   prints "Signature Verified Successfully" (exit 0), or "Signature Verification Failure" (exit 1).

2. The payload is what was signed: the part after the "." of the signed bytes is the payload file
   in base64url. These two lines must print the same text:
   cut -d. -f2 anchors/ID.KID.signed
   openssl base64 -A -in anchors/ID.payload.json | tr '+/' '-_' | tr -d '='

3. The trail: in the audit CSV export, the row whose seq is the payload's "seq" must carry the
   payload's "hash", and the export must reach at least the latest anchor's seq.
`;
