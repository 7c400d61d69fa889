-- Accounts and the sign-in throttle. Times are Unix seconds (UTC).

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL,
    -- The address in lower case: two spellings of one address are one account.
    email_key     TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT 'fr',
    created_at    BIGINT NOT NULL
);

-- Failed sign-ins per email address, whether or not an account has it, so the delay does not
-- reveal which addresses have an account.
CREATE TABLE sign_in_throttle (
    email_key        TEXT PRIMARY KEY NOT NULL,
    failures         BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    locked_until     BIGINT NOT NULL DEFAULT 0
);
