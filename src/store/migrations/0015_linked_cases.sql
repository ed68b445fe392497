-- Cross-region applications (异地申请·属地审核·远程打印): the case of the centre where the applicants
-- stand points to the home centre's case (home_case), which points back (forwarded_from).
ALTER TABLE cases ADD COLUMN home_case text;
ALTER TABLE cases ADD COLUMN forwarded_from text;

-- Links the forwarded case to the home centre's own case, creating that case when it does not
-- exist yet (opened by the home centre, for the same unit). Raises TB006 when either case is
-- linked elsewhere, or the home case exists as another centre's or another unit's.
CREATE FUNCTION tongban_link_cases(forwarded text, home text, unit text, centre text, xid uuid, at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  linked text;
  h cases%ROWTYPE;
BEGIN
  SELECT home_case INTO linked FROM cases WHERE case_id = forwarded FOR UPDATE;
  IF linked IS NOT NULL THEN
    IF linked <> home THEN
      RAISE EXCEPTION USING ERRCODE = 'TB006', MESSAGE = 'the case is linked to another home case';
    END IF;
    RETURN;
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
BEGIN
  PERFORM tongban_accept_core(doc);
  IF c IS NULL OR jsonb_typeof(c) = 'null' THEN
    RETURN;
  END IF;
  IF c ? 'utilityServices' THEN
    -- Only the case's owner records what its applicants asked for.
    UPDATE cases SET utility_services = ARRAY(SELECT jsonb_array_elements_text(c->'utilityServices'))
     WHERE case_id = c->>'caseId' AND opened_by = doc->'exchange'->>'sender';
  END IF;
  IF c ? 'linkCase' THEN
    PERFORM tongban_link_cases(c->>'caseId', c->'linkCase'->>'caseId', c->>'unitCode', doc->'exchange'->>'sender',
                               (doc->'exchange'->>'id')::uuid, (doc->'exchange'->>'receivedAt')::timestamptz);
  END IF;
END $$;
