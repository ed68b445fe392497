-- Token request ids (jti), durable: they used to be remembered only in Redis, so after a Redis
-- loss a captured token request could be replayed within its window (issue 7, item 6). A row
-- lives until the request's window has passed; expired rows are purged.
CREATE TABLE token_requests (
  subject    text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (subject, jti)
);
CREATE INDEX token_requests_expiry_idx ON token_requests (expires_at);
