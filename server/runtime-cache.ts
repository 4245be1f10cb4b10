/**
 * In steady state a runtime's pull costs no database query: token hashes, sites and the signed
 * bytes in force are held here, invalidated by NOTIFY from any instance (a release or renewal on
 * `c981_rulesets`, a client created or revoked on `c981_runtime_clients`) and by time (a scheduled
 * version takes effect at its effectiveFrom). "Last seen" is written in batches.
 *
 * Staleness is bounded (ADR 017): every (re)LISTEN revalidates everything, and a cheap change counter is
 * read every `checkMs`, dropping what changed — so a notification lost while the LISTEN
 * connection was down costs at most `checkMs`. The fast path serves only what was verified within
 * `checkMs`; the express path re-checks first and, when the database cannot be reached, serves what
 * it holds for at most `staleIfErrorMs` after the last successful check (stale-if-error), then
 * throws DatabaseUnavailableError (503) — never "unknown token" for a token it could not check.
 *
 * The async methods fill the cache (the express router, the source of truth, uses them); the
 * `peek*` methods only read what is already held, synchronously, for the fast path (ADR 009).
 */
import { createHash } from "node:crypto";
import type { JWK } from "jose";
import { ruleSetInForce, runtimeFingerprint, siteIdsAndCodes, type RuntimeFingerprint } from "../app/queries/runtime-cache.server";
import { recordLastSeen } from "../app/services/runtime-last-seen.server";
import { authenticateClient, hashToken, type AuthenticatedClient } from "../app/services/runtime-clients.server";
import type { Database } from "../app/utils/db.server";
import { publicJwks } from "../app/utils/signing.server";
import { asUnavailable, DatabaseUnavailableError, describeDatabaseError, withDeadline } from "./db-faults";

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

export interface RuntimeCacheOptions {
  /**
   * Every cached entry is re-checked against a cheap change counter at most this often (ms), so a
   * missed NOTIFY costs at most this long (C981_CACHE_CHECK_SECONDS; ADR 017).
   */
  checkMs?: number;
  /**
   * While the database cannot be reached, what was verified at most this long ago (ms) is still
   * served (stale-if-error); older, the caller gets a DatabaseUnavailableError (C981_STALE_IF_ERROR_SECONDS).
   */
  staleIfErrorMs?: number;
  /** How long a database read may take before it counts as unreachable (ms). */
  deadlineMs?: number;
}

/** The change counter: one string per part of the cache; a part whose string changes is dropped. */
type Fingerprint = RuntimeFingerprint;

export class RuntimeCache {
  /** Database reads made to fill the cache (tests and the benchmark watch it). */
  loads = 0;
  /** Successful checks of the change counter (tests watch it). */
  checks = 0;
  readonly checkMs: number;
  readonly staleIfErrorMs: number;
  readonly deadlineMs: number;
  private tokens = new Map<string, AuthenticatedClient>();
  private sitesByCode: Map<string, { id: number; code: string }> | null = null;
  private inForce = new Map<number, InForce>();
  private publicKeys: { keys: JWK[] } | undefined;
  private lastSeen = new Map<number, Date>();
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>)[] = [];
  /*
   * Bumped by every NOTIFY. A read that was in flight when a NOTIFY arrived may have seen the
   * state before the change (an old version, a token just revoked): its result is returned to its
   * caller but not kept, or it would be served until the next NOTIFY.
   */
  private rulesetsGeneration = 0;
  private clientsGeneration = 0;
  private keysGeneration = 0;
  /** The change counter as last read, when (ms), and the last failure to read it. */
  private fingerprint: Fingerprint | undefined;
  private verifiedAt = 0;
  private failedAt = 0;
  private lastFailure = "";
  private checking: Promise<boolean> | undefined;
  /** A notification arrived since the last check (else a changed counter means one was missed). */
  private heard = false;
  private relistening: Promise<void> | undefined;
  private recheckPending = false;
  /** When LISTEN last succeeded (postgres.js re-listens by itself when it can), and when the current outage began. */
  private listenedAt = 0;
  private outageSince = 0;
  /** Bumped by every (re)LISTEN; entries count as fresh only after a check begun after the last one. */
  private listenEpoch = 0;
  private checkedEpoch = 0;
  private stopped = false;

  constructor(
    private readonly database: Pick<Database, "db" | "client">,
    options: RuntimeCacheOptions = {},
  ) {
    this.checkMs = options.checkMs ?? 5000;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 300_000;
    this.deadlineMs = options.deadlineMs ?? Math.min(5000, Math.max(1000, this.checkMs));
  }

  async start(): Promise<void> {
    await this.listen().catch(() => {
      // The database went away meanwhile: the first successful check listens again.
      this.failed("LISTEN failed");
    });
    await this.check();
    this.poller = setInterval(() => void this.check(), this.checkMs);
    this.poller.unref();
    this.timer = setInterval(() => void this.flushLastSeen(), 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.poller);
    await this.flushLastSeen();
    await this.relistening;
    for (const u of this.unlisten.splice(0)) await u().catch(() => {});
  }

  /**
   * LISTEN on both channels. postgres.js listens again by itself when its connection closes, and
   * calls `onlisten` each time: what was cached meanwhile may have missed notifications, so every
   * (re)listen revalidates everything: nothing counts as fresh until the change counter has been read
   * after it, and that read drops what changed. (When that re-listen fails — the database still away — postgres.js
   * gives up; the first successful check after a failure listens again, see check().)
   */
  private async listen(): Promise<void> {
    // Revalidate rather than drop: what was cached stays servable if the database falters again
    // (as in a restart), and the counter read next, after the LISTEN, drops what changed meanwhile.
    const onlisten = () => {
      this.listenedAt = Date.now();
      this.listenEpoch++;
      this.recheck();
    };
    const rulesets = await this.database.client.listen(
      "c981_rulesets",
      () => {
        this.heard = true;
        this.rulesetsGeneration++;
        this.inForce.clear();
        this.recheck();
      },
      onlisten,
    );
    this.unlisten.push(() => rulesets.unlisten());
    const clients = await this.database.client.listen(
      "c981_runtime_clients",
      () => {
        this.heard = true;
        this.clientsGeneration++;
        this.tokens.clear();
        this.sitesByCode = null;
        this.recheck();
      },
      onlisten,
    );
    this.unlisten.push(() => clients.unlisten());
  }

  private relisten(): Promise<void> {
    return (this.relistening ??= (async () => {
      try {
        for (const u of this.unlisten.splice(0)) await u().catch(() => {});
        if (!this.stopped) await this.listen();
      } catch {
        this.failed("LISTEN failed");
      } finally {
        this.relistening = undefined;
      }
    })());
  }

  /** The database could not be reached (the first failure after a success starts an outage). */
  private failed(reason: string): void {
    const now = Date.now();
    if (this.failedAt <= this.verifiedAt) this.outageSince = now;
    this.failedAt = now;
    this.lastFailure = reason;
  }

  /** Drops everything cached (a (re)listen, or a change no notification announced). */
  invalidate(parts: (keyof Fingerprint)[] = ["rulesets", "clients", "keys"]): void {
    if (parts.includes("rulesets")) {
      this.rulesetsGeneration++;
      this.inForce.clear();
    }
    if (parts.includes("clients")) {
      this.clientsGeneration++;
      this.tokens.clear();
      this.sitesByCode = null;
    }
    if (parts.includes("keys")) {
      this.keysGeneration++;
      this.publicKeys = undefined;
    }
  }

  /**
   * After a notification: read the change counter again now (after a check already in flight, which
   * may have read it before the change), so that the next periodic check does not take the change
   * just announced for a missed one and drop what was refilled meanwhile.
   */
  private recheck(): void {
    if (this.checking) this.recheckPending = true;
    else void this.check();
  }

  /**
   * Reads the change counter (one small query) and drops the parts of the cache it says changed.
   * Runs every checkMs, and on demand when a request finds the last check too old. False when the
   * database could not be reached.
   */
  check(): Promise<boolean> {
    return (this.checking ??= (async () => {
      const heard = this.heard;
      this.heard = false;
      const epoch = this.listenEpoch;
      const recovering = this.failedAt > this.verifiedAt;
      try {
        const now = await withDeadline(this.readFingerprint(), this.deadlineMs, "the change counter");
        const before = this.fingerprint;
        if (before) {
          const changed = (Object.keys(now) as (keyof Fingerprint)[]).filter((k) => now[k] !== before[k]);
          if (changed.length) this.invalidate(changed);
          // A change without a notification: the LISTEN connection is gone. Listen again.
          if (changed.length && !heard && !changed.every((k) => k === "keys")) void this.relisten();
        }
        // Back after an outage during which postgres.js could not listen again: listen again.
        if (recovering && this.listenedAt < this.outageSince) void this.relisten();
        this.fingerprint = now;
        this.verifiedAt = Date.now();
        this.checkedEpoch = epoch;
        this.checks++;
        return true;
      } catch (error) {
        this.failed(describeDatabaseError(error));
        return false;
      } finally {
        this.checking = undefined;
        if (this.recheckPending && !this.stopped) {
          this.recheckPending = false;
          void this.check();
        }
      }
    })());
  }

  private readFingerprint(): Promise<Fingerprint> {
    return runtimeFingerprint(this.database.client);
  }

  /** The change counter was read within checkMs (plus a second for the poller's own jitter). */
  private fresh(): boolean {
    return this.checkedEpoch === this.listenEpoch && Date.now() - this.verifiedAt <= this.checkMs + 1000;
  }

  /** What is cached may still be served: verified recently, or within the stale-if-error bound (counted from the last check). */
  private servable(): boolean {
    return this.fresh() || Date.now() - this.verifiedAt <= this.staleIfErrorMs;
  }

  /** Before a cached entry is used on the express path: re-check when the last check is too old. */
  private async revalidate(): Promise<void> {
    if (this.fresh()) return;
    // The database just failed: do not make every request wait for another attempt.
    if (this.failedAt > this.verifiedAt && Date.now() - this.failedAt < 1000) return;
    await this.check();
  }

  private unavailable(): DatabaseUnavailableError {
    const since = this.verifiedAt ? `last reached ${Math.round((Date.now() - this.verifiedAt) / 1000)} s ago` : "not reached yet";
    return new DatabaseUnavailableError(`the database cannot be reached (${this.lastFailure || "no answer"}; ${since})`, this.lastFailure || "unreachable");
  }

  /** A read that fills the cache: bounded in time, and a lost database is a DatabaseUnavailableError. */
  private async read<T>(work: () => Promise<T>): Promise<T> {
    this.loads++;
    try {
      return await withDeadline(work(), this.deadlineMs);
    } catch (error) {
      const mapped = asUnavailable(error);
      if (mapped instanceof DatabaseUnavailableError) this.failed(mapped.reason);
      throw mapped;
    }
  }

  /**
   * The active client holding this token, or null when the database says there is none. Never
   * null because the database could not say: then a DatabaseUnavailableError (the API answers 503).
   */
  async client(token: string): Promise<AuthenticatedClient | null> {
    const key = hashToken(token);
    await this.revalidate();
    const cached = this.tokens.get(key);
    if (cached) {
      if (this.servable()) return cached;
      throw this.unavailable();
    }
    const generation = this.clientsGeneration;
    // Unknown tokens are not cached: nobody can fill memory by guessing.
    const client = await this.read(() => authenticateClient(this.database.db, token));
    if (client && generation === this.clientsGeneration) this.tokens.set(key, client);
    return client;
  }

  /** The client holding this token if it is already cached and recently verified; never reads the database. */
  peekClient(token: string): AuthenticatedClient | undefined {
    return this.fresh() ? this.tokens.get(hashToken(token)) : undefined;
  }

  seen(client: AuthenticatedClient): void {
    this.lastSeen.set(client.id, new Date());
  }

  async site(code: string): Promise<{ id: number; code: string } | undefined> {
    await this.revalidate();
    if (this.sitesByCode) {
      if (this.servable()) return this.sitesByCode.get(code.toUpperCase());
      throw this.unavailable();
    }
    const generation = this.clientsGeneration;
    const rows = await this.read(() => siteIdsAndCodes(this.database.db));
    const byCode = new Map(rows.map((r) => [r.code, r]));
    if (generation === this.clientsGeneration) this.sitesByCode = byCode;
    return byCode.get(code.toUpperCase());
  }

  /**
   * The site if the site list is cached (undefined: not cached, or no such site — either way the
   * caller cannot answer on its own).
   */
  peekSite(code: string): { id: number; code: string } | undefined {
    return this.fresh() ? this.sitesByCode?.get(code.toUpperCase()) : undefined;
  }

  async current(siteId: number): Promise<InForce | undefined> {
    await this.revalidate();
    const cached = this.inForce.get(siteId);
    if (cached && Date.now() < cached.validUntil) {
      if (this.servable()) return cached;
      throw this.unavailable();
    }
    const generation = this.rulesetsGeneration;
    const now = new Date();
    const { row, next } = await this.read(() => ruleSetInForce(this.database.db, siteId, now));
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

  /** The rule set in force at the site if it is cached, still in force and recently verified; never reads the database. */
  peekCurrent(siteId: number): InForce | undefined {
    const cached = this.inForce.get(siteId);
    return cached && Date.now() < cached.validUntil && this.fresh() ? cached : undefined;
  }

  /** The public signing keys (JWKS), held like the rest (a key retired elsewhere is seen within checkMs). */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.revalidate();
    if (this.publicKeys) {
      if (this.servable()) return this.publicKeys;
      throw this.unavailable();
    }
    const generation = this.keysGeneration;
    const keys = await this.read(() => publicJwks(this.database.db));
    if (generation === this.keysGeneration) this.publicKeys = keys;
    return keys;
  }

  /** For /readyz and the logs: when the database was last reached, and the last failure. */
  state(): { verifiedAt: number; failedAt: number; lastFailure: string } {
    return { verifiedAt: this.verifiedAt, failedAt: this.failedAt, lastFailure: this.lastFailure };
  }

  /** Bookkeeping, not a change to regulated records: written in batches, not audited (ADR 005). */
  async flushLastSeen(): Promise<void> {
    if (this.lastSeen.size === 0) return;
    const batch = [...this.lastSeen];
    this.lastSeen.clear();
    const latest = new Date(Math.max(...batch.map(([, at]) => at.getTime())));
    await recordLastSeen(
      this.database.db,
      batch.map(([id]) => id),
      latest,
    ).catch(() => {});
  }
}
