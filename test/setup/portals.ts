/**
 * Portal processes for the fault tests: `node --import tsx server/main.ts` as `npm start` runs it,
 * on a port of the caller's choosing, killed (whole process group) by `killPortals()` in afterAll.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { withoutVitest } from "../../server/build-if-needed";

export const root = path.resolve(import.meta.dirname, "../..");

export interface Portal {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
  exitCode: () => number | null;
}

const running = new Set<ChildProcess>();

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A portal process; `env` adds to (and overrides) a production environment on loopback. */
export async function spawnPortal(env: Record<string, string>, options: { port?: number; label?: string } = {}): Promise<Portal> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ["--import", "./server/stop-early.mjs", "--import", "tsx", "server/main.ts"], {
    cwd: root,
    // No grace on stop unless a test asks for one (C981_SHUTDOWN_GRACE_SECONDS).
    env: { ...withoutVitest(process.env), NODE_ENV: "production", PORT: String(port), HOST: "127.0.0.1", C981_SHUTDOWN_GRACE_SECONDS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  let code: number | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (c, signal) => {
      running.delete(child);
      code = c;
      // A portal that ended on its own, or not with 0, shows why in the test's output.
      if (c !== 0) process.stdout.write(`${options.label ?? "portal"}: portal on ${port} ended with ${c ?? signal}:\n${output.slice(-3000)}\n`);
      resolve(c);
    }),
  );
  return { child, base: `http://127.0.0.1:${port}`, output: () => output, exited, exitCode: () => code };
}

export async function ready(portal: Portal, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (portal.exitCode() !== null) throw new Error(`portal exited (${portal.exitCode()}):\n${portal.output()}`);
    const answer = await fetch(`${portal.base}/readyz`).catch(() => undefined);
    if (answer?.ok) return;
    if (Date.now() > deadline) throw new Error(`portal not ready after ${timeoutMs / 1000} s:\n${portal.output()}`);
    await sleep(200);
  }
}

/** afterAll: every portal still running, with its process group. */
export function killPortals(): void {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
}

/** A port in [from, to] nobody listens on now (the shared machine gives tests 39900–39999). */
export async function portInRange(from: number, to: number, except: number[] = []): Promise<number> {
  const start = from + Math.floor(Math.random() * (to - from + 1));
  for (let i = 0; i <= to - from; i++) {
    const port = from + ((start - from + i) % (to - from + 1));
    if (except.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}–${to}`);
}
