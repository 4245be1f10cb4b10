/** clients:create, clients:revoke: runtime MES clients (ADR 008). */
import { parseArgs } from "node:util";
import { cliActor, type Command } from "./command";

export const clientCommands: Record<"clients:create" | "clients:revoke", Command> = {
  "clients:create": {
    summary: "create a runtime MES client for some sites; prints its bearer token once",
    usage: "clients:create --name NAME --sites EIN[,CLT…] --reason R",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { name: { type: "string" }, sites: { type: "string" }, reason: { type: "string" } }, strict: true });
      const { createRuntimeClient } = await import("../../app/services/runtime-clients.server");
      const client = await createRuntimeClient(database.db, cliActor(), {
        name: values.name ?? "",
        sites: (values.sites ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
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
      const { revokeRuntimeClient } = await import("../../app/services/runtime-clients.server");
      await revokeRuntimeClient(database.db, cliActor(), positionals[0] ?? "", values.reason ?? "");
      console.log(`revoked ${positionals[0]}`);
      return 0;
    },
  },
};
