-- The acceptance of a message in one round trip. The gateway's accept path used to send a dozen
-- statements per message (exchange, deliveries, case, participants, step, events…), and with
-- node-postgres each statement costs several socket writes: at a few hundred messages a second
-- that was the largest single cost after the cryptography (bench/accept.ts). This function does
-- the same writes, in the same order, in the caller's statement (one transaction).
--
-- doc = { exchange: { id, sender, messageId, type, v, caseId, unitCode, suite, requestDigest,
--                     messageSealed (base64), receipt, receivedAt },
--         deliveries: [{ id, recipient }],
--         housingContract?: { unitCode, contractNumber, filingNumber },         (remember a filing)
--         case?: { caseId, unitCode, openedBy, participants: [text], events: [{ event, actor, detail }],
--                  openStep?: { id, kind, requester, responder, dueAt },
--                  closeStep?: { id, outcome },
--                  linkContract?: { unitCode, contractNumber, filingNumber } } }
-- Raises: unique_violation on exchanges_sender_message_id_key (a repeat) or case_steps_one_open
-- (a step of that kind is already open); TB001 the case has another unit code; TB002 the step
-- to close is no longer open.
CREATE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  x jsonb := doc->'exchange';
  c jsonb := doc->'case';
  xid uuid := (doc->'exchange'->>'id')::uuid;
  at timestamptz := (doc->'exchange'->>'receivedAt')::timestamptz;
  stored_unit text;
  link housing_contracts%ROWTYPE;
BEGIN
  INSERT INTO exchanges (id, sender, message_id, type, v, case_id, unit_code, suite, request_digest, message_sealed, receipt, received_at)
  VALUES (xid, x->>'sender', x->>'messageId', x->>'type', (x->>'v')::int, x->>'caseId', x->>'unitCode', x->>'suite',
          x->>'requestDigest', decode(x->>'messageSealed', 'base64'), x->>'receipt', at);

  INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at)
  SELECT (d->>'id')::uuid, xid, d->>'recipient', 'pending', at, at, at FROM jsonb_array_elements(doc->'deliveries') AS d;

  IF doc ? 'housingContract' THEN
    INSERT INTO housing_contracts (unit_code, contract_number, filing_number, sender, exchange_id, filed_at)
    VALUES (doc->'housingContract'->>'unitCode', doc->'housingContract'->>'contractNumber', doc->'housingContract'->>'filingNumber', x->>'sender', xid, at)
    ON CONFLICT (unit_code, contract_number) DO UPDATE SET filing_number = EXCLUDED.filing_number, sender = EXCLUDED.sender, exchange_id = EXCLUDED.exchange_id, filed_at = EXCLUDED.filed_at;
  END IF;

  IF c IS NULL OR jsonb_typeof(c) = 'null' THEN
    RETURN;
  END IF;

  -- Creates the case, or locks it for this transaction (ON CONFLICT DO UPDATE takes the row lock).
  INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES (c->>'caseId', c->>'unitCode', c->>'openedBy', at)
  ON CONFLICT (case_id) DO UPDATE SET case_id = EXCLUDED.case_id
  RETURNING unit_code INTO stored_unit;
  IF stored_unit <> c->>'unitCode' THEN
    RAISE EXCEPTION USING ERRCODE = 'TB001', MESSAGE = 'the unit code differs from the case''s';
  END IF;

  INSERT INTO case_participants (case_id, participant)
  SELECT c->>'caseId', p FROM jsonb_array_elements_text(c->'participants') AS p ON CONFLICT DO NOTHING;

  INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
  SELECT c->>'caseId', at, e->>'event', e->>'actor', xid, COALESCE(e->'detail', '{}'::jsonb)
    FROM jsonb_array_elements(c->'events') WITH ORDINALITY AS t(e, n) ORDER BY n;

  IF c ? 'openStep' THEN
    INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at, due_at)
    VALUES ((c->'openStep'->>'id')::uuid, c->>'caseId', c->'openStep'->>'kind', 'open', c->'openStep'->>'requester',
            c->'openStep'->>'responder', xid, at, (c->'openStep'->>'dueAt')::timestamptz);
  END IF;

  IF c ? 'closeStep' THEN
    UPDATE case_steps SET status = c->'closeStep'->>'outcome', closed_by_exchange = xid, closed_at = at
     WHERE id = (c->'closeStep'->>'id')::uuid AND status = 'open';
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'TB002', MESSAGE = 'the step is no longer open';
    END IF;
  END IF;

  IF c ? 'linkContract' THEN
    SELECT * INTO link FROM housing_contracts
     WHERE unit_code = c->'linkContract'->>'unitCode'
       AND (contract_number = c->'linkContract'->>'contractNumber' OR filing_number = c->'linkContract'->>'filingNumber')
     ORDER BY filed_at DESC LIMIT 1;
    IF FOUND THEN
      INSERT INTO case_participants (case_id, participant) VALUES (c->>'caseId', link.sender) ON CONFLICT DO NOTHING;
      INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
      VALUES (c->>'caseId', at, 'contract.linked', x->>'sender', xid,
              jsonb_build_object('contractNumber', link.contract_number, 'filingNumber', link.filing_number, 'housing', link.sender, 'contractExchangeId', link.exchange_id));
    END IF;
  END IF;
END $$;
