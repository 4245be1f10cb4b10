ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_id_request" UNIQUE("id","change_request_id");--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_parent_same_request" FOREIGN KEY ("parent_id","change_request_id") REFERENCES "public"."change_request_comments"("id","change_request_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- ===== Hand-written (issue 23 review, ADR 029/030 amended). Idempotent.
-- (1) The discussion and the acknowledged findings are Part 11 records: the commit-time check of
--     0022/0023 now covers change_request_comments, change_request_comment_resolutions and
--     signature_finding_acknowledgements, each naming its change request ('change_request', number):
--     a comment by its change_request_id, a resolution by its thread's, an acknowledgement by its
--     signature's. (The function is 0023's, with these three cases added.)
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
DO $$
DECLARE
  audited text[] := ARRAY['change_request_comments', 'change_request_comment_resolutions', 'signature_finding_acknowledgements'];
  t text;
BEGIN
  FOREACH t IN ARRAY audited LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_audited', t);
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION c981_require_audit_row()', t || '_audited', t);
  END LOOP;
END;
$$;
--> statement-breakpoint
-- (2) A finding is acknowledged by the signature that carries it, in the signing transaction: an
--     acknowledgement row whose signature was not inserted by the current transaction is refused
--     (its xmin is this transaction's id; the signing service uses no savepoints), live, and
--     signed at this transaction's start (now(), to the millisecond): an earlier signature updated
--     here — voided, or rewritten to itself — also carries this transaction's xmin.
CREATE OR REPLACE FUNCTION c981_acknowledgement_with_its_signature() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM signatures s WHERE s.id = NEW.signature_id AND s.voided_at IS NULL
                 AND s.xmin::text = (txid_current() % 4294967296)::text
                 AND s.signed_at > now() - interval '1 millisecond') THEN
    RAISE EXCEPTION 'C-981: a finding is acknowledged only by the transaction inserting its signature (signature %)', NEW.signature_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS signature_finding_acknowledgements_with_signature ON signature_finding_acknowledgements;
--> statement-breakpoint
CREATE TRIGGER signature_finding_acknowledgements_with_signature BEFORE INSERT ON signature_finding_acknowledgements
  FOR EACH ROW EXECUTE FUNCTION c981_acknowledgement_with_its_signature();
--> statement-breakpoint
-- (3) A comment is never rewritten: only a thread's resolution (resolved_at, resolved_by_id) changes.
CREATE OR REPLACE FUNCTION c981_comment_resolution_only() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF (NEW.id, NEW.change_request_id, NEW.author_id, NEW.body, NEW.created_at, NEW.parent_id, NEW.anchor, NEW.revision, NEW.blocking)
     IS DISTINCT FROM
     (OLD.id, OLD.change_request_id, OLD.author_id, OLD.body, OLD.created_at, OLD.parent_id, OLD.anchor, OLD.revision, OLD.blocking) THEN
    RAISE EXCEPTION 'C-981: a comment is never rewritten: only a thread''s resolution (resolved_at, resolved_by_id) may change'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS change_request_comments_resolution_only ON change_request_comments;
--> statement-breakpoint
CREATE TRIGGER change_request_comments_resolution_only BEFORE UPDATE ON change_request_comments
  FOR EACH ROW EXECUTE FUNCTION c981_comment_resolution_only();
--> statement-breakpoint
-- (4) The application role's grants (0022, 0026, 0027): a thread's resolutions are append-only by
--     privilege too. (0027's body with change_request_comment_resolutions added.)
CREATE OR REPLACE FUNCTION c981_grant_app_role() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'c981_app' AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolreplication)) THEN
    RAISE EXCEPTION 'C-981: the role c981_app has SUPERUSER, BYPASSRLS, CREATEROLE or REPLICATION: remove them (ALTER ROLE c981_app NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOREPLICATION)';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = 'c981_app')) THEN
    RAISE EXCEPTION 'C-981: the role c981_app owns tables in schema public: the migrating role must own them (ALTER TABLE … OWNER TO …)';
  END IF;
  GRANT USAGE ON SCHEMA public TO c981_app;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO c981_app;
  GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO c981_app;
  -- Append-only by privilege as well as by trigger.
  REVOKE UPDATE, DELETE ON audit_trail FROM c981_app;
  REVOKE UPDATE, DELETE ON runtime_status_reports FROM c981_app;
  REVOKE UPDATE, DELETE ON signature_finding_acknowledgements FROM c981_app;
  REVOKE UPDATE, DELETE ON change_request_comment_resolutions FROM c981_app;
  -- /readyz compares the applied migrations with the build's (read only).
  IF to_regclass('drizzle.__drizzle_migrations') IS NOT NULL THEN
    GRANT USAGE ON SCHEMA drizzle TO c981_app;
    GRANT SELECT ON drizzle.__drizzle_migrations TO c981_app;
  END IF;
END;
$$;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION c981_grant_app_role() FROM PUBLIC;
--> statement-breakpoint
SELECT c981_grant_app_role();
-- ===== End of hand-written block.
