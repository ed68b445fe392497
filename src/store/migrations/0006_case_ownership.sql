-- Case ownership and jurisdiction (issue 7, items 1–3: an attacker's review found that a bank's
-- self-declared loan application let it take over a case's mortgage step, that any housing bureau
-- could file for any unit and have its filing linked to a case, and that filings were resolved
-- by recency).
--
-- 1. Steps: one open step per (case, kind, requester), not per (case, kind). An applicant's
--    application is a step of its own, answered by the case's owner: a pending applicant can no
--    longer occupy the step another applicant needs. An operator may close a stuck step:
--    status 'cancelled' (the reason is in the timeline).
DROP INDEX case_steps_one_open;
CREATE UNIQUE INDEX case_steps_one_open ON case_steps (case_id, kind, requester) WHERE status = 'open';
ALTER TABLE case_steps DROP CONSTRAINT case_steps_status_check;
ALTER TABLE case_steps ADD CONSTRAINT case_steps_status_check CHECK (status IN ('open', 'completed', 'rejected', 'cancelled'));

-- 2. Filed contracts are the filing bureau's: contract and filing numbers are unique per bureau
--    (two bureaus may use the same number; neither replaces the other). Before this, the key was
--    (unit, contract number): where one bureau had the same contract number on two units, only
--    its newest filing is kept.
DELETE FROM housing_contracts h USING housing_contracts n
 WHERE h.sender = n.sender AND h.contract_number = n.contract_number AND (h.filed_at, h.unit_code) < (n.filed_at, n.unit_code);
DELETE FROM housing_contracts h USING housing_contracts n
 WHERE h.sender = n.sender AND h.filing_number = n.filing_number AND (h.filed_at, h.contract_number) < (n.filed_at, n.contract_number);
ALTER TABLE housing_contracts DROP CONSTRAINT housing_contracts_pkey;
ALTER TABLE housing_contracts ADD CONSTRAINT housing_contracts_pkey PRIMARY KEY (sender, contract_number);
ALTER TABLE housing_contracts ADD CONSTRAINT housing_contracts_filing_key UNIQUE (sender, filing_number);
DROP INDEX housing_contracts_filing_idx;
CREATE INDEX housing_contracts_unit_idx ON housing_contracts (unit_code, sender);

-- doc changes:
--   case.mayCreate       the core decides it: a registration centre, and the case id's division prefix is one of its own;
--   case.involvesRecipients  false for a refusal: answering an applicant with a rejection does not make it a participant;
--   case.linkContract    { unitCode, contractNumber, filingNumber, housing }: housing is the bureau responsible for the
--                        unit's division (null: none, no link); only its filings are looked at.
-- New errors: TB004 the contract link is ambiguous (the numbers name more than one filing of the bureau, or a filing
-- whose other number differs); TB005 the bureau already filed this contract number for another unit.
-- (housing_contracts_filing_key: the bureau already used this filing number for another contract.)
CREATE OR REPLACE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  x jsonb := doc->'exchange';
  c jsonb := doc->'case';
  xid uuid := (doc->'exchange'->>'id')::uuid;
  at timestamptz := (doc->'exchange'->>'receivedAt')::timestamptz;
  sender_id text := doc->'exchange'->>'sender';
  stored_unit text;
  sender_confirmed boolean;
  created boolean := false;
  link housing_contracts%ROWTYPE;
  links int;
BEGIN
  INSERT INTO exchanges (id, sender, message_id, type, v, case_id, unit_code, suite, request_digest, message_sealed, receipt, received_at)
  VALUES (xid, sender_id, x->>'messageId', x->>'type', (x->>'v')::int, x->>'caseId', x->>'unitCode', x->>'suite',
          x->>'requestDigest', decode(x->>'messageSealed', 'base64'), x->>'receipt', at);

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

  SELECT unit_code INTO stored_unit FROM cases WHERE case_id = c->>'caseId' FOR UPDATE;
  IF NOT FOUND THEN
    IF NOT COALESCE((c->>'mayCreate')::boolean, false) THEN
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
    INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES (c->>'caseId', c->>'unitCode', sender_id, at) ON CONFLICT (case_id) DO NOTHING;
    SELECT unit_code INTO stored_unit FROM cases WHERE case_id = c->>'caseId' FOR UPDATE;
    created := true;
  END IF;

  SELECT confirmed INTO sender_confirmed FROM case_participants WHERE case_id = c->>'caseId' AND participant = sender_id;
  IF NOT FOUND THEN
    -- A case created concurrently by another sender is not this sender's either.
    IF created AND (SELECT opened_by FROM cases WHERE case_id = c->>'caseId') = sender_id THEN
      sender_confirmed := true;
    ELSIF COALESCE((c->>'mayJoin')::boolean, false) THEN
      sender_confirmed := false;
    ELSE
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
  ELSIF NOT sender_confirmed AND NOT COALESCE((c->>'mayJoin')::boolean, false) THEN
    RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
  END IF;

  -- A participant is told its unit code is wrong; an applicant not yet confirmed gets the answer
  -- an unknown case gets (it must not learn which case ids exist for which unit).
  IF stored_unit <> c->>'unitCode' THEN
    IF NOT sender_confirmed THEN
      RAISE EXCEPTION USING ERRCODE = 'TB003', MESSAGE = 'no such case for this sender';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'TB001', MESSAGE = 'the unit code differs from the case''s';
  END IF;

  INSERT INTO case_participants (case_id, participant, confirmed) VALUES (c->>'caseId', sender_id, sender_confirmed)
  ON CONFLICT (case_id, participant) DO NOTHING;
  IF sender_confirmed AND COALESCE((c->>'involvesRecipients')::boolean, true) THEN
    -- A participant involves its recipients (and answering a pending applicant confirms it).
    INSERT INTO case_participants (case_id, participant, confirmed)
    SELECT c->>'caseId', p, true FROM jsonb_array_elements_text(c->'recipients') AS p
    ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
  ELSE
    -- A pending applicant involves nobody new, and a refusal confirms nobody.
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
      INSERT INTO case_participants (case_id, participant, confirmed) VALUES (c->>'caseId', link.sender, true)
      ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
      INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
      VALUES (c->>'caseId', at, 'contract.linked', sender_id, xid,
              jsonb_build_object('contractNumber', link.contract_number, 'filingNumber', link.filing_number, 'housing', link.sender, 'contractExchangeId', link.exchange_id));
    END IF;
  END IF;
END $$;

-- An operator closes a stuck step (with a reason, in the timeline). Returns false when the step
-- is not open on that case (then nothing is written).
CREATE FUNCTION tongban_close_step(p_case text, p_step uuid, p_operator text, p_reason text, p_at timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  s case_steps%ROWTYPE;
BEGIN
  UPDATE case_steps SET status = 'cancelled', closed_at = p_at
   WHERE id = p_step AND case_id = p_case AND status = 'open'
  RETURNING * INTO s;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO case_events (case_id, at, event, actor, detail)
  VALUES (p_case, p_at, 'step.closed', p_operator,
          jsonb_build_object('kind', s.kind, 'outcome', 'cancelled', 'stepId', s.id, 'requester', s.requester, 'responder', s.responder, 'reason', p_reason));
  RETURN true;
END $$;
