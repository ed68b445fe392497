-- Exchanges, deliveries and timeline rows partitioned by month (issue 9, part 7): an old month
-- is dropped whole (DROP TABLE of its partitions) instead of deleted row by row. Months are
-- calendar months in UTC, named <table>_pYYYY_MM; rows of a month with no partition yet land in
-- <table>_default, and tongban_ensure_month moves them into the month's partition when it is made.
--
-- What partitioning costs, said here once:
-- - A unique key must contain the partition key. The sender's message ids stay unique through
--   exchange_keys (not partitioned, small: one row per exchange, dropped with its month).
-- - Primary keys become (id, <time>); a lookup by id alone probes each month's index.
-- - No foreign key points at exchanges any more (deliveries, case steps, housing contracts): they
--   would forbid dropping a month. tongban_accept writes an exchange with its deliveries in one
--   statement, and nothing else inserts deliveries.

ALTER TABLE deliveries DROP CONSTRAINT deliveries_exchange_id_fkey;
ALTER TABLE case_steps DROP CONSTRAINT case_steps_opened_by_exchange_fkey;
ALTER TABLE case_steps DROP CONSTRAINT case_steps_closed_by_exchange_fkey;
ALTER TABLE housing_contracts DROP CONSTRAINT housing_contracts_exchange_id_fkey;

CREATE TEMP TABLE old_exchanges ON COMMIT DROP AS SELECT * FROM exchanges;
CREATE TEMP TABLE old_deliveries ON COMMIT DROP AS SELECT * FROM deliveries;
CREATE TEMP TABLE old_case_events ON COMMIT DROP AS SELECT * FROM case_events;
DROP TABLE case_events;
DROP TABLE deliveries;
DROP TABLE exchanges;

CREATE TABLE exchanges (
  id             uuid NOT NULL,
  sender         text NOT NULL,
  message_id     text NOT NULL,
  type           text NOT NULL,
  v              integer NOT NULL,
  case_id        text,
  unit_code      text,
  suite          text NOT NULL CHECK (suite IN ('national', 'international')),
  request_digest text NOT NULL,
  message_sealed bytea,
  receipt        text NOT NULL,
  received_at    timestamptz NOT NULL,
  purged_at      timestamptz,
  CONSTRAINT exchanges_purged_check CHECK ((message_sealed IS NULL) = (purged_at IS NOT NULL)),
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX exchanges_sender_message_idx ON exchanges (sender, message_id);
CREATE INDEX exchanges_case_idx ON exchanges (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX exchanges_unpurged_idx ON exchanges (received_at) WHERE purged_at IS NULL;
CREATE TABLE exchanges_default PARTITION OF exchanges DEFAULT;

CREATE TABLE exchange_keys (
  sender      text NOT NULL,
  message_id  text NOT NULL,
  exchange_id uuid NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (sender, message_id)
);
CREATE INDEX exchange_keys_received_idx ON exchange_keys (received_at);

CREATE TABLE deliveries (
  id           uuid NOT NULL,
  exchange_id  uuid NOT NULL,           -- its exchange, received at created_at (the same month)
  recipient    text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  created_at   timestamptz NOT NULL,
  age_from     timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  delivered_at timestamptz,
  dead_at      timestamptz,
  PRIMARY KEY (id, created_at),
  UNIQUE (exchange_id, recipient, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX deliveries_pending_idx ON deliveries (updated_at) WHERE status = 'pending';
CREATE INDEX deliveries_dead_idx ON deliveries (dead_at) WHERE status = 'dead';
CREATE TABLE deliveries_default PARTITION OF deliveries DEFAULT;

CREATE TABLE case_events (
  id          bigserial NOT NULL,
  case_id     text NOT NULL REFERENCES cases (case_id),
  at          timestamptz NOT NULL,
  event       text NOT NULL,
  actor       text,
  exchange_id uuid,
  delivery_id uuid,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);
CREATE TABLE case_events_default PARTITION OF case_events DEFAULT;

-- Makes the partition of `month` (any day of it) for one table if it does not exist, moving into
-- it the rows its default partition holds for that month. Returns true when it made one. Callers
-- serialise on an advisory lock (RetentionService, and this migration runs alone).
CREATE FUNCTION tongban_ensure_month(tbl text, month date) RETURNS boolean LANGUAGE plpgsql AS $$
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

-- The months the existing rows span, this month and the next two (as the gateway keeps them made).
DO $$
DECLARE
  first date := LEAST((SELECT min(received_at) FROM old_exchanges), (SELECT min(at) FROM old_case_events), now())::date;
  last date := GREATEST((SELECT max(received_at) FROM old_exchanges), (SELECT max(at) FROM old_case_events), now() + interval '2 months')::date;
  m date := date_trunc('month', first)::date;
BEGIN
  WHILE m <= last LOOP
    PERFORM tongban_ensure_month('exchanges', m);
    PERFORM tongban_ensure_month('deliveries', m);
    PERFORM tongban_ensure_month('case_events', m);
    m := (m + interval '1 month')::date;
  END LOOP;
END $$;

INSERT INTO exchanges (id, sender, message_id, type, v, case_id, unit_code, suite, request_digest, message_sealed, receipt, received_at, purged_at)
SELECT id, sender, message_id, type, v, case_id, unit_code, suite, request_digest, message_sealed, receipt, received_at, purged_at FROM old_exchanges;
INSERT INTO exchange_keys (sender, message_id, exchange_id, received_at) SELECT sender, message_id, id, received_at FROM old_exchanges;
INSERT INTO deliveries (id, exchange_id, recipient, status, attempts, last_error, created_at, age_from, updated_at, delivered_at, dead_at)
SELECT id, exchange_id, recipient, status, attempts, last_error, created_at, age_from, updated_at, delivered_at, dead_at FROM old_deliveries;
INSERT INTO case_events (id, case_id, at, event, actor, exchange_id, delivery_id, detail)
SELECT id, case_id, at, event, actor, exchange_id, delivery_id, detail FROM old_case_events;
SELECT setval(pg_get_serial_sequence('case_events', 'id'), COALESCE((SELECT max(id) FROM old_case_events), 0) + 1, false);

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
  -- The sender's message id, once (raises exchange_keys_pkey on a repeat): the partitioned table
  -- below cannot hold a unique key without its partition key.
  INSERT INTO exchange_keys (sender, message_id, exchange_id, received_at) VALUES (sender_id, x->>'messageId', xid, at);
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
