CREATE TYPE "public"."change_request_status" AS ENUM('draft', 'in_review', 'changes_requested', 'approved', 'partly_released', 'released', 'rejected', 'withdrawn');--> statement-breakpoint
CREATE TYPE "public"."reviewer_role" AS ENUM('quality_reviewer', 'regulatory_reviewer');--> statement-breakpoint
CREATE TYPE "public"."signature_meaning" AS ENUM('approved', 'rejected', 'changes_requested');--> statement-breakpoint
CREATE SEQUENCE "public"."change_request_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "change_request_bases" (
	"change_request_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"base_version_id" integer,
	"base_rules_digest" text NOT NULL,
	CONSTRAINT "change_request_bases_change_request_id_site_id_pk" PRIMARY KEY("change_request_id","site_id")
);
--> statement-breakpoint
CREATE TABLE "change_request_comments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "change_request_comments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"change_request_id" integer NOT NULL,
	"author_id" integer NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "change_request_targets" (
	"change_request_id" integer NOT NULL,
	"material_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	CONSTRAINT "change_request_targets_change_request_id_material_id_site_id_pk" PRIMARY KEY("change_request_id","material_id","site_id")
);
--> statement-breakpoint
CREATE TABLE "change_requests" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "change_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"number" text NOT NULL,
	"title" text NOT NULL,
	"status" "change_request_status" NOT NULL,
	"author_id" integer NOT NULL,
	"content" jsonb NOT NULL,
	"expanded_changes" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"row_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "change_requests_number_unique" UNIQUE("number"),
	CONSTRAINT "change_requests_number_format" CHECK ("change_requests"."number" ~ '^CR-[0-9]{4,}$')
);
--> statement-breakpoint
CREATE TABLE "revalidation_tasks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "revalidation_tasks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"change_request_id" integer NOT NULL,
	"description" text NOT NULL,
	"evidence_url" text,
	"closed_at" timestamp (3) with time zone,
	"closed_by_id" integer,
	"position" integer NOT NULL,
	CONSTRAINT "revalidation_tasks_position" UNIQUE("change_request_id","position")
);
--> statement-breakpoint
CREATE TABLE "signatures" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "signatures_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"change_request_id" integer NOT NULL,
	"signer_id" integer NOT NULL,
	"printed_name" text NOT NULL,
	"role" "reviewer_role" NOT NULL,
	"meaning" "signature_meaning" NOT NULL,
	"signed_at" timestamp (3) with time zone NOT NULL,
	"content_hash" text NOT NULL,
	"revision" integer NOT NULL,
	"comment" text,
	"voided_at" timestamp (3) with time zone,
	"void_reason" text,
	CONSTRAINT "signatures_reject_has_comment" CHECK ("signatures"."meaning" <> 'rejected' OR length(coalesce("signatures"."comment", '')) > 0),
	CONSTRAINT "signatures_void_has_reason" CHECK (("signatures"."voided_at" IS NULL) = ("signatures"."void_reason" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "change_request_bases" ADD CONSTRAINT "change_request_bases_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_bases" ADD CONSTRAINT "change_request_bases_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_bases" ADD CONSTRAINT "change_request_bases_base_version_id_rule_set_versions_id_fk" FOREIGN KEY ("base_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_targets" ADD CONSTRAINT "change_request_targets_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_targets" ADD CONSTRAINT "change_request_targets_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_targets" ADD CONSTRAINT "change_request_targets_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_requests" ADD CONSTRAINT "change_requests_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "revalidation_tasks" ADD CONSTRAINT "revalidation_tasks_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "revalidation_tasks" ADD CONSTRAINT "revalidation_tasks_closed_by_id_users_id_fk" FOREIGN KEY ("closed_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "signatures" ADD CONSTRAINT "signatures_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "signatures" ADD CONSTRAINT "signatures_signer_id_users_id_fk" FOREIGN KEY ("signer_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_request_targets_material_site" ON "change_request_targets" USING btree ("material_id","site_id");--> statement-breakpoint
CREATE INDEX "change_requests_status" ON "change_requests" USING btree ("status");--> statement-breakpoint
CREATE INDEX "signatures_change_request" ON "signatures" USING btree ("change_request_id");