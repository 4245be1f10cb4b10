ALTER TABLE "rule_set_versions" ADD COLUMN "canonical_v2" "bytea";--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD COLUMN "digest_v2" text;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD COLUMN "jws_v2" text;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD CONSTRAINT "rule_set_versions_digest_v2_hex" CHECK ("rule_set_versions"."digest_v2" IS NULL OR "rule_set_versions"."digest_v2" ~ '^[0-9a-f]{64}$');--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD CONSTRAINT "rule_set_versions_v2_whole" CHECK (("rule_set_versions"."canonical_v2" IS NULL) = ("rule_set_versions"."digest_v2" IS NULL) AND ("rule_set_versions"."digest_v2" IS NULL) = ("rule_set_versions"."jws_v2" IS NULL));