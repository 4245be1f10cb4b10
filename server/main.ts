/**
 * The production server (`npm start`): build if needed, open the database (DATABASE_URL or the
 * embedded server), migrate and seed an empty database under an advisory lock, then serve Remix
 * on PORT — the HTTP server itself is built in server/app.ts (shared with the tests and the pull
 * benchmark): /healthz, the runtime API and its fast path (ADR 009) ahead of Remix.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { openDatabase, registerDatabase, type Database } from "../app/utils/db.server";
import { readEnv } from "../app/utils/env.server";
import { prepareDatabase } from "../app/utils/migrate.server";
import { loadKeyRing } from "../app/utils/signing.server";
import { renewExpiring } from "../app/services/keys.server";
import { buildIfNeeded } from "./build-if-needed";
import { createPortalServer } from "./app";
import { genealogyIndexOf } from "../app/services/genealogy-index.server";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const env = readEnv({ ...process.env, NODE_ENV: process.env.NODE_ENV ?? "production" });
  const serverBuildPath = buildIfNeeded(root, log);

  let database: Database | undefined;
  let shuttingDown = false;
  const shutdownSignals = ["SIGTERM", "SIGINT"] as const;
  // Until the HTTP server runs, a signal just closes the database (and stops an owned server).
  const earlyStop = () => {
    shuttingDown = true;
    void (database?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  shutdownSignals.forEach((s) => process.once(s, earlyStop));

  database = await openDatabase(env);
  log(
    database.embedded
      ? `C-981: ${database.embedded.owned ? "started" : "using the running"} embedded PostgreSQL in ${env.C981_DATA_DIR}`
      : `C-981: using the PostgreSQL at DATABASE_URL`,
  );
  const prepared = await prepareDatabase(database, { seed: env.C981_SEED, keysDir: env.C981_SIGNING_KEYS_DIR, log });
  if (!prepared.seeded) log("C-981: database migrated.");
  registerDatabase(Promise.resolve(database));
  if (shuttingDown) return;

  const build = (await import(pathToFileURL(serverBuildPath).href)) as ServerBuild;
  const portal = await createPortalServer({ database, env, build, root });
  portal.server.listen(env.PORT, env.HOST, () => {
    log(`C-981 portal on http://localhost:${env.PORT}`);
  });
  const db = database.db;

  // The genealogy index (ADR 011) loads in the background, and again whenever genealogy is written
  // (NOTIFY), so the first impact analysis does not wait for it.
  const genealogy = genealogyIndexOf(database.client);
  void genealogy
    .listen()
    .then(() => genealogy.refresh())
    .then((index) => log(`C-981: genealogy index: ${index.items} items, ${index.edges} edges in ${(index.graph.byteSize / 1e6).toFixed(1)} MB, loaded in ${index.loadMs} ms`))
    .catch((error: unknown) => console.error(`C-981: genealogy index not loaded: ${(error as Error).message}`));

  // Renew rule sets a week before they expire; one instance at a time (advisory lock).
  const RENEW_LOCK = 981_000_003;
  const renewDue = () => {
    if (shuttingDown) return;
    void (async () => {
      const lock = await database!.client.reserve();
      try {
        const [got] = await lock`select pg_try_advisory_lock(${RENEW_LOCK}) as ok`;
        if (!got?.ok) return;
        try {
          const keyRing = await loadKeyRing(db, env.C981_SIGNING_KEYS_DIR);
          const renewed = await renewExpiring(db, keyRing, 7);
          if (renewed.length) log(`C-981: renewed ${renewed.map((r) => `${r.site} v${r.version}`).join(", ")}`);
        } finally {
          await lock`select pg_advisory_unlock(${RENEW_LOCK})`;
        }
      } catch (error) {
        console.error(`C-981: renewal failed: ${(error as Error).message}`);
      } finally {
        lock.release();
      }
    })();
  };
  setTimeout(renewDue, 10_000).unref();
  setInterval(renewDue, 60 * 60 * 1000).unref();

  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`C-981: ${signal}: closing…`);
    // Stop accepting, let in-flight requests finish, drop idle keep-alive connections at once.
    void portal
      .close()
      .then(() => genealogy.close())
      .then(() => database!.close())
      .then(
        () => {
          log("C-981: stopped.");
          process.exit(0);
        },
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  shutdownSignals.forEach((s) => {
    process.removeListener(s, earlyStop);
    process.once(s, () => shutdown(s));
  });
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
