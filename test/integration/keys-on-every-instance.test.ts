/**
 * A key made by `keys:rotate` on instance A, seen from instance B (ADR 025, README "Operating
 * C-981"): with a shared key folder B signs with it at its next signing, no restart; with a folder
 * of its own B's /readyz names the missing private key and B refuses to sign, saying why — until
 * `keys:export` on A and `keys:import` on B (both audited) put the file there.
 */
import fs from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { GeneralJWS } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signingProblem } from "../../app/queries/releases.server";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { renewSites, rotateKeys } from "../../app/services/keys.server";
import { loadKeyRing } from "../../app/utils/signing.server";
import { keyCommands } from "../../scripts/cli/keys";
import { createPortalServer, type PortalServer } from "../../server/app";
import { createTestDatabase } from "../setup/database";
import { tempKeysDir } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let sharedDir = "";
let ownDir = "";
let firstKid = "";
const portals: PortalServer[] = [];

async function start(keysDir: string): Promise<string> {
  const portal = await createPortalServer({ database, env: { C981_TRUST_PROXY: undefined, C981_SIGNING_KEYS_DIR: keysDir } });
  portal.server.listen(0, "127.0.0.1");
  await new Promise((r) => portal.server.once("listening", r));
  portals.push(portal);
  return `http://127.0.0.1:${(portal.server.address() as AddressInfo).port}`;
}

/** The kids that signed a site's newest version (the JWS protected headers). */
async function signersOfNewest(site: string): Promise<string[]> {
  const [row] =
    await database.client`select v.jws from rule_set_versions v join sites s on s.id = v.site_id where s.code = ${site} order by v.version desc limit 1`;
  const jws = JSON.parse(String(row!.jws)) as GeneralJWS;
  return jws.signatures.map((s) => (JSON.parse(Buffer.from(s.protected!, "base64url").toString()) as { kid: string }).kid).sort();
}

beforeAll(async () => {
  database = await createTestDatabase();
  sharedDir = await tempKeysDir();
  ownDir = await tempKeysDir();
  const { ensureKeyRing } = await import("../../app/services/keys.server");
  const ring = await ensureKeyRing(database.db, sharedDir);
  firstKid = ring.active[0]!.kid;
  await seedDemoPlant(database.db, ring);
  // B's own folder starts with the first key, as an operator would have set it up.
  await fs.copyFile(path.join(sharedDir, `${firstKid}.jwk`), path.join(ownDir, `${firstKid}.jwk`));
}, 120_000);

afterAll(async () => {
  for (const portal of portals) await portal.close();
});

describe("a key made by keys:rotate on one instance", () => {
  it("is used by an instance sharing the key folder at its next signing; one with its own folder says what is missing and refuses to sign", async () => {
    const a = await start(sharedDir);
    const bShared = await start(sharedDir);
    const bOwn = await start(ownDir);
    // Before: every instance can sign.
    for (const base of [a, bShared, bOwn]) expect(((await (await fetch(`${base}/readyz`)).json()) as { signing: string }).signing).toBe("ok");

    // keys:rotate on A (its folder: the shared one).
    const { kid } = await rotateKeys(database.db, sharedDir, "test:instance-a");
    expect(await fs.readdir(sharedDir)).toContain(`${kid}.jwk`);

    // (a) B on the shared folder: its next signing (the renewal round's code, with B's folder) is
    // signed by both keys — no restart, nothing cached.
    expect(await signingProblem(database.db, sharedDir)).toBeNull();
    const renewed = await renewSites(database.db, await loadKeyRing(database.db, sharedDir), "test:instance-b", "next signing on B", ["EIN"]);
    expect(renewed).toHaveLength(1);
    expect(await signersOfNewest("EIN")).toEqual([firstKid, kid].sort());

    // (b) B with a folder of its own: /readyz names the key and the folder (still 200: pulls need
    // no private key), and a signing is refused with the reason.
    const ready = await fetch(`${bOwn}/readyz`);
    expect(ready.status).toBe(200);
    await expect
      .poll(async () => ((await (await fetch(`${bOwn}/readyz`)).json()) as { signing: string }).signing, { timeout: 15_000, interval: 500 })
      .toBe(`private key(s) ${kid} missing in ${ownDir}: releases and renewals on this instance are refused`);
    const problem = `This instance lacks the private key(s) ${kid} in ${ownDir}: it refuses to sign a rule set that active keys must sign.`;
    expect(await signingProblem(database.db, ownDir)).toBe(problem);
    const versionsBefore = await database.client`select count(*)::int as n from rule_set_versions`;
    await expect(renewSites(database.db, await loadKeyRing(database.db, ownDir), "test:instance-b", "refused", ["EIN"])).rejects.toThrow(problem);
    expect(await database.client`select count(*)::int as n from rule_set_versions`).toEqual(versionsBefore);

    // The distribution step: keys:export on A, keys:import on B (each audited), and B signs again.
    const carried = path.join(await tempKeysDir(), "carried.jwk");
    const previousDir = process.env.C981_SIGNING_KEYS_DIR;
    const log = console.log;
    console.log = () => {};
    try {
      process.env.C981_SIGNING_KEYS_DIR = sharedDir;
      expect(await keyCommands["keys:export"].run(database, [kid, "--out", carried])).toBe(0);
      expect((await fs.stat(carried)).mode & 0o777).toBe(0o600);
      // Never over an existing file, and then not audited (the trail's rows are checked below).
      await expect(keyCommands["keys:export"].run(database, [kid, "--out", carried])).rejects.toThrow(/EEXIST/);
      // A kid that is not an active key: no file left behind.
      const stray = path.join(path.dirname(carried), "stray.jwk");
      await expect(keyCommands["keys:export"].run(database, ["no-such-kid", "--out", stray])).rejects.toThrow(/No active signing key/);
      await expect(fs.stat(stray)).rejects.toThrow(/ENOENT/);
      process.env.C981_SIGNING_KEYS_DIR = ownDir;
      expect(await keyCommands["keys:import"].run(database, [carried])).toBe(0);
      // Once only: the file is never overwritten.
      await expect(keyCommands["keys:import"].run(database, [carried])).rejects.toThrow(/exists already/);
    } finally {
      console.log = log;
      if (previousDir === undefined) delete process.env.C981_SIGNING_KEYS_DIR;
      else process.env.C981_SIGNING_KEYS_DIR = previousDir;
    }
    expect((await fs.stat(path.join(ownDir, `${kid}.jwk`))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(ownDir, `${kid}.jwk`), "utf8")).toBe(await fs.readFile(path.join(sharedDir, `${kid}.jwk`), "utf8"));
    expect(await signingProblem(database.db, ownDir)).toBeNull();
    await renewSites(database.db, await loadKeyRing(database.db, ownDir), "test:instance-b", "after the import", ["EIN"]);
    expect(await signersOfNewest("EIN")).toEqual([firstKid, kid].sort());
    const audited =
      await database.client`select action, entity_id, after from audit_trail where action in ('signing_key.export', 'signing_key.import') order by seq`;
    expect(audited.map((r) => [r.action, r.entity_id])).toEqual([
      ["signing_key.export", kid],
      ["signing_key.import", kid],
    ]);
    // The key itself never enters the trail.
    const privateD = (JSON.parse(await fs.readFile(carried, "utf8")) as { d: string }).d;
    expect(JSON.stringify(audited)).not.toContain(privateD);
  });

  it("keys:import refuses a file that is not the database's key, or whose private part does not match", async () => {
    const dir = await tempKeysDir();
    const file = path.join(dir, "x.jwk");
    const jwk = JSON.parse(await fs.readFile(path.join(sharedDir, `${firstKid}.jwk`), "utf8")) as Record<string, string>;
    const other = JSON.parse(
      await fs.readFile(path.join(sharedDir, (await fs.readdir(sharedDir)).find((f) => f.endsWith(".jwk") && !f.startsWith(firstKid))!), "utf8"),
    ) as Record<string, string>;
    const previousDir = process.env.C981_SIGNING_KEYS_DIR;
    process.env.C981_SIGNING_KEYS_DIR = await tempKeysDir();
    try {
      // Another key's private part under this kid and public part.
      await fs.writeFile(file, JSON.stringify({ ...jwk, d: other.d }));
      await expect(keyCommands["keys:import"].run(database, [file])).rejects.toThrow(/private part does not match/);
      // A key the database does not know.
      await fs.writeFile(file, JSON.stringify({ ...jwk, kid: "unknown-kid" }));
      await expect(keyCommands["keys:import"].run(database, [file])).rejects.toThrow(/no active signing key unknown-kid/);
      expect(await fs.readdir(process.env.C981_SIGNING_KEYS_DIR)).toEqual([]);
      // A good file whose import cannot be audited (the trail refuses the row): not installed either.
      await fs.writeFile(file, JSON.stringify(jwk));
      await database.owner`revoke insert on audit_trail from c981_app`;
      try {
        await expect(keyCommands["keys:import"].run(database, [file])).rejects.toThrow(/audit_trail/);
      } finally {
        await database.owner`grant insert on audit_trail to c981_app`;
      }
      expect(await fs.readdir(process.env.C981_SIGNING_KEYS_DIR)).toEqual([]);
    } finally {
      if (previousDir === undefined) delete process.env.C981_SIGNING_KEYS_DIR;
      else process.env.C981_SIGNING_KEYS_DIR = previousDir;
    }
  });
});
