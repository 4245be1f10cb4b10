/// <reference types="vitest/config" />
import { vitePlugin as remix } from "@remix-run/dev";
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}

export default defineConfig({
  resolve: { alias: { "~": fileURLToPath(new URL("./app", import.meta.url)) } },
  server: { port: Number(process.env.PORT ?? 3000) },
  plugins: process.env.VITEST
    ? []
    : [
        remix({
          future: {
            v3_fetcherPersist: true,
            v3_relativeSplatPath: true,
            v3_throwAbortReason: true,
            v3_singleFetch: true,
            v3_lazyRouteDiscovery: true,
            v3_routeConfig: true,
          },
        }),
        {
          // Under `remix vite:dev` nothing runs server/main.ts: the first loader's getDatabase() opens
          // the database through this opener, which migrates and seeds it as `npm start` does (ADR 022).
          name: "c981-database",
          apply: "serve",
          configureServer(server) {
            (globalThis as Record<symbol, unknown>)[Symbol.for("c981.databaseOpener")] = async () => {
              const { readEnv } = (await server.ssrLoadModule("/app/utils/env.server.ts")) as typeof import("./app/utils/env.server");
              const { openPreparedDatabase } = (await server.ssrLoadModule("/server/prepare-database.ts")) as typeof import("./server/prepare-database");
              return openPreparedDatabase(readEnv());
            };
          },
        },
      ],
  test: {
    // console.error fails a test: see test/setup/fail-on-console.ts
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["app/**/*.test.ts", "packages/**/*.test.ts", "policies/**/*.test.ts", "test/unit/**/*.test.ts"],
          setupFiles: ["test/setup/fail-on-console.ts"],
          // Not a speed budget (speed lives in the bench scripts): a unit test that builds the demo plant
          // twice took 5.4 s on a machine busy with other work and failed vitest's 5 s default.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          setupFiles: ["test/setup/fail-on-console.ts"],
          globalSetup: ["test/setup/global-database.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
    // Two files at a time also on two cores (vitest's default there is one): most integration files
    // wait on PostgreSQL or on child processes, so the integration run takes 286 s instead of ~600.
    maxWorkers: 2,
    allowOnly: false,
    passWithNoTests: false,
  },
});
