/**
 * The admin CLI: `npm run c981 -- <command> [options]`. Works on the portal's database — the one
 * DATABASE_URL names, or the embedded server under C981_DATA_DIR, whether or not the portal runs
 * (it connects to the running server, or starts it for the command and stops it afterwards).
 *
 * One file per command group beside this one; the commands read through app/queries and write
 * through app/services, never tables directly (ADR 022).
 */
import { openDatabase } from "../../app/utils/db.server";
import { readEnv } from "../../app/utils/env.server";
import { DomainError } from "../../app/utils/errors.server";
import { prepareDatabase } from "../../server/prepare-database";
import { auditCommands } from "./audit";
import { clientCommands } from "./clients";
import type { Command } from "./command";
import { dbCommands } from "./db";
import { importCommands } from "./imports";
import { keyCommands } from "./keys";
import { plantCommands } from "./plant";
import { qualityCommands } from "./quality";
import { reconciliationCommands } from "./reconciliation";
import { userCommands } from "./users";

/** In the order `help` lists them. */
const commands: Record<string, Command> = {
  help: {
    summary: "list the commands",
    async run() {
      printHelp();
      return 0;
    },
  },
  ...dbCommands,
  ...auditCommands,
  "sites:list": plantCommands["sites:list"],
  ...userCommands,
  ...clientCommands,
  ...keyCommands,
  ...importCommands,
  ...reconciliationCommands,
  ...qualityCommands,
  "rules:at": plantCommands["rules:at"],
};

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
    if (command.prepare !== false) await prepareDatabase(database, { seed: command.seed ?? "none", keysDir: env.C981_SIGNING_KEYS_DIR });
    return await command.run(database, rest);
  } catch (error) {
    if (error instanceof DomainError) {
      console.error(`${error.message}${Object.keys(error.fields).length ? `\n${JSON.stringify(error.fields, null, 2)}` : ""}`);
      // 75 (EX_TEMPFAIL): try again later — a read replica still catching up (ADR 047).
      return error.code === "not_found" ? 3 : error.code === "unavailable" ? 75 : 65;
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
