-- Synchronous queries (e.g. a bank's mortgage query): who asked whom, about what, when, why,
-- and how it ended. Never the answer's content: only its digest.

CREATE TABLE queries (
  id             uuid PRIMARY KEY,
  asker          text NOT NULL,
  message_id     text NOT NULL,
  type           text NOT NULL,
  responder      text NOT NULL,
  unit_code      text,                -- as asked, or as answered when asked by certificate number
  certificate_no text,                -- when asked by certificate number
  purpose        text,
  application_no text,                -- the loan application the query concerns
  asked_at       timestamptz NOT NULL,
  answered_at    timestamptz,
  outcome        text NOT NULL CHECK (outcome IN ('pending', 'answered', 'refused', 'timeout', 'unavailable', 'rejected', 'bad_answer', 'error')),
  error_code     text,
  request_digest text NOT NULL,
  answer_digest  text,                -- of the partner's answer as received
  UNIQUE (asker, message_id)
);
CREATE INDEX queries_asker_idx ON queries (asker, asked_at);

-- The loan applications a bank has declared in pre-loan queries, per unit: what later queries
-- of other purposes (post-loan management, disposal) must refer to.
CREATE TABLE loan_applications (
  bank           text NOT NULL,
  application_no text NOT NULL,
  unit_code      text NOT NULL,
  first_query    uuid NOT NULL REFERENCES queries (id),
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (bank, application_no, unit_code)
);
