-- Who takes part in a case, and how one comes to (review finding: naming a case id and its unit
-- code used to be enough to join any case, read it and receive its fan-out).
--
-- A case is created by its registration centre (which issues the 受理编号) and belongs to it.
-- Confirmed participants: the creator; the recipients a confirmed participant involves; a housing
-- bureau whose filed contract the centre's own request names; and an applicant once a confirmed
-- participant answers it. A party that applies on an existing case (a bank's mortgage
-- registration request to the centre) joins as a PENDING participant: it sees its own exchange,
-- not the case, and receives no fan-out until it is answered. Anyone else naming the case gets
-- the answer a case that does not exist gets (no probing).
ALTER TABLE case_participants ADD COLUMN confirmed boolean NOT NULL DEFAULT true;

-- doc.case gains: mayCreate (the sender may open a new case), mayJoin (the type is an application
-- to the case's owner, by which a non-participant joins as pending).
-- New error: TB003 no case this sender takes part in (or may create / join).
CREATE OR REPLACE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  x jsonb := doc->'exchange';
  c jsonb := doc->'case';
  xid uuid := (doc->'exchange'->>'id')::uuid;
  at timestamptz := (doc->'exchange'->>'receivedAt')::timestamptz;
  sender text := doc->'exchange'->>'sender';
  stored_unit text;
  sender_confirmed boolean;
  created boolean := false;
  link housing_contracts%ROWTYPE;
BEGIN
  INSERT INTO exchanges (id, sender, message_id, type, v, case_id, unit_code, suite, request_digest, message_sealed, receipt, received_at)
  VALUES (xid, sender, x->>'messageId', x->>'type', (x->>'v')::int, x->>'caseId', x->>'unitCode', x->>'suite',
          x->>'requestDigest', decode(x->>'messageSealed', 'base64'), x->>'receipt', at);

  INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at)
  SELECT (d->>'id')::uuid, xid, d->>'recipient', 'pending', at, at, at FROM jsonb_array_elements(doc->'deliveries') AS d;

  IF doc ? 'housingContract' THEN
    -- A filing is the filing bureau's: another bureau's filing of the same number does not replace it.
    INSERT INTO housing_contracts (unit_code, contract_number, filing_number, sender, exchange_id, filed_at)
    VALUES (doc->'housingContract'->>'unitCode', doc->'housingContract'->>'contractNumber', doc->'housingContract'->>'filingNumber', sender, xid, at)
    ON CONFLICT (unit_code, contract_number) DO UPDATE SET filing_number = EXCLUDED.filing_number, exchange_id = EXCLUDED.exchange_id, filed_at = EXCLUDED.filed_at
      WHERE housing_contracts.sender = EXCLUDED.sender;
  END IF;

  IF c IS NULL OR jsonb_typeof(c) = 'null' THEN
    RETURN;
  END IF;

  SELECT unit_code INTO stored_unit FROM cases WHERE case_id = c->>'caseId' FOR UPDATE;
  IF NOT FOUND THEN
    IF NOT COALESCE((c->>'mayCreate')::boolean, false) THEN
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
    INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES (c->>'caseId', c->>'unitCode', sender, at) ON CONFLICT (case_id) DO NOTHING;
    SELECT unit_code INTO stored_unit FROM cases WHERE case_id = c->>'caseId' FOR UPDATE;
    created := true;
  END IF;

  SELECT confirmed INTO sender_confirmed FROM case_participants WHERE case_id = c->>'caseId' AND participant = sender;
  IF NOT FOUND THEN
    -- A case created concurrently by another sender is not this sender's either.
    IF created AND (SELECT opened_by FROM cases WHERE case_id = c->>'caseId') = sender THEN
      sender_confirmed := true;
    ELSIF COALESCE((c->>'mayJoin')::boolean, false) THEN
      sender_confirmed := false;
    ELSE
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
  ELSIF NOT sender_confirmed AND NOT COALESCE((c->>'mayJoin')::boolean, false) THEN
    RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
  END IF;

  -- Only (would-be) participants get this far: the unit code check cannot be used to probe.
  IF stored_unit <> c->>'unitCode' THEN
    RAISE EXCEPTION USING ERRCODE = 'TB001', MESSAGE = 'the unit code differs from the case''s';
  END IF;

  INSERT INTO case_participants (case_id, participant, confirmed) VALUES (c->>'caseId', sender, sender_confirmed)
  ON CONFLICT (case_id, participant) DO NOTHING;
  IF sender_confirmed THEN
    -- A participant involves its recipients (and answering a pending applicant confirms it).
    INSERT INTO case_participants (case_id, participant, confirmed)
    SELECT c->>'caseId', p, true FROM jsonb_array_elements_text(c->'recipients') AS p
    ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
  ELSE
    -- A pending applicant involves nobody new.
    INSERT INTO case_participants (case_id, participant, confirmed)
    SELECT c->>'caseId', p, false FROM jsonb_array_elements_text(c->'recipients') AS p
    ON CONFLICT (case_id, participant) DO NOTHING;
  END IF;

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

  IF c ? 'linkContract' AND sender_confirmed THEN
    SELECT * INTO link FROM housing_contracts
     WHERE unit_code = c->'linkContract'->>'unitCode'
       AND (contract_number = c->'linkContract'->>'contractNumber' OR filing_number = c->'linkContract'->>'filingNumber')
     ORDER BY filed_at DESC LIMIT 1;
    IF FOUND THEN
      INSERT INTO case_participants (case_id, participant, confirmed) VALUES (c->>'caseId', link.sender, true)
      ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
      INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
      VALUES (c->>'caseId', at, 'contract.linked', sender, xid,
              jsonb_build_object('contractNumber', link.contract_number, 'filingNumber', link.filing_number, 'housing', link.sender, 'contractExchangeId', link.exchange_id));
    END IF;
  END IF;
END $$;
