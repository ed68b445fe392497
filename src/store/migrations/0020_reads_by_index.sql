-- More reads kept from growing with the data (after 0019; docs/performance.md, "Reads that grew
-- with the data"): each read below sorted or scanned a whole table that only grows.
--
--   - a case's steps (every GET /v1/cases/:caseId, every console case page): case_steps had no
--     index leading with case_id but a partial one for open steps;
--   - the newest cases (GET /v1/cases by an operator): no index on cases.created_at;
--   - the newest queries (the console's query record, GET /v1/queries by an operator): the
--     index on queries leads with the asker.
--
-- Each adds one index entry per step, case or query written (not per message delivered).
CREATE INDEX case_steps_case_idx ON case_steps (case_id, opened_at, id);
CREATE INDEX cases_created_idx ON cases (created_at DESC, case_id);
CREATE INDEX queries_asked_idx ON queries (asked_at);
