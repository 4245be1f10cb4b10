CREATE TABLE "external_snapshot_files" (
	"snapshot_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"content" "bytea" NOT NULL,
	CONSTRAINT "external_snapshot_files_snapshot_id_seq_pk" PRIMARY KEY("snapshot_id","seq")
);
--> statement-breakpoint
CREATE TABLE "external_snapshots" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "external_snapshots_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"system" "external_system" NOT NULL,
	"file_name" text NOT NULL,
	"digest" text NOT NULL,
	"row_count" integer NOT NULL,
	"unknown_count" integer NOT NULL,
	"imported_by" text NOT NULL,
	"imported_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "external_snapshots_digest_hex" CHECK ("external_snapshots"."digest" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "release_waivers" (
	"release_signature_id" integer PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"disagreements" jsonb NOT NULL,
	CONSTRAINT "release_waivers_reason_given" CHECK (length(trim("release_waivers"."reason")) >= 10)
);
--> statement-breakpoint
CREATE TABLE "system_of_record" (
	"identifier_type" text PRIMARY KEY NOT NULL,
	"system" text NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "system_of_record_identifier_type" CHECK ("system_of_record"."identifier_type" in ('serial', 'lot')),
	CONSTRAINT "system_of_record_system" CHECK ("system_of_record"."system" in ('erp', 'plm', 'c981'))
);
--> statement-breakpoint
ALTER TABLE "release_waivers" ADD CONSTRAINT "release_waivers_release_signature_id_release_signatures_id_fk" FOREIGN KEY ("release_signature_id") REFERENCES "public"."release_signatures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "external_snapshots_system_id" ON "external_snapshots" USING btree ("system","id");--> statement-breakpoint
-- ---- Hand-written (issue 10 parts 3-4, docs/decisions/015): snapshots, their files and release
-- ---- waivers are append-only, like the release signatures they sit beside.
CREATE TRIGGER external_snapshots_no_update_delete BEFORE UPDATE OR DELETE ON external_snapshots
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER external_snapshots_no_truncate BEFORE TRUNCATE ON external_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER external_snapshot_files_no_update_delete BEFORE UPDATE OR DELETE ON external_snapshot_files
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER external_snapshot_files_no_truncate BEFORE TRUNCATE ON external_snapshot_files
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER release_waivers_no_update_delete BEFORE UPDATE OR DELETE ON release_waivers
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER release_waivers_no_truncate BEFORE TRUNCATE ON release_waivers
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
