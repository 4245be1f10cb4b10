/**
 * Part 11 hardening (ADR 020): "the role × action × site matrix includes mixed-site users for every role
 * pair". policies/ability.test.ts checks the pure builder for every pair; this drives the real
 * path from the database: users holding role A at CLT and role B at EIN (granted rows in
 * user_roles), signed in, loaded by getSignedIn, and judged by the gates the sign and release
 * actions use (requireEverySite + signerOf for signing, mayReleaseAt + signerOf for releasing).
 * Each action at each site follows the role held there.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../../policies/ability";
import { mayReleaseAt } from "../../policies/review-and-release";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { getSignedIn } from "../../app/services/signed-in.server";
import { requireEverySite, SESSION_COOKIE, signerOf, type SignedIn } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";

let database: Database & { name: string };
let site: { CLT: number; EIN: number };
const PASSWORD = "mixed-site-matrix-passphrase";
const REVIEWERS: readonly Role[] = ["quality_reviewer", "regulatory_reviewer"];
const pairs = ROLES.flatMap((a) => ROLES.filter((b) => b !== a).map((b) => [a, b] as const));
const signedIn = new Map<string, SignedIn>();

const maySign = (who: SignedIn, siteIds: number[]) => {
  try {
    requireEverySite(who, "sign", siteIds);
    return true;
  } catch (thrown) {
    if (thrown instanceof Response && thrown.status === 403) return false;
    throw thrown;
  }
};

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  const rows =
    await database.client`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam'), ('CLT', 'Charlotte', 'America/New_York') returning id, code`;
  site = Object.fromEntries(rows.map((r) => [r.code, r.id])) as { CLT: number; EIN: number };
  await Promise.all(
    pairs.map(async ([a, b], i) => {
      const username = `pair.${i}`;
      await createUser(
        database.db,
        "test",
        {
          username,
          displayName: `${a}@CLT ${b}@EIN`,
          password: PASSWORD,
          grants: [
            { role: a, site: "CLT" },
            { role: b, site: "EIN" },
          ],
          reason: "matrix",
        },
        "fixture",
      );
      const session = await signIn(database.db, { username, password: PASSWORD, ip: null, maxHours: 1 });
      if (!session.ok) throw new Error(`sign-in of ${username} failed`);
      const who = await getSignedIn(new Request("http://127.0.0.1/", { headers: { Cookie: `${SESSION_COOKIE}=${session.sessionId}` } }));
      signedIn.set(`${a}|${b}`, who!);
    }),
  );
}, 120_000);

describe("mixed-site users, every ordered role pair, through the real loader", () => {
  it.each(pairs)("%s@CLT + %s@EIN signs and releases only where the role is held", (a, b) => {
    const who = signedIn.get(`${a}|${b}`)!;
    for (const [code, held] of [
      ["CLT", a],
      ["EIN", b],
    ] as const) {
      const at = site[code];
      expect(maySign(who, [at]), `sign at ${code}`).toBe(REVIEWERS.includes(held));
      expect(signerOf(who, [at]).roles, `roles counted at ${code}`).toEqual([held]);
      expect(mayReleaseAt(who.grants, at), `release at ${code}`).toBe(held === "release_manager");
    }
    // A request spanning both sites: signable only if both roles sign, and no role counts at both.
    expect(maySign(who, [site.CLT, site.EIN])).toBe(REVIEWERS.includes(a) && REVIEWERS.includes(b));
    expect(signerOf(who, [site.CLT, site.EIN]).roles).toEqual([]);
  });
});
