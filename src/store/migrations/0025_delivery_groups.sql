-- A worker's attempts and settlements in groups (docs/performance.md, "Deliveries in groups"):
-- while one is being written, those that arrive meanwhile wait and go together, in one statement
-- and one commit (src/store/group.ts), as the acceptances do (0024).
--
-- Settlements.
-- Each item is what one settlement writes (store/deliveries.ts markDelivered): pending →
-- delivered, and only then its ledger entry (delivery.settled) and its timeline event. The
-- result is whether each item was pending, in the items' order. No subtransactions: nothing in a
-- settlement is refused item by item, and a group that fails is settled again one by one.
--
-- Each delivery is updated by a statement of its own: [from, to) bounds its creation time as for
-- the attempt (0017), and the plan is generic for the same reason (made once per connection,
-- pruned to the month when it runs). The ledger entries and the timeline events of the settled
-- ones are then written by one statement each, for the whole group: a statement's start-up in
-- PostgreSQL costs more than its one row.
--
-- A group waits at most 20 s for a row lock (lock_timeout, both functions): then the whole
-- statement is refused and rolled back, and its items are written one by one, each waiting for
-- its own row only. (The client gives up on a statement unanswered for 30 s, store/deliveries.ts
-- GROUP_TIMEOUT_MS: a connection that no longer answers.)
CREATE FUNCTION tongban_settle_many(items jsonb) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET lock_timeout = '20s' AS $$
DECLARE
  item jsonb;
  n integer := 0;
  done boolean;
  settled integer[] := '{}';
  outcomes jsonb := '[]'::jsonb;
BEGIN
  FOR item IN SELECT value FROM jsonb_array_elements(items) AS t(value) LOOP
    n := n + 1;
    UPDATE deliveries SET status = 'delivered', delivered_at = (item->>'at')::timestamptz, updated_at = (item->>'at')::timestamptz, last_error = NULL
     WHERE id = (item->>'id')::uuid AND status = 'pending'
       AND created_at >= (item->>'from')::timestamptz AND created_at < (item->>'to')::timestamptz;
    done := FOUND;
    IF done THEN
      settled := settled || n;
    END IF;
    outcomes := outcomes || to_jsonb(done);
  END LOOP;
  IF cardinality(settled) = 0 THEN
    RETURN outcomes;
  END IF;
  -- In the items' order: the integrator places entries in the order they were written.
  INSERT INTO ledger_entries (id, kind, entry, parties, created_at, case_id)
  SELECT (e->>'id')::uuid, e->>'kind', e->>'entry', ARRAY(SELECT jsonb_array_elements_text(e->'parties')), (e->>'at')::timestamptz, e->>'caseId'
    FROM jsonb_array_elements(items) WITH ORDINALITY AS t(value, k), LATERAL (SELECT t.value->'entry') AS x(e)
   WHERE k = ANY (settled) AND jsonb_typeof(e) = 'object'
   ORDER BY k;
  -- By case, then in the items' order: each event's foreign key locks its case (FOR KEY SHARE),
  -- and acceptances lock cases in this order (0024); in the items' order a group could lock C2
  -- then C1 while an acceptance holds C1 and waits for C2.
  INSERT INTO case_events (case_id, at, event, actor, exchange_id, delivery_id, detail)
  SELECT v->>'caseId', (v->>'at')::timestamptz, v->>'event', v->>'actor', (v->>'exchangeId')::uuid, (v->>'deliveryId')::uuid, v->'detail'
    FROM jsonb_array_elements(items) WITH ORDINALITY AS t(value, k), LATERAL (SELECT t.value->'event') AS x(v)
   WHERE k = ANY (settled) AND jsonb_typeof(v) = 'object'
   ORDER BY v->>'caseId' COLLATE "C", k;
  RETURN outcomes;
END $$;

-- Attempts. Each item is what one attempt does (0017, 0018: tongban_start_attempt): counts the
-- attempt on a delivery still pending and not expired, and reads its exchange by its whole key.
-- The rows of the items that found their delivery come back, each with its item's number `n`
-- (from 1); the others have none (store/deliveries.ts asks getDelivery why, as for one).
CREATE FUNCTION tongban_start_attempts(items jsonb)
RETURNS TABLE (
  n integer,
  id uuid, "exchangeId" uuid, recipient text, status text, attempts integer, "lastError" text,
  "createdAt" timestamptz, "ageFrom" timestamptz, "updatedAt" timestamptz, "deliveredAt" timestamptz, "deadAt" timestamptz,
  "x.id" uuid, "x.sender" text, "x.messageId" text, "x.type" text, "x.v" integer, "x.caseId" text, "x.unitCode" text,
  "x.suite" text, "x.requestDigest" text, "x.receipt" text, "x.receivedAt" timestamptz, "x.sealed" bytea
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET lock_timeout = '20s' AS $$
#variable_conflict use_column
DECLARE
  item jsonb;
  k integer := 0;
  d deliveries%ROWTYPE;
BEGIN
  FOR item IN SELECT value FROM jsonb_array_elements(items) AS t(value) LOOP
    k := k + 1;
    UPDATE deliveries AS u SET attempts = u.attempts + 1, updated_at = (item->>'now')::timestamptz
     WHERE u.id = (item->>'id')::uuid AND u.status = 'pending' AND u.age_from >= (item->>'ageFrom')::timestamptz
       AND u.created_at >= (item->>'from')::timestamptz AND u.created_at < (item->>'to')::timestamptz
    RETURNING u.* INTO d;
    IF FOUND THEN
      RETURN QUERY
      SELECT k, d.id, d.exchange_id, d.recipient, d.status, d.attempts, d.last_error,
             d.created_at, d.age_from, d.updated_at, d.delivered_at, d.dead_at,
             e.id, e.sender, e.message_id, e.type, e.v, e.case_id, e.unit_code,
             e.suite, e.request_digest, e.receipt, e.received_at, e.message_sealed
        FROM (VALUES (1)) AS one (x) LEFT JOIN exchanges e ON e.id = d.exchange_id AND e.received_at = d.created_at;
    END IF;
  END LOOP;
END $$;
