CREATE TYPE "public"."audit_anchor_kind" AS ENUM('release', 'checkpoint');--> statement-breakpoint
CREATE TABLE "audit_anchors" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_anchors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"kind" "audit_anchor_kind" NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"rule_set_version_id" integer,
	"payload" "bytea" NOT NULL,
	"jws" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "audit_anchors_hash_hex" CHECK ("audit_anchors"."hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "audit_anchors_seq_positive" CHECK ("audit_anchors"."seq" >= 1)
);
--> statement-breakpoint
ALTER TABLE "audit_anchors" ADD CONSTRAINT "audit_anchors_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_anchors_seq" ON "audit_anchors" USING btree ("seq");--> statement-breakpoint
-- ---- Hand-written (issue 19 item 6, ADR 019): an anchor is evidence about the audit trail, so the
-- ---- database refuses to change or remove one, like the audit trail itself (migration 0001).
CREATE TRIGGER audit_anchors_no_update_delete BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
