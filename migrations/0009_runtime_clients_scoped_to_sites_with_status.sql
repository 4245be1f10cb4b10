CREATE TABLE "runtime_client_sites" (
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	CONSTRAINT "runtime_client_sites_runtime_client_id_site_id_pk" PRIMARY KEY("runtime_client_id","site_id")
);
--> statement-breakpoint
CREATE TABLE "runtime_client_status" (
	"runtime_client_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"version" integer NOT NULL,
	"digest" text NOT NULL,
	"activated_at" timestamp (3) with time zone NOT NULL,
	"trusted_keys" text[] NOT NULL,
	"error" text,
	"reported_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "runtime_client_status_runtime_client_id_site_id_pk" PRIMARY KEY("runtime_client_id","site_id")
);
--> statement-breakpoint
ALTER TABLE "runtime_clients" DROP CONSTRAINT "runtime_clients_site_id_sites_id_fk";
--> statement-breakpoint
ALTER TABLE "runtime_client_sites" ADD CONSTRAINT "runtime_client_sites_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_client_sites" ADD CONSTRAINT "runtime_client_sites_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_client_status" ADD CONSTRAINT "runtime_client_status_runtime_client_id_runtime_clients_id_fk" FOREIGN KEY ("runtime_client_id") REFERENCES "public"."runtime_clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_client_status" ADD CONSTRAINT "runtime_client_status_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runtime_clients" DROP COLUMN "site_id";