-- The evidence ledger (存证, issue 8; docs/ledger.md): an append-only Merkle log (RFC 9162) of
-- every accepted message, settled delivery, recorded query, read of personal data and operator
-- action. Each entry is written in the same transaction as the fact it records; its leaf index
-- is assigned later, once, by the integrator (in commit order, without serialising acceptances).

CREATE TABLE ledger_entries (
  id         uuid PRIMARY KEY,
  seq        bigserial NOT NULL,          -- order of writing: the integrator takes entries by it (not the leaf index)
  kind       text NOT NULL,
  entry      text NOT NULL,               -- canonical JSON (RFC 8785): the exact bytes of the leaf
  parties    text[] NOT NULL DEFAULT '{}', -- the participants it names (who may read it whole)
  created_at timestamptz NOT NULL,
  leaf_index bigint UNIQUE                -- its place in the tree: set once by the integrator
);
CREATE INDEX ledger_entries_waiting ON ledger_entries (seq) WHERE leaf_index IS NULL;

-- The hashes of the tree's complete, aligned subtrees: level 0 the leaf hashes, level L the
-- subtree of leaves [idx·2^L, (idx+1)·2^L). Every root and proof is computed from them.
CREATE TABLE ledger_nodes (
  level smallint NOT NULL,
  idx   bigint NOT NULL,
  hash  bytea NOT NULL,
  PRIMARY KEY (level, idx)
);

-- The integrated tree: one row, locked by the integrator while it appends.
CREATE TABLE ledger_state (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  hash_alg   text NOT NULL CHECK (hash_alg IN ('SM3', 'SHA-256')),
  origin     text NOT NULL,
  tree_size  bigint NOT NULL,
  root_hash  bytea NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Signed tree heads: the C2SP tlog-checkpoint note, signed in both suites.
CREATE TABLE ledger_checkpoints (
  tree_size bigint PRIMARY KEY,
  root_hash bytea NOT NULL,
  signed_at timestamptz NOT NULL,
  note      text NOT NULL,
  tsa_token bytea                          -- an RFC 3161 time-stamp token over the note, when a TSA is configured
);

-- Written once: an entry's bytes and its leaf index never change, and nothing is deleted. (This
-- guards against mistakes; against a deliberate change the tree and its signed checkpoints do.)
CREATE FUNCTION tongban_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION USING ERRCODE = 'TB010', MESSAGE = 'ledger records are never deleted';
  END IF;
  -- (Nested: a row of one table has no fields of another.)
  IF TG_TABLE_NAME = 'ledger_entries' THEN
    IF NEW.entry IS DISTINCT FROM OLD.entry OR NEW.id IS DISTINCT FROM OLD.id OR NEW.kind IS DISTINCT FROM OLD.kind
       OR (OLD.leaf_index IS NOT NULL AND NEW.leaf_index IS DISTINCT FROM OLD.leaf_index) THEN
      RAISE EXCEPTION USING ERRCODE = 'TB010', MESSAGE = 'a ledger entry is written once';
    END IF;
  ELSIF TG_TABLE_NAME = 'ledger_nodes' THEN
    RAISE EXCEPTION USING ERRCODE = 'TB010', MESSAGE = 'ledger nodes are written once';
  ELSIF TG_TABLE_NAME = 'ledger_checkpoints' THEN
    -- Only the TSA's token may be added later, once.
    IF NEW.note IS DISTINCT FROM OLD.note OR NEW.root_hash IS DISTINCT FROM OLD.root_hash OR NEW.tree_size IS DISTINCT FROM OLD.tree_size
       OR (OLD.tsa_token IS NOT NULL AND NEW.tsa_token IS DISTINCT FROM OLD.tsa_token) THEN
      RAISE EXCEPTION USING ERRCODE = 'TB010', MESSAGE = 'a checkpoint is written once (its time stamp may be added once)';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_once BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION tongban_ledger_guard();
CREATE TRIGGER ledger_nodes_once BEFORE UPDATE OR DELETE ON ledger_nodes FOR EACH ROW EXECUTE FUNCTION tongban_ledger_guard();
CREATE TRIGGER ledger_checkpoints_once BEFORE UPDATE OR DELETE ON ledger_checkpoints FOR EACH ROW EXECUTE FUNCTION tongban_ledger_guard();
