//! The connection pool and migrations, on SQLite or PostgreSQL depending on the database URL.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AnyPool, Executor, PgPool, SqlitePool};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// A wait for a pooled connection longer than this fails, and the request gets 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Returns the backend a database URL names, if it is one Relais supports.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The pools of one database: `pool` for Relais's own queries, `sessions` for the session
/// store, which needs a pool of the concrete backend.
#[derive(Clone)]
pub struct Database {
    pub backend: Backend,
    pub pool: AnyPool,
    pub sessions: SessionPool,
}

#[derive(Clone)]
pub enum SessionPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Opens the database, creating a missing SQLite file and its directory, and applies pending
/// migrations. `max_connections` bounds the main pool.
pub async fn connect_and_migrate(database_url: &str, max_connections: u32) -> anyhow::Result<Database> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(database_url)
        .with_context(|| format!("invalid RELAIS_DATABASE_URL {database_url:?}: expected sqlite: or postgres:"))?;

    let database = match backend {
        Backend::Sqlite => open_sqlite(database_url, max_connections).await?,
        Backend::Postgres => open_postgres(database_url, max_connections).await?,
    };
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    reject_newer_schema(&database.pool, migrator).await?;
    migrator
        .run(&database.pool)
        .await
        .context("failed to migrate the database")?;
    Ok(database)
}

async fn open_sqlite(database_url: &str, max_connections: u32) -> anyhow::Result<Database> {
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("invalid RELAIS_DATABASE_URL {database_url:?}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    if let Some(parent) = options
        .get_filename()
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create the database directory {}", parent.display()))?;
    }

    // This pool creates the file and switches it to WAL before the main pool opens it.
    let sessions = SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await
        .with_context(|| format!("failed to open the database {database_url}"))?;

    // The generic pool reads only the file name from the URL, so each connection sets the
    // pragmas that the session pool got from its options.
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|connection, _| {
            Box::pin(async move {
                connection
                    .execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                    .await?;
                Ok(())
            })
        })
        .connect(&format!("sqlite://{}", options.get_filename().display()))
        .await
        .with_context(|| format!("failed to open the database {database_url}"))?;

    Ok(Database {
        backend: Backend::Sqlite,
        pool,
        sessions: SessionPool::Sqlite(sessions),
    })
}

async fn open_postgres(database_url: &str, max_connections: u32) -> anyhow::Result<Database> {
    let options = PgConnectOptions::from_str(database_url).context("invalid RELAIS_DATABASE_URL")?;
    // A statement that waits for a lock fails after 5 s instead of holding its request (and
    // its connection) for as long as the lock lasts.
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|connection, _| {
            Box::pin(async move {
                connection
                    .execute("SET lock_timeout = '5s'; SET statement_timeout = '30s';")
                    .await?;
                Ok(())
            })
        })
        .connect(database_url)
        .await
        .context("failed to connect to the PostgreSQL database of RELAIS_DATABASE_URL")?;
    let sessions = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .context("failed to connect to the PostgreSQL database of RELAIS_DATABASE_URL")?;

    Ok(Database {
        backend: Backend::Postgres,
        pool,
        sessions: SessionPool::Postgres(sessions),
    })
}

/// Stops start-up when a newer Relais already migrated this database: this binary would not
/// know its tables.
async fn reject_newer_schema(pool: &AnyPool, migrator: &Migrator) -> anyhow::Result<()> {
    let newest_known = migrator.iter().map(|migration| migration.version).max().unwrap_or(0);
    // The table is missing on a new database, which is then simply older.
    let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap_or(None);
    match applied {
        Some(applied) if applied > newest_known => anyhow::bail!(
            "the database was migrated by a newer Relais (schema version {applied}, this binary knows up to \
             {newest_known}): run the newer Relais, or restore a backup made for this version"
        ),
        _ => Ok(()),
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), so concurrent writers wait for each other within the busy timeout. A deferred
/// transaction that reads first would instead fail when it tries to start writing.
pub async fn begin_write(pool: &AnyPool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
    if pool.connect_options().database_url.scheme() == "sqlite" {
        pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        pool.begin().await
    }
}

/// Current time in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}
