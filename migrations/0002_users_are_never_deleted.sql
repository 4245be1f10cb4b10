-- Users are deactivated, never deleted, so a user name is never reused and every signature and
-- audit row keeps naming a real account (21 CFR 11.300(a), 11.100(a)).
CREATE FUNCTION c981_refuse_user_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'C-981: users are never deleted; deactivate % instead', OLD.username
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_never_deleted BEFORE DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION c981_refuse_user_delete();
--> statement-breakpoint
CREATE TRIGGER users_no_truncate BEFORE TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_change();
--> statement-breakpoint
-- A user name may not change either: it is the name in the audit trail.
CREATE FUNCTION c981_username_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.username IS DISTINCT FROM OLD.username THEN
    RAISE EXCEPTION 'C-981: user name % cannot change', OLD.username USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_username_immutable BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION c981_username_immutable();
