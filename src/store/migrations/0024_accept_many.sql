-- Acceptances in groups (docs/performance.md, "Acceptances in groups"). Under load a gateway
-- process sends the acceptances that became ready while its last statement was out together, in
-- one statement and one commit (src/store/group.ts): PostgreSQL wakes and commits once for the
-- group, not once per message.
--
-- Each item is what one message's statement writes (src/store/accept.ts): tongban_accept, the
-- links to the attachments it names, and its ledger entry. Each runs in its own subtransaction,
-- so an item refused (a repeat, a conflict of its case, a deleted attachment) undoes its own
-- writes only, and comes back as its SQLSTATE and constraint, in the items' order (null: written).
-- The gateway answers each message only after the group's commit: its receipt is still durable
-- before it is sent.
--
-- The gateway sends at most 16 items: a transaction keeps the ids of up to 64 subtransactions in
-- shared memory, and past that every snapshot taken by every session costs more.
CREATE FUNCTION tongban_accept_many(items jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  doc jsonb;
  e jsonb;
  outcomes jsonb := '[]'::jsonb;
  state text;
  cons text;
BEGIN
  FOR item IN SELECT value FROM jsonb_array_elements(items) AS t(value) LOOP
    doc := item->'doc';
    BEGIN
      PERFORM tongban_accept(doc);
      INSERT INTO exchange_attachments (exchange_id, attachment_id, received_at)
      SELECT (doc->'exchange'->>'id')::uuid, a::uuid, (doc->'exchange'->>'receivedAt')::timestamptz
        FROM jsonb_array_elements_text(doc->'attachments') AS a;
      e := item->'entry';
      IF e IS NOT NULL AND jsonb_typeof(e) = 'object' THEN
        INSERT INTO ledger_entries (id, kind, entry, parties, created_at, case_id)
        VALUES ((e->>'id')::uuid, e->>'kind', e->>'entry', ARRAY(SELECT jsonb_array_elements_text(e->'parties')),
                (e->>'at')::timestamptz, e->>'caseId');
      END IF;
      outcomes := outcomes || jsonb_build_array(NULL::jsonb);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, cons = CONSTRAINT_NAME;
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('code', state, 'constraint', NULLIF(cons, '')));
    END;
  END LOOP;
  RETURN outcomes;
END $$;
