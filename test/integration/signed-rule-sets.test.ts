/**
 * Rule-set versions are signed as JWS JSON General Serialization with Ed25519 keys whose kid is the
 * RFC 7638 thumbprint; an independent JOSE verification (jose's generalVerify against the JWKS)
 * accepts them and yields exactly the RFC 8785 canonical bytes.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, createLocalJWKSet, generalVerify, type GeneralJWS } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalize } from "../../app/domain/canonical-json";
import { ruleSetDocumentSchema } from "../../app/schemas/rule-set";
import { currentDataPoint } from "../../app/queries/audit.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import type { Database } from "../../app/utils/db.server";
import { publicJwks, loadKeyRing, type KeyRing } from "../../app/utils/signing.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
}, 120_000);

describe("signed rule sets", () => {
  it("verify with an independent JOSE library against the JWKS; the payload is the RFC 8785 form; kid is the thumbprint", async () => {
    const jwks = await publicJwks(database.db);
    expect(jwks.keys).toHaveLength(1);
    const key = jwks.keys[0]!;
    expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(key).not.toHaveProperty("d");
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty: key.kty!, crv: key.crv!, x: key.x! }, "sha256"));

    const versions = await database.client`select version, canonical, digest, jws from rule_set_versions order by site_id, version`;
    expect(versions).toHaveLength(6);
    for (const v of versions) {
      const jws = JSON.parse(v.jws as string) as GeneralJWS;
      const verified = await generalVerify(jws, createLocalJWKSet(jwks));
      expect(verified.protectedHeader).toEqual({ alg: "EdDSA", kid: key.kid, typ: "c981-ruleset+jws" });
      expect(Buffer.from(verified.payload).equals(Buffer.from(v.canonical as Uint8Array))).toBe(true);
      const document = JSON.parse(new TextDecoder().decode(verified.payload));
      expect(canonicalize(document)).toBe(new TextDecoder().decode(verified.payload));
      expect(ruleSetDocumentSchema.safeParse(document).success).toBe(true);
      expect(document.signingKeys).toEqual([key.kid]);
    }
  });

  it("carries allowed alternates and risk class per rule", async () => {
    const [v] = await database.client`select canonical from rule_set_versions v join sites s on s.id = v.site_id where s.code = 'EIN' and version = 2`;
    const document = JSON.parse(Buffer.from(v!.canonical as Uint8Array).toString("utf8"));
    const asm = document.rules.find((r: { partNumber: string }) => r.partNumber === "ASM-1001");
    expect(asm.allowedAlternates).toEqual([{ component: "SUB-1008", alternates: ["MCH-1030"] }]);
    expect(asm.riskClass).toBe("medium");
  });

  it("an instance without the private key refuses to create a version, and writes nothing", async () => {
    const emptyDir = path.join(keyRing.dir, "..", `${path.basename(keyRing.dir)}-empty`);
    await fs.mkdir(emptyDir, { recursive: true });
    const lacking = await loadKeyRing(database.db, emptyDir);
    expect(lacking.missing).toEqual([keyRing.active[0]!.kid]);
    const before = await currentDataPoint(database.db);
    await expect(createRuleSetVersion(database.db, { siteId: 1, actor: "t", reason: "r", changes: [] }, lacking)).rejects.toThrow(/lacks the private key/);
    expect(await currentDataPoint(database.db)).toBe(before);
    await fs.rm(emptyDir, { recursive: true, force: true });
  });

  it("keeps private keys out of the database, in files only their owner reads", async () => {
    const [row] = await database.client`select public_jwk::text as jwk from signing_keys`;
    expect(JSON.parse(row!.jwk as string)).not.toHaveProperty("d");
    // The key, and beside it the log of the audit anchors it signed (ADR 019) — both owner-only.
    const files = (await fs.readdir(keyRing.dir)).sort();
    expect(files.filter((f) => f.endsWith(".jwk"))).toEqual([`${keyRing.active[0]!.kid}.jwk`]);
    expect(files.filter((f) => !f.endsWith(".jwk"))).toEqual(files.includes("audit-anchors.log") ? ["audit-anchors.log"] : []);
    for (const file of files) expect((await fs.stat(path.join(keyRing.dir, file))).mode & 0o777).toBe(0o600);
  });
});
