CREATE TABLE "runtime_client_refusals" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runtime_client_refusals_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"offered_version" integer,
	"offered_digest" text,
	"code" text NOT NULL,
	"source" text NOT NULL,
	"message" text,
	"running_version" integer,
	"reported_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runtime_client_report_windows" (
	"runtime_client_id" integer PRIMARY KEY NOT NULL,
	"window_start" timestamp (3) with time zone NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "runtime_client_refusals" ADD CONSTRAINT "runtime_client_refusals_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_client_refusals" ADD CONSTRAINT "runtime_client_refusals_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_client_report_windows" ADD CONSTRAINT "runtime_client_report_windows_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runtime_client_refusals_client_site" ON "runtime_client_refusals" USING btree ("runtime_client_id","site_id","id");--> statement-breakpoint
CREATE FUNCTION "runtime_client_refusals_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'runtime client refusals are append-only' USING ERRCODE = 'restrict_violation';
END $$;--> statement-breakpoint
CREATE TRIGGER "runtime_client_refusals_append_only" BEFORE UPDATE OR DELETE ON "runtime_client_refusals" FOR EACH ROW EXECUTE FUNCTION "runtime_client_refusals_append_only"();
