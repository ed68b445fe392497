-- Utilities (水电气热同步过户): the services the applicants opted in to, as the case's owner entered
-- the transfer (registration.completed); a utility.transfer.notice goes only to these.
ALTER TABLE cases ADD COLUMN utility_services text[] NOT NULL DEFAULT '{}';

-- tongban_accept becomes a wrapper: the core (0012's) runs first, then the effects added since,
-- so a new effect does not repeat the whole function.
ALTER FUNCTION tongban_accept(jsonb) RENAME TO tongban_accept_core;

CREATE FUNCTION tongban_accept(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
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
END $$;
