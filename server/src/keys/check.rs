//! Start-up checks of the keyring against the database: a missing key file while credentials
//! exist, and keys that are not the ones the stored credentials were sealed with.

use std::path::Path;

use anyhow::Context;
use sqlx::AnyPool;

use super::{KeySource, Keyring, ServerKey};
use crate::crypto;

/// Plaintext sealed in `key_checks` under each key id.
const CHECK_VALUE: &[u8] = b"relais key check v1";
/// Sealed rows tried per table when a key id has no check value yet.
const SAMPLE_ROWS: i64 = 10;

/// Number of credential rows sealed under one key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    pub key_id: String,
    /// Rows of `sender_secrets` (SMTP passwords).
    pub sender_secrets: i64,
    /// Rows of `oauth_grants`, each with a refresh and an access token.
    pub oauth_grants: i64,
}

impl KeyUsage {
    pub fn rows(&self) -> i64 {
        self.sender_secrets + self.oauth_grants
    }
}

/// Loads the keyring and checks it against the database.
///
/// Creates the key file only while no credential is stored, because a new key cannot open
/// credentials sealed under a lost one. A key whose check value does not open gets a
/// substitute id in memory (see [`substitute_id`]), so the credentials under its configured id
/// count as unreadable and new values sealed with it are kept apart. Logs one error with the
/// number of unreadable credentials.
pub async fn open_keyring(
    pool: &AnyPool,
    data_dir: &Path,
    environment_key: Option<&str>,
) -> anyhow::Result<(Keyring, KeySource)> {
    let (mut keyring, source) = match super::load(data_dir, environment_key)? {
        Some(found) => found,
        None => {
            let path = super::key_file_path(data_dir);
            let stored = count_sealed(pool).await?;
            if stored > 0 {
                anyhow::bail!(
                    "the key file {} is missing and RELAIS_SECRET_KEY is not set, but the database contains {stored} \
                     encrypted credentials: restore the key file from a backup (or set RELAIS_SECRET_KEY to the \
                     keyring), then start Relais again. Relais does not create a new key, because it could not \
                     decrypt these credentials",
                    path.display()
                );
            }
            // Check values of a lost key that protected no credential would only report it as wrong.
            sqlx::query("DELETE FROM key_checks")
                .execute(pool)
                .await
                .context("failed to reset the key checks")?;
            (super::create(data_dir)?, KeySource::File(path))
        }
    };

    for id in mismatched_keys(pool, &keyring).await? {
        let key = keyring.get(&id).expect("a mismatched id is in the keyring").clone();
        let substitute = substitute_id(&id, &key);
        tracing::error!(
            key_id = %id,
            substitute_key_id = %substitute,
            source = %describe(&source),
            "key {id} does not decrypt the check value the database stores for it, so it is not the key that \
             sealed the credentials under {id}; values sealed with it now are stored under {substitute}"
        );
        ensure_check(pool, &substitute, &key).await?;
        keyring.rename(&id, substitute);
    }
    report_unreadable(pool, &keyring, &source).await?;
    Ok((keyring, source))
}

/// Returns the id under which a key that does not match its configured id seals: the
/// configured id, `~` (never part of a configured id) and 8 hex digits derived from the key.
/// The same key gets the same id at every start.
pub fn substitute_id(id: &str, key: &ServerKey) -> String {
    let tag = crypto::fingerprint(key, &["key-id"]);
    format!("{id}~{}", &tag[..8])
}

/// Returns how many credential rows each key id seals, sorted by id.
pub async fn usage(pool: &AnyPool) -> sqlx::Result<Vec<KeyUsage>> {
    let secrets: Vec<(String, i64)> = sqlx::query_as("SELECT key_id, COUNT(*) FROM sender_secrets GROUP BY key_id")
        .fetch_all(pool)
        .await?;
    let grants: Vec<(String, i64)> = sqlx::query_as("SELECT key_id, COUNT(*) FROM oauth_grants GROUP BY key_id")
        .fetch_all(pool)
        .await?;

    let mut usage: Vec<KeyUsage> = Vec::new();
    for (key_id, count, is_grant) in secrets
        .into_iter()
        .map(|(id, count)| (id, count, false))
        .chain(grants.into_iter().map(|(id, count)| (id, count, true)))
    {
        let index = match usage.iter().position(|entry| entry.key_id == key_id) {
            Some(index) => index,
            None => {
                usage.push(KeyUsage {
                    key_id,
                    sender_secrets: 0,
                    oauth_grants: 0,
                });
                usage.len() - 1
            }
        };
        if is_grant {
            usage[index].oauth_grants += count;
        } else {
            usage[index].sender_secrets += count;
        }
    }
    usage.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    Ok(usage)
}

/// Returns the ids of the keyring whose key does not open the database's check value. A key id
/// without a check value gets one, unless sample credentials under that id exist and none
/// opens (a database sealed before check values existed).
pub async fn mismatched_keys(pool: &AnyPool, keyring: &Keyring) -> anyhow::Result<Vec<String>> {
    let mut mismatched = Vec::new();
    for (id, key) in keyring.entries() {
        let matches = match stored_check(pool, id).await? {
            Some(sealed) => opens_check(key, id, &sealed),
            None => {
                let matches = sample_opens(pool, id, key).await?.unwrap_or(true);
                if matches {
                    ensure_check(pool, id, key).await?;
                }
                matches
            }
        };
        if !matches {
            mismatched.push(id.to_string());
        }
    }
    Ok(mismatched)
}

async fn stored_check(pool: &AnyPool, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT sealed FROM key_checks WHERE key_id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("failed to read the key checks")
}

/// Returns the key ids that have a check value, including ids of removed keys.
pub async fn checked_key_ids(pool: &AnyPool) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT key_id FROM key_checks")
        .fetch_all(pool)
        .await
        .context("failed to read the key checks")
}

fn check_context(id: &str) -> String {
    format!("relais/key-check/{id}")
}

fn opens_check(key: &ServerKey, id: &str, sealed: &[u8]) -> bool {
    crypto::open(key, sealed, &check_context(id)).is_ok_and(|plaintext| plaintext == CHECK_VALUE)
}

/// Stores the check value of `id` unless one exists. Another instance may store its own at the
/// same moment, so the stored value is read back and must open with `key`.
pub async fn ensure_check(pool: &AnyPool, id: &str, key: &ServerKey) -> anyhow::Result<()> {
    let sealed = crypto::seal(key, CHECK_VALUE, &check_context(id));
    sqlx::query(
        "INSERT INTO key_checks (key_id, sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING",
    )
    .bind(id)
    .bind(sealed)
    .bind(crate::db::now())
    .execute(pool)
    .await
    .context("failed to store a key check")?;
    let stored = stored_check(pool, id).await?.unwrap_or_default();
    anyhow::ensure!(
        opens_check(key, id, &stored),
        "another Relais instance stored a different key under id {id} at the same time: give every instance \
         the same keyring"
    );
    Ok(())
}

/// Tries up to `SAMPLE_ROWS` credentials of each kind sealed under `id`. Returns `None` when
/// there is none, otherwise whether at least one opened. Several rows are tried because a
/// single row may be damaged or copied from another owner.
async fn sample_opens(pool: &AnyPool, id: &str, key: &ServerKey) -> anyhow::Result<Option<bool>> {
    let secrets: Vec<(String, String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT senders.account_id, sender_secrets.sender_id, sender_secrets.kind, sender_secrets.sealed
         FROM sender_secrets JOIN senders ON senders.id = sender_secrets.sender_id
         WHERE sender_secrets.key_id = $1 LIMIT $2",
    )
    .bind(id)
    .bind(SAMPLE_ROWS)
    .fetch_all(pool)
    .await
    .context("failed to read stored credentials")?;
    let grants: Vec<(String, String, Vec<u8>)> =
        sqlx::query_as("SELECT account_id, id, sealed_refresh_token FROM oauth_grants WHERE key_id = $1 LIMIT $2")
            .bind(id)
            .bind(SAMPLE_ROWS)
            .fetch_all(pool)
            .await
            .context("failed to read stored credentials")?;
    if secrets.is_empty() && grants.is_empty() {
        return Ok(None);
    }

    let secret_opens = secrets.iter().any(|(account_id, sender_id, kind, sealed)| {
        let context = crate::senders::secret_context(account_id, sender_id, kind);
        crypto::open(key, sealed, &context).is_ok()
    });
    let grant_opens = grants.iter().any(|(account_id, grant_id, sealed)| {
        let context = crate::oauth::service::token_context("refresh_token", account_id, grant_id);
        crypto::open(key, sealed, &context).is_ok()
    });
    Ok(Some(secret_opens || grant_opens))
}

/// Returns the number of stored credential rows.
pub async fn count_sealed(pool: &AnyPool) -> anyhow::Result<i64> {
    let usage = usage(pool).await.context("failed to count stored credentials")?;
    Ok(usage.iter().map(KeyUsage::rows).sum())
}

/// Logs one error when credentials are sealed under ids that the keyring cannot open.
async fn report_unreadable(pool: &AnyPool, keyring: &Keyring, source: &KeySource) -> anyhow::Result<()> {
    let usage = usage(pool).await.context("failed to count stored credentials")?;
    let unreadable: Vec<&KeyUsage> = usage.iter().filter(|entry| !keyring.contains(&entry.key_id)).collect();
    let count: i64 = unreadable.iter().map(|entry| entry.rows()).sum();
    if count == 0 {
        return Ok(());
    }
    let key_ids = unreadable
        .iter()
        .map(|entry| entry.key_id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    tracing::error!(
        unreadable_credentials = count,
        key_ids = %key_ids,
        source = %describe(source),
        "{count} stored credentials cannot be decrypted with the configured keyring ({}): restore the key \
         file or RELAIS_SECRET_KEY with the keys {key_ids} from a backup and restart Relais. Until then their \
         senders are shown as unusable and their users must re-enter the password or reconnect the account",
        describe(source)
    );
    Ok(())
}

pub fn describe(source: &KeySource) -> String {
    match source {
        KeySource::Environment => "RELAIS_SECRET_KEY".to_string(),
        KeySource::File(path) => format!("key file {}", path.display()),
    }
}
