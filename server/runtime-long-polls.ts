/**
 * Held long polls (`GET …/ruleset?waitSeconds=N` with the current ETag), per site, without polling
 * (ADR 009, amendment): a held request is registered here with the ETag it has and its deadline,
 * and is woken once — when the runtime cache learns that the site's rule set in force may have
 * changed (a NOTIFY on `c981_rulesets`, the change counter, a scheduled version's effectiveFrom
 * passing) and the reloaded version differs, when its wait ends, when the instance drains, or (the
 * client gone) removed without a word. After a change every waiter of a site shares one reload.
 *
 * Both the express route (server/runtime-api.ts) and the fast path (server/runtime-fast-path.ts)
 * hold here; what they answer when woken is theirs to decide (the same answer either way).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { currentRequest, type RequestContext, withRequestContext } from "../app/utils/logger.server";
import { metrics } from "../app/utils/metrics.server";

/** The longest `waitSeconds` a runtime may ask for (ADR 008). */
export const MAX_WAIT_SECONDS = 60;

/** Why a held long poll was woken. */
export type WakeReason = "changed" | "timeout" | "drain" | "closed";

/** What the registry needs to know of the version in force (server/runtime-cache.ts's InForce). */
export interface HeldVersion {
  etag: string;
  /** When the next scheduled version takes effect (ms), or Infinity. */
  validUntil: number;
}

interface Waiter {
  siteId: number;
  etag: string;
  deadline: number;
  res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
  onClose: () => void;
  wake: (reason: WakeReason) => void;
  /** The held request's own context: woken by another request's reload, it still logs its own id. */
  context: RequestContext | undefined;
}

/**
 * A long poll the fast path held and then handed to express (the cache could not answer it from
 * memory when it woke): express keeps the original deadline rather than starting the wait again.
 */
const handedOver = new WeakMap<IncomingMessage, number>();
export const heldUntil = (req: IncomingMessage): number | undefined => handedOver.get(req);
export const handOver = (req: IncomingMessage, deadline: number): void => void handedOver.set(req, deadline);

/** Wakes a waiter in its own request's context (a reload, a drain or a close runs in another's, or none). */
const wakeIn = (waiter: Waiter, reason: WakeReason): void =>
  waiter.context ? withRequestContext(waiter.context, () => waiter.wake(reason)) : waiter.wake(reason);

/**
 * Stopping: a long poll that arrives after the drain waits this long at most (then 304), not its
 * whole wait — the instance is going — and not 0 s: answered at once, a client that polls again at
 * once (the reference client does) would loop here until the balancer takes the instance out.
 */
export const DRAINING_WAIT_MS = 1000;

/** Waiters woken in one turn of the event loop; the rest follow after I/O had its turn. */
const WAKE_BATCH = 256;

export class LongPolls {
  private bySite = new Map<number, Set<Waiter>>();
  /** Per site: a timer for the effectiveFrom of its next scheduled version, while someone waits. */
  private expiry = new Map<number, { at: number; timer: NodeJS.Timeout }>();
  private wakeQueue: [Waiter, WakeReason][] = [];
  private waking = false;
  private stopped = false;
  /** Stopping: held long polls were answered, new ones wait DRAINING_WAIT_MS at most. */
  draining = false;

  /**
   * @param load the site's version in force, read once per reload (the cache's single-flight read).
   * @param held what the cache holds for the site now, fresh or not (never reads the database).
   */
  constructor(
    private readonly load: (siteId: number) => Promise<HeldVersion | undefined>,
    private readonly holding: (siteId: number) => HeldVersion | undefined,
  ) {}

  /** Long polls held now. */
  get held(): number {
    let n = 0;
    for (const set of this.bySite.values()) n += set.size;
    return n;
  }

  /**
   * Holds a request whose client has `version` until one of the wake reasons; `wake` is called
   * exactly once (with "closed" when the client went away: write nothing then).
   */
  hold(siteId: number, version: HeldVersion, deadline: number, res: ServerResponse, wake: (reason: WakeReason) => void): void {
    const waiter: Waiter = {
      siteId,
      etag: version.etag,
      deadline: this.draining ? Math.min(deadline, Date.now() + DRAINING_WAIT_MS) : deadline,
      res,
      timer: undefined,
      onClose: () => this.remove(waiter, "closed"),
      wake,
      context: currentRequest(),
    };
    if (this.stopped) {
      wake("drain");
      return;
    }
    if (res.destroyed || res.socket?.destroyed) {
      wake("closed");
      return;
    }
    // A version read before a change but returned after it is not kept by the cache: whoever read
    // it looks again (a reload for the waiters may already have passed).
    if (this.holding(siteId)?.etag !== version.etag) {
      wake("changed");
      return;
    }
    let set = this.bySite.get(siteId);
    if (!set) this.bySite.set(siteId, (set = new Set()));
    set.add(waiter);
    metrics.heldLongPolls.inc();
    res.once("close", waiter.onClose);
    this.arm(waiter);
    if (version.validUntil <= deadline) this.armExpiry(siteId, version.validUntil);
  }

  /** The deadline timer (re-armed if a timer fires a millisecond early). */
  private arm(waiter: Waiter): void {
    waiter.timer = setTimeout(
      () => {
        if (Date.now() < waiter.deadline) this.arm(waiter);
        else this.remove(waiter, "timeout");
      },
      Math.max(0, waiter.deadline - Date.now()),
    );
    waiter.timer.unref();
  }

  private armExpiry(siteId: number, at: number): void {
    const existing = this.expiry.get(siteId);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.expiry.delete(siteId);
        this.reload(siteId);
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    this.expiry.set(siteId, { at, timer });
  }

  /** Takes the waiter out (once) and wakes it: at once when it went away, else in the wake queue. */
  private remove(waiter: Waiter, reason: WakeReason): void {
    const set = this.bySite.get(waiter.siteId);
    if (!set?.delete(waiter)) return;
    if (set.size === 0) {
      this.bySite.delete(waiter.siteId);
      const expiry = this.expiry.get(waiter.siteId);
      if (expiry) clearTimeout(expiry.timer);
      this.expiry.delete(waiter.siteId);
    }
    metrics.heldLongPolls.dec();
    clearTimeout(waiter.timer);
    waiter.res.removeListener("close", waiter.onClose);
    if (reason === "closed" || reason === "timeout") {
      wakeIn(waiter, reason);
      return;
    }
    this.wakeQueue.push([waiter, reason]);
    if (!this.waking) {
      this.waking = true;
      queueMicrotask(() => this.wakeSome());
    }
  }

  /** Many waiters at once (a release): a batch per turn, so sockets are written between batches. */
  private wakeSome(): void {
    const batch = this.wakeQueue.splice(0, WAKE_BATCH);
    for (const [waiter, reason] of batch) {
      try {
        wakeIn(waiter, reason);
      } catch (error) {
        waiter.res.destroy(error as Error);
      }
    }
    if (this.wakeQueue.length) setImmediate(() => this.wakeSome());
    else this.waking = false;
  }

  /**
   * The cache dropped what it held of rule sets (and has re-read its change counter): one reload per
   * site someone waits at, then the waiters whose version is no longer in force are woken.
   */
  changed(): void {
    for (const siteId of this.bySite.keys()) this.reload(siteId);
  }

  private reload(siteId: number): void {
    if (!this.bySite.has(siteId)) return;
    this.load(siteId).then(
      (current) => {
        const set = this.bySite.get(siteId);
        if (!set) return;
        for (const waiter of set) if (!current || waiter.etag !== current.etag) this.remove(waiter, "changed");
        if (current && this.bySite.has(siteId) && current.validUntil - Date.now() <= (MAX_WAIT_SECONDS + 1) * 1000) this.armExpiry(siteId, current.validUntil);
      },
      // The database could not say: every waiter asks again on its own path (which answers 503,
      // or what the cache may still serve).
      () => {
        for (const waiter of this.bySite.get(siteId) ?? []) this.remove(waiter, "changed");
      },
    );
  }

  /** Stopping: every held long poll answers now, new ones wait DRAINING_WAIT_MS at most (a second drain answers them too). */
  drain(): void {
    this.draining = true;
    for (const set of [...this.bySite.values()]) for (const waiter of [...set]) this.remove(waiter, "drain");
  }

  stop(): void {
    this.drain();
    this.stopped = true;
    for (const { timer } of this.expiry.values()) clearTimeout(timer);
    this.expiry.clear();
  }
}
