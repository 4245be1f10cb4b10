import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { prepareDatabase } from "../../server/prepare-database";
import { createTestDatabase } from "../setup/database";
import { tempKeysDir } from "../setup/keys";

describe("prepareDatabase", () => {
  it("migrates and seeds once when several servers start at the same moment", async () => {
    const database = await createTestDatabase({ empty: true });
    const keysDir = await tempKeysDir();
    const results = await Promise.all([1, 2, 3].map(() => prepareDatabase(database, { seed: "demo", keysDir })));
    expect(results.filter((r) => r.seeded)).toHaveLength(1);
    const [row] = await database.client`select
      (select count(*)::int from drizzle.__drizzle_migrations) as migrations,
      (select count(*)::int from sites) as sites,
      (select count(*)::int from audit_trail where action = 'seed.demo_plant') as seeds`;
    const journal = JSON.parse(fs.readFileSync(new URL("../../migrations/meta/_journal.json", import.meta.url), "utf8"));
    expect(row).toEqual({ migrations: journal.entries.length, sites: 3, seeds: 1 });
    // Starting again changes nothing.
    expect(await prepareDatabase(database, { seed: "demo", keysDir })).toEqual({ seeded: false });
    const [keys] = await database.client`select count(*)::int as n from signing_keys`;
    expect(keys!.n).toBe(1);
  }, 120_000);
});
