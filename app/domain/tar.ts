/**
 * A minimal POSIX ustar archive writer (regular files only), for downloads that must open with
 * the tools an auditor already has (`tar -xf`). Pure: bytes in, bytes out.
 */
export interface TarEntry {
  path: string;
  content: Uint8Array | string;
  /** Permission bits, e.g. 0o644 (default) or 0o755 for a script. */
  mode?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar numeric fields are.
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(path: string, size: number, mode: number, mtime: number): Uint8Array {
  if (new TextEncoder().encode(path).length > 100) throw new Error(`tar: path longer than 100 bytes: ${path}`);
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => block.set(new TextEncoder().encode(text), offset);
  put(0, path);
  put(100, octal(mode, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(mtime, 12));
  put(148, "        "); // the checksum counts its own field as spaces
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  const sum = block.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

export function tarArchive(entries: readonly TarEntry[], mtime: Date): Uint8Array<ArrayBuffer> {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const bytes = typeof entry.content === "string" ? new TextEncoder().encode(entry.content) : entry.content;
    parts.push(header(entry.path, bytes.length, entry.mode ?? 0o644, seconds), bytes);
    const padding = (BLOCK - (bytes.length % BLOCK)) % BLOCK;
    if (padding) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
