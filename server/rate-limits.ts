/**
 * Token buckets per runtime client, in this instance's memory (ADR 042, Amendment 2): the scan
 * endpoints' limit. A bucket holds at most `burst` tokens and gains `perSecond` a second; a request
 * takes one or is refused with the seconds until one is there (Retry-After).
 *
 * Not the status reports' limit (ADR 026): that one counts in the database, shared by every
 * instance, inside the write each report needs anyway. Scan decisions write nothing (they are
 * answered from the runtime cache): a database round trip per batch only to count it would cost
 * more than the decision. Per instance, the limit across N instances is N times this one.
 */
export interface RateLimit {
  /** Tokens gained a second: the sustained rate. */
  perSecond: number;
  /** The bucket's size: the burst a client may send at once after a quiet while. */
  burst: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, monotonic). */
  at: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterSeconds: number };

const monotonicMs = () => performance.now();

export class TokenBuckets {
  private readonly buckets = new Map<number, Bucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = monotonicMs,
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1))
      throw new Error(`a rate limit needs perSecond > 0 and burst ≥ 1 (got ${limit.perSecond}, ${limit.burst})`);
  }

  /** Takes one token of this client's bucket, or says how long until one is there. */
  take(clientId: number): Taken {
    const now = this.now();
    let bucket = this.buckets.get(clientId);
    if (!bucket) {
      // A bucket full again is forgotten (below): the map holds only clients sending just now.
      if (this.buckets.size >= 10_000) this.sweep(now);
      bucket = { tokens: this.limit.burst, at: now };
      this.buckets.set(clientId, bucket);
    } else {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond)) };
  }

  private sweep(now: number): void {
    for (const [id, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.limit.perSecond >= this.limit.burst) this.buckets.delete(id);
  }
}
