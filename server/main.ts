/**
 * The production server (`npm start`): build if needed, open the database (DATABASE_URL or the
 * embedded server), migrate and seed an empty database under an advisory lock, then serve Remix
 * on PORT behind a plain express app that also answers /healthz. Machine APIs (the runtime
 * rule-set API) mount on the same express app ahead of Remix.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { createRequestHandler } from "@remix-run/express";
import express from "express";
import { currentDataPoint } from "../app/services/audit.server";
import { openDatabase, registerDatabase, type Database } from "../app/utils/db.server";
import { readEnv } from "../app/utils/env.server";
import { prepareDatabase } from "../app/utils/migrate.server";
import { loadKeyRing, publicJwks } from "../app/utils/signing.server";
import { renewExpiring } from "../app/services/keys.server";
import { buildIfNeeded } from "./build-if-needed";
import { createRuntimeApi } from "./runtime-api";
import { refuseNulInAddress, sameOriginForWrites, securityHeaders } from "./security";

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
  const app = express();
  app.disable("x-powered-by");
  // Behind a reverse proxy terminating HTTPS, trust its X-Forwarded-* (cookies become Secure).
  if (env.C981_TRUST_PROXY) {
    app.set("trust proxy", /^\d+$/.test(env.C981_TRUST_PROXY) ? Number(env.C981_TRUST_PROXY) : env.C981_TRUST_PROXY);
  }
  app.use(securityHeaders);
  app.use(refuseNulInAddress);
  app.use("/assets", express.static(path.join(root, "build", "client", "assets"), { immutable: true, maxAge: "1y" }));
  app.use(express.static(path.join(root, "build", "client"), { maxAge: "1h" }));

  const db = database.db;
  app.get("/healthz", async (_req, res) => {
    try {
      const dataPoint = await Promise.race([
        currentDataPoint(db),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("database did not answer within 2 s")), 2000)),
      ]);
      res.status(200).json({ status: "ok", database: "ok", dataPoint });
    } catch (error) {
      res.status(503).json({ status: "unhealthy", database: (error as Error).message });
    }
  });

  // The public signing keys (RFC 7517), for runtimes and anyone verifying a rule set offline.
  app.get("/.well-known/jwks.json", async (_req, res) => {
    try {
      res.setHeader("Cache-Control", "public, max-age=300");
      res.type("application/jwk-set+json").send(JSON.stringify(await publicJwks(db)));
    } catch {
      res.status(503).type("application/problem+json").send(JSON.stringify({ type: "about:blank", title: "Database unavailable", status: 503 }));
    }
  });

  // Machine clients: bearer tokens, no cookies, so ahead of the same-origin check for forms.
  const runtimeApi = await createRuntimeApi(database);
  app.use("/api/v1", runtimeApi.router);

  app.use(sameOriginForWrites);
  app.all("*", createRequestHandler({ build, mode: "production", getLoadContext: (_req, res) => ({ cspNonce: res.locals.cspNonce as string }) }));

  const server = app.listen(env.PORT, env.HOST, () => {
    log(`C-981 portal on http://localhost:${env.PORT}`);
  });
  server.keepAliveTimeout = 5000;

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
    server.close(() => {
      void runtimeApi
        .close()
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
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5000).unref();
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
