-- A known value sealed under each key id, written when the key is first used. Start-up opens
-- it to tell a wrong key from the right one without decrypting every credential.

CREATE TABLE key_checks (
    key_id     TEXT PRIMARY KEY NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
