-- Core tables: accepted exchanges, their deliveries (the transactional outbox), and cases.

CREATE TABLE exchanges (
  id             uuid PRIMARY KEY,
  sender         text NOT NULL,
  message_id     text NOT NULL,
  type           text NOT NULL,
  v              integer NOT NULL,
  case_id        text,
  unit_code      text,
  suite          text NOT NULL CHECK (suite IN ('national', 'international')),
  request_digest text NOT NULL,      -- hex digest of the exact request body (idempotency, receipt)
  message_sealed bytea NOT NULL,     -- the sender's JWS, encrypted at rest, bound to this id
  receipt        text NOT NULL,      -- the signed receipt, returned again on an identical repeat
  received_at    timestamptz NOT NULL,
  UNIQUE (sender, message_id)
);
CREATE INDEX exchanges_case_idx ON exchanges (case_id) WHERE case_id IS NOT NULL;

CREATE TABLE deliveries (
  id           uuid PRIMARY KEY,
  exchange_id  uuid NOT NULL REFERENCES exchanges (id),
  recipient    text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,                 -- an error code and HTTP status, never a partner's body
  created_at   timestamptz NOT NULL,
  age_from     timestamptz NOT NULL,  -- the maximum delivery age counts from here (reset by a replay)
  updated_at   timestamptz NOT NULL,
  delivered_at timestamptz,
  dead_at      timestamptz,
  UNIQUE (exchange_id, recipient)
);
CREATE INDEX deliveries_pending_idx ON deliveries (updated_at) WHERE status = 'pending';
CREATE INDEX deliveries_dead_idx ON deliveries (dead_at) WHERE status = 'dead';

CREATE TABLE cases (
  case_id    text PRIMARY KEY,
  unit_code  text NOT NULL,
  opened_by  text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE case_participants (
  case_id     text NOT NULL REFERENCES cases (case_id),
  participant text NOT NULL,
  PRIMARY KEY (case_id, participant)
);
CREATE INDEX case_participants_by_participant ON case_participants (participant);

-- A step that awaits an answer (tax assessment, mortgage registration, ...).
CREATE TABLE case_steps (
  id                 uuid PRIMARY KEY,
  case_id            text NOT NULL REFERENCES cases (case_id),
  kind               text NOT NULL,
  status             text NOT NULL CHECK (status IN ('open', 'completed', 'rejected')),
  requester          text NOT NULL,
  responder          text NOT NULL,
  opened_by_exchange uuid NOT NULL REFERENCES exchanges (id),
  closed_by_exchange uuid REFERENCES exchanges (id),
  opened_at          timestamptz NOT NULL,
  closed_at          timestamptz,
  due_at             timestamptz,
  overdue_at         timestamptz
);
CREATE UNIQUE INDEX case_steps_one_open ON case_steps (case_id, kind) WHERE status = 'open';
CREATE INDEX case_steps_due_idx ON case_steps (due_at) WHERE status = 'open' AND overdue_at IS NULL;

-- The case timeline.
CREATE TABLE case_events (
  id          bigserial PRIMARY KEY,
  case_id     text NOT NULL REFERENCES cases (case_id),
  at          timestamptz NOT NULL,
  event       text NOT NULL,
  actor       text,
  exchange_id uuid,
  delivery_id uuid,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);
