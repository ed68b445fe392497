-- A participant's cases, newest first (GET /v1/cases by a participant), and the overdue cases
-- (?overdue=true), kept from growing with the data (docs/performance.md, "Reads that grew with
-- the data"). Before, the first read every case the participant ever took part in and sorted
-- them by the case's creation; the second counted the open steps of every case.
--
-- Now a participant's row carries its case's creation time, so one index gives a participant's
-- cases in the order the list shows them, and the overdue list starts from the open steps.
ALTER TABLE case_participants ADD COLUMN case_created_at timestamptz;
UPDATE case_participants p SET case_created_at = c.created_at FROM cases c WHERE c.case_id = p.case_id;

-- Filled from the case on insert (the case exists: its foreign key): the acceptance function
-- and the one-window's functions insert participants without it. A case's created_at never changes.
CREATE FUNCTION tongban_participant_case_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.case_created_at IS NULL THEN
    SELECT created_at INTO NEW.case_created_at FROM cases WHERE case_id = NEW.case_id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER case_participants_case_time BEFORE INSERT ON case_participants
  FOR EACH ROW EXECUTE FUNCTION tongban_participant_case_time();
ALTER TABLE case_participants ALTER COLUMN case_created_at SET NOT NULL;

-- Replaces the index on participant alone (this one leads with it too). Not partial on
-- `confirmed`, and without it: confirming a participant stays an update of the row alone.
CREATE INDEX case_participants_newest ON case_participants (participant, case_created_at DESC, case_id);
DROP INDEX case_participants_by_participant;

-- The open steps by deadline, overdue or not (case_steps_due_idx holds only those not yet marked
-- overdue, for the deadline checker): one entry per step opened.
CREATE INDEX case_steps_open_due_idx ON case_steps (due_at) WHERE status = 'open';
