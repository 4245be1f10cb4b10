import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import type { Db } from "../../app/utils/db.server";
import { ensureKeyRing } from "../../app/services/keys.server";
import type { KeyRing } from "../../app/utils/signing.server";

/** A signing key ring in a temporary key directory for this test file's database. */
export async function testKeyRing(db: Db): Promise<KeyRing> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-test-keys-"));
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));
  return ensureKeyRing(db, dir);
}

export async function tempKeysDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-test-keys-"));
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}
