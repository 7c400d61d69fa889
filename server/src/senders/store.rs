//! SQL for senders and their sealed credentials.

use app::senders::settings::{Security, ValidSender};
use app::senders::{SenderKind, SenderStatus, SenderView};
use sqlx::{AnyConnection, AnyPool};

use crate::keys::Keyring;

pub const SMTP_PASSWORD: &str = "smtp_password";
/// `status_reason` of a sender whose stored credential cannot be decrypted.
pub const KEY_UNAVAILABLE: &str = "key_unavailable";

#[derive(sqlx::FromRow)]
pub struct SenderRow {
    pub id: String,
    pub account_id: String,
    pub kind: String,
    pub display_name: String,
    pub email: String,
    pub reply_to: Option<String>,
    pub smtp_host: String,
    pub smtp_port: i64,
    pub security: String,
    pub username: String,
    pub status: String,
    /// Why the sender needs re-authentication: `grant_revoked` or `key_unavailable`.
    pub status_reason: Option<String>,
    pub last_tested_at: Option<i64>,
    pub version: i64,
    /// 1 when an SMTP password is stored (an integer, which both databases return alike).
    pub has_password: i64,
    /// Id of the key that sealed the SMTP password or the OAuth tokens, if any.
    pub credential_key_id: Option<String>,
}

impl SenderRow {
    pub fn security(&self) -> Security {
        Security::parse(&self.security).unwrap_or(Security::StartTls)
    }

    /// Returns the sender as the list shows it. A sender whose credential is sealed under a key
    /// missing from `keyring`, or was found undecryptable, has the status `KeyUnavailable`, and
    /// its password counts as missing, so that the dialog requires it again.
    pub fn view(&self, keyring: &Keyring) -> SenderView {
        let key_missing = self
            .credential_key_id
            .as_deref()
            .is_some_and(|key_id| !keyring.contains(key_id));
        let key_unavailable = key_missing || self.status_reason.as_deref() == Some(KEY_UNAVAILABLE);
        SenderView {
            id: self.id.clone(),
            version: self.version,
            kind: match self.kind.as_str() {
                "google" => SenderKind::Google,
                "microsoft" => SenderKind::Microsoft,
                _ => SenderKind::Smtp,
            },
            status: match self.status.as_str() {
                _ if key_unavailable => SenderStatus::KeyUnavailable,
                "test_failed" => SenderStatus::TestFailed,
                "needs_reauth" => SenderStatus::NeedsReauthentication,
                _ => SenderStatus::Verified,
            },
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            reply_to: self.reply_to.clone(),
            smtp_host: self.smtp_host.clone(),
            smtp_port: u16::try_from(self.smtp_port).unwrap_or_default(),
            security: self.security(),
            username: self.username.clone(),
            has_password: self.has_password != 0 && !key_unavailable,
            last_tested_at: self.last_tested_at,
        }
    }
}

const SELECT_SENDER: &str =
    "SELECT id, account_id, kind, display_name, email, reply_to, smtp_host, smtp_port, security,
        username, status, status_reason, last_tested_at, version,
        CASE WHEN EXISTS (SELECT 1 FROM sender_secrets WHERE sender_id = senders.id AND kind = 'smtp_password')
            THEN 1 ELSE 0 END AS has_password,
        COALESCE(
            (SELECT key_id FROM sender_secrets WHERE sender_id = senders.id AND kind = 'smtp_password'),
            (SELECT key_id FROM oauth_grants WHERE sender_id = senders.id)
        ) AS credential_key_id
    FROM senders";

pub async fn list(pool: &AnyPool, account_id: &str) -> sqlx::Result<Vec<SenderRow>> {
    sqlx::query_as(&format!(
        "{SELECT_SENDER} WHERE account_id = $1 ORDER BY created_at, id"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await
}

/// Returns the sender if it belongs to `account_id`.
pub async fn find(pool: &AnyPool, account_id: &str, sender_id: &str) -> sqlx::Result<Option<SenderRow>> {
    sqlx::query_as(&format!("{SELECT_SENDER} WHERE account_id = $1 AND id = $2"))
        .bind(account_id)
        .bind(sender_id)
        .fetch_optional(pool)
        .await
}

/// Returns the sender of this account that has `email`, in any letter case.
pub async fn find_by_email(pool: &AnyPool, account_id: &str, email: &str) -> sqlx::Result<Option<SenderRow>> {
    sqlx::query_as(&format!("{SELECT_SENDER} WHERE account_id = $1 AND email_key = $2"))
        .bind(account_id)
        .bind(email.to_lowercase())
        .fetch_optional(pool)
        .await
}

pub async fn count(connection: &mut AnyConnection, account_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM senders WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(connection)
        .await
}

pub async fn insert(
    connection: &mut AnyConnection,
    account_id: &str,
    sender_id: &str,
    kind: &str,
    sender: &ValidSender,
    tested_at: i64,
) -> sqlx::Result<()> {
    let now = crate::db::now();
    sqlx::query(
        "INSERT INTO senders (id, account_id, kind, display_name, email, email_key, reply_to, smtp_host, smtp_port,
             security, username, status, last_tested_at, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'verified', $12, 1, $13, $13)",
    )
    .bind(sender_id)
    .bind(account_id)
    .bind(kind)
    .bind(&sender.display_name)
    .bind(&sender.email)
    .bind(sender.email.to_lowercase())
    .bind(&sender.reply_to)
    .bind(&sender.smtp_host)
    .bind(i64::from(sender.smtp_port))
    .bind(sender.security.as_str())
    .bind(&sender.username)
    .bind(tested_at)
    .bind(now)
    .execute(connection)
    .await?;
    Ok(())
}

/// Updates the sender only if it is still at `expected_version`; returns whether it did.
pub async fn update(
    connection: &mut AnyConnection,
    account_id: &str,
    sender_id: &str,
    expected_version: i64,
    sender: &ValidSender,
    tested_at: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE senders SET display_name = $1, email = $2, email_key = $3, reply_to = $4, smtp_host = $5,
             smtp_port = $6, security = $7, username = $8, status = 'verified', status_reason = NULL,
             last_tested_at = $9,
             version = version + 1, updated_at = $10
         WHERE id = $11 AND account_id = $12 AND version = $13",
    )
    .bind(&sender.display_name)
    .bind(&sender.email)
    .bind(sender.email.to_lowercase())
    .bind(&sender.reply_to)
    .bind(&sender.smtp_host)
    .bind(i64::from(sender.smtp_port))
    .bind(sender.security.as_str())
    .bind(&sender.username)
    .bind(tested_at)
    .bind(crate::db::now())
    .bind(sender_id)
    .bind(account_id)
    .bind(expected_version)
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks the sender as needing a new password or a new connection, because its stored
/// credential does not decrypt although its key is in the keyring (damaged, or copied from
/// another row). Saving the sender with a new credential clears the mark.
pub async fn mark_key_unavailable(pool: &AnyPool, account_id: &str, sender_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE senders SET status = 'needs_reauth', status_reason = $1, updated_at = $2
         WHERE id = $3 AND account_id = $4",
    )
    .bind(KEY_UNAVAILABLE)
    .bind(crate::db::now())
    .bind(sender_id)
    .bind(account_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the outcome of a test of the stored settings, without changing the version.
pub async fn set_test_outcome(pool: &AnyPool, account_id: &str, sender_id: &str, passed: bool) -> sqlx::Result<()> {
    let query = if passed {
        "UPDATE senders SET status = 'verified', status_reason = NULL, last_tested_at = $1
         WHERE id = $2 AND account_id = $3"
    } else {
        // A sender waiting for re-authentication keeps that status, which tells the user what to do.
        "UPDATE senders SET status = 'test_failed'
         WHERE $1 IS NOT NULL AND id = $2 AND account_id = $3 AND status <> 'needs_reauth'"
    };
    sqlx::query(query)
        .bind(crate::db::now())
        .bind(sender_id)
        .bind(account_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the sender and its secrets. Returns the sender's address if it existed for this
/// account.
pub async fn delete(connection: &mut AnyConnection, account_id: &str, sender_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query(
        "DELETE FROM sender_secrets WHERE sender_id IN (SELECT id FROM senders WHERE id = $1 AND account_id = $2)",
    )
    .bind(sender_id)
    .bind(account_id)
    .execute(&mut *connection)
    .await?;
    sqlx::query_scalar("DELETE FROM senders WHERE id = $1 AND account_id = $2 RETURNING email")
        .bind(sender_id)
        .bind(account_id)
        .fetch_optional(&mut *connection)
        .await
}

/// Returns the id of the key that sealed the secret, and the sealed bytes.
pub async fn sealed_secret(pool: &AnyPool, sender_id: &str, kind: &str) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    sqlx::query_as("SELECT key_id, sealed FROM sender_secrets WHERE sender_id = $1 AND kind = $2")
        .bind(sender_id)
        .bind(kind)
        .fetch_optional(pool)
        .await
}

pub async fn store_secret(
    connection: &mut AnyConnection,
    sender_id: &str,
    kind: &str,
    key_id: &str,
    sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sender_secrets (sender_id, kind, key_id, sealed, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (sender_id, kind) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed,
             updated_at = excluded.updated_at",
    )
    .bind(sender_id)
    .bind(kind)
    .bind(key_id)
    .bind(sealed)
    .bind(crate::db::now())
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn delete_secret(connection: &mut AnyConnection, sender_id: &str, kind: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sender_secrets WHERE sender_id = $1 AND kind = $2")
        .bind(sender_id)
        .bind(kind)
        .execute(connection)
        .await?;
    Ok(())
}

/// Records that these settings passed a test send, and deletes proofs older than an hour.
pub async fn record_proof(pool: &AnyPool, account_id: &str, fingerprint: &str) -> sqlx::Result<()> {
    let now = crate::db::now();
    sqlx::query("DELETE FROM test_send_proofs WHERE created_at < $1")
        .bind(now - 3600)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO test_send_proofs (account_id, fingerprint, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, fingerprint) DO UPDATE SET created_at = excluded.created_at",
    )
    .bind(account_id)
    .bind(fingerprint)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Returns when these settings last passed a test, if that is at most `max_age` seconds ago.
pub async fn proof_time(
    pool: &AnyPool,
    account_id: &str,
    fingerprint: &str,
    max_age: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT created_at FROM test_send_proofs WHERE account_id = $1 AND fingerprint = $2 AND created_at >= $3",
    )
    .bind(account_id)
    .bind(fingerprint)
    .bind(crate::db::now() - max_age)
    .fetch_optional(pool)
    .await
}

/// Counts a test send for the rate limit and returns how long to wait if the limit is reached
/// (the attempt is then not counted).
pub async fn take_test_slot(pool: &AnyPool, account_id: &str, limit: u32, window: i64) -> sqlx::Result<Option<u64>> {
    let now = crate::db::now();
    let mut transaction = crate::db::begin_write(pool).await?;

    // Locks the account row, so that instances sharing the database count one at a time.
    sqlx::query("UPDATE accounts SET locale = locale WHERE id = $1")
        .bind(account_id)
        .execute(&mut *transaction)
        .await?;
    sqlx::query("DELETE FROM test_send_attempts WHERE created_at < $1")
        .bind(now - window)
        .execute(&mut *transaction)
        .await?;
    let recent: Vec<i64> =
        sqlx::query_scalar("SELECT created_at FROM test_send_attempts WHERE account_id = $1 ORDER BY created_at")
            .bind(account_id)
            .fetch_all(&mut *transaction)
            .await?;

    if recent.len() >= limit as usize {
        let oldest = recent[recent.len() - limit as usize];
        transaction.commit().await?;
        return Ok(Some((oldest + window - now).max(1) as u64));
    }
    sqlx::query("INSERT INTO test_send_attempts (account_id, created_at) VALUES ($1, $2)")
        .bind(account_id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(None)
}
