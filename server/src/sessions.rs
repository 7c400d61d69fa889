//! The session store on whichever database Relais runs on, and the sliding session lifetime.

use async_trait::async_trait;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::SessionPool;

/// A session ends after this long without a request.
pub const INACTIVITY_LIMIT: Duration = Duration::days(7);

/// How often an active session's end date moves forward. Each move writes the session row and
/// sends the cookie again, so [`is_refresh_due`] allows one per interval, not one per request.
const REFRESH_INTERVAL: Duration = Duration::hours(1);

/// The key that [`SessionStorage::load`] adds to a record whose end date is due to move.
/// It lives only in memory: [`extend_active_sessions`] removes it before the record is saved.
const REFRESH_DUE: &str = "relais.refresh_due";

/// Session storage in the database, shared by every instance behind a load balancer.
#[derive(Clone, Debug)]
pub enum SessionStorage {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionStorage {
    /// Creates the session table when missing.
    pub async fn open(pool: &SessionPool) -> sqlx::Result<Self> {
        match pool {
            SessionPool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                Ok(SessionStorage::Sqlite(store))
            }
            SessionPool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                Ok(SessionStorage::Postgres(store))
            }
        }
    }
}

#[async_trait]
impl SessionStore for SessionStorage {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionStorage::Sqlite(store) => store.create(record).await,
            SessionStorage::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionStorage::Sqlite(store) => store.save(record).await,
            SessionStorage::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut record = match self {
            SessionStorage::Sqlite(store) => store.load(id).await?,
            SessionStorage::Postgres(store) => store.load(id).await?,
        };
        if let Some(record) = record.as_mut().filter(|record| is_refresh_due(record.expiry_date)) {
            record
                .data
                .insert(REFRESH_DUE.to_owned(), serde_json::Value::Bool(true));
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionStorage::Sqlite(store) => store.delete(id).await,
            SessionStorage::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStorage {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SessionStorage::Sqlite(store) => store.delete_expired().await,
            SessionStorage::Postgres(store) => store.delete_expired().await,
        }
    }
}

/// Returns whether a session that ends at `expiry_date` was last extended more than
/// [`REFRESH_INTERVAL`] ago.
fn is_refresh_due(expiry_date: OffsetDateTime) -> bool {
    expiry_date - OffsetDateTime::now_utc() < INACTIVITY_LIMIT - REFRESH_INTERVAL
}

/// Moves the end of an active session to [`INACTIVITY_LIMIT`] from now, at most once per
/// [`REFRESH_INTERVAL`]. tower-sessions saves a session, and sends its cookie, only when its
/// data changes. Without this, a session would end a week after sign-in however active it was.
pub async fn extend_active_sessions(session: Session, request: Request, next: Next) -> Response {
    match session.get_value(REFRESH_DUE).await {
        // Removing the key marks the session as changed, so it is saved with a new end date.
        Ok(Some(_)) => {
            if let Err(error) = session.remove_value(REFRESH_DUE).await {
                tracing::warn!(%error, "failed to extend the session");
            }
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "failed to read the session"),
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_session_is_not_due() {
        let expiry = OffsetDateTime::now_utc() + INACTIVITY_LIMIT - Duration::minutes(5);
        assert!(!is_refresh_due(expiry));
    }

    #[test]
    fn session_extended_hours_ago_is_due() {
        let expiry = OffsetDateTime::now_utc() + INACTIVITY_LIMIT - Duration::hours(2);
        assert!(is_refresh_due(expiry));
    }
}
