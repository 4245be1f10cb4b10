-- Issue 19, finding 4: the trigger of 0001 let effective_to change freely (to a past date, or back
-- to NULL leaving two open rules), changing "which rule was in force then" without an audit row.
-- Now the end of a rule's interval is set once, from NULL, and only to the effective date of a
-- later rule-set version of the same site — what createRuleSetVersion does, in the transaction
-- that inserts that version (and audits it).
CREATE OR REPLACE FUNCTION c981_tracking_rule_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF NEW.effective_to IS NOT DISTINCT FROM OLD.effective_to THEN
    RETURN NEW;
  END IF;
  IF OLD.effective_to IS NOT NULL THEN
    RAISE EXCEPTION 'C-981: the end of a tracking rule is set once, by the version that replaces it' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.effective_to IS NULL OR NOT EXISTS (
    SELECT 1 FROM rule_set_versions v
    WHERE v.site_id = NEW.site_id AND v.effective_from = NEW.effective_to AND v.id > NEW.rule_set_version_id
  ) THEN
    RAISE EXCEPTION 'C-981: a tracking rule ends only where a later rule-set version of its site begins' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
