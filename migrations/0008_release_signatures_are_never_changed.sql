-- A release signature, like the version it signs, never changes.
CREATE TRIGGER release_signatures_no_update_delete BEFORE UPDATE OR DELETE ON release_signatures
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER release_signatures_no_truncate BEFORE TRUNCATE ON release_signatures
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
