-- The hourly purge of attachments no message names (docs/performance.md, "Reads that grew with
-- the data") walked, every hour, every attachment older than attachments.keepUnreferencedHours
-- that a message still names: all those of the messages whose bodies are kept (days, at a
-- message rate). Now each attachment is examined once as it comes of age, and again only when
-- a message stops naming it:
--
--   - the mark: how far the purge has examined the attachments, in (created_at, id) order. One
--     row, locked by the purge that moves it (one instance at a time). An attachment behind it
--     was then named (kept) or deleted;
--   - attachments_unnamed: those a purge of message bodies or a dropped month stopped naming,
--     each examined by the next purge (deleted if nothing names it then, and it is behind the mark).
CREATE TABLE attachment_purge_mark (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  created_at timestamptz NOT NULL,
  id         uuid NOT NULL
);
INSERT INTO attachment_purge_mark (created_at, id) VALUES ('-infinity', '00000000-0000-0000-0000-000000000000');

CREATE TABLE attachments_unnamed (
  attachment_id uuid PRIMARY KEY,
  at            timestamptz NOT NULL
);

-- The purge's order, replacing the index on created_at alone (only the purge read it).
CREATE INDEX attachments_age_idx ON attachments (created_at, id);
DROP INDEX attachments_created_idx;
