-- Sender addresses, their encrypted credentials, test-send proofs and the test-send rate limit.
-- Times are Unix seconds (UTC).

CREATE TABLE senders (
    id             TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('smtp', 'google', 'microsoft')),
    display_name   TEXT NOT NULL,
    email          TEXT NOT NULL,
    -- The address in lower case: an account cannot hold one address twice.
    email_key      TEXT NOT NULL,
    reply_to       TEXT,
    smtp_host      TEXT NOT NULL,
    smtp_port      BIGINT NOT NULL,
    security       TEXT NOT NULL CHECK (security IN ('tls', 'starttls', 'none')),
    username       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('verified', 'test_failed', 'needs_reauth')),
    last_tested_at BIGINT,
    -- Incremented by every update, so a save from a stale dialog is detected.
    version        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (account_id, email_key)
);

CREATE INDEX senders_by_account ON senders (account_id, created_at);

-- Credentials sealed with XChaCha20-Poly1305 under the server key: a 24-byte nonce followed by
-- the ciphertext. The account and sender ids are the associated data, so a row copied to
-- another sender does not decrypt.
CREATE TABLE sender_secrets (
    sender_id  TEXT NOT NULL REFERENCES senders (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('smtp_password', 'refresh_token', 'access_token')),
    key_id     TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sender_id, kind)
);

-- A keyed hash of the settings of each successful test send; saving requires a recent match.
CREATE TABLE test_send_proofs (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, fingerprint)
);

-- One row per test send started, successful or not, for the per-account rate limit.
CREATE TABLE test_send_attempts (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

CREATE INDEX test_send_attempts_by_account ON test_send_attempts (account_id, created_at);
