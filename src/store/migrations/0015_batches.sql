-- Batches (批量办理, POST /v1/batches): a batch id claimed with its bytes (receipt NULL while it is
-- being accepted), then the gateway's signed batch receipt, kept so that the same
-- batch sent again (the same bytes) gets the same receipt; other bytes under the same id are refused.
CREATE TABLE batches (
  sender         text NOT NULL,
  batch_id       text NOT NULL,
  request_digest text NOT NULL,
  suite          text NOT NULL,
  receipt        text,
  messages       integer NOT NULL,
  received_at    timestamptz NOT NULL,
  PRIMARY KEY (sender, batch_id)
);
CREATE INDEX batches_received_idx ON batches (received_at);
