-- OAuth grants of Google and Microsoft senders, and why a sender needs re-authentication.
-- Times are Unix seconds (UTC).

-- Why a sender has the status 'needs_reauth': 'grant_revoked' when the provider answered
-- invalid_grant to a refresh. NULL for any other status.
ALTER TABLE senders ADD COLUMN status_reason TEXT;

-- One row per grant. A grant is pending (sender_id NULL) between the provider's callback and
-- the first save of the sender, and then belongs to that sender until it is deleted. Pending
-- grants are purged after an hour.
CREATE TABLE oauth_grants (
    id                   TEXT PRIMARY KEY NOT NULL,
    account_id           TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sender_id            TEXT UNIQUE REFERENCES senders (id) ON DELETE CASCADE,
    provider             TEXT NOT NULL CHECK (provider IN ('google', 'microsoft')),
    -- The mailbox the provider returned in the ID token.
    email                TEXT NOT NULL,
    -- Tokens sealed with XChaCha20-Poly1305 under the server key, with the account and grant
    -- ids as associated data.
    key_id               TEXT NOT NULL,
    sealed_refresh_token BYTEA NOT NULL,
    sealed_access_token  BYTEA NOT NULL,
    access_expires_at    BIGINT NOT NULL,
    -- Set when the provider answered invalid_grant; cleared by a new authorization.
    revoked_at           BIGINT,
    -- A refresh in progress holds this lease until the given time, so that instances sharing
    -- the database refresh one grant only once.
    refresh_lease_until  BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE INDEX oauth_grants_pending ON oauth_grants (created_at) WHERE sender_id IS NULL;
