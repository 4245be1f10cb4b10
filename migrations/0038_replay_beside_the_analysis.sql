ALTER TABLE "signatures" ADD COLUMN "replay_hash" text;--> statement-breakpoint
ALTER TABLE "impact_analyses" ADD COLUMN "replay" text;--> statement-breakpoint
ALTER TABLE "impact_analyses" ADD COLUMN "replay_sha256" text;--> statement-breakpoint
ALTER TABLE "impact_analyses" ADD COLUMN "replay_duration_ms" integer;--> statement-breakpoint
-- ===== Hand-written (ADR 041). The replay hash a signer signed with is part of the signature, like
-- the analysis hash (0010): it can no more change than the rest. The attestations (0035) are held too.
CREATE OR REPLACE FUNCTION c981_signature_void_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'C-981: signatures are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.voided_at IS NOT NULL
     OR (NEW.change_request_id, NEW.signer_id, NEW.printed_name, NEW.role, NEW.meaning, NEW.signed_at, NEW.content_hash, NEW.revision, NEW.comment, NEW.analysis_hash, NEW.replay_hash, NEW.attestations)
        IS DISTINCT FROM
        (OLD.change_request_id, OLD.signer_id, OLD.printed_name, OLD.role, OLD.meaning, OLD.signed_at, OLD.content_hash, OLD.revision, OLD.comment, OLD.analysis_hash, OLD.replay_hash, OLD.attestations) THEN
    RAISE EXCEPTION 'C-981: a signature can only be voided, once' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
