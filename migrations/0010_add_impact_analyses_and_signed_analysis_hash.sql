CREATE TABLE "impact_analyses" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "impact_analyses_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"change_request_id" integer NOT NULL,
	"revision" integer NOT NULL,
	"content_hash" text NOT NULL,
	"data_point" bigint NOT NULL,
	"data_point_at" timestamp (3) with time zone NOT NULL,
	"rule_set_versions" jsonb NOT NULL,
	"basis_digest" text NOT NULL,
	"report" text NOT NULL,
	"sha256" text NOT NULL,
	"summary" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "signatures" ADD COLUMN "analysis_hash" text;--> statement-breakpoint
ALTER TABLE "impact_analyses" ADD CONSTRAINT "impact_analyses_change_request_id_change_requests_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "impact_analyses_change_request" ON "impact_analyses" USING btree ("change_request_id","id");--> statement-breakpoint
-- An impact analysis is a record reviewers sign with: never changed, never deleted (a fresh one is added).
CREATE TRIGGER impact_analyses_append_only BEFORE UPDATE OR DELETE ON impact_analyses
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
CREATE TRIGGER impact_analyses_no_truncate BEFORE TRUNCATE ON impact_analyses
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- The analysis hash a signer signed with is part of the signature: it can no more change than the rest.
CREATE OR REPLACE FUNCTION c981_signature_void_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'C-981: signatures are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.voided_at IS NOT NULL
     OR (NEW.change_request_id, NEW.signer_id, NEW.printed_name, NEW.role, NEW.meaning, NEW.signed_at, NEW.content_hash, NEW.revision, NEW.comment, NEW.analysis_hash)
        IS DISTINCT FROM
        (OLD.change_request_id, OLD.signer_id, OLD.printed_name, OLD.role, OLD.meaning, OLD.signed_at, OLD.content_hash, OLD.revision, OLD.comment, OLD.analysis_hash) THEN
    RAISE EXCEPTION 'C-981: a signature can only be voided, once' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
