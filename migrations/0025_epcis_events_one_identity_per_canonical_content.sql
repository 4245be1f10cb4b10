ALTER TABLE "epcis_events" ADD COLUMN "identity_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "epcis_events_identity" ON "epcis_events" USING btree ("identity_hash");--> statement-breakpoint
-- ===== Hand-written block (ADR 014, Identity).
-- The identity of an event (SHA-256 of its canonical fact, every EPC in one spelling) is computed
-- by app/domain/epcis/events.ts (identityHash), which SQL cannot: the rows stored before this
-- migration are filled by applyMigrations right after it (app/utils/migrate.server.ts). Once set,
-- an identity is never rewritten.
CREATE OR REPLACE FUNCTION c981_epcis_event_forward() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NEW.event_key <> OLD.event_key OR NEW.content_hash <> OLD.content_hash OR NEW.body <> OLD.body
     OR NEW.file_digest <> OLD.file_digest OR (OLD.status = 'superseded' AND NEW.status <> 'superseded')
     OR (OLD.identity_hash IS NOT NULL AND NEW.identity_hash IS DISTINCT FROM OLD.identity_hash) THEN
    RAISE EXCEPTION 'C-981: an imported EPCIS event is only ever applied or superseded, never rewritten' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
-- ===== End of hand-written block.
