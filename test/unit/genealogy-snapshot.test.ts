/**
 * The genealogy index snapshot (issue 27 item 2, ADR 044): a file round trip gives the same index in
 * every member (the oracle: the index built from the same rows, compared array by array) and the same
 * walks; every altered, truncated, foreign or other-format file is refused with a reason.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CompactGenealogyBuilder, type CompactGenealogy } from "../../app/domain/genealogy-graph";
import {
  decodeGenealogySnapshot,
  encodeGenealogySnapshot,
  readGenealogySnapshot,
  writeGenealogySnapshot,
  type SnapshotTag,
} from "../../app/utils/genealogy-snapshot.server";

function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generated plant: items with gaps in their ids, non-ASCII identifiers, every edge kind, times and quantities. */
function generated(seed: number, items: number): CompactGenealogy {
  const next = random(seed);
  const b = new CompactGenealogyBuilder();
  const ids: number[] = [];
  for (let i = 1, id = 1; i <= items; i++, id += 1 + Math.floor(next() * 3)) {
    const kind = (["serial", "lot", "container"] as const)[Math.floor(next() * 3)]!;
    const identifier = next() < 0.05 ? `Lös-${id}-ü` : `ID-${id}`;
    b.addItem(
      id,
      identifier,
      kind,
      (["wip", "consumed", "shipped"] as const)[Math.floor(next() * 3)]!,
      `MAT-${Math.floor(next() * 40)}`,
      ["EIN", "CLT", "PEN"][Math.floor(next() * 3)]!,
      {
        createdAt: 1_760_000_000_000 + Math.floor(next() * 1e9),
        quantity: String([1, 2.5, 10, 1000][Math.floor(next() * 4)]),
      },
    );
    ids.push(id);
  }
  let edgeId = 1;
  for (let k = 0; k < items * 3; k++) {
    const a = ids[Math.floor(next() * ids.length)]!;
    const c = ids[Math.floor(next() * ids.length)]!;
    const kind = (["consume", "merge", "split", "aggregate", "rework"] as const)[Math.floor(next() * 5)]!;
    b.addEdge(a, c, kind, { id: edgeId++, occurredAt: 1_760_000_000_000 + Math.floor(next() * 1e9) });
  }
  return b.build();
}

const TAG: SnapshotTag = { database: "test-system-42/c981", changes: 1234, dataPoint: 99, items: 500, edges: 1500 };

/** Every member of the graph and its details, arrays as plain lists. */
function members(graph: CompactGenealogy): Record<string, unknown> {
  const plain = (value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : value);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(graph)) if (key !== "details") out[key] = plain(value);
  for (const [key, value] of Object.entries(graph.details)) out[`details.${key}`] = plain(value);
  return out;
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-snapshot-"));
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe("genealogy index snapshot", () => {
  const graph = generated(27, 500);

  it("round-trips every member and every walk, through a file", async () => {
    const file = path.join(dir, "index.snap");
    const { bytes } = await writeGenealogySnapshot(file, graph, TAG);
    expect((await fs.stat(file)).size).toBe(bytes);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const decoded = await readGenealogySnapshot(file, TAG.database);
    if ("problem" in decoded) throw new Error(decoded.problem);
    expect(decoded.tag).toEqual(TAG);
    expect(members(decoded.graph)).toEqual(members(graph));
    expect(Object.keys(members(graph)).length).toBe(25);
    for (let id = 1; id <= graph.maxId; id += 7) {
      if (!graph.has(id)) continue;
      expect(decoded.graph.identifierOf(id)).toBe(graph.identifierOf(id));
      expect(decoded.graph.forwardReach([id], new Set(["MAT-1|EIN"]))).toEqual(graph.forwardReach([id], new Set(["MAT-1|EIN"])));
      expect(decoded.graph.recallFinished(id, (part) => part === "MAT-3")).toEqual(graph.recallFinished(id, (part) => part === "MAT-3"));
    }
  });

  it("maps the arrays in place: no copy of the file's bytes", () => {
    const bytes = Buffer.concat(encodeGenealogySnapshot(graph, TAG));
    const decoded = decodeGenealogySnapshot(bytes, TAG.database);
    if ("problem" in decoded) throw new Error(decoded.problem);
    expect(decoded.graph.outTarget.buffer).toBe(bytes.buffer);
    expect(decoded.graph.details.createdAt.buffer).toBe(bytes.buffer);
  });

  it("refuses a file from another database, another format, altered or cut short", () => {
    const bytes = Buffer.concat(encodeGenealogySnapshot(graph, TAG));
    expect(decodeGenealogySnapshot(bytes, "another/c981")).toEqual({ problem: "made from another database (test-system-42/c981)" });
    expect(decodeGenealogySnapshot(Buffer.from("hello world, not a snapshot"), TAG.database)).toEqual({ problem: "not a C-981 genealogy snapshot" });
    expect(decodeGenealogySnapshot(bytes.subarray(0, bytes.length - 5), TAG.database)).toMatchObject({ problem: expect.stringMatching(/runs past the end/) });
    // One bit flipped in each part: the header, and an array near the end.
    const header = Buffer.from(bytes);
    header[20] = header[20]! ^ 1;
    expect(decodeGenealogySnapshot(header, TAG.database)).toEqual({ problem: "the header's checksum does not match" });
    const body = Buffer.from(bytes);
    body[body.length - 9] = body[body.length - 9]! ^ 0x10;
    expect(decodeGenealogySnapshot(body, TAG.database)).toMatchObject({ problem: expect.stringMatching(/checksum does not match/) });
    // Another format version: the header rewritten with its own valid checksum.
    const text = bytes
      .subarray(16, 16 + bytes.readUInt32LE(8))
      .toString("utf8")
      .replace('"format":1', '"format":9');
    const other = Buffer.from(bytes);
    other.write(text, 16, "utf8");
    other.writeUInt32LE(zlib.crc32(Buffer.from(text, "utf8")), 12);
    expect(decodeGenealogySnapshot(other, TAG.database)).toEqual({ problem: "format 9, this version reads format 1" });
  });

  it("says when there is no file", async () => {
    expect(await readGenealogySnapshot(path.join(dir, "missing.snap"), TAG.database)).toEqual({ problem: "no snapshot" });
  });
});
