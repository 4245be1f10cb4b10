CREATE TABLE "notification_preferences" (
	"user_id" integer NOT NULL,
	"kind" text NOT NULL,
	"inbox" boolean NOT NULL,
	"email" boolean NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_preferences_user_id_kind_pk" PRIMARY KEY("user_id","kind")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "notifications_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"recipient_id" integer NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"link" text NOT NULL,
	"subject" text NOT NULL,
	"in_inbox" boolean NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"read_at" timestamp (3) with time zone,
	"email_to" text,
	"email_status" text NOT NULL,
	"email_attempts" integer DEFAULT 0 NOT NULL,
	"email_next_attempt_at" timestamp (3) with time zone,
	"email_sent_at" timestamp (3) with time zone,
	"email_last_error" text,
	CONSTRAINT "notifications_email_to" CHECK ("notifications"."email_status" <> 'pending' or "notifications"."email_to" is not null)
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email" text;--> statement-breakpoint
ALTER TABLE "notification_preferences" ADD CONSTRAINT "notification_preferences_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_recipient_id_users_id_fk" FOREIGN KEY ("recipient_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notifications_recipient" ON "notifications" USING btree ("recipient_id","id");--> statement-breakpoint
CREATE INDEX "notifications_email_pending" ON "notifications" USING btree ("email_next_attempt_at") WHERE "notifications"."email_status" = 'pending';--> statement-breakpoint
-- ===== Hand-written (issue 24, ADR 032). Idempotent.
-- (1) A user's e-mail address is part of their account: changing it is audited as user.set_email
--     (0029's commit-time check, with that action added for the users table).
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
-- (2) The application role's grants (0022, 0026, 0029) on the new tables and their sequence.
SELECT c981_grant_app_role();
-- ===== End of hand-written block.
