CREATE TABLE "scan_report_batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scan_report_batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_id" text NOT NULL,
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL,
	"decisions" integer NOT NULL,
	"refusals_omitted" integer NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "scan_report_batches_hash_hex" CHECK ("scan_report_batches"."hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "scan_report_counts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scan_report_counts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_ref" bigint NOT NULL,
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"bucket" timestamp (3) with time zone NOT NULL,
	"parent" text NOT NULL,
	"step" integer,
	"expected" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "scan_report_counts_outcome" CHECK ("scan_report_counts"."outcome" in ('accept', 'refuse', 'ambiguous', 'not-required')),
	CONSTRAINT "scan_report_counts_positive" CHECK ("scan_report_counts"."count" > 0)
);
--> statement-breakpoint
CREATE TABLE "scan_report_refusals" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scan_report_refusals_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_ref" bigint NOT NULL,
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"scanned_at" timestamp (3) with time zone NOT NULL,
	"parent" text NOT NULL,
	"step" integer,
	"expected" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text NOT NULL,
	"rule_id" text,
	"rule_set_version" integer NOT NULL,
	"scanned_hash" text NOT NULL,
	"scanned" text,
	CONSTRAINT "scan_report_refusals_outcome" CHECK ("scan_report_refusals"."outcome" in ('refuse', 'ambiguous'))
);
--> statement-breakpoint
ALTER TABLE "scan_report_batches" ADD CONSTRAINT "scan_report_batches_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_batches" ADD CONSTRAINT "scan_report_batches_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_counts" ADD CONSTRAINT "scan_report_counts_batch_ref_scan_report_batches_id_fk" FOREIGN KEY ("batch_ref") REFERENCES "public"."scan_report_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_counts" ADD CONSTRAINT "scan_report_counts_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_counts" ADD CONSTRAINT "scan_report_counts_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_refusals" ADD CONSTRAINT "scan_report_refusals_batch_ref_scan_report_batches_id_fk" FOREIGN KEY ("batch_ref") REFERENCES "public"."scan_report_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_refusals" ADD CONSTRAINT "scan_report_refusals_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scan_report_refusals" ADD CONSTRAINT "scan_report_refusals_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "scan_report_batches_client_batch" ON "scan_report_batches" USING btree ("runtime_client_id","batch_id");--> statement-breakpoint
CREATE INDEX "scan_report_counts_client_bucket" ON "scan_report_counts" USING btree ("runtime_client_id","bucket");--> statement-breakpoint
CREATE INDEX "scan_report_refusals_client_at" ON "scan_report_refusals" USING btree ("runtime_client_id","scanned_at");--> statement-breakpoint
-- ===== Hand-written (issue 26, ADR 042): scan reports are telemetry kept apart from the audit trail,
-- ===== append-only like runtime_status_reports (migration 0026, ADR 026).
CREATE TRIGGER scan_report_batches_no_update_delete BEFORE UPDATE OR DELETE ON scan_report_batches
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER scan_report_batches_no_truncate BEFORE TRUNCATE ON scan_report_batches
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER scan_report_counts_no_update_delete BEFORE UPDATE OR DELETE ON scan_report_counts
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER scan_report_counts_no_truncate BEFORE TRUNCATE ON scan_report_counts
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER scan_report_refusals_no_update_delete BEFORE UPDATE OR DELETE ON scan_report_refusals
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER scan_report_refusals_no_truncate BEFORE TRUNCATE ON scan_report_refusals
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- The application role may insert and read the scan reports, never update or delete them.
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
  REVOKE UPDATE, DELETE ON scan_report_batches FROM c981_app;
  REVOKE UPDATE, DELETE ON scan_report_counts FROM c981_app;
  REVOKE UPDATE, DELETE ON scan_report_refusals FROM c981_app;
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
