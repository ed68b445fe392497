-- Making a partition of case_events clones its foreign key to cases, which takes a SHARE ROW
-- EXCLUSIVE lock on cases while the parent case_events is already locked. An acceptance locks
-- them the other way round (the case first, then its timeline), and the two deadlocked (a 500 to
-- the sender: seen when a gateway started in a month with no partitions yet). The partition's
-- maker now takes the lock on cases first, in the acceptance's order.
CREATE OR REPLACE FUNCTION tongban_ensure_month(tbl text, month date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  col text := CASE tbl WHEN 'exchanges' THEN 'received_at' WHEN 'deliveries' THEN 'created_at' WHEN 'case_events' THEN 'at' END;
  lo timestamptz := (date_trunc('month', month)::date::text || ' 00:00:00+00')::timestamptz;
  hi timestamptz := ((date_trunc('month', month) + interval '1 month')::date::text || ' 00:00:00+00')::timestamptz;
  part text := tbl || '_p' || to_char(month, 'YYYY_MM');
  stray boolean;
BEGIN
  IF col IS NULL THEN
    RAISE EXCEPTION 'not a partitioned table: %', tbl;
  END IF;
  IF to_regclass(format('%I.%I', current_schema(), part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF tbl = 'case_events' THEN
    EXECUTE format('LOCK TABLE %I.cases IN SHARE ROW EXCLUSIVE MODE', current_schema());
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE %I >= $1 AND %I < $2)', current_schema(), tbl || '_default', col, col) INTO stray USING lo, hi;
  IF stray THEN
    EXECUTE format('ALTER TABLE %I.%I DETACH PARTITION %I.%I', current_schema(), tbl, current_schema(), tbl || '_default');
  END IF;
  EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)', current_schema(), part, current_schema(), tbl, lo, hi);
  IF stray THEN
    EXECUTE format('INSERT INTO %I.%I SELECT * FROM %I.%I WHERE %I >= $1 AND %I < $2', current_schema(), part, current_schema(), tbl || '_default', col, col) USING lo, hi;
    EXECUTE format('DELETE FROM %I.%I WHERE %I >= $1 AND %I < $2', current_schema(), tbl || '_default', col, col) USING lo, hi;
    EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I DEFAULT', current_schema(), tbl, current_schema(), tbl || '_default');
  END IF;
  RETURN true;
END $$;
