CREATE TYPE "public"."quality_disposition" AS ENUM('pending', 'use_as_is', 'rework', 'repair', 'scrap', 'return_to_supplier', 'quarantine');--> statement-breakpoint
CREATE TYPE "public"."quality_event_kind" AS ENUM('nonconformance', 'concession', 'rework_order', 'complaint');--> statement-breakpoint
CREATE TYPE "public"."quality_event_severity" AS ENUM('minor', 'major', 'critical');--> statement-breakpoint
CREATE TYPE "public"."quality_event_status" AS ENUM('open', 'contained', 'closed');--> statement-breakpoint
CREATE TYPE "public"."quality_reference_kind" AS ENUM('serial', 'lot', 'container', 'material');--> statement-breakpoint
CREATE TYPE "public"."requirement_scope" AS ENUM('material', 'family', 'risk_class');--> statement-breakpoint
CREATE TABLE "quality_event_references" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "quality_event_references_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"quality_event_id" integer NOT NULL,
	"kind" "quality_reference_kind" NOT NULL,
	"trace_item_id" bigint,
	"material_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"rule_state" text NOT NULL,
	"rule_set_version" integer,
	"tracking_mode_at_raise" "tracking_mode",
	CONSTRAINT "quality_event_references_once" UNIQUE NULLS NOT DISTINCT("quality_event_id","kind","trace_item_id","material_id"),
	CONSTRAINT "quality_event_references_item_iff_not_material" CHECK (("quality_event_references"."kind" = 'material') = ("quality_event_references"."trace_item_id" IS NULL)),
	CONSTRAINT "quality_event_references_rule_state" CHECK (("quality_event_references"."rule_state" = 'legacy' AND "quality_event_references"."rule_set_version" IS NULL AND "quality_event_references"."tracking_mode_at_raise" IS NULL) OR ("quality_event_references"."rule_state" = 'unruled' AND "quality_event_references"."rule_set_version" IS NOT NULL AND "quality_event_references"."tracking_mode_at_raise" IS NULL) OR ("quality_event_references"."rule_state" = 'ruled' AND "quality_event_references"."rule_set_version" IS NOT NULL AND "quality_event_references"."tracking_mode_at_raise" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "quality_events" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "quality_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"number" text NOT NULL,
	"kind" "quality_event_kind" NOT NULL,
	"status" "quality_event_status" NOT NULL,
	"severity" "quality_event_severity" NOT NULL,
	"disposition" "quality_disposition" DEFAULT 'pending' NOT NULL,
	"site_id" integer NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"external_id" text,
	"raised_at" timestamp (3) with time zone NOT NULL,
	"raised_by" text NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"row_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quality_events_number_unique" UNIQUE("number"),
	CONSTRAINT "quality_events_externalId_unique" UNIQUE("external_id"),
	CONSTRAINT "quality_events_number_format" CHECK ("quality_events"."number" ~ '^QE-[0-9]{4,}$'),
	CONSTRAINT "quality_events_closed_has_time" CHECK (("quality_events"."status" = 'closed') = ("quality_events"."closed_at" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "traceability_deviations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "traceability_deviations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"material_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"change_request_id" integer NOT NULL,
	"rule_set_version_id" integer NOT NULL,
	"reason" text NOT NULL,
	"risk_assessment_ref" text NOT NULL,
	"compensating_controls" text NOT NULL,
	"expires_on" date,
	"shortfalls" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"closed_reason" text,
	CONSTRAINT "traceability_deviations_closed_has_reason" CHECK (("traceability_deviations"."closed_at" IS NULL) = ("traceability_deviations"."closed_reason" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "traceability_requirements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "traceability_requirements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"scope" "requirement_scope" NOT NULL,
	"material_id" integer,
	"family_id" integer,
	"risk_class" "risk_class",
	"regulated" boolean,
	"minimum_tracking" "tracking_mode" NOT NULL,
	"container_required" boolean NOT NULL,
	"required_scan" "consumption_scan" NOT NULL,
	"justification" text NOT NULL,
	"references" text[] DEFAULT '{}'::text[] NOT NULL,
	"effective_from" timestamp (3) with time zone NOT NULL,
	"effective_to" timestamp (3) with time zone,
	"change_request_id" integer,
	"reason" text NOT NULL,
	CONSTRAINT "traceability_requirements_target" CHECK (("traceability_requirements"."scope" = 'material' AND "traceability_requirements"."material_id" IS NOT NULL AND "traceability_requirements"."family_id" IS NULL AND "traceability_requirements"."risk_class" IS NULL AND "traceability_requirements"."regulated" IS NULL) OR ("traceability_requirements"."scope" = 'family' AND "traceability_requirements"."family_id" IS NOT NULL AND "traceability_requirements"."material_id" IS NULL AND "traceability_requirements"."risk_class" IS NULL AND "traceability_requirements"."regulated" IS NULL) OR ("traceability_requirements"."scope" = 'risk_class' AND "traceability_requirements"."risk_class" IS NOT NULL AND "traceability_requirements"."regulated" IS NOT NULL AND "traceability_requirements"."material_id" IS NULL AND "traceability_requirements"."family_id" IS NULL)),
	CONSTRAINT "traceability_requirements_justified" CHECK (length(btrim("traceability_requirements"."justification")) > 0),
	CONSTRAINT "traceability_requirements_interval_ordered" CHECK ("traceability_requirements"."effective_to" IS NULL OR "traceability_requirements"."effective_to" >= "traceability_requirements"."effective_from")
);
--> statement-breakpoint
ALTER TABLE "signatures" ADD COLUMN "attestations" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "quality_event_references" ADD CONSTRAINT "quality_event_references_quality_event_id_quality_events_id_fk" FOREIGN KEY ("quality_event_id") REFERENCES "public"."quality_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quality_event_references" ADD CONSTRAINT "quality_event_references_trace_item_id_trace_items_id_fk" FOREIGN KEY ("trace_item_id") REFERENCES "public"."trace_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quality_event_references" ADD CONSTRAINT "quality_event_references_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quality_event_references" ADD CONSTRAINT "quality_event_references_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quality_events" ADD CONSTRAINT "quality_events_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_deviations" ADD CONSTRAINT "traceability_deviations_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_deviations" ADD CONSTRAINT "traceability_deviations_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_deviations" ADD CONSTRAINT "traceability_deviations_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_deviations" ADD CONSTRAINT "traceability_deviations_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_requirements" ADD CONSTRAINT "traceability_requirements_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_requirements" ADD CONSTRAINT "traceability_requirements_family_id_material_families_id_fk" FOREIGN KEY ("family_id") REFERENCES "public"."material_families"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traceability_requirements" ADD CONSTRAINT "traceability_requirements_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "quality_event_references_item" ON "quality_event_references" USING btree ("trace_item_id");--> statement-breakpoint
CREATE INDEX "quality_event_references_material" ON "quality_event_references" USING btree ("material_id","site_id");--> statement-breakpoint
CREATE INDEX "quality_events_site_status" ON "quality_events" USING btree ("site_id","status");--> statement-breakpoint
CREATE INDEX "traceability_deviations_open" ON "traceability_deviations" USING btree ("site_id","material_id") WHERE "traceability_deviations"."closed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "traceability_requirements_open" ON "traceability_requirements" USING btree ("scope","material_id","family_id","risk_class","regulated") WHERE "traceability_requirements"."effective_to" IS NULL;--> statement-breakpoint
-- Quality event numbers (QE-0001, …) come from one sequence: atomic across instances (ADR 034).
CREATE SEQUENCE IF NOT EXISTS "quality_event_number";
--> statement-breakpoint
-- Requirements, deviations and quality-event references are never deleted (ADR 034, ADR 035).
CREATE OR REPLACE FUNCTION c981_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'C-981: % rows are never deleted', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER traceability_requirements_no_delete BEFORE DELETE ON traceability_requirements FOR EACH ROW EXECUTE FUNCTION c981_refuse_delete();
--> statement-breakpoint
CREATE TRIGGER traceability_deviations_no_delete BEFORE DELETE ON traceability_deviations FOR EACH ROW EXECUTE FUNCTION c981_refuse_delete();
--> statement-breakpoint
CREATE TRIGGER quality_events_no_delete BEFORE DELETE ON quality_events FOR EACH ROW EXECUTE FUNCTION c981_refuse_delete();
--> statement-breakpoint
CREATE TRIGGER quality_event_references_no_delete BEFORE DELETE ON quality_event_references FOR EACH ROW EXECUTE FUNCTION c981_refuse_delete();
--> statement-breakpoint
CREATE TRIGGER traceability_requirements_no_truncate BEFORE TRUNCATE ON traceability_requirements FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER traceability_deviations_no_truncate BEFORE TRUNCATE ON traceability_deviations FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER quality_events_no_truncate BEFORE TRUNCATE ON quality_events FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER quality_event_references_no_truncate BEFORE TRUNCATE ON quality_event_references FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
