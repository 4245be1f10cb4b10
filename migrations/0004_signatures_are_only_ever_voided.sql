-- An electronic signature is never deleted or altered; an edit of the signed content only marks it
-- void (21 CFR 11.70: signatures stay linked to their records).
CREATE FUNCTION c981_signature_void_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'C-981: signatures are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.voided_at IS NOT NULL
     OR (NEW.change_request_id, NEW.signer_id, NEW.printed_name, NEW.role, NEW.meaning, NEW.signed_at, NEW.content_hash, NEW.revision, NEW.comment)
        IS DISTINCT FROM
        (OLD.change_request_id, OLD.signer_id, OLD.printed_name, OLD.role, OLD.meaning, OLD.signed_at, OLD.content_hash, OLD.revision, OLD.comment) THEN
    RAISE EXCEPTION 'C-981: a signature can only be voided, once' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER signatures_void_only BEFORE UPDATE OR DELETE ON signatures
  FOR EACH ROW EXECUTE FUNCTION c981_signature_void_only();
--> statement-breakpoint
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
