-- Issue 17 part 5 (ADR 006): an impact analysis records what it read that a release can change
-- (rules, master data, top-tier membership, with the values it saw), so the base of a request
-- whose signatures bound it covers what the analysis read. Null for earlier analyses.
ALTER TABLE "impact_analyses" ADD COLUMN "reads" jsonb;
