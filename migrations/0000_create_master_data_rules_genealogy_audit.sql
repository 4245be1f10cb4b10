CREATE TYPE "public"."consumption_scan" AS ENUM('none', 'verify', 'identify');--> statement-breakpoint
CREATE TYPE "public"."external_system" AS ENUM('erp', 'plm');--> statement-breakpoint
CREATE TYPE "public"."genealogy_kind" AS ENUM('consume', 'split', 'merge', 'repack', 'rework', 'scrap', 'aggregate');--> statement-breakpoint
CREATE TYPE "public"."identifies" AS ENUM('serial', 'lot', 'container');--> statement-breakpoint
CREATE TYPE "public"."provenance_kind" AS ENUM('seed', 'import', 'api');--> statement-breakpoint
CREATE TYPE "public"."risk_class" AS ENUM('low', 'medium', 'high');--> statement-breakpoint
CREATE TYPE "public"."role" AS ENUM('viewer', 'engineer', 'quality_reviewer', 'regulatory_reviewer', 'release_manager', 'admin');--> statement-breakpoint
CREATE TYPE "public"."trace_item_kind" AS ENUM('serial', 'lot', 'container');--> statement-breakpoint
CREATE TYPE "public"."trace_item_status" AS ENUM('wip', 'stock', 'consumed', 'shipped', 'scrapped');--> statement-breakpoint
CREATE TYPE "public"."tracking_mode" AS ENUM('serial', 'lot', 'none');--> statement-breakpoint
CREATE TYPE "public"."work_order_status" AS ENUM('open', 'closed');--> statement-breakpoint
CREATE TABLE "sites" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sites_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"code" text NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sites_code_unique" UNIQUE("code"),
	CONSTRAINT "sites_code_format" CHECK ("sites"."code" ~ '^[A-Z0-9][A-Z0-9-]{1,15}$')
);
--> statement-breakpoint
CREATE TABLE "identifier_formats" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "identifier_formats_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"code" text NOT NULL,
	"name" text NOT NULL,
	"identifies" "identifies" NOT NULL,
	"site_id" integer,
	"definition" jsonb NOT NULL,
	CONSTRAINT "identifier_formats_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "material_families" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "material_families_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"code" text NOT NULL,
	"name" text NOT NULL,
	CONSTRAINT "material_families_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "materials" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "materials_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"part_number" text NOT NULL,
	"gtin" text,
	"description" text NOT NULL,
	"unit_of_measure" text NOT NULL,
	"risk_class" "risk_class" NOT NULL,
	"regulatory_flags" text[] DEFAULT '{}'::text[] NOT NULL,
	"family_id" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "materials_partNumber_unique" UNIQUE("part_number"),
	CONSTRAINT "materials_gtin_unique" UNIQUE("gtin"),
	CONSTRAINT "materials_gtin_14_digits" CHECK ("materials"."gtin" IS NULL OR "materials"."gtin" ~ '^[0-9]{14}$')
);
--> statement-breakpoint
CREATE TABLE "rule_set_versions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "rule_set_versions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"site_id" integer NOT NULL,
	"version" integer NOT NULL,
	"effective_from" timestamp (3) with time zone NOT NULL,
	"issued_at" timestamp (3) with time zone NOT NULL,
	"canonical" "bytea" NOT NULL,
	"digest" text NOT NULL,
	"previous_digest" text,
	"backdated" boolean DEFAULT false NOT NULL,
	"created_by" text NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "rule_set_versions_site_version" UNIQUE("site_id","version"),
	CONSTRAINT "rule_set_versions_version_positive" CHECK ("rule_set_versions"."version" >= 1),
	CONSTRAINT "rule_set_versions_digest_hex" CHECK ("rule_set_versions"."digest" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "tracking_rules" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "tracking_rules_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"material_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"tracking_mode" "tracking_mode" NOT NULL,
	"container_tracking" boolean NOT NULL,
	"identifier_format_codes" text[] DEFAULT '{}'::text[] NOT NULL,
	"consumption_scan" "consumption_scan" NOT NULL,
	"effective_from" timestamp (3) with time zone NOT NULL,
	"effective_to" timestamp (3) with time zone,
	"rule_set_version_id" integer NOT NULL,
	CONSTRAINT "tracking_rules_material_site_version" UNIQUE("material_id","site_id","rule_set_version_id"),
	CONSTRAINT "tracking_rules_interval_ordered" CHECK ("tracking_rules"."effective_to" IS NULL OR "tracking_rules"."effective_to" >= "tracking_rules"."effective_from")
);
--> statement-breakpoint
CREATE TABLE "bom_line_alternates" (
	"bom_line_id" integer NOT NULL,
	"material_id" integer NOT NULL,
	"priority" integer NOT NULL,
	CONSTRAINT "bom_line_alternates_bom_line_id_material_id_pk" PRIMARY KEY("bom_line_id","material_id")
);
--> statement-breakpoint
CREATE TABLE "bom_lines" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "bom_lines_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"site_id" integer NOT NULL,
	"parent_material_id" integer NOT NULL,
	"component_material_id" integer NOT NULL,
	"line_no" integer NOT NULL,
	"quantity" numeric(18, 6) NOT NULL,
	"unit" text NOT NULL,
	CONSTRAINT "bom_lines_parent_line" UNIQUE("site_id","parent_material_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "label_template_formats" (
	"label_template_id" integer NOT NULL,
	"identifier_format_id" integer NOT NULL,
	CONSTRAINT "label_template_formats_label_template_id_identifier_format_id_pk" PRIMARY KEY("label_template_id","identifier_format_id")
);
--> statement-breakpoint
CREATE TABLE "label_templates" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "label_templates_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"site_id" integer NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"work_centre" text,
	CONSTRAINT "label_templates_site_code" UNIQUE("site_id","code")
);
--> statement-breakpoint
CREATE TABLE "routing_operation_materials" (
	"operation_id" integer NOT NULL,
	"material_id" integer NOT NULL,
	"consumption_scan" "consumption_scan" NOT NULL,
	CONSTRAINT "routing_operation_materials_operation_id_material_id_pk" PRIMARY KEY("operation_id","material_id")
);
--> statement-breakpoint
CREATE TABLE "routing_operations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "routing_operations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"site_id" integer NOT NULL,
	"material_id" integer NOT NULL,
	"step" integer NOT NULL,
	"work_centre" text NOT NULL,
	"description" text NOT NULL,
	CONSTRAINT "routing_operations_material_step" UNIQUE("site_id","material_id","step")
);
--> statement-breakpoint
CREATE TABLE "work_orders" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "work_orders_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"number" text NOT NULL,
	"site_id" integer NOT NULL,
	"material_id" integer NOT NULL,
	"quantity" numeric(18, 6) NOT NULL,
	"unit" text NOT NULL,
	"status" "work_order_status" NOT NULL,
	"opened_at" timestamp (3) with time zone NOT NULL,
	"closed_at" timestamp (3) with time zone,
	CONSTRAINT "work_orders_number_unique" UNIQUE("number"),
	CONSTRAINT "work_orders_closed_has_time" CHECK (("work_orders"."status" = 'closed') = ("work_orders"."closed_at" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "genealogy_edges" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "genealogy_edges_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_ref" text NOT NULL,
	"kind" "genealogy_kind" NOT NULL,
	"input_item_id" bigint NOT NULL,
	"output_item_id" bigint NOT NULL,
	"quantity" numeric(18, 6) NOT NULL,
	"unit" text NOT NULL,
	"site_id" integer NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"work_order_id" integer,
	"provenance_kind" "provenance_kind" NOT NULL,
	"provenance_file_digest" text,
	"provenance_event_id" text,
	CONSTRAINT "genealogy_edges_quantity_positive" CHECK ("genealogy_edges"."quantity" > 0),
	CONSTRAINT "genealogy_edges_only_rework_is_a_loop" CHECK ("genealogy_edges"."input_item_id" <> "genealogy_edges"."output_item_id" OR "genealogy_edges"."kind" = 'rework'),
	CONSTRAINT "genealogy_edges_import_provenance" CHECK ("genealogy_edges"."provenance_kind" <> 'import' OR ("genealogy_edges"."provenance_file_digest" IS NOT NULL AND "genealogy_edges"."provenance_event_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "trace_items" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "trace_items_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" "trace_item_kind" NOT NULL,
	"identifier" text NOT NULL,
	"material_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"quantity" numeric(18, 6) NOT NULL,
	"unit" text NOT NULL,
	"status" "trace_item_status" NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"provenance_kind" "provenance_kind" NOT NULL,
	"provenance_file_digest" text,
	"provenance_event_id" text,
	CONSTRAINT "trace_items_serial_is_one_unit" CHECK ("trace_items"."kind" <> 'serial' OR "trace_items"."quantity" = 1),
	CONSTRAINT "trace_items_import_provenance" CHECK ("trace_items"."provenance_kind" <> 'import' OR ("trace_items"."provenance_file_digest" IS NOT NULL AND "trace_items"."provenance_event_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "external_master_records" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "external_master_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"system" "external_system" NOT NULL,
	"external_key" text NOT NULL,
	"material_id" integer,
	"site_id" integer,
	"tracking_flag" text NOT NULL,
	"tracking_mode" "tracking_mode" NOT NULL,
	"payload" jsonb NOT NULL,
	"imported_at" timestamp (3) with time zone NOT NULL,
	"source_digest" text NOT NULL,
	CONSTRAINT "external_master_records_key" UNIQUE NULLS NOT DISTINCT("system","external_key","site_id")
);
--> statement-breakpoint
CREATE TABLE "runtime_clients" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runtime_clients_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"site_id" integer NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"last_seen_at" timestamp (3) with time zone,
	CONSTRAINT "runtime_clients_name_unique" UNIQUE("name"),
	CONSTRAINT "runtime_clients_tokenHash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "user_roles" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "user_roles_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"role" "role" NOT NULL,
	"site_id" integer,
	CONSTRAINT "user_roles_grant" UNIQUE NULLS NOT DISTINCT("user_id","role","site_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"username" text NOT NULL,
	"display_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deactivated_at" timestamp (3) with time zone,
	CONSTRAINT "users_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "audit_trail" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"recorded_at" timestamp (3) with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"reason" text,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "identifier_formats" ADD CONSTRAINT "identifier_formats_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "materials" ADD CONSTRAINT "materials_family_id_material_families_id_fk" FOREIGN KEY ("family_id") REFERENCES "public"."material_families"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD CONSTRAINT "rule_set_versions_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tracking_rules" ADD CONSTRAINT "tracking_rules_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tracking_rules" ADD CONSTRAINT "tracking_rules_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tracking_rules" ADD CONSTRAINT "tracking_rules_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bom_line_alternates" ADD CONSTRAINT "bom_line_alternates_bom_line_id_bom_lines_id_fk" FOREIGN KEY ("bom_line_id") REFERENCES "public"."bom_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bom_line_alternates" ADD CONSTRAINT "bom_line_alternates_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bom_lines" ADD CONSTRAINT "bom_lines_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bom_lines" ADD CONSTRAINT "bom_lines_parent_material_id_materials_id_fk" FOREIGN KEY ("parent_material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bom_lines" ADD CONSTRAINT "bom_lines_component_material_id_materials_id_fk" FOREIGN KEY ("component_material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_template_formats" ADD CONSTRAINT "label_template_formats_label_template_id_label_templates_id_fk" FOREIGN KEY ("label_template_id") REFERENCES "public"."label_templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_template_formats" ADD CONSTRAINT "label_template_formats_identifier_format_id_identifier_formats_id_fk" FOREIGN KEY ("identifier_format_id") REFERENCES "public"."identifier_formats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_templates" ADD CONSTRAINT "label_templates_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routing_operation_materials" ADD CONSTRAINT "routing_operation_materials_operation_id_routing_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."routing_operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routing_operation_materials" ADD CONSTRAINT "routing_operation_materials_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routing_operations" ADD CONSTRAINT "routing_operations_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routing_operations" ADD CONSTRAINT "routing_operations_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "genealogy_edges" ADD CONSTRAINT "genealogy_edges_input_item_id_trace_items_id_fk" FOREIGN KEY ("input_item_id") REFERENCES "public"."trace_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "genealogy_edges" ADD CONSTRAINT "genealogy_edges_output_item_id_trace_items_id_fk" FOREIGN KEY ("output_item_id") REFERENCES "public"."trace_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "genealogy_edges" ADD CONSTRAINT "genealogy_edges_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "genealogy_edges" ADD CONSTRAINT "genealogy_edges_work_order_id_work_orders_id_fk" FOREIGN KEY ("work_order_id") REFERENCES "public"."work_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trace_items" ADD CONSTRAINT "trace_items_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trace_items" ADD CONSTRAINT "trace_items_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_master_records" ADD CONSTRAINT "external_master_records_material_id_materials_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."materials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_master_records" ADD CONSTRAINT "external_master_records_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_clients" ADD CONSTRAINT "runtime_clients_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_roles" ADD CONSTRAINT "user_roles_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_roles" ADD CONSTRAINT "user_roles_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tracking_rules_site_material_from" ON "tracking_rules" USING btree ("site_id","material_id","effective_from");--> statement-breakpoint
CREATE INDEX "bom_lines_component" ON "bom_lines" USING btree ("component_material_id");--> statement-breakpoint
CREATE INDEX "genealogy_edges_input" ON "genealogy_edges" USING btree ("input_item_id","output_item_id");--> statement-breakpoint
CREATE INDEX "genealogy_edges_output" ON "genealogy_edges" USING btree ("output_item_id","input_item_id");--> statement-breakpoint
CREATE INDEX "genealogy_edges_work_order" ON "genealogy_edges" USING btree ("work_order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "trace_items_material_identifier" ON "trace_items" USING btree ("material_id","identifier") WHERE "trace_items"."kind" <> 'container';--> statement-breakpoint
CREATE UNIQUE INDEX "trace_items_container_identifier" ON "trace_items" USING btree ("identifier") WHERE "trace_items"."kind" = 'container';--> statement-breakpoint
CREATE INDEX "trace_items_identifier" ON "trace_items" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "trace_items_material_status" ON "trace_items" USING btree ("material_id","status");--> statement-breakpoint
CREATE INDEX "sessions_user" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "audit_trail_entity" ON "audit_trail" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "audit_trail_actor" ON "audit_trail" USING btree ("actor");