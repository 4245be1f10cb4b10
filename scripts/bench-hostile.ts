/**
 * npm run bench:hostile [-- --gib 1] [--keep] [--no-cli]
 *
 * Hostile EPCIS documents against the reader's limits (ADR 016). Generates, in a temporary folder,
 * documents of `--gib` GiB (default 1) of four kinds — one huge string, deep nesting, a huge
 * valid-looking eventList with one bad byte at its very end, a wide object — and reads each in a
 * child process three ways:
 * - `scan`: the import's first pass (`digestAndScan`: SHA-256 of every byte and the byte-level
 *   check), which refuses a hostile document before anything is parsed or written;
 * - `reader`: the stream reader (`streamEpcisDocument`: the check, then the tokenizer), which stops
 *   at the refusal;
 * - `baseline`: a bare `fs.createReadStream` loop over the same file (16 KiB pieces).
 * For each: the time to the refusal (measured inside the child, without its start-up), the peak
 * RSS of the child (`/usr/bin/time -v`, else /proc VmHWM sampled) and the refusal.
 * Then `cli`: the real CLI (`c981 import:epcis FILE --site EIN`, exit code 65 expected) against an
 * embedded PostgreSQL started here (its own processes are not counted), timed from the spawn.
 * Target: peak RSS ≤ 256 MB for every kind and way; the last line says PASS or FAIL (exit code 2 on
 * FAIL). Not part of `npm test` (it writes and reads several GiB).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const TARGET_RSS_BYTES = 256 * 1024 * 1024;
const PIECE = 1024 * 1024;

type Mode = "scan" | "reader" | "baseline" | "cli";

async function child(mode: Mode, file: string): Promise<void> {
  const started = performance.now();
  let refusal: string | null = null;
  if (mode === "baseline") {
    let bytes = 0;
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 16 * 1024 })) bytes += (chunk as Buffer).length;
    refusal = `(read ${bytes} bytes)`;
  } else if (mode === "scan") {
    const { digestAndScan, fileSource } = await import("../app/services/epcis-stream.server");
    const outcome = await digestAndScan(fileSource(file));
    refusal = outcome.refusal?.message ?? null;
  } else {
    const { streamEpcisDocument, fileSource } = await import("../app/services/epcis-stream.server");
    const outcome = await streamEpcisDocument(fileSource(file), { onEvents() {} });
    refusal = outcome.syntaxError?.message ?? null;
  }
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - started, refusal })}\n`);
}

/** Writes `head`, then `fill` repeated (and spaces) to make the file `size` bytes with `tail`, then `tail`. */
function writeDocument(file: string, size: number, head: string, fill: Buffer, tail: Buffer | string): void {
  const fd = fs.openSync(file, "w");
  try {
    const headBytes = Buffer.from(head);
    const tailBytes = Buffer.isBuffer(tail) ? tail : Buffer.from(tail);
    fs.writeSync(fd, headBytes);
    let left = size - headBytes.length - tailBytes.length;
    const block = Buffer.alloc(PIECE - (PIECE % fill.length));
    for (let o = 0; o < block.length; o += fill.length) fill.copy(block, o);
    while (left >= block.length) {
      fs.writeSync(fd, block);
      left -= block.length;
    }
    // Whole fills only (an event is never cut), then spaces: whitespace fits wherever the fill does.
    const whole = left - (left % fill.length);
    fs.writeSync(fd, block, 0, whole);
    fs.writeSync(fd, Buffer.alloc(left - whole, 0x20));
    fs.writeSync(fd, tailBytes);
  } finally {
    fs.closeSync(fd);
  }
}

const HEAD = '{"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[';

function generate(dir: string, size: number): { kind: string; file: string }[] {
  const files: { kind: string; file: string }[] = [];
  const add = (kind: string, name: string, write: (file: string) => void) => {
    const file = path.join(dir, name);
    write(file);
    files.push({ kind, file });
  };
  add("one huge string", "string.json", (file) =>
    writeDocument(file, size, `${HEAD}{"type":"ObjectEvent","ilmd":{"example:blob":"`, Buffer.from("abcdefghij"), '"}}]}}'),
  );
  add("deep nesting", "deep.json", (file) => writeDocument(file, size, `${HEAD}{"type":"ObjectEvent","ilmd":{"example:deep":`, Buffer.from("["), ""));
  // Events are 16-byte aligned pieces of one block; the last one's note holds a byte that is never UTF-8.
  const event = (n: number) =>
    `{"type":"ObjectEvent","eventTime":"2025-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:4012345.011111.${String(n).padStart(6, "0")}"]},`;
  add("eventList, one bad byte at the end", "events.json", (file) =>
    writeDocument(
      file,
      size,
      HEAD,
      Buffer.from(Array.from({ length: 100 }, (_, n) => event(n)).join("")),
      Buffer.concat([Buffer.from('{"type":"ObjectEvent","ilmd":{"example:note":"'), Buffer.from([0xff]), Buffer.from('"}}]}}')]),
    ),
  );
  // Distinct member names (m000000…): the member limit refuses it, not the duplicate check.
  add("wide object", "wide.json", (file) => {
    const names = Buffer.from(Array.from({ length: 20_000 }, (_, n) => `"m${String(n).padStart(6, "0")}":0,`).join(""));
    writeDocument(file, size, '{"type":"EPCISDocument","example:wide":{', names, '"end":0}}');
  });
  return files;
}

async function measure(
  mode: Mode,
  file: string,
  cliEnv?: NodeJS.ProcessEnv,
): Promise<{ ms: number; refusal: string | null; peakRssBytes: number; wallMs: number }> {
  const useTime = fs.existsSync("/usr/bin/time");
  const args =
    mode === "cli"
      ? ["--import", "tsx", path.join(import.meta.dirname, "c981.ts"), "import:epcis", file, "--site", "EIN"]
      : ["--import", "tsx", path.join(import.meta.dirname, "bench-hostile.ts"), "--child", mode, file];
  const started = performance.now();
  const options = { env: cliEnv ?? process.env };
  const proc = useTime ? spawn("/usr/bin/time", ["-v", process.execPath, ...args], options) : spawn(process.execPath, args, options);
  let stdout = "";
  let stderr = "";
  let sampled = 0;
  proc.stdout.on("data", (d: Buffer) => (stdout += d));
  proc.stderr.on("data", (d: Buffer) => (stderr += d));
  const sampler = setInterval(() => {
    // Without /usr/bin/time: the child's own high-water mark while it runs.
    try {
      const status = fs.readFileSync(`/proc/${proc.pid}/status`, "utf8");
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      sampled = Math.max(sampled, kb * 1024);
    } catch {
      // exited
    }
  }, 50);
  const code = await new Promise<number>((resolve) => proc.on("close", (c) => resolve(c ?? 1)));
  clearInterval(sampler);
  const wallMs = performance.now() - started;
  const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const peakRssBytes = fromTime ? Number(fromTime[1]) * 1024 : sampled;
  if (mode === "cli") {
    // A refusal is exit 65 with "REFUSED …" and the located error on stderr.
    if (code !== 65) throw new Error(`the CLI exited ${code} on ${file}, not 65: ${stderr.slice(-2000)}`);
    const located = stderr.split("\n").find((line) => line.startsWith("  event ")) ?? "";
    return { ms: wallMs, refusal: `exit 65: ${located.trim()}`, peakRssBytes, wallMs };
  }
  if (code !== 0) throw new Error(`child ${mode} ${file} exited ${code}: ${stderr.slice(-2000)}`);
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { ms: number; refusal: string | null };
  return { ...result, peakRssBytes, wallMs };
}

/** An embedded PostgreSQL with the schema and the site EIN, and the environment the CLI needs to use it. */
async function startDatabase(dir: string): Promise<{ env: NodeJS.ProcessEnv; close: () => Promise<void> }> {
  const { openEmbeddedPostgres } = await import("../app/utils/embedded-postgres.server");
  const { connect } = await import("../app/utils/db.server");
  const { prepareDatabase } = await import("../server/prepare-database");
  const dataDir = path.join(dir, "data");
  fs.mkdirSync(dataDir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const embedded = await openEmbeddedPostgres(dataDir);
  const database = connect(embedded.url, { max: 2, embedded });
  const keys = path.join(dir, "keys");
  await prepareDatabase(database, { seed: "none", keysDir: keys });
  await database.client`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam')`;
  return {
    env: { ...process.env, DATABASE_URL: embedded.appUrl, C981_MIGRATE_URL: embedded.url, C981_SIGNING_KEYS_DIR: keys },
    close: () => database.close(),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      gib: { type: "string", default: "1" },
      keep: { type: "boolean", default: false },
      "no-cli": { type: "boolean", default: false },
      child: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.child) {
    await child(values.child as Mode, process.argv.at(-1)!);
    return 0;
  }
  const size = Math.round(Number(values.gib) * 1024 ** 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-bench-hostile-"));
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  let worst = 0;
  try {
    console.log(`generating 4 documents of ${mb(size)} in ${dir} …`);
    const t = performance.now();
    const files = generate(dir, size);
    console.log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}\n`);
    const cli = values["no-cli"] ? null : await startDatabase(dir);
    console.log(`${"document".padEnd(36)}${"mode".padEnd(10)}${"time".padStart(10)}${"MB/s".padStart(8)}${"peak RSS".padStart(10)}  refusal`);
    for (const { kind, file } of files) {
      for (const mode of cli ? (["baseline", "scan", "reader", "cli"] as const) : (["baseline", "scan", "reader"] as const)) {
        const r = await measure(mode, file, mode === "cli" ? cli!.env : undefined);
        if (mode !== "baseline") worst = Math.max(worst, r.peakRssBytes);
        const rate = mode === "reader" || mode === "cli" ? "" : (size / 1024 / 1024 / (r.ms / 1000)).toFixed(0);
        console.log(
          `${kind.padEnd(36)}${mode.padEnd(10)}${`${(r.ms / 1000).toFixed(2)} s`.padStart(10)}${rate.padStart(8)}${mb(r.peakRssBytes).padStart(10)}  ${(r.refusal ?? "ACCEPTED").slice(0, 110)}`,
        );
      }
    }
    await cli?.close();
  } finally {
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  const pass = worst <= TARGET_RSS_BYTES;
  console.log(`\n${pass ? "PASS" : "FAIL"}: worst peak RSS of the checking reads ${mb(worst)} (target ≤ ${mb(TARGET_RSS_BYTES)})`);
  return pass ? 0 : 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
