/**
 * The genealogy index starting from its snapshot file (issue 27 item 2, ADR 044): a holder saves its
 * index; the genealogy moves on; a new holder (a restarted process) reads the file, catches up by the
 * change log and holds exactly what a full rebuild of the database gives (the oracle:
 * `loadGenealogyIndex` on the same database, compared canonically). A file from another database,
 * or ahead of the database, is not used.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalGenealogy } from "../../app/domain/genealogy-graph";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { GenealogyIndexHolder, loadGenealogyIndex } from "../../app/services/genealogy-index.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let second: postgres.Sql;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  // Another pool on the same database, as a restarted process would have.
  second = database.owner;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-index-start-"));
}, 180_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const same = (a: Parameters<typeof canonicalGenealogy>[0], b: Parameters<typeof canonicalGenealogy>[0]) =>
  expect(Buffer.from(canonicalGenealogy(a)).equals(Buffer.from(canonicalGenealogy(b)))).toBe(true);

describe("starting from the snapshot file", () => {
  it("reads the file, catches up by the change log and equals a rebuild", async () => {
    const file = path.join(dir, "index.snap");
    const first = new GenealogyIndexHolder(database.client);
    const loaded = await first.refresh();
    const saved = await first.saveTo(file);
    expect(saved?.changes).toBe(loaded.changes);

    // The genealogy moves on: a status change and a superseded edge, each a counted statement.
    await database.client`update trace_items set status = 'scrapped' where id = (select min(id) from trace_items where status = 'wip')`;
    await database.client`update genealogy_edges set superseded_at = now() where id = (select min(id) from genealogy_edges where superseded_at is null)`;

    const restarted = new GenealogyIndexHolder(second);
    expect(await restarted.startFrom(file)).toMatch(new RegExp(`^snapshot at change ${loaded.changes} read in \\d+ ms`));
    const current = await restarted.refresh();
    expect(current.changes).toBe(loaded.changes + 2);
    expect(current.caughtUp).toBeDefined();
    same(current.graph, (await loadGenealogyIndex(database.client)).graph);
  });

  it("does not use a file of another database, a file ahead of the database, or no file", async () => {
    const file = path.join(dir, "index.snap");
    const holder = new GenealogyIndexHolder(database.client);
    await holder.refresh();
    await holder.saveTo(file);
    // Another database (migrated, not seeded): the same file is not its genealogy.
    const other = await createTestDatabase();
    expect(await new GenealogyIndexHolder(other.client).startFrom(file)).toMatch(/^snapshot not used \(made from another database/);
    // Ahead: the file claims a later change than the database has.
    const bytes = await fs.readFile(file);
    const { decodeGenealogySnapshot, writeGenealogySnapshot } = await import("../../app/utils/genealogy-snapshot.server");
    const { databaseIdentity } = await import("../../app/services/genealogy-index.server");
    const identity = await databaseIdentity(database.client);
    const decoded = decodeGenealogySnapshot(bytes, identity);
    if ("problem" in decoded) throw new Error(decoded.problem);
    const ahead = path.join(dir, "ahead.snap");
    await writeGenealogySnapshot(ahead, decoded.graph, { ...decoded.tag, changes: decoded.tag.changes + 1000 });
    expect(await new GenealogyIndexHolder(database.client).startFrom(ahead)).toMatch(/^snapshot not used \(change \d+ is ahead of the database's \d+\)$/);
    expect(await new GenealogyIndexHolder(database.client).startFrom(path.join(dir, "none.snap"))).toBe("snapshot not used (no snapshot)");
  });
});
