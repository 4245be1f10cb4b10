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
import { activeRuntimeClients, ruleSetInForce, runtimeFingerprint, siteIdsAndCodes, type RuntimeFingerprint } from "../app/queries/runtime-cache.server";
import { recordLastSeen } from "../app/services/runtime-last-seen.server";
import { authenticateClient, hashToken, type AuthenticatedClient } from "../app/services/runtime-clients.server";
import type { Database } from "../app/utils/db.server";
import { metrics } from "../app/utils/metrics.server";
import { publicJwks } from "../app/utils/signing.server";
import { asUnavailable, DatabaseUnavailableError, describeDatabaseError, withDeadline } from "./db-faults";
import { LongPolls } from "./runtime-long-polls";
import { compileScanner, type CompiledScanner, type ScanRuleSet } from "../packages/identifiers/src/scan-decision";

/** One form of a version as served: its JWS, the same bytes encoded once (UTF-8) for the fast path, and its ETag. */
export interface Representation {
  jws: string;
  body: Buffer;
  etag: string;
}

/**
 * The version in force. Its own fields are the schema-version-1 form (what the API serves by
 * default, and the version's identity for long polls); `v2` is its schema-version-2 form, or the same
 * v1 form for a version made before schema version 2 (ADR 039).
 */
export interface InForce extends Representation {
  version: number;
  v2: Representation;
  /** When the next scheduled version takes effect (ms), or Infinity. */
  validUntil: number;
  /**
   * The scan decider compiled from `v2` on first use (ADR 043), kept with the entry: dropped
   * whenever the cache drops the site's rule set. `null`: the version has no schema-version-2 form.
   */
  scanner?: CompiledScanner | null;
}

/**
 * The scan decider of a version in force, compiled once per cached entry: the document is the
 * signed v2 payload as served (the bytes a client verifies), its digest that of those bytes.
 */
export function scannerOf(current: InForce): CompiledScanner | null {
  if (current.scanner !== undefined) return current.scanner;
  const payload = Buffer.from((JSON.parse(current.v2.jws) as { payload: string }).payload, "base64url");
  const document = JSON.parse(payload.toString("utf8")) as ScanRuleSet & { schemaVersion: number };
  current.scanner = document.schemaVersion === 2 ? compileScanner(document, `sha256:${createHash("sha256").update(payload).digest("hex")}`) : null;
  return current.scanner;
}

/** The form of the version in force a request asked for (`?schemaVersion=`, ADR 039). */
export const representationOf = (current: InForce, schemaVersion: 1 | 2): Representation => (schemaVersion === 2 ? current.v2 : current);

const representation = (jws: string): Representation => ({ jws, body: Buffer.from(jws, "utf8"), etag: etagOf(jws) });

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

/** The parts of the cache, as the metrics name them. */
type Part = "token" | "site" | "ruleset" | "keys";

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
  /**
   * Single-flight: the read in flight per key ("ruleset:<siteId>", "token:<hash>", "site", "keys"),
   * and the generation it began in. Concurrent misses for one key join it; a miss after a NOTIFY
   * (a newer generation) starts a read of its own, since the one in flight may predate the change.
   */
  private flights = new Map<string, { generation: number; promise: Promise<unknown> }>();
  /** Rule sets were dropped: held long polls are told once the change counter has been re-read. */
  private rulesetsDropped = false;
  private listenedOnce = false;
  /** Long polls held per site, woken when the rule set in force changes (ADR 009, amendment). */
  readonly longPolls = new LongPolls(
    (siteId) => this.current(siteId),
    (siteId) => this.inForce.get(siteId),
  );

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
    await this.preloadClients().catch(() => {});
    this.poller = setInterval(() => void this.check(), this.checkMs);
    this.poller.unref();
    this.timer = setInterval(() => void this.flushLastSeen(), 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.poller);
    this.longPolls.stop();
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
    // Both channels share one connection: a LISTEN re-established after a loss is counted once.
    const onRulesetsListen = () => {
      if (this.listenedOnce) metrics.dbReconnects.inc();
      this.listenedOnce = true;
      onlisten();
    };
    const rulesets = await this.database.client.listen(
      "c981_rulesets",
      () => {
        this.heard = true;
        this.rulesetsGeneration++;
        this.inForce.clear();
        // Held long polls are woken after the change counter was read again (recheck), which drops
        // the rule sets once more: one reload per site then, not two.
        this.rulesetsDropped = true;
        this.recheck();
      },
      onRulesetsListen,
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
        void this.preloadClients().catch(() => {});
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
    metrics.dbErrors.inc({ where: "runtime-cache" });
  }

  /** Drops everything cached (a (re)listen, or a change no notification announced). */
  invalidate(parts: (keyof Fingerprint)[] = ["rulesets", "clients", "keys"]): void {
    if (parts.includes("rulesets")) {
      this.rulesetsGeneration++;
      this.inForce.clear();
      this.rulesetsDropped = true;
      // Inside a check the waiters are told when it ends (see check()).
      if (!this.checking) this.tellLongPolls();
    }
    if (parts.includes("clients")) {
      this.clientsGeneration++;
      this.tokens.clear();
      this.sitesByCode = null;
      if (!this.stopped) void this.preloadClients().catch(() => {});
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
        } else this.tellLongPolls();
      }
    })());
  }

  /** Rule sets were dropped and no check is under way: the held long polls' sites are reloaded. */
  private tellLongPolls(): void {
    if (!this.rulesetsDropped) return;
    this.rulesetsDropped = false;
    this.longPolls.changed();
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
   * A miss: joins the read in flight for this key if it began in the same generation, else starts
   * one; `keep` stores the result once, unless a NOTIFY arrived meanwhile (generation changed).
   */
  private single<T>(part: Part, key: string, generation: number, current: () => number, work: () => Promise<T>, keep: (value: T) => void): Promise<T> {
    const flight = this.flights.get(key);
    if (flight && flight.generation === generation) {
      metrics.cacheCoalesced.inc({ part });
      return flight.promise as Promise<T>;
    }
    metrics.cacheMisses.inc({ part });
    const promise = this.read(work).then(
      (value) => {
        if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
        if (generation === current()) keep(value);
        return value;
      },
      (error: unknown) => {
        if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
        throw error;
      },
    );
    this.flights.set(key, { generation, promise });
    return promise;
  }

  /** Seconds since the change counter was last read successfully (Infinity before the first). */
  staleness(): number {
    return this.verifiedAt ? (Date.now() - this.verifiedAt) / 1000 : Number.POSITIVE_INFINITY;
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
      if (this.servable()) {
        metrics.cacheHits.inc({ part: "token" });
        return cached;
      }
      throw this.unavailable();
    }
    // Every active client's token is loaded in one read (preloadClients): one in flight is awaited,
    // then the table answers. A token not in it (created a moment ago, before its NOTIFY) is read
    // on its own; unknown tokens are not cached: nobody can fill memory by guessing.
    const preload = this.flights.get("tokens:all");
    if (preload && preload.generation === this.clientsGeneration) {
      await preload.promise.catch(() => {});
      const loaded = this.tokens.get(key);
      if (loaded && this.servable()) {
        metrics.cacheHits.inc({ part: "token" });
        return loaded;
      }
    }
    return this.single(
      "token",
      `token:${key}`,
      this.clientsGeneration,
      () => this.clientsGeneration,
      () => authenticateClient(this.database.db, token),
      (client) => {
        if (client) this.tokens.set(key, client);
      },
    );
  }

  /**
   * Reads every active client's token hash and sites at once (start, and after any change to
   * clients or sites), so that a runtime's first pull is served from memory too. Single-flight; a
   * NOTIFY meanwhile discards the result (the next preload follows it).
   */
  preloadClients(): Promise<unknown> {
    const generation = this.clientsGeneration;
    return this.single(
      "token",
      "tokens:all",
      generation,
      () => this.clientsGeneration,
      () => activeRuntimeClients(this.database.db),
      (rows) => {
        const byHash = new Map<string, AuthenticatedClient>();
        for (const row of rows) {
          const client = byHash.get(row.tokenHash) ?? { id: row.id, name: row.name, siteIds: new Set<number>() };
          client.siteIds.add(row.siteId);
          byHash.set(row.tokenHash, client);
        }
        for (const [hash, client] of byHash) this.tokens.set(hash, client);
      },
    );
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
      if (this.servable()) {
        metrics.cacheHits.inc({ part: "site" });
        return this.sitesByCode.get(code.toUpperCase());
      }
      throw this.unavailable();
    }
    const byCode = await this.single(
      "site",
      "site",
      this.clientsGeneration,
      () => this.clientsGeneration,
      async () => new Map((await siteIdsAndCodes(this.database.db)).map((r) => [r.code, r])),
      (sites) => {
        this.sitesByCode = sites;
      },
    );
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
      if (this.servable()) {
        metrics.cacheHits.inc({ part: "ruleset" });
        return cached;
      }
      throw this.unavailable();
    }
    // An entry past its validUntil: the read for it starts a flight of its own (the one it came
    // from has ended), so one read per site whoever asks.
    return this.single(
      "ruleset",
      `ruleset:${siteId}`,
      this.rulesetsGeneration,
      () => this.rulesetsGeneration,
      async (): Promise<InForce | undefined> => {
        const { row, next } = await ruleSetInForce(this.database.db, siteId, new Date());
        if (!row?.jws) return undefined;
        const v1 = representation(row.jws);
        return {
          version: row.version,
          ...v1,
          v2: row.jwsV2 ? representation(row.jwsV2) : v1,
          validUntil: next ? next.effectiveFrom.getTime() : Number.POSITIVE_INFINITY,
        };
      },
      (entry) => {
        if (entry) this.inForce.set(siteId, entry);
      },
    );
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
      if (this.servable()) {
        metrics.cacheHits.inc({ part: "keys" });
        return this.publicKeys;
      }
      throw this.unavailable();
    }
    return this.single(
      "keys",
      "keys",
      this.keysGeneration,
      () => this.keysGeneration,
      () => publicJwks(this.database.db),
      (keys) => {
        this.publicKeys = keys;
      },
    );
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
