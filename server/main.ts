/**
 * The production server (`npm start`): build if needed, open the database (DATABASE_URL or the
 * embedded server; retried with backoff while it cannot be reached), migrate and seed an empty
 * database under an advisory lock, then serve Remix on PORT — the HTTP server itself is built in
 * server/app.ts (shared with the tests and the pull benchmark): /livez, /readyz (/healthz), the
 * runtime API and its fast path (ADR 009) ahead of Remix.
 *
 * Stopping (SIGTERM, SIGINT; ADR 017): at any moment, also while modules load or the database is
 * being opened, a signal ends the process with 0 after closing what it opened. Serving, it turns
 * not-ready first, answers held long polls, lets in-flight requests finish, then closes the
 * database and stops an embedded server it owns. No database error ends the process: requests
 * answer 503, timers log and try again, and an unexpected rejection is logged, not fatal.
 */

// Only node built-ins before the signal handlers: a SIGTERM while the rest loads is handled too.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeDatabaseError, isDatabaseUnavailable } from "./db-faults";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
type Level = "info" | "warn" | "error";
/**
 * Every line the server prints goes through the structured logger (ADR 025): JSON, or text with
 * C981_LOG_FORMAT=text; said inside a request, it carries the request id. Until the logger has
 * loaded (a few ms; only node built-ins come before the signal handlers), plain lines.
 */
let say: (line: string, level?: Level, fields?: Record<string, unknown>) => void = (line, level) =>
  (level && level !== "info" ? process.stderr : process.stdout).write(`${line}\n`);
const log = (line: string) => say(line);

/** What a signal does now; replaced as start-up proceeds. */
let onSignal: (signal: NodeJS.Signals) => void = () => process.exit(0);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => onSignal(signal));
// …and the handler server/stop-early.mjs set while modules loaded (npm start) steps aside.
(globalThis as { [k: symbol]: (() => void) | undefined })[Symbol.for("c981.stopEarly")]?.();
// (An invalid C981_LOG_LEVEL fails here: plain lines stay, and readEnv below names the variable.)
void import("../app/utils/logger.server").then(
  ({ logLine }) => (say = logLine),
  () => {},
);

// An unexpected rejection (a bug, or a database error some path forgot to catch) is logged; the
// process keeps serving. Its request, if any, was answered by express's or Remix's error handling.
process.on("unhandledRejection", (reason) => {
  // A lost connection's error that no code awaited: postgres.js can reject a query of its own (a
  // LISTEN connection's, or one cut short by the write-after-close below) after the server
  // terminated the session. No request waits on it (one that did has handled it, answering 503),
  // so it is the database's fault, said as such, not a bug of ours (ADR 017).
  if (isDatabaseUnavailable(reason)) {
    say(`C-981: a database connection was lost under a query nothing waited for (${describeDatabaseError(reason)}; ignored)`, "warn");
    return;
  }
  const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  say(`C-981: unexpected error (the portal keeps running): ${message}`, "error");
});

// postgres.js 3.4 can throw from a timer when it writes to a connection the server has just
// terminated (seen in the fault test on a restart's terminated sessions): that connection is gone
// and its queries already failed, so this one error is logged and survived. Anything else uncaught
// still ends the process (its state is unknown), with one line and the stack.
process.on("uncaughtException", (error) => {
  if (error instanceof TypeError && /reading 'write'/.test(error.message) && /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? "")) {
    say("C-981: postgres.js wrote to a connection PostgreSQL had closed (ignored; its queries failed and are retried)", "warn");
    return;
  }
  say(`C-981: fatal: ${error.stack ?? error.message}`, "error");
  process.exit(1);
});

/** Leftovers of uploads a crashed process could not remove (older than an hour: none in progress). */
async function removeStaleUploads(): Promise<void> {
  const tmp = os.tmpdir();
  const names = await fs.readdir(tmp).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names.filter((n) => n.startsWith("c981-epcis-upload-"))) {
    const full = path.join(tmp, name);
    const stat = await fs.stat(full).catch(() => undefined);
    if (!stat || Date.now() - stat.mtimeMs < 3600_000) continue;
    await fs.rm(full, { recursive: true, force: true }).then(
      () => removed++,
      () => {},
    );
  }
  if (removed) log(`C-981: removed ${removed} stale EPCIS upload folder(s) from ${tmp}.`);
}

async function main() {
  let stopRequested = false;
  let wake: (() => void) | undefined;
  onSignal = (signal) => {
    if (stopRequested) return;
    stopRequested = true;
    log(`C-981: ${signal} during start-up: stopping…`);
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => (clearTimeout(timer), resolve());
    });

  const [
    { default: postgres },
    { openDatabase, registerDatabase },
    { readEnv },
    { prepareDatabase },
    { loadKeyRing },
    { renewExpiring, RENEWAL_LOCK },
    { buildIfNeeded },
    { createPortalServer },
    { genealogyIndexOf },
    faults,
    { signingState },
    { EmbeddedPostgresError },
    { createMetricsServer },
    { metrics },
  ] = await Promise.all([
    import("postgres"),
    import("../app/utils/db.server"),
    import("../app/utils/env.server"),
    import("./prepare-database"),
    import("../app/utils/signing.server"),
    import("../app/services/keys.server"),
    import("./build-if-needed"),
    import("./app"),
    import("../app/services/genealogy-index.server"),
    import("./db-faults"),
    import("./health"),
    import("../app/utils/embedded-postgres.server"),
    import("./metrics"),
    import("../app/utils/metrics.server"),
  ]);
  if (stopRequested) process.exit(0);
  const env = readEnv({ ...process.env, NODE_ENV: process.env.NODE_ENV ?? "production" });
  void removeStaleUploads();
  const serverBuildPath = buildIfNeeded(root, log);
  if (stopRequested) process.exit(0);

  // Open and prepare the database, waiting (1, 2, 4 … 30 s) while it cannot be reached.
  type Opened = Awaited<ReturnType<typeof openDatabase>>;
  let database: Opened | undefined;
  let prepared: { seeded: boolean } | undefined;
  for (let attempt = 1; !stopRequested; attempt++) {
    let opened: Opened | undefined;
    try {
      opened = await openDatabase(env, {
        notice: log,
        serverLog: (line) => say(line.trimEnd(), "info", { source: "postgres" }),
      });
      if (stopRequested) {
        await opened.close();
        break;
      }
      prepared = await prepareDatabase(opened, { seed: env.C981_SEED, keysDir: env.C981_SIGNING_KEYS_DIR, log });
      database = opened;
      break;
    } catch (error) {
      await opened?.close().catch(() => {});
      if (error instanceof EmbeddedPostgresError || !faults.isDatabaseUnavailable(error)) throw error;
      const wait = Math.min(30, 2 ** (attempt - 1));
      const where = env.DATABASE_URL ? `the PostgreSQL at DATABASE_URL (${new URL(env.DATABASE_URL).host})` : "the embedded PostgreSQL";
      log(`C-981: waiting for ${where}: ${faults.describeDatabaseError(error)}; attempt ${attempt}, next in ${wait} s`);
      await sleep(wait * 1000);
    }
  }
  if (!database || !prepared || stopRequested) {
    await database?.close().catch(() => {});
    log("C-981: stopped.");
    process.exit(0);
  }
  log(
    database.embedded
      ? `C-981: ${database.embedded.owned ? "started" : "using the running"} embedded PostgreSQL in ${env.C981_DATA_DIR}`
      : `C-981: using the PostgreSQL at DATABASE_URL`,
  );
  if (!prepared.seeded) log("C-981: database migrated.");
  registerDatabase(Promise.resolve(database));
  const signing = await signingState(database.db, env.C981_SIGNING_KEYS_DIR).catch((e: unknown) => `not checked (${faults.describeDatabaseError(e)})`);
  if (signing !== "ok") say(`C-981: signing: ${signing}`, "warn");
  if (stopRequested) {
    await database.close();
    process.exit(0);
  }

  const build = (await import(pathToFileURL(serverBuildPath).href)) as import("@remix-run/node").ServerBuild;
  const portal = await createPortalServer({ database, env, build, root });
  portal.server.listen(env.PORT, env.HOST, () => {
    log(`C-981: portal on http://localhost:${env.PORT}`);
  });
  // Prometheus (ADR 025): a listener of its own when C981_METRICS_PORT is set (loopback by default).
  const metricsServer = env.C981_METRICS_PORT ? createMetricsServer() : undefined;
  metricsServer?.on("error", (error) => say(`C-981: metrics port ${env.C981_METRICS_PORT}: ${error.message}`, "error"));
  metricsServer?.listen(env.C981_METRICS_PORT, env.C981_METRICS_HOST, () =>
    log(`C-981: metrics on http://${env.C981_METRICS_HOST}:${env.C981_METRICS_PORT}/metrics`),
  );
  const db = database.db;

  // The genealogy index (ADR 011) loads in the background, and again whenever genealogy is written
  // (NOTIFY), so the first impact analysis does not wait for it.
  const genealogy = genealogyIndexOf(database.client);
  // Its snapshot file (issue 27, ADR 044): read first, caught up by the change log; written back when
  // the index moved on. Any failure here only costs the speed-up.
  const snapshotFile = env.C981_INDEX_SNAPSHOT === "off" ? null : path.resolve(env.C981_INDEX_SNAPSHOT ?? path.join(env.C981_DATA_DIR, "genealogy-index.snap"));
  let snapshotChanges = -1;
  const saveSnapshot = async () => {
    const index = genealogy.peek();
    if (!snapshotFile || !index || index.changes === snapshotChanges) return;
    const saved = await genealogy.saveTo(snapshotFile);
    if (saved) {
      snapshotChanges = saved.changes;
      log(`C-981: genealogy index snapshot written at change ${saved.changes} (${(saved.bytes / 1e6).toFixed(1)} MB in ${saved.ms} ms)`);
    }
  };
  const startedIndex = performance.now();
  void genealogy
    .listen()
    .then(async () => {
      if (!snapshotFile) return;
      const said = await genealogy.startFrom(snapshotFile).catch((error: unknown) => `snapshot not used (${(error as Error).message})`);
      snapshotChanges = genealogy.peek()?.changes ?? -1;
      log(`C-981: genealogy index: ${said}`);
    })
    .then(() => genealogy.refresh())
    .then((index) => {
      log(
        `C-981: genealogy index: ${index.items} items, ${index.edges} edges in ${(index.graph.byteSize / 1e6).toFixed(1)} MB, ready ${Math.round(performance.now() - startedIndex)} ms after start (${index.caughtUp ? `caught up ${index.caughtUp.rows} rows` : `loaded in ${index.loadMs} ms`})`,
      );
      return saveSnapshot();
    })
    .catch((error: unknown) => log(`C-981: genealogy index not loaded yet (${faults.describeDatabaseError(error)}); the first analysis loads it`));
  const snapshotTimer = setInterval(
    () => void saveSnapshot().catch((error: unknown) => log(`C-981: genealogy index snapshot not written (${(error as Error).message})`)),
    10 * 60_000,
  );
  snapshotTimer.unref();

  // Renew rule sets a week before they expire; one instance at a time (advisory lock). A database
  // away at the tick costs this round only.
  let shuttingDown = false;
  // Named after this instance's pool (pg_stat_activity tells whose lock connection it is).
  const poolName = (database.client.options as { connection?: { application_name?: string } }).connection?.application_name ?? "c981";
  const renewalName = `${poolName.slice(0, 55)}-renewal`;
  // The lock's session is a client of its own (one connection, ended after the round), not a
  // reserved pool connection: postgres.js 3.4 crashes the process (TypeError in a timer) when a
  // query is sent on a reserved connection the server has just terminated (a restart).
  const renewDue = () => {
    if (shuttingDown) return;
    void (async () => {
      const lock = postgres(database.url, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: renewalName } });
      try {
        const [got] = await faults.withDeadline(lock`select pg_try_advisory_lock(${RENEWAL_LOCK}) as ok`, 10_000);
        if (!got?.ok) return;
        const keyRing = await loadKeyRing(db, env.C981_SIGNING_KEYS_DIR);
        const renewed = await renewExpiring(db, keyRing, 7);
        if (renewed.length) log(`C-981: renewed ${renewed.map((r) => `${r.site} v${r.version}`).join(", ")}`);
      } catch (error) {
        if (faults.isDatabaseUnavailable(error)) metrics.dbErrors.inc({ where: "renewal" });
        if (faults.isDatabaseUnavailable(error)) log(`C-981: renewal postponed to the next round: database ${faults.describeDatabaseError(error)}`);
        else say(`C-981: renewal failed: ${(error as Error).message}`, "error");
      } finally {
        // Ending the session releases the lock in any case.
        await lock.end({ timeout: 5 }).catch(() => {});
      }
    })().catch(() => {});
  };
  setTimeout(renewDue, 10_000).unref();
  setInterval(renewDue, 60 * 60 * 1000).unref();

  // Sign the audit chain's head every 1,000 rows or hour (ADR 019). Checked every 5 minutes;
  // checkpointRound never throws, and the decision is taken under the append lock, so several
  // instances never anchor one head twice.
  const checkpointDue = () => {
    if (shuttingDown) return;
    void import("../app/services/audit-anchors.server")
      .then(({ checkpointRound }) => checkpointRound(db, env.C981_SIGNING_KEYS_DIR, (line) => say(line, /SECURITY/.test(line) ? "error" : "info")))
      .catch(() => {});
  };
  setTimeout(checkpointDue, 15_000).unref();
  setInterval(checkpointDue, 5 * 60 * 1000).unref();

  // Notification e-mails (ADR 032): the outbox's sender, when an SMTP server is configured. It
  // polls, and a NOTIFY from a committed notification wakes it; SMTP and database errors are
  // logged and retried with backoff, never fatal.
  const notificationSender = env.C981_SMTP_URL
    ? await Promise.all([import("../app/services/notification-sender.server"), import("../app/utils/mail.server")]).then(
        ([{ startNotificationSender }, { smtpMailer }]) =>
          startNotificationSender(db, smtpMailer(env.C981_SMTP_URL!), {
            from: env.C981_MAIL_FROM,
            publicUrl: env.C981_PUBLIC_URL ?? `http://localhost:${env.PORT}`,
            log: (line, level) => say(line, level),
          }),
      )
    : undefined;
  if (notificationSender) {
    log(`C-981: notifications by e-mail through ${new URL(env.C981_SMTP_URL!).host}`);
    void database.client
      .listen("c981_notifications", () => notificationSender.wake())
      .catch((error: unknown) => log(`C-981: notification wake-ups not listened to (${faults.describeDatabaseError(error)}); the sender polls`));
  } else log("C-981: notifications: inbox only (C981_SMTP_URL not set)");

  onSignal = (signal) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const graceMs = env.C981_SHUTDOWN_GRACE_SECONDS * 1000;
    log(`C-981: ${signal}: not ready; answering held long polls, closing in ${env.C981_SHUTDOWN_GRACE_SECONDS} s after in-flight requests…`);
    setTimeout(() => {
      log(`C-981: not stopped after ${30 + env.C981_SHUTDOWN_GRACE_SECONDS} s: exiting now.`);
      process.exit(1);
    }, 30_000 + graceMs).unref();
    portal.drain();
    // The grace: /readyz says 503 and held long polls have their answer, but new requests are
    // still served, so a load balancer polling /readyz stops sending here before anything is
    // refused. Then stop accepting, let in-flight requests finish, drop idle keep-alive connections.
    void new Promise((resolve) => setTimeout(resolve, graceMs))
      .then(() => {
        if (metricsServer?.listening) metricsServer.close();
        metricsServer?.closeAllConnections();
        return portal.close();
      })
      .then(() => notificationSender?.stop())
      .then(() => genealogy.close().catch(() => {}))
      .then(() => database.close())
      .then(
        () => {
          log("C-981: stopped.");
          process.exit(0);
        },
        (error: unknown) => {
          say(`C-981: stopping failed: ${(error as Error).message}`, "error");
          process.exit(1);
        },
      );
  };
  if (stopRequested) onSignal("SIGTERM");
}

main().catch((error: unknown) => {
  // One line (or the embedded server's own explanation), never a stack trace.
  say(error instanceof Error ? error.message : String(error), "error");
  process.exit(1);
});
