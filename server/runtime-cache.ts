/**
 * In steady state a runtime's pull costs no database query: token hashes, sites and the signed
 * bytes in force are held here, invalidated by NOTIFY from any instance (a release or renewal on
 * `c981_rulesets`, a client created or revoked on `c981_runtime_clients`) and by time (a scheduled
 * version takes effect at its effectiveFrom). "Last seen" is written in batches.
 *
 * The async methods fill the cache (the express router, the source of truth, uses them); the
 * `peek*` methods only read what is already held, synchronously, for the fast path (ADR 009).
 */
import { createHash } from "node:crypto";
import { and, asc, desc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { ruleSetVersions, runtimeClients, sites } from "../db/schema";
import { authenticateClient, hashToken, type AuthenticatedClient } from "../app/services/runtime-clients.server";
import type { Database } from "../app/utils/db.server";

export interface InForce {
  version: number;
  jws: string;
  /** The same bytes, encoded once (UTF-8), for the fast path. */
  body: Buffer;
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
  /*
   * Bumped by every NOTIFY. A read that was in flight when a NOTIFY arrived may have seen the
   * state before the change (an old version, a token just revoked): its result is returned to its
   * caller but not kept, or it would be served until the next NOTIFY.
   */
  private rulesetsGeneration = 0;
  private clientsGeneration = 0;

  constructor(private readonly database: Pick<Database, "db" | "client">) {}

  async start(): Promise<void> {
    const rulesets = await this.database.client.listen("c981_rulesets", () => {
      this.rulesetsGeneration++;
      this.inForce.clear();
    });
    const clients = await this.database.client.listen("c981_runtime_clients", () => {
      this.clientsGeneration++;
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
    const generation = this.clientsGeneration;
    // Unknown tokens are not cached: nobody can fill memory by guessing.
    const client = await authenticateClient(this.database.db, token);
    if (client && generation === this.clientsGeneration) this.tokens.set(key, client);
    return client;
  }

  /** The client holding this token if it is already cached; never reads the database. */
  peekClient(token: string): AuthenticatedClient | undefined {
    return this.tokens.get(hashToken(token));
  }

  seen(client: AuthenticatedClient): void {
    this.lastSeen.set(client.id, new Date());
  }

  async site(code: string): Promise<{ id: number; code: string } | undefined> {
    if (this.sitesByCode) return this.sitesByCode.get(code.toUpperCase());
    this.loads++;
    const generation = this.clientsGeneration;
    const rows = await this.database.db.select({ id: sites.id, code: sites.code }).from(sites);
    const byCode = new Map(rows.map((r) => [r.code, r]));
    if (generation === this.clientsGeneration) this.sitesByCode = byCode;
    return byCode.get(code.toUpperCase());
  }

  /**
   * The site if the site list is cached (undefined: not cached, or no such site — either way the
   * caller cannot answer on its own).
   */
  peekSite(code: string): { id: number; code: string } | undefined {
    return this.sitesByCode?.get(code.toUpperCase());
  }

  async current(siteId: number): Promise<InForce | undefined> {
    const cached = this.inForce.get(siteId);
    if (cached && Date.now() < cached.validUntil) return cached;
    this.loads++;
    const generation = this.rulesetsGeneration;
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
    const entry: InForce = {
      version: row.version,
      jws: row.jws,
      body: Buffer.from(row.jws, "utf8"),
      etag: etagOf(row.jws),
      validUntil: next ? next.effectiveFrom.getTime() : Number.POSITIVE_INFINITY,
    };
    if (generation === this.rulesetsGeneration) this.inForce.set(siteId, entry);
    return entry;
  }

  /** The rule set in force at the site if it is cached and still in force; never reads the database. */
  peekCurrent(siteId: number): InForce | undefined {
    const cached = this.inForce.get(siteId);
    return cached && Date.now() < cached.validUntil ? cached : undefined;
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
