CREATE TABLE "runtime_status_reports" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runtime_status_reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"kind" text NOT NULL,
	"version" integer,
	"digest" text,
	"report" jsonb NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "runtime_status_reports_kind" CHECK ("runtime_status_reports"."kind" in ('activation', 'refusal')),
	CONSTRAINT "runtime_status_reports_hash_hex" CHECK ("runtime_status_reports"."hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "audit_anchors" ADD COLUMN "telemetry_through" bigint;--> statement-breakpoint
ALTER TABLE "audit_anchors" ADD COLUMN "telemetry_digest" text;--> statement-breakpoint
ALTER TABLE "runtime_status_reports" ADD CONSTRAINT "runtime_status_reports_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_status_reports" ADD CONSTRAINT "runtime_status_reports_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runtime_status_reports_client" ON "runtime_status_reports" USING btree ("runtime_client_id","id");--> statement-breakpoint
CREATE INDEX "audit_anchors_telemetry_through" ON "audit_anchors" USING btree ("telemetry_through");--> statement-breakpoint
-- ===== Hand-written (issue 22, ADR 026): runtime status reports are telemetry kept apart from the
-- ===== hash-chained audit trail, append-only like it (migration 0001) and covered by its signed
-- ===== anchors (ADR 019, ADR 026).
CREATE TRIGGER runtime_status_reports_no_update_delete BEFORE UPDATE OR DELETE ON runtime_status_reports
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER runtime_status_reports_no_truncate BEFORE TRUNCATE ON runtime_status_reports
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- The application role's grants (migration 0022, ADR 018), now also append-only by privilege on the
-- status reports: c981_app may insert and read them, never update or delete.
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
