/**
 * What operators watch (Prometheus, ADR 025): one registry per process, shared by the server entry,
 * the built Remix bundle and the CLI, which are separate module instances — so it lives on
 * globalThis. Served by server/metrics.ts on its own port or behind a token (README "Operating").
 *
 * Every metric is defined here, once, with its help text; code that moves one imports `metrics`.
 * Gauges whose value is read at scrape time (pool use, index age, cache staleness) are registered
 * by whoever holds the value, through `onScrape`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

function build() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "c981_" });
  const scrapeHooks: (() => void | Promise<void>)[] = [];
  const m = {
    registry,
    /** Runtime pulls answered, by site and status (200, 304); both the fast path and express count here. */
    pulls: new Counter({
      name: "c981_runtime_pulls_total",
      help: "Runtime rule-set pulls answered, by site and HTTP status.",
      labelNames: ["site", "status"] as const,
      registers: [registry],
    }),
    /** Scan-endpoint requests a client's token bucket refused (429), by endpoint (ADR 042, Amendment 2). */
    throttled: new Counter({
      name: "c981_runtime_throttled_total",
      help: "Runtime API requests refused 429 by a client's token bucket (scan decisions and scan reports), by endpoint.",
      labelNames: ["endpoint"] as const,
      registers: [registry],
    }),
    /** Scans decided by the runtime API's scan-decisions endpoint, by site (ADR 043). */
    scanDecisions: new Counter({
      name: "c981_runtime_scan_decisions_total",
      help: "Scans decided by the runtime API (POST /sites/{site}/scan-decisions), by site.",
      labelNames: ["site"] as const,
      registers: [registry],
    }),
    /** Long polls held now (waiting for a new version). */
    heldLongPolls: new Gauge({ name: "c981_runtime_long_polls_held", help: "Runtime long polls held open on this instance now.", registers: [registry] }),
    /** The runtime cache: a lookup answered from memory (hit) or by a database read (miss), by part. */
    cacheHits: new Counter({
      name: "c981_runtime_cache_hits_total",
      help: "Runtime cache lookups answered from memory, by part.",
      labelNames: ["part"] as const,
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: "c981_runtime_cache_misses_total",
      help: "Runtime cache lookups that read the database, by part.",
      labelNames: ["part"] as const,
      registers: [registry],
    }),
    /** Concurrent misses for one key that waited on a read already in flight (single-flight). */
    cacheCoalesced: new Counter({
      name: "c981_runtime_cache_coalesced_total",
      help: "Runtime cache misses that joined a read already in flight for the same key.",
      labelNames: ["part"] as const,
      registers: [registry],
    }),
    /** Seconds since the runtime cache last verified its change counter (set at scrape time). */
    cacheStaleness: new Gauge({
      name: "c981_runtime_cache_staleness_seconds",
      help: "Seconds since the runtime cache last reached the database's change counter.",
      registers: [registry],
    }),
    /** Database errors seen by the portal (unavailable, timeout, …), by where. */
    dbErrors: new Counter({
      name: "c981_db_errors_total",
      help: "Database errors (unavailable, deadline exceeded), by where they were met.",
      labelNames: ["where"] as const,
      registers: [registry],
    }),
    /** LISTEN connections re-established after a loss. */
    dbReconnects: new Counter({
      name: "c981_db_reconnects_total",
      help: "LISTEN connections re-established after the database connection was lost.",
      registers: [registry],
    }),
    /** The pool: its configured size, and connections this instance holds, by state (set at scrape time). */
    poolSize: new Gauge({ name: "c981_db_pool_size", help: "Configured database pool size (C981_DB_POOL).", registers: [registry] }),
    poolConnections: new Gauge({
      name: "c981_db_connections",
      help: "Database connections this instance holds, by state (pg_stat_activity).",
      labelNames: ["state"] as const,
      registers: [registry],
    }),
    /** The genealogy index (ADR 011). */
    indexAge: new Gauge({
      name: "c981_genealogy_index_age_seconds",
      help: "Seconds since the genealogy index was last loaded or found current.",
      registers: [registry],
    }),
    indexEdges: new Gauge({ name: "c981_genealogy_index_edges", help: "Edges in the loaded genealogy index.", registers: [registry] }),
    /** Time to append one row to the hash-chained audit trail (lock wait included). */
    auditAppend: new Histogram({
      name: "c981_audit_append_seconds",
      help: "Time to append one audit-trail row, the chain lock's wait included.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    /** Runtime status reports stored, refused (4xx) or rate-limited, and the batches they were written in. */
    statusReports: new Counter({
      name: "c981_runtime_status_reports_total",
      help: "Runtime status reports, by result.",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    statusReportBatch: new Histogram({
      name: "c981_runtime_status_report_batch_size",
      help: "Runtime status reports written per database transaction.",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    /** HTTP requests answered, by method and status class, and how long they took. */
    httpRequests: new Histogram({
      name: "c981_http_request_duration_seconds",
      help: "HTTP requests answered (fast path included), by method and status class.",
      labelNames: ["method", "status"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    /** Registers a function run before each scrape (to set gauges from values held elsewhere). */
    onScrape(hook: () => void | Promise<void>): () => void {
      scrapeHooks.push(hook);
      return () => {
        const at = scrapeHooks.indexOf(hook);
        if (at >= 0) scrapeHooks.splice(at, 1);
      };
    },
    /**
     * The exposition text, after the scrape hooks ran (a failing hook, or one still waiting after
     * 2 s — a database away — leaves its gauges as they were: the scrape itself always answers).
     */
    async scrape(): Promise<{ contentType: string; body: string }> {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
        timer.unref();
      });
      await Promise.race([
        Promise.all(
          scrapeHooks.map((hook) =>
            Promise.resolve()
              .then(hook)
              .catch(() => {}),
          ),
        ),
        bound,
      ]);
      clearTimeout(timer);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
  return m;
}

export type Metrics = ReturnType<typeof build>;
const KEY = Symbol.for("c981.metrics");
type Holder = { [KEY]?: Metrics };

/** This process's metrics (created on first use). */
export const metrics: Metrics = ((globalThis as Holder)[KEY] ??= build());
