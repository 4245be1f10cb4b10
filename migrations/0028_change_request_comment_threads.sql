CREATE TABLE "change_request_comment_resolutions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "change_request_comment_resolutions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"thread_id" integer NOT NULL,
	"action" text NOT NULL,
	"actor_id" integer NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "change_request_comment_resolutions_action" CHECK ("change_request_comment_resolutions"."action" in ('resolved', 'reopened'))
);
--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD COLUMN "parent_id" integer;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD COLUMN "anchor" jsonb DEFAULT '{"kind":"request"}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD COLUMN "revision" integer;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD COLUMN "blocking" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD COLUMN "resolved_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD COLUMN "resolved_by_id" integer;--> statement-breakpoint
ALTER TABLE "change_request_comment_resolutions" ADD CONSTRAINT "change_request_comment_resolutions_thread_id_change_request_comments_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."change_request_comments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_comment_resolutions" ADD CONSTRAINT "change_request_comment_resolutions_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_request_comment_resolutions_thread" ON "change_request_comment_resolutions" USING btree ("thread_id","id");--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_parent_id_change_request_comments_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."change_request_comments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_resolved_by_id_users_id_fk" FOREIGN KEY ("resolved_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_request_comments_change_request" ON "change_request_comments" USING btree ("change_request_id","id");--> statement-breakpoint
CREATE INDEX "change_request_comments_parent" ON "change_request_comments" USING btree ("parent_id");--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_resolved_by_whom" CHECK (("change_request_comments"."resolved_at" IS NULL) = ("change_request_comments"."resolved_by_id" IS NULL));--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_reply_plain" CHECK ("change_request_comments"."parent_id" IS NULL OR (NOT "change_request_comments"."blocking" AND "change_request_comments"."resolved_at" IS NULL));--> statement-breakpoint
ALTER TABLE "change_request_comments" ADD CONSTRAINT "change_request_comments_anchor_kind" CHECK ("change_request_comments"."anchor"->>'kind' in ('request', 'diff_row', 'finding'));--> statement-breakpoint
-- ===== Hand-written (issue 23, ADR 030): the resolutions of comment threads are a history,
-- ===== appended and never rewritten (like the audit trail, migration 0001).
CREATE TRIGGER change_request_comment_resolutions_no_update_delete BEFORE UPDATE OR DELETE ON change_request_comment_resolutions
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER change_request_comment_resolutions_no_truncate BEFORE TRUNCATE ON change_request_comment_resolutions
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- The application role's grants (migrations 0022 and 0026, ADR 018) on the new table and its sequence.
SELECT c981_grant_app_role();
-- ===== End of hand-written block.
