/**
 * The client's state on disk: the last good rule set (the signed bytes, re-verified at every
 * start), a scheduled one, the digests it has verified, the public keys it has seen and the keys
 * it has seen retired. Every file is written atomically (temporary file, fsync, rename, fsync of
 * the directory), so a crash leaves the old or the new state, never half of one.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { thumbprint } from "./document";

export const STATE_FORMAT = "c981-runtime-client-state/1";

export const stateSchema = z.strictObject({
  format: z.literal(STATE_FORMAT),
  site: z.string(),
  active: z.strictObject({ jws: z.string(), activatedAt: z.string() }).nullable(),
  pending: z.strictObject({ jws: z.string() }).nullable(),
  known: z.record(z.string().regex(/^[1-9]\d*$/), z.string().regex(/^sha256:[0-9a-f]{64}$/)),
  /** The schema version of the form each known digest is of, when it is not 1 (ADR 039; absent in states written before). */
  schemas: z.record(z.string().regex(/^[1-9]\d*$/), z.literal(2)).optional(),
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())) }),
  retiredKeys: z.array(thumbprint),
});
export type ClientState = z.infer<typeof stateSchema>;

export const emptyState = (site: string): ClientState => ({
  format: STATE_FORMAT,
  site,
  active: null,
  pending: null,
  known: {},
  jwks: { keys: [] },
  retiredKeys: [],
});

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await fs.open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  const directory = await fs.open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

export type LoadedState = { kind: "none" } | { kind: "loaded"; state: ClientState } | { kind: "unreadable"; reason: string };

/** Reads the state file; a file that is not a well-formed state is reported, never half-used. */
export async function readState(file: string, site: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
    return { kind: "unreadable", reason: (error as Error).message };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "unreadable", reason: "the state file is not JSON (corrupt or cut off)" };
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) return { kind: "unreadable", reason: `the state file is not a ${STATE_FORMAT} state: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  if (parsed.data.site !== site) return { kind: "unreadable", reason: `the state file belongs to site ${parsed.data.site}` };
  return { kind: "loaded", state: parsed.data };
}

/** Moves a refused state file aside (kept for investigation) and returns where it went. */
export async function setAside(file: string, now: Date): Promise<string> {
  const target = `${file}.refused-${now.toISOString().replace(/[:.]/g, "-")}`;
  await fs.rename(file, target);
  return target;
}
