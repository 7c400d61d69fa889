//! SQL for OAuth grants: pending grants, the grant of each OAuth sender, and the refresh lease.

use sqlx::{AnyConnection, AnyPool};

/// Maximum age in seconds of a pending grant. An older pending grant is no longer found, and
/// the next insert of a pending grant deletes it.
pub const PENDING_MAX_AGE_SECS: i64 = 60 * 60;

#[derive(Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub id: String,
    pub account_id: String,
    /// Sender that uses this grant, or `None` while the grant is pending.
    pub sender_id: Option<String>,
    pub provider: String,
    pub email: String,
    /// Id of the key that sealed both tokens.
    pub key_id: String,
    pub sealed_refresh_token: Vec<u8>,
    pub sealed_access_token: Vec<u8>,
    /// Expiry of the access token, in Unix seconds.
    pub access_expires_at: i64,
    /// Time in Unix seconds at which the provider rejected the refresh token, or `None`.
    pub revoked_at: Option<i64>,
}

const SELECT_GRANT: &str = "SELECT id, account_id, sender_id, provider, email, key_id, sealed_refresh_token,
        sealed_access_token, access_expires_at, revoked_at
    FROM oauth_grants";

/// Sealed tokens as written to a grant row.
pub struct SealedTokens {
    /// Id of the key that sealed both tokens.
    pub key_id: String,
    pub refresh_token: Vec<u8>,
    pub access_token: Vec<u8>,
    pub access_expires_at: i64,
}

/// Inserts a pending grant. Deletes first the pending grants of every account that are older
/// than `PENDING_MAX_AGE_SECS`.
pub async fn insert_pending(
    pool: &AnyPool,
    grant_id: &str,
    account_id: &str,
    provider: &str,
    email: &str,
    tokens: &SealedTokens,
) -> sqlx::Result<()> {
    let now = crate::db::now();
    sqlx::query("DELETE FROM oauth_grants WHERE sender_id IS NULL AND created_at < $1")
        .bind(now - PENDING_MAX_AGE_SECS)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO oauth_grants (id, account_id, sender_id, provider, email, key_id, sealed_refresh_token,
             sealed_access_token, access_expires_at, created_at, updated_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(grant_id)
    .bind(account_id)
    .bind(provider)
    .bind(email)
    .bind(&tokens.key_id)
    .bind(&tokens.refresh_token)
    .bind(&tokens.access_token)
    .bind(tokens.access_expires_at)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Returns a grant by id.
pub async fn find(pool: &AnyPool, grant_id: &str) -> sqlx::Result<Option<GrantRow>> {
    sqlx::query_as(&format!("{SELECT_GRANT} WHERE id = $1"))
        .bind(grant_id)
        .fetch_optional(pool)
        .await
}

/// Returns a pending grant of this account that has not expired.
pub async fn find_pending(pool: &AnyPool, account_id: &str, grant_id: &str) -> sqlx::Result<Option<GrantRow>> {
    sqlx::query_as(&format!(
        "{SELECT_GRANT} WHERE id = $1 AND account_id = $2 AND sender_id IS NULL AND created_at >= $3"
    ))
    .bind(grant_id)
    .bind(account_id)
    .bind(crate::db::now() - PENDING_MAX_AGE_SECS)
    .fetch_optional(pool)
    .await
}

/// Returns the grant of a sender of this account.
pub async fn find_for_sender(pool: &AnyPool, account_id: &str, sender_id: &str) -> sqlx::Result<Option<GrantRow>> {
    sqlx::query_as(&format!("{SELECT_GRANT} WHERE sender_id = $1 AND account_id = $2"))
        .bind(sender_id)
        .bind(account_id)
        .fetch_optional(pool)
        .await
}

/// Attaches a pending grant to the sender just created. Returns false if the account has no
/// pending grant with this id, for example because another save attached it first.
pub async fn attach(
    connection: &mut AnyConnection,
    account_id: &str,
    grant_id: &str,
    sender_id: &str,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE oauth_grants SET sender_id = $1, updated_at = $2
         WHERE id = $3 AND account_id = $4 AND sender_id IS NULL",
    )
    .bind(sender_id)
    .bind(crate::db::now())
    .bind(grant_id)
    .bind(account_id)
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes the refresh lease of a grant until `until`, in Unix seconds. Returns false while
/// another caller holds a lease that has not expired.
pub async fn take_lease(pool: &AnyPool, grant_id: &str, until: i64) -> sqlx::Result<bool> {
    let result =
        sqlx::query("UPDATE oauth_grants SET refresh_lease_until = $1 WHERE id = $2 AND refresh_lease_until < $3")
            .bind(until)
            .bind(grant_id)
            .bind(crate::db::now())
            .execute(pool)
            .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn release_lease(pool: &AnyPool, grant_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE oauth_grants SET refresh_lease_until = 0 WHERE id = $1")
        .bind(grant_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Stores refreshed tokens and releases the lease in one statement, so a rotated refresh token
/// is never stored without its access token.
pub async fn store_refreshed(pool: &AnyPool, grant_id: &str, tokens: &SealedTokens) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE oauth_grants SET key_id = $1, sealed_refresh_token = $2, sealed_access_token = $3,
             access_expires_at = $4, refresh_lease_until = 0, updated_at = $5
         WHERE id = $6",
    )
    .bind(&tokens.key_id)
    .bind(&tokens.refresh_token)
    .bind(&tokens.access_token)
    .bind(tokens.access_expires_at)
    .bind(crate::db::now())
    .bind(grant_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records that the provider rejected the grant, and marks its sender as needing
/// re-authentication, in one transaction.
pub async fn mark_revoked(pool: &AnyPool, grant_id: &str) -> sqlx::Result<()> {
    let now = crate::db::now();
    let mut transaction = crate::db::begin_write(pool).await?;
    sqlx::query("UPDATE oauth_grants SET revoked_at = $1, refresh_lease_until = 0, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(grant_id)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(
        "UPDATE senders SET status = 'needs_reauth', status_reason = 'grant_revoked', updated_at = $1
         WHERE id = (SELECT sender_id FROM oauth_grants WHERE id = $2)",
    )
    .bind(now)
    .bind(grant_id)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await
}

/// Replaces the tokens of a sender's grant after a new authorization of the same mailbox, and
/// marks the sender healthy again. Returns whether the sender still exists. Runs on
/// `connection`, which the caller makes a write transaction.
pub async fn replace_for_sender(
    connection: &mut AnyConnection,
    account_id: &str,
    sender_id: &str,
    tokens: &SealedTokens,
) -> sqlx::Result<bool> {
    let now = crate::db::now();

    let updated = sqlx::query(
        "UPDATE oauth_grants SET key_id = $1, sealed_refresh_token = $2, sealed_access_token = $3,
             access_expires_at = $4, revoked_at = NULL, refresh_lease_until = 0, updated_at = $5
         WHERE sender_id = $6 AND account_id = $7",
    )
    .bind(&tokens.key_id)
    .bind(&tokens.refresh_token)
    .bind(&tokens.access_token)
    .bind(tokens.access_expires_at)
    .bind(now)
    .bind(sender_id)
    .bind(account_id)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(false);
    }

    sqlx::query(
        "UPDATE senders SET status = 'verified', status_reason = NULL, version = version + 1, updated_at = $1
         WHERE id = $2 AND account_id = $3",
    )
    .bind(now)
    .bind(sender_id)
    .bind(account_id)
    .execute(&mut *connection)
    .await?;
    Ok(true)
}
