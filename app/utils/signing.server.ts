import fs from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, flattenedVerify, generateKeyPair, GeneralSign, importJWK, type GeneralJWS, type JWK } from "jose";
import { eq } from "drizzle-orm";
import { signingKeys } from "../../db/schema";
import type { DbOrTx } from "./db.server";
import { DomainError } from "./errors.server";

/** The JWS `typ` of a C-981 rule set; runtimes check it. */
export const RULE_SET_JWS_TYPE = "c981-ruleset+jws";

/** The JWS `typ` of an audit-chain anchor (ADR 019): never mistaken for a rule set. */
export const AUDIT_ANCHOR_JWS_TYPE = "c981-audit-anchor+jws";

/**
 * The signing keys this instance holds: for each key the database lists as active, its private key
 * from the key directory (one file `<kid>.jwk`, mode 0600). Private keys are never stored in the
 * database and never logged (ADR 007).
 */
export interface KeyRing {
  dir: string;
  active: { kid: string; privateKey: CryptoKey | Uint8Array }[];
  /** Active keys whose private part this instance lacks: it must refuse to sign. */
  missing: string[];
}

async function writePrivateKey(dir: string, kid: string, jwk: JWK): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${kid}.jwk`);
  await fs.writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: "wx" });
}

/**
 * Generates an Ed25519 key and keeps its private part in the key directory; the public part (JWK
 * with its kid) is returned for the database. Storing and auditing it is the service's work
 * (app/services/keys.server.ts, ADR 022).
 */
export async function generateSigningKey(dir: string): Promise<{ kid: string; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" };
  await writePrivateKey(dir, kid, privateJwk);
  return { kid, publicJwk };
}

/**
 * Reading a private key file to hand it to another instance (keys:export): its text, after
 * checking it is the Ed25519 key that kid names.
 */
export async function readPrivateKeyFile(dir: string, kid: string): Promise<string> {
  const file = path.join(dir, `${kid}.jwk`);
  const text = await fs.readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) throw new DomainError("not_found", `No private key ${kid} in ${dir}.`);
  await checkPrivateJwk(text, kid);
  return text;
}

/**
 * A private key file made elsewhere, checked and installed in this instance's key folder
 * (keys:import): an Ed25519 private JWK whose RFC 7638 thumbprint is its kid and whose public part
 * is `publicJwk` (what the database lists). Written mode 0600, never over an existing file.
 */
export async function installPrivateKey(dir: string, text: string, expected: { kid: string; publicJwk: JWK }): Promise<string> {
  const jwk = await checkPrivateJwk(text, expected.kid);
  if (jwk.x !== expected.publicJwk.x) throw new DomainError("conflict", `The file's public part is not the database's key ${expected.kid}.`);
  await writePrivateKey(dir, expected.kid, jwk).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") throw new DomainError("conflict", `${path.join(dir, `${expected.kid}.jwk`)} exists already.`);
    throw error;
  });
  return path.join(dir, `${expected.kid}.jwk`);
}

async function checkPrivateJwk(text: string, kid: string): Promise<JWK> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new DomainError("invalid", "The key file is not JSON (a private JWK).");
  }
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.d !== "string" || typeof jwk.x !== "string")
    throw new DomainError("invalid", "The key file is not an Ed25519 private JWK.");
  const thumbprint = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
  if (thumbprint !== kid || (jwk.kid !== undefined && jwk.kid !== kid)) throw new DomainError("conflict", `The key file holds key ${thumbprint}, not ${kid}.`);
  // The private part must be the public part's: sign and verify one byte string.
  try {
    // (Node refuses to import a private part that is not the public part's: "Invalid keyData".)
    const privateKey = await importJWK(jwk, "EdDSA");
    const publicKey = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "EdDSA");
    const probe = await new GeneralSign(new TextEncoder().encode("c981 key check")).addSignature(privateKey).setProtectedHeader({ alg: "EdDSA" }).done().sign();
    await flattenedVerify({ ...probe.signatures[0]!, payload: probe.payload }, publicKey);
  } catch {
    throw new DomainError("conflict", `The key file's private part does not match its public part ${kid}.`);
  }
  return { ...jwk, kid, alg: "EdDSA" };
}

export async function loadKeyRing(db: DbOrTx, dir: string): Promise<KeyRing> {
  const rows = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(eq(signingKeys.state, "active")).orderBy(signingKeys.createdAt);
  const active: KeyRing["active"] = [];
  const missing: string[] = [];
  for (const { kid } of rows) {
    const text = await fs.readFile(path.join(dir, `${kid}.jwk`), "utf8").catch(() => undefined);
    if (!text) {
      missing.push(kid);
      continue;
    }
    active.push({ kid, privateKey: (await importJWK(JSON.parse(text) as JWK, "EdDSA")) as CryptoKey | Uint8Array });
  }
  return { dir, active, missing };
}

/** Refuses, loudly, to sign with an incomplete key ring. */
export function assertCanSign(keyRing: KeyRing): void {
  if (keyRing.active.length === 0 || keyRing.missing.length > 0) {
    throw new DomainError(
      "conflict",
      keyRing.missing.length === 0
        ? `No active signing key: C-981 cannot sign a rule set (key directory ${keyRing.dir}).`
        : `This instance lacks the private key(s) ${keyRing.missing.join(", ")} in ${keyRing.dir}: it refuses to sign a rule set that active keys must sign.`,
    );
  }
}

/** JWS JSON General Serialization of the canonical bytes, one EdDSA signature per active key. */
export async function signRuleSet(bytes: Uint8Array, keyRing: KeyRing): Promise<GeneralJWS> {
  return signWithKeyRing(bytes, keyRing, RULE_SET_JWS_TYPE);
}

/** An audit anchor's statement, signed like a rule set by every active key (ADR 019). */
export async function signAuditAnchor(bytes: Uint8Array, keyRing: KeyRing): Promise<GeneralJWS> {
  return signWithKeyRing(bytes, keyRing, AUDIT_ANCHOR_JWS_TYPE);
}

async function signWithKeyRing(bytes: Uint8Array, keyRing: KeyRing, typ: string): Promise<GeneralJWS> {
  assertCanSign(keyRing);
  const signer = new GeneralSign(bytes);
  for (const key of keyRing.active) {
    signer.addSignature(key.privateKey).setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ });
  }
  return signer.sign();
}

export interface JwsCheck {
  /** The payload, when at least one signature verified with a known key and none failed. */
  payload?: Uint8Array;
  verifiedKids: string[];
  /** Signatures that do not verify with the key their kid names, or name no known key. */
  problems: string[];
}

/**
 * Checks every signature of a general JWS against public keys by kid (EdDSA only, `typ` as
 * expected). Valid when at least one signature verifies and none that names a known key fails.
 */
export async function checkJws(jws: GeneralJWS, keys: readonly JWK[], typ: string): Promise<JwsCheck> {
  const verifiedKids: string[] = [];
  const problems: string[] = [];
  let payload: Uint8Array | undefined;
  for (const signature of jws.signatures ?? []) {
    let header: { alg?: string; kid?: string; typ?: string };
    try {
      header = JSON.parse(Buffer.from(signature.protected ?? "", "base64url").toString("utf8")) as typeof header;
    } catch {
      problems.push("a signature has an unreadable protected header");
      continue;
    }
    const jwk = keys.find((k) => k.kid === header.kid);
    if (!jwk) {
      problems.push(`signed by ${header.kid ?? "no kid"}, which is not a known key`);
      continue;
    }
    if (header.alg !== "EdDSA" || header.typ !== typ) {
      problems.push(`signature by ${header.kid}: alg ${header.alg}, typ ${header.typ} (expected EdDSA, ${typ})`);
      continue;
    }
    try {
      const key = await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA");
      const result = await flattenedVerify({ payload: jws.payload, protected: signature.protected, signature: signature.signature }, key, {
        algorithms: ["EdDSA"],
      });
      payload = result.payload;
      verifiedKids.push(header.kid!);
    } catch {
      problems.push(`signature by ${header.kid} does not verify`);
    }
  }
  return { payload: problems.length === 0 && verifiedKids.length > 0 ? payload : undefined, verifiedKids, problems };
}

/** Every public key the portal has had, active or retired: old anchors stay checkable (ADR 019). */
export async function allPublicKeys(db: DbOrTx): Promise<JWK[]> {
  const rows = await db.select({ publicJwk: signingKeys.publicJwk }).from(signingKeys).orderBy(signingKeys.createdAt);
  return rows.map((r) => r.publicJwk as JWK);
}

/** The public keys as a JWKS (RFC 7517): OKP/Ed25519, kid, no private part. */
export async function publicJwks(db: DbOrTx): Promise<{ keys: JWK[] }> {
  // Retired keys are left out: runtimes must not accept them any more.
  const rows = await db.select({ publicJwk: signingKeys.publicJwk }).from(signingKeys).where(eq(signingKeys.state, "active")).orderBy(signingKeys.createdAt);
  return { keys: rows.map((r) => r.publicJwk as JWK) };
}
