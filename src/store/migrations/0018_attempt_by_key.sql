-- The attempt (migration 0017) reads its exchange by key, in a statement of its own.
--
-- In 0017 the exchange was joined to the updated delivery in one statement. The function's plan
-- is made once per connection, often while the tables are nearly empty (a gateway's first
-- deliveries), and for such tables the planner read the month's exchanges whole, by a scan of the
-- primary key on received_at alone or sequentially, then matched the delivery's exchange in
-- memory. That plan stayed for the connection's life: every attempt then read every exchange of
-- the month, a cost growing with the month (found by sampling PostgreSQL during bench:e2e,
-- docs/performance.md). Here the delivery is updated first, and its exchange is read with both
-- columns of its primary key equal to known values: an index lookup whatever the statistics said
-- when the plan was made, pruned to the exchange's month when it runs.
CREATE OR REPLACE FUNCTION tongban_start_attempt(p_id uuid, p_now timestamptz, p_age_from timestamptz, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (
  id uuid, "exchangeId" uuid, recipient text, status text, attempts integer, "lastError" text,
  "createdAt" timestamptz, "ageFrom" timestamptz, "updatedAt" timestamptz, "deliveredAt" timestamptz, "deadAt" timestamptz,
  "x.id" uuid, "x.sender" text, "x.messageId" text, "x.type" text, "x.v" integer, "x.caseId" text, "x.unitCode" text,
  "x.suite" text, "x.requestDigest" text, "x.receipt" text, "x.receivedAt" timestamptz, "x.sealed" bytea
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  d deliveries%ROWTYPE;
BEGIN
  UPDATE deliveries AS u SET attempts = u.attempts + 1, updated_at = p_now
   WHERE u.id = p_id AND u.status = 'pending' AND u.age_from >= p_age_from AND u.created_at >= p_from AND u.created_at < p_to
  RETURNING u.* INTO d;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT d.id, d.exchange_id, d.recipient, d.status, d.attempts, d.last_error,
         d.created_at, d.age_from, d.updated_at, d.delivered_at, d.dead_at,
         e.id, e.sender, e.message_id, e.type, e.v, e.case_id, e.unit_code,
         e.suite, e.request_digest, e.receipt, e.received_at, e.message_sealed
    FROM (VALUES (1)) AS one (n) LEFT JOIN exchanges e ON e.id = d.exchange_id AND e.received_at = d.created_at;
END $$;
