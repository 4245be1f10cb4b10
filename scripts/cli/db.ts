/** db:migrate, db:seed, db:replica. */
import { parseArgs } from "node:util";
import { siteCount } from "../../app/queries/cli-plant.server";
import { readEnv } from "../../app/utils/env.server";
import { DomainError } from "../../app/utils/errors.server";
import { applyMigrations, withPrepareLock } from "../../app/utils/migrate.server";
import postgres from "postgres";
import { primaryPosition, replicaLag, waitForReplica } from "../../app/utils/replica.server";
import type { Command } from "./command";

export const dbCommands: Record<"db:migrate" | "db:seed" | "db:replica", Command> = {
  "db:migrate": {
    summary: "apply the committed migrations (also done at every start)",
    prepare: false,
    async run(database) {
      // Migrations only: no signing key, no demo plant (ADR 022).
      const applied = await withPrepareLock(database, undefined, (session) => applyMigrations(session, database.embedded?.appPassword));
      if (applied.length === 0) console.log("migrations applied: none (the database was up to date)");
      else console.log(`migrations applied: ${applied.length}\n${applied.map((tag) => `  ${tag}`).join("\n")}`);
      return 0;
    },
  },
  "db:seed": {
    summary:
      "load the demo plant into an empty database (--scale large: plus 1,000,000 trace items and ~3,000,000 genealogy edges; --scale huge: ten times that)",
    usage: "db:seed [--scale demo|large|huge]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { scale: { type: "string", default: "demo" } }, strict: true });
      const scale = values.scale;
      if (scale !== "demo" && scale !== "large" && scale !== "huge") throw new DomainError("invalid", "--scale must be demo, large or huge");
      if ((await siteCount(database.db)) > 0) {
        console.error(
          "The database already holds a plant; the demo plant is loaded only into an empty database.\nUse a fresh C981_DATA_DIR (or database) to start over.",
        );
        return 1;
      }
      const started = Date.now();
      const { seedDemoPlant } = await import("../../app/seed/seed.server");
      const { loadKeyRing } = await import("../../app/utils/signing.server");
      const keyRing = await loadKeyRing(database.db, readEnv().C981_SIGNING_KEYS_DIR);
      if (scale === "large" || scale === "huge") {
        const { PLANT_SCALES, seedLargePlant } = await import("../../app/seed/large-plant.server");
        const summary = await seedLargePlant(database, keyRing, { scale: PLANT_SCALES[scale], log: (line) => console.log(line) });
        console.log(
          `${scale} plant loaded in ${summary.seconds} s: ${summary.traceItems.toLocaleString("en")} synthetic trace items (${summary.pallets.items.toLocaleString("en")} of them pallets) and ${summary.genealogyEdges.toLocaleString("en")} edges on top of the demo plant`,
        );
        return 0;
      }
      const { demoShiftDaysFor } = await import("../../app/seed/demo-plant");
      const summary = await seedDemoPlant(database.db, keyRing, { shiftDays: demoShiftDaysFor(new Date()) });
      console.log(`demo plant loaded in ${((Date.now() - started) / 1000).toFixed(1)} s:`, summary);
      return 0;
    },
  },
  "db:replica": {
    summary:
      "wait until the read replica (C981_REPLICA_URL) has replayed the primary's current WAL position and genealogy change count, within C981_REPLICA_WAIT_MS; print how long it took and its lag (exit 75 when it has not caught up)",
    async run(database) {
      const env = readEnv();
      if (!env.C981_REPLICA_URL)
        throw new DomainError("invalid", "C981_REPLICA_URL is not set: there is no read replica to check", { C981_REPLICA_URL: ["a standby's URL"] });
      const replica = postgres(env.C981_REPLICA_URL, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: "c981-cli-replica" } });
      try {
        const target = await primaryPosition(database.client);
        const wait = await waitForReplica(replica, target, { timeoutMs: env.C981_REPLICA_WAIT_MS });
        const lag = await replicaLag(replica);
        console.log(
          `replica caught up with the primary (WAL ${target.lsn}, genealogy change ${target.changes}) in ${wait.waitedMs.toFixed(1)} ms (${wait.polls} polls); replayed to ${lag.replayLsn ?? "-"}, ${lag.unreplayedBytes} bytes received not yet replayed`,
        );
        return 0;
      } finally {
        await replica.end({ timeout: 2 });
      }
    },
  },
};
