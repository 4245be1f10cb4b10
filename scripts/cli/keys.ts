/** keys:list, keys:rotate, keys:retire, rulesets:renew (ADR 007). */
import { parseArgs } from "node:util";
import { readEnv } from "../../app/utils/env.server";
import { cliActor, type Command } from "./command";

export const keyCommands: Record<"keys:list" | "keys:rotate" | "keys:retire" | "rulesets:renew", Command> = {
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
      const { values, positionals } = parseArgs({ args, options: { force: { type: "boolean", default: false } }, allowPositionals: true, strict: true });
      const { retireKey } = await import("../../app/services/keys.server");
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
