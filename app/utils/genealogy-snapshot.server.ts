/**
 * The genealogy index persisted beside the data (issue 27 item 2, ADR 044): a versioned binary file
 * tagged with the change count and audit head it reflects and with the database it came from, each
 * part checked by CRC-32. Loading maps the file's arrays in place (typed-array views on the one
 * buffer read, no copy), so a restart is ready in the time it takes to read the file; the index is
 * then brought current from the database. A file that is not exactly what this code writes — another
 * format version, another database, a torn or altered byte — is refused with a reason, never used.
 *
 * Layout (little-endian): "C981GIX\n" (8 bytes), header length (uint32), header CRC-32 (uint32),
 * the header (UTF-8 JSON: format, database, changes, dataPoint, items, edges, string tables, and per
 * array its name, type, length, byte offset and CRC-32), zero padding to 8 bytes, then the arrays,
 * each at an offset that is a multiple of 8 from the start of the file.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";
import { CompactGenealogy } from "../domain/genealogy-graph";

export const SNAPSHOT_FORMAT = 1;
const MAGIC = Buffer.from("C981GIX\n", "latin1");

type ArrayName =
  | "present"
  | "kind"
  | "status"
  | "material"
  | "site"
  | "identifierStart"
  | "identifierBytes"
  | "outStart"
  | "outTarget"
  | "outKind"
  | "inStart"
  | "inSource"
  | "inKind"
  | "createdAt"
  | "quantityCode"
  | "outEdgeId"
  | "outOccurredAt"
  | "inEdgeId"
  | "byMaterialSiteStart"
  | "byMaterialSite"
  | "onCycleCandidate";

type ArrayType = "u8" | "u16" | "u32" | "f64";
type Typed = Uint8Array | Uint16Array | Uint32Array | Float64Array;

const CONSTRUCTORS = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, f64: Float64Array } as const;

function typeOf(array: Typed): ArrayType {
  if (array instanceof Uint8Array) return "u8";
  if (array instanceof Uint16Array) return "u16";
  if (array instanceof Uint32Array) return "u32";
  return "f64";
}

/** The arrays of a compact genealogy, by name, in file order. */
function arraysOf(graph: CompactGenealogy): [ArrayName, Typed][] {
  const d = graph.details;
  return [
    ["present", graph.present],
    ["kind", graph.kind],
    ["status", graph.status],
    ["material", graph.material],
    ["site", graph.site],
    ["identifierStart", graph.identifierStart],
    ["identifierBytes", graph.identifierBytes],
    ["outStart", graph.outStart],
    ["outTarget", graph.outTarget],
    ["outKind", graph.outKind],
    ["inStart", graph.inStart],
    ["inSource", graph.inSource],
    ["inKind", graph.inKind],
    ["createdAt", d.createdAt],
    ["quantityCode", d.quantityCode],
    ["outEdgeId", d.outEdgeId],
    ["outOccurredAt", d.outOccurredAt],
    ["inEdgeId", d.inEdgeId],
    ["byMaterialSiteStart", d.byMaterialSiteStart],
    ["byMaterialSite", d.byMaterialSite],
    ["onCycleCandidate", d.onCycleCandidate],
  ];
}

/** What a snapshot says it reflects. `database` names the database it was built from (see `databaseIdentity`). */
export interface SnapshotTag {
  database: string;
  changes: number;
  dataPoint: number;
  items: number;
  edges: number;
}

interface Header extends SnapshotTag {
  format: number;
  partNumbers: string[];
  siteCodes: string[];
  quantities: string[];
  asciiOnly: boolean;
  arrays: { name: ArrayName; type: ArrayType; length: number; offset: number; crc: number }[];
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;
const bytesOf = (a: Typed) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The file's bytes as a list of buffers (written in order; the arrays are not copied). */
export function encodeGenealogySnapshot(graph: CompactGenealogy, tag: SnapshotTag): Buffer[] {
  const arrays = arraysOf(graph);
  const describe = (offsetOfData: number) => {
    let offset = offsetOfData;
    return arrays.map(([name, array]) => {
      const entry = { name, type: typeOf(array), length: array.length, offset, crc: zlib.crc32(bytesOf(array)) };
      offset += array.byteLength + pad8(array.byteLength);
      return entry;
    });
  };
  const headerOf = (offsetOfData: number): Header => ({
    format: SNAPSHOT_FORMAT,
    ...tag,
    partNumbers: [...graph.partNumbers],
    siteCodes: [...graph.siteCodes],
    quantities: [...graph.details.quantities],
    asciiOnly: graph.details.asciiOnly,
    arrays: describe(offsetOfData),
  });
  // The data starts after the header, whose length depends on the offsets it lists: settle it.
  let dataStart = 0;
  let header = Buffer.alloc(0);
  for (let round = 0; round < 4; round++) {
    header = Buffer.from(JSON.stringify(headerOf(dataStart)), "utf8");
    const needed = MAGIC.length + 8 + header.length;
    const start = needed + pad8(needed);
    if (start === dataStart) break;
    dataStart = start;
  }
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(header.length, 0);
  prefix.writeUInt32LE(zlib.crc32(header), 4);
  const out: Buffer[] = [MAGIC, prefix, header, Buffer.alloc(dataStart - MAGIC.length - 8 - header.length)];
  for (const [, array] of arrays) {
    out.push(bytesOf(array));
    const padding = pad8(array.byteLength);
    if (padding) out.push(Buffer.alloc(padding));
  }
  return out;
}

export type DecodedSnapshot = { graph: CompactGenealogy; tag: SnapshotTag } | { problem: string };

/**
 * Reads a snapshot's bytes. `database` is the identity of the database it must come from. The
 * arrays are views on `bytes` (copied only if `bytes` does not start at an 8-byte boundary).
 */
export function decodeGenealogySnapshot(input: Buffer, database: string): DecodedSnapshot {
  const bytes = input.byteOffset % 8 === 0 ? input : Buffer.from(input);
  if (bytes.length < MAGIC.length + 8 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { problem: "not a C-981 genealogy snapshot" };
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const headerCrc = bytes.readUInt32LE(MAGIC.length + 4);
  const headerStart = MAGIC.length + 8;
  if (headerStart + headerLength > bytes.length) return { problem: "the header runs past the end of the file" };
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  if (zlib.crc32(headerBytes) !== headerCrc) return { problem: "the header's checksum does not match" };
  let header: Header;
  try {
    header = JSON.parse(headerBytes.toString("utf8")) as Header;
  } catch {
    return { problem: "the header is not JSON" };
  }
  if (header.format !== SNAPSHOT_FORMAT) return { problem: `format ${header.format}, this version reads format ${SNAPSHOT_FORMAT}` };
  if (header.database !== database) return { problem: `made from another database (${header.database})` };
  const views = new Map<ArrayName, Typed>();
  for (const entry of header.arrays) {
    const Constructor = CONSTRUCTORS[entry.type];
    if (!Constructor || !Number.isSafeInteger(entry.offset) || !Number.isSafeInteger(entry.length) || entry.offset % 8 !== 0)
      return { problem: `array ${entry.name} is described wrongly` };
    const byteLength = entry.length * Constructor.BYTES_PER_ELEMENT;
    if (entry.offset + byteLength > bytes.length) return { problem: `array ${entry.name} runs past the end of the file (truncated?)` };
    const view = new Constructor(bytes.buffer as ArrayBuffer, bytes.byteOffset + entry.offset, entry.length);
    if (zlib.crc32(bytesOf(view)) !== entry.crc) return { problem: `array ${entry.name}: checksum does not match` };
    views.set(entry.name, view);
  }
  const expected = ["present", "kind", "status", "material", "site", "identifierStart", "identifierBytes", "outStart", "outTarget", "outKind", "inStart"];
  for (const name of [
    ...expected,
    "inSource",
    "inKind",
    "createdAt",
    "quantityCode",
    "outEdgeId",
    "outOccurredAt",
    "inEdgeId",
    "byMaterialSiteStart",
    "byMaterialSite",
    "onCycleCandidate",
  ] as ArrayName[])
    if (!views.has(name)) return { problem: `array ${name} is missing` };
  const v = <T extends Typed>(name: ArrayName) => views.get(name) as T;
  const graph = new CompactGenealogy(
    v<Uint8Array>("present"),
    v<Uint8Array>("kind"),
    v<Uint8Array>("status"),
    v<Uint16Array>("material"),
    v<Uint16Array>("site"),
    v<Uint32Array>("identifierStart"),
    v<Uint8Array>("identifierBytes"),
    v<Uint32Array>("outStart"),
    v<Uint32Array>("outTarget"),
    v<Uint8Array>("outKind"),
    v<Uint32Array>("inStart"),
    v<Uint32Array>("inSource"),
    v<Uint8Array>("inKind"),
    header.partNumbers,
    header.siteCodes,
    {
      createdAt: v<Float64Array>("createdAt"),
      quantityCode: v<Uint32Array>("quantityCode"),
      quantities: header.quantities,
      outEdgeId: v<Uint32Array>("outEdgeId"),
      outOccurredAt: v<Float64Array>("outOccurredAt"),
      inEdgeId: v<Uint32Array>("inEdgeId"),
      byMaterialSiteStart: v<Uint32Array>("byMaterialSiteStart"),
      byMaterialSite: v<Uint32Array>("byMaterialSite"),
      onCycleCandidate: v<Uint8Array>("onCycleCandidate"),
      asciiOnly: header.asciiOnly,
    },
  );
  const { database: db, changes, dataPoint, items, edges } = header;
  return { graph, tag: { database: db, changes, dataPoint, items, edges } };
}

/** Writes the snapshot atomically: a temporary file in the same folder, flushed, then renamed over the old one. */
export async function writeGenealogySnapshot(file: string, graph: CompactGenealogy, tag: SnapshotTag): Promise<{ bytes: number }> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await fs.open(temporary, "wx", 0o600);
  let bytes = 0;
  try {
    for (const part of encodeGenealogySnapshot(graph, tag)) {
      await handle.write(part);
      bytes += part.length;
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await fs.rename(temporary, file);
  return { bytes };
}

/** Reads a snapshot file; a missing file is `{ problem: "no snapshot" }`. */
export async function readGenealogySnapshot(file: string, database: string): Promise<DecodedSnapshot> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { problem: "no snapshot" };
    return { problem: `unreadable: ${(error as Error).message}` };
  }
  return decodeGenealogySnapshot(bytes, database);
}
