-- The rest of the one-window (issue 10): utilities' opt-in and cross-region links, as case state.
--
-- Utilities (水电气热同步过户): the services the applicants opted in to, as the case's owner entered
-- the transfer (registration.completed); a utility.transfer.notice goes only to these.
ALTER TABLE cases ADD COLUMN utility_services text[] NOT NULL DEFAULT '{}';

-- Cross-region applications (异地申请·属地审核·远程打印): the case of the centre where the applicants
-- stand points to the home centre's case; the home case's forwarded case is the one pointing to it
-- (one at most).
ALTER TABLE cases ADD COLUMN home_case text;
CREATE UNIQUE INDEX cases_home_case_key ON cases (home_case) WHERE home_case IS NOT NULL;

-- Links the forwarded case to the home centre's own case, creating that case when it does not
-- exist yet (opened by the home centre, for the same unit). The forwarded case's cross-region step
-- must still be open (TB002: returned meanwhile), and neither case may be part of a link already
-- (TB006; no chains), nor the home case be another centre's or another unit's (TB006).
CREATE FUNCTION tongban_link_cases(forwarded text, home text, unit text, centre text, xid uuid, at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  h cases%ROWTYPE;
BEGIN
  IF (SELECT home_case FROM cases WHERE case_id = forwarded FOR UPDATE) IS NOT NULL
     OR EXISTS (SELECT 1 FROM cases WHERE home_case = forwarded) THEN
    RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the case is already linked';
  END IF;
  PERFORM 1 FROM case_steps WHERE case_id = forwarded AND kind = 'cross-region' AND status = 'open' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'TB002', MESSAGE = 'the cross-region step is no longer open';
  END IF;
  INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES (home, unit, centre, at) ON CONFLICT (case_id) DO NOTHING;
  SELECT * INTO h FROM cases WHERE case_id = home FOR UPDATE;
  IF h.opened_by <> centre OR h.unit_code <> unit OR h.home_case IS NOT NULL OR EXISTS (SELECT 1 FROM cases WHERE home_case = home) THEN
    RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the home case is another centre''s or another unit''s, or linked elsewhere';
  END IF;
  INSERT INTO case_participants (case_id, participant, confirmed) VALUES (home, centre, true)
  ON CONFLICT (case_id, participant) DO UPDATE SET confirmed = true;
  UPDATE cases SET home_case = home WHERE case_id = forwarded;
  INSERT INTO case_events (case_id, at, event, actor, exchange_id, detail) VALUES
    (forwarded, at, 'case.linked', centre, xid, jsonb_build_object('linkedCase', home, 'relation', 'home')),
    (home, at, 'case.linked', centre, xid, jsonb_build_object('linkedCase', forwarded, 'relation', 'forwarded'));
END $$;

-- tongban_accept becomes a wrapper: the core (0012's) runs first, then the effects added since,
-- so a new effect does not repeat the whole function.
ALTER FUNCTION tongban_accept(jsonb) RENAME TO tongban_accept_core;

CREATE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
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
