#!/usr/bin/env -S npx tsx
/**
 * npm run runtime-client -- --url URL --site SITE --token TOKEN --trust THUMBPRINT[,…] --state-dir DIR
 *                           [--on-expiry keep|stop] [--max-bytes N] [--wait-seconds N] [--schema-version 1|2] [--once]
 *
 * Prints one JSON line per event on stdout. The rule set in service is DIR/ruleset.json.
 * The token may come from C981_RUNTIME_TOKEN instead of the command line (kept out of `ps`).
 * --once: one round, a last `status` line, then exit 3 when the portal refuses this token this site
 * (`forbidden`: 401, 403, or a site outside the token's scope), else 0 when a rule set is in
 * service, 1 otherwise.
 *
 * Scan decisions, offline, with the last verified rule set in DIR (schema version 2; ADR 042):
 *   runtime-client scan --site SITE --trust T --state-dir DIR (--step N | --work-centre WC) --material M [--parent P] [--symbology ]C1] "<string>"
 *     one decision as JSON on stdout; exit 0 accept / not-required, 4 refuse / ambiguous, 2 unusable request or no scan data.
 *   runtime-client scan --lines --site SITE --trust T --state-dir DIR
 *     one JSON request a line on stdin ({"parent","step"|"workCentre","expected","scanned","symbologyId"?,"id"?}),
 *     one JSON decision a line on stdout; a bad line answers {"error":{"field","message"}} and the loop goes on.
 *   runtime-client report --url URL --site SITE --token TOKEN --trust T --state-dir DIR
 *     sends the decisions kept on disk (batches with a fixed id; exit 0 when none is left, 1 otherwise).
 * --scan-log-dir DIR2, --scan-log-max-bytes N, --report-raw-refusals: where the decision log goes, its rotation, raw strings in reports.
 */
import readline from "node:readline";
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { RuntimeClient, type OnExpiry } from "./client";
import { ScanUnavailable, type ScanRequest } from "./scan";

function fail(message: string): never {
  process.stderr.write(`runtime-client: ${message}\n`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    lines: { type: "boolean", default: false },
    step: { type: "string" },
    "work-centre": { type: "string" },
    material: { type: "string" },
    parent: { type: "string" },
    symbology: { type: "string" },
    "scan-log-dir": { type: "string" },
    "scan-log-max-bytes": { type: "string" },
    "report-raw-refusals": { type: "boolean", default: false },
    url: { type: "string" },
    site: { type: "string" },
    token: { type: "string" },
    trust: { type: "string", multiple: true },
    "state-dir": { type: "string" },
    "on-expiry": { type: "string", default: "keep" },
    "max-bytes": { type: "string" },
    "wait-seconds": { type: "string", default: "30" },
    // ADR 039: 2 (default) asks for rule ids and routing; 1 pulls and accepts schema version 1 only.
    "schema-version": { type: "string", default: "2" },
    once: { type: "boolean", default: false },
  },
  strict: true,
});

const command = positionals[0] === "scan" || positionals[0] === "report" ? positionals[0] : null;
if (positionals.length > 0 && command === null) fail(`unknown command ${positionals[0]} (scan, report, or none to run)`);
// Scanning is offline: no portal address or token needed (nothing is sent).
const offline = command === "scan";
const url = values.url ?? (offline ? "http://offline.invalid" : fail("--url is required (the portal's address)"));
if (!/^https?:\/\//.test(url)) fail("--url must be an http(s) address");
const site = values.site?.toUpperCase() ?? fail("--site is required");
const token = values.token ?? process.env.C981_RUNTIME_TOKEN ?? (offline ? "offline" : fail("--token (or C981_RUNTIME_TOKEN) is required"));
const trust = (values.trust ?? [])
  .flatMap((t) => t.split(","))
  .map((t) => t.trim())
  .filter(Boolean);
if (trust.length === 0) fail("--trust is required: the RFC 7638 thumbprint(s) of the signing key(s) to trust");
for (const t of trust) if (!/^[A-Za-z0-9_-]{43}$/.test(t)) fail(`--trust ${t} is not an RFC 7638 SHA-256 thumbprint (43 base64url characters)`);
const stateDir = values["state-dir"] ?? fail("--state-dir is required");
const onExpiry = values["on-expiry"];
if (onExpiry !== "keep" && onExpiry !== "stop") fail("--on-expiry must be keep or stop");
const maxBytes = values["max-bytes"] === undefined ? undefined : Number(values["max-bytes"]);
if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) fail("--max-bytes must be a positive integer");
const waitSeconds = Number(values["wait-seconds"]);
if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 60) fail("--wait-seconds must be an integer from 0 to 60");
const schemaVersion = values["schema-version"] === "1" ? 1 : values["schema-version"] === "2" ? 2 : fail("--schema-version must be 1 or 2");
const scanLogMaxBytes = values["scan-log-max-bytes"] === undefined ? undefined : Number(values["scan-log-max-bytes"]);
if (scanLogMaxBytes !== undefined && !(Number.isInteger(scanLogMaxBytes) && scanLogMaxBytes > 0)) fail("--scan-log-max-bytes must be a positive integer");

const client = await RuntimeClient.open({
  url,
  site,
  token,
  trust,
  stateDir,
  onExpiry: onExpiry as OnExpiry,
  maxBytes,
  waitSeconds,
  schemaVersion,
  scans: { dir: values["scan-log-dir"], maxLogBytes: scanLogMaxBytes, rawRefusals: values["report-raw-refusals"] },
  // Scanning: stdout carries only the decisions; the client's events go to stderr.
  onEvent: (event) => (command === "scan" ? process.stderr : process.stdout).write(`${JSON.stringify({ at: new Date().toISOString(), site, ...event })}\n`),
});

/** A request's answer, or the error naming the field (a station reads one JSON value a line). */
function answer(client: RuntimeClient, request: unknown): { line: string; refused: boolean | null } {
  const id = typeof request === "object" && request !== null && "id" in request ? (request as { id: unknown }).id : undefined;
  const withId = (o: object) => JSON.stringify(id === undefined || (typeof id !== "string" && typeof id !== "number") ? o : { id, ...o });
  try {
    const decision = client.scan(request as ScanRequest);
    return { line: withId(decision), refused: decision.outcome === "refuse" || decision.outcome === "ambiguous" };
  } catch (error) {
    if (error instanceof ZodError) {
      const issue = error.issues[0]!;
      return { line: withId({ error: { code: "bad-request", field: issue.path.join(".") || null, message: issue.message } }), refused: null };
    }
    if (error instanceof ScanUnavailable) return { line: withId({ error: { code: error.code, field: null, message: error.message } }), refused: null };
    return { line: withId({ error: { code: "internal", field: null, message: (error as Error).message } }), refused: null };
  }
}

if (command === "scan") {
  if (values.lines) {
    const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const text of input) {
      if (text.trim() === "") continue;
      let request: unknown;
      try {
        request = JSON.parse(text);
      } catch {
        process.stdout.write(`${JSON.stringify({ error: { code: "bad-json", field: null, message: "the line is not JSON" } })}\n`);
        continue;
      }
      if (typeof request !== "object" || request === null || Array.isArray(request)) {
        process.stdout.write(`${JSON.stringify({ error: { code: "bad-request", field: null, message: "a request is a JSON object" } })}\n`);
        continue;
      }
      // A version the pulling process took meanwhile decides this scan (its state file changed).
      await client.refresh();
      process.stdout.write(`${answer(client, request).line}\n`);
    }
    process.exit(0);
  }
  if (positionals.length !== 2) fail('scan takes one scanned string: runtime-client scan --step N --material M [--parent P] "<string>"');
  const step = values.step === undefined ? undefined : /^\d{1,9}$/.test(values.step) ? Number(values.step) : fail("--step must be a step number");
  const { line, refused } = answer(client, {
    ...(values.parent ? { parent: values.parent } : {}),
    ...(step !== undefined ? { step } : {}),
    ...(values["work-centre"] ? { workCentre: values["work-centre"] } : {}),
    expected: values.material ?? fail("--material is required (the material the step expects)"),
    scanned: positionals[1],
    ...(values.symbology ? { symbologyId: values.symbology } : {}),
  });
  process.stdout.write(`${line}\n`);
  process.exit(refused === null ? 2 : refused ? 4 : 0);
}

if (command === "report") {
  const { pending } = await client.reportScans();
  process.exit(pending === 0 ? 0 : 1);
}

if (values.once) {
  await client.syncOnce();
  const status = client.status();
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), site, event: "status", ...status })}\n`);
  process.exit(status.failure === "forbidden" ? 3 : client.ruleSet() ? 0 : 1);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => client.stop());
await client.run();
