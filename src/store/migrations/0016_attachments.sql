-- Attachments (申请材料, POST /v1/attachments): a file uploaded once, stored once, in records of
-- at most 256 KiB each sealed with the gateway's store key (bound to the attachment and the record's
-- index), and named by messages (exchange_attachments, written in the acceptance's statement).
-- An upload is 'uploading' until its last record and digest check, then 'complete'.
CREATE TABLE attachments (
  id           uuid PRIMARY KEY,
  owner        text NOT NULL,
  status       text NOT NULL CHECK (status IN ('uploading', 'complete')),
  media_type   text NOT NULL,
  digest_alg   text NOT NULL CHECK (digest_alg IN ('SM3', 'SHA-256')),
  digest       text NOT NULL,
  size         bigint NOT NULL,
  records      integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX attachments_created_idx ON attachments (created_at);

CREATE TABLE attachment_records (
  attachment_id uuid NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
  seq           integer NOT NULL,
  sealed        bytea NOT NULL,
  PRIMARY KEY (attachment_id, seq)
);
-- Sealed (encrypted) bytes do not compress: store them out of line as they are.
ALTER TABLE attachment_records ALTER COLUMN sealed SET STORAGE EXTERNAL;

-- Which messages name which attachments; received_at is the exchange's (its month goes with it).
CREATE TABLE exchange_attachments (
  exchange_id   uuid NOT NULL,
  attachment_id uuid NOT NULL REFERENCES attachments (id),
  received_at   timestamptz NOT NULL,
  PRIMARY KEY (exchange_id, attachment_id)
);
CREATE INDEX exchange_attachments_attachment_idx ON exchange_attachments (attachment_id);
CREATE INDEX exchange_attachments_received_idx ON exchange_attachments (received_at);
