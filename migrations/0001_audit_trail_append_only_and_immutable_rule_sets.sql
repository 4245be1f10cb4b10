-- The audit trail is append-only (21 CFR 11.10(e)): the database itself refuses to change history.
CREATE FUNCTION c981_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'C-981: % on % is refused: % is append-only', TG_OP, TG_TABLE_NAME, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_trail_no_update_delete BEFORE UPDATE OR DELETE ON audit_trail
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- A published rule-set version never changes; a rollback is a new version.
CREATE TRIGGER rule_set_versions_no_update_delete BEFORE UPDATE OR DELETE ON rule_set_versions
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER rule_set_versions_no_truncate BEFORE TRUNCATE ON rule_set_versions
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- Versions per site are strictly increasing with no gaps, and never take effect before the previous one.
CREATE FUNCTION c981_rule_set_version_next() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_version integer;
  last_from timestamptz;
BEGIN
  SELECT version, effective_from INTO last_version, last_from
    FROM rule_set_versions WHERE site_id = NEW.site_id ORDER BY version DESC LIMIT 1;
  IF NEW.version <> COALESCE(last_version, 0) + 1 THEN
    RAISE EXCEPTION 'C-981: rule-set version % for site % must be %', NEW.version, NEW.site_id, COALESCE(last_version, 0) + 1
      USING ERRCODE = 'check_violation';
  END IF;
  IF last_from IS NOT NULL AND NEW.effective_from < last_from THEN
    RAISE EXCEPTION 'C-981: rule-set version % for site % takes effect % before version % (%)',
      NEW.version, NEW.site_id, NEW.effective_from, last_version, last_from
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER rule_set_versions_gap_free BEFORE INSERT ON rule_set_versions
  FOR EACH ROW EXECUTE FUNCTION c981_rule_set_version_next();
--> statement-breakpoint
-- A tracking rule's content is history: only the end of its interval may be set, by a later version.
CREATE FUNCTION c981_tracking_rule_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'C-981: tracking rules are history and cannot be deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.material_id, NEW.site_id, NEW.tracking_mode, NEW.container_tracking, NEW.identifier_format_codes,
      NEW.consumption_scan, NEW.effective_from, NEW.rule_set_version_id)
     IS DISTINCT FROM
     (OLD.material_id, OLD.site_id, OLD.tracking_mode, OLD.container_tracking, OLD.identifier_format_codes,
      OLD.consumption_scan, OLD.effective_from, OLD.rule_set_version_id) THEN
    RAISE EXCEPTION 'C-981: only effective_to of a tracking rule may change' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER tracking_rules_close_only BEFORE UPDATE OR DELETE ON tracking_rules
  FOR EACH ROW EXECUTE FUNCTION c981_tracking_rule_close_only();
--> statement-breakpoint
CREATE TRIGGER tracking_rules_no_truncate BEFORE TRUNCATE ON tracking_rules
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
