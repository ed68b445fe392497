-- Sealed bodies are purged a number of days after their last delivery settles (issue 9, part 7;
-- config retention.purgeAfterDays): the gateway is not an archive. What stays of a purged exchange
-- is its ids, digests, receipt and timeline; purged_at says when its body went.
ALTER TABLE exchanges ALTER COLUMN message_sealed DROP NOT NULL;
ALTER TABLE exchanges ADD COLUMN purged_at timestamptz;
ALTER TABLE exchanges ADD CONSTRAINT exchanges_purged_check CHECK ((message_sealed IS NULL) = (purged_at IS NOT NULL));
-- The purge's candidates, oldest first: only exchanges still holding a body.
CREATE INDEX exchanges_unpurged_idx ON exchanges (received_at) WHERE purged_at IS NULL;
