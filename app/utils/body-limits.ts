/**
 * How large a request body each part of the portal takes, checked before anything reads it
 * (server/body-limits.ts) and again by the upload parsers (issue 16, ADR 016). One table, so the
 * screens, the server and the tests name the same figures.
 */
const MiB = 1024 * 1024;

/** Form posts (urlencoded or small multipart) of every page: C981_FORM_MAX_BYTES, 1 MiB by default. */
export const DEFAULT_FORM_MAX_BYTES = 1 * MiB;

/** Room for a multipart envelope's boundaries, headers and small fields around one file. */
const ENVELOPE_BYTES = 1 * MiB;

/** Uploads, by the page that takes them: the file itself, and the whole request. */
export const UPLOAD_LIMITS = {
  /** EPCIS documents are streamed to a temporary file and read twice (ADR 014). */
  "/imports/epcis": { fileBytes: 512 * MiB },
  /** ERP/PLM snapshots are held in memory, then streamed through the CSV parser (ADR 015). */
  "/external-masters": { fileBytes: 64 * MiB },
} as const satisfies Record<string, { fileBytes: number }>;

export const EPCIS_UPLOAD_MAX_BYTES = UPLOAD_LIMITS["/imports/epcis"].fileBytes;
export const SNAPSHOT_UPLOAD_MAX_BYTES = UPLOAD_LIMITS["/external-masters"].fileBytes;

/**
 * The largest body a request to this path may carry. Remix's single-fetch submits a form to the
 * page's path with `.data` appended (`/imports/epcis.data`), so that suffix counts as the page.
 */
export function bodyLimitFor(pathname: string, formMaxBytes: number): number {
  const page = pathname.replace(/\.data$/, "").replace(/\/+$/, "") || "/";
  const upload = (UPLOAD_LIMITS as Record<string, { fileBytes: number } | undefined>)[page];
  return upload ? upload.fileBytes + ENVELOPE_BYTES : formMaxBytes;
}

/** "512 MiB", "1 MiB", "64 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
