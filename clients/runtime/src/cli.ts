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
 */
import { parseArgs } from "node:util";
import { RuntimeClient, type OnExpiry } from "./client";

function fail(message: string): never {
  process.stderr.write(`runtime-client: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
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

const url = values.url ?? fail("--url is required (the portal's address)");
if (!/^https?:\/\//.test(url)) fail("--url must be an http(s) address");
const site = values.site?.toUpperCase() ?? fail("--site is required");
const token = values.token ?? process.env.C981_RUNTIME_TOKEN ?? fail("--token (or C981_RUNTIME_TOKEN) is required");
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
  onEvent: (event) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), site, ...event })}\n`),
});

if (values.once) {
  await client.syncOnce();
  const status = client.status();
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), site, event: "status", ...status })}\n`);
  process.exit(status.failure === "forbidden" ? 3 : client.ruleSet() ? 0 : 1);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => client.stop());
await client.run();
