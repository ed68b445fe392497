-- The operator console's accounts and sessions (issue 11, docs/console.md).

-- People who run the window: a password (argon2id, PHC string) and a TOTP secret (sealed with
-- the gateway's store key, bound to the username), one role each. Never deleted: disabled.
CREATE TABLE operator_accounts (
  username       text PRIMARY KEY CHECK (username ~ '^[a-z][a-z0-9._-]{1,31}$'),
  display_name   text NOT NULL,
  role           text NOT NULL CHECK (role IN ('viewer', 'operator', 'auditor')),
  password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  totp_sealed    bytea NOT NULL,
  -- The last TOTP time step accepted: a code is good once (RFC 6238 §5.2).
  totp_last_step bigint NOT NULL DEFAULT 0,
  failed_logins  integer NOT NULL DEFAULT 0,
  locked_until   timestamptz,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

-- Console sessions, shared by every instance: the id is kept as its SHA-256 only, so a copy of
-- this table opens no session.
CREATE TABLE console_sessions (
  id_hash    text PRIMARY KEY,
  data       jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
