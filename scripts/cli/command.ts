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
