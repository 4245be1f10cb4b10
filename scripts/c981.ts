/**
 * The admin CLI: `npm run c981 -- <command> [options]`. Works on the portal's database — the one
 * DATABASE_URL names, or the embedded server under C981_DATA_DIR, whether or not the portal runs
 * (it connects to the running server, or starts it for the command and stops it afterwards).
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { parseArgs } from "node:util";
import { asc, eq } from "drizzle-orm";
import { materials, ruleSetVersions, sites } from "../db/schema";
import { ruleInForce } from "../app/queries/tracking-rules.server";
import { currentDataPoint, verifyAuditChain } from "../app/services/audit.server";
import { openDatabase, type Database } from "../app/utils/db.server";
import { readEnv } from "../app/utils/env.server";
import { DomainError } from "../app/utils/errors.server";
import { prepareDatabase } from "../app/utils/migrate.server";
import { createUser, deactivateUser, listUsers } from "../app/services/users.server";
import { changeOwnPassword, generatePassword, resetPassword } from "../app/services/passwords.server";
import { grantSchema } from "../app/schemas/users";

/** The audit actor for CLI changes: the operating-system user who ran the command. */
const cliActor = () => `cli:${os.userInfo().username}`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

function parseGrant(text: string) {
  const [role, site] = text.split("@");
  const parsed = grantSchema.safeParse({ role, site: site ?? "" });
  if (!parsed.success) throw new DomainError("invalid", `--role ${text}: ${parsed.error.issues.map((i) => i.message).join("; ")} (roles: viewer, engineer, quality_reviewer, regulatory_reviewer, release_manager, admin; add @SITE to limit to one site)`);
  return parsed.data;
}

interface Command {
  summary: string;
  usage?: string;
  run(database: Database, args: string[]): Promise<number>;
  /** What to load into an empty database before running (default: nothing). */
  seed?: "demo" | "none";
}

const commands: Record<string, Command> = {
  help: {
    summary: "list the commands",
    async run() {
      printHelp();
      return 0;
    },
  },
  "db:migrate": {
    summary: "apply the committed migrations (also done at every start)",
    async run() {
      console.log("migrations applied");
      return 0;
    },
  },
  "db:seed": {
    summary: "load the demo plant into an empty database (--scale large: plus 1,000,000 trace items and ~3,000,000 genealogy edges)",
    usage: "db:seed [--scale demo|large]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { scale: { type: "string", default: "demo" } }, strict: true });
      if (values.scale !== "demo" && values.scale !== "large") throw new DomainError("invalid", "--scale must be demo or large");
      const [any] = await database.client`select count(*)::int as n from sites`;
      if ((any?.n ?? 0) > 0) {
        console.error("The database already holds a plant; the demo plant is loaded only into an empty database.\nUse a fresh C981_DATA_DIR (or database) to start over.");
        return 1;
      }
      const started = Date.now();
      const { seedDemoPlant } = await import("../app/seed/seed.server");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      const keyRing = await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR);
      if (values.scale === "large") {
        const { seedLargePlant } = await import("../app/seed/large-plant.server");
        const summary = await seedLargePlant(database, keyRing, { log: (line) => console.log(line) });
        console.log(`large plant loaded in ${summary.seconds} s: ${summary.traceItems.toLocaleString("en")} synthetic trace items and ${summary.genealogyEdges.toLocaleString("en")} edges on top of the demo plant`);
        return 0;
      }
      const { demoShiftDaysFor } = await import("../app/seed/demo-plant");
      const summary = await seedDemoPlant(database.db, keyRing, { shiftDays: demoShiftDaysFor(new Date()) });
      console.log(`demo plant loaded in ${((Date.now() - started) / 1000).toFixed(1)} s:`, summary);
      return 0;
    },
  },
  "audit:verify": {
    summary: "recompute the audit trail's hash chain and check it against the signed anchors (ADR 019); exit 2 when broken",
    usage: "audit:verify [--anchors DIR]  (DIR: an anchor export kept elsewhere; its anchors and keys are checked too; this instance's anchor log in C981_SIGNING_KEYS_DIR always, when readable)",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { anchors: { type: "string" } }, strict: true });
      const { verifyAnchoredChain } = await import("../app/services/audit-anchors.server");
      const { describeJudgement } = await import("../app/domain/audit-anchor");
      const external = values.anchors ? await readAnchorExport(values.anchors) : undefined;
      const { allPublicKeys } = await import("../app/utils/signing.server");
      const keys = external ? [...external.keys, ...(await allPublicKeys(database.db)).filter((k) => !external.keys.some((e) => e.kid === k.kid))] : undefined;
      // This instance's own record of the anchors it signed (keys folder, ADR 019): checked whenever readable.
      const { readAnchorLog, anchorLogPath } = await import("../app/utils/anchor-log.server");
      const keysDir = readEnv().C981_SIGNING_KEYS_DIR;
      const log = await readAnchorLog(keysDir);
      if (log.state === "absent") console.log(`anchor log: none at ${anchorLogPath(keysDir)} (this instance has signed no anchor since it keeps one)`);
      else if (log.state === "unreadable") console.log(`anchor log not checked: ${log.error}`);
      const result = await verifyAnchoredChain(database.db, { keys, extraAnchors: external?.anchors, anchorLog: log.state === "read" ? log.entries : undefined, rolledBackAnchors: log.state === "read" ? log.rolledBack : undefined });
      const chain = result.chain;
      const logProblems = log.state === "read" ? log.problems : [];
      for (const p of logProblems) console.error(`anchor log ${anchorLogPath(keysDir)}: ${p}`);
      const { describeMissingAnchors } = await import("../app/services/audit-anchors.server");
      for (const m of describeMissingAnchors(result.missingAnchors)) console.error(m);
      if (chain.firstBreak) {
        console.error(`audit trail BROKEN at row ${chain.firstBreak.seq} (${chain.firstBreak.problem}): ${chain.firstBreak.detail}`);
        console.error(`${chain.rowsChecked} rows before it verified.`);
      }
      for (const p of result.anchorProblems) console.error(`anchor #${p.id}${p.source === "database" ? "" : ` (${p.source === "log" ? "anchor log" : p.source})`} NOT TRUSTED: ${p.problem}`);
      const trustedIds = new Set(result.trusted.map((a) => a.id)).size;
      const line = `signed anchors: ${trustedIds} of ${result.anchorsChecked} verified against the public keys${log.state === "read" ? ` (${log.entries.length} in this instance's anchor log)` : ""}; the trail ${describeJudgement(result.judgement)}`;
      if (result.judgement.state === "intact") console.log(line);
      else console.error(line);
      if (!result.ok || logProblems.length > 0) return 2;
      console.log(`audit trail intact: ${chain.rowsChecked} rows verified, head seq ${result.headSeq}`);
      return 0;
    },
  },
  "audit:checkpoint": {
    summary: "sign the audit trail's head now as a checkpoint anchor (the server does this every 1,000 rows or hour)",
    usage: "audit:checkpoint [--if-due]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { "if-due": { type: "boolean", default: false } }, strict: true });
      const { writeCheckpointIfDue } = await import("../app/services/audit-anchors.server");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      const keyRing = await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR);
      const result = await writeCheckpointIfDue(database.db, keyRing, { actor: cliActor(), force: !values["if-due"] });
      if (result.written) console.log(`anchor #${result.anchor.id}: row ${result.anchor.seq} hashes to ${result.anchor.hash}, signed ${result.anchor.issuedAt}`);
      else if (result.refused) {
        console.error(`no anchor written: ${result.reason}`);
        return 2;
      } else console.log(`no anchor written: ${result.reason}`);
      return 0;
    },
  },
  "audit:anchors": {
    summary: "export the signed anchors, public keys (PEM) and openssl commands for an auditor to keep elsewhere",
    usage: "audit:anchors --out DIR",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { out: { type: "string" } }, strict: true });
      if (!values.out) throw new DomainError("invalid", "usage: audit:anchors --out DIR");
      const { anchorExport } = await import("../app/queries/audit-anchors.server");
      const fs = await import("node:fs/promises");
      const path = await import("node:path");
      const exported = await anchorExport(database.db);
      for (const file of exported.files) {
        const target = path.join(values.out, file.path);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, file.content, { mode: file.path.endsWith(".sh") ? 0o755 : 0o644 });
      }
      console.log(`${exported.anchors} anchor(s) and ${exported.keys} public key(s) written to ${values.out}; check them with: sh ${path.join(values.out, "verify.sh")}`);
      return 0;
    },
  },
  "sites:list": {
    summary: "list sites with their current rule-set version",
    async run(database) {
      const rows = await database.db
        .select({ code: sites.code, name: sites.name, timeZone: sites.timeZone })
        .from(sites)
        .orderBy(asc(sites.code));
      for (const site of rows) {
        const versions = await database.db
          .select({ version: ruleSetVersions.version, effectiveFrom: ruleSetVersions.effectiveFrom })
          .from(ruleSetVersions)
          .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
          .where(eq(sites.code, site.code));
        const latest = versions.sort((a, b) => b.version - a.version)[0];
        console.log(
          [site.code.padEnd(6), site.name.padEnd(44), site.timeZone.padEnd(20), latest ? `v${latest.version} from ${latest.effectiveFrom.toISOString()}` : "no rule set"].join(" "),
        );
      }
      console.log(`data point (audit seq): ${await currentDataPoint(database.db)}`);
      return 0;
    },
  },
  "users:list": {
    summary: "list users, their roles and site scopes",
    async run(database) {
      for (const u of await listUsers(database.db)) {
        const roles = u.grants.map((g) => `${g.role}${g.site ? `@${g.site}` : ""}`).join(", ");
        console.log(`${u.username.padEnd(24)} ${(u.active ? "active" : "DEACTIVATED").padEnd(12)} ${u.displayName.padEnd(28)} ${roles}`);
      }
      return 0;
    },
  },
  "users:create": {
    summary: "create a user; prints a generated initial password unless --password-stdin",
    usage: "users:create --username U --name 'Full Name' --role ROLE[@SITE]... --reason R [--password-stdin]",
    async run(database, args) {
      const { values } = parseArgs({
        args,
        options: {
          username: { type: "string" },
          name: { type: "string" },
          role: { type: "string", multiple: true },
          reason: { type: "string" },
          "password-stdin": { type: "boolean", default: false },
        },
        strict: true,
      });
      // Passwords never come from the command line: it ends up in shell history and process lists.
      const generated = !values["password-stdin"];
      const password = generated ? generatePassword((values.username ?? "").trim().toLowerCase()) : await readStdin();
      // The operator's password, not the user's: it must be changed before they sign (ADR 020).
      const user = await createUser(
        database.db,
        cliActor(),
        {
          username: values.username ?? "",
          displayName: values.name ?? "",
          password,
          grants: (values.role ?? []).map(parseGrant),
          reason: values.reason ?? "",
        },
        "operator",
      );
      console.log(`created ${user.username} (${user.grants.map((g) => `${g.role}${g.site ? `@${g.site}` : ""}`).join(", ")})`);
      if (generated) console.log(`initial password (shown once): ${password}`);
      console.log("the user must change this password at first sign-in before signing anything");
      return 0;
    },
  },
  "users:password": {
    summary: "change your own password: reads the current password, then the new one, one per line, from stdin",
    usage: "printf '%s\\n%s\\n' CURRENT NEW | users:password <username>",
    async run(database, args) {
      const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
      const username = (positionals[0] ?? "").trim().toLowerCase();
      const [currentPassword = "", newPassword = ""] = (await readStdin()).split(/\r?\n/);
      await changeOwnPassword(database.db, { username, currentPassword, newPassword, historyDepth: readEnv().C981_PASSWORD_HISTORY, keepSessionIdHash: null, via: cliActor() });
      console.log(`password of ${username} changed; their sessions were ended`);
      return 0;
    },
  },
  "users:reset-password": {
    summary: "an administrator sets a user's password (generated and printed once, or --password-stdin); the user must change it before signing",
    usage: "users:reset-password <username> --reason R [--password-stdin]",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" }, "password-stdin": { type: "boolean", default: false } }, allowPositionals: true, strict: true });
      const username = (positionals[0] ?? "").trim().toLowerCase();
      const generated = !values["password-stdin"];
      const password = generated ? generatePassword(username) : await readStdin();
      await resetPassword(database.db, cliActor(), { username, password, reason: values.reason ?? "" });
      console.log(`password of ${username} reset; their sessions were ended; they must change it at next sign-in`);
      if (generated) console.log(`new password (shown once): ${password}`);
      return 0;
    },
  },
  "users:deactivate": {
    summary: "deactivate a user (never deleted; the name is never reused) and end their sessions",
    usage: "users:deactivate <username> --reason R",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
      const user = await deactivateUser(database.db, cliActor(), { username: positionals[0] ?? "", reason: values.reason ?? "" });
      console.log(`deactivated ${user.username}`);
      return 0;
    },
  },
  "clients:create": {
    summary: "create a runtime MES client for some sites; prints its bearer token once",
    usage: "clients:create --name NAME --sites EIN[,CLT…] --reason R",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { name: { type: "string" }, sites: { type: "string" }, reason: { type: "string" } }, strict: true });
      const { createRuntimeClient } = await import("../app/services/runtime-clients.server");
      const client = await createRuntimeClient(database.db, cliActor(), {
        name: values.name ?? "",
        sites: (values.sites ?? "").split(",").map((s) => s.trim()).filter(Boolean),
        reason: values.reason ?? "",
      });
      console.log(`created runtime client ${client.name} for ${client.sites.join(", ")}`);
      console.log(`token (shown once; C-981 keeps only its hash): ${client.token}`);
      return 0;
    },
  },
  "clients:revoke": {
    summary: "revoke a runtime client's token",
    usage: "clients:revoke <name> --reason R",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
      const { revokeRuntimeClient } = await import("../app/services/runtime-clients.server");
      await revokeRuntimeClient(database.db, cliActor(), positionals[0] ?? "", values.reason ?? "");
      console.log(`revoked ${positionals[0]}`);
      return 0;
    },
  },
  "keys:list": {
    summary: "list rule-set signing keys (kid = RFC 7638 thumbprint) and their state",
    async run(database) {
      const { signingKeys } = await import("../db/schema");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      const keyRing = await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR);
      for (const k of await database.db.select().from(signingKeys).orderBy(signingKeys.createdAt)) {
        const here = keyRing.active.some((a) => a.kid === k.kid) ? "private key here" : k.state === "active" ? "PRIVATE KEY MISSING HERE" : "";
        console.log(`${k.kid}  ${k.state.padEnd(8)} created ${k.createdAt.toISOString()}${k.retiredAt ? ` retired ${k.retiredAt.toISOString()}` : ""}  ${here}`);
      }
      return 0;
    },
  },
  "keys:rotate": {
    summary: "add a signing key and renew every site's rule set signed by all active keys",
    async run(database) {
      const { rotateKeys } = await import("../app/services/keys.server");
      const result = await rotateKeys(database.db, readEnv().C981_SIGNING_KEYS_DIR, cliActor());
      console.log(`new key ${result.kid}; renewed ${result.renewed.map((r) => `${r.site} v${r.version}`).join(", ") || "no site"}`);
      return 0;
    },
  },
  "keys:retire": {
    summary: "retire a signing key and renew every site signed by the remaining keys",
    usage: "keys:retire <kid> [--force]  (refuses when a runtime trusts no other key, unless --force)",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { force: { type: "boolean", default: false } }, allowPositionals: true, strict: true });
      const { retireKey } = await import("../app/services/keys.server");
      const result = await retireKey(database.db, readEnv().C981_SIGNING_KEYS_DIR, cliActor(), positionals[0] ?? "", { force: values.force });
      console.log(`retired ${positionals[0]}; renewed ${result.renewed.map((r) => `${r.site} v${r.version}`).join(", ") || "no site"}`);
      return 0;
    },
  },
  "rulesets:renew": {
    summary: "renew sites' latest rule sets now (unchanged rules, new expiry; the server also renews daily before expiry)",
    usage: "rulesets:renew [--site EIN]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { site: { type: "string", multiple: true } }, strict: true });
      const { renewSites } = await import("../app/services/keys.server");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      const renewed = await renewSites(database.db, await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR), cliActor(), "manual renewal", values.site?.map((s) => s.toUpperCase()));
      console.log(`renewed ${renewed.map((r) => `${r.site} v${r.version}`).join(", ") || "no site"}`);
      return 0;
    },
  },
  "import:epcis": {
    summary: "import an EPCIS 2.0 JSON/JSON-LD document into a site's genealogy (refused whole, with located errors, if it breaks the standard)",
    usage: "import:epcis FILE --site EIN",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { site: { type: "string" } }, allowPositionals: true, strict: true });
      const file = positionals[0];
      if (!file || !values.site) throw new DomainError("invalid", "usage: import:epcis FILE --site SITE");
      const { importEpcisDocument } = await import("../app/services/epcis-import.server");
      const { fileSource } = await import("../app/services/epcis-stream.server");
      const path = await import("node:path");
      const result = await importEpcisDocument(database.db, cliActor(), { fileName: path.basename(file), siteCode: values.site, source: fileSource(file) });
      for (const w of result.warnings) console.log(`warning: event ${w.eventIndex ?? "-"} ${w.path || "/"}: ${w.message}`);
      if (!result.ok) {
        console.error(`REFUSED ${file} (SHA-256 ${result.fileDigest}): ${result.errorCount} error(s); nothing was stored`);
        for (const e of result.errors) console.error(`  event ${e.eventIndex ?? "-"} ${e.path || "/"}: ${e.message}`);
        if (result.errorCount > result.errors.length) console.error(`  … and ${result.errorCount - result.errors.length} more`);
        return 65;
      }
      console.log(`${result.unchangedDocument ? "unchanged (imported before)" : "imported"} ${file} (SHA-256 ${result.fileDigest}) at ${result.site}`);
      console.log(`  events ${result.events}: applied ${result.applied}, quarantined ${result.quarantined}, superseded on arrival ${result.supersededOnArrival}, earlier events declared erroneous ${result.declared}, already held ${result.unchanged}`);
      console.log(`  trace items created ${result.itemsCreated}, genealogy edges created ${result.edgesCreated}, identifiers kept but not placed ${result.notPlaced}`);
      if (result.unknownGtins.length) console.log(`  quarantined until a change request creates the material: GTIN ${result.unknownGtins.join(", ")}`);
      if (result.pendingCorrectiveEventIds.length) console.log(`  corrective events not held yet: ${result.pendingCorrectiveEventIds.join(", ")}`);
      return 0;
    },
  },
  "epcis:quarantine": {
    summary: "list quarantined EPCIS events by unknown GTIN; --release GTIN applies those whose materials now all exist",
    usage: "epcis:quarantine [--release GTIN]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { release: { type: "string" } }, strict: true });
      const { quarantineList, releaseQuarantineNow } = await import("../app/services/epcis-import.server");
      if (values.release) {
        const result = await releaseQuarantineNow(database.db, values.release, cliActor());
        console.log(`GTIN ${values.release}: ${result.released} event(s) released into the genealogy, ${result.stillQuarantined} still waiting for other materials`);
        return 0;
      }
      const rows = await quarantineList(database.db);
      if (!rows.length) console.log("no quarantined EPCIS events");
      for (const r of rows) console.log(`${r.gtin}  ${String(r.events).padStart(6)} event(s)`);
      return 0;
    },
  },
  "import:erp": {
    summary: "import an ERP material-master snapshot (CSV; docs/decisions/015); refused whole, exit 65, on any error",
    usage: "import:erp FILE",
    run: (database, args) => importSnapshot(database, "erp", args),
  },
  "import:plm": {
    summary: "import a PLM serialization-flag snapshot (CSV; docs/decisions/015); refused whole, exit 65, on any error",
    usage: "import:plm FILE",
    run: (database, args) => importSnapshot(database, "plm", args),
  },
  "reconciliation:report": {
    summary: "the ERP/PLM/C-981 tracking disagreements as CSV on stdout",
    async run(database) {
      const { reconciliationCsv, reconciliationReport } = await import("../app/queries/reconciliation.server");
      const report = await reconciliationReport(database.db);
      process.stdout.write(reconciliationCsv(report));
      console.error(`${report.rows.length} disagreement(s) among ${report.compared} material/site pair(s) compared; system of record: serial ${report.systemOfRecord.serial}, lot ${report.systemOfRecord.lot}`);
      return 0;
    },
  },
  "reconciliation:system-of-record": {
    summary: "set the system of record for an identifier type (audited)",
    usage: "reconciliation:system-of-record serial|lot erp|plm|c981 --reason R",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
      const { setSystemOfRecord } = await import("../app/services/reconciliation.server");
      const { changed } = await setSystemOfRecord(database.db, cliActor(), { identifierType: positionals[0] ?? "", system: positionals[1] ?? "", reason: values.reason ?? "" });
      console.log(changed ? `system of record for ${positionals[0]}: ${positionals[1]}` : `unchanged: ${positionals[1]} already is the system of record for ${positionals[0]}`);
      return 0;
    },
  },
  "rules:at": {
    summary: "the tracking rule in force for a material at a site at a time",
    usage: "rules:at <part number> <site code> [<ISO time, default now>]",
    async run(database, args) {
      const [partNumber, siteCode, time] = args;
      if (!partNumber || !siteCode) throw new DomainError("invalid", "usage: rules:at <part number> <site code> [<ISO time>]");
      const at = time ? new Date(time) : new Date();
      if (Number.isNaN(at.getTime())) throw new DomainError("invalid", `time: ${time} is not an ISO-8601 time`);
      const [material] = await database.db.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, partNumber));
      if (!material) throw new DomainError("not_found", `material ${partNumber} does not exist`);
      const [site] = await database.db.select({ id: sites.id }).from(sites).where(eq(sites.code, siteCode));
      if (!site) throw new DomainError("not_found", `site ${siteCode} does not exist`);
      const result = await ruleInForce(database.db, { materialId: material.id, siteId: site.id, at });
      console.log(JSON.stringify({ partNumber, site: siteCode, at: at.toISOString(), ...result }, null, 2));
      return 0;
    },
  },
};

/** An anchor export (audit:anchors): its anchors and its public keys, to check the database against. */
async function readAnchorExport(dir: string) {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  const { createPublicKey } = await import("node:crypto");
  const { calculateJwkThumbprint } = await import("jose");
  const text = await fs.readFile(path.join(dir, "anchors.jsonl"), "utf8").catch(() => {
    throw new DomainError("not_found", `${dir}/anchors.jsonl: no anchor export there (npm run c981 -- audit:anchors --out DIR)`);
  });
  const anchors = text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const a = JSON.parse(l) as { id: number; seq: number; hash: string; jws: unknown };
      return { id: a.id, seq: a.seq, hash: a.hash, jws: JSON.stringify(a.jws), source: "export" as const };
    });
  const keys = [];
  for (const file of (await fs.readdir(path.join(dir, "keys")).catch(() => [])).filter((f) => f.endsWith(".pem"))) {
    const jwk = createPublicKey(await fs.readFile(path.join(dir, "keys", file), "utf8")).export({ format: "jwk" });
    // The kid is the key's own thumbprint, not the file's name.
    keys.push({ ...jwk, kid: await calculateJwkThumbprint(jwk as never, "sha256") });
  }
  return { anchors, keys };
}

async function importSnapshot(database: Database, system: "erp" | "plm", args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  const file = positionals[0];
  if (!file) throw new DomainError("invalid", `usage: import:${system} FILE`);
  const { createReadStream, existsSync } = await import("node:fs");
  const path = await import("node:path");
  if (!existsSync(file)) throw new DomainError("not_found", `${file}: no such file`);
  const { importExternalSnapshot } = await import("../app/services/external-import.server");
  const { describeErrors } = await import("../app/domain/external-snapshot");
  const result = await importExternalSnapshot(database.db, cliActor(), { system, fileName: path.basename(file), source: () => createReadStream(file) });
  if (!result.ok) {
    console.error(`REFUSED: ${file} (${system.toUpperCase()}): ${result.errorCount} error(s) in ${result.rows} row(s); nothing was imported.`);
    console.error(describeErrors(result));
    return 65;
  }
  console.log(`imported ${system.toUpperCase()} snapshot #${result.snapshotId}: ${result.rows} rows, sha256 ${result.digest}; replaced ${result.replaced.rows} records`);
  if (result.unknownCount) {
    console.log(`${result.unknownCount} part number(s) unknown to C-981 (imported, shown in the reconciliation report): ${result.unknown.slice(0, 20).map((u) => `${u.partNumber}${u.site ? `@${u.site}` : ""} (line ${u.line})`).join(", ")}${result.unknownCount > 20 ? ", …" : ""}`);
  }
  return 0;
}

function printHelp(): void {
  console.log("C-981 admin CLI — npm run c981 -- <command>\n");
  for (const [name, command] of Object.entries(commands)) {
    console.log(`  ${name.padEnd(18)} ${command.summary}`);
    if (command.usage) console.log(`  ${"".padEnd(18)} usage: ${command.usage}`);
  }
  console.log("\nDatabase: DATABASE_URL, or the embedded server under C981_DATA_DIR (default ./.data).");
}

async function main(): Promise<number> {
  const [name = "help", ...rest] = process.argv.slice(2);
  const command = commands[name];
  if (!command) {
    console.error(`unknown command: ${name}\n`);
    printHelp();
    return 64;
  }
  if (name === "help") return command.run(undefined as never, rest);
  const env = readEnv();
  const database = await openDatabase(env, { max: 2 });
  const stop = async () => {
    await database.close();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));
  try {
    await prepareDatabase(database, { seed: command.seed ?? "none", keysDir: env.C981_SIGNING_KEYS_DIR });
    return await command.run(database, rest);
  } catch (error) {
    if (error instanceof DomainError) {
      console.error(`${error.message}${Object.keys(error.fields).length ? `\n${JSON.stringify(error.fields, null, 2)}` : ""}`);
      return error.code === "not_found" ? 3 : 65;
    }
    throw error;
  } finally {
    await stop();
  }
}

// `npm run c981 -- users:list | head` closes stdout early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
