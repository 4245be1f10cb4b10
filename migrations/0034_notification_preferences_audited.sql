-- ===== Hand-written (ADR 032, follow-up of the review of issue 24). Idempotent.
-- A user's notification preferences (which kinds reach their inbox and their e-mail) are settings
-- they see and rely on: like the users table (0029, 0032), a transaction that inserts, updates or
-- deletes a notification_preferences row without an audit row naming that user as
-- `notification.preferences` (what saveNotificationPreferences writes) is refused at commit.
-- (1) 0032's c981_audit_row_names whole, with the notification_preferences branch added.
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
      acts := ARRAY['user.create', 'user.deactivate', 'user.password_change', 'user.password_reset', 'user.set_email'];
    WHEN 'notification_preferences' THEN
      SELECT u.username INTO uname FROM users u WHERE u.id = (r->>'user_id')::int;
      acts := ARRAY['notification.preferences'];
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
    WHEN 'change_request_comments' THEN
      SELECT c.number INTO crnum FROM change_requests c WHERE c.id = (r->>'change_request_id')::int;
    WHEN 'change_request_comment_resolutions' THEN
      SELECT c.number INTO crnum FROM change_request_comments m JOIN change_requests c ON c.id = m.change_request_id
        WHERE m.id = (r->>'thread_id')::int;
    WHEN 'signature_finding_acknowledgements' THEN
      SELECT c.number INTO crnum FROM signatures s JOIN change_requests c ON c.id = s.change_request_id
        WHERE s.id = (r->>'signature_id')::int;
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
-- (2) The deferred constraint trigger that calls it, attached as 0022/0023/0029 attach theirs.
DO $$
DECLARE
  audited text[] := ARRAY['notification_preferences'];
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
