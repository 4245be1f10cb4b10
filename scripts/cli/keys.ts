/** keys:list, keys:rotate, keys:retire, keys:export, keys:import, rulesets:renew (ADR 007, ADR 025). */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { readEnv } from "../../app/utils/env.server";
import { cliActor, type Command, positionalsLast } from "./command";

export const keyCommands: Record<"keys:list" | "keys:rotate" | "keys:retire" | "keys:export" | "keys:import" | "rulesets:renew", Command> = {
  "keys:list": {
    summary: "list rule-set signing keys (kid = RFC 7638 thumbprint) and their state",
    async run(database) {
      const { signingKeyList } = await import("../../app/queries/cli-plant.server");
      const { loadKeyRing } = await import("../../app/utils/signing.server");
      const keyRing = await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR);
      for (const k of await signingKeyList(database.db)) {
        const here = keyRing.active.some((a) => a.kid === k.kid) ? "private key here" : k.state === "active" ? "PRIVATE KEY MISSING HERE" : "";
        console.log(
          `${k.kid}  ${k.state.padEnd(8)} created ${k.createdAt.toISOString()}${k.retiredAt ? ` retired ${k.retiredAt.toISOString()}` : ""}  ${here}`,
        );
      }
      return 0;
    },
  },
  "keys:rotate": {
    summary: "add a signing key and renew every site's rule set signed by all active keys",
    async run(database) {
      const { rotateKeys } = await import("../../app/services/keys.server");
      const result = await rotateKeys(database.db, readEnv().C981_SIGNING_KEYS_DIR, cliActor());
      console.log(`new key ${result.kid}; renewed ${result.renewed.map((r) => `${r.site} v${r.version}`).join(", ") || "no site"}`);
      return 0;
    },
  },
  "keys:retire": {
    summary: "retire a signing key and renew every site signed by the remaining keys",
    usage: "keys:retire <kid> [--force]  (refuses when a runtime trusts no other key, unless --force)",
    async run(database, args) {
      const { values, positionals } = parseArgs({
        args: positionalsLast(args, { force: { type: "boolean" } }),
        options: { force: { type: "boolean", default: false } },
        allowPositionals: true,
        strict: true,
      });
      const { retireKey } = await import("../../app/services/keys.server");
      const result = await retireKey(database.db, readEnv().C981_SIGNING_KEYS_DIR, cliActor(), positionals[0] ?? "", { force: values.force });
      console.log(`retired ${positionals[0]}; renewed ${result.renewed.map((r) => `${r.site} v${r.version}`).join(", ") || "no site"}`);
      return 0;
    },
  },
  "keys:export": {
    summary: "write an active key's private file (mode 0600) for keys:import on an instance with a key folder of its own (audited)",
    usage: "keys:export <kid> --out <file>  (the file must not exist; carry it safely, delete it after the import)",
    async run(database, args) {
      const { values, positionals } = parseArgs({
        args: positionalsLast(args, { out: { type: "string" } }),
        options: { out: { type: "string" } },
        allowPositionals: true,
        strict: true,
      });
      const kid = positionals[0] ?? "";
      if (!kid || !values.out) throw new Error("usage: keys:export <kid> --out <file>");
      const out = path.resolve(values.out);
      const { exportSigningKey } = await import("../../app/services/keys.server");
      // The file first (never over an existing one): an export is audited only when it can be written.
      const file = await fs.open(out, "wx", 0o600);
      try {
        const text = await exportSigningKey(database.db, readEnv().C981_SIGNING_KEYS_DIR, kid, cliActor(), { host: os.hostname(), to: out });
        await file.writeFile(text);
        await file.close();
      } catch (error) {
        await file.close().catch(() => {});
        await fs.unlink(out).catch(() => {});
        throw error;
      }
      console.log(`private key ${kid} written to ${out} (mode 0600): run keys:import ${path.basename(out)} on each instance, then delete it`);
      return 0;
    },
  },
  "keys:import": {
    summary: "install a private key file from keys:export in this instance's key folder, checked against the database (audited)",
    usage: "keys:import <file>",
    async run(database, args) {
      const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
      if (!positionals[0]) throw new Error("usage: keys:import <file>");
      const text = await fs.readFile(positionals[0], "utf8");
      const { importSigningKey } = await import("../../app/services/keys.server");
      const result = await importSigningKey(database.db, readEnv().C981_SIGNING_KEYS_DIR, text, cliActor(), { host: os.hostname() });
      console.log(`private key ${result.kid} installed as ${result.file} (mode 0600); this instance signs with it from its next signing`);
      return 0;
    },
  },
  "rulesets:renew": {
    summary: "renew sites' latest rule sets now (unchanged rules, new expiry; the server checks hourly and renews a week before expiry)",
    usage: "rulesets:renew [--site EIN]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { site: { type: "string", multiple: true } }, strict: true });
      const { renewSites } = await import("../../app/services/keys.server");
      const { loadKeyRing } = await import("../../app/utils/signing.server");
      const renewed = await renewSites(
        database.db,
        await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR),
        cliActor(),
        "manual renewal",
        values.site?.map((s) => s.toUpperCase()),
      );
      console.log(`renewed ${renewed.map((r) => `${r.site} v${r.version}`).join(", ") || "no site"}`);
      return 0;
    },
  },
};
