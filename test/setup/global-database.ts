/**
 * vitest globalSetup for integration tests: one PostgreSQL server for the whole run — a
 * throw-away embedded server in a temporary folder, or the server at TEST_DATABASE_URL — and a
 * migrated template database from which each test file clones its own database.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { openEmbeddedPostgres } from "../../app/utils/embedded-postgres.server";
import { prepareDatabase } from "../../server/prepare-database";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a maintenance database on the test server, for CREATE/DROP DATABASE. */
    adminUrl: string;
    templateDatabase: string;
    /** "embedded" or "external" (TEST_DATABASE_URL). */
    serverKind: string;
    /** Prefix of the databases this run creates, so teardown finds leftovers. */
    runId: string;
    /** Password of the application role c981_app ("" on an external server: trust, as in CI). */
    appPassword: string;
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  let adminUrl: string;
  let stopServer = async () => {};
  let serverKind: string;
  let appPassword = "";
  if (process.env.TEST_DATABASE_URL) {
    adminUrl = process.env.TEST_DATABASE_URL;
    serverKind = "external";
  } else {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-test-pg-"));
    await fs.chmod(dir, 0o755);
    const server = await openEmbeddedPostgres(dir, { database: "postgres" });
    adminUrl = server.url;
    appPassword = server.appPassword;
    serverKind = "embedded";
    stopServer = async () => {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    };
  }
  const templateDatabase = `c981_template_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${templateDatabase}`);
  await prepareDatabase({ url: withDatabase(adminUrl, templateDatabase), embedded: appPassword ? { appPassword } : undefined }, { seed: "none" });

  project.provide("adminUrl", adminUrl);
  project.provide("templateDatabase", templateDatabase);
  project.provide("serverKind", serverKind);
  project.provide("runId", String(process.pid));
  project.provide("appPassword", appPassword);

  return async () => {
    // Drop what this run created, also databases a crashed test file left behind.
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`c981_t_${process.pid}_%`} or datname = ${templateDatabase}`;
    for (const { datname } of leftovers) await admin.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.end();
    await stopServer();
  };
}
