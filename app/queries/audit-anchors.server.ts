/**
 * Read models of the audit anchors (ADR 019): the list for the screen and the export an auditor
 * keeps elsewhere and checks with openssl alone.
 */
import { createPublicKey } from "node:crypto";
import { asc, desc } from "drizzle-orm";
import type { JWK } from "jose";
import { auditAnchors, signingKeys } from "../../db/schema";
import { anchorExportFiles, type ExportedAnchor, type ExportFile } from "../domain/audit-anchor";
import type { DbOrTx } from "../utils/db.server";

/** The newest anchors, without their JWS (the audit screen). */
export async function latestAnchors(db: DbOrTx, params: { limit: number }) {
  return db
    .select({
      id: auditAnchors.id,
      kind: auditAnchors.kind,
      seq: auditAnchors.seq,
      hash: auditAnchors.hash,
      createdAt: auditAnchors.createdAt,
      createdBy: auditAnchors.createdBy,
    })
    .from(auditAnchors)
    .orderBy(desc(auditAnchors.id))
    .limit(params.limit);
}

/** A public JWK (OKP/Ed25519) as SubjectPublicKeyInfo PEM, the form openssl reads. */
export function publicKeyPem(jwk: JWK): string {
  const { kty, crv, x } = jwk;
  return createPublicKey({ key: { kty: kty!, crv: crv!, x: x! }, format: "jwk" }).export({ type: "spki", format: "pem" }) as string;
}

/** Every anchor with its signed payload, and every key the portal has had (retired keys signed old anchors). */
export async function anchorExport(db: DbOrTx): Promise<{ files: ExportFile[]; anchors: number; keys: number }> {
  const [rows, keys] = await Promise.all([
    db
      .select({
        id: auditAnchors.id,
        kind: auditAnchors.kind,
        seq: auditAnchors.seq,
        hash: auditAnchors.hash,
        createdAt: auditAnchors.createdAt,
        payload: auditAnchors.payload,
        jws: auditAnchors.jws,
      })
      .from(auditAnchors)
      .orderBy(asc(auditAnchors.id)),
    db.select({ kid: signingKeys.kid, publicJwk: signingKeys.publicJwk }).from(signingKeys).orderBy(asc(signingKeys.createdAt)),
  ]);
  const anchors: ExportedAnchor[] = rows.map((r) => {
    const jws = JSON.parse(r.jws) as { payload: string; signatures: { protected: string; signature: string }[] };
    return {
      id: r.id,
      kind: r.kind,
      seq: r.seq,
      hash: r.hash,
      issuedAt: r.createdAt.toISOString(),
      payload: r.payload,
      jws: {
        payload: jws.payload,
        signatures: jws.signatures.map((s) => {
          const header = JSON.parse(Buffer.from(s.protected, "base64url").toString("utf8")) as { kid: string; alg: string };
          return { protected: s.protected, signature: s.signature, kid: header.kid, alg: header.alg };
        }),
      },
    };
  });
  const pems = new Map(keys.map((k) => [k.kid, publicKeyPem(k.publicJwk as JWK)] as const));
  return { files: anchorExportFiles(anchors, pems), anchors: anchors.length, keys: pems.size };
}
