CREATE TABLE "genealogy_changes" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"relation" text NOT NULL,
	"op" text NOT NULL,
	"ids" bigint[],
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "genealogy_changes_relation" CHECK ("genealogy_changes"."relation" in ('trace_items', 'genealogy_edges')),
	CONSTRAINT "genealogy_changes_op" CHECK ("genealogy_changes"."op" in ('insert', 'update', 'delete', 'truncate'))
);
--> statement-breakpoint
-- ADR 044: the statement that bumps the genealogy counter also logs which rows it wrote, read from
-- its transition table (one array per statement: a bulk insert of 100,000 rows costs one log row,
-- not 100,000 trigger calls). `seq` is the counter value the statement produced.
CREATE FUNCTION c981_genealogy_logged() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counted bigint;
BEGIN
  UPDATE genealogy_state SET changes = changes + 1 WHERE id = 1 RETURNING changes INTO counted;
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO genealogy_changes (seq, relation, op, ids) VALUES (counted, TG_TABLE_NAME, 'truncate', NULL);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO genealogy_changes (seq, relation, op, ids)
      SELECT counted, TG_TABLE_NAME, 'delete', coalesce(array_agg(id), '{}') FROM old_rows;
  ELSE
    INSERT INTO genealogy_changes (seq, relation, op, ids)
      SELECT counted, TG_TABLE_NAME, lower(TG_OP), coalesce(array_agg(id), '{}') FROM new_rows;
  END IF;
  PERFORM pg_notify('c981_genealogy', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER trace_items_count_changes ON trace_items;
--> statement-breakpoint
DROP TRIGGER genealogy_edges_count_changes ON genealogy_edges;
--> statement-breakpoint
DROP FUNCTION c981_genealogy_changed();
--> statement-breakpoint
-- A trigger with transition tables has one event (PostgreSQL), hence one trigger per event.
CREATE TRIGGER trace_items_log_inserts AFTER INSERT ON trace_items REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER trace_items_log_updates AFTER UPDATE ON trace_items REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER trace_items_log_deletes AFTER DELETE ON trace_items REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER trace_items_log_truncates AFTER TRUNCATE ON trace_items
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER genealogy_edges_log_inserts AFTER INSERT ON genealogy_edges REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER genealogy_edges_log_updates AFTER UPDATE ON genealogy_edges REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER genealogy_edges_log_deletes AFTER DELETE ON genealogy_edges REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
--> statement-breakpoint
CREATE TRIGGER genealogy_edges_log_truncates AFTER TRUNCATE ON genealogy_edges
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_logged();
