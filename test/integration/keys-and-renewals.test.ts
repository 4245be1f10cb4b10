import { createHash } from "node:crypto";
import { createLocalJWKSet, generalVerify, type GeneralJWS } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ruleInForce } from "../../app/queries/tracking-rules.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { clientsStrandedBy } from "../../app/queries/keys.server";
import { renewExpiring, renewSites, retireKey, rotateKeys } from "../../app/services/keys.server";
import { createRuntimeClient, recordStatus, authenticateClient } from "../../app/services/runtime-clients.server";
import type { Database } from "../../app/utils/db.server";
import { loadKeyRing, publicJwks, type KeyRing } from "../../app/utils/signing.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
}, 120_000);

async function latest(site: string) {
  const [row] = await database.client<{ version: number; kind: string; effective_from: string; jws: string; canonical: Uint8Array }[]>`
    select v.version, v.kind, v.effective_from, v.jws, v.canonical from rule_set_versions v join sites s on s.id = v.site_id where s.code = ${site} order by version desc limit 1`;
  return { ...row!, jws: JSON.parse(row!.jws) as GeneralJWS, document: JSON.parse(Buffer.from(row!.canonical).toString("utf8")) };
}

describe("renewals and key rotation", () => {
  it("a renewal re-issues the latest rules unchanged, with the same effectiveFrom, as kind renewal", async () => {
    const before = await latest("PEN");
    const [renewed] = await renewSites(database.db, keyRing, "test", "manual", ["PEN"]);
    expect(renewed).toEqual({ site: "PEN", version: before.version + 1 });
    const after = await latest("PEN");
    expect(after.kind).toBe("renewal");
    expect(new Date(after.effective_from as string).toISOString()).toBe(new Date(before.effective_from as string).toISOString());
    expect(after.document.rules).toEqual(before.document.rules);
    expect(after.document.previousDigest).toMatch(/^sha256:/);
    // Nothing expires within a day yet: no renewal is due.
    expect(await renewExpiring(database.db, keyRing, 1)).toEqual([]);
    expect((await renewExpiring(database.db, keyRing, 31)).map((r) => r.site).sort()).toEqual(["CLT", "EIN", "PEN"]);
    const [m] = await database.client`select id from materials where part_number = 'SUB-1005'`;
    const [s] = await database.client`select id from sites where code = 'EIN'`;
    expect(await ruleInForce(database.db, { materialId: m!.id as number, siteId: s!.id as number, at: new Date() })).toMatchObject({
      state: "ruled",
      rule: { trackingMode: "serial" },
    });
  });

  it("after keys:rotate both keys sign and the JWKS serves both; after keys:retire only the remaining key", async () => {
    const first = keyRing.active[0]!.kid;
    const { kid: second, renewed } = await rotateKeys(database.db, keyRing.dir, "test");
    expect(renewed.map((r) => r.site).sort()).toEqual(["CLT", "EIN", "PEN"]);
    const jwks = await publicJwks(database.db);
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([first, second].sort());
    const rotated = await latest("EIN");
    expect(rotated.jws.signatures.map((sig) => JSON.parse(Buffer.from(sig.protected!, "base64url").toString()).kid).sort()).toEqual([first, second].sort());
    expect(rotated.document.signingKeys).toEqual([first, second].sort());
    // A client pinned to either key verifies it.
    for (const kid of [first, second]) {
      const pinned = createLocalJWKSet({ keys: jwks.keys.filter((k) => k.kid === kid) });
      await expect(generalVerify(rotated.jws, pinned)).resolves.toBeTruthy();
    }

    // A runtime that trusts only the first key would be stranded by retiring it.
    const { token } = await createRuntimeClient(database.db, "test", { name: "mes-pinned-old", sites: ["EIN"], reason: "test" });
    const client = (await authenticateClient(database.db, token))!;
    await recordStatus(
      database.db,
      client,
      { id: [...client.siteIds][0]!, code: "EIN" },
      {
        version: rotated.version as number,
        digest: `sha256:${createHash("sha256").update(rotated.canonical).digest("hex")}`,
        activatedAt: new Date().toISOString(),
        trustedKeys: [first],
      },
    );
    expect(await clientsStrandedBy(database.db, first)).toEqual(["mes-pinned-old"]);
    await expect(retireKey(database.db, keyRing.dir, "test", first)).rejects.toThrow(/would strand runtime clients .*mes-pinned-old/);

    await retireKey(database.db, keyRing.dir, "test", first, { force: true });
    expect((await publicJwks(database.db)).keys.map((k) => k.kid)).toEqual([second]);
    const retired = await latest("EIN");
    expect(retired.kind).toBe("renewal");
    expect(retired.jws.signatures).toHaveLength(1);
    expect(retired.document.signingKeys).toEqual([second]);
    await expect(retireKey(database.db, keyRing.dir, "test", second)).rejects.toThrow(/last active key/);
    expect((await loadKeyRing(database.db, keyRing.dir)).active.map((k) => k.kid)).toEqual([second]);
  });
});
