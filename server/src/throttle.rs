//! Slows down repeated failed sign-ins, per email address and per client address. The counters
//! are stored in the database, so every instance reads the same count.

use sqlx::AnyPool;

/// How many failures one key may have before it is locked.
pub struct Limit {
    /// Failures allowed in `window_secs` before the key is locked.
    pub free_failures: i64,
    pub window_secs: i64,
}

/// Limit per email address, whether or not an account has it.
pub const PER_EMAIL: Limit = Limit {
    free_failures: 5,
    window_secs: 15 * 60,
};

/// Limit per client address (IPv4 address or IPv6 /64), across all the emails it tries. It is
/// more generous than [`PER_EMAIL`] because several people may share one address behind NAT.
pub const PER_CLIENT: Limit = Limit {
    free_failures: 20,
    window_secs: 15 * 60,
};

/// The first lock lasts this long and doubles with each further failure, up to [`MAX_LOCK_SECS`].
const FIRST_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;

/// Returns how many seconds remain before `key` may try again, if it is locked. `key` is an
/// email key, or a client key from `ClientAddress::throttle_key`.
pub async fn retry_after(pool: &AnyPool, key: &str, now: i64) -> sqlx::Result<Option<u64>> {
    let locked_until: Option<i64> =
        sqlx::query_scalar("SELECT locked_until FROM sign_in_throttle WHERE email_key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    Ok(locked_until
        .filter(|until| *until > now)
        .map(|until| (until - now) as u64))
}

/// Counts a failed sign-in for `key` and locks it once it exceeds the limit's free failures.
pub async fn record_failure(pool: &AnyPool, key: &str, limit: &Limit, now: i64) -> sqlx::Result<()> {
    // One statement counts the failure, so concurrent failures on several instances all count.
    let (failures,): (i64,) = sqlx::query_as(
        "INSERT INTO sign_in_throttle (email_key, failures, first_failure_at, locked_until)
         VALUES ($1, 1, $2, 0)
         ON CONFLICT (email_key) DO UPDATE SET
             failures = CASE WHEN $2 - sign_in_throttle.first_failure_at < $3
                 THEN sign_in_throttle.failures + 1 ELSE 1 END,
             first_failure_at = CASE WHEN $2 - sign_in_throttle.first_failure_at < $3
                 THEN sign_in_throttle.first_failure_at ELSE $2 END
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(limit.window_secs)
    .fetch_one(pool)
    .await?;

    let extra = failures - limit.free_failures;
    if extra >= 0 {
        let locked_until = now + (FIRST_LOCK_SECS << extra.min(10)).min(MAX_LOCK_SECS);
        sqlx::query("UPDATE sign_in_throttle SET locked_until = $1 WHERE email_key = $2 AND locked_until < $1")
            .bind(locked_until)
            .bind(key)
            .execute(pool)
            .await?;
    }
    Ok(())
}

pub async fn reset(pool: &AnyPool, email_key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE email_key = $1")
        .bind(email_key)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> (tempfile::TempDir, AnyPool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let pool = crate::db::connect_and_migrate(&url, 2).await.unwrap().pool;
        (dir, pool)
    }

    #[tokio::test]
    async fn five_failures_are_free_then_the_address_is_locked() {
        let (_dir, pool) = pool().await;
        for _ in 0..PER_EMAIL.free_failures - 1 {
            record_failure(&pool, "a@example.com", &PER_EMAIL, 1000).await.unwrap();
        }
        assert_eq!(retry_after(&pool, "a@example.com", 1000).await.unwrap(), None);

        record_failure(&pool, "a@example.com", &PER_EMAIL, 1000).await.unwrap();

        assert_eq!(retry_after(&pool, "a@example.com", 1000).await.unwrap(), Some(30));
        assert_eq!(retry_after(&pool, "a@example.com", 1030).await.unwrap(), None);
        assert_eq!(retry_after(&pool, "b@example.com", 1000).await.unwrap(), None);
    }

    #[tokio::test]
    async fn lock_doubles_and_reset_clears_it() {
        let (_dir, pool) = pool().await;
        for _ in 0..PER_EMAIL.free_failures + 1 {
            record_failure(&pool, "a@example.com", &PER_EMAIL, 1000).await.unwrap();
        }
        assert_eq!(retry_after(&pool, "a@example.com", 1000).await.unwrap(), Some(60));

        reset(&pool, "a@example.com").await.unwrap();

        assert_eq!(retry_after(&pool, "a@example.com", 1000).await.unwrap(), None);
    }

    #[tokio::test]
    async fn failures_outside_the_window_start_a_new_count() {
        let (_dir, pool) = pool().await;
        for _ in 0..PER_EMAIL.free_failures - 1 {
            record_failure(&pool, "a@example.com", &PER_EMAIL, 1000).await.unwrap();
        }

        record_failure(&pool, "a@example.com", &PER_EMAIL, 1000 + PER_EMAIL.window_secs)
            .await
            .unwrap();

        assert_eq!(
            retry_after(&pool, "a@example.com", 1000 + PER_EMAIL.window_secs)
                .await
                .unwrap(),
            None
        );
    }
}
