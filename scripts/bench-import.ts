/**
 * npm run bench:import [-- --events 100000] [--keep]
 *
 * Generates an EPCIS 2.0 document of 100,000 events (streamed to a temporary file: serial
 * commissioning, SSCC packing of serials, class-level transformations of lots with quantities in
 * kilograms, transactions), imports it into PostgreSQL through the product's import (schema +
 * semantic checks and the apply, one transaction), and prints events/s and the peak memory of this
 * process. In the same run, the rows that import wrote (trace items, genealogy edges, stored
 * events) are loaded again with a bare COPY into copies of those tables, and the ratio is printed.
 *
 * Then, on the same database, the ERP/PLM CSV half: a generated 100,000-row ERP
 * material-master CSV (the bench's site and materials plus part numbers C-981 does not know) is
 * imported through the product's snapshot import and COPYed into a bare table, and rows/s, the
 * ratio and the peak memory are printed (scripts/bench-import-erp.ts, `benchImportErp`).
 *
 * Each half ends with a PASS/FAIL line against its target (12,000 events/s and at most 2x the bare
 * COPY, issue 27; 50,000 rows/s); the exit
 * code is 2 when a target is missed.
 *
 * Database: DATABASE_URL (a fresh database is created beside it and dropped), else an embedded
 * PostgreSQL in a temporary data dir (removed afterwards). With the embedded server, the CPU time
 * PostgreSQL spent during the import (all its processes, from /proc) is printed next to this
 * process's own, to show which side bounds the import.
 */
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { gs1CheckDigit } from "../packages/identifiers/src/gs1";
import { importEpcisDocument } from "../app/services/epcis-import.server";
import { fileSource } from "../app/services/epcis-stream.server";
import { connect, type Database } from "../app/utils/db.server";
import { openEmbeddedPostgres } from "../app/utils/embedded-postgres.server";
import { prepareDatabase } from "../server/prepare-database";
import { benchImportErp, type ErpBenchFigures } from "./bench-import-erp";

const { values } = parseArgs({
  options: { events: { type: "string", default: "100000" }, rows: { type: "string", default: "100000" }, keep: { type: "boolean", default: false } },
  strict: true,
});
const EVENTS = Number(values.events);
const ERP_ROWS = Number(values.rows);
const TARGET_EVENTS_PER_SECOND = 12_000;
/** Issue 27: the import within 2x of a bare COPY of the same rows, in the same run. */
const TARGET_COPY_RATIO = 2;

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sampleRss, 20);
sampler.unref();
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const COMPANY = "4012345";
const SERIAL_ITEMS = 20;
const LOT_ITEMS = 20;
/** GTIN-14 and URN item reference (indicator 0) for the n-th item of the bench's company prefix. */
const itemRef = (n: number) => `0${String(n).padStart(5, "0")}`;
const gtin = (n: number) => {
  const body = `0${COMPANY}${String(n).padStart(5, "0")}`;
  return body + gs1CheckDigit(body);
};
const sgtin = (item: number, serial: number) => `urn:epc:id:sgtin:${COMPANY}.${itemRef(item)}.${serial}`;
const lgtin = (item: number, lot: string) => `urn:epc:class:lgtin:${COMPANY}.${itemRef(item)}.${lot}`;
const sscc = (n: number) => `urn:epc:id:sscc:${COMPANY}.0${String(n).padStart(9, "0")}`;
const time = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
const base = (i: number) => ({ eventTime: time(i), eventTimeZoneOffset: "+00:00", eventID: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, "0")}` });

/** The i-th generated event: a repeating mix of the five shapes genealogy cares about. */
function eventAt(i: number): object {
  const item = 1 + (i % SERIAL_ITEMS);
  const lotItem = SERIAL_ITEMS + 1 + (i % LOT_ITEMS);
  switch (i % 5) {
    case 0:
    case 1:
      return { type: "ObjectEvent", ...base(i), action: "ADD", bizStep: "commissioning", epcList: [sgtin(item, i), sgtin(item, i + EVENTS)] };
    case 2:
      return {
        type: "AggregationEvent",
        ...base(i),
        action: "ADD",
        bizStep: "packing",
        parentID: sscc(i),
        childEPCs: [sgtin(item, i - 2), sgtin(item, i - 2 + EVENTS)],
      };
    case 3:
      return {
        type: "TransformationEvent",
        ...base(i),
        bizStep: "commissioning",
        inputQuantityList: [{ epcClass: lgtin(lotItem, `L${Math.floor(i / 50)}`), quantity: 12.5, uom: "KGM" }],
        outputQuantityList: [{ epcClass: lgtin(lotItem === SERIAL_ITEMS + LOT_ITEMS ? SERIAL_ITEMS + 1 : lotItem + 1, `P${i}`), quantity: 12, uom: "KGM" }],
      };
    default:
      return {
        type: "TransactionEvent",
        ...base(i),
        action: "OBSERVE",
        bizStep: "shipping",
        bizTransactionList: [{ type: "po", bizTransaction: `urn:epcglobal:cbv:bt:0614141000005:PO${i}` }],
        parentID: sscc(i - 2),
        epcList: [sgtin(item, i - 4)],
      };
  }
}

async function writeDocument(file: string): Promise<number> {
  const out = fs.createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, "drain");
  };
  await write(
    `{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[`,
  );
  for (let i = 0; i < EVENTS; i++) await write((i ? "," : "") + JSON.stringify(eventAt(i)));
  await write("]}}");
  out.end();
  await once(out, "finish");
  return fs.statSync(file).size;
}

/** CPU seconds (user + system) used so far by the embedded server's processes; null when unknown (external server, no /proc). */
function serverCpuSeconds(pgData: string | null): number | null {
  if (!pgData) return null;
  try {
    const postmaster = Number(fs.readFileSync(path.join(pgData, "postmaster.pid"), "utf8").split("\n")[0]);
    const ticks = 100; // USER_HZ on Linux
    let total = 0;
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue;
      }
      // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(entry) !== postmaster && Number(fields[1]) !== postmaster) continue;
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    }
    return total;
  } catch {
    return null;
  }
}

const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function openBenchDatabase(): Promise<{ database: Database; pgData: string | null; cleanup: () => Promise<void> }> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `c981_bench_import_${process.pid}`;
    const admin = postgres(external, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${name}`;
    const database = connect(url.toString(), { max: 4 });
    return {
      database,
      pgData: null,
      async cleanup() {
        await database.close();
        const drop = postgres(external, { max: 1, onnotice: () => {} });
        await drop.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await drop.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-bench-import-"));
  fs.chmodSync(dir, 0o755);
  const embedded = await openEmbeddedPostgres(dir);
  const database = connect(embedded.url, { max: 4, embedded });
  return {
    database,
    pgData: path.join(dir, "pg"),
    async cleanup() {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function seedMasterData(database: Database): Promise<void> {
  const sql = database.client;
  await sql`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam')`;
  const [family] = await sql`insert into material_families (code, name) values ('BEN', 'Bench items') returning id`;
  const materials = Array.from({ length: SERIAL_ITEMS + LOT_ITEMS }, (_, k) => ({
    part_number: `BEN-${1001 + k}`,
    gtin: gtin(k + 1),
    description: k < SERIAL_ITEMS ? "bench serial item" : "bench lot item",
    unit_of_measure: k < SERIAL_ITEMS ? "EA" : "KG",
    risk_class: "medium",
    family_id: family!.id as number,
  }));
  await sql`insert into materials ${sql(materials)}`;
}

const COPIED: { table: string; columns: string[] }[] = [
  {
    table: "trace_items",
    columns: [
      "kind",
      "identifier",
      "material_id",
      "site_id",
      "quantity",
      "unit",
      "status",
      "created_at",
      "provenance_kind",
      "provenance_file_digest",
      "provenance_event_id",
    ],
  },
  {
    table: "genealogy_edges",
    columns: [
      "event_ref",
      "kind",
      "input_item_id",
      "output_item_id",
      "quantity",
      "unit",
      "site_id",
      "occurred_at",
      "provenance_kind",
      "provenance_file_digest",
      "provenance_event_id",
    ],
  },
  {
    table: "epcis_events",
    columns: [
      "event_key",
      "from_event_id",
      "type",
      "event_time",
      "content_hash",
      "file_digest",
      "event_index",
      "site_id",
      "status",
      "unknown_gtins",
      "body",
      "imported_at",
      "applied_at",
    ],
  },
];

/**
 * The same rows, loaded with a bare COPY into copies of the tables (same identity, checks and indexes; no triggers). The
 * rows are first written to a file by the server (not timed), then read back with `COPY … FROM`
 * the file: PostgreSQL's fastest path, with no client in between.
 */
async function bareCopy(database: Database, pgData: string | null): Promise<{ ms: number; rows: number; serverCpu: number | null }> {
  const sql = database.client;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-bench-copy-"));
  fs.chmodSync(dir, 0o777);
  const files: string[] = [];
  let rows = 0;
  for (const { table, columns } of COPIED) {
    await sql.unsafe(`create table bench_${table} (like ${table} including all)`);
    const file = path.join(dir, `${table}.copy`);
    await sql.unsafe(`copy (select ${columns.join(", ")} from ${table}) to '${file}'`);
    files.push(file);
    const [count] = await sql.unsafe(`select count(*)::int as n from ${table}`);
    rows += count!.n as number;
  }
  const cpuBefore = serverCpuSeconds(pgData);
  const started = performance.now();
  for (const [i, { table, columns }] of COPIED.entries()) {
    await sql.unsafe(`copy bench_${table} (${columns.join(", ")}) from '${files[i]}'`);
  }
  const ms = performance.now() - started;
  const cpuAfter = serverCpuSeconds(pgData);
  fs.rmSync(dir, { recursive: true, force: true });
  return { ms, rows, serverCpu: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null };
}

/** The ERP CSV half, on the bench database (its site and materials; the rest of the part numbers unknown to C-981). */
async function benchErpCsv(database: Database, pgData: string | null): Promise<ErpBenchFigures & { cpu: { own: number; server: number | null } }> {
  // The EPCIS half's samples must not count as the CSV half's peak: it measures its own.
  const clocks: Record<string, { own: number; server: number | null }> = {};
  const figures = await benchImportErp(database, {
    rows: ERP_ROWS,
    log: (line) => console.log(`\n${line}`),
    around: (phase) => (clocks[phase] = { own: ownCpuSeconds(), server: serverCpuSeconds(pgData) }),
  });
  const { before, after } = clocks as { before: { own: number; server: number | null }; after: { own: number; server: number | null } };
  return { ...figures, cpu: { own: after.own - before.own, server: before.server !== null && after.server !== null ? after.server - before.server : null } };
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

async function main(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-bench-epcis-"));
  const file = path.join(dir, "bench-epcis.json");
  let t = performance.now();
  const bytes = await writeDocument(file);
  console.log(`generated ${EVENTS.toLocaleString("en")} EPCIS events (${mb(bytes)}) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${file}`);
  const { database, pgData, cleanup } = await openBenchDatabase();
  try {
    await prepareDatabase(database, { seed: "none" });
    await seedMasterData(database);
    sampleRss();
    const rssBefore = peakRss;
    const cpuBefore = { own: ownCpuSeconds(), server: serverCpuSeconds(pgData) };
    t = performance.now();
    const result = await importEpcisDocument(database.db, "bench", { fileName: "bench-epcis.json", siteCode: "EIN", source: fileSource(file) });
    const importMs = performance.now() - t;
    const cpuAfter = { own: ownCpuSeconds(), server: serverCpuSeconds(pgData) };
    sampleRss();
    const epcisPeak = peakRss;
    if (!result.ok) {
      console.error(`the generated document was refused: ${result.errorCount} errors, first: ${JSON.stringify(result.errors.slice(0, 5), null, 2)}`);
      return 1;
    }
    const copy = await bareCopy(database, pgData);
    const eventsPerSecond = rate(EVENTS, importMs);
    const epcisMet = eventsPerSecond >= TARGET_EVENTS_PER_SECOND && importMs / copy.ms <= TARGET_COPY_RATIO;
    const serverCpu = cpuBefore.server !== null && cpuAfter.server !== null ? cpuAfter.server - cpuBefore.server : null;
    console.log(`\nEPCIS import (one streamed pass: check + apply in one transaction, through the product's service)`);
    console.log(
      `  events          ${EVENTS.toLocaleString("en")} (applied ${result.applied.toLocaleString("en")}, items ${result.itemsCreated.toLocaleString("en")}, edges ${result.edgesCreated.toLocaleString("en")})`,
    );
    console.log(`  time            ${(importMs / 1000).toFixed(2)} s`);
    console.log(`  events/s        ${eventsPerSecond.toLocaleString("en")}`);
    console.log(`  bare COPY       ${copy.rows.toLocaleString("en")} rows (the same items, edges and stored events) in ${(copy.ms / 1000).toFixed(2)} s`);
    console.log(`  ratio           import takes ${(importMs / copy.ms).toFixed(1)}x the bare COPY`);
    if (serverCpu !== null && copy.serverCpu !== null) {
      // On a shared machine wall times follow the load; CPU seconds much less so.
      const importCpu = cpuAfter.own - cpuBefore.own + serverCpu;
      console.log(
        `  CPU ratio       import ${importCpu.toFixed(1)} s of CPU (both processes) = ${(importCpu / copy.serverCpu).toFixed(1)}x the bare COPY's ${copy.serverCpu.toFixed(1)} s; PostgreSQL alone ${(serverCpu / copy.serverCpu).toFixed(1)}x`,
      );
    }
    console.log(
      `  load average    ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(", ")} on ${os.cpus().length} cores`,
    );
    console.log(`  peak RSS        ${mb(epcisPeak)} (before import ${mb(rssBefore)}; document ${mb(bytes)})`);
    console.log(
      `  CPU             this process ${(cpuAfter.own - cpuBefore.own).toFixed(1)} s, PostgreSQL ${serverCpu === null ? "unknown (external server)" : `${serverCpu.toFixed(1)} s`}, in ${(importMs / 1000).toFixed(1)} s of wall time`,
    );

    const csv = await benchErpCsv(database, pgData);
    console.log(`\nERP snapshot CSV import (streamed parse + checks, snapshot history, current view replaced; one transaction, through the product's service)`);
    console.log(`  rows            ${csv.rows.toLocaleString("en")} (${(csv.fileBytes / 1024 / 1024).toFixed(1)} MB)`);
    console.log(`  time            ${(csv.import.ms / 1000).toFixed(2)} s`);
    console.log(`  rows/s          ${csv.import.rowsPerSecond.toLocaleString("en")}`);
    console.log(
      `  bare COPY       the same file into a bare table in ${(csv.copy.ms / 1000).toFixed(3)} s (${csv.copy.rowsPerSecond.toLocaleString("en")} rows/s)`,
    );
    console.log(`  ratio           import takes ${csv.ratio.toFixed(1)}x the bare COPY`);
    console.log(
      `  peak RSS        ${mb(csv.import.peakRssBytes)} (${mb(csv.import.startRssBytes)} when it started, after the EPCIS half; +${mb(Math.max(0, csv.import.peakRssBytes - csv.import.startRssBytes))})`,
    );
    console.log(
      `  CPU             this process ${csv.cpu.own.toFixed(2)} s, PostgreSQL ${csv.cpu.server === null ? "unknown (external server)" : `${csv.cpu.server.toFixed(2)} s`}, in ${(csv.import.ms / 1000).toFixed(2)} s of wall time`,
    );

    console.log(
      `\n${verdict(epcisMet)}  EPCIS ${eventsPerSecond.toLocaleString("en")} events/s (target ≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString("en")}); ${(importMs / copy.ms).toFixed(1)}x the bare COPY (target ≤ ${TARGET_COPY_RATIO}x); peak RSS ${mb(epcisPeak)}`,
    );
    console.log(
      `${verdict(csv.met)}  ERP CSV ${csv.import.rowsPerSecond.toLocaleString("en")} rows/s (target ≥ ${csv.targetRowsPerSecond.toLocaleString("en")}); ${csv.ratio.toFixed(1)}x the bare COPY; peak RSS ${mb(csv.import.peakRssBytes)}`,
    );
    console.log(`  process maxRSS  ${mb(process.resourceUsage().maxRSS * 1024)} over the whole run`);
    return epcisMet && csv.met ? 0 : 2;
  } finally {
    await cleanup();
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
