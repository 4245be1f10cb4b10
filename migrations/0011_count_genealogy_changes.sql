CREATE TABLE "genealogy_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"changes" bigint NOT NULL,
	CONSTRAINT "genealogy_state_single_row" CHECK ("genealogy_state"."id" = 1)
);
--> statement-breakpoint
INSERT INTO genealogy_state (id, changes) VALUES (1, 0);
--> statement-breakpoint
-- Every statement that writes trace items or genealogy edges counts once and notifies listeners
-- (portal instances holding a genealogy index catch up). Statement-level: a bulk load counts once.
CREATE FUNCTION c981_genealogy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE genealogy_state SET changes = changes + 1 WHERE id = 1;
  PERFORM pg_notify('c981_genealogy', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER trace_items_count_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON trace_items
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_changed();
--> statement-breakpoint
CREATE TRIGGER genealogy_edges_count_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON genealogy_edges
  FOR EACH STATEMENT EXECUTE FUNCTION c981_genealogy_changed();
--> statement-breakpoint
-- The counter only ever counts up, by the trigger.
CREATE FUNCTION c981_genealogy_state_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.changes <> OLD.changes + 1 THEN
    RAISE EXCEPTION 'C-981: genealogy_state only counts up by one per change' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER genealogy_state_forward BEFORE UPDATE OR DELETE ON genealogy_state
  FOR EACH ROW EXECUTE FUNCTION c981_genealogy_state_forward();
--> statement-breakpoint
CREATE TRIGGER genealogy_state_no_truncate BEFORE TRUNCATE ON genealogy_state
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
