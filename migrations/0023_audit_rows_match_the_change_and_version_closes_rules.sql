ALTER TABLE "rule_set_versions" ADD COLUMN "txid" bigint;--> statement-breakpoint
-- ===== Hand-written (ADR 018, reviewer findings 1-3). Idempotent.
-- (1) The commit-time check of 0022 asked only whether the transaction wrote *some* audit row: a
--     chained `session.sign_in` row let `insert into user_roles … 'admin'` commit. Now each changed
--     row (old and new version) needs an audit row of the same transaction that names it:
--       users, user_roles, password_history, pending_role_grants  → entity ('user', username) with
--         an action that writes that table (user.create, user.grant_role, … — not session.sign_in),
--         or the seed's ('plant', …) row with action seed.* whose after.users lists that username;
--       security_alerts                                           → ('security_alert', id);
--       change_requests, change_request_targets, change_request_bases, signatures, impact_analyses
--                                                                 → ('change_request', number);
--       rule_set_versions, release_signatures, release_waivers    → ('rule_set_version', 'SITE/version');
--       change_request_site_releases                              → either of the two above;
--       tracking_rules → a ('rule_set_version', 'SITE/…') row of the rule's site.
-- (2) A tracking rule's end is set only by the transaction that inserted the site's latest version,
--     at that version's effective_from (rule_set_versions.txid, stamped like audit_trail.txid).
-- (3) release_waivers, impact_analyses and change_request_bases are audited tables too.
-- Functions pin search_path (pg_temp last): an unqualified audit_trail must not resolve to a
-- temporary table the application role created.

CREATE OR REPLACE FUNCTION c981_rule_set_version_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.txid := txid_current();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS rule_set_versions_stamp_txid ON rule_set_versions;
--> statement-breakpoint
CREATE TRIGGER rule_set_versions_stamp_txid BEFORE INSERT ON rule_set_versions
  FOR EACH ROW EXECUTE FUNCTION c981_rule_set_version_stamp_txid();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c981_tracking_rule_close_only() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
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
  -- Only the transaction inserting the site's latest version closes rules, at its effective_from.
  IF NEW.effective_to IS NULL OR NOT EXISTS (
    SELECT 1 FROM rule_set_versions v
    WHERE v.site_id = NEW.site_id AND v.effective_from = NEW.effective_to AND v.id > NEW.rule_set_version_id
      AND v.txid = txid_current()
      AND v.version = (SELECT max(w.version) FROM rule_set_versions w WHERE w.site_id = NEW.site_id)
  ) THEN
    RAISE EXCEPTION 'C-981: a tracking rule ends only where a later rule-set version of its site begins, set by the transaction inserting that site''s latest version'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
-- Whether the current transaction wrote an audit row naming this row (r: to_jsonb of OLD or NEW).
CREATE OR REPLACE FUNCTION c981_audit_row_names(tbl text, r jsonb) RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  tx bigint := txid_current();
  uname text;
  crnum text;
  rsv text;
  site_code text;
  acts text[];
BEGIN
  CASE tbl
    WHEN 'users' THEN
      uname := r->>'username';
      acts := ARRAY['user.create', 'user.deactivate', 'user.password_change', 'user.password_reset'];
    WHEN 'user_roles', 'password_history', 'pending_role_grants' THEN
      SELECT u.username INTO uname FROM users u WHERE u.id = (r->>'user_id')::int;
      acts := CASE tbl
        WHEN 'user_roles' THEN ARRAY['user.create', 'user.grant_role', 'user.revoke_role']
        WHEN 'password_history' THEN ARRAY['user.create', 'user.password_change', 'user.password_reset']
        ELSE ARRAY['user.create', 'user.grant_role_requested', 'user.grant_role', 'user.grant_role_declined'] END;
    WHEN 'security_alerts' THEN
      RETURN EXISTS (SELECT 1 FROM audit_trail a WHERE a.txid = tx AND a.entity_type = 'security_alert' AND a.entity_id = r->>'id');
    WHEN 'change_requests' THEN
      crnum := r->>'number';
    WHEN 'change_request_targets', 'change_request_bases', 'signatures', 'impact_analyses' THEN
      SELECT c.number INTO crnum FROM change_requests c WHERE c.id = (r->>'change_request_id')::int;
    WHEN 'change_request_site_releases' THEN
      SELECT c.number INTO crnum FROM change_requests c WHERE c.id = (r->>'change_request_id')::int;
      SELECT s.code || '/' || v.version INTO rsv FROM rule_set_versions v JOIN sites s ON s.id = v.site_id
        WHERE v.id = (r->>'rule_set_version_id')::int;
    WHEN 'rule_set_versions' THEN
      SELECT s.code || '/' || (r->>'version') INTO rsv FROM sites s WHERE s.id = (r->>'site_id')::int;
    WHEN 'release_signatures' THEN
      SELECT s.code || '/' || v.version INTO rsv FROM rule_set_versions v JOIN sites s ON s.id = v.site_id
        WHERE v.id = (r->>'rule_set_version_id')::int;
    WHEN 'release_waivers' THEN
      SELECT s.code || '/' || v.version INTO rsv FROM release_signatures rs
        JOIN rule_set_versions v ON v.id = rs.rule_set_version_id JOIN sites s ON s.id = v.site_id
        WHERE rs.id = (r->>'release_signature_id')::int;
    WHEN 'tracking_rules' THEN
      SELECT s.code INTO site_code FROM sites s WHERE s.id = (r->>'site_id')::int;
      RETURN site_code IS NOT NULL AND EXISTS (
        SELECT 1 FROM audit_trail a WHERE a.txid = tx AND a.entity_type = 'rule_set_version'
          AND left(a.entity_id, length(site_code) + 1) = site_code || '/');
    ELSE
      RAISE EXCEPTION 'C-981: no audit-row mapping for table % (ADR 018)', tbl;
  END CASE;
  IF uname IS NOT NULL THEN
    RETURN EXISTS (
      SELECT 1 FROM audit_trail a WHERE a.txid = tx AND (
        (a.entity_type = 'user' AND a.entity_id = uname AND a.action = ANY (acts))
        OR (a.entity_type = 'plant' AND a.action LIKE 'seed.%'
            AND a.after->'users' @> jsonb_build_array(jsonb_build_object('username', uname)))));
  END IF;
  RETURN (crnum IS NOT NULL AND EXISTS (
            SELECT 1 FROM audit_trail a WHERE a.txid = tx AND a.entity_type = 'change_request' AND a.entity_id = crnum))
      OR (rsv IS NOT NULL AND EXISTS (
            SELECT 1 FROM audit_trail a WHERE a.txid = tx AND a.entity_type = 'rule_set_version' AND a.entity_id = rsv));
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c981_require_audit_row() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF (TG_OP <> 'INSERT' AND NOT c981_audit_row_names(TG_TABLE_NAME, to_jsonb(OLD)))
     OR (TG_OP <> 'DELETE' AND NOT c981_audit_row_names(TG_TABLE_NAME, to_jsonb(NEW))) THEN
    RAISE EXCEPTION 'C-981: % on % without an audit row in the same transaction is refused: none names the changed row''s entity', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Write Part 11 records through a service that appends to the audit trail, naming the entity, in its transaction (ADR 018).';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
ALTER FUNCTION c981_audit_stamp_txid() SET search_path = pg_catalog, public, pg_temp;
--> statement-breakpoint
DO $$
DECLARE
  audited text[] := ARRAY['release_waivers', 'impact_analyses', 'change_request_bases'];
  t text;
BEGIN
  FOREACH t IN ARRAY audited LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_audited', t);
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION c981_require_audit_row()', t || '_audited', t);
  END LOOP;
END;
$$;
-- ===== End of hand-written block.
