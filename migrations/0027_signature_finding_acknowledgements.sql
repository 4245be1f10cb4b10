CREATE TABLE "signature_finding_acknowledgements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "signature_finding_acknowledgements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"signature_id" integer NOT NULL,
	"finding_key" text NOT NULL,
	"finding_code" text NOT NULL,
	"part_number" text,
	"site" text,
	"severity" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "signature_finding_acknowledgements_once" UNIQUE("signature_id","finding_key"),
	CONSTRAINT "signature_finding_acknowledgements_severity" CHECK ("signature_finding_acknowledgements"."severity" in ('critical', 'warning')),
	CONSTRAINT "signature_finding_acknowledgements_scope" CHECK (("signature_finding_acknowledgements"."part_number" IS NULL) = ("signature_finding_acknowledgements"."site" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "signature_finding_acknowledgements" ADD CONSTRAINT "signature_finding_acknowledgements_signature_id_signatures_id_fk" FOREIGN KEY ("signature_id") REFERENCES "public"."signatures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "signature_finding_acknowledgements_signature" ON "signature_finding_acknowledgements" USING btree ("signature_id");--> statement-breakpoint
-- ===== Hand-written (issue 23, ADR 029): a signature's acknowledged findings are part of the
-- ===== signature: never changed nor deleted (like signatures, migration 0004; 21 CFR 11.70).
CREATE TRIGGER signature_finding_acknowledgements_no_update_delete BEFORE UPDATE OR DELETE ON signature_finding_acknowledgements
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER signature_finding_acknowledgements_no_truncate BEFORE TRUNCATE ON signature_finding_acknowledgements
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- The application role's grants (migrations 0022, 0026, ADR 018): append-only by privilege too.
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
