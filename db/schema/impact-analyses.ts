import { bigint, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { changeRequests } from "./change-requests";

/**
 * Impact analyses of change requests (ADR 010): the RFC 8785 canonical report as stored text, its
 * SHA-256 (what reviewers sign with), the data point it read (audit trail sequence number) and the
 * digest of the rules, BOMs and master data it depends on (a change there makes it stale).
 * Append-only: a trigger refuses UPDATE and DELETE (migration impact_analyses_are_append_only).
 */
export const impactAnalyses = pgTable(
  "impact_analyses",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    revision: integer().notNull(),
    /** The change request's signed-content hash the analysis was computed for. */
    contentHash: text().notNull(),
    dataPoint: bigint({ mode: "number" }).notNull(),
    dataPointAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    ruleSetVersions: jsonb().notNull(),
    basisDigest: text().notNull(),
    /**
     * What the analysis read that a release can change, with the values it saw
     * (`AnalysisReadValues`): part of the base of a request whose signatures bound it (ADR 006).
     * Null for analyses stored before it was recorded.
     */
    reads: jsonb(),
    report: text().notNull(),
    sha256: text().notNull(),
    summary: jsonb().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    durationMs: integer().notNull(),
    /**
     * The replay of the last 90 days under the proposal (ADR 041): RFC 8785 text, its SHA-256 (bound
     * to signatures as `signatures.replay_hash`) and its own duration, not part of `durationMs`.
     * Null for analyses stored before the replay existed.
     */
    replay: text(),
    replaySha256: text(),
    replayDurationMs: integer(),
  },
  (t) => [index("impact_analyses_change_request").on(t.changeRequestId, t.id)],
);
