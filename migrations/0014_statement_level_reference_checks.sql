ALTER TABLE "external_master_records" DROP CONSTRAINT "external_master_records_material_id_materials_id_fk";
--> statement-breakpoint
ALTER TABLE "external_master_records" DROP CONSTRAINT "external_master_records_site_id_sites_id_fk";
--> statement-breakpoint
ALTER TABLE "epcis_events" DROP CONSTRAINT "epcis_events_site_id_sites_id_fk";
--> statement-breakpoint
DROP INDEX "epcis_events_file";--> statement-breakpoint
-- ---- Hand-written (issue 10 part 5, ADR 014 and 015): the references of the two bulk-loaded
-- ---- import tables are checked once per statement instead of once per row. A foreign key runs
-- ---- one lookup per inserted row (about 3.5 µs here; 100,000 rows of an ERP snapshot spent 44 % of
-- ---- PostgreSQL's time in it). The same guarantees, set-based:
-- ----  * every statement that inserts or updates rows checks, over all its rows at once, that each
-- ----    non-null reference exists, and locks the referenced rows FOR KEY SHARE as a foreign key
-- ----    does (a concurrent delete waits for this transaction);
-- ----  * deleting a referenced site or material, or changing its id, is refused (checked after the
-- ----    statement, with a fresh snapshot, so a delete that waited for an import sees its rows).
-- ---- The core genealogy tables (trace_items, genealogy_edges) keep their foreign keys.
CREATE FUNCTION c981_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i int := 0;
  missing text;
BEGIN
  -- Arguments: pairs of (column, referenced table with an "id" key).
  WHILE i < TG_NARGS LOOP
    EXECUTE format('SELECT 1 FROM %2$I p WHERE p.id IN (SELECT DISTINCT n.%1$I FROM new_rows n) FOR KEY SHARE OF p', TG_ARGV[i], TG_ARGV[i + 1]);
    EXECUTE format('SELECT string_agg(n.v::text, '', '' ORDER BY n.v) FROM (SELECT DISTINCT %1$I AS v FROM new_rows) n
                    WHERE n.v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %2$I p WHERE p.id = n.v)', TG_ARGV[i], TG_ARGV[i + 1]) INTO missing;
    IF missing IS NOT NULL THEN
      RAISE EXCEPTION 'C-981: %.% refers to % that do not exist (id %)', TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1], missing
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION c981_refuse_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i int := 0;
  gone text;
  found text;
BEGIN
  -- Arguments: pairs of (referencing table, its column). Ids that no longer exist after the
  -- statement: deleted rows, or an id changed by an update.
  gone := CASE TG_OP WHEN 'DELETE' THEN 'SELECT o.id FROM old_rows o'
                     ELSE 'SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)' END;
  WHILE i < TG_NARGS LOOP
    EXECUTE format('SELECT string_agg(g.id::text, '', '' ORDER BY g.id) FROM (%3$s) g WHERE EXISTS (SELECT 1 FROM %1$I c WHERE c.%2$I = g.id)', TG_ARGV[i], TG_ARGV[i + 1], gone) INTO found;
    IF found IS NOT NULL THEN
      RAISE EXCEPTION 'C-981: % % is still referenced from %.%', TG_TABLE_NAME, found, TG_ARGV[i], TG_ARGV[i + 1]
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER external_master_records_references_on_insert AFTER INSERT ON external_master_records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_check_references('site_id', 'sites', 'material_id', 'materials');
--> statement-breakpoint
CREATE TRIGGER external_master_records_references_on_update AFTER UPDATE ON external_master_records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_check_references('site_id', 'sites', 'material_id', 'materials');
--> statement-breakpoint
CREATE TRIGGER epcis_events_references_on_insert AFTER INSERT ON epcis_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_check_references('site_id', 'sites');
--> statement-breakpoint
CREATE TRIGGER epcis_events_references_on_update AFTER UPDATE ON epcis_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_check_references('site_id', 'sites');
--> statement-breakpoint
CREATE TRIGGER sites_referenced_on_delete AFTER DELETE ON sites
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_referenced('external_master_records', 'site_id', 'epcis_events', 'site_id');
--> statement-breakpoint
CREATE TRIGGER sites_referenced_on_update AFTER UPDATE ON sites
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_referenced('external_master_records', 'site_id', 'epcis_events', 'site_id');
--> statement-breakpoint
CREATE TRIGGER materials_referenced_on_delete AFTER DELETE ON materials
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_referenced('external_master_records', 'material_id');
--> statement-breakpoint
CREATE TRIGGER materials_referenced_on_update AFTER UPDATE ON materials
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_referenced('external_master_records', 'material_id');
