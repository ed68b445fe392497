-- A case's evidence package found its entries by parsing every entry of the ledger (570 ms at
-- 400,000 entries, growing with the ledger for ever: nothing in it is deleted). Now each entry
-- the package holds is stored with its case (docs/performance.md, "Reads that grew with the
-- data"): an accepted message of a case, a settled delivery of one, a read of a case or of its
-- evidence, an operator's closing of a step. Beside the entry, not in it: its bytes and leaf hash
-- do not change, and the guard (0008) lets this column be set.
ALTER TABLE ledger_entries ADD COLUMN case_id text;

-- The entries written before: the case as each names it; a settled delivery takes its exchange's
-- from that exchange's acceptance entry (there even once retention dropped the exchange).
UPDATE ledger_entries SET case_id = CASE
    WHEN kind = 'message.accepted' THEN entry::jsonb ->> 'caseId'
    WHEN kind = 'case.read' AND entry::jsonb ->> 'what' IN ('case', 'evidence') THEN entry::jsonb ->> 'ref'
    WHEN kind = 'operator.action' AND entry::jsonb ->> 'action' = 'step.close' AND strpos(entry::jsonb ->> 'target', '/') > 1
      THEN regexp_replace(entry::jsonb ->> 'target', '/[^/]*$', '')
  END
 WHERE kind IN ('message.accepted', 'case.read', 'operator.action');
UPDATE ledger_entries s SET case_id = a.case_id
  FROM ledger_entries a
 WHERE s.kind = 'delivery.settled' AND a.kind = 'message.accepted' AND a.case_id IS NOT NULL
   AND a.entry::jsonb ->> 'exchangeId' = s.entry::jsonb ->> 'exchangeId';

-- Only entries of a case, once placed (the package holds placed entries only): one index entry
-- per entry of a case, written by the integrator's update that places it (not HOT: leaf_index has
-- its own index), none when the entry is written.
CREATE INDEX ledger_entries_case_idx ON ledger_entries (case_id) WHERE case_id IS NOT NULL AND leaf_index IS NOT NULL;

-- Written by a gateway of an earlier version after this migration, an entry has no case: upgrade
-- every instance together (docs/configuration.md, "Upgrading").

