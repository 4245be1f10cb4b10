import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { openEmbeddedPostgres, type EmbeddedServer } from "../../app/utils/embedded-postgres.server";

const dirs: string[] = [];
const servers: EmbeddedServer[] = [];
const children: ChildProcess[] = [];

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-embedded-"));
  await fs.chmod(dir, 0o755);
  dirs.push(dir);
  return path.join(dir, "data");
}

afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => {});
  for (const c of children) c.kill("SIGKILL");
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function query(url: string, text: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql.unsafe(text);
  } finally {
    await sql.end();
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the embedded PostgreSQL server", () => {
  it("starts in its data folder, on loopback only, with a generated password kept 0600", async () => {
    const dataDir = await tempDir();
    const server = await openEmbeddedPostgres(dataDir);
    servers.push(server);
    expect(server.owned).toBe(true);
    const url = new URL(server.url);
    expect(url.hostname).toBe("127.0.0.1");
    const [row] = await query(server.url, "select current_setting('listen_addresses') as listen, current_database() as db");
    expect(row).toEqual({ listen: "127.0.0.1", db: "c981" });
    const stat = await fs.stat(path.join(dataDir, "password"));
    expect(stat.mode & 0o777).toBe(0o600);
    expect(decodeURIComponent(url.password)).toBe((await fs.readFile(path.join(dataDir, "password"), "utf8")).trim());
    const wrong = new URL(server.url);
    wrong.password = "not-the-password";
    await expect(query(wrong.toString(), "select 1")).rejects.toThrow(/password authentication failed/);
  });

  it("a second process on the same folder uses the running server; stopping keeps the data; a restart finds it", async () => {
    const dataDir = await tempDir();
    const first = await openEmbeddedPostgres(dataDir);
    servers.push(first);
    await query(first.url, "create table kept (v text); insert into kept values ('survives a restart')");
    const second = await openEmbeddedPostgres(dataDir);
    expect(second.owned).toBe(false);
    expect(second.url).toBe(first.url);
    await second.stop(); // not the owner: does nothing
    expect(await query(first.url, "select v from kept")).toEqual([{ v: "survives a restart" }]);

    const pid = Number((await fs.readFile(path.join(dataDir, "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
    await first.stop();
    expect(isAlive(pid)).toBe(false);
    await expect(fs.access(path.join(dataDir, "pg", "postmaster.pid"))).rejects.toThrow();

    const again = await openEmbeddedPostgres(dataDir);
    servers.push(again);
    expect(again.owned).toBe(true);
    expect(await query(again.url, "select v from kept")).toEqual([{ v: "survives a restart" }]);
    await again.stop();
  });

  it("says why when the server cannot start because another process holds PostgreSQL's lock", async () => {
    const dataDir = await tempDir();
    const server = await openEmbeddedPostgres(dataDir);
    await server.stop();
    // A live process that is not PostgreSQL holds the lock file (e.g. a PID reused after a crash).
    // PostgreSQL ignores a lock holder it may not signal (another OS user), so as root the
    // impostor runs as the 'postgres' user the server runs as.
    const pgDir = await fs.stat(path.join(dataDir, "pg"));
    const asServerUser = process.getuid?.() === 0 ? { uid: pgDir.uid, gid: pgDir.gid } : {};
    const impostor = spawn("sleep", ["60"], { stdio: "ignore", ...asServerUser });
    children.push(impostor);
    const lock = path.join(dataDir, "pg", "postmaster.pid");
    await fs.writeFile(lock, `${impostor.pid}\n${path.join(dataDir, "pg")}\n1700000000\n1\n\n127.0.0.1\n1 1\nready\n`);
    await fs.chmod(lock, 0o600);
    await fs.chown(lock, pgDir.uid, pgDir.gid);
    const error = await openEmbeddedPostgres(dataDir).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/could not start/);
    expect((error as Error).message).toMatch(/lock file "postmaster.pid" already exists/);
    expect((error as Error).message).toMatch(new RegExp(`stale.*${lock.replaceAll("/", "\\/")}`, "s"));
  });

  it("refuses a data folder that holds something other than a cluster", async () => {
    const dataDir = await tempDir();
    await fs.mkdir(path.join(dataDir, "pg"), { recursive: true });
    await fs.writeFile(path.join(dataDir, "pg", "notes.txt"), "not a database");
    await expect(openEmbeddedPostgres(dataDir)).rejects.toThrow(/holds no PostgreSQL cluster/);
  });
});
