/** What every command group of the admin CLI (scripts/cli/index.ts) shares. */
import os from "node:os";
import type { Database } from "../../app/utils/db.server";

export interface Command {
  summary: string;
  usage?: string;
  run(database: Database, args: string[]): Promise<number>;
  /** What to load into an empty database before running (default: nothing). */
  seed?: "demo" | "none";
  /** false: the command prepares the database itself (db:migrate); by default the CLI migrates and ensures the first key first. */
  prepare?: false;
}

/** The audit actor for CLI changes: the operating-system user who ran the command. */
export const cliActor = () => `cli:${os.userInfo().username}`;

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/**
 * Arguments with every positional moved after `--`, so that util.parseArgs reads a positional that begins with
 * "-" as a positional. A key id (an RFC 7638 thumbprint in base64url) begins with "-" once in 64 keys, and
 * "keys:export -7Ab… --out f" must not read as an unknown option "-7". Only the command's own long options
 * (with their values) stay options; anything else, however it begins, is a positional.
 */
export function positionalsLast(args: readonly string[], options: Readonly<Record<string, { type: "string" | "boolean" }>>): string[] {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === "--") {
      positionals.push(...args.slice(index + 1));
      break;
    }
    const name = arg.startsWith("--") ? arg.slice(2).split("=")[0] : undefined;
    const option = name === undefined ? undefined : Object.hasOwn(options, name) ? options[name] : undefined;
    if (!option) {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    if (option.type === "string" && !arg.includes("=") && index + 1 < args.length) {
      index += 1;
      flags.push(args[index] as string);
    }
  }
  return [...flags, "--", ...positionals];
}
