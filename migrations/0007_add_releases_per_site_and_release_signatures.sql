CREATE TABLE "change_request_site_releases" (
	"change_request_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"rule_set_version_id" integer NOT NULL,
	"released_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "change_request_site_releases_change_request_id_site_id_pk" PRIMARY KEY("change_request_id","site_id")
);
--> statement-breakpoint
CREATE TABLE "release_signatures" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "release_signatures_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"rule_set_version_id" integer NOT NULL,
	"signer_id" integer NOT NULL,
	"printed_name" text NOT NULL,
	"meaning" text NOT NULL,
	"signed_at" timestamp (3) with time zone NOT NULL,
	"digest" text NOT NULL,
	CONSTRAINT "release_signatures_ruleSetVersionId_unique" UNIQUE("rule_set_version_id")
);
--> statement-breakpoint
ALTER TABLE "change_request_site_releases" ADD CONSTRAINT "change_request_site_releases_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_site_releases" ADD CONSTRAINT "change_request_site_releases_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_site_releases" ADD CONSTRAINT "change_request_site_releases_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_signatures" ADD CONSTRAINT "release_signatures_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_signatures" ADD CONSTRAINT "release_signatures_signer_id_users_id_fk" FOREIGN KEY ("signer_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;