//! The session store on whichever database Relais runs on.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::SessionPool;

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
        match self {
            SessionStorage::Sqlite(store) => store.load(id).await,
            SessionStorage::Postgres(store) => store.load(id).await,
        }
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
