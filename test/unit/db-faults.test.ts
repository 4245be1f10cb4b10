/**
 * Telling "the database cannot be reached" from a bug (ADR 017): what becomes 503 + Retry-After,
 * what stays a 500, and a deadline that runs a drizzle query (a thenable) once.
 */
import { describe, expect, it } from "vitest";
import { asUnavailable, DatabaseUnavailableError, describeDatabaseError, isDatabaseUnavailable, withDeadline } from "../../server/db-faults";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("database faults", () => {
  it("connection errors, shutdown and connection SQLSTATEs are 'unavailable'; other errors are not", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "CONNECTION_CLOSED", "CONNECT_TIMEOUT", "57P01", "57P03", "08006", "53300"]) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(true);
    }
    for (const code of ["23505", "42P01", "40001", "22P02"]) expect(isDatabaseUnavailable(withCode(code)), code).toBe(false);
    expect(isDatabaseUnavailable(new Error("bug"))).toBe(false);
    // drizzle wraps the driver's error ("Failed query: <SQL>") as its cause.
    const wrapped = new Error('Failed query: select "jws" from "rule_set_versions"', { cause: withCode("ECONNREFUSED") });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
    expect(describeDatabaseError(wrapped)).toBe("unreachable (ECONNREFUSED)");
    expect(describeDatabaseError(wrapped)).not.toMatch(/select/);
    expect(asUnavailable(wrapped)).toBeInstanceOf(DatabaseUnavailableError);
    const bug = new Error("bug");
    expect(asUnavailable(bug)).toBe(bug);
  });

  it("a deadline rejects as unavailable, and runs a thenable once", async () => {
    await expect(withDeadline(new Promise(() => {}), 20)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    let runs = 0;
    // Like drizzle's QueryPromise: every then() runs the query again.
    const query: PromiseLike<number> = { then: (ok, ko) => Promise.resolve(++runs).then(ok, ko) };
    expect(await withDeadline(query, 1000)).toBe(1);
    expect(runs).toBe(1);
  });
});
