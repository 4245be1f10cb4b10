import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** Newest modification time under the given paths (files or folders). */
function newest(paths: string[]): number {
  let latest = 0;
  const visit = (p: string) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    else latest = Math.max(latest, stat.mtimeMs);
  };
  paths.forEach(visit);
  return latest;
}

export function withoutVitest(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith("VITEST"))) as NodeJS.ProcessEnv;
}

/**
 * `npm start` serves the production build; it (re)builds first when there is none or when the
 * sources are newer than it, so a fresh clone starts with one command.
 */
export function buildIfNeeded(root: string, log: (line: string) => void): string {
  const serverBuild = path.join(root, "build", "server", "index.js");
  const built = fs.statSync(serverBuild, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = newest(["app", "db", "policies", "vite.config.ts", "package.json"].map((p) => path.join(root, p)));
  if (built > sources) return serverBuild;
  log(built ? "C-981: sources changed since the last build; building…" : "C-981: no production build yet; building…");
  const result = spawnSync(path.join(root, "node_modules", ".bin", "remix"), ["vite:build"], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    // A build started from a test run must not see VITEST: vite.config.ts drops the Remix plugin then.
    env: { ...withoutVitest(process.env), NODE_ENV: "production" },
  });
  if (result.status !== 0) throw new Error(`C-981: the build failed (exit ${result.status ?? result.signal}); see its output above.`);
  return serverBuild;
}
