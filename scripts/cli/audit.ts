/** audit:verify, audit:checkpoint, audit:anchors (ADR 003, ADR 019). */
import { parseArgs } from "node:util";
import { readEnv } from "../../app/utils/env.server";
import { DomainError } from "../../app/utils/errors.server";
import { cliActor, type Command } from "./command";

export const auditCommands: Record<"audit:verify" | "audit:checkpoint" | "audit:anchors", Command> = {
  "audit:verify": {
    summary: "recompute the audit trail's hash chain and check it against the signed anchors (ADR 019); exit 2 when broken",
    usage:
      "audit:verify [--anchors DIR]  (DIR: an anchor export kept elsewhere; its anchors and keys are checked too; this instance's anchor log in C981_SIGNING_KEYS_DIR always, when readable)",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { anchors: { type: "string" } }, strict: true });
      const { verifyAnchoredChain } = await import("../../app/services/audit-anchors.server");
      const { describeJudgement } = await import("../../app/domain/audit-anchor");
      const external = values.anchors ? await readAnchorExport(values.anchors) : undefined;
      const { allPublicKeys } = await import("../../app/utils/signing.server");
      const keys = external ? [...external.keys, ...(await allPublicKeys(database.db)).filter((k) => !external.keys.some((e) => e.kid === k.kid))] : undefined;
      // This instance's own record of the anchors it signed (keys folder, ADR 019): checked whenever readable.
      const { readAnchorLog, anchorLogPath } = await import("../../app/utils/anchor-log.server");
      const keysDir = readEnv().C981_SIGNING_KEYS_DIR;
      const log = await readAnchorLog(keysDir);
      if (log.state === "absent") console.log(`anchor log: none at ${anchorLogPath(keysDir)} (this instance has signed no anchor since it keeps one)`);
      else if (log.state === "unreadable") console.log(`anchor log not checked: ${log.error}`);
      const result = await verifyAnchoredChain(database.db, {
        keys,
        extraAnchors: external?.anchors,
        anchorLog: log.state === "read" ? log.entries : undefined,
        rolledBackAnchors: log.state === "read" ? log.rolledBack : undefined,
      });
      const chain = result.chain;
      const logProblems = log.state === "read" ? log.problems : [];
      for (const p of logProblems) console.error(`anchor log ${anchorLogPath(keysDir)}: ${p}`);
      const { describeMissingAnchors } = await import("../../app/services/audit-anchors.server");
      for (const m of describeMissingAnchors(result.missingAnchors)) console.error(m);
      if (chain.firstBreak) {
        console.error(`audit trail BROKEN at row ${chain.firstBreak.seq} (${chain.firstBreak.problem}): ${chain.firstBreak.detail}`);
        console.error(`${chain.rowsChecked} rows before it verified.`);
      }
      for (const p of result.anchorProblems)
        console.error(`anchor #${p.id}${p.source === "database" ? "" : ` (${p.source === "log" ? "anchor log" : p.source})`} NOT TRUSTED: ${p.problem}`);
      // Runtime status reports (ADR 026): each row against its hash, the rows against the signed heads.
      for (const p of result.telemetry.problems) console.error(`status reports NOT AS SIGNED: ${p.detail}`);
      const trustedIds = new Set(result.trusted.map((a) => a.id)).size;
      const line = `signed anchors: ${trustedIds} of ${result.anchorsChecked} verified against the public keys${log.state === "read" ? ` (${log.entries.length} in this instance's anchor log)` : ""}; the trail ${describeJudgement(result.judgement)}`;
      if (result.judgement.state === "intact") console.log(line);
      else console.error(line);
      if (!result.ok || logProblems.length > 0) return 2;
      console.log(`audit trail intact: ${chain.rowsChecked} rows verified, head seq ${result.headSeq}`);
      console.log(
        `status reports: ${result.telemetry.rowsChecked} verified${result.telemetry.proven ? `, up to id ${result.telemetry.proven.through} as signed` : ", none signed by an anchor yet"}`,
      );
      return 0;
    },
  },
  "audit:checkpoint": {
    summary: "sign the audit trail's head now as a checkpoint anchor (the server does this every 1,000 rows or hour)",
    usage: "audit:checkpoint [--if-due]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { "if-due": { type: "boolean", default: false } }, strict: true });
      const { writeCheckpointIfDue } = await import("../../app/services/audit-anchors.server");
      const { loadKeyRing } = await import("../../app/utils/signing.server");
      const keyRing = await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR);
      const result = await writeCheckpointIfDue(database.db, keyRing, { actor: cliActor(), force: !values["if-due"] });
      if (result.written)
        console.log(`anchor #${result.anchor.id}: row ${result.anchor.seq} hashes to ${result.anchor.hash}, signed ${result.anchor.issuedAt}`);
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
      const { anchorExport } = await import("../../app/queries/audit-anchors.server");
      const fs = await import("node:fs/promises");
      const path = await import("node:path");
      const exported = await anchorExport(database.db);
      for (const file of exported.files) {
        const target = path.join(values.out, file.path);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, file.content, { mode: file.path.endsWith(".sh") ? 0o755 : 0o644 });
      }
      console.log(
        `${exported.anchors} anchor(s) and ${exported.keys} public key(s) written to ${values.out}; check them with: sh ${path.join(values.out, "verify.sh")}`,
      );
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
