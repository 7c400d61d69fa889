//! Logging of requests that name a sender the signed-in account does not own.

use sqlx::AnyPool;

/// Logs a warning for a sender id that `account_id` does not own. When the sender exists, the
/// line names the owner too, so probing of other accounts' ids shows in the logs.
pub async fn warn_not_owned(pool: &AnyPool, account_id: &str, sender_id: &str, action: &'static str) {
    let owner: Result<Option<String>, _> = sqlx::query_scalar("SELECT account_id FROM senders WHERE id = $1")
        .bind(sender_id)
        .fetch_optional(pool)
        .await;
    match owner {
        Ok(Some(owner_account_id)) => tracing::warn!(
            account_id,
            owner_account_id,
            sender_id,
            action,
            "request for a sender of another account rejected"
        ),
        Ok(None) => tracing::warn!(account_id, sender_id, action, "request for an unknown sender rejected"),
        Err(error) => tracing::warn!(
            account_id,
            sender_id,
            action,
            %error,
            "request for a sender not owned by this account rejected; its owner could not be looked up"
        ),
    }
}
