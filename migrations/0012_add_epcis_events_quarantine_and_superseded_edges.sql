CREATE TYPE "public"."epcis_event_status" AS ENUM('applied', 'quarantined', 'superseded');--> statement-breakpoint
CREATE TABLE "epcis_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "epcis_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_key" text NOT NULL,
	"from_event_id" boolean NOT NULL,
	"type" text NOT NULL,
	"event_time" timestamp (3) with time zone NOT NULL,
	"content_hash" text NOT NULL,
	"file_digest" text NOT NULL,
	"event_index" integer NOT NULL,
	"site_id" integer NOT NULL,
	"status" "epcis_event_status" NOT NULL,
	"unknown_gtins" text[] DEFAULT '{}'::text[] NOT NULL,
	"body" jsonb NOT NULL,
	"declaration" jsonb,
	"superseded_at" timestamp (3) with time zone,
	"imported_at" timestamp (3) with time zone NOT NULL,
	"applied_at" timestamp (3) with time zone,
	CONSTRAINT "epcis_events_eventKey_unique" UNIQUE("event_key")
);
--> statement-breakpoint
CREATE TABLE "epcis_imports" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "epcis_imports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"file_digest" text NOT NULL,
	"file_name" text NOT NULL,
	"site_id" integer NOT NULL,
	"events" integer NOT NULL,
	"actor" text NOT NULL,
	"imported_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "epcis_imports_fileDigest_unique" UNIQUE("file_digest")
);
--> statement-breakpoint
ALTER TABLE "genealogy_edges" ADD COLUMN "superseded_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "epcis_events" ADD CONSTRAINT "epcis_events_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "epcis_imports" ADD CONSTRAINT "epcis_imports_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "epcis_events_quarantine" ON "epcis_events" USING gin ("unknown_gtins") WHERE "epcis_events"."status" = 'quarantined';--> statement-breakpoint
CREATE INDEX "epcis_events_file" ON "epcis_events" USING btree ("file_digest");--> statement-breakpoint
-- Imported EPCIS events and import records are never deleted: a declared-erroneous event is
-- superseded (status, declaration, superseded_at), not removed (ADR 014).
CREATE TRIGGER epcis_events_never_deleted BEFORE DELETE OR TRUNCATE ON epcis_events
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER epcis_imports_never_deleted BEFORE DELETE OR TRUNCATE ON epcis_imports
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- A superseded event stays superseded, and keeps what it was.
CREATE FUNCTION c981_epcis_event_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.event_key <> OLD.event_key OR NEW.content_hash <> OLD.content_hash OR NEW.body <> OLD.body
     OR NEW.file_digest <> OLD.file_digest OR (OLD.status = 'superseded' AND NEW.status <> 'superseded') THEN
    RAISE EXCEPTION 'C-981: an imported EPCIS event is only ever applied or superseded, never rewritten' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER epcis_events_forward BEFORE UPDATE ON epcis_events
  FOR EACH ROW EXECUTE FUNCTION c981_epcis_event_forward();
