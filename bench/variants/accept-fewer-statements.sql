-- A candidate, measured and not adopted (docs/performance.md, "PostgreSQL per statement"):
-- tongban_accept with the same rules and errors in fewer statements. Run it against the current
-- function with `npm run bench:pg -- --variant bench/variants/accept-fewer-statements.sql`
-- (applied to the acceptance statement's own schema, after the migrations).
--
-- A message that opens a case runs 13 statements in the current function (and a nested call):
-- the message id, the exchange and its deliveries one each; the case looked up, inserted, looked
-- up again; the sender's participation looked up and the case's owner read; then the
-- participants, the timeline and the step. Here 7:
--   - the message id, the exchange and its deliveries are one statement (data-modifying WITH;
--     a repeated message id still raises exchange_keys_pkey);
--   - a case this acceptance inserts (INSERT … RETURNING) is known to be the sender's and to have
--     no participants yet: it is neither looked up again nor asked who opened it;
--   - the case's unit, home case and owner are read once, under the row lock, and the
--     "not linked yet" rule of an examination uses what was read;
--   - the wrapper of migration 0014 and the core of 0012 are one function.
CREATE OR REPLACE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  x jsonb := doc->'exchange';
  c jsonb := doc->'case';
  xid uuid := (doc->'exchange'->>'id')::uuid;
  at timestamptz := (doc->'exchange'->>'receivedAt')::timestamptz;
  sender_id text := doc->'exchange'->>'sender';
  case_key text;
  stored_unit text;
  stored_home text;
  stored_owner text;
  sender_confirmed boolean;
  created boolean := false;
  inserted boolean := false;
  may_join boolean;
  link housing_contracts%ROWTYPE;
  links int;
BEGIN
  -- The sender's message id, once (raises exchange_keys_pkey on a repeat): the partitioned table
  -- of exchanges cannot hold a unique key without its partition key. Then the exchange and its
  -- deliveries (the outbox), in the same statement.
  WITH message_key AS (
    INSERT INTO exchange_keys (sender, message_id, exchange_id, received_at) VALUES (sender_id, x->>'messageId', xid, at)
  ), exchange AS (
    INSERT INTO exchanges (id, sender, message_id, type, v, case_id, unit_code, suite, request_digest, message_sealed, receipt, received_at)
    VALUES (xid, sender_id, x->>'messageId', x->>'type', (x->>'v')::int, x->>'caseId', x->>'unitCode', x->>'suite',
            x->>'requestDigest', decode(x->>'messageSealed', 'base64'), x->>'receipt', at)
  )
  INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at)
  SELECT (d->>'id')::uuid, xid, d->>'recipient', 'pending', at, at, at FROM jsonb_array_elements(doc->'deliveries') AS d;

  IF doc ? 'housingContract' THEN
    -- A bureau may file the same contract again (a correction of its filing number), for the same unit only.
    INSERT INTO housing_contracts (unit_code, contract_number, filing_number, sender, exchange_id, filed_at)
    VALUES (doc->'housingContract'->>'unitCode', doc->'housingContract'->>'contractNumber', doc->'housingContract'->>'filingNumber', sender_id, xid, at)
    ON CONFLICT (sender, contract_number) DO UPDATE SET filing_number = EXCLUDED.filing_number, exchange_id = EXCLUDED.exchange_id, filed_at = EXCLUDED.filed_at
      WHERE housing_contracts.unit_code = EXCLUDED.unit_code;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'TB005', MESSAGE = 'this bureau filed the contract number for another unit';
    END IF;
  END IF;

  IF c IS NULL OR jsonb_typeof(c) = 'null' THEN
    RETURN;
  END IF;
  case_key := c->>'caseId';
  may_join := COALESCE((c->>'mayJoin')::boolean, false);

  SELECT unit_code, home_case, opened_by INTO stored_unit, stored_home, stored_owner FROM cases WHERE case_id = case_key FOR UPDATE;
  IF NOT FOUND THEN
    IF NOT COALESCE((c->>'mayCreate')::boolean, false) THEN
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
    INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES (case_key, c->>'unitCode', sender_id, at)
    ON CONFLICT (case_id) DO NOTHING
    RETURNING unit_code, home_case, opened_by INTO stored_unit, stored_home, stored_owner;
    inserted := FOUND;
    IF NOT inserted THEN
      -- Created meanwhile by a concurrent acceptance: wait for its lock, then read it.
      SELECT unit_code, home_case, opened_by INTO stored_unit, stored_home, stored_owner FROM cases WHERE case_id = case_key FOR UPDATE;
    END IF;
    created := true;
  END IF;

  IF inserted THEN
    -- Opened by this acceptance: the sender's case, with no participant yet.
    sender_confirmed := true;
  ELSE
    SELECT confirmed INTO sender_confirmed FROM case_participants WHERE case_id = case_key AND participant = sender_id;
    IF NOT FOUND THEN
      -- A case created concurrently by another sender is not this sender's either.
      IF created AND stored_owner = sender_id THEN
        sender_confirmed := true;
      ELSIF may_join THEN
        sender_confirmed := false;
      ELSE
        RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
      END IF;
    ELSIF NOT sender_confirmed AND NOT may_join THEN
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
  END IF;

  -- A participant is told its unit code is wrong; an applicant not yet confirmed gets the answer
  -- an unknown case gets (it must not learn which case ids exist for which unit).
  IF stored_unit <> c->>'unitCode' THEN
    IF NOT sender_confirmed THEN
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'TB001', MESSAGE = 'the unit code differs from the case''s';
  END IF;

  INSERT INTO case_participants (case_id, participant, confirmed) VALUES (case_key, sender_id, sender_confirmed)
  ON CONFLICT (case_id, participant) DO NOTHING;
  IF sender_confirmed AND COALESCE((c->>'involvesRecipients')::boolean, true) THEN
    -- A participant involves its recipients (and answering a pending applicant confirms it).
    INSERT INTO case_participants (case_id, participant, confirmed)
    SELECT case_key, p, true FROM jsonb_array_elements_text(c->'recipients') AS p
    ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
  ELSE
    -- A pending applicant involves nobody new, and a refusal confirms nobody.
    INSERT INTO case_participants (case_id, participant, confirmed)
    SELECT case_key, p, false FROM jsonb_array_elements_text(c->'recipients') AS p
    ON CONFLICT (case_id, participant) DO NOTHING;
  END IF;

  INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
  SELECT case_key, at, e->>'event', e->>'actor', xid, COALESCE(e->'detail', '{}'::jsonb)
    FROM jsonb_array_elements(c->'events') WITH ORDINALITY AS t(e, n) ORDER BY n;

  IF c ? 'openStep' THEN
    INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at, due_at)
    VALUES ((c->'openStep'->>'id')::uuid, case_key, c->'openStep'->>'kind', 'open', c->'openStep'->>'requester',
            c->'openStep'->>'responder', xid, at, (c->'openStep'->>'dueAt')::timestamptz);
  END IF;

  IF c ? 'closeStep' THEN
    UPDATE case_steps SET status = c->'closeStep'->>'outcome', closed_by_exchange = xid, closed_at = at
     WHERE id = (c->'closeStep'->>'id')::uuid AND status = 'open';
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'TB002', MESSAGE = 'the step is no longer open';
    END IF;
  END IF;

  IF c ? 'linkContract' AND sender_confirmed AND jsonb_typeof(c->'linkContract'->'housing') = 'string' THEN
    -- Only the responsible bureau's filings, and never resolved by recency: one filing, or a refusal.
    SELECT count(*) INTO links FROM housing_contracts
     WHERE sender = c->'linkContract'->>'housing' AND unit_code = c->'linkContract'->>'unitCode'
       AND (contract_number = c->'linkContract'->>'contractNumber' OR filing_number = c->'linkContract'->>'filingNumber');
    IF links > 1 THEN
      RAISE EXCEPTION USING ERRCODE = 'TB004', MESSAGE = 'the contract and filing numbers name different filings';
    END IF;
    SELECT * INTO link FROM housing_contracts
     WHERE sender = c->'linkContract'->>'housing' AND unit_code = c->'linkContract'->>'unitCode'
       AND (contract_number = c->'linkContract'->>'contractNumber' OR filing_number = c->'linkContract'->>'filingNumber');
    IF FOUND THEN
      IF (c->'linkContract'->>'contractNumber' IS NOT NULL AND link.contract_number <> c->'linkContract'->>'contractNumber')
         OR (c->'linkContract'->>'filingNumber' IS NOT NULL AND link.filing_number <> c->'linkContract'->>'filingNumber') THEN
        RAISE EXCEPTION USING ERRCODE = 'TB004', MESSAGE = 'the filing found carries another contract or filing number';
      END IF;
      INSERT INTO case_participants (case_id, participant, confirmed) VALUES (case_key, link.sender, true)
      ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
      INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
      VALUES (case_key, at, 'contract.linked', sender_id, xid,
              jsonb_build_object('contractNumber', link.contract_number, 'filingNumber', link.filing_number, 'housing', link.sender, 'contractExchangeId', link.exchange_id));
    END IF;
  END IF;

  -- The effects of the one-window (0014).
  IF c ? 'utilityServices' THEN
    -- Only the case's owner records what its applicants asked for, and only then is it on the timeline.
    UPDATE cases SET utility_services = ARRAY(SELECT jsonb_array_elements_text(c->'utilityServices'))
     WHERE case_id = case_key AND opened_by = sender_id;
    IF FOUND THEN
      INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
      VALUES (case_key, at, 'utility.opted-in', sender_id, xid, jsonb_build_object('services', c->'utilityServices'));
    END IF;
  END IF;
  IF COALESCE((c->>'requireUnlinked')::boolean, false) AND stored_home IS NOT NULL THEN
    -- The case's row is locked since it was read: an examination after the acceptance is refused.
    RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the application was already accepted';
  END IF;
  IF c ? 'linkCase' THEN
    PERFORM tongban_link_cases(case_key, c->'linkCase'->>'caseId', c->>'unitCode', sender_id, xid, at);
  END IF;
END $$;

DROP FUNCTION tongban_accept_core(jsonb);
