/**
 * npm run bench:import-erp [-- --data-dir DIR] [--rows N]
 *
 * The ERP/PLM CSV half (ADR 015): generates an ERP material-master snapshot of 100,000 rows,
 * imports it through the real import path (streamed csv-parse, zod per row, one transaction:
 * staging, snapshot history, the current view replaced, audit) and, in the same run on the same
 * database, COPYs the same file into a bare table — then prints rows/s of each, the ratio and the
 * peak RSS of this process during each. Target: at least 50,000 rows/s for the import.
 *
 * `benchImportErp(database)` is exported for `npm run bench:import` (which also loads EPCIS).
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { importExternalSnapshot } from "../app/services/external-import.server";
import { openDatabase, type Database } from "../app/utils/db.server";
import { readEnv } from "../app/utils/env.server";
import { prepareDatabase } from "../server/prepare-database";

export interface ErpBenchFigures {
  rows: number;
  fileBytes: number;
  import: { ms: number; rowsPerSecond: number; peakRssBytes: number; startRssBytes: number };
  copy: { ms: number; rowsPerSecond: number; peakRssBytes: number; startRssBytes: number };
  /** Import time / bare COPY time. */
  ratio: number;
  targetRowsPerSecond: number;
  met: boolean;
}

const TRACKING = ["serial", "batch", "untracked"] as const;

/** Writes an ERP snapshot CSV of `rows` rows: mostly part numbers C-981 does not know, at the plant's sites. */
export async function writeErpCsv(file: string, rows: number, sites: readonly string[], knownParts: readonly string[] = []): Promise<void> {
  async function* lines() {
    yield "part_number,tracking,site\n";
    let chunk = "";
    for (let i = 0; i < rows; i++) {
      const site = sites[i % sites.length] ?? "";
      // Each part number once per site: the first rows use the plant's own materials.
      const part = i < knownParts.length * sites.length ? knownParts[Math.floor(i / sites.length)]! : `BENCH-${String(i).padStart(7, "0")}`;
      chunk += `${part},${TRACKING[i % 3]},${site}\n`;
      if (chunk.length > 64 * 1024) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(lines, createWriteStream(file));
}

/** Peak RSS while `fn` runs (sampled every 10 ms, and at the end). */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; peakRssBytes: number; startRssBytes: number }> {
  const startRssBytes = process.memoryUsage().rss;
  let peak = startRssBytes;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, ms, peakRssBytes: peak, startRssBytes };
  } finally {
    clearInterval(sampler);
  }
}

export async function benchImportErp(
  database: Database,
  options: {
    rows?: number;
    log?: (line: string) => void;
    /** Called right before and right after the import (e.g. to read CPU clocks). */
    around?: (phase: "before" | "after") => void;
  } = {},
): Promise<ErpBenchFigures> {
  const rows = options.rows ?? 100_000;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(path.join(os.tmpdir(), "c981-bench-erp-"));
  const file = path.join(dir, "erp-snapshot.csv");
  try {
    const sites = (await database.client`select code from sites order by code`).map((r) => r.code as string);
    const parts = (await database.client`select part_number from materials order by part_number`).map((r) => r.part_number as string);
    await writeErpCsv(file, rows, sites, parts);
    const fileBytes = statSync(file).size;
    log(
      `generated ${rows.toLocaleString("en")} ERP rows (${(fileBytes / 1024 / 1024).toFixed(1)} MB) for sites ${sites.join(", ") || "(none: no site column values)"}`,
    );

    global.gc?.();
    options.around?.("before");
    const imported = await measured(() =>
      importExternalSnapshot(database.db, "bench:import-erp", { system: "erp", fileName: "erp-snapshot.csv", source: () => createReadStream(file) }),
    );
    options.around?.("after");
    if (!imported.value.ok) throw new Error(`the generated file was refused: ${JSON.stringify(imported.value.errors.slice(0, 5))}`);
    if (imported.value.rows !== rows) throw new Error(`imported ${imported.value.rows} rows, expected ${rows}`);

    // The floor: the same bytes through COPY into a bare table with the same columns, no checks.
    // The application role may not create tables (ADR 018): the bare table is the owner's.
    const owner = database.ownerUrl ? postgres(database.ownerUrl, { max: 1, onnotice: () => {} }) : null;
    const bare = owner ?? database.client;
    await bare`drop table if exists bench_erp_copy`;
    await bare`create unlogged table bench_erp_copy (part_number text not null, tracking text not null, site text)`;
    global.gc?.();
    const copied = await measured(async () => {
      const writable = await bare`copy bench_erp_copy (part_number, tracking, site) from stdin with (format csv, header true)`.writable();
      await pipeline(createReadStream(file), writable);
    });
    const [{ n }] = (await bare`select count(*)::int as n from bench_erp_copy`) as unknown as [{ n: number }];
    if (n !== rows) throw new Error(`COPY loaded ${n} rows, expected ${rows}`);
    await bare`drop table bench_erp_copy`;
    await owner?.end();

    const rate = (ms: number) => Math.round(rows / (ms / 1000));
    return {
      rows,
      fileBytes,
      import: { ms: imported.ms, rowsPerSecond: rate(imported.ms), peakRssBytes: imported.peakRssBytes, startRssBytes: imported.startRssBytes },
      copy: { ms: copied.ms, rowsPerSecond: rate(copied.ms), peakRssBytes: copied.peakRssBytes, startRssBytes: copied.startRssBytes },
      ratio: imported.ms / copied.ms,
      targetRowsPerSecond: 50_000,
      met: rate(imported.ms) >= 50_000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printErpBench(f: ErpBenchFigures): void {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  console.log(`\nERP snapshot CSV: ${f.rows.toLocaleString("en")} rows, ${(f.fileBytes / 1024 / 1024).toFixed(1)} MB`);
  console.log(`${"".padEnd(44)} ${"ms".padStart(8)} ${"rows/s".padStart(10)} ${"peak RSS".padStart(10)}`);
  console.log(
    `${"C-981 import (parse, zod, snapshot, view)".padEnd(44)} ${f.import.ms.toFixed(0).padStart(8)} ${f.import.rowsPerSecond.toLocaleString("en").padStart(10)} ${mb(f.import.peakRssBytes).padStart(10)}`,
  );
  console.log(
    `${"bare COPY of the same file".padEnd(44)} ${f.copy.ms.toFixed(0).padStart(8)} ${f.copy.rowsPerSecond.toLocaleString("en").padStart(10)} ${mb(f.copy.peakRssBytes).padStart(10)}`,
  );
  console.log(`ratio import / COPY: ${f.ratio.toFixed(1)}x; target ≥ ${f.targetRowsPerSecond.toLocaleString("en")} rows/s: ${f.met ? "met" : "NOT MET"}`);
}

async function main() {
  const { values } = parseArgs({
    options: { "data-dir": { type: "string", default: ".data-bench-import" }, rows: { type: "string", default: "100000" } },
    strict: true,
  });
  const env = readEnv({ ...process.env, C981_DATA_DIR: values["data-dir"] });
  const database = await openDatabase(env, { max: 4 });
  try {
    // The demo plant gives the sites and materials the rows name (loaded once into an empty data dir).
    await prepareDatabase(database, { seed: "demo", keysDir: env.C981_SIGNING_KEYS_DIR });
    const figures = await benchImportErp(database, { rows: Number(values.rows), log: (line) => console.log(line) });
    printErpBench(figures);
    if (!figures.met) process.exitCode = 1;
  } finally {
    await database.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  });
}
