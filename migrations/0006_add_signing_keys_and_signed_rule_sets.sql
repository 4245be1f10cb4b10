CREATE TYPE "public"."rule_set_kind" AS ENUM('release', 'renewal');--> statement-breakpoint
CREATE TYPE "public"."signing_key_state" AS ENUM('active', 'retired');--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"state" "signing_key_state" NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"retired_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD COLUMN "kind" "rule_set_kind" DEFAULT 'release' NOT NULL;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD COLUMN "expires_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD COLUMN "change_request_numbers" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD COLUMN "jws" text;