-- Deliveries settled in groups (docs/performance.md, "Settlements in groups"): while a worker's
-- settlement is being written, the deliveries that arrive meanwhile wait and are settled together,
-- in one statement and one commit (src/store/group.ts), as the acceptances are (0024).
--
-- Each item is what one settlement writes (store/deliveries.ts markDelivered): pending →
-- delivered, and only then its ledger entry (delivery.settled) and its timeline event. The
-- result is whether each item was pending, in the items' order. No subtransactions: nothing in a
-- settlement is refused item by item, and a group that fails is settled again one by one.
-- [from, to) bounds each delivery's creation time as for the attempt (0017), and the plan is
-- generic for the same reason: made once per connection, pruned to the month when it runs.
CREATE FUNCTION tongban_settle_many(items jsonb) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  item jsonb;
  e jsonb;
  v jsonb;
  settled boolean;
  outcomes jsonb := '[]'::jsonb;
BEGIN
  FOR item IN SELECT value FROM jsonb_array_elements(items) AS t(value) LOOP
    UPDATE deliveries SET status = 'delivered', delivered_at = (item->>'at')::timestamptz, updated_at = (item->>'at')::timestamptz, last_error = NULL
     WHERE id = (item->>'id')::uuid AND status = 'pending'
       AND created_at >= (item->>'from')::timestamptz AND created_at < (item->>'to')::timestamptz;
    settled := FOUND;
    IF settled THEN
      e := item->'entry';
      IF jsonb_typeof(e) = 'object' THEN
        INSERT INTO ledger_entries (id, kind, entry, parties, created_at, case_id)
        VALUES ((e->>'id')::uuid, e->>'kind', e->>'entry', ARRAY(SELECT jsonb_array_elements_text(e->'parties')),
                (e->>'at')::timestamptz, e->>'caseId');
      END IF;
      v := item->'event';
      IF jsonb_typeof(v) = 'object' THEN
        INSERT INTO case_events (case_id, at, event, actor, exchange_id, delivery_id, detail)
        VALUES (v->>'caseId', (v->>'at')::timestamptz, v->>'event', v->>'actor', (v->>'exchangeId')::uuid, (v->>'deliveryId')::uuid, v->'detail');
      END IF;
    END IF;
    outcomes := outcomes || to_jsonb(settled);
  END LOOP;
  RETURN outcomes;
END $$;
