/**
 * A held long poll is woken by whatever learns of a change — a NOTIFY, another request's cache
 * check, a drain — yet what it does then (the fast path hands it to express, which may log) runs
 * with its own request id (ADR 025: every line of a request carries that request's id).
 */
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { currentRequest, withRequestContext } from "../../app/utils/logger.server";
import { DRAINING_WAIT_MS, type HeldVersion, LongPolls, type WakeReason } from "../../server/runtime-long-polls";

const held = (version: HeldVersion) => {
  let now = version;
  const polls = new LongPolls(
    async () => now,
    () => now,
  );
  return { polls, release: (etag: string) => (now = { etag, validUntil: Number.POSITIVE_INFINITY }) };
};
const response = () => new ServerResponse(new IncomingMessage(new Socket()));

describe("a held long poll wakes in its own request's context", () => {
  it.each(["changed", "drain", "closed"] as const)("%s", async (how) => {
    const { polls, release } = held({ etag: '"v1"', validUntil: Number.POSITIVE_INFINITY });
    const res = response();
    const woken = new Promise<{ reason: WakeReason; reqId: string | undefined }>((resolve) =>
      withRequestContext({ reqId: "held-poll" }, () =>
        polls.hold(1, { etag: '"v1"', validUntil: Number.POSITIVE_INFINITY }, Date.now() + 60_000, res, (reason) =>
          resolve({ reason, reqId: currentRequest()?.reqId }),
        ),
      ),
    );
    expect(polls.held).toBe(1);
    // Another request (or none) makes it wake.
    withRequestContext({ reqId: "someone-else" }, () => {
      if (how === "changed") {
        release('"v2"');
        polls.changed();
      } else if (how === "drain") polls.drain();
      else res.emit("close");
    });
    expect(await woken).toEqual({ reason: how, reqId: "held-poll" });
    expect(polls.held).toBe(0);
    polls.stop();
  });
});

describe("a long poll arriving while the instance drains", () => {
  it("waits DRAINING_WAIT_MS at most (not its whole wait, not 0 s), and a second drain answers it", async () => {
    const version = { etag: '"v1"', validUntil: Number.POSITIVE_INFINITY };
    const { polls } = held(version);
    polls.drain();
    const hold = () => {
      const started = Date.now();
      return new Promise<{ reason: WakeReason; ms: number }>((resolve) =>
        polls.hold(1, version, Date.now() + 60_000, response(), (reason) => resolve({ reason, ms: Date.now() - started })),
      );
    };
    const first = await hold();
    expect(first.reason).toBe("timeout");
    expect(first.ms).toBeGreaterThanOrEqual(DRAINING_WAIT_MS - 5);
    expect(first.ms).toBeLessThan(DRAINING_WAIT_MS + 500);
    const second = hold();
    expect(polls.held).toBe(1);
    polls.drain();
    expect((await second).reason).toBe("drain");
    expect(polls.held).toBe(0);
    polls.stop();
    // Stopped: answered at once.
    expect((await hold()).reason).toBe("drain");
  });
});
