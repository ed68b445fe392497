-- A delivery's attempt (store/deliveries.ts startAttempt) as a function whose statement is planned
-- once per connection. [p_from, p_to) bounds the delivery's creation time: its month's
-- millisecond when the job carries it, '-infinity' to 'infinity' when it does not (every month).
--
-- The statement counts the attempt on a pending delivery that has not expired and returns it
-- joined to its exchange and sealed message. Sent on its own (a named statement), PostgreSQL
-- planned it again on every execution: its plan for one month's partitions looked cheaper than
-- a plan for every month, so it never kept a generic plan. Planning cost about 0.2 ms of
-- PostgreSQL's CPU per attempt, more than running it (0.35-0.40 ms per attempt before, 0.15-0.20 after,
-- docs/performance.md, `npm run bench:pg`). Here the plan is generic (plan_cache_mode for this
-- function only): made once per connection, it reads one month's partitions when it runs
-- (PostgreSQL prunes the others at executor start), and no other statement's planning changes.
--
-- The commit that does not wait for the disk stays in the caller's statement (a SET LOCAL inside
-- a function with a SET clause would end with the function).
CREATE FUNCTION tongban_start_attempt(p_id uuid, p_now timestamptz, p_age_from timestamptz, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (
  id uuid, "exchangeId" uuid, recipient text, status text, attempts integer, "lastError" text,
  "createdAt" timestamptz, "ageFrom" timestamptz, "updatedAt" timestamptz, "deliveredAt" timestamptz, "deadAt" timestamptz,
  "x.id" uuid, "x.sender" text, "x.messageId" text, "x.type" text, "x.v" integer, "x.caseId" text, "x.unitCode" text,
  "x.suite" text, "x.requestDigest" text, "x.receipt" text, "x.receivedAt" timestamptz, "x.sealed" bytea
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH d AS (
    UPDATE deliveries AS u SET attempts = u.attempts + 1, updated_at = p_now
     WHERE u.id = p_id AND u.status = 'pending' AND u.age_from >= p_age_from AND u.created_at >= p_from AND u.created_at < p_to
    RETURNING u.*
  )
  SELECT d.id, d.exchange_id, d.recipient, d.status, d.attempts, d.last_error,
         d.created_at, d.age_from, d.updated_at, d.delivered_at, d.dead_at,
         e.id, e.sender, e.message_id, e.type, e.v, e.case_id, e.unit_code,
         e.suite, e.request_digest, e.receipt, e.received_at, e.message_sealed
    FROM d LEFT JOIN exchanges e ON e.id = d.exchange_id AND e.received_at = d.created_at AND e.received_at >= p_from AND e.received_at < p_to;
END $$;
