-- The per-account activity log shown in the settings. Times are Unix seconds (UTC).
--
-- Each account keeps its newest 500 entries of the last 180 days: every insert deletes the
-- account's entries beyond that (see server/src/activity.rs). Entries keep the sender's address
-- after the sender is deleted, and never hold a password, a token or an SMTP server reply.
CREATE TABLE activity_events (
    -- Orders the entries written within the same second.
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    occurred_at    BIGINT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN
        ('sender_created', 'sender_edited', 'sender_tested', 'sender_reauthenticated', 'sender_deleted')),
    sender_id      TEXT,
    sender_email   TEXT NOT NULL,
    -- For 'sender_tested': the JSON-encoded outcome (passed, or the failed stage and kind).
    detail         TEXT,
    -- The client's IP address, taken from X-Forwarded-For only behind RELAIS_TRUSTED_PROXIES.
    client_address TEXT NOT NULL
);

CREATE INDEX activity_events_by_account ON activity_events (account_id, occurred_at);

-- sign_in_throttle also counts failures per client address from this version on: those rows
-- have a key 'client:<IPv4 address or IPv6 /64>', which no email key matches (email keys
-- always contain '@').
