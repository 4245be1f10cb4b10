import fs from "node:fs/promises";
import { and, desc, eq, sql } from "drizzle-orm";
import type { JWK } from "jose";
import { ruleSetVersions, signingKeys, sites } from "../../db/schema";
import { clientsStrandedBy } from "../queries/keys.server";
import type { Db } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { generateSigningKey, installPrivateKey, loadKeyRing, readPrivateKeyFile, type KeyRing } from "../utils/signing.server";
import { appendAudit } from "./audit.server";
import { createRuleSetVersion } from "./rule-sets.server";

/** Generates an Ed25519 key, keeps the private part in the key directory and the public part in the database (audited). */
export async function createSigningKey(db: Db, dir: string, actor: string, reason: string): Promise<string> {
  const { kid, publicJwk } = await generateSigningKey(dir);
  await db.transaction(async (tx) => {
    await tx.insert(signingKeys).values({ kid, publicJwk: { ...publicJwk, kid, alg: "EdDSA", use: "sig" }, state: "active", createdAt: sql`now()` });
    await appendAudit(tx, {
      actor,
      action: "signing_key.create",
      entityType: "signing_key",
      entityId: kid,
      after: { kid, state: "active", publicJwk },
      reason,
    });
  });
  return kid;
}

/** The key ring, creating the first key when the database has none (first start). */
export async function ensureKeyRing(db: Db, dir: string): Promise<KeyRing> {
  const [any] = await db.select({ kid: signingKeys.kid }).from(signingKeys).limit(1);
  if (!any) await createSigningKey(db, dir, "system:start", "first start: no signing key yet");
  return loadKeyRing(db, dir);
}

/** Re-issues each site's latest version, unchanged, signed by the current keys (kind `renewal`). */
export async function renewSites(db: Db, keyRing: KeyRing, actor: string, reason: string, siteCodes?: string[]): Promise<{ site: string; version: number }[]> {
  const rows = await db.select({ id: sites.id, code: sites.code }).from(sites).orderBy(sites.code);
  const renewed: { site: string; version: number }[] = [];
  for (const site of rows.filter((s) => !siteCodes || siteCodes.includes(s.code))) {
    const [latest] = await db
      .select({ version: ruleSetVersions.version })
      .from(ruleSetVersions)
      .where(eq(ruleSetVersions.siteId, site.id))
      .orderBy(desc(ruleSetVersions.version))
      .limit(1);
    if (!latest) continue;
    const created = await createRuleSetVersion(db, { siteId: site.id, kind: "renewal", changes: [], actor, reason }, keyRing);
    renewed.push({ site: site.code, version: created.version });
  }
  return renewed;
}

/**
 * The renewal round's session advisory lock (server/main.ts): one instance at a time renews. Held
 * for the whole round, so no lock a renewal itself takes may share its key (audit.server.ts,
 * runtime-status-reports.server.ts and migrate.server.ts hold the others).
 */
export const RENEWAL_LOCK = 981_000_003;

/** Versions that expire within `withinDays` get a renewal (run by the server daily and by the CLI). */
export async function renewExpiring(db: Db, keyRing: KeyRing, withinDays: number): Promise<{ site: string; version: number }[]> {
  const due = await db.execute<{ code: string }>(sql`
    select s.code from sites s join lateral (
      select expires_at from rule_set_versions v where v.site_id = s.id order by version desc limit 1
    ) latest on true
    where latest.expires_at is not null and latest.expires_at < now() + make_interval(days => ${withinDays})`);
  if (due.length === 0) return [];
  return renewSites(
    db,
    keyRing,
    "system:renewal",
    `renewal before expiry (within ${withinDays} days)`,
    due.map((d) => d.code),
  );
}

/** Adds a key; every site gets a renewal signed by all active keys, so clients pinned to either keep working. */
export async function rotateKeys(db: Db, dir: string, actor: string): Promise<{ kid: string; renewed: { site: string; version: number }[] }> {
  const kid = await createSigningKey(db, dir, actor, "keys:rotate");
  const keyRing = await loadKeyRing(db, dir);
  const renewed = await renewSites(db, keyRing, actor, `key rotation: now also signed by ${kid}`);
  return { kid, renewed };
}

/** Retires a key (it leaves the JWKS) and renews every site signed by the remaining keys. */
export async function retireKey(
  db: Db,
  dir: string,
  actor: string,
  kid: string,
  options: { force?: boolean } = {},
): Promise<{ renewed: { site: string; version: number }[] }> {
  const active = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(eq(signingKeys.state, "active"));
  if (!active.some((k) => k.kid === kid)) throw new DomainError("not_found", `no active key ${kid}`);
  if (active.length === 1) throw new DomainError("conflict", "The last active key cannot be retired: rotate first.");
  const stranded = await clientsStrandedBy(db, kid);
  if (stranded.length && !options.force) {
    throw new DomainError(
      "conflict",
      `Retiring ${kid} would strand runtime clients that trust no other key: ${stranded.join(", ")}. Pin them to the new key first (or force).`,
    );
  }
  await db.transaction(async (tx) => {
    const active = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(eq(signingKeys.state, "active"));
    if (!active.some((k) => k.kid === kid)) throw new DomainError("not_found", `no active key ${kid}`);
    if (active.length === 1) throw new DomainError("conflict", "The last active key cannot be retired: rotate first.");
    await tx
      .update(signingKeys)
      .set({ state: "retired", retiredAt: sql`now()` })
      .where(and(eq(signingKeys.kid, kid), eq(signingKeys.state, "active")));
    await appendAudit(tx, {
      actor,
      action: "signing_key.retire",
      entityType: "signing_key",
      entityId: kid,
      after: { state: "retired", strandedClients: stranded },
    });
  });
  const keyRing = await loadKeyRing(db, dir);
  const renewed = await renewSites(db, keyRing, actor, `key ${kid} retired`);
  return { renewed };
}

/*
 * Distributing a key to instances with key folders of their own (README "Operating C-981"): the
 * private key leaves one folder and enters another only through these two, each audited (who, which
 * key, which host) — never the key itself in the trail.
 */

/** The private key file of an active key in this instance's folder, for keys:import elsewhere (audited). */
export async function exportSigningKey(db: Db, dir: string, kid: string, actor: string, where: { host: string; to: string }): Promise<string> {
  const [key] = await db.select({ state: signingKeys.state }).from(signingKeys).where(eq(signingKeys.kid, kid));
  if (key?.state !== "active") throw new DomainError("not_found", `No active signing key ${kid}.`);
  const text = await readPrivateKeyFile(dir, kid);
  await db.transaction(async (tx) => {
    await appendAudit(tx, {
      actor,
      action: "signing_key.export",
      entityType: "signing_key",
      entityId: kid,
      after: { host: where.host, from: dir, to: where.to },
    });
  });
  return text;
}

/** Installs an exported private key file in this instance's folder, after checking it against the database's public key (audited). */
export async function importSigningKey(db: Db, dir: string, text: string, actor: string, where: { host: string }): Promise<{ kid: string; file: string }> {
  let kid: unknown;
  try {
    kid = (JSON.parse(text) as { kid?: unknown }).kid;
  } catch {
    throw new DomainError("invalid", "The key file is not JSON (a private JWK).");
  }
  if (typeof kid !== "string") throw new DomainError("invalid", "The key file names no kid.");
  const [key] = await db.select({ state: signingKeys.state, publicJwk: signingKeys.publicJwk }).from(signingKeys).where(eq(signingKeys.kid, kid));
  if (key?.state !== "active") throw new DomainError("not_found", `The database has no active signing key ${kid}.`);
  const file = await installPrivateKey(dir, text, { kid, publicJwk: key.publicJwk as JWK });
  try {
    await db.transaction(async (tx) => {
      await appendAudit(tx, { actor, action: "signing_key.import", entityType: "signing_key", entityId: kid, after: { host: where.host, dir } });
    });
  } catch (error) {
    // Not audited, not installed: the file this call wrote (never one that was there) goes again.
    await fs.unlink(file).catch(() => {});
    throw error;
  }
  return { kid, file };
}
