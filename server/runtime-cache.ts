/**
 * In steady state a runtime's pull costs no database query: token hashes, sites and the signed
 * bytes in force are held here, invalidated by NOTIFY from any instance (a release or renewal on
 * `c981_rulesets`, a client created or revoked on `c981_runtime_clients`) and by time (a scheduled
 * version takes effect at its effectiveFrom). "Last seen" is written in batches.
 */
import { createHash } from "node:crypto";
import { and, asc, desc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { ruleSetVersions, runtimeClients, sites } from "../db/schema";
import { authenticateClient, hashToken, type AuthenticatedClient } from "../app/services/runtime-clients.server";
import type { Database } from "../app/utils/db.server";

export interface InForce {
  version: number;
  jws: string;
  etag: string;
  /** When the next scheduled version takes effect (ms), or Infinity. */
  validUntil: number;
}

export const etagOf = (body: string) => `"sha256-${createHash("sha256").update(body).digest("base64url")}"`;

export class RuntimeCache {
  /** Database reads made to fill the cache (tests and the benchmark watch it). */
  loads = 0;
  private tokens = new Map<string, AuthenticatedClient>();
  private sitesByCode: Map<string, { id: number; code: string }> | null = null;
  private inForce = new Map<number, InForce>();
  private lastSeen = new Map<number, Date>();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>)[] = [];

  constructor(private readonly database: Pick<Database, "db" | "client">) {}

  async start(): Promise<void> {
    const rulesets = await this.database.client.listen("c981_rulesets", () => this.inForce.clear());
    const clients = await this.database.client.listen("c981_runtime_clients", () => {
      this.tokens.clear();
      this.sitesByCode = null;
    });
    this.unlisten.push(() => rulesets.unlisten(), () => clients.unlisten());
    this.timer = setInterval(() => void this.flushLastSeen(), 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastSeen();
    for (const u of this.unlisten) await u().catch(() => {});
  }

  async client(token: string): Promise<AuthenticatedClient | null> {
    const key = hashToken(token);
    const cached = this.tokens.get(key);
    if (cached) return cached;
    this.loads++;
    // Unknown tokens are not cached: nobody can fill memory by guessing.
    const client = await authenticateClient(this.database.db, token);
    if (client) this.tokens.set(key, client);
    return client;
  }

  seen(client: AuthenticatedClient): void {
    this.lastSeen.set(client.id, new Date());
  }

  async site(code: string): Promise<{ id: number; code: string } | undefined> {
    if (!this.sitesByCode) {
      this.loads++;
      const rows = await this.database.db.select({ id: sites.id, code: sites.code }).from(sites);
      this.sitesByCode = new Map(rows.map((r) => [r.code, r]));
    }
    return this.sitesByCode.get(code.toUpperCase());
  }

  async current(siteId: number): Promise<InForce | undefined> {
    const cached = this.inForce.get(siteId);
    if (cached && Date.now() < cached.validUntil) return cached;
    this.loads++;
    const now = new Date();
    const [row] = await this.database.db
      .select({ version: ruleSetVersions.version, jws: ruleSetVersions.jws })
      .from(ruleSetVersions)
      .where(and(eq(ruleSetVersions.siteId, siteId), lte(ruleSetVersions.effectiveFrom, now)))
      .orderBy(desc(ruleSetVersions.version))
      .limit(1);
    const [next] = await this.database.db
      .select({ effectiveFrom: ruleSetVersions.effectiveFrom })
      .from(ruleSetVersions)
      .where(and(eq(ruleSetVersions.siteId, siteId), gt(ruleSetVersions.effectiveFrom, now)))
      .orderBy(asc(ruleSetVersions.effectiveFrom))
      .limit(1);
    if (!row?.jws) return undefined;
    const entry = { version: row.version, jws: row.jws, etag: etagOf(row.jws), validUntil: next ? next.effectiveFrom.getTime() : Number.POSITIVE_INFINITY };
    this.inForce.set(siteId, entry);
    return entry;
  }

  /** Bookkeeping, not a change to regulated records: written in batches, not audited (ADR 005). */
  async flushLastSeen(): Promise<void> {
    if (this.lastSeen.size === 0) return;
    const batch = [...this.lastSeen];
    this.lastSeen.clear();
    const latest = new Date(Math.max(...batch.map(([, at]) => at.getTime())));
    await this.database.db
      .update(runtimeClients)
      .set({ lastSeenAt: sql`greatest(coalesce(${runtimeClients.lastSeenAt}, '-infinity'), ${latest.toISOString()}::timestamptz)` })
      .where(inArray(runtimeClients.id, batch.map(([id]) => id)))
      .catch(() => {});
  }
}
