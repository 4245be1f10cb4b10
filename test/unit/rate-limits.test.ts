/**
 * The scan endpoints' token buckets (server/rate-limits.ts, ADR 042 Amendment 2) on a clock the
 * test moves: a full bucket lets `burst` requests through, then one per 1/perSecond seconds;
 * Retry-After is the whole seconds until the next token; each client has its own bucket.
 */
import { describe, expect, it } from "vitest";
import { TokenBuckets } from "../../server/rate-limits";

describe("token buckets", () => {
  it("lets the burst through, then refills at the rate, per client", () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 4, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => buckets.take(7).ok)).toEqual([true, true, true]);
    // Empty: 0.25 s until the next token → Retry-After 1 (whole seconds, at least 1).
    expect(buckets.take(7)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(buckets.take(8).ok).toBe(true);
    now += 250; // one token back
    expect(buckets.take(7).ok).toBe(true);
    expect(buckets.take(7).ok).toBe(false);
    now += 10_000; // full again, never more than the burst
    expect([1, 2, 3, 4].map(() => buckets.take(7).ok)).toEqual([true, true, true, false]);
  });

  it("says how many seconds until a token at a slow rate", () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 0.1, burst: 1 }, () => now);
    expect(buckets.take(1).ok).toBe(true);
    expect(buckets.take(1)).toEqual({ ok: false, retryAfterSeconds: 10 });
    now += 4_000;
    expect(buckets.take(1)).toEqual({ ok: false, retryAfterSeconds: 6 });
  });

  it("refuses a limit that could never let anything through", () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 1 })).toThrow();
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow();
  });
});
