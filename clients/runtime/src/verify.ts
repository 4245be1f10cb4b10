/**
 * Offline verification of one signed rule set, refusing each update attack by name (after The
 * Update Framework's list: rollback, freeze, untrusted or retired keys, mix-and-match, endless
 * data). No I/O; the caller supplies the trusted keys, the clock and what it already holds.
 */
import { createHash } from "node:crypto";
import { calculateJwkThumbprint, flattenedVerify, importJWK, type JWK } from "jose";
import { generalJwsSchema, protectedHeaderSchema, RULE_SET_JWS_TYPE, ruleSetDocumentSchema, type RuleSetDocument } from "./document";

export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** Why a rule set was refused; each code names the attack or fault it stops. */
export type RefusalCode =
  | "oversized" // endless data
  | "malformed" // truncated or not JSON
  | "signature-fields" // missing or extra JWS fields, unprotected headers, unexpected protected headers
  | "wrong-type" // typ is not c981-ruleset+jws (a token or another document signed by the same key)
  | "untrusted-key" // signed only by keys this client does not pin
  | "retired-key" // signed only by keys the portal has retired
  | "bad-signature" // payload or signature altered
  | "schema" // signed, but not a rule set this client understands
  | "wrong-site" // a valid rule set for another site
  | "expired" // indefinite freeze: an old document replayed past its expiry
  | "rollback" // an older version replayed
  | "mix-and-match" // the same version with other content
  | "chain-break" // previousDigest does not name the version this client holds before it
  | "premature"; // served as in force before its effectiveFrom

export class RuleSetRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    detail: string,
    /** The key the refused signature names (as claimed, never believed), when the refusal is about one. */
    readonly kid?: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = "RuleSetRefused";
  }
}

/** The keys this client trusts: pinned thumbprints, the public keys matching them, and the ones seen retired. */
export interface TrustStore {
  pinned: ReadonlySet<string>;
  keys: ReadonlyMap<string, CryptoKey | Uint8Array>;
  retired: ReadonlySet<string>;
}

/**
 * Builds a trust store from a JWKS: a key is kept only when its RFC 7638 thumbprint, computed here
 * (the `kid` a server claims is not believed), is pinned; it must be an Ed25519 public key.
 */
export async function trustStoreFrom(
  pinned: Iterable<string>,
  jwks: { keys?: unknown },
  retired: Iterable<string> = [],
): Promise<{ store: TrustStore; found: string[] }> {
  const pins = new Set(pinned);
  const keys = new Map<string, CryptoKey | Uint8Array>();
  for (const candidate of Array.isArray(jwks.keys) ? jwks.keys : []) {
    if (!candidate || typeof candidate !== "object") continue;
    const jwk = candidate as JWK;
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string" || "d" in jwk) continue;
    const kid = await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk.x }, "sha256").catch(() => undefined);
    if (!kid || !pins.has(kid)) continue;
    keys.set(kid, (await importJWK({ kty: "OKP", crv: "Ed25519", x: jwk.x }, "EdDSA")) as CryptoKey | Uint8Array);
  }
  return { store: { pinned: pins, keys, retired: new Set(retired) }, found: [...keys.keys()] };
}

export interface Holding {
  /** The last activated version, its digest and the schema version of the form held (absent: 1). */
  active?: { version: number; digest: string; schemaVersion?: number };
  /** Digests of versions this client has verified (activated or scheduled), by version. */
  known?: ReadonlyMap<number, string>;
  /** The schema version of each known digest's form, by version (absent: 1; ADR 039). */
  knownSchemas?: ReadonlyMap<number, number>;
}

export interface VerifiedRuleSet {
  jws: string;
  document: RuleSetDocument;
  /** sha256:<hex> of the signed payload bytes (the RFC 8785 canonical document). */
  digest: string;
  /** The pinned keys whose signatures verified. */
  verifiedBy: string[];
}

export interface VerifyOptions extends Holding {
  site: string;
  trust: TrustStore;
  now: Date;
  maxBytes?: number;
  /** For a version scheduled ahead (from /upcoming); otherwise it must be in force already. */
  scheduled?: boolean;
  /** Re-checking a saved state: an expired rule set is still the last good one (the on-expiry policy decides). */
  ignoreExpiry?: boolean;
  /** The schema versions accepted (default: 1 and 2); a client run as a v1 client accepts only 1 (ADR 039). */
  schemaVersions?: readonly number[];
}

const b64 = (text: string) => Buffer.from(text, "base64url");

export async function verifyRuleSet(body: string | Uint8Array, options: VerifyOptions): Promise<VerifiedRuleSet> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  if (size > maxBytes) throw new RuleSetRefused("oversized", `the response has ${size} bytes; the limit is ${maxBytes}`);
  const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RuleSetRefused("malformed", `the response is not complete JSON (truncated or garbage): ${(error as Error).message}`);
  }
  const shape = generalJwsSchema.safeParse(parsed);
  if (!shape.success)
    throw new RuleSetRefused("signature-fields", `not a JWS General JSON Serialization as C-981 signs it: ${describeIssues(shape.error.issues)}`);
  const jws = shape.data;

  const headers = jws.signatures.map((s, index) => {
    let header: unknown;
    try {
      header = JSON.parse(b64(s.protected).toString("utf8"));
    } catch {
      throw new RuleSetRefused("signature-fields", `signatures/${index}/protected is not base64url JSON`);
    }
    const checked = protectedHeaderSchema.safeParse(header);
    if (!checked.success) throw new RuleSetRefused("signature-fields", `signatures/${index}/protected: ${describeIssues(checked.error.issues)}`);
    if (checked.data.typ !== RULE_SET_JWS_TYPE)
      throw new RuleSetRefused("wrong-type", `signatures/${index} has typ ${JSON.stringify(checked.data.typ)}, not ${RULE_SET_JWS_TYPE}`);
    return checked.data;
  });
  const kids = headers.map((h) => h.kid);
  if (new Set(kids).size !== kids.length) throw new RuleSetRefused("signature-fields", "two signatures name the same key");

  // Signatures first: nothing of the payload is believed before a pinned key vouches for it.
  const verifiedBy: string[] = [];
  for (const [index, signature] of jws.signatures.entries()) {
    const kid = kids[index]!;
    if (!options.trust.pinned.has(kid) || options.trust.retired.has(kid)) continue;
    const key = options.trust.keys.get(kid);
    if (!key) continue;
    try {
      await flattenedVerify({ payload: jws.payload, protected: signature.protected, signature: signature.signature }, key, { algorithms: ["EdDSA"] });
    } catch {
      throw new RuleSetRefused("bad-signature", `the signature by pinned key ${kid} does not verify: payload or signature altered`, kid);
    }
    verifiedBy.push(kid);
  }
  if (verifiedBy.length === 0) {
    const retired = kids.filter((k) => options.trust.retired.has(k));
    if (retired.length > 0) throw new RuleSetRefused("retired-key", `signed only by retired key(s) ${retired.join(", ")}`, retired[0]);
    const pinnedWithoutKey = kids.filter((k) => options.trust.pinned.has(k));
    if (pinnedWithoutKey.length > 0)
      throw new RuleSetRefused(
        "untrusted-key",
        `the public key of pinned key(s) ${pinnedWithoutKey.join(", ")} is not at hand (not in the portal's JWKS)`,
        pinnedWithoutKey[0],
      );
    throw new RuleSetRefused("untrusted-key", `signed only by key(s) this client does not pin: ${kids.join(", ")}`, kids[0]);
  }

  const payloadBytes = b64(jws.payload);
  let payload: unknown;
  try {
    payload = JSON.parse(payloadBytes.toString("utf8"));
  } catch {
    throw new RuleSetRefused("schema", "the signed payload is not JSON");
  }
  const checked = ruleSetDocumentSchema.safeParse(payload);
  if (!checked.success) throw new RuleSetRefused("schema", `the signed payload is not a C-981 rule set: ${describeIssues(checked.error.issues)}`);
  const document = checked.data;
  if (options.schemaVersions && !options.schemaVersions.includes(document.schemaVersion))
    throw new RuleSetRefused("schema", `schema version ${document.schemaVersion} is not one this client accepts (${options.schemaVersions.join(", ")})`);

  // Mix-and-match: the signatures must be exactly those the document declares.
  const declared = new Set(document.signingKeys);
  const undeclared = kids.filter((k) => !declared.has(k));
  const absent = document.signingKeys.filter((k) => !kids.includes(k));
  if (undeclared.length > 0 || absent.length > 0) {
    throw new RuleSetRefused(
      "mix-and-match",
      `the signatures do not match signingKeys${undeclared.length ? ` (undeclared: ${undeclared.join(", ")})` : ""}${absent.length ? ` (missing: ${absent.join(", ")})` : ""}`,
    );
  }

  if (document.site !== options.site) throw new RuleSetRefused("wrong-site", `the rule set is for site ${document.site}, this client runs at ${options.site}`);

  const digest = `sha256:${createHash("sha256").update(payloadBytes).digest("hex")}`;
  const active = options.active;
  if (active && document.version < active.version) {
    throw new RuleSetRefused("rollback", `version ${document.version} is older than the active version ${active.version}`);
  }
  // A version has one form per schema version (ADR 039), each with its own digest: what is held is
  // compared with the same form. The other form of a version held is that version again, signed.
  const held = (version: number): { digest: string; schemaVersion: number } | undefined => {
    if (active?.version === version) return { digest: active.digest, schemaVersion: active.schemaVersion ?? 1 };
    const known = options.known?.get(version);
    return known === undefined ? undefined : { digest: known, schemaVersion: options.knownSchemas?.get(version) ?? 1 };
  };
  const same = held(document.version);
  if (same !== undefined && same.schemaVersion === document.schemaVersion && same.digest !== digest) {
    throw new RuleSetRefused("mix-and-match", `version ${document.version} was ${same.digest}; this one is ${digest}`);
  }
  // A version held in schema version 2 is never taken back in schema version 1 (only a version made
  // before schema version 2 comes as 1). The v2 form of a version held as v1 is accepted here; the
  // client compares its content with the v1 document it holds (sameContent) before it switches.
  if (same !== undefined && same.schemaVersion === 2 && document.schemaVersion === 1) {
    throw new RuleSetRefused(
      "mix-and-match",
      `version ${document.version} is held in schema version 2 (${same.digest}); a schema-version-1 form of it is refused`,
    );
  }
  // The v2 chain names the previous version's v2 digest, or its v1 digest when it has no v2 form: a
  // v2 document is checked against a v2 form held, and against a v1 form held only when it names
  // that (a v1 form held when the v2 document names the previous v2 form cannot be compared).
  const before = held(document.version - 1);
  const uncomparable = before?.schemaVersion === 1 && document.schemaVersion === 2 && document.previousDigest !== before.digest;
  const previous = uncomparable ? undefined : before?.digest;
  if (previous !== undefined && document.previousDigest !== previous) {
    throw new RuleSetRefused(
      "chain-break",
      `version ${document.version} names ${document.previousDigest ?? "no"} previous digest; version ${document.version - 1} held here is ${previous}`,
    );
  }
  // Freeze: after the version checks, as TUF orders them (a replayed old version is named a rollback).
  if (!options.ignoreExpiry && Date.parse(document.expiresAt) <= options.now.getTime())
    throw new RuleSetRefused("expired", `the rule set version ${document.version} expired at ${document.expiresAt}`);
  if (!options.scheduled && Date.parse(document.effectiveFrom) > options.now.getTime()) {
    throw new RuleSetRefused("premature", `version ${document.version} served as in force takes effect only at ${document.effectiveFrom}`);
  }
  return { jws: text, document, digest, verifiedBy };
}

/**
 * Whether a schema-version-2 document carries exactly the rules and envelope of a schema-version-1
 * document of the same version (ADR 039): equal but for `schemaVersion`, `previousDigest` (each form
 * chains to its own) and the rules' `id` and `routing`.
 */
export function sameContent(v1: RuleSetDocument, v2: RuleSetDocument): boolean {
  if (v1.schemaVersion !== 1 || v2.schemaVersion !== 2) return false;
  const { previousDigest: _a, schemaVersion: _b, ...rest1 } = v1;
  const { previousDigest: _c, schemaVersion: _d, rules, ...rest2 } = v2;
  const projected = { ...rest2, rules: rules.map(({ id: _id, routing: _routing, ...rule }) => rule) };
  return sortedJson(rest1) === sortedJson(projected);
}

/** JSON with object keys sorted (enough to compare two parsed documents; not RFC 8785). */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `/${i.path.map(String).join("/")}` : "(root)"}: ${i.message}`)
    .join("; ");
}
