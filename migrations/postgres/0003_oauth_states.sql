-- Pending OAuth authorizations. A row is deleted when its callback arrives, so each state is
-- used once; rows older than 10 minutes are refused and purged.

CREATE TABLE oauth_states (
    state           TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Keyed hash of the session that started the flow; another session cannot finish it.
    session_binding TEXT NOT NULL,
    provider        TEXT NOT NULL CHECK (provider IN ('google', 'microsoft')),
    -- The sender being re-authenticated ("Actualiser"), or NULL for a new sender.
    sender_id       TEXT,
    -- PKCE code verifier, sealed under the server key.
    sealed_verifier BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);
