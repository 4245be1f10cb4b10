/**
 * Hostile EPCIS documents through the whole import and the CLI (ADR 016): each is refused with one
 * located error, an `epcis.import_refused` audit row (its own transaction) and nothing else stored;
 * the CLI exits 65. Before the byte-level check, an ilmd nested 4,000 deep crashed the import in the
 * canonical-JSON writer (exit 1, no audit row), and a `\u0000` reached PostgreSQL's jsonb.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { importEpcisDocument } from "../../app/services/epcis-import.server";
import { fileSource } from "../../app/services/epcis-stream.server";
import { createTestDatabase } from "../setup/database";
import { fixture, importFootprint, seedEpcisPlant } from "../setup/epcis";
import { tempKeysDir } from "../setup/keys";

const run = promisify(execFile);
let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedEpcisPlant(database);
});

const valid = fs.readFileSync(fixture("ObjectEvent.json"), "utf8");
const parsed = JSON.parse(valid) as { epcisBody: { eventList: Record<string, unknown>[] } };

function tempFile(bytes: Uint8Array | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-epcis-hostile-"));
  const file = path.join(dir, "doc.json");
  fs.writeFileSync(file, bytes);
  return file;
}

/** The fixture with event 1's ilmd replaced by raw JSON text. */
function withIlmd(raw: string): string {
  const marker = '"example:marker":"here"';
  const events = parsed.epcisBody.eventList.map((e, i) => (i === 1 ? { ...e, ilmd: { "example:marker": "here" } } : e));
  return JSON.stringify({ ...parsed, epcisBody: { ...parsed.epcisBody, eventList: events } }).replace(marker, raw);
}

const importFile = (file: string) => importEpcisDocument(database.db, "test", { fileName: "doc.json", siteCode: "EIN", source: fileSource(file) });

async function refusalsLogged() {
  const rows = await database.client`select entity_id, after from audit_trail where action = 'epcis.import_refused' order by seq`;
  return rows as unknown as { entity_id: string; after: { errorCount: number; errors: { path: string; location?: unknown }[] } }[];
}

describe("hostile documents through the import", () => {
  it.each([
    ["ilmd nested 4,000 deep", withIlmd(`"example:deep":${"[".repeat(4_000)}1${"]".repeat(4_000)}`), /^objects and arrays nested deeper than 64 levels/, 1],
    ["a 2 MB string", withIlmd(`"example:blob":"${"x".repeat(2_000_000)}"`), /^a string longer than 65,536 bytes/, 1],
    ["a NUL escape PostgreSQL cannot store", withIlmd(String.raw`"example:nul":"a\u0000b"`), /\\u0000 \(NUL\)/, 1],
    ["a duplicate member", withIlmd('"example:a":1,"example:a":2'), /^member "example:a" appears twice/, 1],
    ["an integer beyond 2^53", withIlmd('"example:n":12345678901234567890'), /would lose precision/, 1],
  ])("%s: refused, located, audited, nothing stored", async (_name, text, message, eventIndex) => {
    const file = tempFile(text);
    const before = await importFootprint(database);
    const logged = (await refusalsLogged()).length;
    const result = await importFile(file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errorCount).toBe(1);
    expect(result.errors).toHaveLength(1);
    const error = { ...result.errors[0]!, location: result.errors[0]!.location! };
    expect(error!.message).toMatch(message);
    expect(error!.eventIndex).toBe(eventIndex);
    expect(error!.path.startsWith("/epcisBody/eventList/1/ilmd/example:")).toBe(true);
    expect(error!.location.line).toBe(1);
    expect(error!.location.column).toBe(error!.location.byte + 1);
    expect(result.fileDigest).toBe(createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
    expect(await importFootprint(database)).toEqual(before);
    const rows = await refusalsLogged();
    expect(rows).toHaveLength(logged + 1);
    expect(rows.at(-1)!.entity_id).toBe(result.fileDigest);
    expect(rows.at(-1)!.after.errors[0]).toMatchObject({ path: error!.path, location: error!.location });
  });

  it("invalid UTF-8 is refused at its byte; a UTF-8 BOM is accepted with a warning", async () => {
    const bytes = Buffer.from(withIlmd('"example:note":"Größe"'));
    const bad = bytes.indexOf("Größe") + 2;
    bytes[bad] = 0xff;
    const refused = await importFile(tempFile(bytes));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.errors[0]).toMatchObject({ eventIndex: 1, location: { byte: bad, line: 1, column: bad + 1 } });

    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]);
    const accepted = await importFile(tempFile(withBom));
    expect(accepted.ok).toBe(true);
    expect(accepted.warnings).toContainEqual({ eventIndex: null, path: "", message: "the document starts with a UTF-8 byte order mark (ignored)" });
    expect(accepted.fileDigest).toBe(createHash("sha256").update(withBom).digest("hex"));
  });

  it("random byte flips of a valid document (seeded): imported or refused, never an exception", async () => {
    let seed = 981;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 6; n++) {
      const bytes = Buffer.from(valid);
      for (let k = 0; k < 3; k++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const before = await importFootprint(database);
      const result = await importFile(tempFile(bytes));
      if (!result.ok) {
        expect(result.errors.length).toBeGreaterThan(0);
        expect(await importFootprint(database)).toEqual(before);
      }
    }
  });

  it("the CLI prints the located refusal and exits 65", async () => {
    const keys = await tempKeysDir();
    const file = tempFile(withIlmd(`"example:deep":${'{"a":'.repeat(4_000)}1${"}".repeat(4_000)}`));
    const failed = await run(process.execPath, ["--import", "tsx", "scripts/c981.ts", "import:epcis", file, "--site", "EIN"], {
      env: { ...process.env, DATABASE_URL: database.url, C981_MIGRATE_URL: database.ownerUrl, C981_SIGNING_KEYS_DIR: keys },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(65);
    expect(failed.stderr).toMatch(/REFUSED .* 1 error\(s\); nothing was stored/);
    expect(failed.stderr).toMatch(
      /event 1 \/epcisBody\/eventList\/1\/ilmd\/example:deep(\/a)+: objects and arrays nested deeper than 64 levels \(at byte [\d,]+, line 1, column [\d,]+\)/,
    );
  });
});

describe("a file that changes between the import's two reads", () => {
  // The first read digests and checks the bytes; the second parses them without checking again
  // (ADR 016): what it reads must be what was checked, or nothing is stored.
  const changing = (second: string) => {
    let reads = 0;
    return () => {
      reads += 1;
      const text = reads === 1 ? valid : second;
      return (async function* () {
        yield Buffer.from(text);
      })();
    };
  };

  it.each([
    ["another valid document", JSON.stringify({ ...parsed, epcisBody: { eventList: parsed.epcisBody.eventList.slice(0, 1) } })],
    ["a hostile one (nested 10,000 deep)", withIlmd(`"example:deep":${"[".repeat(10_000)}1${"]".repeat(10_000)}`)],
  ])("to %s: refused as changed, nothing stored", async (_name, second) => {
    const before = await importFootprint(database);
    await expect(importEpcisDocument(database.db, "test", { fileName: "doc.json", siteCode: "EIN", source: changing(second) })).rejects.toThrow(
      /the file changed while it was being imported/,
    );
    expect(await importFootprint(database)).toEqual(before);
  });
});
