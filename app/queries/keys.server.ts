/**
 * Read model for the signing keys screen: the public keys (never a private one: those stay in
 * the key directory, ADR 007), which runtimes last said they trust each, and for an active key the
 * runtimes that retiring it would strand — the very check `keys:retire` makes
 * (clientsStrandedBy, below; app/services/keys.server.ts retireKey asks it too).
 */
import { asc, eq, isNull, sql } from "drizzle-orm";
import { runtimeClients, runtimeClientStatus, signingKeys } from "../../db/schema";
import type { Db } from "../utils/db.server";

/** Runtimes whose last report trusts none of the keys that would remain active. */
export async function clientsStrandedBy(db: Db, kid: string): Promise<string[]> {
  const remaining = (await db.select({ kid: signingKeys.kid }).from(signingKeys).where(eq(signingKeys.state, "active")))
    .map((k) => k.kid)
    .filter((k) => k !== kid);
  const reports = await db
    .select({ name: runtimeClients.name, trustedKeys: runtimeClientStatus.trustedKeys })
    .from(runtimeClientStatus)
    .innerJoin(runtimeClients, eq(runtimeClients.id, runtimeClientStatus.runtimeClientId))
    // A revoked client pulls nothing any more: it cannot be stranded.
    .where(isNull(runtimeClients.revokedAt));
  return [...new Set(reports.filter((r) => !r.trustedKeys.some((k) => remaining.includes(k))).map((r) => r.name))].sort();
}

export interface SigningKeyRow {
  kid: string;
  state: "active" | "retired";
  createdAt: Date;
  retiredAt: Date | null;
  /** Clients whose last report (at some site) lists this key. */
  trustedBy: string[];
  /** For an active key: clients that trust no other active key (revoked ones flagged). */
  stranded: { name: string; revoked: boolean }[];
}

/** Active keys first, each group oldest first. */
export async function signingKeyOverview(db: Db): Promise<{ keys: SigningKeyRow[]; activeCount: number }> {
  const [keys, reports, clients] = await Promise.all([
    db
      .select({ kid: signingKeys.kid, state: signingKeys.state, createdAt: signingKeys.createdAt, retiredAt: signingKeys.retiredAt })
      .from(signingKeys)
      .orderBy(sql`${signingKeys.state} <> 'active'`, asc(signingKeys.createdAt)),
    db
      .select({ name: runtimeClients.name, trustedKeys: runtimeClientStatus.trustedKeys })
      .from(runtimeClientStatus)
      .innerJoin(runtimeClients, eq(runtimeClients.id, runtimeClientStatus.runtimeClientId)),
    db.select({ name: runtimeClients.name, revokedAt: runtimeClients.revokedAt }).from(runtimeClients),
  ]);
  const revoked = new Set(clients.filter((c) => c.revokedAt !== null).map((c) => c.name));
  const rows = await Promise.all(
    keys.map(async (key) => {
      const stranded = key.state === "active" ? await clientsStrandedBy(db, key.kid) : [];
      return {
        ...key,
        trustedBy: [...new Set(reports.filter((r) => r.trustedKeys.includes(key.kid)).map((r) => r.name))].sort(),
        stranded: stranded.map((name) => ({ name, revoked: revoked.has(name) })),
      };
    }),
  );
  return { keys: rows, activeCount: keys.filter((k) => k.state === "active").length };
}
