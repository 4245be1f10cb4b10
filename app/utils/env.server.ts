import path from "node:path";
import { z } from "zod";

/**
 * Every environment variable C-981 reads, checked once. README "Configuration" lists the same.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  /** Any PostgreSQL ≥ 15. Unset: the embedded server under C981_DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /**
   * With DATABASE_URL: the owner credential migrations run under (DATABASE_URL then names the
   * least-privileged application role). Unset: DATABASE_URL, with a warning (ADR 018).
   */
  C981_MIGRATE_URL: z.string().url().optional(),
  /**
   * A streaming standby of DATABASE_URL's server (as c981_app) that analyses at a snapshot may read
   * from once it has replayed that snapshot (app/utils/replica.server.ts, ADR 047). Unset: every
   * read goes to the primary.
   */
  C981_REPLICA_URL: z.string().url().optional(),
  /** How long a read on the replica waits for it to replay the snapshot asked for before a 503 (ms). */
  C981_REPLICA_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  C981_DATA_DIR: z.string().min(1).default("./.data"),
  /**
   * The genealogy index's snapshot file (issue 27, ADR 044): read at start and brought current by the
   * change log, written after the start-up load and every 10 minutes when the index changed.
   * Default: <C981_DATA_DIR>/genealogy-index.snap; "off": none.
   */
  C981_INDEX_SNAPSHOT: z.string().min(1).optional(),
  /** Private signing keys, one file per kid (mode 0600). Default: <C981_DATA_DIR>/keys. */
  C981_SIGNING_KEYS_DIR: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** What to load into an empty database at start: the demo plant, or nothing. */
  C981_SEED: z.enum(["demo", "none"]).default("demo"),
  /** Express "trust proxy" setting when C-981 runs behind a reverse proxy (e.g. `loopback` or `1`). */
  C981_TRUST_PROXY: z.string().optional(),
  /** Largest form post a page takes, in bytes, refused with 413 before it is read (uploads: their own limits). */
  C981_FORM_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(16 * 1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** A session ends after this many minutes without a request (21 CFR 11.300, automatic logoff). */
  C981_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  /** …and after this many hours in any case. */
  C981_SESSION_MAX_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 7)
    .default(12),
  /**
   * A password older than this many days must be changed before its owner signs (21 CFR
   * 11.300(b)); 0: passwords do not age (NIST SP 800-63B advises against periodic changes). ADR 020.
   */
  C981_PASSWORD_MAX_AGE_DAYS: z.coerce.number().int().min(0).max(3650).default(0),
  /** A new password may not be any of the user's last this many passwords (the current one included). */
  C981_PASSWORD_HISTORY: z.coerce.number().int().min(1).max(24).default(5),
  /**
   * The runtime API re-checks what it caches (tokens, sites, rule sets, keys) against a change
   * counter at most this often: a missed notification, or a token revoked while an instance was
   * cut off, costs at most this long once the database answers (ADR 017).
   */
  C981_CACHE_CHECK_SECONDS: z.coerce.number().min(0.2).max(60).default(5),
  /** While the database cannot be reached, cached answers are served for at most this long (stale-if-error), then 503. */
  C981_STALE_IF_ERROR_SECONDS: z.coerce
    .number()
    .min(0)
    .max(24 * 3600)
    .default(300),
  /** Status reports one runtime client may send per minute (all instances together); beyond: 429 (ADR 008). */
  C981_STATUS_REPORTS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Scan-decision requests (batches) one runtime client may send a second, per instance, and at once (token bucket, ADR 042 Amendment 2). */
  C981_SCAN_DECISIONS_PER_SECOND: z.coerce.number().positive().max(100_000).default(200),
  C981_SCAN_DECISIONS_BURST: z.coerce.number().int().min(1).max(1_000_000).default(400),
  /** Scan reports one runtime client may send a second, per instance, and at once. */
  C981_SCAN_REPORTS_PER_SECOND: z.coerce.number().positive().max(100_000).default(10),
  C981_SCAN_REPORTS_BURST: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /**
   * Stopping: seconds between turning not-ready (/readyz 503, held long polls answered) and closing
   * the listener, so a load balancer stops sending here before connections are refused (ADR 017).
   */
  C981_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(60).default(2),
  /**
   * An EPCIS document stating a time (eventTime, recordTime, declarationTime, creationDate) later
   * than the import time plus this many seconds is refused (ADR 024). Default one day.
   */
  C981_EPCIS_CLOCK_SKEW_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(366 * 86_400)
    .default(86_400),
  /**
   * Connections this instance's pool may open; one more is held for LISTEN, and one more for a
   * moment by the hourly renewal round. One PostgreSQL serves (max_connections −
   * superuser_reserved_connections − other users) / (C981_DB_POOL + 2) instances (README "Operating C-981").
   */
  C981_DB_POOL: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Prometheus metrics (ADR 025) on a port of their own, bound to C981_METRICS_HOST: unset, no
   * such listener. The main port serves /metrics only with C981_METRICS_TOKEN.
   */
  C981_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Where the metrics port listens: loopback by default (a scraper on this host, or a sidecar). */
  C981_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /**
   * Set: the main port answers `GET /metrics` to `Authorization: Bearer <this token>` (and 401
   * to anything else); unset: /metrics on the main port does not exist (404). At least 16 characters.
   */
  C981_METRICS_TOKEN: z
    .string()
    .min(16)
    .max(200)
    .regex(/^[A-Za-z0-9._~+/=-]+$/, "letters, digits and . _ ~ + / = - only")
    .optional(),
  /**
   * How the server prints its log lines: `json` (one object per line, with the request id), or
   * `text` ("C-981: …" lines for a person). Unset: `text` when stdout is a terminal, else `json`.
   */
  C981_LOG_FORMAT: z.enum(["json", "text"]).optional(),
  /** The least severe log lines printed; `debug` adds one line per runtime pull, status report and health check. */
  C981_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  /**
   * Seconds an idle keep-alive connection stays open: far longer than the load balancer keeps its
   * idle connections to the instances (HAProxy purges them within seconds), so the portal never
   * closes a connection the balancer is about to reuse (README "Operating C-981").
   */
  C981_KEEP_ALIVE_SECONDS: z.coerce.number().int().min(1).max(3600).default(65),
  /**
   * `0`: runtime status reports go through express rather than its fast path ahead of it (ADR 026;
   * to compare the two, or should the fast path ever be suspected).
   */
  C981_STATUS_FAST_PATH: z
    .enum(["0", "1", "true", "false"])
    .default("1")
    .transform((v) => v === "1" || v === "true"),
  /**
   * Notifications by e-mail (ADR 032): an SMTP URL such as `smtp://user:pass@mail.plant.example:587`
   * (`smtps://` for TLS from the start). Unset: notifications go to the in-app inbox only.
   */
  C981_SMTP_URL: z.url({ protocol: /^smtps?$/, error: "an smtp:// or smtps:// URL" }).optional(),
  /** The sender of notification e-mails. */
  C981_MAIL_FROM: z.string().min(3).default("C-981 <c981@localhost>"),
  /** The portal's address as users reach it, for the links in e-mails; unset: http://localhost:PORT. */
  C981_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Print the embedded PostgreSQL server's own log lines. */
  C981_DB_LOG: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
});

export type Env = Omit<z.infer<typeof envSchema>, "C981_SIGNING_KEYS_DIR"> & { C981_SIGNING_KEYS_DIR: string };

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`C-981: invalid environment:\n${problems}`);
  }
  const dataDir = path.resolve(parsed.data.C981_DATA_DIR);
  return { ...parsed.data, C981_DATA_DIR: dataDir, C981_SIGNING_KEYS_DIR: path.resolve(parsed.data.C981_SIGNING_KEYS_DIR ?? path.join(dataDir, "keys")) };
}
