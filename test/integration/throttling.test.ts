/**
 * Part 11 hardening (ADR 020): failed sign-ins and signatures are judged atomically. Before, the failure count
 * was read before the password check with nothing between them: 40 parallel wrong passwords gave
 * 40 × 401 (limit 5), 30 parallel wrong signature passwords 30 × 400 (limit 3). The limits here
 * are the documented ones (5 sign-ins, 3 signatures in 15 minutes), counted by hand.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import { beforeAll, describe, expect, it } from "vitest";
import { securityHeaders } from "../../server/security";
import { checkSignatureCredentials, type Signer } from "../../app/services/change-requests.server";
import { MAX_FAILED_SIGN_INS, signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import type { Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { signedInPerson } from "../setup/people";

let database: Database;
const PASSWORD = "throttling-test-password";

const failedRows = async (action: string, entityId: string) =>
  Number((await database.client`select count(*)::int as n from audit_trail where action = ${action} and entity_id = ${entityId}`)[0]!.n);

beforeAll(async () => {
  database = await createTestDatabase();
  for (const username of ["target.one", "target.two"]) {
    await createUser(
      database.db,
      "test",
      { username, displayName: username, password: PASSWORD, grants: [{ role: "viewer", site: null }], reason: "throttling test" },
      "fixture",
    );
  }
}, 120_000);

describe("sign-in throttling", () => {
  it("50 parallel wrong passwords from one address: 5 judged, 45 refused as throttled, 5 failure rows", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => signIn(database.db, { username: "target.one", password: "wrong", ip: "203.0.113.7", maxHours: 1 })),
    );
    const invalid = results.filter((r) => !r.ok && r.reason === "invalid").length;
    const throttled = results.filter((r) => !r.ok && r.reason === "throttled").length;
    expect(invalid).toBe(5);
    expect(throttled).toBe(45);
    expect(await failedRows("session.sign_in_failed", "target.one")).toBe(5);
    // Even the right password is refused from that address now…
    const right = await signIn(database.db, { username: "target.one", password: PASSWORD, ip: "203.0.113.7", maxHours: 1 });
    expect(right).toMatchObject({ ok: false, reason: "throttled" });
    // …but the stranger's address did not lock the account for everyone.
    const elsewhere = await signIn(database.db, { username: "target.one", password: PASSWORD, ip: "198.51.100.20", maxHours: 1 });
    expect(elsewhere.ok).toBe(true);
  }, 60_000);

  it("an unknown user name is throttled exactly like a known one (no enumeration by 429)", async () => {
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 7; i++) {
      const k = await signIn(database.db, { username: "target.two", password: "wrong", ip: "192.0.2.1", maxHours: 1 });
      const u = await signIn(database.db, { username: "nobody.here", password: "wrong", ip: "192.0.2.1", maxHours: 1 });
      known.push(k.ok ? "ok" : k.reason);
      unknown.push(u.ok ? "ok" : u.reason);
    }
    expect(known).toEqual(["invalid", "invalid", "invalid", "invalid", "invalid", "throttled", "throttled"]);
    expect(unknown).toEqual(known);
  }, 60_000);
});

describe("failures spread over many addresses (lock the pair, alert on the account)", () => {
  it("alert once the account's failures reach the threshold, though no address is locked (review finding)", async () => {
    await createUser(
      database.db,
      "test",
      { username: "spread.target", displayName: "Spread", password: PASSWORD, grants: [{ role: "viewer", site: null }], reason: "throttling test" },
      "fixture",
    );
    const openAlerts = async () =>
      (await database.client`select kind, occurrences, detail from security_alerts where username = 'spread.target' and acknowledged_at is null`).map((a) => ({
        ...a,
      })) as { kind: string; occurrences: number; detail: Record<string, unknown> }[];
    const wrong = (i: number) => signIn(database.db, { username: "spread.target", password: "wrong", ip: `198.18.0.${i}`, maxHours: 1 });
    // One below the threshold, from as many addresses, in parallel: judged, no alert yet.
    const first = await Promise.all(Array.from({ length: MAX_FAILED_SIGN_INS - 1 }, (_, i) => wrong(i + 1)));
    expect(first.map((r) => (r.ok ? "ok" : r.reason))).toEqual(Array(MAX_FAILED_SIGN_INS - 1).fill("invalid"));
    expect(await openAlerts()).toEqual([]);
    // The failure reaching it, from yet another address: still judged (no pair is locked), and alerted on the account.
    expect(await wrong(MAX_FAILED_SIGN_INS)).toMatchObject({ ok: false, reason: "invalid" });
    expect(await openAlerts()).toEqual([
      {
        kind: "sign_in_failures",
        occurrences: 1,
        detail: expect.objectContaining({ scope: "account", failures: MAX_FAILED_SIGN_INS, addresses: MAX_FAILED_SIGN_INS }),
      },
    ]);
    // Later spread failures count on the open alert; the owner still signs in from their own address.
    expect(await wrong(99)).toMatchObject({ ok: false, reason: "invalid" });
    expect((await openAlerts())[0]!.occurrences).toBe(2);
    expect((await signIn(database.db, { username: "spread.target", password: PASSWORD, ip: "198.51.100.77", maxHours: 1 })).ok).toBe(true);
  }, 60_000);

  it("parallel failures from as many addresses as the threshold raise exactly one alert", async () => {
    await createUser(
      database.db,
      "test",
      { username: "spread.parallel", displayName: "Spread P", password: PASSWORD, grants: [{ role: "viewer", site: null }], reason: "throttling test" },
      "fixture",
    );
    const results = await Promise.all(
      Array.from({ length: MAX_FAILED_SIGN_INS }, (_, i) =>
        signIn(database.db, { username: "spread.parallel", password: "wrong", ip: `198.19.0.${i + 1}`, maxHours: 1 }),
      ),
    );
    expect(results.every((r) => !r.ok && r.reason === "invalid")).toBe(true);
    const alerts = await database.client`select occurrences from security_alerts where username = 'spread.parallel' and acknowledged_at is null`;
    expect(alerts.map((a) => a.occurrences)).toEqual([1]);
  }, 60_000);
});

describe("the client address sign-ins are counted by", () => {
  // The pair (name, address) only protects if a client cannot choose its address: the sign-in
  // route reads X-C981-Client-IP, which securityHeaders sets from the socket (or, only with
  // C981_TRUST_PROXY, from the proxy's X-Forwarded-For) and never takes from the request.
  it("cannot be chosen by the client: a sent X-C981-Client-IP or X-Forwarded-For is ignored", async () => {
    const app = express();
    app.use(securityHeaders);
    app.get("/", (req, res) => void res.json({ address: req.headers["x-c981-client-ip"] }));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        headers: { "X-C981-Client-IP": "198.51.100.99", "X-Forwarded-For": "198.51.100.98" },
      });
      expect(await answer.json()).toEqual({ address: "127.0.0.1" });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("signature throttling", () => {
  let signer: Signer;
  beforeAll(async () => {
    signer = await signedInPerson(database, "quinn.throttled", ["quality_reviewer"], PASSWORD);
  });

  it("30 parallel wrong signature passwords: 3 judged, 27 locked, 3 failure rows", async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, () => checkSignatureCredentials(database.db, signer, { username: "quinn.throttled", password: "wrong" }, { test: true })),
    );
    const judged = results.filter((r) => !r.ok && !r.locked).length;
    const locked = results.filter((r) => !r.ok && r.locked).length;
    expect(judged).toBe(3);
    expect(locked).toBe(27);
    expect(await failedRows("signature.failed", "quinn.throttled")).toBe(3);
    // The right password is locked out too until the window passes.
    const right = await checkSignatureCredentials(database.db, signer, { username: "quinn.throttled", password: PASSWORD }, { test: true });
    expect(right).toMatchObject({ ok: false, locked: true });
  }, 60_000);
});
