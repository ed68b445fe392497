-- Guards of cross-region links (0015), and the utility opt-in's timeline event (0014) written only
-- when the case's owner's opt-in is recorded.

-- A link needs the forwarded case's cross-region step open (TB002 otherwise: returned meanwhile),
-- and neither case may be part of another link (no chains: a home case is not forwarded again).
CREATE OR REPLACE FUNCTION tongban_link_cases(forwarded text, home text, unit text, centre text, xid uuid, at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  f cases%ROWTYPE;
  h cases%ROWTYPE;
BEGIN
  SELECT * INTO f FROM cases WHERE case_id = forwarded FOR UPDATE;
  IF f.home_case IS NOT NULL OR f.forwarded_from IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the case is already linked';
  END IF;
  PERFORM 1 FROM case_steps WHERE case_id = forwarded AND kind = 'cross-region' AND status = 'open' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'TB002', MESSAGE = 'the cross-region step is no longer open';
  END IF;
  INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES (home, unit, centre, at) ON CONFLICT (case_id) DO NOTHING;
  SELECT * INTO h FROM cases WHERE case_id = home FOR UPDATE;
  IF h.opened_by <> centre OR h.unit_code <> unit OR h.forwarded_from IS NOT NULL OR h.home_case IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the home case is another centre''s or another unit''s, or linked elsewhere';
  END IF;
  INSERT INTO case_participants (case_id, participant, confirmed) VALUES (home, centre, true)
  ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
  UPDATE cases SET home_case = home WHERE case_id = forwarded;
  UPDATE cases SET forwarded_from = forwarded WHERE case_id = home;
  INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail) VALUES
    (forwarded, at, 'case.linked', centre, xid, jsonb_build_object('linkedCase', home, 'relation', 'home')),
    (home, at, 'case.linked', centre, xid, jsonb_build_object('linkedCase', forwarded, 'relation', 'forwarded'));
END $$;

CREATE OR REPLACE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  c jsonb := doc->'case';
  sender_id text := doc->'exchange'->>'sender';
  xid uuid := (doc->'exchange'->>'id')::uuid;
  at timestamptz := (doc->'exchange'->>'receivedAt')::timestamptz;
BEGIN
  PERFORM tongban_accept_core(doc);
  IF c IS NULL OR jsonb_typeof(c) = 'null' THEN
    RETURN;
  END IF;
  IF c ? 'utilityServices' THEN
    -- Only the case's owner records what its applicants asked for, and only then is it on the timeline.
    UPDATE cases SET utility_services = ARRAY(SELECT jsonb_array_elements_text(c->'utilityServices'))
     WHERE case_id = c->>'caseId' AND opened_by = sender_id;
    IF FOUND THEN
      INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail)
      VALUES (c->>'caseId', at, 'utility.opted-in', sender_id, xid, jsonb_build_object('services', c->'utilityServices'));
    END IF;
  END IF;
  IF COALESCE((c->>'requireUnlinked')::boolean, false) THEN
    -- The core holds the case's row lock: an examination after the acceptance is refused.
    PERFORM 1 FROM cases WHERE case_id = c->>'caseId' AND home_case IS NOT NULL;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the application was already accepted';
    END IF;
  END IF;
  IF c ? 'linkCase' THEN
    PERFORM tongban_link_cases(c->>'caseId', c->'linkCase'->>'caseId', c->>'unitCode', sender_id, xid, at);
  END IF;
END $$;
