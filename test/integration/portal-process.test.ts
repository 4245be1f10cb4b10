/**
 * The portal as a user runs it: `npm start`'s entry point as a real process, on the embedded
 * server or on DATABASE_URL — start, health, a second process, restart, graceful stop.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildIfNeeded, withoutVitest } from "../../server/build-if-needed";
import { withDatabase } from "../setup/database";

const root = path.resolve(import.meta.dirname, "../..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const running = new Set<ChildProcess>();
let dataDir: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

interface Portal {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function startPortal(env: Record<string, string>): Promise<Portal> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "./server/stop-early.mjs", "--import", "tsx", "server/main.ts"], {
    cwd: root,
    env: { ...withoutVitest(process.env), NODE_ENV: "production", PORT: String(port), HOST: "127.0.0.1", C981_SHUTDOWN_GRACE_SECONDS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // As `npm start` runs it: through the tsx binary, a SIGTERM the busy server does not acknowledge
    // within 30 ms makes tsx SIGKILL it and exit 143 (seen under load). Its own process group, so
    // a failed test can kill the server and what it started.
    detached: true,
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => (running.delete(child), resolve(code))));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`portal exited (${child.exitCode}):\n${output}`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (health?.ok) break;
    if (Date.now() > deadline) throw new Error(`portal not healthy after 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, port, output: () => output, exited };
}

async function stop(portal: Portal): Promise<number | null> {
  portal.child.kill("SIGTERM");
  return portal.exited;
}

async function postmasterPid(): Promise<number | undefined> {
  const text = await fs.readFile(path.join(dataDir, "pg", "postmaster.pid"), "utf8").catch(() => undefined);
  return text ? Number(text.split("\n")[0]) : undefined;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  buildIfNeeded(root, () => {});
  dataDir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "c981-portal-")), "data");
  await fs.chmod(path.dirname(dataDir), 0o755);
}, 180_000);

afterAll(async () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
  if (dataDir) await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
});

describe("the portal process on the embedded database", () => {
  it("starts with the demo plant, shares its server with a second process, keeps data over a restart, and stops its server", async () => {
    const first = await startPortal({ C981_DATA_DIR: dataDir });
    expect(first.output()).toMatch(/started embedded PostgreSQL/);
    const health = await (await fetch(`http://127.0.0.1:${first.port}/healthz`)).json();
    expect(health).toMatchObject({ status: "ok", database: "ok" });
    const seededAt = health.dataPoint as number;
    expect(seededAt).toBeGreaterThan(0);
    const signInPage = await fetch(`http://127.0.0.1:${first.port}/sign-in`);
    expect(signInPage.status).toBe(200);
    expect(signInPage.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await signInPage.text()).toContain("Sign in to C-981");
    // The JWKS serves the key the demo plant's rule sets are signed with (no private part).
    const jwks = (await (await fetch(`http://127.0.0.1:${first.port}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    // A signed-out visitor is sent to sign in.
    const home = await fetch(`http://127.0.0.1:${first.port}/`, { redirect: "manual" });
    expect(home.status).toBe(302);
    expect(home.headers.get("location")).toBe("/sign-in");

    // A second portal and the CLI use the running server.
    const second = await startPortal({ C981_DATA_DIR: dataDir });
    expect(second.output()).toMatch(/using the running embedded PostgreSQL/);
    const cli = spawnSync(tsx, ["scripts/c981.ts", "audit:verify"], {
      cwd: root,
      env: { ...withoutVitest(process.env), C981_DATA_DIR: dataDir },
      encoding: "utf8",
    });
    expect(cli.stdout).toMatch(new RegExp(`audit trail intact: ${seededAt} rows verified`));
    expect(cli.status).toBe(0);
    expect(await stop(second), second.output()).toBe(0);
    expect((await fetch(`http://127.0.0.1:${first.port}/healthz`)).status).toBe(200);

    const pid = await postmasterPid();
    expect(pid && alive(pid)).toBe(true);
    expect(await stop(first), first.output()).toBe(0);
    expect(first.output()).toMatch(/stopped/);
    expect(alive(pid!)).toBe(false);

    const again = await startPortal({ C981_DATA_DIR: dataDir });
    const after = await (await fetch(`http://127.0.0.1:${again.port}/healthz`)).json();
    expect(after.dataPoint).toBe(seededAt); // same data, not seeded twice
    expect(again.output()).not.toMatch(/loaded the demo plant/);
    expect(await stop(again), again.output()).toBe(0);
  }, 240_000);
});

describe("the portal process on DATABASE_URL", () => {
  it("two portals starting at once on an empty database migrate and seed it once", async () => {
    const name = `c981_t_${inject("runId")}_portal`;
    const admin = postgres(inject("adminUrl"), { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    try {
      const url = withDatabase(inject("adminUrl"), name);
      const keysDir = path.join(path.dirname(dataDir), "keys");
      const [a, b] = await Promise.all([
        startPortal({ DATABASE_URL: url, C981_SIGNING_KEYS_DIR: keysDir }),
        startPortal({ DATABASE_URL: url, C981_SIGNING_KEYS_DIR: keysDir }),
      ]);
      const seeded = [a, b].filter((p) => /loaded the demo plant/.test(p.output()));
      expect(seeded).toHaveLength(1);
      const db = postgres(url, { max: 1, onnotice: () => {} });
      const [row] = await db`select (select count(*)::int from sites) as sites,
        (select count(*)::int from audit_trail where action = 'seed.demo_plant') as seeds`;
      await db.end();
      expect(row).toEqual({ sites: 3, seeds: 1 });
      expect(await stop(a), a.output()).toBe(0);
      expect(await stop(b), b.output()).toBe(0);
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 240_000);
});
