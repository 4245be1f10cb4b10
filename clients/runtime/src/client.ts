/**
 * The reference runtime client: pulls the signed rule set of one site from a C-981 portal
 * (If-None-Match, long-poll), verifies it offline against pinned keys, activates it (a scheduled
 * version at its effectiveFrom, also while the portal is unreachable), keeps the last good rule set
 * on disk and keeps running on it when the portal is down or answers garbage, and reports what it
 * activated. No dependency on the portal's code.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { JWK } from "jose";
import { compileScanner, type CompiledScanner, type ScanDecision, type ScanRuleSet } from "../../../packages/identifiers/src/index";
import type { RuleSetDocument } from "./document";
import { ScanJournal, scanRequestSchema, ScanUnavailable, type ScanJournalOptions, type ScanRequest } from "./scan";
import { emptyState, readState, setAside, writeFileAtomic, type ClientState } from "./state";
import {
  DEFAULT_MAX_BYTES,
  RuleSetRefused,
  sameContent,
  trustStoreFrom,
  verifyRuleSet,
  type RefusalCode,
  type TrustStore,
  type VerifiedRuleSet,
} from "./verify";

export type OnExpiry = "keep" | "stop";

export interface RuntimeClientOptions {
  /** The portal's base address, e.g. https://c981.plant.example */
  url: string;
  site: string;
  token: string;
  /** RFC 7638 thumbprints of the signing keys this runtime trusts. */
  trust: string[];
  stateDir: string;
  /** When the active rule set expires: keep it and raise an alarm (default), or stop serving it. */
  onExpiry?: OnExpiry;
  maxBytes?: number;
  /** Long-poll wait per request (seconds, 0–60). */
  waitSeconds?: number;
  /** First retry delay after a failure; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** How often to prefetch the scheduled version and to refresh the JWKS. */
  upcomingEveryMs?: number;
  jwksEveryMs?: number;
  requestTimeoutMs?: number;
  /**
   * The rule-set schema version asked for (ADR 039): 2 (default; `?schemaVersion=2`, a version made
   * before it comes as 1 and is accepted) or 1 (asks without the parameter and accepts only 1, as
   * clients before schema version 2 do).
   */
  schemaVersion?: 1 | 2;
  /** The decision log, spool and batches of offline scan decisions (ADR 042). */
  scans?: ScanJournalOptions;
  now?: () => Date;
  onEvent?: (event: ClientEvent) => void;
}

export type ClientEvent =
  | { event: "state-loaded"; version: number | null; pending: number | null }
  | { event: "state-refused"; reason: string; movedTo: string }
  | { event: "keys"; trusted: string[]; retired: string[] }
  | { event: "key-retired"; kid: string }
  | { event: "activated"; version: number; digest: string; effectiveFrom: string; expiresAt: string; kind: string }
  | { event: "scheduled"; version: number; effectiveFrom: string }
  | { event: "refused"; source: "current" | "upcoming"; code: RefusalCode; message: string; keeping: number | null }
  | { event: "unreachable"; message: string; keeping: number | null }
  /** The portal answers but will not serve this site to this token (401, 403, or 404 for a site outside the token's scope). */
  | { event: "forbidden"; status: number; message: string; keeping: number | null }
  | { event: "expired"; version: number; expiresAt: string; action: OnExpiry }
  | { event: "reported"; version: number; error?: string }
  | { event: "refusal-reported"; code: RefusalCode; offeredVersion: number | null; offeredDigest: string | null; kid: string | null }
  | { event: "report-failed"; message: string }
  /** A batch of scan decisions the portal has: stored now, or already (`duplicate`). */
  | { event: "scans-reported"; batchId: string; decisions: number; duplicate: boolean }
  /** The portal refuses a batch for good (400, 409 — this batch id stored before with other content —, 413, 422): moved aside, not resent. */
  | { event: "scans-rejected"; batchId: string; status: number; message: string; movedTo: string }
  /** The portal could not be reached or failed: the batches stay on disk for the next attempt (`pending` -1: unknown, the scans folder could not be read). */
  | { event: "scans-report-failed"; pending: number; message: string };

export const STATE_FILE = "state.json";
/** The verified document in service, for the MES to read; absent when nothing may be served. */
export const RULE_SET_FILE = "ruleset.json";

/** Why the last round failed: null when it did not. */
export type Failure = "unreachable" | "forbidden" | "refused";

class Unreachable extends Error {}

/**
 * The portal answered, and refuses this token this site: a configuration error (wrong token, wrong
 * --site, the site taken out of the token's scope, a revoked token), not a network fault — retrying
 * will not help until someone changes the token or the client's scope.
 */
class Forbidden extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class RuntimeClient {
  private state: ClientState;
  private trust: TrustStore = { pinned: new Set(), keys: new Map(), retired: new Set() };
  private active: VerifiedRuleSet | null = null;
  private pending: VerifiedRuleSet | null = null;
  private etag: string | undefined;
  private expiredAlarm = false;
  private roundFailed = false;
  private lastFailure: Failure | null = null;
  /** A time-driven activation in progress (stop() lets it finish writing). */
  private ticking: Promise<void> = Promise.resolve();
  private lastReport = "";
  /** What the last document handed to verify() claimed to be, for a refusal report. */
  private offered: Offered = { version: null, digest: null, kid: null };
  private lastRefusalReport = "";
  private lastError: string | undefined;
  private lastJwksAt = 0;
  private lastUpcomingAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private abort = new AbortController();
  private readonly opts: Required<Omit<RuntimeClientOptions, "onEvent" | "scans">> & Pick<RuntimeClientOptions, "onEvent" | "scans">;
  private scanner: CompiledScanner | null = null;
  private journal: ScanJournal | null = null;
  private reportingScans: Promise<unknown> = Promise.resolve();

  private constructor(options: RuntimeClientOptions) {
    this.opts = {
      onExpiry: "keep",
      maxBytes: DEFAULT_MAX_BYTES,
      waitSeconds: 30,
      retryMs: 2_000,
      maxRetryMs: 60_000,
      upcomingEveryMs: 5 * 60_000,
      jwksEveryMs: 60 * 60_000,
      requestTimeoutMs: 15_000,
      schemaVersion: 2,
      now: () => new Date(),
      ...options,
      url: options.url.replace(/\/+$/, ""),
    };
    this.state = emptyState(options.site);
  }

  /** Opens the state directory: a saved state is re-verified; a corrupt or tampered one is set aside. */
  static async open(options: RuntimeClientOptions): Promise<RuntimeClient> {
    if (options.trust.length === 0) throw new Error("at least one trusted key thumbprint is required (--trust)");
    const client = new RuntimeClient(options);
    await fs.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    await client.loadState();
    return client;
  }

  /** The rule set in service, or null (none yet, or expired under --on-expiry stop). */
  /**
   * For a process that only scans beside the pulling one (two processes, one state folder): reads the
   * state again when another process changed it (its modification time), verifying it as at open, so
   * that a version the puller took — or a scheduled one whose time has come — decides the next scan.
   * Writes nothing but the rule-set file the state names. The CLI's `scan` calls it before each decision.
   */
  async refresh(): Promise<void> {
    const stat = await fs.stat(this.file(STATE_FILE)).catch(() => null);
    const mtime = stat?.mtimeMs ?? 0;
    if (mtime === this.stateSeenMtime) return;
    this.stateSeenMtime = mtime;
    this.active = null;
    this.pending = null;
    await this.loadState();
  }
  private stateSeenMtime = -1;

  /** The verified version that decides scans now: the active one, or a scheduled one whose time has come (not yet activated by the puller). */
  private deciding(): VerifiedRuleSet | null {
    const pending = this.pending;
    if (
      pending &&
      Date.parse(pending.document.effectiveFrom) <= this.opts.now().getTime() &&
      (!this.active || pending.document.version > this.active.document.version)
    )
      return pending;
    return this.active;
  }

  ruleSet(): RuleSetDocument | null {
    if (!this.active) return null;
    if (this.isExpired() && this.opts.onExpiry === "stop") return null;
    return this.active.document;
  }

  status(): {
    version: number | null;
    digest: string | null;
    activatedAt: string | null;
    pending: number | null;
    expired: boolean;
    /** Why the last round failed (`forbidden`: the portal refuses this token this site), or null. */
    failure: Failure | null;
    lastError: string | null;
  } {
    return {
      version: this.active?.document.version ?? null,
      digest: this.active?.digest ?? null,
      activatedAt: this.state.active?.activatedAt ?? null,
      pending: this.pending?.document.version ?? null,
      expired: this.isExpired(),
      failure: this.lastFailure,
      lastError: this.lastError ?? null,
    };
  }

  private emit(event: ClientEvent) {
    this.opts.onEvent?.(event);
  }

  private file(name: string) {
    return path.join(this.opts.stateDir, name);
  }

  private isExpired(): boolean {
    return !!this.active && Date.parse(this.active.document.expiresAt) <= this.opts.now().getTime();
  }

  private async loadState(): Promise<void> {
    const loaded = await readState(this.file(STATE_FILE), this.opts.site);
    if (loaded.kind === "none") return this.rebuildTrust();
    const refuse = async (reason: string) => {
      const movedTo = await setAside(this.file(STATE_FILE), this.opts.now());
      await fs.rm(this.file(RULE_SET_FILE), { force: true });
      this.state = emptyState(this.opts.site);
      await this.rebuildTrust();
      this.emit({ event: "state-refused", reason, movedTo });
    };
    if (loaded.kind === "unreadable") return refuse(loaded.reason);
    this.state = loaded.state;
    await this.rebuildTrust();
    const now = this.opts.now();
    const known = this.knownDigests();
    try {
      if (this.state.active) {
        // The saved rule set is checked like a download (signature, site, schema): a state file edited
        // by hand or damaged on disk is not trusted because it is ours.
        this.active = await verifyRuleSet(this.state.active.jws, {
          site: this.opts.site,
          trust: this.trust,
          now,
          maxBytes: this.opts.maxBytes,
          scheduled: true,
          ignoreExpiry: true,
        });
        if (known.get(this.active.document.version) !== this.active.digest) throw new Error("its active version does not match the digests it records");
      }
      if (this.state.pending) {
        this.pending = await verifyRuleSet(this.state.pending.jws, {
          site: this.opts.site,
          trust: this.trust,
          now,
          maxBytes: this.opts.maxBytes,
          scheduled: true,
          ignoreExpiry: true,
        });
      }
    } catch (error) {
      this.active = null;
      this.pending = null;
      return refuse(`the saved rule set does not verify: ${(error as Error).message}`);
    }
    this.emit({ event: "state-loaded", version: this.active?.document.version ?? null, pending: this.pending?.document.version ?? null });
    if (this.active) await this.writeRuleSetFile();
  }

  private knownDigests(): Map<number, string> {
    return new Map(Object.entries(this.state.known).map(([v, d]) => [Number(v), d]));
  }

  private knownSchemas(): Map<number, number> {
    return new Map(Object.entries(this.state.schemas ?? {}).map(([v, n]) => [Number(v), n]));
  }

  /** The state's record of a verified form: its digest and, when not 1, its schema version. */
  private remember(state: ClientState, verified: VerifiedRuleSet): Pick<ClientState, "known" | "schemas"> {
    const version = String(verified.document.version);
    const { [version]: _, ...schemas } = state.schemas ?? {};
    return {
      known: { ...state.known, [version]: verified.digest },
      ...(verified.document.schemaVersion === 2 ? { schemas: { ...schemas, [version]: 2 as const } } : Object.keys(schemas).length > 0 ? { schemas } : {}),
    };
  }

  private async rebuildTrust(): Promise<void> {
    const { store } = await trustStoreFrom(this.opts.trust, this.state.jwks, this.state.retiredKeys);
    this.trust = store;
  }

  private async saveState(): Promise<void> {
    await writeFileAtomic(this.file(STATE_FILE), JSON.stringify(this.state));
  }

  private async writeRuleSetFile(): Promise<void> {
    const document = this.ruleSet();
    if (document) await writeFileAtomic(this.file(RULE_SET_FILE), `${JSON.stringify(document, null, 2)}\n`);
    else await fs.rm(this.file(RULE_SET_FILE), { force: true });
  }

  // --- network -------------------------------------------------------------------------------

  private async request(url: string, init: { headers?: Record<string, string>; method?: string; body?: string; timeoutMs?: number; limit?: number } = {}) {
    const timeout = AbortSignal.timeout(init.timeoutMs ?? this.opts.requestTimeoutMs);
    const signal = AbortSignal.any([timeout, this.abort.signal]);
    let response: Response;
    try {
      response = await fetch(url, {
        method: init.method ?? "GET",
        headers: { Authorization: `Bearer ${this.opts.token}`, Accept: "application/jose+json, application/json", ...init.headers },
        body: init.body,
        signal,
        redirect: "error",
      });
    } catch (error) {
      throw new Unreachable(`${url}: ${causeOf(error)}`);
    }
    const limit = init.limit ?? this.opts.maxBytes;
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > limit) {
      await response.body?.cancel().catch(() => {});
      throw new RuleSetRefused("oversized", `the response declares ${declared} bytes; the limit is ${limit}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > limit) {
            await reader.cancel().catch(() => {});
            throw new RuleSetRefused("oversized", `the response exceeds the limit of ${limit} bytes`);
          }
          chunks.push(value);
        }
      } catch (error) {
        if (error instanceof RuleSetRefused) throw error;
        if (this.abort.signal.aborted) throw new Unreachable("stopped");
        throw new RuleSetRefused("malformed", `the response was cut off (truncated): ${causeOf(error)}`);
      }
    }
    return { status: response.status, headers: response.headers, body: Buffer.concat(chunks) };
  }

  private api(suffix: string) {
    return `${this.opts.url}/api/v1/sites/${encodeURIComponent(this.opts.site)}/ruleset${suffix}`;
  }

  /** The query that asks for the schema version this client reads (none for 1: as clients before it, ADR 039). */
  private query(params: Record<string, string | number>): string {
    const all = this.opts.schemaVersion === 2 ? { ...params, schemaVersion: 2 } : params;
    const text = Object.entries(all)
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    return text ? `?${text}` : "";
  }

  /** Fetches the JWKS and keeps the pinned keys; a pinned key that disappears from it is retired for good. */
  async refreshKeys(): Promise<void> {
    this.lastJwksAt = Date.now();
    const response = await this.request(`${this.opts.url}/.well-known/jwks.json`, { limit: 256 * 1024 });
    if (response.status !== 200) throw new Unreachable(`JWKS: HTTP ${response.status}`);
    let jwks: { keys?: unknown };
    try {
      jwks = JSON.parse(response.body.toString("utf8")) as { keys?: unknown };
    } catch {
      throw new Unreachable("JWKS: not JSON");
    }
    const { found } = await trustStoreFrom(this.opts.trust, jwks, this.state.retiredKeys);
    const before = new Set((await trustStoreFrom(this.opts.trust, this.state.jwks, this.state.retiredKeys)).found);
    const retired = [...before].filter((kid) => !found.includes(kid));
    const keep = (Array.isArray(jwks.keys) ? (jwks.keys as JWK[]) : []).filter((k) => k && typeof k === "object" && k.kty === "OKP" && !("d" in k));
    this.state.jwks = { keys: keep.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid })) as Record<string, unknown>[] };
    for (const kid of retired) {
      if (!this.state.retiredKeys.includes(kid)) this.state.retiredKeys.push(kid);
      this.emit({ event: "key-retired", kid });
    }
    await this.rebuildTrust();
    await this.saveState();
    this.emit({ event: "keys", trusted: [...this.trust.keys.keys()], retired: [...this.state.retiredKeys] });
  }

  /** The JWKS is due: no pinned key's public key at hand yet, or the last fetch is older than jwksEveryMs. */
  private keysDue(): boolean {
    return this.trust.keys.size === 0 || Date.now() - this.lastJwksAt > this.opts.jwksEveryMs;
  }

  /** Needs the JWKS when a signature names a pinned key whose public key is not at hand. */
  private needsKeys(body: Buffer): boolean {
    try {
      const jws = JSON.parse(body.toString("utf8")) as { signatures?: { protected?: string }[] };
      return (jws.signatures ?? []).some((s) => {
        const kid = (JSON.parse(Buffer.from(String(s.protected), "base64url").toString("utf8")) as { kid?: string }).kid;
        return !!kid && this.trust.pinned.has(kid) && !this.trust.keys.has(kid) && !this.trust.retired.has(kid);
      });
    } catch {
      return false;
    }
  }

  private async verify(body: Buffer, scheduled: boolean): Promise<VerifiedRuleSet> {
    this.offered = offeredOf(body, this.opts.maxBytes);
    if (this.needsKeys(body) && Date.now() - this.lastJwksAt > 5_000) await this.refreshKeys().catch(() => {});
    return verifyRuleSet(body, {
      site: this.opts.site,
      trust: this.trust,
      now: this.opts.now(),
      maxBytes: this.opts.maxBytes,
      scheduled,
      active: this.active
        ? { version: this.active.document.version, digest: this.active.digest, schemaVersion: this.active.document.schemaVersion }
        : undefined,
      known: this.knownDigests(),
      knownSchemas: this.knownSchemas(),
      schemaVersions: this.opts.schemaVersion === 1 ? [1] : [1, 2],
    });
  }

  // --- one round -----------------------------------------------------------------------------

  /**
   * One round against the portal: the version in force (long-poll when waitSeconds > 0; the keys,
   * when due, are fetched before a downloaded document is verified), the keys when still due, the
   * scheduled version when due, then schedule, expiry and status report. Never throws for a portal
   * that is down or hostile: the last good rule set stays; returns whether the round failed.
   *
   * The rule set is asked first: the portal's answer to it is what says whether this token may
   * have this site (`forbidden`). Asked after the JWKS, a JWKS request that failed or timed out
   * (a slow portal, a proxy that does not route /.well-known) ended the round as `unreachable`
   * before that question was put — `--once` then exited 1 instead of 3 (issue 24).
   */
  async syncOnce(options: { waitSeconds?: number } = {}): Promise<{ ok: boolean }> {
    this.roundFailed = false;
    this.lastFailure = null;
    try {
      await this.pullCurrent(options.waitSeconds ?? 0);
      if (this.keysDue()) await this.refreshKeys();
      if (Date.now() - this.lastUpcomingAt > this.opts.upcomingEveryMs) await this.pullUpcoming();
    } catch (error) {
      await this.failed(error, "current");
    }
    await this.tick();
    const ok = !this.roundFailed;
    // The portal answered: the scan decisions kept while it was away go now (best effort).
    if (ok) await this.reportScans().catch((error: unknown) => this.emit({ event: "scans-report-failed", pending: -1, message: causeOf(error) }));
    if (ok && this.lastError && !this.expiredAlarm) {
      // The portal answers well again: the report no longer carries the old error.
      this.lastError = undefined;
      await this.report();
    }
    return { ok };
  }

  private async failed(error: unknown, source: "current" | "upcoming") {
    this.roundFailed = true;
    const keeping = this.active?.document.version ?? null;
    if (error instanceof Forbidden) {
      this.lastFailure = "forbidden";
      this.lastError = `forbidden: ${error.message}`;
      this.emit({ event: "forbidden", status: error.status, message: error.message, keeping });
      await this.report();
    } else if (error instanceof RuleSetRefused) {
      this.lastFailure = "refused";
      this.lastError = `refused ${source === "upcoming" ? "scheduled " : ""}rule set: ${error.message}`;
      this.emit({ event: "refused", source, code: error.code, message: error.message, keeping });
      await this.reportRefusal(source, error);
      await this.report();
    } else if (error instanceof Unreachable) {
      // A forbidden answer earlier in the round (the rule set) is not hidden by a later fault.
      if (this.lastFailure !== "forbidden") this.lastFailure = "unreachable";
      this.lastError = `portal unreachable: ${error.message}`;
      this.emit({ event: "unreachable", message: error.message, keeping });
    } else {
      throw error;
    }
  }

  private async pullCurrent(waitSeconds: number): Promise<void> {
    // A body refused before it is read (oversized, cut off) offered nothing readable.
    this.offered = { version: null, digest: null, kid: null };
    const headers: Record<string, string> = this.etag ? { "If-None-Match": this.etag } : {};
    const response = await this.request(this.api(this.query(waitSeconds > 0 ? { waitSeconds } : {})), {
      headers,
      timeoutMs: this.opts.requestTimeoutMs + waitSeconds * 1000,
    });
    if (response.status === 304) return;
    if (isForbidden(response.status, response.body)) throw new Forbidden(response.status, `rule set: HTTP ${response.status} ${problemTitle(response.body)}`);
    if (response.status !== 200) throw new Unreachable(`rule set: HTTP ${response.status} ${problemTitle(response.body)}`);
    // The keys as current as the document: none yet, or the last JWKS older than jwksEveryMs (a key
    // retired since must be known before a document signed with it is judged). Not reachable:
    // the round fails as `unreachable`, nothing is verified against keys that may be stale.
    if (this.keysDue()) await this.refreshKeys();
    const verified = await this.verify(response.body, false);
    if (
      this.active &&
      verified.document.version === this.active.document.version &&
      !(verified.document.schemaVersion === 2 && this.active.document.schemaVersion === 1)
    ) {
      // The same version again, with the same digest (verify refused any other): nothing to do.
      this.etag = response.headers.get("etag") ?? undefined;
      return;
    }
    // A new version, or the v2 form of the version held as v1 (a client that began to ask for v2):
    // held from now on in that form, so that the next version's v2 chain can be checked (ADR 039) —
    // once its content is seen to be the v1 document's.
    if (this.active && verified.document.version === this.active.document.version && !sameContent(this.active.document, verified.document))
      throw new RuleSetRefused(
        "mix-and-match",
        `the schema-version-2 form of version ${verified.document.version} does not carry the rules of its schema-version-1 form held here`,
      );
    await this.activate(verified);
    this.etag = response.headers.get("etag") ?? undefined;
    // A new version in force: look again for the next scheduled one.
    this.lastUpcomingAt = 0;
  }

  private async pullUpcoming(): Promise<void> {
    this.offered = { version: null, digest: null, kid: null };
    this.lastUpcomingAt = Date.now();
    let response: Awaited<ReturnType<typeof this.request>>;
    try {
      response = await this.request(this.api(`/upcoming${this.query({})}`));
    } catch (error) {
      return this.failed(error, "upcoming");
    }
    if (isForbidden(response.status, response.body))
      return this.failed(new Forbidden(response.status, `upcoming: HTTP ${response.status} ${problemTitle(response.body)}`), "upcoming");
    if (response.status === 404) return; // nothing scheduled
    if (response.status !== 200) return this.failed(new Unreachable(`upcoming: HTTP ${response.status}`), "upcoming");
    let verified: VerifiedRuleSet;
    try {
      verified = await this.verify(response.body, true);
    } catch (error) {
      return this.failed(error, "upcoming");
    }
    if (this.active && verified.document.version <= this.active.document.version) return;
    if (this.pending?.digest === verified.digest) return;
    if (
      this.pending &&
      this.pending.document.version === verified.document.version &&
      this.pending.document.schemaVersion === 1 &&
      !sameContent(this.pending.document, verified.document)
    )
      return this.failed(
        new RuleSetRefused(
          "mix-and-match",
          `the schema-version-2 form of version ${verified.document.version} does not carry the rules of its schema-version-1 form held here`,
        ),
        "upcoming",
      );
    this.pending = verified;
    this.state.pending = { jws: verified.jws };
    this.state = { ...this.state, ...this.remember(this.state, verified) };
    await this.saveState();
    this.emit({ event: "scheduled", version: verified.document.version, effectiveFrom: verified.document.effectiveFrom });
  }

  private async activate(verified: VerifiedRuleSet): Promise<void> {
    const activatedAt = this.opts.now().toISOString();
    const dropPending = !!this.pending && this.pending.document.version <= verified.document.version;
    // On disk first (state, then the document in service); only then is it the active rule set.
    const state: ClientState = {
      ...this.state,
      active: { jws: verified.jws, activatedAt },
      ...this.remember(this.state, verified),
      pending: dropPending ? null : this.state.pending,
    };
    await writeFileAtomic(this.file(STATE_FILE), JSON.stringify(state));
    await writeFileAtomic(this.file(RULE_SET_FILE), `${JSON.stringify(verified.document, null, 2)}\n`);
    this.state = state;
    this.active = verified;
    if (dropPending) this.pending = null;
    this.expiredAlarm = false;
    this.lastError = undefined;
    const d = verified.document;
    this.emit({ event: "activated", version: d.version, digest: verified.digest, effectiveFrom: d.effectiveFrom, expiresAt: d.expiresAt, kind: d.kind });
    await this.report();
  }

  /** Time-driven duties, also while the portal is unreachable: activate a scheduled version, raise the expiry alarm. */
  async tick(): Promise<void> {
    const now = this.opts.now().getTime();
    if (this.pending && Date.parse(this.pending.document.effectiveFrom) <= now) {
      const pending = this.pending;
      if (!this.active || pending.document.version > this.active.document.version) {
        if (Date.parse(pending.document.expiresAt) > now) await this.activate(pending);
      } else {
        this.pending = null;
        this.state.pending = null;
        await this.saveState();
      }
    }
    if (this.active && this.isExpired() && !this.expiredAlarm) {
      this.expiredAlarm = true;
      const d = this.active.document;
      this.lastError = `rule set version ${d.version} expired at ${d.expiresAt}; ${this.opts.onExpiry === "keep" ? "kept in service" : "service stopped"}`;
      this.emit({ event: "expired", version: d.version, expiresAt: d.expiresAt, action: this.opts.onExpiry });
      await this.writeRuleSetFile();
      await this.report();
    }
    this.arm();
  }

  private arm() {
    clearTimeout(this.timer);
    if (!this.running) return;
    const now = this.opts.now().getTime();
    const due = [
      this.pending ? Date.parse(this.pending.document.effectiveFrom) : Infinity,
      this.active && !this.expiredAlarm ? Date.parse(this.active.document.expiresAt) : Infinity,
    ];
    const next = Math.min(...due);
    if (next === Infinity) return;
    this.timer = setTimeout(
      () => {
        this.ticking = this.tick().catch(() => {});
      },
      Math.min(Math.max(0, next - now) + 5, 60 * 60_000),
    );
  }

  /** Tells the portal what runs here (best effort; a report is sent again only when it changes). */
  private async report(): Promise<void> {
    if (!this.active || !this.state.active) return;
    const body = {
      version: this.active.document.version,
      digest: this.active.digest,
      activatedAt: this.state.active.activatedAt,
      trustedKeys: [...this.trust.pinned].slice(0, 20),
      ...(this.lastError ? { error: this.lastError.slice(0, 2000) } : {}),
    };
    const key = JSON.stringify([body.version, body.digest, body.error ?? ""]);
    if (key === this.lastReport) return;
    try {
      const response = await this.request(this.api("/status"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        limit: 64 * 1024,
      });
      if (response.status !== 204) throw new Error(`HTTP ${response.status} ${problemTitle(response.body)}`);
      this.lastReport = key;
      this.emit({ event: "reported", version: body.version, ...(body.error ? { error: body.error } : {}) });
    } catch (error) {
      this.emit({ event: "report-failed", message: causeOf(error) });
    }
  }

  /**
   * Tells the portal what it refused (best effort; the same refusal of the same document is sent
   * once): the version and digest the document claimed, the code, what stays in service. The
   * portal stores it apart from what runs here; a forged version is expected, not an error.
   */
  private async reportRefusal(source: "current" | "upcoming", error: RuleSetRefused): Promise<void> {
    // The key the refusal is about (verify names it), else the first one the document claims.
    const kid = error.kid !== undefined && KID.test(error.kid) ? error.kid : this.offered.kid;
    const offered = { ...this.offered, kid };
    const key = JSON.stringify([source, error.code, offered.version, offered.digest, kid]);
    if (key === this.lastRefusalReport) return;
    const body = {
      kind: "refusal",
      offered,
      code: error.code,
      source,
      message: error.message.slice(0, 2000),
      runningVersion: this.active?.document.version ?? null,
    };
    try {
      const response = await this.request(this.api("/status"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        limit: 64 * 1024,
      });
      if (response.status !== 204) throw new Error(`HTTP ${response.status} ${problemTitle(response.body)}`);
      this.lastRefusalReport = key;
      this.emit({ event: "refusal-reported", code: error.code, offeredVersion: offered.version, offeredDigest: offered.digest, kid });
    } catch (e) {
      this.emit({ event: "report-failed", message: causeOf(e) });
    }
  }

  // --- scan decisions (ADR 042) --------------------------------------------------------------

  private scans(): ScanJournal {
    this.journal ??= ScanJournal.open(this.opts.stateDir, this.opts.scans);
    return this.journal;
  }

  /**
   * Decides one scan offline with the rule set in service (schema version 2), logs the decision
   * and spools it for the next report. No network. Throws ScanUnavailable when nothing can decide
   * (no rule set, a schema-1 one, no parent given and none found), a ZodError for a malformed request.
   */
  scan(input: ScanRequest): ScanDecision {
    const request = scanRequestSchema.parse(input);
    const deciding = this.deciding();
    const document = deciding && !(deciding === this.active && this.isExpired() && this.opts.onExpiry === "stop") ? deciding.document : null;
    if (!document || !deciding) throw new ScanUnavailable("no-rule-set", "no rule set in service: pull one first (runtime-client --once)");
    if (document.schemaVersion !== 2)
      throw new ScanUnavailable(
        "no-scan-data",
        `the rule set in service (version ${document.version}) is schema version 1 and has no scan data: pull a v2 (--schema-version 2)`,
      );
    // The verified document is the package's ScanRuleSet structurally; only the pattern classes are
    // typed wider here (the client's schema reads any class name, the compiler refuses unknown ones).
    if (this.scanner?.digest !== deciding.digest) this.scanner = compileScanner(document as unknown as ScanRuleSet, deciding.digest);
    const parent = request.parent ?? this.parentOf(document, request);
    const { id: _id, ...asked } = request;
    const decision = this.scanner.decide({ ...asked, parent });
    this.scans().record(this.opts.now(), { ...request, parent }, decision);
    return decision;
  }

  /** Without --parent: the one parent whose routing consumes the material at that step or work centre. */
  private parentOf(document: Extract<RuleSetDocument, { schemaVersion: 2 }>, request: ScanRequest): string {
    const parents = document.rules
      .filter((r) =>
        r.routing.some(
          (s) =>
            (request.step !== undefined ? s.step === request.step : s.workCentre === request.workCentre) &&
            s.consumes.some((c) => c.component === request.expected),
        ),
      )
      .map((r) => r.partNumber);
    if (parents.length === 1) return parents[0]!;
    const where = request.step !== undefined ? `step ${request.step}` : `work centre ${request.workCentre}`;
    throw new ScanUnavailable(
      "no-parent",
      parents.length === 0
        ? `no routing consumes ${request.expected} at ${where}: give the parent`
        : `${parents.join(", ")} consume ${request.expected} at ${where}: give the parent`,
    );
  }

  /**
   * Sends the sealed batches (and what the spool holds now) to the portal, oldest first; a batch
   * leaves the disk only once the portal has it. Stops at the first network failure. Returns the
   * batches still pending.
   */
  async reportScans(): Promise<{ sent: number; pending: number }> {
    const run = this.reportingScans.then(() => this.sendScans());
    this.reportingScans = run.catch(() => {});
    return run;
  }

  private async sendScans(): Promise<{ sent: number; pending: number }> {
    // A client that never scanned has no scans folder: nothing to send, nothing to create.
    const folder = this.opts.scans?.dir ?? path.join(this.opts.stateDir, "scans");
    if (!this.journal && !(await fs.stat(folder).catch(() => null))) return { sent: 0, pending: 0 };
    const journal = this.scans();
    journal.seal();
    const pending = journal.pending();
    let sent = 0;
    for (const batchId of pending) {
      const report = journal.reportOf(batchId);
      const decisions = report.counts.reduce((n, c) => n + c.count, 0);
      if (decisions === 0) {
        journal.done(batchId);
        continue;
      }
      let response: Awaited<ReturnType<RuntimeClient["request"]>>;
      try {
        response = await this.request(`${this.opts.url}/api/v1/sites/${encodeURIComponent(this.opts.site)}/scan-reports`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(report),
          limit: 64 * 1024,
        });
      } catch (error) {
        this.emit({ event: "scans-report-failed", pending: pending.length - sent, message: causeOf(error) });
        return { sent, pending: pending.length - sent };
      }
      if (response.status === 201 || response.status === 200) {
        journal.done(batchId);
        sent++;
        this.emit({ event: "scans-reported", batchId, decisions, duplicate: response.status === 200 });
      } else if (response.status === 400 || response.status === 409 || response.status === 413 || response.status === 422) {
        const movedTo = journal.reject(batchId);
        sent++;
        this.emit({ event: "scans-rejected", batchId, status: response.status, message: problemTitle(response.body), movedTo });
      } else {
        this.emit({ event: "scans-report-failed", pending: pending.length - sent, message: `HTTP ${response.status} ${problemTitle(response.body)}` });
        return { sent, pending: pending.length - sent };
      }
    }
    return { sent, pending: 0 };
  }

  // --- running -------------------------------------------------------------------------------

  /** Runs until stop(): long-polls, backs off while the portal is down, keeps the last good rule set. */
  async run(): Promise<void> {
    this.running = true;
    this.arm();
    let delay = this.opts.retryMs;
    let first = true;
    while (this.running) {
      const { ok } = await this.syncOnce({ waitSeconds: first ? 0 : this.opts.waitSeconds });
      first = false;
      if (!this.running) break;
      if (ok) {
        delay = this.opts.retryMs;
        if (this.opts.waitSeconds === 0) await this.sleep(this.opts.retryMs);
      } else {
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxRetryMs);
      }
    }
    await this.ticking;
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.abort.signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.abort.signal.addEventListener("abort", done, { once: true });
    });
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.abort.abort();
  }
}

function causeOf(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  return e.cause ? `${e.message} (${e.cause.code ?? e.cause.message})` : e.message;
}

function problemTitle(body: Buffer): string {
  try {
    const p = JSON.parse(body.toString("utf8")) as { title?: string; detail?: string };
    return [p.title, p.detail].filter(Boolean).join(": ");
  } catch {
    return "";
  }
}

/**
 * A refusal from the portal itself: 401 (token unknown or revoked), 403, or 404 naming the site
 * (a site outside the token's scope answers as an unknown one: `reason: "site-not-in-scope"`, or the
 * detail of portals before that member). Any other 404 (no rule set in force yet) is not.
 */
function isForbidden(status: number, body: Buffer): boolean {
  if (status === 401 || status === 403) return true;
  if (status !== 404) return false;
  try {
    const p = JSON.parse(body.toString("utf8")) as { reason?: unknown; detail?: unknown };
    return p.reason === "site-not-in-scope" || (typeof p.detail === "string" && /^No site \S+ for this client\.$/.test(p.detail));
  } catch {
    return false;
  }
}

/** A key id worth reporting: a JWK thumbprint's alphabet, bounded (a hostile header may claim anything). */
const KID = /^[A-Za-z0-9_-]{1,128}$/;

interface Offered {
  version: number | null;
  digest: string | null;
  /** The key the first signature names (as claimed), null when unreadable or not a key id. */
  kid: string | null;
}

/**
 * What an unverified document claims to be: the digest of its payload bytes and the version its
 * payload names, each null when the body is too large or too broken to tell. Read only to report
 * a refusal; never trusted.
 */
function offeredOf(body: Buffer, maxBytes = DEFAULT_MAX_BYTES): Offered {
  const offered: Offered = { version: null, digest: null, kid: null };
  if (body.length > maxBytes) return offered;
  try {
    const jws = JSON.parse(body.toString("utf8")) as { payload?: unknown; signatures?: unknown };
    offered.kid = claimedKid(jws.signatures);
    const payload = jws.payload;
    if (typeof payload !== "string" || !/^[A-Za-z0-9_-]*$/.test(payload)) return offered;
    const bytes = Buffer.from(payload, "base64url");
    offered.digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const version = (JSON.parse(bytes.toString("utf8")) as { version?: unknown }).version;
    if (Number.isSafeInteger(version) && (version as number) >= 1 && (version as number) <= 2_147_483_647) offered.version = version as number;
  } catch {
    // Not JSON: what was readable stays.
  }
  return offered;
}

function claimedKid(signatures: unknown): string | null {
  try {
    const first = Array.isArray(signatures) ? (signatures[0] as { protected?: unknown } | undefined) : undefined;
    if (typeof first?.protected !== "string") return null;
    const kid = (JSON.parse(Buffer.from(first.protected, "base64url").toString("utf8")) as { kid?: unknown }).kid;
    return typeof kid === "string" && KID.test(kid) ? kid : null;
  } catch {
    return null;
  }
}
