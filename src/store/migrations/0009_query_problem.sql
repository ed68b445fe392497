-- Why a partner's answer was refused (issue 11): the reason and the violations (pointers and
-- rules, never values), for the answerer to read back (GET /v1/queries/:id/problem).
ALTER TABLE queries ADD COLUMN problem jsonb;
