/**
 * What a crash leaves behind (ADR 017): after `kill -9` of the portal, the next start
 * stops the embedded PostgreSQL it left running and starts its own (which SIGTERM then stops), and
 * upload folders a crashed process left in the temporary folder are removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIfNeeded, withoutVitest } from "../../server/build-if-needed";

const root = path.resolve(import.meta.dirname, "../..");
const running = new Set<ChildProcess>();
let scratch: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function startPortal() {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "./server/stop-early.mjs", "--import", "tsx", "server/main.ts"], {
    cwd: root,
    env: {
      ...withoutVitest(process.env),
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      C981_SHUTDOWN_GRACE_SECONDS: "0",
      C981_DATA_DIR: path.join(scratch, "data"),
      C981_SEED: "none",
      TMPDIR: path.join(scratch, "tmp"),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => (running.delete(child), resolve(code))));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`portal exited (${child.exitCode}):\n${output}`);
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok) break;
    if (Date.now() > deadline) throw new Error(`portal not ready after 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => output, exited };
}

async function postmasterPid(): Promise<number> {
  return Number((await fs.readFile(path.join(scratch, "data", "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is not alive.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

beforeAll(async () => {
  buildIfNeeded(root, () => {});
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "c981-orphans-"));
  await fs.chmod(scratch, 0o755);
  await fs.mkdir(path.join(scratch, "tmp"));
}, 180_000);

afterAll(async () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
  const pid = await postmasterPid().catch(() => 0);
  if (pid && alive(pid)) process.kill(pid, "SIGKILL");
  if (scratch) await fs.rm(scratch, { recursive: true, force: true });
});

describe("after a crash", () => {
  it("the next start stops the orphaned embedded server and starts its own; SIGTERM stops everything", async () => {
    // A crashed upload's folder, two hours old, and a fresh one (maybe another portal's upload).
    const stale = path.join(scratch, "tmp", "c981-epcis-upload-crashed");
    const fresh = path.join(scratch, "tmp", "c981-epcis-upload-current");
    await fs.mkdir(stale);
    await fs.mkdir(fresh);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(stale, twoHoursAgo, twoHoursAgo);

    const first = await startPortal();
    expect(first.output()).toMatch(/removed 1 stale EPCIS upload folder/);
    expect(
      await fs.access(stale).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
    expect(
      await fs.access(fresh).then(
        () => true,
        () => false,
      ),
    ).toBe(true);
    const orphan = await postmasterPid();
    process.kill(first.child.pid!, "SIGKILL");
    await first.exited;
    expect(alive(orphan)).toBe(true); // left behind

    const second = await startPortal();
    expect(second.output()).toMatch(new RegExp(`stopping the embedded PostgreSQL \\(pid ${orphan}\\) left running`));
    expect(second.output()).toMatch(/started embedded PostgreSQL/);
    expect(alive(orphan)).toBe(false);
    const own = await postmasterPid();
    expect(own).not.toBe(orphan);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(alive(own)).toBe(false);
  }, 180_000);
});
