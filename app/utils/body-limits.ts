/**
 * How large a request body each part of the portal takes, checked before anything reads it
 * (server/body-limits.ts) and again by the upload parsers (ADR 016). One table, so the
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
  /** QMS exports of quality events are read whole in memory (ADR 038): the parser's own limit. */
  "/quality-events/import": { fileBytes: 8 * MiB },
} as const satisfies Record<string, { fileBytes: number }>;

export const EPCIS_UPLOAD_MAX_BYTES = UPLOAD_LIMITS["/imports/epcis"].fileBytes;
export const SNAPSHOT_UPLOAD_MAX_BYTES = UPLOAD_LIMITS["/external-masters"].fileBytes;
export const QMS_UPLOAD_MAX_BYTES = UPLOAD_LIMITS["/quality-events/import"].fileBytes;

/**
 * The page a request goes to as the router will see it: the path of the address resolved (`..`
 * and `%2e%2e` segments removed, as `new URL` and so Remix do), percent-decoded, lower case (routes
 * match whatever the case), without Remix's single-fetch `.data` suffix or a trailing slash.
 */
export function pageOf(addressPath: string): string {
  let pathname: string;
  try {
    pathname = new URL(addressPath, "http://c981.invalid").pathname;
  } catch {
    return "/";
  }
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // A malformed escape: matched as written (it matches no upload page).
  }
  return (
    decoded
      .toLowerCase()
      .replace(/\.data$/, "")
      .replace(/\/+$/, "") || "/"
  );
}

/**
 * The largest body a request may carry: an upload page's limit for a multipart body sent to it,
 * the form limit for everything else (an upload page's urlencoded post is a form like any other).
 */
export function bodyLimitFor(addressPath: string, formMaxBytes: number, contentType = "multipart/form-data"): number {
  const upload = (UPLOAD_LIMITS as Record<string, { fileBytes: number } | undefined>)[pageOf(addressPath)];
  return upload && /^multipart\/form-data\b/i.test(contentType.trim()) ? upload.fileBytes + ENVELOPE_BYTES : formMaxBytes;
}

/** "512 MiB", "1 MiB", "64 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
