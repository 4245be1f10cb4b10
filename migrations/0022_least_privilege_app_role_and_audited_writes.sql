ALTER TABLE "audit_trail" ADD COLUMN "txid" bigint;--> statement-breakpoint
CREATE INDEX "audit_trail_txid" ON "audit_trail" USING btree ("txid");--> statement-breakpoint
-- ===== Hand-written (issue 19, item 5; ADR 018): a least-privilege application role, and the
-- ===== Part 11 tables change only in a transaction that also writes an audit row. Everything
-- ===== below is idempotent. Merged after 0021, so the grant requests, password history and
-- ===== security alerts it added are audited tables too.

-- Each audit row records the transaction that wrote it, whatever the INSERT says.
CREATE OR REPLACE FUNCTION c981_audit_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.txid := txid_current();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS audit_trail_stamp_txid ON audit_trail;
--> statement-breakpoint
CREATE TRIGGER audit_trail_stamp_txid BEFORE INSERT ON audit_trail
  FOR EACH ROW EXECUTE FUNCTION c981_audit_stamp_txid();
--> statement-breakpoint
-- At commit (DEFERRABLE INITIALLY DEFERRED), a change to an audited table is refused unless its
-- transaction inserted an audit row. SET CONSTRAINTS … IMMEDIATE only moves the check earlier.
CREATE OR REPLACE FUNCTION c981_require_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_trail WHERE txid = txid_current()) THEN
    RAISE EXCEPTION 'C-981: % on % without an audit row in the same transaction is refused', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Write Part 11 records through a service that appends to the audit trail in its transaction (ADR 018).';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DO $$
DECLARE
  audited text[] := ARRAY['users', 'user_roles', 'change_requests', 'change_request_targets', 'signatures',
                          'release_signatures', 'change_request_site_releases', 'rule_set_versions', 'tracking_rules',
                          'pending_role_grants', 'password_history', 'security_alerts'];
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
-- The application role. Roles are cluster-wide: several databases on one cluster may run this at
-- the same moment, so "already there" — found, or created meanwhile — is success. It can log in;
-- it has a password only where one is set (the embedded server sets its own; an operator sets
-- theirs, or grants c981_app to their own login role — README "Database roles").
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'c981_app') THEN
    BEGIN
      CREATE ROLE c981_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END;
$$;
--> statement-breakpoint
-- What c981_app may do, on every table and sequence there is: called here and again by
-- prepareDatabase after every migration run, so tables added by later migrations are covered
-- whoever owns them (ADR 018). It owns nothing, so it cannot ALTER, DROP or disable triggers.
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
