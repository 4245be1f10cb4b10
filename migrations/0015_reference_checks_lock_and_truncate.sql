-- Hand-written (issue 10, ADR 015): the statement-level reference checks of 0014, closer to what a
-- foreign key guarantees, after review:
--  * the referenced rows are locked and the missing ones named by ONE statement: with the lock and
--    the check as two statements, in READ COMMITTED a parent committed between them passed the
--    check without being locked (a concurrent delete would not wait for the import);
--  * deleting or renumbering a referenced site or material is checked with the latest committed
--    rows only in READ COMMITTED (a trigger cannot take a fresh snapshot in REPEATABLE READ or
--    SERIALIZABLE, where a foreign key would use a crosscheck snapshot): there it is refused
--    outright when it removes an id — C-981 never deletes sites or materials;
--  * TRUNCATE … CASCADE of sites or materials no longer reaches the two import tables (they have no
--    foreign key): it is refused while they hold rows.
CREATE OR REPLACE FUNCTION c981_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i int := 0;
  missing text;
BEGIN
  -- Arguments: pairs of (column, referenced table with an "id" key).
  WHILE i < TG_NARGS LOOP
    EXECUTE format('WITH wanted AS (SELECT DISTINCT n.%1$I AS v FROM new_rows n WHERE n.%1$I IS NOT NULL),
                         locked AS (SELECT p.id FROM %2$I p WHERE p.id IN (SELECT w.v FROM wanted w) FOR KEY SHARE OF p)
                    SELECT string_agg(w.v::text, '', '' ORDER BY w.v) FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.id = w.v)',
                   TG_ARGV[i], TG_ARGV[i + 1]) INTO missing;
    IF missing IS NOT NULL THEN
      RAISE EXCEPTION 'C-981: %.% refers to % that do not exist (id %)', TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1], missing
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c981_refuse_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i int := 0;
  gone bigint[];
  found text;
BEGIN
  -- Arguments: pairs of (referencing table, its column). Ids that no longer exist after the
  -- statement: deleted rows, or an id changed by an update.
  IF TG_OP = 'DELETE' THEN
    SELECT array_agg(o.id) INTO gone FROM old_rows o;
  ELSE
    SELECT array_agg(o.id) INTO gone FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id);
  END IF;
  IF gone IS NULL THEN
    RETURN NULL;
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'C-981: removing % % is checked against the import tables only in READ COMMITTED (this transaction is %)', TG_TABLE_NAME, array_to_string(gone, ', '), current_setting('transaction_isolation')
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  WHILE i < TG_NARGS LOOP
    EXECUTE format('SELECT string_agg(g::text, '', '' ORDER BY g) FROM unnest($1) g WHERE EXISTS (SELECT 1 FROM %1$I c WHERE c.%2$I = g)', TG_ARGV[i], TG_ARGV[i + 1]) INTO found USING gone;
    IF found IS NOT NULL THEN
      RAISE EXCEPTION 'C-981: % % is still referenced from %.%', TG_TABLE_NAME, found, TG_ARGV[i], TG_ARGV[i + 1]
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION c981_refuse_truncate_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i int := 0;
  held boolean;
BEGIN
  -- Arguments: the referencing tables.
  WHILE i < TG_NARGS LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', TG_ARGV[i]) INTO held;
    IF held THEN
      RAISE EXCEPTION 'C-981: % cannot be truncated while % refers to it', TG_TABLE_NAME, TG_ARGV[i]
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    i := i + 1;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER sites_referenced_on_truncate BEFORE TRUNCATE ON sites
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_truncate_referenced('external_master_records', 'epcis_events');
--> statement-breakpoint
CREATE TRIGGER materials_referenced_on_truncate BEFORE TRUNCATE ON materials
  FOR EACH STATEMENT EXECUTE FUNCTION c981_refuse_truncate_referenced('external_master_records');
