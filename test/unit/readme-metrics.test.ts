/**
 * README "Operating C-981" lists exactly the metrics the portal defines (app/utils/metrics.server.ts)
 * and every `where` a database error is counted under: an operator's alert rules are written from it.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { metrics } from "../../app/utils/metrics.server";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Metrics (Prometheus)"), readme.indexOf("### Logs"));
/** The table's first cells: every backticked metric name in them. */
const documented = new Set(
  section
    .split("\n")
    .filter((line) => line.startsWith("| `c981_"))
    .flatMap((line) => [...line.split("|")[1]!.matchAll(/`(c981_[a-z_]+)`/g)].map((m) => m[1]!)),
);
/** prom-client's default metrics (process, Node.js) are named in the prose, not the table. */
const isDefault = (name: string) => /^c981_(process_|nodejs_)/.test(name);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

describe("README's metrics table", () => {
  it("names every metric the portal defines, and none it does not", async () => {
    const defined = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => !isDefault(name));
    expect(defined.length).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual([...defined].sort());
  });

  it("lists every `where` c981_db_errors_total is counted under", () => {
    const row = section.split("\n").find((line) => line.startsWith("| `c981_db_errors_total`"))!;
    const listed = new Set([...(/`where` \(([^)]*)\)/.exec(row)?.[1] ?? "").matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!));
    const counted = new Set(
      [...sources(path.join(root, "app")), ...sources(path.join(root, "server"))].flatMap((file) =>
        [...fs.readFileSync(file, "utf8").matchAll(/dbErrors\.inc\(\{ where: "([a-z-]+)" \}\)/g)].map((m) => m[1]!),
      ),
    );
    expect(counted.size).toBeGreaterThan(2);
    expect([...listed].sort()).toEqual([...counted].sort());
  });
});
